//! Contract recognition and registration: drafts, submission, review, registration numbers,
//! duplicates, certificates, amendments, terminations and the turnover ledger.
use serde_json::{json, Value};
use std::collections::BTreeSet;
use ttx_tests::fixtures::contract_body as body;
use ttx_tests::{Org, Resp, TestApp};

/// The parties of most tests: a Beijing station with a reviewer, a Haidian university (seller)
/// with a member, a Suzhou enterprise (buyer) with a member.
struct World {
    station: Org,
    reviewer: String,
    seller: Org,
    seller_member: String,
    buyer: Org,
    buyer_member: String,
}

async fn world(app: &TestApp) -> World {
    let station = app.org("station", "110000", true).await;
    let reviewer = app.member(&station, "station_reviewer").await;
    let seller = app.org("university", "110108", false).await;
    let seller_member = app.member(&seller, "member").await;
    let buyer = app.org("enterprise", "320505", false).await;
    let buyer_member = app.member(&buyer, "member").await;
    World {
        station,
        reviewer,
        seller,
        seller_member,
        buyer,
        buyer_member,
    }
}

fn sha(n: u64) -> String {
    format!("{n:064x}")
}

fn id(r: &Resp) -> i64 {
    r.body["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no id in {}", r.text))
}

async fn draft(app: &TestApp, token: &str, b: &Value) -> i64 {
    let r = app.post("/v1/contracts", Some(token), b).await;
    r.assert_status(201);
    id(&r)
}

async fn act(app: &TestApp, token: &str, cid: i64, action: &str, b: Value) -> Resp {
    app.post(&format!("/v1/contracts/{cid}/{action}"), Some(token), &b)
        .await
}

async fn ledger(app: &TestApp, token: &str, cid: i64) -> Vec<Value> {
    let r = app
        .get(&format!("/v1/contracts/{cid}/ledger"), Some(token))
        .await;
    r.assert_status(200);
    r.body.as_array().unwrap().clone()
}

/// Net (count, contract amount, technology amount) of ledger entries.
fn net(entries: &[Value]) -> (i64, i64, i64) {
    entries.iter().fold((0, 0, 0), |a, e| {
        (
            a.0 + e["count_delta"].as_i64().unwrap(),
            a.1 + e["contract_amount_delta"].as_i64().unwrap(),
            a.2 + e["technology_amount_delta"].as_i64().unwrap(),
        )
    })
}

/// Draft, submit, accept: ready for the station's decision.
async fn accepted(app: &TestApp, w: &World, b: &Value) -> i64 {
    let cid = draft(app, &w.seller_member, b).await;
    act(app, &w.seller_member, cid, "submit", json!({}))
        .await
        .assert_status(200);
    act(app, &w.reviewer, cid, "accept", json!({}))
        .await
        .assert_status(200);
    cid
}

/// The sequence part of a TTX registration number (the last six digits).
fn seq(number: &str) -> u64 {
    assert_eq!(number.len(), 18, "{number}");
    number[12..].parse().unwrap()
}

