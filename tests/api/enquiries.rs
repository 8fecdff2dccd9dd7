//! Enquiries between parties (`/v1/enquiries`), the contact reveal, confidential listing details
//! under a versioned NDA and the owner's access log: a broker's enquiry accepted under an NDA
//! (contact and confidential description visible to that broker only, the read logged, never in
//! public reads or search), the daily cap, one live enquiry per organisation and item, decline
//! with a reason, the thread, notifications to both sides exactly once (inbox and webhooks),
//! validation, and 404 for everyone outside the two sides.
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use ttx_tests::fixtures::need_body;
use ttx_tests::{Org, Resp, TestApp};

const SECRET_WORD: &str = "XQ7731晶种配方";
const LAB_PHONE: &str = "13912345678";

fn patent(digits12: &str) -> String {
    ttx_listings::patent::PatentNumber::complete(digits12).expect("12 digits")
}

fn listing_body(title: &str, publish: bool) -> Value {
    json!({
        "title": title,
        "summary": format!("{title}：以电厂脱硫石膏渣为原料制成高强石膏。"),
        "description": format!("本成果“{title}”已完成中试验证，可面向企业转化。"),
        "keywords": ["脱硫石膏", "资源化利用"],
        "field": "environment",
        "trl": 6,
        "ip_items": [{"kind": "invention_patent", "number": format!("CN{}", patent("202310123456")), "status": "granted"}],
        "transfer_modes": ["license", "transfer"],
        "price": {"kind": "negotiable"},
        "contact": {"name": "王老师", "phone": LAB_PHONE, "email": "wang@lab.test"},
        "publish": publish
    })
}

/// A listing of `token`'s organisation (published or a draft).
async fn listing(app: &TestApp, token: &str, title: &str, publish: bool) -> i64 {
    let r = app
        .post("/v1/listings", Some(token), &listing_body(title, publish))
        .await;
    r.assert_status(201);
    r.body["id"].as_i64().unwrap()
}

/// An open need of `token`'s organisation.
async fn need(app: &TestApp, token: &str, title: &str) -> i64 {
    let body = need_body(title, false);
    let r = app.post("/v1/demands", Some(token), &body).await;
    r.assert_status(201);
    assert_eq!(r.body["status"], "open", "{}", r.text);
    r.body["id"].as_i64().unwrap()
}

/// The owner (a verified university with a published listing), a broker of a verified agency,
/// and an unrelated verified firm.
struct World {
    lab: Org,
    lab_member: String,
    agency: Org,
    broker: String,
    stranger: Org,
    stranger_member: String,
    listing_id: i64,
}

async fn world(app: &TestApp) -> World {
    let lab = app.org("university", "110108", true).await;
    let lab_member = app.member(&lab, "member").await;
    let agency = app.org("agency", "110108", true).await;
    let broker = app.member(&agency, "broker").await;
    let stranger = app.org("enterprise", "320505", true).await;
    let stranger_member = app.member(&stranger, "member").await;
    let listing_id = listing(app, &lab_member, "脱硫石膏渣制备高强石膏技术", true).await;
    World {
        lab,
        lab_member,
        agency,
        broker,
        stranger,
        stranger_member,
        listing_id,
    }
}

async fn enquire(app: &TestApp, token: &str, listing_id: i64) -> Resp {
    app.post(
        "/v1/enquiries",
        Some(token),
        &json!({"listing_id": listing_id, "purpose": "license", "message": "我方客户希望以普通许可方式实施该技术，请提供报价。"}),
    )
    .await
}

async fn act(app: &TestApp, token: &str, id: i64, action: &str, body: Value) -> Resp {
    app.post(&format!("/v1/enquiries/{id}/{action}"), Some(token), &body)
        .await
}

async fn put_confidential(
    app: &TestApp,
    token: &str,
    listing_id: i64,
    etag: Option<&str>,
    body: &Value,
) -> Resp {
    let headers: Vec<(&str, &str)> = etag.map(|e| vec![("if-match", e)]).unwrap_or_default();
    app.send(
        reqwest::Method::PUT,
        &format!("/v1/listings/{listing_id}/confidential"),
        Some(token),
        Some(body),
        &headers,
    )
    .await
}

