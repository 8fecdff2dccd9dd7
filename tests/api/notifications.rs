//! Notifications: the in-app inbox, webhooks (validation, signing, retries, delivery log) and
//! exactly-once arrival of every event across a SIGKILL of the real binary between commit and
//! delivery.
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::{Duration as Days, Utc};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use ttx_tests::fixtures::day;
use ttx_tests::process::ChildServer;
use ttx_tests::TestApp;

/// One POST the receiver got.
#[derive(Clone, Debug)]
struct Received {
    event_id: String,
    kind: String,
    signature: String,
    attempt: String,
    body: Vec<u8>,
    /// What the receiver answered.
    answered: u16,
}

/// A tiny webhook receiver on 127.0.0.1: records every request; answers 503 to the first
/// `fail_first` ones, 204 afterwards.
#[derive(Clone)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    fail_first: Arc<AtomicUsize>,
    url: String,
}

async fn hook(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let h = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let fail = r
        .fail_first
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    let status = if fail {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::NO_CONTENT
    };
    r.got.lock().unwrap().push(Received {
        event_id: h("x-ttx-event-id"),
        kind: h("x-ttx-event"),
        signature: h("x-ttx-signature"),
        attempt: h("x-ttx-attempt"),
        body: body.to_vec(),
        answered: status.as_u16(),
    });
    status
}

async fn receiver(fail_first: usize) -> Receiver {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let r = Receiver {
        got: Arc::default(),
        fail_first: Arc::new(AtomicUsize::new(fail_first)),
        url: format!("http://{addr}/hook"),
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
    fn all(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Event ids answered 2xx, with how often.
    fn accepted(&self) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for r in self.all().into_iter().filter(|r| r.answered < 300) {
            *m.entry(r.event_id).or_default() += 1;
        }
        m
    }

    async fn wait_for(&self, what: &str, pred: impl Fn(&[Received]) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !pred(&self.all()) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; got {:?}",
                self.all()
                    .iter()
                    .map(|r| (&r.kind, &r.event_id, r.answered))
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Checks `X-TTX-Signature: t=<unix>,v1=<hex>` independently of the server's code:
/// HMAC-SHA256 with the secret over `<t>.<body>`, `t` within five minutes.
fn signature_is_valid(secret: &str, header: &str, body: &[u8]) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => v1 = hex::decode(v).ok(),
            _ => {}
        }
    }
    let (Some(t), Some(tag)) = (t, v1) else {
        return false;
    };
    if (Utc::now().timestamp() - t).abs() > 300 {
        return false;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    mac.verify_slice(&tag).is_ok()
}

fn check_signed(r: &Received, secret: &str) {
    assert!(
        signature_is_valid(secret, &r.signature, &r.body),
        "bad signature {} on {}",
        r.signature,
        String::from_utf8_lossy(&r.body)
    );
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["id"], r.event_id.as_str());
    assert_eq!(v["type"], r.kind.as_str());
}

fn need(title: &str) -> Value {
    json!({
        "title": title,
        "problem": format!("{title}：现有工艺在高负荷工况下良率波动大、能耗偏高，关键参数依赖人工经验，无法稳定复现，影响交付。"),
        "key_points": "工艺参数在线监测与建模；关键部件材料选型与寿命验证；控制策略集成。",
        "goals": "良率稳定在98%以上，单位能耗降低15%，完成连续三个月的产线验证。",
        "keywords": ["工艺优化", "在线监测", "节能"],
        "field": "new_energy",
        "budget": {"kind": "range", "min": 100_000_000, "max": 200_000_000},
        "deadline": day(60),
        "publish": true
    })
}

fn challenge(title: &str) -> Value {
    json!({"need": need(title), "terms": {
        "bounty": 300_000_000,
        "proposal_deadline": (Utc::now() + Days::days(30)).to_rfc3339(),
        "max_winners": 1
    }})
}

fn proposal() -> Value {
    json!({
        "approach": "采用仿生流道液冷板与相变材料复合方案，结合模型预测控制。",
        "team": "教授1名，博士生4名",
        "timeline": "12个月",
        "price": 180_000_000
    })
}