#[tokio::test]
async fn a_contract_from_draft_to_certificate_amended_and_terminated() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;

    // Draft: derived amounts, status, actions.
    let r = app
        .post(
            "/v1/contracts",
            Some(&w.seller_member),
            &body("锂电池正极材料制备技术开发", w.buyer.id, 100_000_000),
        )
        .await;
    r.assert_status(201);
    let cid = id(&r);
    assert_eq!(r.body["status"], "draft");
    assert_eq!(r.body["technology_amount"], 80_000_000);
    assert_eq!(r.body["seller"]["org_id"], w.seller.id);
    assert_eq!(r.body["buyer"]["region_code"], "320505");
    let seller_name = r.body["seller"]["name"].as_str().unwrap().to_string();
    let buyer_name = r.body["buyer"]["name"].as_str().unwrap().to_string();
    assert_eq!(r.body["kind"], "development");
    assert_eq!(r.body["actions"], json!(["edit", "submit"]));
    assert_eq!(
        r.header("location").unwrap(),
        format!("/v1/contracts/{cid}")
    );
    // The buyer does not see the seller's draft.
    app.get(&format!("/v1/contracts/{cid}"), Some(&w.buyer_member))
        .await
        .assert_problem(404, "not_found");
    assert!(ledger(&app, &w.seller_member, cid).await.is_empty());

    // Submit: the Beijing station is chosen.
    let r = act(&app, &w.seller_member, cid, "submit", json!({})).await;
    r.assert_status(200);
    assert_eq!(r.body["status"], "submitted");
    assert_eq!(r.body["review"]["station_id"], w.station.id);
    assert_eq!(r.body["review"]["round"], 1);
    // Now the buyer sees it.
    app.get(&format!("/v1/contracts/{cid}"), Some(&w.buyer_member))
        .await
        .assert_status(200);

    // Accept: the deadline starts.
    let r = act(&app, &w.reviewer, cid, "accept", json!({})).await;
    r.assert_status(200);
    assert_eq!(r.body["status"], "accepted");
    assert_eq!(r.body["review"]["days_left"], 30);
    assert_eq!(r.body["review"]["overdue"], false);
    let q = app.get("/v1/contracts?queue=true", Some(&w.reviewer)).await;
    q.assert_status(200);
    assert_eq!(q.body["items"][0]["id"], cid);
    assert_eq!(q.body["items"][0]["review"]["days_left"], 30);

    // Return for correction with reasons.
    let r = act(
        &app,
        &w.reviewer,
        cid,
        "return",
        json!({"reasons": ["非技术性支出清单缺失", "合同期限与附件不一致"]}),
    )
    .await;
    r.assert_status(200);
    assert_eq!(r.body["status"], "returned");
    assert_eq!(r.body["return_reasons"][1], "合同期限与附件不一致");
    assert!(ledger(&app, &w.seller_member, cid).await.is_empty());

    // The applicant corrects (If-Match) and resubmits: round 2 at the same station.
    let g = app
        .get(&format!("/v1/contracts/{cid}"), Some(&w.seller_member))
        .await;
    let etag = g.etag();
    let r = app
        .patch(
            &format!("/v1/contracts/{cid}"),
            Some(&w.seller_member),
            &etag,
            &json!({"non_technical_costs": 15_000_000, "term_end": "2027-06-30",
                    "documents": [{"name": "技术开发合同（签章版）.pdf", "sha256": sha(1)},
                                  {"name": "非技术性支出清单.xlsx", "sha256": sha(2)}]}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["technology_amount"], 85_000_000);
    // the old ETag is stale now
    app.patch(
        &format!("/v1/contracts/{cid}"),
        Some(&w.seller_member),
        &etag,
        &json!({"title": "锂电池正极材料制备技术开发（修订）"}),
    )
    .await
    .assert_problem(412, "precondition_failed");
    let r = act(&app, &w.seller_member, cid, "submit", json!({})).await;
    r.assert_status(200);
    assert_eq!(r.body["review"]["round"], 2);
    assert!(r.body["return_reasons"].as_array().unwrap().is_empty());
    act(&app, &w.reviewer, cid, "accept", json!({}))
        .await
        .assert_status(200);

    // Register: the station recognises the kind and fixes the non-technical costs.
    let r = act(
        &app,
        &w.reviewer,
        cid,
        "register",
        json!({"recognised_sub_kind": "cooperative_development", "non_technical_costs": 10_000_000}),
    )
    .await;
    r.assert_status(200);
    assert_eq!(r.body["status"], "registered");
    let number = r.body["registration"]["number"]
        .as_str()
        .unwrap()
        .to_string();
    let year = app.clock.today().format("%Y").to_string();
    assert_eq!(&number[..4], year, "{number}");
    assert_eq!(&number[4..10], "110000", "the station's region code");
    assert_eq!(&number[10..12], "01");
    assert_eq!(seq(&number), 1);
    assert_eq!(
        r.body["registration"]["recognised_sub_kind"],
        "cooperative_development"
    );
    assert_eq!(r.body["technology_amount"], 90_000_000);
    assert_eq!(
        r.body["actions"],
        json!([]),
        "the reviewer has nothing left to do"
    );

    // Every round is kept.
    let g = app
        .get(&format!("/v1/contracts/{cid}"), Some(&w.seller_member))
        .await;
    let rounds = g.body["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 2);
    assert_eq!(rounds[0]["outcome"], "returned");
    assert_eq!(rounds[0]["reasons"][0], "非技术性支出清单缺失");
    assert_eq!(rounds[0]["snapshot"]["non_technical_costs"], 20_000_000);
    assert_eq!(rounds[1]["outcome"], "registered");
    assert_eq!(g.body["actions"], json!(["amend", "terminate"]));

    // The ledger: one registration entry with the recognised kind.
    let l = ledger(&app, &w.seller_member, cid).await;
    assert_eq!(l.len(), 1);
    assert_eq!(l[0]["entry_kind"], "registration");
    assert_eq!(l[0]["sub_kind"], "cooperative_development");
    assert_eq!(l[0]["seller_region"], "110108");
    assert_eq!(l[0]["buyer_region"], "320505");
    assert_eq!(l[0]["seller_entity_kind"], "university");
    assert_eq!(l[0]["buyer_entity_kind"], "enterprise");
    assert_eq!(l[0]["station_id"], w.station.id);
    assert_eq!(l[0]["programme_source"], "国家重点研发计划");
    assert_eq!(net(&l), (1, 100_000_000, 90_000_000));

    // The certificate: HTML by default, JSON on request; public verification.
    let r = app
        .get(
            &format!("/v1/contracts/{cid}/certificate"),
            Some(&w.buyer_member),
        )
        .await;
    r.assert_status(200);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    // an HTML page: content security policy, nosniff, referrer policy
    assert!(r
        .header("content-security-policy")
        .is_some_and(|v| v.contains("default-src 'self'")));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
    assert!(r.text.contains("技术合同登记证明"));
    assert!(r.text.contains(&number));
    let r = app
        .send(
            reqwest::Method::GET,
            &format!("/v1/contracts/{cid}/certificate"),
            Some(&w.seller_member),
            None,
            &[("accept", "application/json")],
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["registration_number"], number.as_str());
    assert_eq!(r.body["technology_amount"], 90_000_000);
    let v = app.get(&format!("/v1/registrations/{number}"), None).await;
    v.assert_status(200);
    assert_eq!(v.body["kind"], "development");
    assert_eq!(v.body["status"], "registered");
    assert!(v.body.get("contract_amount").is_none());
    assert!(v.body.get("title").is_none());
    let keys: BTreeSet<&str> = v
        .body
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "registration_number",
            "registered_on",
            "kind",
            "kind_zh",
            "station_id",
            "station_name",
            "status"
        ]),
        "nothing confidential: {}",
        v.text
    );
    assert!(
        !v.text.contains(&seller_name) && !v.text.contains(&buyer_name),
        "{}",
        v.text
    );
    app.get("/v1/registrations/2026110000019999999", None)
        .await
        .assert_problem(404, "not_found");

    // A registered contract cannot be edited, only amended.
    let etag = app
        .get(&format!("/v1/contracts/{cid}"), Some(&w.seller_member))
        .await
        .etag();
    app.patch(
        &format!("/v1/contracts/{cid}"),
        Some(&w.seller_member),
        &etag,
        &json!({"title": "改名"}),
    )
    .await
    .assert_problem(409, "invalid_state");

    // Amendment: amount up; the station approves; the ledger books the difference.
    let r = act(
        &app,
        &w.seller_member,
        cid,
        "amendments",
        json!({"reason": "增加二期研发内容", "contract_amount": 130_000_000}),
    )
    .await;
    r.assert_status(201);
    let aid = id(&r);
    assert_eq!(r.body["status"], "pending");
    // a second request waits for the first
    act(
        &app,
        &w.seller_member,
        cid,
        "terminate",
        json!({"reason": "项目终止"}),
    )
    .await
    .assert_problem(409, "amendment_pending");
    // the station sees it in its queue
    let q = app.get("/v1/contracts?queue=true", Some(&w.reviewer)).await;
    assert_eq!(q.body["items"][0]["pending_amendment_id"], aid);
    let r = app
        .post(
            &format!("/v1/contracts/{cid}/amendments/{aid}/approve"),
            Some(&w.reviewer),
            &json!({}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["amendment"]["status"], "approved");
    assert_eq!(
        r.body["amendment"]["before"]["contract_amount"],
        100_000_000
    );
    assert_eq!(r.body["contract"]["contract_amount"], 130_000_000);
    assert_eq!(r.body["contract"]["technology_amount"], 120_000_000);
    assert_eq!(
        r.body["contract"]["registration"]["number"],
        number.as_str()
    );
    let l = ledger(&app, &w.seller_member, cid).await;
    assert_eq!(l.len(), 2);
    assert_eq!(l[1]["entry_kind"], "amendment");
    assert_eq!(l[1]["count_delta"], 0);
    assert_eq!(l[1]["contract_amount_delta"], 30_000_000);
    assert_eq!(net(&l), (1, 130_000_000, 120_000_000));

    // An amendment moving the buyer: the booking moves with it.
    let other_buyer = json!({"name": "粤港澳智能装备有限公司", "credit_code": ttx_tests::fixtures::credit_code("440305", 777),
                             "entity_kind": "enterprise", "region_code": "440305"});
    let r = act(
        &app,
        &w.seller_member,
        cid,
        "amendments",
        json!({"reason": "合同权利义务转移", "buyer": other_buyer}),
    )
    .await;
    r.assert_status(201);
    let aid2 = id(&r);
    // a rejection needs a note
    app.post(
        &format!("/v1/contracts/{cid}/amendments/{aid2}/reject"),
        Some(&w.reviewer),
        &json!({}),
    )
    .await
    .assert_problem(422, "validation_failed");
    app.post(
        &format!("/v1/contracts/{cid}/amendments/{aid2}/approve"),
        Some(&w.reviewer),
        &json!({}),
    )
    .await
    .assert_status(200);
    let l = ledger(&app, &w.seller_member, cid).await;
    assert_eq!(l.len(), 4);
    let by_region = |r: &str| {
        net(&l
            .iter()
            .filter(|e| e["buyer_region"] == r)
            .cloned()
            .collect::<Vec<_>>())
    };
    assert_eq!(by_region("320505"), (0, 0, 0));
    assert_eq!(by_region("440305"), (1, 130_000_000, 120_000_000));
    // the former buyer no longer sees the contract; the old buyer's page is gone
    app.get(&format!("/v1/contracts/{cid}"), Some(&w.buyer_member))
        .await
        .assert_problem(404, "not_found");

    // Termination: requested, approved, reversed in the ledger.
    let r = act(
        &app,
        &w.seller_member,
        cid,
        "terminate",
        json!({"reason": "双方协商一致解除合同", "effective_on": "2026-10-01"}),
    )
    .await;
    r.assert_status(201);
    assert_eq!(r.body["kind"], "termination");
    let tid = id(&r);
    let r = app
        .post(
            &format!("/v1/contracts/{cid}/amendments/{tid}/approve"),
            Some(&w.reviewer),
            &json!({}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["contract"]["status"], "terminated");
    assert_eq!(r.body["contract"]["terminated_on"], "2026-10-01");
    let l = ledger(&app, &w.seller_member, cid).await;
    assert_eq!(l.len(), 5);
    assert_eq!(l[4]["entry_kind"], "termination");
    assert_eq!(net(&l), (0, 0, 0));
    // The certificate says so; verification too.
    let v = app.get(&format!("/v1/registrations/{number}"), None).await;
    assert_eq!(v.body["status"], "terminated");
    let r = app
        .get(
            &format!("/v1/contracts/{cid}/certificate"),
            Some(&w.seller_member),
        )
        .await;
    assert!(r.text.contains("终止"));
    // Nothing more happens to a terminated contract.
    act(
        &app,
        &w.seller_member,
        cid,
        "amendments",
        json!({"reason": "再变更", "contract_amount": 1}),
    )
    .await
    .assert_problem(409, "invalid_state");
}

#[tokio::test]
async fn sixty_four_concurrent_registrations_get_distinct_gapless_numbers() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let mut ids = vec![];
    for i in 0..64 {
        let b = body(
            &format!("第{i}号工业软件定制开发"),
            w.buyer.id,
            1_000_000 + i,
        );
        ids.push(accepted(&app, &w, &b).await);
    }
    let results = futures::future::join_all(ids.iter().map(|cid| {
        let (app, token) = (&app, &w.reviewer);
        async move { act(app, token, *cid, "register", json!({})).await }
    }))
    .await;
    let mut numbers = BTreeSet::new();
    for r in &results {
        r.assert_status(200);
        numbers.insert(
            r.body["registration"]["number"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(numbers.len(), 64, "numbers are distinct");
    let seqs: Vec<u64> = numbers.iter().map(|n| seq(n)).collect();
    assert_eq!(seqs, (1..=64).collect::<Vec<u64>>(), "gapless from 1");
    let prefixes: BTreeSet<&str> = numbers.iter().map(|n| &n[..12]).collect();
    assert_eq!(prefixes.len(), 1, "one station, one year: {prefixes:?}");
}

#[tokio::test]
async fn sixteen_concurrent_submissions_of_one_contract_register_once() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let b = body("高通量药物筛选平台技术服务", w.buyer.id, 5_000_000);
    let mut ids = vec![];
    for _ in 0..16 {
        ids.push(draft(&app, &w.seller_member, &b).await);
    }
    // Submitted concurrently...
    let subs = futures::future::join_all(
        ids.iter()
            .map(|cid| act(&app, &w.seller_member, *cid, "submit", json!({}))),
    )
    .await;
    for s in &subs {
        s.assert_status(200);
    }
    // ...the station sees the twins...
    let g = app
        .get(&format!("/v1/contracts/{}", ids[0]), Some(&w.reviewer))
        .await;
    let near = g.body["near_duplicates"].as_array().unwrap();
    assert_eq!(near.len(), 15);
    assert!(near.iter().all(|n| n["exact"] == true));
    // ...accepted and registered concurrently.
    let accs = futures::future::join_all(
        ids.iter()
            .map(|cid| act(&app, &w.reviewer, *cid, "accept", json!({}))),
    )
    .await;
    for a in &accs {
        a.assert_status(200);
    }
    let regs = futures::future::join_all(
        ids.iter()
            .map(|cid| act(&app, &w.reviewer, *cid, "register", json!({}))),
    )
    .await;
    let ok: Vec<&Resp> = regs.iter().filter(|r| r.status == 200).collect();
    assert_eq!(ok.len(), 1, "exactly one registered");
    let number = ok[0].body["registration"]["number"].as_str().unwrap();
    assert_eq!(seq(number), 1, "refused duplicates consumed no number");
    for r in regs.iter().filter(|r| r.status != 200) {
        r.assert_problem(409, "duplicate_contract");
        assert_eq!(
            r.body["context"]["duplicate_of"]["registration_number"],
            number
        );
    }
    let mut registered = 0;
    let mut refused = 0;
    for cid in &ids {
        let g = app
            .get(&format!("/v1/contracts/{cid}"), Some(&w.seller_member))
            .await;
        match g.body["status"].as_str().unwrap() {
            "registered" => registered += 1,
            "refused" => {
                assert_eq!(g.body["refusal"]["ground"], "duplicate");
                refused += 1;
            }
            s => panic!("unexpected status {s}"),
        }
    }
    assert_eq!((registered, refused), (1, 15));
    // The ledger counts the contract once.
    let mut total = (0, 0, 0);
    for cid in &ids {
        let n = net(&ledger(&app, &w.seller_member, *cid).await);
        total = (total.0 + n.0, total.1 + n.1, total.2 + n.2);
    }
    assert_eq!(total, (1, 5_000_000, 4_000_000));
}

#[tokio::test]
async fn only_the_registering_stations_reviewers_decide_and_analysts_only_read() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let other_station = app.org("station", "110000", true).await;
    let other_reviewer = app.member(&other_station, "station_reviewer").await;
    let stranger = app.org("enterprise", "440305", false).await;
    let bureau = app.org("bureau", "110000", true).await;
    let analyst = app.member(&bureau, "bureau_analyst").await;
    let far_bureau = app.org("bureau", "440000", true).await;
    let far_analyst = app.member(&far_bureau, "bureau_analyst").await;
    let station_member = app.member(&w.station, "member").await;

    // Two stations cover Beijing: the lower id is chosen; the other cannot act.
    let cid = draft(
        &app,
        &w.seller_member,
        &body("智能电网调度算法技术开发", w.buyer.id, 2_000_000),
    )
    .await;
    let r = act(&app, &w.seller_member, cid, "submit", json!({})).await;
    assert_eq!(r.body["review"]["station_id"], w.station.id);

    act(&app, &other_reviewer, cid, "accept", json!({}))
        .await
        .assert_problem(403, "not_registering_station");
    act(&app, &w.reviewer, cid, "accept", json!({}))
        .await
        .assert_status(200);
    for token in [
        &other_reviewer,
        &w.seller_member,
        &w.buyer_member,
        &station_member,
    ] {
        let r = act(&app, token, cid, "register", json!({})).await;
        assert_eq!(r.status.as_u16(), 403, "{}", r.text);
    }
    act(&app, &analyst, cid, "register", json!({}))
        .await
        .assert_problem(403, "read_only_access");
    act(&app, &stranger.admin_token, cid, "register", json!({}))
        .await
        .assert_problem(404, "not_found");
    // the seller side's actions are the seller's
    act(&app, &w.buyer_member, cid, "submit", json!({}))
        .await
        .assert_problem(403, "not_seller_side");
    act(&app, &w.reviewer, cid, "submit", json!({}))
        .await
        .assert_problem(403, "not_seller_side");

    // The analyst of the region reads, the others do not.
    app.get(&format!("/v1/contracts/{cid}"), Some(&analyst))
        .await
        .assert_status(200);
    let l = app.get("/v1/contracts", Some(&analyst)).await;
    assert_eq!(l.body["items"].as_array().unwrap().len(), 1);
    app.get(&format!("/v1/contracts/{cid}"), Some(&far_analyst))
        .await
        .assert_problem(404, "not_found");
    let l = app.get("/v1/contracts", Some(&far_analyst)).await;
    assert!(l.body["items"].as_array().unwrap().is_empty());
    app.get(&format!("/v1/contracts/{cid}"), Some(&stranger.admin_token))
        .await
        .assert_problem(404, "not_found");
    let etag = app
        .get(&format!("/v1/contracts/{cid}"), Some(&analyst))
        .await
        .etag();
    app.patch(
        &format!("/v1/contracts/{cid}"),
        Some(&analyst),
        &etag,
        &json!({"title": "分析员改名"}),
    )
    .await
    .assert_problem(403, "read_only_access");
    // the queue is a station's
    app.get("/v1/contracts?queue=true", Some(&analyst))
        .await
        .assert_problem(403, "forbidden");

    // The registering station registers; amendments are decided there too.
    act(&app, &w.reviewer, cid, "register", json!({}))
        .await
        .assert_status(200);
    let r = act(
        &app,
        &w.seller_member,
        cid,
        "amendments",
        json!({"reason": "延长合同期限", "term_end": "2027-12-31"}),
    )
    .await;
    r.assert_status(201);
    let aid = id(&r);
    for token in [&other_reviewer, &w.seller_member, &analyst] {
        let r = app
            .post(
                &format!("/v1/contracts/{cid}/amendments/{aid}/approve"),
                Some(token),
                &json!({}),
            )
            .await;
        assert_eq!(r.status.as_u16(), 403, "{}", r.text);
    }
    // a term extension books nothing
    app.post(
        &format!("/v1/contracts/{cid}/amendments/{aid}/approve"),
        Some(&w.reviewer),
        &json!({}),
    )
    .await
    .assert_status(200);
    assert_eq!(ledger(&app, &analyst, cid).await.len(), 1);

    // An unverified station cannot act.
    let unverified = app.org("station", "110000", false).await;
    let u_reviewer = app.member(&unverified, "station_reviewer").await;
    act(&app, &u_reviewer, cid, "accept", json!({}))
        .await
        .assert_problem(403, "not_registering_station");
}

#[tokio::test]
async fn submission_is_routed_by_jurisdiction_and_checked() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    // A Guangdong seller has no station.
    let gd = app.org("enterprise", "440305", false).await;
    let cid = draft(
        &app,
        &gd.admin_token,
        &body("工业机器人视觉定位技术转让", w.buyer.id, 3_000_000),
    )
    .await;
    let r = act(&app, &gd.admin_token, cid, "submit", json!({})).await;
    r.assert_problem(422, "no_station_for_region");
    assert!(r.body["detail"].as_str().unwrap().contains("440305"));
    // Naming a station outside its region.
    act(
        &app,
        &gd.admin_token,
        cid,
        "submit",
        json!({"station_id": w.station.id}),
    )
    .await
    .assert_problem(422, "station_outside_jurisdiction");
    // Once a Shenzhen district station exists, it is chosen over a Guangdong one.
    let gd_station = app.org("station", "440000", true).await;
    let sz_station = app.org("station", "440305", true).await;
    let r = act(&app, &gd.admin_token, cid, "submit", json!({})).await;
    r.assert_status(200);
    assert_eq!(r.body["review"]["station_id"], sz_station.id);
    assert_ne!(gd_station.id, sz_station.id);

    // Incomplete for submission: no documents, no term.
    let mut b = body("无附件的合同", w.buyer.id, 1_000);
    b["documents"] = json!([]);
    b.as_object_mut().unwrap().remove("term_end");
    let cid = draft(&app, &w.seller_member, &b).await;
    let r = act(&app, &w.seller_member, cid, "submit", json!({})).await;
    r.assert_problem(422, "incomplete_for_submission");
    let mut f = r.error_fields();
    f.sort();
    assert_eq!(f, vec!["documents", "term_end"]);

    // Body without JSON is fine for actions without input.
    let mut b = body("空请求体提交", w.buyer.id, 1_000);
    b["title"] = json!("空请求体提交测试");
    let cid = draft(&app, &w.seller_member, &b).await;
    let r = app
        .send(
            reqwest::Method::POST,
            &format!("/v1/contracts/{cid}/submit"),
            Some(&w.seller_member),
            None,
            &[],
        )
        .await;
    r.assert_status(200);
    // Registration needs acceptance first.
    act(&app, &w.reviewer, cid, "register", json!({}))
        .await
        .assert_problem(409, "invalid_state");
}