fn confidential_body(nda: &str, auto_grant: bool) -> Value {
    json!({
        "description": format!("完整工艺：{SECRET_WORD}，转晶温度135℃，保温4小时。"),
        "ip_details": "权利要求1-8覆盖转晶剂组合物；PCT申请在审。",
        "data_sheet_notes": "中试线连续运行90天数据。",
        "nda_text": nda,
        "auto_grant": auto_grant
    })
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// The must-show walk: a broker enquires, accepts the NDA, the owner accepts and grants; the
/// contact and the confidential description become visible to that broker only, the access log
/// shows the read, an unrelated organisation still gets 404s, and public reads and search never
/// carry either.
#[tokio::test]
async fn a_broker_enquiry_accepted_under_an_nda_reveals_contact_and_confidential_details_to_that_broker_only(
) {
    let app = TestApp::spawn().await;
    let lab = app.org("university", "110108", true).await;
    let lab_member = app.member(&lab, "member").await;
    let agency = app.org("agency", "110108", true).await;
    let broker = app.member(&agency, "broker").await;
    let stranger = app.org("enterprise", "320505", true).await;
    let stranger_member = app.member(&stranger, "member").await;
    // A draft whose confidential parts are set before it is published (and indexed).
    let id = listing(&app, &lab_member, "脱硫石膏渣制备高强石膏技术", false).await;
    let r = put_confidential(
        &app,
        &lab_member,
        id,
        None,
        &confidential_body(
            "双方对上述技术资料负有保密义务，未经许可不得向第三方披露。",
            false,
        ),
    )
    .await;
    r.assert_status(200);
    assert_eq!(r.etag(), "\"1\"");
    assert_eq!(r.body["nda"]["nda_version"], 1);
    app.post(
        &format!("/v1/listings/{id}/publish"),
        Some(&lab_member),
        &json!({}),
    )
    .await
    .assert_status(200);
    let paths = [
        format!("/v1/listings/{id}/contact"),
        format!("/v1/listings/{id}/confidential"),
    ];

    // Before: the broker and the stranger see neither.
    for t in [&broker, &stranger_member] {
        for p in &paths {
            app.get(p, Some(t)).await.assert_problem(404, "not_found");
        }
    }
    // The NDA is readable by whoever may read the listing.
    let nda = app.get(&format!("/v1/listings/{id}/nda"), None).await;
    nda.assert_status(200);
    assert_eq!(nda.body["nda_version"], 1);
    assert!(!nda.text.contains(SECRET_WORD));

    // The broker enquires; the owner sees it in its inbox.
    let r = enquire(&app, &broker, id).await;
    r.assert_status(201);
    let eid = r.body["id"].as_i64().unwrap();
    assert_eq!(r.body["status"], "open");
    assert_eq!(r.body["your_side"], "sender");
    assert_eq!(
        r.header("location"),
        Some(format!("/v1/enquiries/{eid}").as_str())
    );
    assert_eq!(
        strs(&r.body["actions"]),
        vec!["message", "close", "accept_nda"]
    );
    let inbox = app
        .get("/v1/enquiries?box=received", Some(&lab_member))
        .await;
    inbox.assert_status(200);
    assert_eq!(inbox.body["items"][0]["id"], eid);
    assert_eq!(inbox.body["items"][0]["sender"]["org_id"], agency.id);
    assert_eq!(
        strs(&inbox.body["items"][0]["actions"]),
        vec!["message", "accept", "decline", "grant"]
    );

    // Granting before the NDA is accepted: 409.
    act(&app, &lab_member, eid, "grant", json!({}))
        .await
        .assert_problem(409, "nda_not_accepted");
    // The broker accepts the NDA (who, when, which version); access is not automatic here.
    let r = act(&app, &broker, eid, "nda", json!({"nda_version": 1})).await;
    r.assert_status(200);
    assert_eq!(r.body["nda"]["nda_version"], 1);
    assert!(r.body["nda"]["accepted_at"].is_string());
    assert!(r.body["confidential_access"].is_null());
    app.get(&paths[1], Some(&broker))
        .await
        .assert_problem(404, "not_found");

    // The owner accepts and grants access in one step.
    let r = act(
        &app,
        &lab_member,
        eid,
        "accept",
        json!({"message": "欢迎进一步洽谈。", "grant_confidential": true}),
    )
    .await;
    r.assert_status(200);
    assert_eq!(r.body["status"], "accepted");
    assert_eq!(r.body["confidential_access"]["granted_by"], "owner");
    assert!(
        r.body.get("contact").is_none(),
        "the owner's view has no reveal"
    );

    // The broker now reads the contact (in the enquiry and on its own) and the confidential
    // description.
    let e = app
        .get(&format!("/v1/enquiries/{eid}"), Some(&broker))
        .await;
    e.assert_status(200);
    assert_eq!(e.body["contact"]["phone"], LAB_PHONE);
    let c = app.get(&paths[0], Some(&broker)).await;
    c.assert_status(200);
    assert_eq!(c.body["phone"], LAB_PHONE);
    let conf = app.get(&paths[1], Some(&broker)).await;
    conf.assert_status(200);
    assert!(conf.body["description"]
        .as_str()
        .unwrap()
        .contains(SECRET_WORD));
    assert_eq!(conf.body["nda"]["nda_version"], 1);

    // Still nothing for the unrelated organisation, nor its view of the enquiry or the log.
    for p in paths.iter().chain([
        &format!("/v1/enquiries/{eid}"),
        &format!("/v1/enquiries/{eid}/messages"),
        &format!("/v1/listings/{id}/access-log"),
    ]) {
        app.get(p, Some(&stranger_member))
            .await
            .assert_problem(404, "not_found");
    }
    // The broker does not read the owner's log either.
    app.get(&format!("/v1/listings/{id}/access-log"), Some(&broker))
        .await
        .assert_problem(404, "not_found");

    // The owner's access log shows the reveal, the grant and the broker's reads.
    let log = app
        .get(
            &format!("/v1/listings/{id}/access-log"),
            Some(&lab.admin_token),
        )
        .await;
    log.assert_status(200);
    let items = log.body["items"].as_array().unwrap();
    let whats: Vec<&str> = items.iter().map(|i| i["what"].as_str().unwrap()).collect();
    assert_eq!(
        whats,
        vec![
            "confidential_read",
            "contact_read",
            "contact_read",
            "access_granted",
            "contact_revealed"
        ],
        "newest first: {}",
        log.text
    );
    let read = &items[0];
    assert_eq!(read["reader"]["org_id"], agency.id);
    assert_eq!(read["enquiry_id"], eid);
    assert_eq!(read["nda_version"], 1);
    assert!(read["reader_user_id"].is_i64());
    // The owner's own reads are not logged.
    app.get(&paths[1], Some(&lab_member))
        .await
        .assert_status(200);
    let log2 = app
        .get(
            &format!("/v1/listings/{id}/access-log"),
            Some(&lab.admin_token),
        )
        .await;
    assert_eq!(log2.body["items"].as_array().unwrap().len(), items.len());

    // Public reads and search carry neither the contact nor the confidential parts.
    for t in [None, Some(broker.as_str()), Some(stranger_member.as_str())] {
        let r = app.get(&format!("/v1/listings/{id}"), t).await;
        r.assert_status(200);
        assert!(r.body.get("contact").is_none(), "{}", r.text);
        assert!(!r.text.contains(LAB_PHONE) && !r.text.contains(SECRET_WORD));
    }
    // Search (whatever its answer's shape): the listing is found, without either.
    let q = ttx_tests::fixtures::query_escape("脱硫石膏渣制备高强石膏");
    let hits = app
        .wait_until(
            &format!("/v1/listings?q={q}"),
            None,
            "the listing in search",
            |r| r.status.as_u16() == 200 && r.text.contains("脱硫石膏渣制备高强石膏技术"),
        )
        .await;
    assert!(!hits.text.contains(LAB_PHONE) && !hits.text.contains(SECRET_WORD));
    assert!(!hits.text.contains("wang@lab.test"));
    let q = ttx_tests::fixtures::query_escape(SECRET_WORD);
    let none = app.get(&format!("/v1/listings?q={q}"), None).await;
    none.assert_status(200);
    assert!(
        !none.text.contains("脱硫石膏渣制备高强石膏技术"),
        "the confidential word finds nothing: {}",
        none.text
    );
}

/// The sender reads a need's contact once the firm accepted; the firm's log shows it.
#[tokio::test]
async fn an_accepted_enquiry_about_a_need_reveals_the_needs_contact() {
    let app = TestApp::spawn().await;
    let firm = app.org("enterprise", "320505", true).await;
    let firm_member = app.member(&firm, "member").await;
    let lab = app.org("university", "110108", true).await;
    let lab_member = app.member(&lab, "member").await;
    let offer = listing(&app, &lab_member, "脱硫石膏渣制备高强石膏技术", true).await;
    let did = need(&app, &firm_member, "脱硫石膏渣综合利用技术需求").await;
    let r = app
        .post(
            "/v1/enquiries",
            Some(&lab_member),
            &json!({"demand_id": did, "purpose": "co_development", "message": "我校成果可满足该需求。",
                    "offer_listing_id": offer}),
        )
        .await;
    r.assert_status(201);
    let eid = r.body["id"].as_i64().unwrap();
    assert_eq!(r.body["offer"]["id"], offer);
    assert_eq!(r.body["subject"]["type"], "demand");
    let contact = format!("/v1/demands/{did}/contact");
    app.get(&contact, Some(&lab_member))
        .await
        .assert_problem(404, "not_found");
    // A need has no NDA.
    act(&app, &lab_member, eid, "nda", json!({"nda_version": 1}))
        .await
        .assert_problem(409, "nda_required");
    act(&app, &firm_member, eid, "accept", json!({}))
        .await
        .assert_status(200);
    let c = app.get(&contact, Some(&lab_member)).await;
    c.assert_status(200);
    assert_eq!(c.body["phone"], "13812345678");
    let log = app
        .get(&format!("/v1/demands/{did}/access-log"), Some(&firm_member))
        .await;
    log.assert_status(200);
    let whats: Vec<String> = log.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["what"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(whats, vec!["contact_read", "contact_revealed"]);
    // Closing the accepted enquiry keeps what was revealed.
    act(
        &app,
        &firm_member,
        eid,
        "close",
        json!({"reason": "已签约"}),
    )
    .await
    .assert_status(200);
    app.get(&contact, Some(&lab_member))
        .await
        .assert_status(200);
}

/// The daily cap per organisation: the next enquiry is 429, other organisations are not
/// affected, and a duplicate does not use up the allowance.
#[tokio::test]
async fn the_daily_cap_per_organisation_refuses_the_next_enquiry() {
    let app = TestApp::spawn_with(|c| c.enquiries.daily_limit_per_org = 2).await;
    let w = world(&app).await;
    let l2 = listing(&app, &w.lab_member, "高强石膏转晶剂配方技术", true).await;
    let l3 = listing(&app, &w.lab_member, "石膏基自流平砂浆制备技术", true).await;
    enquire(&app, &w.broker, w.listing_id)
        .await
        .assert_status(201);
    // A duplicate is refused without using the allowance.
    enquire(&app, &w.broker, w.listing_id)
        .await
        .assert_problem(409, "enquiry_duplicate");
    enquire(&app, &w.broker, l2).await.assert_status(201);
    let r = enquire(&app, &w.broker, l3).await;
    r.assert_problem(429, "enquiry_daily_limit");
    assert_eq!(r.body["context"]["limit"], 2);
    // Another broker of the same agency shares its allowance; another organisation has its own.
    let broker2 = app.member(&w.agency, "broker").await;
    enquire(&app, &broker2, l3)
        .await
        .assert_problem(429, "enquiry_daily_limit");
    enquire(&app, &w.stranger_member, l3)
        .await
        .assert_status(201);
}

/// One live enquiry per organisation and item: a second is 409 naming the first; once closed,
/// a new one may be sent. Another organisation may enquire meanwhile.
#[tokio::test]
async fn a_second_open_enquiry_on_the_same_item_is_409() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let first = enquire(&app, &w.broker, w.listing_id).await;
    first.assert_status(201);
    let eid = first.body["id"].as_i64().unwrap();
    let r = enquire(&app, &w.broker, w.listing_id).await;
    r.assert_problem(409, "enquiry_duplicate");
    assert_eq!(r.body["context"]["enquiry_id"], eid);
    // Accepted is still under way.
    act(&app, &w.lab_member, eid, "accept", json!({}))
        .await
        .assert_status(200);
    enquire(&app, &w.broker, w.listing_id)
        .await
        .assert_problem(409, "enquiry_duplicate");
    enquire(&app, &w.stranger_member, w.listing_id)
        .await
        .assert_status(201);
    act(&app, &w.broker, eid, "close", json!({}))
        .await
        .assert_status(200);
    enquire(&app, &w.broker, w.listing_id)
        .await
        .assert_status(201);
    let sent = app.get("/v1/enquiries?box=sent", Some(&w.broker)).await;
    sent.assert_status(200);
    assert_eq!(sent.body["items"].as_array().unwrap().len(), 2);
}

/// The owner declines with a reason the sender reads; nothing moves a declined enquiry and no
/// contact is revealed.
#[tokio::test]
async fn the_owner_declines_with_a_reason() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let eid = enquire(&app, &w.broker, w.listing_id).await.body["id"]
        .as_i64()
        .unwrap();
    // The sender may not decline; the reason is required.
    act(&app, &w.broker, eid, "decline", json!({"reason": "x"}))
        .await
        .assert_problem(403, "forbidden");
    let r = act(&app, &w.lab_member, eid, "decline", json!({"reason": "  "})).await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), vec!["reason"]);
    let r = act(&app, &w.lab_member, eid, "decline", json!({})).await;
    r.assert_problem(422, "validation_failed");
    assert!(r.text.contains("reason"), "{}", r.text);
    let r = act(
        &app,
        &w.lab_member,
        eid,
        "decline",
        json!({"reason": "该成果已独占许可给其他企业。"}),
    )
    .await;
    r.assert_status(200);
    assert_eq!(r.body["status"], "declined");
    let seen = app
        .get(&format!("/v1/enquiries/{eid}"), Some(&w.broker))
        .await;
    seen.assert_status(200);
    assert_eq!(seen.body["status"], "declined");
    assert_eq!(seen.body["decline_reason"], "该成果已独占许可给其他企业。");
    assert!(seen.body.get("contact").is_none());
    assert_eq!(seen.body["actions"], json!([]));
    app.get(
        &format!("/v1/listings/{}/contact", w.listing_id),
        Some(&w.broker),
    )
    .await
    .assert_problem(404, "not_found");
    let r = act(&app, &w.lab_member, eid, "accept", json!({})).await;
    r.assert_problem(409, "enquiry_invalid_transition");
    assert_eq!(r.body["context"]["allowed"], json!([]));
    act(
        &app,
        &w.broker,
        eid,
        "messages",
        json!({"body": "能否再考虑？"}),
    )
    .await
    .assert_problem(409, "enquiry_invalid_transition");
    // A declined enquiry no longer blocks a new one.
    enquire(&app, &w.broker, w.listing_id)
        .await
        .assert_status(201);
}