#[tokio::test]
async fn inbox_is_per_user_paginated_and_marked_read() {
    let app = TestApp::spawn().await;
    let firm = app.org("enterprise", "320505", false).await;
    let member = app.member(&firm, "member").await;
    let other = app.org("enterprise", "440305", false).await;
    for t in [
        "储能变流器效率提升",
        "退役电池快速分选",
        "光伏组件封装可靠性",
    ] {
        app.post("/v1/demands", Some(&firm.admin_token), &need(t))
            .await
            .assert_status(201);
    }
    // Each member of the firm has its own inbox.
    for token in [&firm.admin_token, &member] {
        let r = app.get("/v1/notifications", Some(token)).await;
        r.assert_status(200);
        assert_eq!(r.body["unread_count"], 3);
        assert_eq!(r.body["items"][0]["kind"], "demand.published");
        assert!(r.body["items"][0]["title_zh"]
            .as_str()
            .unwrap()
            .contains("光伏组件封装可靠性"));
        assert!(r.body["items"][0]["title_en"]
            .as_str()
            .unwrap()
            .contains("was published"));
    }
    let r = app.get("/v1/notifications", Some(&other.admin_token)).await;
    assert_eq!(r.body["items"], json!([]));

    let p1 = app.get("/v1/notifications?limit=2", Some(&member)).await;
    assert_eq!(p1.body["items"].as_array().unwrap().len(), 2);
    let cursor = p1.body["next_cursor"].as_str().unwrap();
    let p2 = app
        .get(
            &format!("/v1/notifications?limit=2&cursor={cursor}"),
            Some(&member),
        )
        .await;
    assert_eq!(p2.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(p2.body["next_cursor"], Value::Null);

    let first = p1.body["items"][0]["id"].as_i64().unwrap();
    app.post(
        &format!("/v1/notifications/{first}/read"),
        Some(&other.admin_token),
        &json!({}),
    )
    .await
    .assert_problem(404, "not_found");
    app.post(
        &format!("/v1/notifications/{first}/read"),
        Some(&member),
        &json!({}),
    )
    .await
    .assert_status(204);
    app.post(
        &format!("/v1/notifications/{first}/read"),
        Some(&member),
        &json!({}),
    )
    .await
    .assert_status(204);
    let r = app
        .get("/v1/notifications?unread=true", Some(&member))
        .await;
    assert_eq!(r.body["unread_count"], 2);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 2);
    let r = app
        .post("/v1/notifications/read-all", Some(&member), &json!({}))
        .await;
    r.assert_status(200);
    assert_eq!(r.body["marked"], 2);
    let r = app.get("/v1/notifications", Some(&member)).await;
    assert_eq!(r.body["unread_count"], 0);
    assert_eq!(r.body["items"][0]["read"], true);
    // The admin's inbox is untouched.
    let r = app.get("/v1/notifications", Some(&firm.admin_token)).await;
    assert_eq!(r.body["unread_count"], 3);
    app.get("/v1/notifications", None)
        .await
        .assert_problem(401, "unauthenticated");
    app.get("/v1/notifications?cursor=zzz", Some(&member))
        .await
        .assert_problem(400, "invalid_cursor");
}