#[tokio::test]
async fn bad_input_is_a_field_error_never_a_500() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let post = |b: Value| {
        let (app, token) = (&app, w.seller_member.clone());
        async move { app.post("/v1/contracts", Some(&token), &b).await }
    };
    // costs above the amount, plan not adding up, future signing, term reversed
    let mut b = body("成本超额合同", w.buyer.id, 1_000);
    b["non_technical_costs"] = json!(2_000);
    b["payment_plan"] = json!([{"amount": 400, "milestone": "首付"}, {"amount": 500}]);
    b["signed_on"] = json!("2099-01-01");
    b["term_end"] = json!("2020-01-01");
    let r = post(b).await;
    r.assert_problem(422, "validation_failed");
    let f = r.error_fields();
    for want in [
        "non_technical_costs",
        "payment_plan",
        "signed_on",
        "term_end",
    ] {
        assert!(f.contains(&want.to_string()), "{want} in {f:?}");
    }
    // wrong types and vocabularies name the field
    let mut b = body("类型错误", w.buyer.id, 1_000);
    b["sub_kind"] = json!("gift");
    let r = post(b).await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), vec!["sub_kind"]);
    let mut b = body("类型错误", w.buyer.id, 1_000);
    b["contract_amount"] = json!("很多钱");
    assert_eq!(post(b).await.error_fields(), vec!["contract_amount"]);
    let mut b = body("类型错误", w.buyer.id, 1_000);
    b["contract_amount"] = json!(-1);
    assert_eq!(post(b).await.error_fields(), vec!["contract_amount"]);
    let mut b = body("类型错误", w.buyer.id, 1_000);
    b["contract_amount"] = json!(1.5);
    assert_eq!(post(b).await.error_fields(), vec!["contract_amount"]);
    // unknown buyer organisation, buyer = seller, bad outside party
    let r = post(body("未知买方", 987_654, 1_000)).await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), vec!["buyer.org_id"]);
    let r = post(body("自己买自己", w.seller.id, 1_000)).await;
    assert_eq!(r.error_fields(), vec!["buyer"]);
    let mut b = body("外部买方", w.buyer.id, 1_000);
    b["buyer"] = json!({"name": "某", "entity_kind": "enterprise", "region_code": "123"});
    let mut f = post(b).await.error_fields();
    f.sort();
    assert_eq!(
        f,
        vec!["buyer.credit_code", "buyer.name", "buyer.region_code"]
    );
    // a kind that does not fit the sub-kind; IP kind that does not fit
    let mut b = body("类别不符", w.buyer.id, 1_000);
    b["kind"] = json!("license");
    b["sub_kind"] = json!("patent_license");
    b["ip_kind"] = json!("software");
    let r = post(b).await;
    assert_eq!(r.error_fields(), vec!["ip_kind"]);
    let mut b = body("类别不符", w.buyer.id, 1_000);
    b["kind"] = json!("consulting");
    assert_eq!(post(b).await.error_fields(), vec!["kind"]);
    // unknown fields are refused
    let mut b = body("多余字段", w.buyer.id, 1_000);
    b["price"] = json!(1);
    post(b).await.assert_problem(422, "validation_failed");
    // malformed JSON and paths
    app.post_raw(
        "/v1/contracts",
        Some(&w.seller_member),
        Some("application/json"),
        "{\"title\": ",
    )
    .await
    .assert_problem(400, "malformed_json");
    app.get("/v1/contracts/abc", Some(&w.seller_member))
        .await
        .assert_problem(400, "invalid_path");
    app.get("/v1/contracts?status=lost", Some(&w.seller_member))
        .await
        .assert_problem(400, "invalid_query");
    app.get("/v1/contracts?cursor=%%%", Some(&w.seller_member))
        .await
        .assert_status(400);
    app.get("/v1/contracts", None)
        .await
        .assert_problem(401, "unauthenticated");
    // a station cannot draft contracts as seller
    let r = app
        .post(
            "/v1/contracts",
            Some(&w.reviewer),
            &body("登记站自己签合同", w.buyer.id, 1),
        )
        .await;
    r.assert_problem(403, "forbidden");
    // PATCH needs If-Match
    let cid = draft(&app, &w.seller_member, &body("需要版本", w.buyer.id, 1_000)).await;
    app.send(
        reqwest::Method::PATCH,
        &format!("/v1/contracts/{cid}"),
        Some(&w.seller_member),
        Some(&json!({"title": "新名字"})),
        &[],
    )
    .await
    .assert_problem(428, "precondition_required");
    // refusing needs a ground; "other" needs text
    let cid = accepted(&app, &w, &body("拒绝测试", w.buyer.id, 9_000)).await;
    act(
        &app,
        &w.reviewer,
        cid,
        "refuse",
        json!({"ground": "whatever"}),
    )
    .await
    .assert_problem(422, "validation_failed");
    act(&app, &w.reviewer, cid, "refuse", json!({"ground": "other"}))
        .await
        .assert_problem(422, "validation_failed");
    act(&app, &w.reviewer, cid, "return", json!({"reasons": []}))
        .await
        .assert_problem(422, "validation_failed");
    act(
        &app,
        &w.reviewer,
        cid,
        "register",
        json!({"non_technical_costs": 9_001}),
    )
    .await
    .assert_problem(422, "validation_failed");
    let r = act(
        &app,
        &w.reviewer,
        cid,
        "refuse",
        json!({"ground": "not_technology_contract", "text": "实为设备采购合同"}),
    )
    .await;
    r.assert_status(200);
    assert_eq!(r.body["refusal"]["ground"], "not_technology_contract");
    assert!(r.body["refusal"]["ground_zh"]
        .as_str()
        .unwrap()
        .contains("货物"));
    app.get(
        &format!("/v1/contracts/{cid}/certificate"),
        Some(&w.seller_member),
    )
    .await
    .assert_problem(409, "not_registered");
}

