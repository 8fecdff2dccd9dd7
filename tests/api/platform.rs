//! HTTP conventions: problems, limits, docs, OpenAPI, health, idempotency.
use serde_json::{json, Value};
use ttx_tests::TestApp;

#[tokio::test]
async fn health_ready_metrics() {
    let app = TestApp::spawn().await;
    let r = app.get("/healthz", None).await;
    r.assert_status(200);
    assert_eq!(r.body["status"], "ok");
    let r = app.get("/readyz", None).await;
    r.assert_status(200);
    assert_eq!(r.body["status"], "ready");
    assert_eq!(r.body["pending_migrations"], json!([]));
    assert!(
        r.header("x-request-id").is_some(),
        "request id is propagated"
    );
    let m = app.get("/metrics", None).await;
    m.assert_status(200);
    assert!(
        m.text.contains("ttx_http_requests_total"),
        "{}",
        &m.text[..m.text.len().min(500)]
    );
}

#[tokio::test]
async fn unknown_route_and_method_are_problems() {
    let app = TestApp::spawn().await;
    app.get("/v1/nope", None)
        .await
        .assert_problem(404, "route_not_found");
    app.get("/nothing/here", None)
        .await
        .assert_problem(404, "route_not_found");
    app.send(reqwest::Method::PUT, "/v1/me", None, None, &[])
        .await
        .assert_problem(405, "method_not_allowed");
}

#[tokio::test]
async fn malformed_json_wrong_type_and_oversized_body() {
    let app = TestApp::spawn().await;
    app.post_raw("/v1/signup", None, Some("application/json"), "{\"org\": ")
        .await
        .assert_problem(400, "malformed_json");

    app.post_raw("/v1/signup", None, None, "org=1")
        .await
        .assert_problem(415, "unsupported_media_type");

    let r = app.post("/v1/signup", None, &json!({"org": 5})).await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), vec!["org"]);

    let big = "x".repeat(2 * 1024 * 1024);
    app.post_raw(
        "/v1/signup",
        None,
        Some("application/json"),
        format!("{{\"pad\": \"{big}\"}}"),
    )
    .await
    .assert_problem(413, "payload_too_large");
}

#[tokio::test]
async fn docs_and_openapi_are_served_offline() {
    let app = TestApp::spawn().await;
    let r = app.get("/openapi.json", None).await;
    r.assert_status(200);
    assert_eq!(r.body["openapi"], "3.1.0");
    assert!(r.body["paths"]["/v1/signup"]["post"].is_object());
    assert!(r.body["paths"]["/v1/me"]["get"].is_object());
    let r = app.get("/docs/", None).await;
    r.assert_status(200);
    assert!(r.text.contains("swagger-ui"), "docs page is Swagger UI");
    // Assets come from the binary, not a CDN.
    assert!(
        !r.text.contains("cdn.") && !r.text.contains("unpkg"),
        "no CDN references"
    );
    let r = app.get("/docs/swagger-ui-bundle.js", None).await;
    r.assert_status(200);
    assert!(r.text.len() > 100_000);
    let r = app.get("/docs/swagger-initializer.js", None).await;
    assert!(r.text.contains("/openapi.json"));
}

#[tokio::test]
async fn committed_openapi_matches_the_code() {
    let generated: Value =
        serde_json::from_str(&ttx_server::app::openapi().to_pretty_json().unwrap()).unwrap();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.json");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    let committed: Value = serde_json::from_str(&committed).unwrap_or(Value::Null);
    assert!(
        generated == committed,
        "openapi.json is out of date: run `cargo run -p ttx-server -- openapi > openapi.json`"
    );
}

/// Every `$ref` in the generated document points at a schema it defines (a type used only in
/// query parameters is easy to leave out of `components`).
#[test]
fn every_openapi_reference_resolves() {
    fn walk(v: &Value, refs: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    refs.push(r.clone());
                }
                m.values().for_each(|x| walk(x, refs));
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, refs)),
            _ => {}
        }
    }
    let doc: Value =
        serde_json::from_str(&ttx_server::app::openapi().to_pretty_json().unwrap()).unwrap();
    let mut refs = Vec::new();
    walk(&doc, &mut refs);
    assert!(!refs.is_empty());
    let dangling: Vec<&String> = refs
        .iter()
        .filter(|r| {
            let ptr = r.trim_start_matches('#');
            doc.pointer(ptr).is_none()
        })
        .collect();
    assert!(dangling.is_empty(), "dangling $ref: {dangling:?}");
}