/// The thread: both sides post, oldest first, paginated; the owner's first message answers.
#[tokio::test]
async fn the_thread_keeps_both_sides_messages() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let eid = enquire(&app, &w.broker, w.listing_id).await.body["id"]
        .as_i64()
        .unwrap();
    let r = act(
        &app,
        &w.broker,
        eid,
        "messages",
        json!({"body": "补充：客户在江苏。"}),
    )
    .await;
    r.assert_status(201);
    assert_eq!(r.body["side"], "sender");
    let e = app
        .get(&format!("/v1/enquiries/{eid}"), Some(&w.broker))
        .await;
    assert_eq!(
        e.body["status"], "open",
        "the sender's messages do not answer"
    );
    let r = act(
        &app,
        &w.lab_member,
        eid,
        "messages",
        json!({"body": "可以，请提供客户产能。"}),
    )
    .await;
    r.assert_status(201);
    assert_eq!(r.body["side"], "owner");
    let e = app
        .get(&format!("/v1/enquiries/{eid}"), Some(&w.lab_member))
        .await;
    assert_eq!(e.body["status"], "answered");
    assert!(e.body["answered_at"].is_string());
    act(
        &app,
        &w.broker,
        eid,
        "messages",
        json!({"body": "年产能十万吨。"}),
    )
    .await
    .assert_status(201);

    let p1 = app
        .get(
            &format!("/v1/enquiries/{eid}/messages?limit=2"),
            Some(&w.lab_member),
        )
        .await;
    p1.assert_status(200);
    let bodies = |r: &Resp| -> Vec<(String, String)> {
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["side"].as_str().unwrap().to_string(),
                    m["body"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let cursor = p1.body["next_cursor"].as_str().unwrap().to_string();
    let p2 = app
        .get(
            &format!("/v1/enquiries/{eid}/messages?limit=2&cursor={cursor}"),
            Some(&w.broker),
        )
        .await;
    p2.assert_status(200);
    assert!(p2.body["next_cursor"].is_null());
    let all: Vec<(String, String)> = bodies(&p1).into_iter().chain(bodies(&p2)).collect();
    let sides: Vec<&str> = all.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(sides, vec!["sender", "sender", "owner", "sender"]);
    assert!(
        all[0].1.starts_with("我方客户"),
        "the enquiry's message opens the thread"
    );
    assert_eq!(all[2].1, "可以，请提供客户产能。");
    // Capped page size.
    app.get(
        &format!("/v1/enquiries/{eid}/messages?limit=500"),
        Some(&w.broker),
    )
    .await
    .assert_problem(400, "invalid_query");
    // Closed by the sender: no more messages.
    act(&app, &w.broker, eid, "close", json!({"reason": "客户暂缓"}))
        .await
        .assert_status(200);
    act(
        &app,
        &w.lab_member,
        eid,
        "messages",
        json!({"body": "好的"}),
    )
    .await
    .assert_problem(409, "enquiry_invalid_transition");
}

/// A tiny webhook receiver: records `(event id, kind)` of every POST, answers 204.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<(String, String)>>>,
}