#[tokio::test]
async fn the_queue_shows_days_left_and_overdue_reviews_cannot_be_returned() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let late = accepted(&app, &w, &body("逾期审查合同", w.buyer.id, 10_000)).await;
    // Time passes for the first one: its review deadline was three days ago.
    let days = app.config.contracts.review_deadline_days + 3;
    app.clock.advance(chrono::Duration::days(days));
    let fresh = accepted(&app, &w, &body("正常审查合同", w.buyer.id, 20_000)).await;
    let waiting = draft(
        &app,
        &w.seller_member,
        &body("待受理合同", w.buyer.id, 30_000),
    )
    .await;
    act(&app, &w.seller_member, waiting, "submit", json!({}))
        .await
        .assert_status(200);
    let q = app.get("/v1/contracts?queue=true", Some(&w.reviewer)).await;
    q.assert_status(200);
    let items = q.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    let item = |cid: i64| items.iter().find(|i| i["id"] == cid).unwrap().clone();
    assert_eq!(item(late)["review"]["overdue"], true);
    assert!(item(late)["review"]["days_left"].as_i64().unwrap() < 0);
    assert_eq!(item(fresh)["review"]["overdue"], false);
    assert_eq!(item(waiting)["status"], "submitted");
    assert!(item(waiting)["review"]["days_left"].is_null());
    let o = app
        .get("/v1/contracts?overdue=true", Some(&w.reviewer))
        .await;
    let ids: Vec<i64> = o.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![late]);
    // Past the deadline the station registers or refuses; it no longer returns.
    act(
        &app,
        &w.reviewer,
        late,
        "return",
        json!({"reasons": ["补充材料"]}),
    )
    .await
    .assert_problem(409, "review_overdue");
    act(&app, &w.reviewer, late, "register", json!({}))
        .await
        .assert_status(200);
    // Pagination of the queue.
    let p = app
        .get("/v1/contracts?queue=true&limit=1", Some(&w.reviewer))
        .await;
    assert_eq!(p.body["items"].as_array().unwrap().len(), 1);
    let next = p.body["next_cursor"].as_str().unwrap();
    let p2 = app
        .get(
            &format!("/v1/contracts?queue=true&limit=1&cursor={next}"),
            Some(&w.reviewer),
        )
        .await;
    assert_ne!(p2.body["items"][0]["id"], p.body["items"][0]["id"]);
}