#[tokio::test]
async fn idempotent_signup_replays_and_rejects_other_bodies() {
    let app = TestApp::spawn().await;
    let n = ttx_tests::fixtures::next();
    let body = json!({
        "org": {"kind": "enterprise", "name": "幂等测试公司", "credit_code": ttx_tests::fixtures::credit_code("310115", n), "region_code": "310115"},
        "admin": {"email": format!("idem{n}@org.test"), "display_name": "甲", "password": "correct-horse-42"}
    });
    let h = [("idempotency-key", "signup-key-1")];
    let a = app
        .send(reqwest::Method::POST, "/v1/signup", None, Some(&body), &h)
        .await;
    a.assert_status(201);
    let b = app
        .send(reqwest::Method::POST, "/v1/signup", None, Some(&body), &h)
        .await;
    b.assert_status(201);
    assert_eq!(b.header("idempotent-replayed"), Some("true"));
    assert_eq!(a.body, b.body, "the stored response is returned again");
    // Nothing was written twice: one organisation, and the audit log has one signup.
    let op = app.operator().await;
    let orgs = app.get("/v1/orgs?kind=enterprise", Some(&op)).await;
    assert_eq!(orgs.body["items"].as_array().unwrap().len(), 1);
    let audit = app.get("/v1/audit?action=org.signup", Some(&op)).await;
    assert_eq!(audit.body["items"].as_array().unwrap().len(), 1);

    let mut other = body.clone();
    other["org"]["name"] = json!("另一家公司");
    app.send(reqwest::Method::POST, "/v1/signup", None, Some(&other), &h)
        .await
        .assert_problem(422, "idempotency_key_reused");

    // Without a key, the duplicate credit code is a conflict, not a 500.
    app.post("/v1/signup", None, &body)
        .await
        .assert_problem(409, "already_exists");
}

#[tokio::test]
async fn concurrent_retries_with_one_key_write_once() {
    let app = TestApp::spawn().await;
    let n = ttx_tests::fixtures::next();
    let body = json!({
        "org": {"kind": "university", "name": "并发大学", "credit_code": ttx_tests::fixtures::credit_code("320102", n), "region_code": "320102"},
        "admin": {"email": format!("conc{n}@org.test"), "display_name": "乙", "password": "correct-horse-42"}
    });
    let futs = (0..8).map(|_| {
        app.send(
            reqwest::Method::POST,
            "/v1/signup",
            None,
            Some(&body),
            &[("idempotency-key", "same")],
        )
    });
    let results = futures::future::join_all(futs).await;
    let created = results.iter().filter(|r| r.status.as_u16() == 201).count();
    assert!(created >= 1);
    for r in &results {
        assert!(
            r.status.as_u16() == 201
                || (r.status.as_u16() == 409 && r.body["code"] == "idempotency_in_progress"),
            "unexpected {} {}",
            r.status,
            r.text
        );
    }
    let op = app.operator().await;
    let orgs = app.get("/v1/orgs?kind=university", Some(&op)).await;
    assert_eq!(
        orgs.body["items"].as_array().unwrap().len(),
        1,
        "one organisation written"
    );
}

#[tokio::test]
async fn meta_endpoints() {
    let app = TestApp::spawn().await;
    let r = app.get("/v1/meta/vocabularies", None).await;
    r.assert_status(200);
    assert!(r.body["tech_fields"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["zh"] == "新能源与高效节能"));
    let r = app.get("/v1/meta/regions", None).await;
    r.assert_status(200);
    assert!(r.body.as_array().unwrap().len() >= 31);
    let r = app.get("/v1/meta/regions?parent=440000", None).await;
    assert!(r
        .body
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["code"] == "440300"));
    app.get("/v1/meta/regions?parent=999999", None)
        .await
        .assert_problem(422, "validation_failed");
    let r = app.get("/v1/meta/errors", None).await;
    assert!(r
        .body
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["code"] == "precondition_failed" && e["status"] == 412));
}
