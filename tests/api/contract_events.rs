//! Contract events (issue 12): submitted, accepted, returned, registered, refused, amendment
//! and termination decided, review deadline near. Each reaches the seller organisation's
//! members (inbox) and webhooks, and the registering station's, exactly once — including when
//! the server is killed between the commit and the delivery.
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use ttx_tests::process::{operator_token, signup, ChildServer};
use ttx_tests::{Org, TestApp};

/// A webhook receiver on 127.0.0.1 recording `(event id, kind, org id)` of every POST.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<(String, String, i64)>>>,
    url: String,
}

async fn hook(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let id = headers
        .get("x-ttx-event-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    r.got.lock().unwrap().push((
        id,
        v["type"].as_str().unwrap_or("").to_string(),
        v["org_id"].as_i64().unwrap_or(0),
    ));
    StatusCode::NO_CONTENT
}

async fn receiver() -> Receiver {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let r = Receiver {
        url: format!("http://{}/hook", listener.local_addr().unwrap()),
        ..Default::default()
    };
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(hook))
        .with_state(r.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    r
}

impl Receiver {
    fn all(&self) -> Vec<(String, String, i64)> {
        self.got.lock().unwrap().clone()
    }
    async fn wait_for(&self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.all().len() < n {
            assert!(
                Instant::now() < deadline,
                "waited for {n} webhook posts, got {:?}",
                self.all()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    /// Kinds received by `org`, counted.
    fn kinds_of(&self, org: i64) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for (_, k, o) in self.all() {
            if o == org {
                *m.entry(k).or_default() += 1;
            }
        }
        m
    }
}

fn body(title: &str, buyer_org: i64, amount: i64) -> Value {
    json!({
        "title": title,
        "sub_kind": "entrusted_development",
        "buyer": {"org_id": buyer_org},
        "contract_amount": amount,
        "non_technical_costs": 0,
        "signed_on": "2026-03-01",
        "term_start": "2026-03-01",
        "term_end": "2027-02-28",
        "tech_field": "new_energy",
        "documents": [{"name": "合同.pdf", "sha256": format!("{:064x}", amount), "size_bytes": 1000}]
    })
}

async fn act(app: &TestApp, token: &str, cid: i64, action: &str, b: Value) -> Value {
    let r = app
        .post(&format!("/v1/contracts/{cid}/{action}"), Some(token), &b)
        .await;
    assert!(r.status.is_success(), "{action}: {} {}", r.status, r.text);
    r.body
}

/// Inbox kinds of a user, counted.
async fn inbox(app: &TestApp, token: &str) -> BTreeMap<String, usize> {
    let r = app.get("/v1/notifications?limit=100", Some(token)).await;
    r.assert_status(200);
    let mut m = BTreeMap::new();
    for n in r.body["items"].as_array().unwrap() {
        let k = n["kind"].as_str().unwrap().to_string();
        if k.starts_with("contract.") {
            *m.entry(k).or_default() += 1;
        }
    }
    m
}

struct World {
    station: Org,
    reviewer: String,
    seller: Org,
    seller_member: String,
    buyer: Org,
}

async fn world(app: &TestApp, rx: &Receiver) -> World {
    let station = app.org("station", "110000", true).await;
    let reviewer = app.member(&station, "station_reviewer").await;
    let seller = app.org("university", "110108", false).await;
    let seller_member = app.member(&seller, "member").await;
    let buyer = app.org("enterprise", "320505", false).await;
    for o in [&station, &seller, &buyer] {
        app.post(
            "/v1/webhooks",
            Some(&o.admin_token),
            &json!({"url": rx.url}),
        )
        .await
        .assert_status(201);
    }
    World {
        station,
        reviewer,
        seller,
        seller_member,
        buyer,
    }
}

fn counts(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(k, n)| (k.to_string(), *n)).collect()
}

#[tokio::test]
async fn every_contract_event_reaches_the_seller_and_the_station_once() {
    let rx = receiver().await;
    let app = TestApp::spawn_with(|c| {
        c.notify.allow_private_urls = true;
        c.notify.poll_interval_ms = 50;
        // The reminder is driven by hand below.
        c.contracts.reminder_interval_secs = 0;
        c.contracts.review_deadline_days = 3;
        c.contracts.review_reminder_days = 5;
    })
    .await;
    let w = world(&app, &rx).await;
    let (s, r) = (&w.seller_member, &w.reviewer);

    // One contract through every step: returned once, registered, amended, termination rejected.
    let c1 = app
        .post(
            "/v1/contracts",
            Some(s),
            &body("钠离子电池正极技术开发", w.buyer.id, 50_000_000),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    act(&app, s, c1, "submit", json!({})).await;
    act(&app, r, c1, "accept", json!({})).await;
    // The review is due in 3 days, within the 5-day reminder window: one reminder per round.
    assert_eq!(
        ttx_contracts::service::remind::remind_due(&app.db, 5)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        ttx_contracts::service::remind::remind_due(&app.db, 5)
            .await
            .unwrap(),
        0,
        "a reminder goes once per round"
    );
    act(
        &app,
        r,
        c1,
        "return",
        json!({"reasons": ["缺少技术开发计划附件"]}),
    )
    .await;
    act(&app, s, c1, "submit", json!({})).await;
    act(&app, r, c1, "accept", json!({})).await;
    let reg = act(&app, r, c1, "register", json!({})).await;
    let number = reg["registration"]["number"].as_str().unwrap().to_string();
    let a = act(
        &app,
        s,
        c1,
        "amendments",
        json!({"reason": "增加二期内容", "contract_amount": 60_000_000}),
    )
    .await;
    act(
        &app,
        r,
        c1,
        &format!("amendments/{}/approve", a["id"]),
        json!({}),
    )
    .await;
    let t = act(&app, s, c1, "terminate", json!({"reason": "项目调整"})).await;
    act(
        &app,
        r,
        c1,
        &format!("amendments/{}/reject", t["id"]),
        json!({"note": "缺少双方解除协议"}),
    )
    .await;
    // A second one is refused.
    let c2 = app
        .post(
            "/v1/contracts",
            Some(s),
            &body("某设备采购", w.buyer.id, 7_000_000),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    act(&app, s, c2, "submit", json!({})).await;
    act(&app, r, c2, "accept", json!({})).await;
    act(
        &app,
        r,
        c2,
        "refuse",
        json!({"ground": "not_technology_contract", "text": "实为设备买卖"}),
    )
    .await;

    let expected = counts(&[
        ("contract.submitted", 3),
        ("contract.accepted", 3),
        ("contract.review_due_soon", 1),
        ("contract.returned", 1),
        ("contract.registered", 1),
        ("contract.amendment_decided", 1),
        ("contract.termination_decided", 1),
        ("contract.refused", 1),
    ]);
    let total: usize = expected.values().sum();
    // Webhooks: the seller and the station each get every event, the buyer none.
    rx.wait_for(2 * total).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(rx.kinds_of(w.seller.id), expected, "seller's webhook");
    assert_eq!(rx.kinds_of(w.station.id), expected, "station's webhook");
    assert!(rx.kinds_of(w.buyer.id).is_empty(), "the buyer is not told");
    let mut ids: Vec<String> = rx.all().into_iter().map(|(id, _, _)| id).collect();
    ids.sort();
    let n = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), n, "no event delivered twice");
    assert_eq!(n, 2 * total);

    // Inbox: every member of the seller organisation and of the station, once per event.
    assert_eq!(inbox(&app, s).await, expected, "seller member's inbox");
    assert_eq!(inbox(&app, &w.seller.admin_token).await, expected);
    assert_eq!(inbox(&app, r).await, expected, "reviewer's inbox");
    // What the seller reads: the reasons, the number, the ground.
    let items = app.get("/v1/notifications?limit=100", Some(s)).await.body["items"]
        .as_array()
        .unwrap()
        .clone();
    let of = |k: &str| items.iter().find(|n| n["kind"] == k).unwrap().clone();
    assert_eq!(
        of("contract.returned")["data"]["reasons"][0],
        "缺少技术开发计划附件"
    );
    assert_eq!(
        of("contract.registered")["data"]["registration_number"],
        number
    );
    assert!(of("contract.registered")["title_zh"]
        .as_str()
        .unwrap()
        .contains(&number));
    assert_eq!(
        of("contract.refused")["data"]["refusal_ground"],
        "not_technology_contract"
    );
    assert_eq!(of("contract.refused")["data"]["contract_id"], c2);
    assert_eq!(
        of("contract.termination_decided")["data"]["approved"],
        false
    );
    assert_eq!(of("contract.amendment_decided")["data"]["approved"], true);
}

// ---- the real binary killed between commit and delivery ----

/// The real binary, its notification worker on or off (a committed event waits for it).
async fn start(dir: &std::path::Path, db_url: &str, worker: bool) -> ChildServer {
    let worker = worker.to_string();
    ChildServer::start(
        crate::TTX_BIN,
        dir,
        db_url,
        &[
            ("TTX_NOTIFY__WORKER_ENABLED", worker.as_str()),
            ("TTX_NOTIFY__ALLOW_PRIVATE_URLS", "true"),
            ("TTX_NOTIFY__POLL_INTERVAL_MS", "100"),
            ("TTX_CONTRACTS__REMINDER_INTERVAL_SECS", "0"),
        ],
    )
    .await
}

async fn call(base: &str, m: reqwest::Method, path: &str, token: Option<&str>, b: Value) -> Value {
    let mut rb = reqwest::Client::new()
        .request(m.clone(), format!("{base}{path}"))
        .json(&b);
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    let r = rb.send().await.unwrap();
    let s = r.status();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    assert!(s.is_success(), "{m} {path}: {s} {v}");
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn contract_events_committed_before_a_crash_arrive_once_after_restart() {
    use reqwest::Method;
    let dir = tempfile::tempdir().unwrap();
    let (db_url, pg) = ttx_tests::fresh_database(dir.path()).await;
    let _drop = ttx_testdb::DropDatabase(pg);
    let rx = receiver().await;

    // First life: the delivery worker is off; the events are committed, not sent.
    let server = start(dir.path(), &db_url, false).await;
    let b = server.base.clone();
    let (station, st) = signup(&b, "station", "110000").await;
    let (seller, sel) = signup(&b, "university", "110108").await;
    let (buyer, _) = signup(&b, "enterprise", "320505").await;
    // Verify the station with an operator made on the same database.
    {
        let op = operator_token(&db_url).await;
        call(
            &b,
            Method::POST,
            &format!("/v1/orgs/{station}/verify"),
            Some(&op),
            json!({"jurisdiction": ["110000"]}),
        )
        .await;
    }
    for t in [&st, &sel] {
        call(
            &b,
            Method::POST,
            "/v1/webhooks",
            Some(t),
            json!({"url": rx.url}),
        )
        .await;
    }
    let c = call(
        &b,
        Method::POST,
        "/v1/contracts",
        Some(&sel),
        body("固态电解质技术转让", buyer, 30_000_000),
    )
    .await;
    let cid = c["id"].as_i64().unwrap();
    for (t, a) in [(&sel, "submit"), (&st, "accept"), (&st, "register")] {
        call(
            &b,
            Method::POST,
            &format!("/v1/contracts/{cid}/{a}"),
            Some(t),
            json!({}),
        )
        .await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(rx.all().is_empty(), "nothing sent while the worker is off");
    // SIGKILL between commit and delivery.
    drop(server);

    // Second life with the worker: each of the 3 events arrives once at each of the 2 orgs.
    let server = start(dir.path(), &db_url, true).await;
    rx.wait_for(6).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    drop(server);
    let expected = counts(&[
        ("contract.accepted", 1),
        ("contract.registered", 1),
        ("contract.submitted", 1),
    ]);
    assert_eq!(rx.kinds_of(seller), expected);
    assert_eq!(rx.kinds_of(station), expected);
    let mut ids: Vec<String> = rx.all().into_iter().map(|(id, _, _)| id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 6, "each event exactly once: {:?}", rx.all());
}
