//! HTTP details: 414 and 413 as problem+json (the connection closed after a 413), security headers
//! on HTML pages, client request ids checked, strong If-Match, no outside call from `/docs`.
use reqwest::Method;
use serde_json::json;
use ttx_tests::TestApp;

#[tokio::test]
async fn uri_too_long_is_a_problem() {
    let app = TestApp::spawn().await;
    let r = app
        .get(&format!("/v1/listings?q={}", "a".repeat(9000)), None)
        .await;
    r.assert_problem(414, "uri_too_long");
}

#[tokio::test]
async fn payload_too_large_closes_the_connection() {
    let app = TestApp::spawn().await;
    let big = json!({"org": {"name": "x".repeat(1_100_000)}, "admin": {}});
    let r = app.post("/v1/signup", None, &big).await;
    r.assert_problem(413, "payload_too_large");
    assert_eq!(r.header("connection"), Some("close"), "{:?}", r.headers);
    // a normal answer keeps the connection
    let r = app.get("/healthz", None).await;
    assert_ne!(r.header("connection"), Some("close"));
}

#[tokio::test]
async fn html_pages_send_security_headers_and_docs_call_nobody() {
    let app = TestApp::spawn().await;
    let r = app.get("/docs/", None).await;
    r.assert_status(200);
    assert!(r
        .header("content-type")
        .unwrap_or("")
        .starts_with("text/html"));
    let csp = r.header("content-security-policy").unwrap_or("");
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
    // Swagger UI's online validator (validator.swagger.io) is off
    let r = app.get("/docs/swagger-initializer.js", None).await;
    r.assert_status(200);
    let compact: String = r.text.chars().filter(|c| !c.is_whitespace()).collect();
    assert!(compact.contains("\"validatorUrl\":\"none\""), "{}", r.text);
    // JSON answers are not HTML pages
    let r = app.get("/healthz", None).await;
    assert!(r.header("content-security-policy").is_none());
}

#[tokio::test]
async fn client_request_ids_are_checked() {
    let app = TestApp::spawn().await;
    let send = |id: String| {
        let app = &app;
        async move {
            app.send(
                Method::GET,
                "/healthz",
                None,
                None,
                &[("x-request-id", &id)],
            )
            .await
        }
    };
    for good in ["abc-123", "trace.42_x", &"a".repeat(64)] {
        let r = send(good.to_string()).await;
        assert_eq!(r.header("x-request-id"), Some(good));
    }
    for bad in [
        "a".repeat(65),
        "bad id".into(),
        "<script>".into(),
        "ünï".into(),
    ] {
        let r = send(bad.clone()).await;
        let got = r.header("x-request-id").unwrap_or("").to_string();
        assert!(!got.is_empty(), "a fresh id for {bad:?}");
        assert_ne!(got, bad);
        assert!(got.len() <= 64, "{got}");
    }
}

#[tokio::test]
async fn if_match_uses_strong_comparison() {
    let app = TestApp::spawn().await;
    let uni = app.org("university", "110108", true).await;
    let r = app
        .get(&format!("/v1/orgs/{}", uni.id), Some(&uni.admin_token))
        .await;
    r.assert_status(200);
    let etag = r.etag();
    let path = format!("/v1/orgs/{}", uni.id);
    let body = json!({"description": "本校技术转移中心"});
    let weak = format!("W/{etag}");
    app.patch(&path, Some(&uni.admin_token), &weak, &body)
        .await
        .assert_problem(412, "precondition_failed");
    app.patch(&path, Some(&uni.admin_token), &etag, &body)
        .await
        .assert_status(200);
}
