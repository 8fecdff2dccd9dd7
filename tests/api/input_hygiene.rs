//! Text input hygiene on every route family: a NUL, a control character, a bidirectional override
//! or a value made only of zero-width spaces is a 422 naming the field (never a 500, which a NUL
//! was on PostgreSQL); text is NFC-normalised; long text keeps its newlines.
use serde_json::{json, Value};
use ttx_tests::{fixtures, Resp, TestApp};

const NUL: &str = "\u{0000}";
const RLO: &str = "\u{202E}";

fn zero_width_title() -> String {
    "\u{200B}".repeat(5)
}

fn set(mut v: Value, path: &[&str], x: Value) -> Value {
    let mut cur = &mut v;
    for p in &path[..path.len() - 1] {
        cur = &mut cur[*p];
    }
    cur[path[path.len() - 1]] = x;
    v
}

fn assert_names(r: &Resp, field: &str) {
    r.assert_problem(422, "validation_failed");
    assert!(
        r.error_fields().iter().any(|f| f == field),
        "{field} in {}",
        r.text
    );
}

fn signup(n: u64) -> Value {
    json!({
        "org": {"kind": "enterprise", "name": format!("卫生检查公司{n}"),
                "credit_code": fixtures::credit_code("110000", 900 + n), "region_code": "110000"},
        "admin": {"email": format!("hygiene{n}@firm.test"), "display_name": "管理员", "password": "correct-horse-42"}
    })
}

fn listing(title: &str) -> Value {
    json!({
        "title": title,
        "summary": "成果简介",
        "description": "本成果已完成中试验证，可面向企业转化。",
        "keywords": ["成果转化"],
        "field": "new_energy",
        "trl": 5,
        "transfer_modes": ["transfer"],
        "price": {"kind": "negotiable"},
        "contact": {"name": "联系人甲", "phone": "13912345678", "email": "contact@lab.test"}
    })
}

fn need(title: &str) -> Value {
    json!({
        "title": title,
        "problem": "现有产线在高负荷工况下良率波动大、能耗偏高，关键工艺参数依赖老师傅经验。",
        "keywords": ["工艺优化"],
        "field": "new_energy",
        "research_type": "applied",
        "modes": ["co_development"],
        "contact": {"name": "需求对接人乙", "phone": "13812345678", "email": "needs@firm.test"}
    })
}

fn contract(title: &str, buyer: i64) -> Value {
    json!({
        "title": title,
        "sub_kind": "entrusted_development",
        "buyer": {"org_id": buyer},
        "contract_amount": 1_000_000,
        "non_technical_costs": 0,
        "signed_on": "2026-03-01",
        "term_start": "2026-03-01",
        "term_end": "2027-02-28",
        "tech_field": "new_energy",
        "documents": [{"name": "合同.pdf", "sha256": format!("{:064x}", 1), "size_bytes": 1000}]
    })
}