async fn hook(State(r): State<Receiver>, headers: HeaderMap, _body: Bytes) -> StatusCode {
    let h = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    r.got
        .lock()
        .unwrap()
        .push((h("x-ttx-event-id"), h("x-ttx-event")));
    StatusCode::NO_CONTENT
}

async fn receiver() -> (Receiver, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let r = Receiver::default();
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(hook))
        .with_state(r.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (r, url)
}

impl Receiver {
    /// Kinds received, with how often; waits until `n` requests arrived.
    async fn wait_kinds(&self, n: usize) -> BTreeMap<String, usize> {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.got.lock().unwrap().len() < n {
            assert!(
                Instant::now() < deadline,
                "timed out: {:?}",
                self.got.lock().unwrap()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // A little longer, so a duplicate would show.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let got = self.got.lock().unwrap().clone();
        let ids: std::collections::BTreeSet<&String> = got.iter().map(|(id, _)| id).collect();
        assert_eq!(ids.len(), got.len(), "an event arrived twice: {got:?}");
        let mut m = BTreeMap::new();
        for (_, k) in got {
            *m.entry(k).or_default() += 1;
        }
        m
    }
}

/// The enquiry events in an inbox: kind → count.
async fn inbox_kinds(app: &TestApp, token: &str) -> BTreeMap<String, usize> {
    let r = app.get("/v1/notifications?limit=100", Some(token)).await;
    r.assert_status(200);
    let mut m = BTreeMap::new();
    for n in r.body["items"].as_array().unwrap() {
        let k = n["kind"].as_str().unwrap();
        if k.starts_with("enquiry.") {
            *m.entry(k.to_string()).or_default() += 1;
        }
    }
    m
}

fn counts(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(k, n)| (k.to_string(), *n)).collect()
}

/// Each step reaches the other side exactly once, in the inbox of each member and on its
/// webhook; nobody else hears of it.
#[tokio::test]
async fn both_sides_are_notified_exactly_once() {
    let app = TestApp::spawn_with(|c| {
        c.notify.allow_private_urls = true;
        c.notify.poll_interval_ms = 100;
    })
    .await;
    let w = world(&app).await;
    let (lab_rx, lab_url) = receiver().await;
    let (agency_rx, agency_url) = receiver().await;
    for (org, url) in [(&w.lab, &lab_url), (&w.agency, &agency_url)] {
        app.post(
            "/v1/webhooks",
            Some(&org.admin_token),
            &json!({"url": url, "events": ["enquiry.received", "enquiry.message", "enquiry.accepted",
                "enquiry.declined", "enquiry.closed", "enquiry.nda_accepted", "enquiry.access_granted"]}),
        )
        .await
        .assert_status(201);
    }
    put_confidential(
        &app,
        &w.lab_member,
        w.listing_id,
        None,
        &confidential_body("保密协议正文", true),
    )
    .await
    .assert_status(200);
    let eid = enquire(&app, &w.broker, w.listing_id).await.body["id"]
        .as_i64()
        .unwrap();
    act(
        &app,
        &w.lab_member,
        eid,
        "messages",
        json!({"body": "请介绍客户情况。"}),
    )
    .await
    .assert_status(201);
    act(
        &app,
        &w.broker,
        eid,
        "messages",
        json!({"body": "客户为石膏建材企业。"}),
    )
    .await
    .assert_status(201);
    // Automatic access on accepting the NDA.
    let r = act(&app, &w.broker, eid, "nda", json!({"nda_version": 1})).await;
    r.assert_status(200);
    assert_eq!(r.body["confidential_access"]["granted_by"], "auto");
    act(&app, &w.lab_member, eid, "accept", json!({}))
        .await
        .assert_status(200);

    let owner_expected = counts(&[
        ("enquiry.received", 1),
        ("enquiry.message", 1),
        ("enquiry.nda_accepted", 1),
    ]);
    let sender_expected = counts(&[
        ("enquiry.message", 1),
        ("enquiry.access_granted", 1),
        ("enquiry.accepted", 1),
    ]);
    // Every member of each side, in the inbox.
    for t in [&w.lab_member, &w.lab.admin_token] {
        assert_eq!(inbox_kinds(&app, t).await, owner_expected);
    }
    for t in [&w.broker, &w.agency.admin_token] {
        assert_eq!(inbox_kinds(&app, t).await, sender_expected);
    }
    assert!(inbox_kinds(&app, &w.stranger_member).await.is_empty());
    // And once on each side's webhook.
    assert_eq!(lab_rx.wait_kinds(3).await, owner_expected);
    assert_eq!(agency_rx.wait_kinds(3).await, sender_expected);
    // The events carry no contact details nor confidential parts.
    let r = app
        .get("/v1/notifications?limit=100", Some(&w.broker))
        .await;
    assert!(!r.text.contains(LAB_PHONE) && !r.text.contains(SECRET_WORD));
}

/// Validation: every problem of a body at once, with field names; who may send.
#[tokio::test]
async fn validation_errors_name_the_fields() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let r = app
        .post(
            "/v1/enquiries",
            Some(&w.broker),
            &json!({"purpose": "license", "message": ""}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), vec!["listing_id", "message"]);
    let r = app
        .post(
            "/v1/enquiries",
            Some(&w.broker),
            &json!({"listing_id": w.listing_id, "demand_id": 1, "purpose": "license", "message": "x",
                    "offer_listing_id": 1, "offer_demand_id": 2}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), vec!["demand_id", "offer_demand_id"]);
    let r = app
        .post(
            "/v1/enquiries",
            Some(&w.broker),
            &json!({"listing_id": w.listing_id, "purpose": "buy", "message": "x"}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert!(
        r.error_fields().contains(&"purpose".to_string()),
        "{}",
        r.text
    );
    // Own item; an offer that is not the sender's.
    let r = enquire(&app, &w.lab_member, w.listing_id).await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), vec!["listing_id"]);
    let r = app
        .post(
            "/v1/enquiries",
            Some(&w.stranger_member),
            &json!({"listing_id": w.listing_id, "purpose": "transfer", "message": "x",
                    "offer_listing_id": w.listing_id}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), vec!["offer_listing_id"]);
    // NDA versions start at 1.
    let eid = enquire(&app, &w.broker, w.listing_id).await.body["id"]
        .as_i64()
        .unwrap();
    let r = act(&app, &w.broker, eid, "nda", json!({"nda_version": 0})).await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), vec!["nda_version"]);
    // Confidential details need a part and an NDA text.
    let r = put_confidential(
        &app,
        &w.lab_member,
        w.listing_id,
        None,
        &json!({"nda_text": ""}),
    )
    .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), vec!["nda_text", "description"]);

    // Who may send: not an unverified firm, not a station, not an agency member who is no broker.
    let unverified = app.org("enterprise", "320505", false).await;
    enquire(&app, &unverified.admin_token, w.listing_id)
        .await
        .assert_problem(403, "org_not_verified");
    let station = app.org("station", "110000", true).await;
    enquire(&app, &station.admin_token, w.listing_id)
        .await
        .assert_problem(403, "forbidden");
    let agency_member = app.member(&w.agency, "member").await;
    enquire(&app, &agency_member, w.listing_id)
        .await
        .assert_problem(403, "forbidden");
    enquire(&app, "nope", w.listing_id)
        .await
        .assert_problem(401, "invalid_token");
    // The list names its box.
    app.get("/v1/enquiries", Some(&w.broker))
        .await
        .assert_problem(400, "invalid_query");
    // The new codes are listed.
    let meta = app.get("/v1/meta/errors", None).await;
    for (code, status) in [
        ("enquiry_duplicate", 409),
        ("enquiry_daily_limit", 429),
        ("enquiry_invalid_transition", 409),
        ("nda_not_accepted", 409),
    ] {
        assert!(
            meta.body
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["code"] == code && e["status"] == status),
            "{code}"
        );
    }
}

