//! `Idempotency-Key` after failures: a client that disconnects, a handler that panics or times
//! out, a process that dies holding a key. A retry with the same key either replays the committed
//! answer or runs once; it is never stuck on 409 `idempotency_in_progress`.
use axum::http::StatusCode;
use axum::routing::post;
use axum::Json;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use ttx_server::AppState;
use ttx_tests::{Resp, TestApp};
use ttx_web::idempotency::entity as keys;

/// Calls started and finished by the test routes.
#[derive(Default)]
struct Calls {
    started: AtomicUsize,
    finished: AtomicUsize,
}

/// `/v1/_test/slow` takes 600 ms; `/v1/_test/panic-once` panics on its first call;
/// `/v1/_test/stall-once` stalls 10 s on its first call; `/v1/_test/quick` answers at once.
/// Each answers 201 `{"call": n}` with the number of its call.
fn routes(calls: Arc<Calls>) -> axum::Router<AppState> {
    let handler = move |mode: &'static str| {
        let calls = calls.clone();
        move || {
            let calls = calls.clone();
            async move {
                let n = calls.started.fetch_add(1, SeqCst) + 1;
                match mode {
                    "slow" => tokio::time::sleep(Duration::from_millis(600)).await,
                    "panic" if n == 1 => panic!("test handler panics"),
                    "stall" if n == 1 => tokio::time::sleep(Duration::from_secs(10)).await,
                    _ => {}
                }
                calls.finished.fetch_add(1, SeqCst);
                (StatusCode::CREATED, Json(json!({"call": n})))
            }
        }
    };
    axum::Router::new()
        .route("/v1/_test/slow", post(handler("slow")))
        .route("/v1/_test/panic-once", post(handler("panic")))
        .route("/v1/_test/stall-once", post(handler("stall")))
        .route("/v1/_test/quick", post(handler("quick")))
}

async fn spawn(timeout_secs: u64) -> (TestApp, Arc<Calls>) {
    let calls = Arc::new(Calls::default());
    let app = TestApp::spawn_with_routes(
        |c| c.server.request_timeout_secs = timeout_secs,
        Some(routes(calls.clone())),
    )
    .await;
    (app, calls)
}

async fn keyed(app: &TestApp, path: &str, key: &str) -> Resp {
    app.send(
        reqwest::Method::POST,
        path,
        None,
        Some(&json!({})),
        &[("idempotency-key", key)],
    )
    .await
}