#[tokio::test]
async fn bad_text_is_422_naming_the_field() {
    let app = TestApp::spawn().await;

    // signup, unauthenticated: NUL in the organisation name, the e-mail, the display name
    for (path, value) in [
        (&["org", "name"][..], format!("坏{NUL}公司")),
        (&["admin", "email"][..], format!("a{NUL}@firm.test")),
        (&["admin", "display_name"][..], format!("张{NUL}")),
        (&["org", "name"][..], format!("公司{RLO}exe.txt")),
        (&["org", "name"][..], zero_width_title()),
    ] {
        let r = app
            .post("/v1/signup", None, &set(signup(1), path, json!(value)))
            .await;
        assert_names(&r, &path.join("."));
    }
    // NFC: a decomposed name is stored composed
    let r = app
        .post(
            "/v1/signup",
            None,
            &set(signup(2), &["org", "name"], json!("Cafe\u{0301} 公司")),
        )
        .await;
    r.assert_status(201);
    let token = r.body["token"].as_str().unwrap_or_default().to_string();
    let me = app.get("/v1/me", Some(&token)).await;
    assert!(me.text.contains("Caf\u{00E9} 公司"), "{}", me.text);
    assert!(!me.text.contains("Cafe\u{0301}"), "{}", me.text);

    // listings
    let uni = app.org("university", "110108", true).await;
    for (field, body) in [
        ("title", listing(&format!("钠离子{NUL}电池"))),
        ("title", listing(&format!("钠离子电池{RLO}cod.exe"))),
        ("title", listing(&zero_width_title())),
        (
            "description",
            set(
                listing("钠离子电池正极材料"),
                &["description"],
                json!(format!("简介{NUL}")),
            ),
        ),
        (
            "keywords[0]",
            set(
                listing("钠离子电池正极材料"),
                &["keywords"],
                json!([format!("a{NUL}")]),
            ),
        ),
    ] {
        let r = app
            .post("/v1/listings", Some(&uni.admin_token), &body)
            .await;
        assert_names(&r, field);
    }
    // long text keeps newlines and tabs; a title may not hold one
    let ok = set(
        listing("钠离子电池正极材料"),
        &["description"],
        json!("第一段\n\t第二段"),
    );
    let r = app.post("/v1/listings", Some(&uni.admin_token), &ok).await;
    r.assert_status(201);
    assert_eq!(r.body["description"], "第一段\n\t第二段", "{}", r.text);
    let r = app
        .post(
            "/v1/listings",
            Some(&uni.admin_token),
            &listing("钠离子\n电池正极"),
        )
        .await;
    assert_names(&r, "title");

    // demands
    let firm = app.org("enterprise", "320505", true).await;
    for (field, body) in [
        ("title", need(&format!("产线{NUL}节能改造"))),
        ("title", need(&format!("产线节能改造{RLO}fdp.exe"))),
        ("title", need(&zero_width_title())),
        (
            "problem",
            set(
                need("产线节能改造"),
                &["problem"],
                json!(format!("问题{NUL}描述，良率波动大")),
            ),
        ),
    ] {
        let r = app
            .post("/v1/demands", Some(&firm.admin_token), &body)
            .await;
        assert_names(&r, field);
    }

    // contracts
    let seller = app.org("university", "110108", false).await;
    let buyer = app.org("enterprise", "320505", false).await;
    for (field, body) in [
        ("title", contract(&format!("技术开发{NUL}合同"), buyer.id)),
        (
            "title",
            contract(&format!("技术开发合同{RLO}fdp"), buyer.id),
        ),
        ("title", contract(&zero_width_title(), buyer.id)),
        (
            "documents[0].name",
            set(
                contract("技术开发合同", buyer.id),
                &["documents"],
                json!([{"name": format!("合同{NUL}.pdf"), "sha256": format!("{:064x}", 1), "size_bytes": 1000}]),
            ),
        ),
    ] {
        let r = app
            .post("/v1/contracts", Some(&seller.admin_token), &body)
            .await;
        assert_names(&r, field);
    }

    // a NUL in a query parameter is a 400, never a 500
    let r = app.get("/v1/listings?q=a%00b", None).await;
    r.assert_problem(400, "invalid_query");
}

#[tokio::test]
async fn limit_outside_1_to_100_is_refused() {
    let app = TestApp::spawn().await;
    let org = app.org("university", "110108", true).await;
    let paths = [
        "/v1/listings".to_string(),
        "/v1/demands".to_string(),
        format!("/v1/orgs/{}/members", org.id),
        "/v1/notifications".to_string(),
    ];
    for path in &paths {
        for bad in ["0", "101", "-1", "9223372036854775808", "ten"] {
            let r = app
                .get(&format!("{path}?limit={bad}"), Some(&org.admin_token))
                .await;
            r.assert_problem(400, "invalid_query");
            assert!(r.text.contains("limit"), "{path} limit={bad}: {}", r.text);
        }
        for good in ["1", "100"] {
            let r = app
                .get(&format!("{path}?limit={good}"), Some(&org.admin_token))
                .await;
            r.assert_status(200);
        }
    }
}