#[tokio::test]
async fn near_duplicates_are_flagged_to_the_reviewer() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let first = accepted(
        &app,
        &w,
        &body("智慧农业物联网平台技术开发", w.buyer.id, 8_000_000),
    )
    .await;
    act(&app, &w.reviewer, first, "register", json!({}))
        .await
        .assert_status(200);
    // The same contract with a slightly different amount.
    let twin = draft(
        &app,
        &w.seller_member,
        &body("智慧农业物联网平台技术开发", w.buyer.id, 8_000_100),
    )
    .await;
    act(&app, &w.seller_member, twin, "submit", json!({}))
        .await
        .assert_status(200);
    let g = app
        .get(&format!("/v1/contracts/{twin}"), Some(&w.reviewer))
        .await;
    let near = g.body["near_duplicates"].as_array().unwrap();
    assert_eq!(near.len(), 1, "{}", g.text);
    assert_eq!(near[0]["id"], first);
    assert_eq!(near[0]["exact"], false);
    assert!(near[0]["likeness"]
        .as_array()
        .unwrap()
        .contains(&json!("close_amount")));
    // The seller does not see the station's notes.
    let g = app
        .get(&format!("/v1/contracts/{twin}"), Some(&w.seller_member))
        .await;
    assert!(g.body.get("near_duplicates").is_none());
    // A near duplicate is the reviewer's call: here it is registered.
    act(&app, &w.reviewer, twin, "accept", json!({}))
        .await
        .assert_status(200);
    act(&app, &w.reviewer, twin, "register", json!({}))
        .await
        .assert_status(200);
    // An exact duplicate of a registered contract is refused.
    let copy = accepted(
        &app,
        &w,
        &body("智慧农业物联网平台技术开发", w.buyer.id, 8_000_000),
    )
    .await;
    let r = act(&app, &w.reviewer, copy, "register", json!({})).await;
    r.assert_problem(409, "duplicate_contract");
    assert_eq!(r.body["context"]["duplicate_of"]["id"], first);
}

