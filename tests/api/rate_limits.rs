//! Per-token and per-address rate limits: 429 `rate_limited` with `Retry-After`, each key counted
//! on its own, probes exempt, and a new window on the application's clock.
use reqwest::Method;
use ttx_tests::{Resp, TestApp};

fn retry_after(r: &Resp) -> u64 {
    r.header("retry-after")
        .expect("a 429 carries Retry-After")
        .parse()
        .expect("Retry-After in seconds")
}

async fn get_from(app: &TestApp, path: &str, token: Option<&str>, addr: &str) -> Resp {
    app.send(Method::GET, path, token, None, &[("x-forwarded-for", addr)])
        .await
}

#[tokio::test]
async fn per_token_limit_then_a_new_window() {
    let app = TestApp::spawn_with(|c| {
        c.server.rate_limit.per_token_per_minute = 3;
        c.server.rate_limit.per_address_per_minute = 1000;
    })
    .await;
    let org = app.org("enterprise", "110108", false).await;
    let other = app.member(&org, "member").await;
    let mine = app
        .post(
            "/v1/tokens",
            None,
            &serde_json::json!({"email": org.admin_email, "password": "correct-horse-42"}),
        )
        .await;
    mine.assert_status(201);
    let mine = mine.body["token"].as_str().unwrap().to_string();

    for left in ["2", "1", "0"] {
        let r = app.get("/v1/me", Some(&mine)).await;
        r.assert_status(200);
        assert_eq!(r.header("ratelimit-limit"), Some("3"));
        assert_eq!(r.header("ratelimit-remaining"), Some(left));
    }
    let r = app.get("/v1/me", Some(&mine)).await;
    r.assert_problem(429, "rate_limited");
    let secs = retry_after(&r);
    assert!((1..=60).contains(&secs), "Retry-After {secs}");
    assert_eq!(r.header("ratelimit-remaining"), Some("0"));
    // Writes are refused too, before any work.
    app.post("/v1/listings", Some(&mine), &serde_json::json!({}))
        .await
        .assert_problem(429, "rate_limited");

    // Another token, anonymous requests and the probes are not affected.
    app.get("/v1/me", Some(&other)).await.assert_status(200);
    app.get("/v1/meta/vocabularies", None)
        .await
        .assert_status(200);
    for _ in 0..5 {
        app.get("/healthz", Some(&mine)).await.assert_status(200);
        assert_ne!(app.get("/readyz", Some(&mine)).await.status.as_u16(), 429);
    }
    let m = app.get("/metrics", Some(&mine)).await;
    m.assert_status(200);
    assert!(
        m.text.contains("ttx_rate_limited_total{key=\"token\"}"),
        "refusals are counted: {}",
        m.text
    );
    assert!(m.text.contains("# HELP ttx_rate_limited_total"));

    // After the window, the token passes again.
    app.clock
        .advance(chrono::Duration::seconds(secs as i64 + 1));
    let r = app.get("/v1/me", Some(&mine)).await;
    r.assert_status(200);
    assert_eq!(r.header("ratelimit-remaining"), Some("2"));
}

#[tokio::test]
async fn per_address_limit_for_anonymous_requests() {
    let app = TestApp::spawn_with(|c| {
        c.server.rate_limit.per_token_per_minute = 1000;
        c.server.rate_limit.per_address_per_minute = 2;
        c.server.trust_forwarded_for = true;
    })
    .await;
    let a = "198.51.100.1";
    for _ in 0..2 {
        get_from(&app, "/v1/meta/vocabularies", None, a)
            .await
            .assert_status(200);
    }
    let r = get_from(&app, "/v1/listings", None, a).await;
    r.assert_problem(429, "rate_limited");
    let secs = retry_after(&r);
    assert!((1..=60).contains(&secs));

    // Another address has its own window; the limited address with a token is counted by token.
    get_from(&app, "/v1/meta/vocabularies", None, "198.51.100.2")
        .await
        .assert_status(200);
    let org = app.org("enterprise", "110108", false).await; // from the harness's own address
    get_from(&app, "/v1/me", Some(&org.admin_token), a)
        .await
        .assert_status(200);
    get_from(&app, "/healthz", None, a).await.assert_status(200);

    app.clock
        .advance(chrono::Duration::seconds(secs as i64 + 1));
    get_from(&app, "/v1/meta/vocabularies", None, a)
        .await
        .assert_status(200);
}

#[tokio::test]
async fn guessed_tokens_are_limited_by_address() {
    // The old key of the forwarded-for setting still applies (to every limit).
    let app = TestApp::spawn_with(|c| {
        c.server.rate_limit.per_token_per_minute = 1000;
        c.server.rate_limit.per_address_per_minute = 2;
        c.contracts.trust_forwarded_for = true;
    })
    .await;
    let a = "203.0.113.7";
    for i in 0..2 {
        get_from(&app, "/v1/me", Some(&format!("guess-{i}")), a)
            .await
            .assert_problem(401, "invalid_token");
    }
    get_from(&app, "/v1/me", Some("guess-3"), a)
        .await
        .assert_problem(429, "rate_limited");
    let org = app.org("enterprise", "110108", false).await;
    get_from(&app, "/v1/me", Some(&org.admin_token), "203.0.113.8")
        .await
        .assert_status(200);
}

#[tokio::test]
async fn limits_off_and_listed_code() {
    let app = TestApp::spawn_with(|c| {
        c.server.rate_limit.per_token_per_minute = 0;
        c.server.rate_limit.per_address_per_minute = 0;
    })
    .await;
    for _ in 0..20 {
        let r = app.get("/v1/meta/errors", None).await;
        r.assert_status(200);
        assert!(
            r.header("ratelimit-limit").is_none(),
            "no limit, no headers"
        );
    }
    let codes = app.get("/v1/meta/errors", None).await.body;
    assert!(
        codes
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["code"] == "rate_limited" && c["status"] == 429),
        "{codes}"
    );
}
