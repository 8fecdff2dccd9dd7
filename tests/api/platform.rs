//! HTTP conventions: problems, limits, docs, OpenAPI, health, idempotency.
use serde_json::{json, Value};
use std::collections::HashSet;
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

/// Every string enum of the OpenAPI document, with where it was found.
fn openapi_enums(v: &Value, path: &str, out: &mut Vec<(String, Vec<String>)>) {
    match v {
        Value::Object(o) => {
            if let Some(Value::Array(vals)) = o.get("enum") {
                let codes: Vec<String> = vals
                    .iter()
                    .filter_map(|c| c.as_str().map(str::to_string))
                    .collect();
                if !codes.is_empty() {
                    out.push((path.to_string(), codes));
                }
            }
            for (k, v) in o {
                openapi_enums(v, &format!("{path}/{k}"), out);
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                openapi_enums(v, &format!("{path}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// Enums of the API that are not user-facing labels, each with the reason.
const UNLABELLED_ENUMS: &[(&[&str], &str)] = &[(
    &["csv", "json", "xlsx"],
    "file formats of the statistics export, shown as is",
)];

#[tokio::test]
async fn every_enum_of_the_api_has_a_vocabulary_with_chinese_labels() {
    let app = TestApp::spawn().await;
    let vocab = app.get("/v1/meta/vocabularies", None).await;
    vocab.assert_status(200);
    let vocab = vocab.body.as_object().unwrap().clone();
    // Each vocabulary: codes once, each with a Chinese and an English label.
    for (name, entries) in &vocab {
        let mut seen = HashSet::new();
        for e in entries.as_array().unwrap() {
            let code = e["code"].as_str().unwrap();
            assert!(seen.insert(code), "{name}: {code} listed twice");
            let zh = e["zh"].as_str().unwrap_or("");
            assert!(
                zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                "{name}: {code} has no Chinese label ({zh:?})"
            );
            assert!(!e["en"].as_str().unwrap_or("").is_empty(), "{name}: {code}");
        }
    }
    for name in [
        "listing_statuses",
        "ip_statuses",
        "refusal_grounds",
        "notification_kinds",
        "enquiry_statuses",
        "enquiry_purposes",
        "match_stages",
        "proposal_statuses",
        "demand_statuses",
        "contract_statuses",
        "trl_stages",
        "licence_scopes",
    ] {
        assert!(vocab.contains_key(name), "no vocabulary {name}");
    }
    let codes_of = |name: &str| -> HashSet<String> {
        vocab[name]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["code"].as_str().unwrap().to_string())
            .collect()
    };
    // Every notification kind the webhooks accept is labelled.
    let kinds = codes_of("notification_kinds");
    assert!(kinds.contains("contract.registered") && kinds.contains("enquiry.received"));

    // Walk the OpenAPI document: every enum must be covered by one vocabulary.
    let doc = app.get("/openapi.json", None).await;
    doc.assert_status(200);
    let mut enums = vec![];
    openapi_enums(&doc.body, "", &mut enums);
    assert!(enums.len() > 20, "only {} enums found", enums.len());
    let mut missing = vec![];
    for (path, codes) in &enums {
        let excluded = UNLABELLED_ENUMS
            .iter()
            .any(|(set, _)| codes.iter().all(|c| set.contains(&c.as_str())));
        if excluded {
            continue;
        }
        let covered = vocab.keys().any(|name| {
            let have = codes_of(name);
            codes.iter().all(|c| have.contains(c))
        });
        if !covered {
            missing.push(format!("{path}: {codes:?}"));
        }
    }
    assert!(
        missing.is_empty(),
        "enums of the API without a vocabulary in /v1/meta/vocabularies:\n{}",
        missing.join("\n")
    );
}