#[tokio::test]
async fn webhook_urls_and_permissions_are_checked() {
    let app = TestApp::spawn().await;
    let firm = app.org("enterprise", "320505", false).await;
    let member = app.member(&firm, "member").await;
    let other = app.org("enterprise", "440305", false).await;
    for (url, code) in [
        ("ftp://hooks.example.com/x", "unsupported_scheme"),
        ("not a url", "invalid_url"),
        ("https://user:pw@hooks.example.com/x", "credentials_in_url"),
        ("http://127.0.0.1:9000/hook", "private_address"),
        ("http://169.254.169.254/latest", "private_address"),
        ("http://localhost/hook", "private_address"),
    ] {
        let r = app
            .post(
                "/v1/webhooks",
                Some(&firm.admin_token),
                &json!({"url": url}),
            )
            .await;
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], "url", "{url}");
        assert_eq!(r.body["errors"][0]["code"], code, "{url}");
    }
    let r = app
        .post("/v1/webhooks", Some(&firm.admin_token), &json!({"url": "https://hooks.example.com/ttx", "events": ["demand.published", "proposal.eaten"]}))
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), vec!["events[1]"]);
    app.post(
        "/v1/webhooks",
        Some(&member),
        &json!({"url": "https://hooks.example.com/ttx"}),
    )
    .await
    .assert_problem(403, "forbidden");
    app.get("/v1/webhooks", Some(&member))
        .await
        .assert_problem(403, "forbidden");

    let r = app
        .post("/v1/webhooks", Some(&firm.admin_token), &json!({"url": "https://hooks.example.com/ttx", "events": ["proposal.submitted"], "description": "ERP 对接"}))
        .await;
    r.assert_status(201);
    let secret = r.body["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_") && secret.len() == 70);
    let id = r.body["webhook"]["id"].as_i64().unwrap();
    let list = app.get("/v1/webhooks", Some(&firm.admin_token)).await;
    assert_eq!(list.body[0]["id"], id);
    assert_eq!(list.body[0]["events"], json!(["proposal.submitted"]));
    assert!(!list.text.contains(secret), "the secret is shown once");
    assert_eq!(
        app.get("/v1/webhooks", Some(&other.admin_token)).await.body,
        json!([])
    );
    app.delete(&format!("/v1/webhooks/{id}"), Some(&other.admin_token))
        .await
        .assert_problem(404, "not_found");
    app.post(
        &format!("/v1/webhooks/{id}/ping"),
        Some(&other.admin_token),
        &json!({}),
    )
    .await
    .assert_problem(404, "not_found");
    app.get(
        &format!("/v1/webhooks/{id}/deliveries"),
        Some(&other.admin_token),
    )
    .await
    .assert_problem(404, "not_found");
    app.delete(&format!("/v1/webhooks/{id}"), Some(&member))
        .await
        .assert_problem(403, "forbidden");
    app.delete(&format!("/v1/webhooks/{id}"), Some(&firm.admin_token))
        .await
        .assert_status(204);
    app.delete(&format!("/v1/webhooks/{id}"), Some(&firm.admin_token))
        .await
        .assert_problem(404, "not_found");
    assert_eq!(
        app.get("/v1/webhooks", Some(&firm.admin_token)).await.body,
        json!([])
    );
}

#[tokio::test]
async fn webhooks_get_signed_events_retried_with_backoff_and_logged() {
    let app = TestApp::spawn_with(|c| {
        c.notify.allow_private_urls = true;
        c.notify.poll_interval_ms = 100;
        c.notify.retry_base_ms = 200;
    })
    .await;
    let firm = app.org("enterprise", "320505", false).await;
    let uni = app.org("university", "110108", false).await;
    // The firm's receiver fails its first two requests.
    let firm_rx = receiver(2).await;
    let uni_rx = receiver(0).await;
    let r = app
        .post(
            "/v1/webhooks",
            Some(&firm.admin_token),
            &json!({"url": firm_rx.url}),
        )
        .await;
    r.assert_status(201);
    let firm_secret = r.body["secret"].as_str().unwrap().to_string();
    let firm_hook = r.body["webhook"]["id"].as_i64().unwrap();
    let r = app
        .post(
            "/v1/webhooks",
            Some(&uni.admin_token),
            &json!({"url": uni_rx.url, "events": ["proposal.accepted", "proposal.declined"]}),
        )
        .await;
    let uni_secret = r.body["secret"].as_str().unwrap().to_string();

    // A test ping, then the events of a challenge.
    let ping = app
        .post(
            &format!("/v1/webhooks/{firm_hook}/ping"),
            Some(&firm.admin_token),
            &json!({}),
        )
        .await;
    ping.assert_status(202);
    let ping_id = ping.body["event_id"].as_str().unwrap().to_string();
    firm_rx
        .wait_for("the ping, after two failed attempts", |_| {
            firm_rx.accepted().contains_key(&ping_id)
        })
        .await;
    let c = app
        .post(
            "/v1/challenges",
            Some(&firm.admin_token),
            &challenge("动力电池快充热管理揭榜"),
        )
        .await;
    c.assert_status(201);
    let cid = c.body["id"].as_i64().unwrap();
    let p = app
        .post(
            &format!("/v1/challenges/{cid}/proposals"),
            Some(&uni.admin_token),
            &proposal(),
        )
        .await;
    p.assert_status(201);
    let pid = p.body["id"].as_i64().unwrap();
    app.post(
        &format!("/v1/proposals/{pid}/shortlist"),
        Some(&firm.admin_token),
        &json!({}),
    )
    .await
    .assert_status(200);
    app.post(
        &format!("/v1/proposals/{pid}/accept"),
        Some(&firm.admin_token),
        &json!({}),
    )
    .await
    .assert_status(200);

    firm_rx
        .wait_for(
            "ping, demand.published and proposal.submitted accepted by the firm",
            |_| firm_rx.accepted().len() == 3,
        )
        .await;
    uni_rx
        .wait_for("proposal.accepted at the university", |g| g.len() == 1)
        .await;

    // The firm: every event signed, its body naming the event; the ping retried with the
    // same event id after 503s, then accepted once.
    let got = firm_rx.all();
    for r in &got {
        check_signed(r, &firm_secret);
    }
    let kinds: BTreeSet<&str> = got.iter().map(|r| r.kind.as_str()).collect();
    assert_eq!(
        kinds,
        BTreeSet::from(["demand.published", "proposal.submitted", "webhook.ping"])
    );
    let pings: Vec<&Received> = got.iter().filter(|r| r.event_id == ping_id).collect();
    assert!(pings.len() >= 3, "{pings:?}");
    assert_eq!(
        pings.iter().map(|r| r.answered).collect::<Vec<_>>()[..3],
        [503, 503, 204]
    );
    assert_eq!(
        pings.iter().map(|r| r.attempt.as_str()).collect::<Vec<_>>()[..3],
        ["1", "2", "3"]
    );
    assert!(firm_rx.accepted().values().all(|n| *n == 1));
    let submitted = got.iter().find(|r| r.kind == "proposal.submitted").unwrap();
    let body: Value = serde_json::from_slice(&submitted.body).unwrap();
    assert_eq!(body["data"]["proposal_id"], pid);
    assert_eq!(body["data"]["challenge_id"], cid);
    assert_eq!(body["org_id"], firm.id);

    // The university subscribed to acceptances only.
    let r = &uni_rx.all()[0];
    check_signed(r, &uni_secret);
    assert_eq!(r.kind, "proposal.accepted");
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["data"]["contract"]["seller_org_id"], uni.id);
    assert_eq!(body["data"]["contract"]["buyer_org_id"], firm.id);
    assert_eq!(body["data"]["contract"]["amount"], 180_000_000);

    // The delivery log: attempts with their answers, newest delivery first.
    let log = app
        .wait_until(
            &format!("/v1/webhooks/{firm_hook}/deliveries"),
            Some(&firm.admin_token),
            "delivered log",
            |r| {
                r.body["items"]
                    .as_array()
                    .is_some_and(|a| a.len() == 3 && a.iter().all(|d| d["status"] == "delivered"))
            },
        )
        .await;
    let ping_log = log.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["event_id"] == ping_id.as_str())
        .unwrap();
    assert_eq!(ping_log["event_type"], "webhook.ping");
    assert_eq!(ping_log["attempts"], 3);
    let codes: Vec<i64> = ping_log["log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status_code"].as_i64().unwrap())
        .collect();
    assert_eq!(codes, vec![503, 503, 204]);
    assert!(ping_log["log"][0]["error"]
        .as_str()
        .unwrap()
        .contains("503"));
}

