//! Contract review as a station meets it (issue 12): the queue in submission order, the actions
//! of an overdue review, and what accepting a draft says.
use serde_json::{json, Value};
use ttx_tests::{Resp, TestApp};

struct World {
    reviewer: String,
    seller_member: String,
    buyer_id: i64,
}

async fn world(app: &TestApp) -> World {
    let station = app.org("station", "110000", true).await;
    let reviewer = app.member(&station, "station_reviewer").await;
    let seller = app.org("university", "110108", false).await;
    let seller_member = app.member(&seller, "member").await;
    let buyer = app.org("enterprise", "320505", false).await;
    World {
        reviewer,
        seller_member,
        buyer_id: buyer.id,
    }
}

fn body(title: &str, buyer_org: i64, amount: i64) -> Value {
    json!({
        "title": title,
        "sub_kind": "entrusted_development",
        "buyer": {"org_id": buyer_org},
        "contract_amount": amount,
        "non_technical_costs": amount / 5,
        "signed_on": "2026-03-01",
        "term_start": "2026-03-01",
        "term_end": "2027-02-28",
        "tech_field": "new_energy",
        "documents": [{"name": "合同.pdf", "sha256": format!("{amount:064x}"), "size_bytes": 1000}]
    })
}

async fn draft(app: &TestApp, w: &World, title: &str, amount: i64) -> i64 {
    let r = app
        .post(
            "/v1/contracts",
            Some(&w.seller_member),
            &body(title, w.buyer_id, amount),
        )
        .await;
    r.assert_status(201);
    r.body["id"].as_i64().unwrap()
}

async fn act(app: &TestApp, token: &str, cid: i64, action: &str, b: Value) -> Resp {
    app.post(&format!("/v1/contracts/{cid}/{action}"), Some(token), &b)
        .await
}

fn ids(r: &Resp) -> Vec<i64> {
    r.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", r.text))
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect()
}

fn actions(r: &Resp) -> Vec<String> {
    r.body["actions"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", r.text))
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_queue_is_oldest_submission_first_across_pages() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let first = draft(&app, &w, "先起草后提交的合同", 10_000).await;
    let second = draft(&app, &w, "第二份合同", 20_000).await;
    let third = draft(&app, &w, "第三份合同", 30_000).await;
    // The first is submitted, returned for correction, and submitted again last.
    act(&app, &w.seller_member, first, "submit", json!({}))
        .await
        .assert_status(200);
    act(
        &app,
        &w.reviewer,
        first,
        "return",
        json!({"reasons": ["补充材料"]}),
    )
    .await
    .assert_status(200);
    for cid in [third, second, first] {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        act(&app, &w.seller_member, cid, "submit", json!({}))
            .await
            .assert_status(200);
    }
    let want = vec![third, second, first];
    let q = app.get("/v1/contracts?queue=true", Some(&w.reviewer)).await;
    q.assert_status(200);
    assert_eq!(ids(&q), want, "oldest submission first");
    // The same order one page at a time.
    let mut seen = Vec::new();
    let mut url = "/v1/contracts?queue=true&limit=1".to_string();
    loop {
        let p = app.get(&url, Some(&w.reviewer)).await;
        p.assert_status(200);
        seen.extend(ids(&p));
        match p.body["next_cursor"].as_str() {
            Some(c) => url = format!("/v1/contracts?queue=true&limit=1&cursor={c}"),
            None => break,
        }
        assert!(seen.len() <= 3, "{seen:?}");
    }
    assert_eq!(seen, want);
    // Other lists stay newest first.
    let mine = app.get("/v1/contracts", Some(&w.seller_member)).await;
    assert_eq!(ids(&mine), vec![third, second, first]);
}

#[tokio::test]
async fn an_overdue_review_does_not_offer_return() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let mut accepted = Vec::new();
    for (title, amount) in [("逾期合同", 10_000), ("按期合同", 20_000)] {
        let cid = draft(&app, &w, title, amount).await;
        act(&app, &w.seller_member, cid, "submit", json!({}))
            .await
            .assert_status(200);
        act(&app, &w.reviewer, cid, "accept", json!({}))
            .await
            .assert_status(200);
        accepted.push(cid);
        if accepted.len() == 1 {
            // The first review's deadline passes three days before the second is accepted.
            let days = app.config.contracts.review_deadline_days + 3;
            app.clock.advance(chrono::Duration::days(days));
        }
    }
    let (late, fresh) = (accepted[0], accepted[1]);
    let r = app
        .get(&format!("/v1/contracts/{late}"), Some(&w.reviewer))
        .await;
    r.assert_status(200);
    assert_eq!(r.body["review"]["overdue"], true);
    let a = actions(&r);
    assert!(!a.contains(&"return".to_string()), "{a:?}");
    assert!(a.contains(&"register".to_string()), "{a:?}");
    assert!(a.contains(&"refuse".to_string()), "{a:?}");
    // What the actions say is what the station may do.
    act(
        &app,
        &w.reviewer,
        late,
        "return",
        json!({"reasons": ["补充材料"]}),
    )
    .await
    .assert_problem(409, "review_overdue");
    let r = app
        .get(&format!("/v1/contracts/{fresh}"), Some(&w.reviewer))
        .await;
    assert!(actions(&r).contains(&"return".to_string()), "{}", r.text);
}

#[tokio::test]
async fn accepting_a_draft_says_it_is_not_submitted() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let cid = draft(&app, &w, "尚未提交的合同", 10_000).await;
    let r = act(&app, &w.reviewer, cid, "accept", json!({})).await;
    r.assert_problem(409, "invalid_state");
    let detail = r.body["detail"].as_str().unwrap_or("");
    assert!(detail.contains("not submitted"), "{}", r.text);
    // Once submitted, the same station accepts it.
    act(&app, &w.seller_member, cid, "submit", json!({}))
        .await
        .assert_status(200);
    act(&app, &w.reviewer, cid, "accept", json!({}))
        .await
        .assert_status(200);
}