/// Another organisation's enquiry is 404 on every route; items the sender may not see are 404,
/// items that take no enquiries 409.
#[tokio::test]
async fn another_organisations_enquiry_is_404() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let eid = enquire(&app, &w.broker, w.listing_id).await.body["id"]
        .as_i64()
        .unwrap();
    let s = &w.stranger_member;
    app.get(&format!("/v1/enquiries/{eid}"), Some(s))
        .await
        .assert_problem(404, "not_found");
    for (action, body) in [
        ("accept", json!({})),
        ("decline", json!({"reason": "不合适"})),
        ("close", json!({})),
        ("messages", json!({"body": "你好"})),
        ("nda", json!({"nda_version": 1})),
        ("grant", json!({})),
    ] {
        act(&app, s, eid, action, body)
            .await
            .assert_problem(404, "not_found");
    }
    for b in ["sent", "received"] {
        let r = app.get(&format!("/v1/enquiries?box={b}"), Some(s)).await;
        r.assert_status(200);
        assert_eq!(r.body["items"], json!([]));
    }
    // The broker's agency did not receive it; the lab did not send it.
    let r = app.get("/v1/enquiries?box=received", Some(&w.broker)).await;
    assert_eq!(r.body["items"], json!([]));
    let r = app.get("/v1/enquiries?box=sent", Some(&w.lab_member)).await;
    assert_eq!(r.body["items"], json!([]));
    // The sender may not do the owner's steps.
    act(&app, &w.broker, eid, "accept", json!({}))
        .await
        .assert_problem(403, "forbidden");
    // A draft of another organisation, an unknown listing, a withdrawn one: 404.
    let draft = listing(&app, &w.lab_member, "石膏晶须制备技术草稿", false).await;
    enquire(&app, s, draft)
        .await
        .assert_problem(404, "not_found");
    enquire(&app, s, 999_999)
        .await
        .assert_problem(404, "not_found");
    let gone = listing(&app, &w.lab_member, "磷石膏净化处理技术", true).await;
    app.post(
        &format!("/v1/listings/{gone}/withdraw"),
        Some(&w.lab_member),
        &json!({"reason": "重新评估"}),
    )
    .await
    .assert_status(200);
    enquire(&app, s, gone)
        .await
        .assert_problem(404, "not_found");
    // Confidential details of a listing the caller does not own: 403 when it is public, 404
    // when it is not.
    put_confidential(&app, s, w.listing_id, None, &confidential_body("x", false))
        .await
        .assert_problem(403, "forbidden");
    put_confidential(&app, s, draft, None, &confidential_body("x", false))
        .await
        .assert_problem(404, "not_found");
    app.get(&format!("/v1/listings/{draft}/nda"), None)
        .await
        .assert_problem(404, "not_found");
}

