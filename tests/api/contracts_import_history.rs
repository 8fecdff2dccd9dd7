//! A station's history through the real `ttx` binary: `ttx import contracts`, then `ttx import
//! amendments` for their later amendments and terminations, checked through the API (the
//! contract, its recorded requests and its ledger entries on the original dates).
use serde_json::Value;
use ttx_tests::fixtures::{credit_code, next};
use ttx_tests::TestApp;

/// Runs the real binary to completion without blocking the test's runtime (see
/// `listings::run_cli`).
async fn run_cli(app: &TestApp, args: &[&str]) -> std::process::Output {
    ttx_tests::process::run_cli(crate::TTX_BIN, app, args).await
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The operator's view of every contract, by registration number.
async fn by_number(app: &TestApp, op: &str) -> std::collections::HashMap<String, Value> {
    let r = app.get("/v1/contracts?limit=100", Some(op)).await;
    r.assert_status(200);
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["registration_number"].as_str().unwrap().to_string(),
                c.clone(),
            )
        })
        .collect()
}

async fn ledger(app: &TestApp, op: &str, id: i64) -> Vec<Value> {
    let r = app
        .get(&format!("/v1/contracts/{id}/ledger"), Some(op))
        .await;
    r.assert_status(200);
    r.body.as_array().unwrap().clone()
}