#[tokio::test]
async fn the_ledger_sums_to_the_live_registered_amounts_and_is_append_only() {
    use sea_orm::{ConnectionTrait, Statement};
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let mut ids = vec![];
    for i in 0..6 {
        let cid = accepted(
            &app,
            &w,
            &body(
                &format!("第{i}批新材料检测技术服务"),
                w.buyer.id,
                1_000_000 * (i + 1),
            ),
        )
        .await;
        act(&app, &w.reviewer, cid, "register", json!({}))
            .await
            .assert_status(200);
        ids.push(cid);
    }
    // amend two, terminate one
    for (cid, amount) in [(ids[0], 1_500_000), (ids[1], 500_000)] {
        let a = act(
            &app,
            &w.seller_member,
            cid,
            "amendments",
            json!({"reason": "调整金额", "contract_amount": amount}),
        )
        .await;
        a.assert_status(201);
        app.post(
            &format!("/v1/contracts/{cid}/amendments/{}/approve", id(&a)),
            Some(&w.reviewer),
            &json!({}),
        )
        .await
        .assert_status(200);
    }
    let t = act(
        &app,
        &w.seller_member,
        ids[2],
        "terminate",
        json!({"reason": "终止"}),
    )
    .await;
    app.post(
        &format!("/v1/contracts/{}/amendments/{}/approve", ids[2], id(&t)),
        Some(&w.reviewer),
        &json!({}),
    )
    .await
    .assert_status(200);

    let q = |sql: &str| Statement::from_string(app.db.get_database_backend(), sql.to_string());
    let sum_sql = "SELECT CAST(COALESCE(SUM(count_delta), 0) AS BIGINT) AS n, \
                   CAST(COALESCE(SUM(contract_amount_delta), 0) AS BIGINT) AS a, \
                   CAST(COALESCE(SUM(technology_amount_delta), 0) AS BIGINT) AS t FROM ledger_entries";
    let live_sql = "SELECT CAST(COUNT(*) AS BIGINT) AS n, \
                    CAST(COALESCE(SUM(contract_amount), 0) AS BIGINT) AS a, \
                    CAST(COALESCE(SUM(technology_amount), 0) AS BIGINT) AS t \
                    FROM contracts WHERE status = 'registered'";
    let triple = |row: sea_orm::QueryResult| -> (i64, i64, i64) {
        (
            row.try_get("", "n").unwrap(),
            row.try_get("", "a").unwrap(),
            row.try_get("", "t").unwrap(),
        )
    };
    let ledger_sum = triple(app.db.query_one_raw(q(sum_sql)).await.unwrap().unwrap());
    let live = triple(app.db.query_one_raw(q(live_sql)).await.unwrap().unwrap());
    assert_eq!(ledger_sum, live);
    assert_eq!(live.0, 5);
    assert_eq!(
        live.1,
        1_500_000 + 500_000 + 4_000_000 + 5_000_000 + 6_000_000
    );
    // Per contract too, through the API.
    for cid in &ids {
        let g = app
            .get(&format!("/v1/contracts/{cid}"), Some(&w.seller_member))
            .await;
        let n = net(&ledger(&app, &w.seller_member, *cid).await);
        if g.body["status"] == "registered" {
            assert_eq!(
                n,
                (
                    1,
                    g.body["contract_amount"].as_i64().unwrap(),
                    g.body["technology_amount"].as_i64().unwrap()
                )
            );
        } else {
            assert_eq!(n, (0, 0, 0));
        }
    }
    // The database refuses to change or remove an entry.
    assert!(app
        .db
        .execute_raw(q("UPDATE ledger_entries SET contract_amount_delta = 0"))
        .await
        .is_err());
    assert!(app
        .db
        .execute_raw(q("DELETE FROM ledger_entries"))
        .await
        .is_err());
    let after = triple(app.db.query_one_raw(q(sum_sql)).await.unwrap().unwrap());
    assert_eq!(after, ledger_sum);

    // The seller's technology income for the year, by kind.
    let year = app.clock.today().format("%Y").to_string();
    let r = app
        .get(
            &format!("/v1/orgs/{}/technology-income?year={year}", w.seller.id),
            Some(&w.seller_member),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["total"]["contracts"], 5);
    assert_eq!(r.body["total"]["contract_amount"], live.1);
    assert_eq!(r.body["total"]["technology_amount"], live.2);
    let dev = r.body["by_kind"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["kind"] == "development")
        .unwrap()
        .clone();
    assert_eq!(dev["technology_amount"], live.2);
    assert_eq!(r.body["by_kind"].as_array().unwrap().len(), 5);
    // another year is empty; others may not look
    let r = app
        .get(
            &format!("/v1/orgs/{}/technology-income?year=2001", w.seller.id),
            Some(&w.seller_member),
        )
        .await;
    assert_eq!(r.body["total"]["contracts"], 0);
    app.get(
        &format!("/v1/orgs/{}/technology-income?year={year}", w.seller.id),
        Some(&w.buyer_member),
    )
    .await
    .assert_problem(404, "not_found");
    app.get(
        &format!("/v1/orgs/{}/technology-income", w.seller.id),
        Some(&w.seller_member),
    )
    .await
    .assert_problem(400, "invalid_query");
    app.get(
        &format!("/v1/orgs/{}/technology-income?year=99999", w.seller.id),
        Some(&w.seller_member),
    )
    .await
    .assert_problem(422, "validation_failed");
}