/// Retries while the answer is 409 in progress (as a client would, for up to 10 s).
async fn retry(app: &TestApp, path: &str, key: &str) -> Resp {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let r = keyed(app, path, key).await;
        if !(r.status.as_u16() == 409 && r.body["code"] == "idempotency_in_progress")
            || std::time::Instant::now() > deadline
        {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_retry_after_the_client_disconnected_replays_the_answer() {
    let (app, calls) = spawn(30).await;
    for round in 0..3 {
        let key = format!("gone-{round}");
        let body = "{}";
        let mut sock = tokio::net::TcpStream::connect(app.addr).await.unwrap();
        sock.write_all(
            format!(
                "POST /v1/_test/slow HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n\
                 Idempotency-Key: {key}\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
        // The handler has started; the client goes away before the answer.
        while calls.started.load(SeqCst) <= round {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        drop(sock);

        let r = retry(&app, "/v1/_test/slow", &key).await;
        r.assert_status(201);
        assert_eq!(r.header("idempotent-replayed"), Some("true"), "{}", r.text);
        assert_eq!(r.body["call"], round as u64 + 1, "the first call's answer");
        assert_eq!(calls.started.load(SeqCst), round + 1, "ran once");
        assert_eq!(calls.finished.load(SeqCst), round + 1, "ran to its end");
    }
}

#[tokio::test]
async fn a_retry_after_a_panic_runs_again() {
    let (app, calls) = spawn(30).await;
    keyed(&app, "/v1/_test/panic-once", "p")
        .await
        .assert_problem(500, "internal");
    let r = retry(&app, "/v1/_test/panic-once", "p").await;
    r.assert_status(201);
    assert_eq!(r.body["call"], 2);
    assert_eq!(r.header("idempotent-replayed"), Some("false"));
    // And now it replays.
    let again = keyed(&app, "/v1/_test/panic-once", "p").await;
    again.assert_status(201);
    assert_eq!(again.body["call"], 2);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(calls.started.load(SeqCst), 2);
}

#[tokio::test]
async fn a_retry_after_a_timeout_runs_again() {
    let (app, calls) = spawn(1).await;
    keyed(&app, "/v1/_test/stall-once", "t")
        .await
        .assert_problem(503, "timeout");
    let r = keyed(&app, "/v1/_test/stall-once", "t").await;
    r.assert_status(201);
    assert_eq!(r.body["call"], 2);
    assert_eq!(
        calls.finished.load(SeqCst),
        1,
        "the stalled call never finished"
    );
}

async fn set_reservation(app: &TestApp, key: &str, age: chrono::Duration) {
    // What a process that died while running the request leaves: a reservation without a
    // stored response.
    let res = keys::Entity::update_many()
        .col_expr(
            keys::Column::StatusCode,
            sea_orm::sea_query::Expr::value(Option::<i32>::None),
        )
        .col_expr(
            keys::Column::ResponseBody,
            sea_orm::sea_query::Expr::value(Option::<Vec<u8>>::None),
        )
        .col_expr(
            keys::Column::CreatedAt,
            sea_orm::sea_query::Expr::value(chrono::Utc::now() - age),
        )
        .filter(keys::Column::Key.eq(key))
        .exec(&app.db)
        .await
        .unwrap();
    assert_eq!(res.rows_affected, 1);
}

#[tokio::test]
async fn a_key_left_by_a_dead_process_lapses_with_its_lease() {
    let (app, calls) = spawn(30).await;
    keyed(&app, "/v1/_test/quick", "crash")
        .await
        .assert_status(201);
    // A reservation still within its lease is in progress…
    set_reservation(&app, "crash", chrono::Duration::seconds(5)).await;
    let r = keyed(&app, "/v1/_test/quick", "crash").await;
    r.assert_problem(409, "idempotency_in_progress");
    assert_eq!(r.header("retry-after"), Some("1"));
    // …another request with the key is still refused…
    app.send(
        reqwest::Method::POST,
        "/v1/_test/quick",
        None,
        Some(&json!({"other": 1})),
        &[("idempotency-key", "crash")],
    )
    .await
    .assert_problem(422, "idempotency_key_reused");
    // …and once the lease (request timeout + 30 s) has lapsed, a retry takes the key over once.
    set_reservation(&app, "crash", chrono::Duration::minutes(10)).await;
    let (a, b) = tokio::join!(
        keyed(&app, "/v1/_test/quick", "crash"),
        keyed(&app, "/v1/_test/quick", "crash")
    );
    let ran: Vec<&Resp> = [&a, &b]
        .into_iter()
        .filter(|r| r.header("idempotent-replayed") == Some("false"))
        .collect();
    assert_eq!(ran.len(), 1, "one retry runs: {} / {}", a.text, b.text);
    assert_eq!(ran[0].body["call"], 2);
    for r in [&a, &b] {
        assert!(
            r.status.as_u16() == 201 || r.body["code"] == "idempotency_in_progress",
            "{}",
            r.text
        );
    }
    let r = keyed(&app, "/v1/_test/quick", "crash").await;
    assert_eq!(r.header("idempotent-replayed"), Some("true"));
    assert_eq!(r.body["call"], 2);
    assert_eq!(calls.started.load(SeqCst), 2);
}

#[tokio::test]
async fn a_listing_created_by_a_disconnected_request_is_replayed_not_duplicated() {
    let app = TestApp::spawn().await;
    let uni = app.org("university", "320102", true).await;
    let body = json!({
        "title": "一种锂电池隔膜涂层制备方法",
        "summary": "提高隔膜耐热性能和电解液浸润性的涂层制备方法",
        "description": "涂层浆料配方与涂布工艺，已完成中试验证。",
        "field": "new_energy",
        "trl": 5,
        "transfer_modes": ["transfer"],
        "price": {"kind": "negotiable"}
    });
    let text = body.to_string();
    for round in 0..5 {
        let key = format!("listing-{round}");
        let mut sock = tokio::net::TcpStream::connect(app.addr).await.unwrap();
        sock.write_all(
            format!(
                "POST /v1/listings HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n\
                 Authorization: Bearer {}\r\nIdempotency-Key: {key}\r\nContent-Length: {}\r\n\r\n{text}",
                uni.admin_token,
                text.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
        sock.flush().await.unwrap();
        drop(sock);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let r = loop {
            let r = app
                .send(
                    reqwest::Method::POST,
                    "/v1/listings",
                    Some(&uni.admin_token),
                    Some(&body),
                    &[("idempotency-key", &key)],
                )
                .await;
            if r.status.as_u16() != 409 || std::time::Instant::now() > deadline {
                break r;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        r.assert_status(201);
    }
    use sea_orm::PaginatorTrait;
    let n = ttx_listings::entity::listing::Entity::find()
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(n, 5, "one listing per key");
}