/// The real binary as a child process, its delivery worker on or off.
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
        ],
    )
    .await
}

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> (u16, Value) {
        let mut rb = self
            .http
            .request(method, format!("{}{path}", self.base))
            .json(body);
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        let r = rb.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }
    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Value {
        let (s, v) = self.call(reqwest::Method::POST, path, token, &body).await;
        assert!((200..300).contains(&s), "POST {path}: {s} {v}");
        v
    }
    async fn get(&self, path: &str, token: &str) -> Value {
        let (s, v) = self
            .call(reqwest::Method::GET, path, Some(token), &Value::Null)
            .await;
        assert_eq!(s, 200, "GET {path}: {v}");
        v
    }
    async fn signup(&self, kind: &str, region: &str) -> (i64, String) {
        let n = ttx_tests::fixtures::next();
        let v = self
            .post(
                "/v1/signup",
                None,
                json!({
                    "org": {"kind": kind, "name": format!("崩溃测试机构{n}"),
                            "credit_code": ttx_tests::fixtures::credit_code(region, n), "region_code": region},
                    "admin": {"email": format!("crash-notify{n}@org.test"), "display_name": "管理员", "password": "correct-horse-42"}
                }),
            )
            .await;
        (
            v["org"]["id"].as_i64().unwrap(),
            v["token"].as_str().unwrap().to_string(),
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn events_committed_before_a_crash_arrive_exactly_once_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (db_url, pg) = ttx_tests::fresh_database(dir.path()).await;
    let _drop = ttx_testdb::DropDatabase(pg);
    let rx = receiver(0).await;

    // First life: the delivery worker is off, so events are committed but not sent.
    let mut server = start(dir.path(), &db_url, false).await;
    let api = Client {
        http: reqwest::Client::new(),
        base: server.base.clone(),
    };
    let (firm, ft) = api.signup("enterprise", "320505").await;
    let (uni, ut) = api.signup("university", "110108").await;
    let fh = api
        .post("/v1/webhooks", Some(&ft), json!({"url": rx.url}))
        .await;
    let uh = api
        .post("/v1/webhooks", Some(&ut), json!({"url": rx.url}))
        .await;
    let secrets = BTreeMap::from([
        (firm, fh["secret"].as_str().unwrap().to_string()),
        (uni, uh["secret"].as_str().unwrap().to_string()),
    ]);
    let hooks = [
        (fh["webhook"]["id"].as_i64().unwrap(), ft.clone()),
        (uh["webhook"]["id"].as_i64().unwrap(), ut.clone()),
    ];
    let c = api
        .post(
            "/v1/challenges",
            Some(&ft),
            challenge("储能变流器碳化硅模块揭榜"),
        )
        .await;
    let cid = c["id"].as_i64().unwrap();
    let plain = api
        .post("/v1/demands", Some(&ft), need("退役动力电池快速检测分选"))
        .await;
    let p = api
        .post(
            &format!("/v1/challenges/{cid}/proposals"),
            Some(&ut),
            proposal(),
        )
        .await;
    let pid = p["id"].as_i64().unwrap();
    api.post(
        &format!("/v1/proposals/{pid}/shortlist"),
        Some(&ft),
        json!({}),
    )
    .await;
    api.post(&format!("/v1/proposals/{pid}/accept"), Some(&ft), json!({}))
        .await;
    api.post(
        &format!("/v1/demands/{}/close", plain["id"]),
        Some(&ft),
        json!({}),
    )
    .await;
    api.post(
        &format!("/v1/webhooks/{}/ping", hooks[0].0),
        Some(&ft),
        json!({}),
    )
    .await;

    // What was committed: every delivery, pending.
    let mut expected: BTreeMap<String, String> = BTreeMap::new();
    for (hook, token) in &hooks {
        let log = api
            .get(&format!("/v1/webhooks/{hook}/deliveries?limit=100"), token)
            .await;
        for d in log["items"].as_array().unwrap() {
            assert_eq!(d["status"], "pending");
            expected.insert(
                d["event_id"].as_str().unwrap().to_string(),
                d["event_type"].as_str().unwrap().to_string(),
            );
        }
    }
    let kinds: BTreeSet<&str> = expected.values().map(String::as_str).collect();
    assert_eq!(
        kinds,
        BTreeSet::from([
            "demand.closed",
            "demand.published",
            "proposal.accepted",
            "proposal.shortlisted",
            "proposal.submitted",
            "webhook.ping"
        ])
    );
    assert_eq!(
        expected.len(),
        7,
        "two publications, submitted, shortlisted, accepted, closed, ping"
    );
    assert!(rx.all().is_empty(), "nothing was sent yet");

    // SIGKILL between commit and delivery.
    server.kill();

    // Second life, with the worker: every event arrives, once.
    let mut server = start(dir.path(), &db_url, true).await;
    rx.wait_for("every committed event", |_| {
        rx.accepted().len() == expected.len()
    })
    .await;
    let api = Client {
        http: reqwest::Client::new(),
        base: server.base.clone(),
    };
    for (hook, token) in &hooks {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let log = api
                .get(&format!("/v1/webhooks/{hook}/deliveries?limit=100"), token)
                .await;
            if log["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|d| d["status"] == "delivered")
            {
                break;
            }
            assert!(Instant::now() < deadline, "deliveries not recorded: {log}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    // Give a duplicate every chance to show up before counting.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.kill();

    let got = rx.all();
    let mut raw: BTreeMap<String, usize> = BTreeMap::new();
    for r in &got {
        *raw.entry(r.event_id.clone()).or_default() += 1;
        let v: Value = serde_json::from_slice(&r.body).unwrap();
        let org = v["org_id"].as_i64().unwrap();
        check_signed(r, &secrets[&org]);
        assert_eq!(
            expected.get(&r.event_id),
            Some(&r.kind),
            "unexpected event {}",
            r.event_id
        );
    }
    let ids: BTreeSet<&String> = raw.keys().collect();
    assert_eq!(
        ids,
        expected.keys().collect::<BTreeSet<_>>(),
        "every event arrived"
    );
    assert!(
        raw.values().all(|n| *n == 1),
        "each exactly once, no duplicate sent: {raw:?}"
    );
    assert_eq!(got.len(), expected.len());
}