#[tokio::test]
async fn creating_with_an_idempotency_key_is_retry_safe() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let b = body("幂等创建测试", w.buyer.id, 1_000);
    let send = || {
        app.send(
            reqwest::Method::POST,
            "/v1/contracts",
            Some(&w.seller_member),
            Some(&b),
            &[("idempotency-key", "draft-1")],
        )
    };
    let a = send().await;
    a.assert_status(201);
    let again = send().await;
    again.assert_status(201);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(id(&a), id(&again));
    let l = app.get("/v1/contracts", Some(&w.seller_member)).await;
    assert_eq!(l.body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn contract_amounts_may_be_given_in_yuan() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let mut b = body("以元填写金额的技术开发合同", w.buyer.id, 0);
    let o = b.as_object_mut().unwrap();
    o.remove("contract_amount");
    o.remove("non_technical_costs");
    o.insert("contract_amount_yuan".into(), json!("1200000.50"));
    o.insert("non_technical_costs_yuan".into(), json!("200000"));
    o.insert(
        "payment_plan".into(),
        json!([
            {"milestone": "签订后10个工作日内", "amount_yuan": "600000.50"},
            {"milestone": "验收后", "amount": 60_000_000}
        ]),
    );
    let r = app.post("/v1/contracts", Some(&w.seller_member), &b).await;
    r.assert_status(201);
    assert_eq!(r.body["contract_amount"], 120_000_050, "{}", r.text);
    assert_eq!(r.body["non_technical_costs"], 20_000_000);
    let cid = id(&r);

    // Both forms disagreeing, a bad string, or neither: 422 naming each field.
    let mut bad = b.clone();
    bad["contract_amount"] = json!(120_000_000);
    bad["non_technical_costs_yuan"] = json!("2e5");
    bad["payment_plan"] = json!([{"milestone": "验收后"}]);
    let r = app
        .post("/v1/contracts", Some(&w.seller_member), &bad)
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(
        r.error_fields(),
        vec![
            "contract_amount_yuan",
            "non_technical_costs_yuan",
            "payment_plan[0].amount"
        ],
        "{}",
        r.text
    );
    let mut none = b.clone();
    none.as_object_mut().unwrap().remove("contract_amount_yuan");
    none.as_object_mut().unwrap().remove("payment_plan");
    let r = app
        .post("/v1/contracts", Some(&w.seller_member), &none)
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), vec!["contract_amount"]);

    // A patch in 元.
    let etag = app
        .get(&format!("/v1/contracts/{cid}"), Some(&w.seller_member))
        .await
        .etag();
    let r = app
        .patch(
            &format!("/v1/contracts/{cid}"),
            Some(&w.seller_member),
            &etag,
            &json!({"contract_amount_yuan": "1200000.5", "non_technical_costs_yuan": "100000.00"}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["contract_amount"], 120_000_050);
    assert_eq!(r.body["non_technical_costs"], 10_000_000);

    // The station fixes the costs in 元 when it registers.
    act(&app, &w.seller_member, cid, "submit", json!({}))
        .await
        .assert_status(200);
    act(&app, &w.reviewer, cid, "accept", json!({}))
        .await
        .assert_status(200);
    let r = act(
        &app,
        &w.reviewer,
        cid,
        "register",
        json!({"non_technical_costs_yuan": "１5000"}),
    )
    .await;
    r.assert_status(200);
    assert_eq!(r.body["status"], "registered");
    assert_eq!(
        r.body["technology_amount"],
        120_000_050 - 1_500_000,
        "{}",
        r.text
    );
}