/// A changed NDA text is a new version: accepting a stale version is 409, the current one is
/// recorded; updates need If-Match once the details exist.
#[tokio::test]
async fn the_nda_is_versioned_and_updates_need_if_match() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let r = put_confidential(
        &app,
        &w.lab_member,
        w.listing_id,
        None,
        &confidential_body("第一版保密协议", true),
    )
    .await;
    r.assert_status(200);
    let etag = r.etag();
    // Once it exists: If-Match required, and current.
    put_confidential(
        &app,
        &w.lab_member,
        w.listing_id,
        None,
        &confidential_body("第二版保密协议", true),
    )
    .await
    .assert_problem(428, "precondition_required");
    put_confidential(
        &app,
        &w.lab_member,
        w.listing_id,
        Some("\"7\""),
        &confidential_body("第二版保密协议", true),
    )
    .await
    .assert_problem(412, "precondition_failed");
    let eid = enquire(&app, &w.broker, w.listing_id).await.body["id"]
        .as_i64()
        .unwrap();
    let r = put_confidential(
        &app,
        &w.lab_member,
        w.listing_id,
        Some(&etag),
        &confidential_body("第二版保密协议", true),
    )
    .await;
    r.assert_status(200);
    assert_eq!(r.body["nda"]["nda_version"], 2);
    // The same text again keeps the version.
    let r = put_confidential(
        &app,
        &w.lab_member,
        w.listing_id,
        Some(&r.etag()),
        &confidential_body("第二版保密协议", true),
    )
    .await;
    r.assert_status(200);
    assert_eq!(r.body["nda"]["nda_version"], 2);
    let nda = app
        .get(
            &format!("/v1/listings/{}/nda", w.listing_id),
            Some(&w.broker),
        )
        .await;
    assert_eq!(nda.body["nda_version"], 2);
    assert_eq!(nda.body["text"], "第二版保密协议");
    let r = act(&app, &w.broker, eid, "nda", json!({"nda_version": 1})).await;
    r.assert_problem(409, "nda_version_mismatch");
    assert_eq!(r.body["context"]["current_version"], 2);
    app.get(
        &format!("/v1/listings/{}/confidential", w.listing_id),
        Some(&w.broker),
    )
    .await
    .assert_problem(404, "not_found");
    let r = act(&app, &w.broker, eid, "nda", json!({"nda_version": 2})).await;
    r.assert_status(200);
    assert_eq!(r.body["nda"]["nda_version"], 2);
    assert_eq!(r.body["confidential_access"]["granted_by"], "auto");
    let c = app
        .get(
            &format!("/v1/listings/{}/confidential", w.listing_id),
            Some(&w.broker),
        )
        .await;
    c.assert_status(200);
    assert_eq!(c.body["nda"]["nda_version"], 2);
    // Access was granted without accepting the enquiry: the contact stays hidden.
    app.get(
        &format!("/v1/listings/{}/contact", w.listing_id),
        Some(&w.broker),
    )
    .await
    .assert_problem(404, "not_found");
    // Declining ends the access.
    act(
        &app,
        &w.lab_member,
        eid,
        "decline",
        json!({"reason": "不再合作"}),
    )
    .await
    .assert_status(200);
    app.get(
        &format!("/v1/listings/{}/confidential", w.listing_id),
        Some(&w.broker),
    )
    .await
    .assert_problem(404, "not_found");
    let _ = w.stranger;
}