/// `(entry_kind, booked_on, count, contract amount, buyer region, sub_kind)` of each entry.
fn entries(l: &[Value]) -> Vec<(String, String, i64, i64, String, String)> {
    l.iter()
        .map(|e| {
            (
                e["entry_kind"].as_str().unwrap().to_string(),
                e["booked_on"].as_str().unwrap().to_string(),
                e["count_delta"].as_i64().unwrap(),
                e["contract_amount_delta"].as_i64().unwrap(),
                e["buyer_region"].as_str().unwrap().to_string(),
                e["sub_kind"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn e(
    kind: &str,
    on: &str,
    count: i64,
    amount: i64,
    region: &str,
    sub: &str,
) -> (String, String, i64, i64, String, String) {
    (
        kind.into(),
        on.into(),
        count,
        amount,
        region.into(),
        sub.into(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imported_history_is_booked_on_its_original_dates() {
    let app = TestApp::spawn().await;
    let op = app.operator().await;
    let station = app.org("station", "110000", true).await;
    let other_station = app.org("station", "310000", true).await;
    let n = next();
    let (na, nb, nc) = (format!("H{n}-A"), format!("H{n}-B"), format!("H{n}-C"));
    let seller = credit_code("110108", n);
    let buyer_b = credit_code("320505", n + 1);
    let dir = app.dir.path();

    // The register: three contracts of 2019 and 2020.
    let contracts = dir.join("register.csv");
    std::fs::write(
        &contracts,
        format!(
            "registration_number,registered_on,title,sub_kind,contract_amount,non_technical_costs,signed_on,\
seller_name,seller_credit_code,seller_entity_kind,seller_region,buyer_name,buyer_credit_code,buyer_entity_kind,buyer_region,tech_field\n\
{na},2019-05-20,轨道交通信号系统技术开发,entrusted_development,1000000,200000,2019-05-01,北辰理工大学,{seller},university,110108,张三,,individual,320505,modern_transport\n\
{nb},2019-09-10,锂电池正极材料技术服务,general_service,500000.50,,2019-09-01,北辰理工大学,{seller},university,110108,星河新能源有限公司,{buyer_b},enterprise,320505,new_energy\n\
{nc},2020-02-14,水处理工艺技术咨询,consulting,80000,,2020-02-01,北辰理工大学,{seller},university,110108,李四,,individual,420111,environment\n"
        ),
    )
    .unwrap();
    let out = run_cli(
        &app,
        &[
            "import",
            "contracts",
            contracts.to_str().unwrap(),
            "--station",
            &station.id.to_string(),
        ],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let before = by_number(&app, &op).await;
    let (ida, idb, idc) = (
        before[&na]["id"].as_i64().unwrap(),
        before[&nb]["id"].as_i64().unwrap(),
        before[&nc]["id"].as_i64().unwrap(),
    );

    // A file with mistakes: every one is reported by line and field, nothing is imported.
    let bad = dir.join("bad.csv");
    std::fs::write(
        &bad,
        format!(
            "registration_number,kind,decided_on,contract_amount,buyer_region,sub_kind,reason\n\
{na},amendment,2019-05-01,1200000,,,早于登记\n\
{na},termination,2020-01-10,,,,解除\n\
{na},amendment,2020-06-01,1300000,,,终止之后\n\
NO-SUCH-1,termination,2020-01-10,,,,\n\
{nb},amendment,2020-01-10,500000.50,,,\n\
{nc},amendment,2099-01-01,90000,,,\n\
{nc},amendment,2020-03-01,1.234,,gift,\n"
        ),
    )
    .unwrap();
    let out = run_cli(
        &app,
        &[
            "import",
            "amendments",
            bad.to_str().unwrap(),
            "--station",
            &station.id.to_string(),
        ],
    )
    .await;
    assert!(!out.status.success());
    let err = text(&out.stderr);
    for want in [
        "line 2: decided_on: before the contract's registration date (2019-05-20)",
        "line 4: decided_on: the termination on line 3",
        "line 5: registration_number: no contract registered under NO-SUCH-1",
        "line 6: kind: the amendment changes nothing",
        "line 7: decided_on: in the future",
        "line 8: contract_amount:",
        "line 8: sub_kind:",
        "6 of 7 rows have errors",
    ] {
        assert!(err.contains(want), "{want:?} in:\n{err}");
    }
    // Another station's contracts are not this station's history.
    let out = run_cli(
        &app,
        &[
            "import",
            "amendments",
            bad.to_str().unwrap(),
            "--station",
            &other_station.id.to_string(),
        ],
    )
    .await;
    assert!(text(&out.stderr).contains("was registered by another station"));
    assert_eq!(ledger(&app, &op, ida).await.len(), 1, "nothing booked");

    // The history: B's rows are not in date order in the file; A is amended (amount up, the
    // buyer moves to Shenzhen) and later terminated; C changes its classification only.
    let good = dir.join("history.jsonl");
    std::fs::write(
        &good,
        format!(
            "{{\"registration_number\": \"{nb}\", \"kind\": \"amendment\", \"decided_on\": \"2020-07-01\", \"sub_kind\": \"技术咨询\", \"tech_field\": \"environment\", \"reason\": \"重新认定\"}}\n\
{{\"registration_number\": \"{na}\", \"kind\": \"termination\", \"decided_on\": \"2021-06-30\", \"reason\": \"双方协商解除\"}}\n\
{{\"registration_number\": \"{na}\", \"kind\": \"合同变更\", \"decided_on\": \"2020-03-02\", \"contract_amount\": 1200000, \"buyer_region\": \"440305\", \"buyer_name\": \"王五\"}}\n\
{{\"registration_number\": \"{nb}\", \"kind\": \"amendment\", \"decided_on\": \"2020-05-01\", \"contract_amount\": \"450000\"}}\n\
{{\"registration_number\": \"{nc}\", \"kind\": \"amendment\", \"decided_on\": \"2020-02-14\", \"term_end\": \"2021-12-31\"}}\n"
        ),
    )
    .unwrap();
    let args = [
        "import",
        "amendments",
        good.to_str().unwrap(),
        "--station",
        &station.id.to_string(),
    ];
    let mut dry = args.to_vec();
    dry.push("--dry-run");
    let out = run_cli(&app, &dry).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("5 rows are valid; nothing imported"));
    assert_eq!(
        ledger(&app, &op, idb).await.len(),
        1,
        "a dry run books nothing"
    );

    let out = run_cli(&app, &args).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        said.contains("imported 4 amendments and 1 terminations")
            && said.contains("2020: 4, 2021: 1"),
        "{said}"
    );

    // A: amended on 2020-03-02 (the booking moves to the new buyer region with the new
    // amount), terminated on 2021-06-30 (the reversal of what it then counted for).
    let r = app.get(&format!("/v1/contracts/{ida}"), Some(&op)).await;
    r.assert_status(200);
    let a = &r.body;
    assert_eq!(a["status"], "terminated");
    assert_eq!(a["terminated_on"], "2021-06-30");
    assert_eq!(a["contract_amount"], 120_000_000);
    assert_eq!(a["technology_amount"], 100_000_000);
    assert_eq!(a["buyer"]["region_code"], "440305");
    assert_eq!(a["buyer"]["name"], "王五");
    let reqs = a["amendments"].as_array().unwrap();
    assert_eq!(reqs.len(), 2, "{reqs:?}");
    assert_eq!(reqs[0]["kind"], "amendment");
    assert_eq!(reqs[0]["status"], "approved");
    assert!(reqs[0]["decided_at"]
        .as_str()
        .unwrap()
        .starts_with("2020-03-02"));
    assert_eq!(reqs[0]["changes"]["contract_amount"], 120_000_000);
    assert_eq!(reqs[0]["before"]["contract_amount"], 100_000_000);
    assert_eq!(reqs[0]["before"]["buyer"]["region"], "320505");
    assert_eq!(reqs[1]["kind"], "termination");
    assert_eq!(reqs[1]["effective_on"], "2021-06-30");
    assert_eq!(reqs[1]["reason"], "双方协商解除");
    let sub = "entrusted_development";
    assert_eq!(
        entries(&ledger(&app, &op, ida).await),
        vec![
            e("import", "2019-05-20", 1, 100_000_000, "320505", sub),
            e("amendment", "2020-03-02", -1, -100_000_000, "320505", sub),
            e("amendment", "2020-03-02", 1, 120_000_000, "440305", sub),
            e("termination", "2021-06-30", -1, -120_000_000, "440305", sub),
        ]
    );

    // B: applied in date order although the file has them the other way round: the amount
    // first (same dimensions: the difference), then the recognition as consulting (the booking
    // moves to the new sub-kind).
    let b = app
        .get(&format!("/v1/contracts/{idb}"), Some(&op))
        .await
        .body;
    assert_eq!(b["status"], "registered");
    assert_eq!(b["sub_kind"], "consulting");
    assert_eq!(b["registration"]["recognised_sub_kind"], "consulting");
    assert_eq!(b["registration"]["recognised_kind"], "consulting");
    assert_eq!(b["tech_field"], "environment");
    assert_eq!(b["contract_amount"], 45_000_000);
    assert_eq!(
        b["amendments"][1]["before"]["recognised_sub_kind"],
        "general_service"
    );
    assert_eq!(
        entries(&ledger(&app, &op, idb).await),
        vec![
            e(
                "import",
                "2019-09-10",
                1,
                50_000_050,
                "320505",
                "general_service"
            ),
            e(
                "amendment",
                "2020-05-01",
                0,
                -5_000_050,
                "320505",
                "general_service"
            ),
            e(
                "amendment",
                "2020-07-01",
                -1,
                -45_000_000,
                "320505",
                "general_service"
            ),
            e(
                "amendment",
                "2020-07-01",
                1,
                45_000_000,
                "320505",
                "consulting"
            ),
        ]
    );
    let l = ledger(&app, &op, idb).await;
    assert_eq!(l[3]["tech_field"], "environment");
    assert_eq!(l[2]["tech_field"], "new_energy");

    // C: a new term on its registration day is recorded and books nothing.
    let c = app
        .get(&format!("/v1/contracts/{idc}"), Some(&op))
        .await
        .body;
    assert_eq!(c["term_end"], "2021-12-31");
    assert_eq!(c["amendments"].as_array().unwrap().len(), 1);
    assert_eq!(ledger(&app, &op, idc).await.len(), 1);

    // The same file again books nothing: every row is refused.
    let out = run_cli(&app, &args).await;
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("is terminated on TTX already"), "{err}");
    assert!(err.contains("this change was imported already"), "{err}");
    assert!(err.contains("5 of 5 rows have errors"), "{err}");
    assert_eq!(ledger(&app, &op, ida).await.len(), 4);
    assert_eq!(ledger(&app, &op, idb).await.len(), 4);
    assert_eq!(ledger(&app, &op, idc).await.len(), 1);
}
