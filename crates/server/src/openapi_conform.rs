//! Makes the OpenAPI document say what the server does, for every operation at once:
//! problem responses are `application/problem+json`; the platform's answers every operation can
//! give are listed (400 bad query or path, 401 on authenticated routes, 413/415/422 where there
//! is a body, 404 on routes with a path id, 409/422 of `Idempotency-Key`, 412/428 of `If-Match`);
//! every `limit` query parameter carries its range 1 to 100.
use serde_json::{json, Map, Value};

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch", "head", "options"];

fn problem(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    })
}

/// Applies the rules to a serialized OpenAPI document.
pub fn conform(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let limited = !ttx_web::ratelimit::EXEMPT_PATHS.contains(&path.as_str());
        for m in METHODS {
            if let Some(op) = item.get_mut(*m).and_then(Value::as_object_mut) {
                conform_operation(m, op, limited, path.starts_with("/v1/"));
            }
        }
    }
}

fn conform_operation(method: &str, op: &mut Map<String, Value>, rate_limited: bool, api: bool) {
    let params: Vec<Value> = op
        .get("parameters")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let has = |loc: &str, name: &str| {
        params.iter().any(|p| {
            p["in"] == loc
                && p["name"]
                    .as_str()
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
    };
    let required_header = |name: &str| {
        params.iter().any(|p| {
            p["in"] == "header"
                && p["name"]
                    .as_str()
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
                && p["required"] == true
        })
    };
    let path_params = params.iter().any(|p| p["in"] == "path");
    let has_body = op.contains_key("requestBody");
    let secured = op
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|s| !s.is_empty());
    let idempotent = method == "post" && has("header", "Idempotency-Key");
    let if_match = has("header", "If-Match");

    let mut add: Vec<(&str, &str)> = vec![(
        "400",
        "Malformed request: bad query string (unknown or out-of-range parameters), path or header",
    )];
    if secured {
        add.push(("401", "Missing, invalid, expired or revoked bearer token"));
    } else if api {
        // A public API route still reads a bearer token when one is sent (it may see more), and
        // refuses one that is invalid rather than silently answering as anonymous.
        add.push((
            "401",
            "A bearer token was sent but is invalid, expired or revoked (the route also works without one)",
        ));
    }
    if path_params {
        add.push((
            "404",
            "Not found (or another organisation's private resource)",
        ));
    }
    if params.iter().any(|p| p["in"] == "query") {
        add.push((
            "422",
            "A query parameter is well-formed but not acceptable (an unknown region, a range upside down): `errors` names each",
        ));
    }
    if has_body {
        add.push(("413", "The request body is too large"));
        add.push(("415", "The request body must be application/json"));
        add.push((
            "422",
            "Invalid input: `errors` names each field (or the Idempotency-Key was used with another request)",
        ));
    }
    if idempotent {
        add.push((
            "409",
            "A request with this Idempotency-Key is still being processed (or a conflict)",
        ));
        add.push((
            "422",
            "Invalid input, or the Idempotency-Key was used with another request",
        ));
    }
    if if_match {
        add.push((
            "412",
            "The resource was changed by someone else (stale If-Match)",
        ));
    }
    if rate_limited {
        add.push((
            "429",
            "Too many requests from this token or address (`rate_limited`): retry after `Retry-After` seconds",
        ));
    }
    if required_header("If-Match") {
        add.push((
            "428",
            "An If-Match header with the current ETag is required",
        ));
    }

    let responses = op
        .entry("responses")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .expect("responses is an object");
    for (code, description) in add {
        responses
            .entry(code.to_string())
            .or_insert_with(|| problem(description));
    }
    for (code, resp) in responses.iter_mut() {
        let is_error = code.starts_with('4') || code.starts_with('5');
        if !is_error {
            continue;
        }
        let Some(resp) = resp.as_object_mut() else {
            continue;
        };
        let content = resp.entry("content").or_insert_with(|| json!({}));
        let Some(content) = content.as_object_mut() else {
            continue;
        };
        if let Some(json_body) = content.remove("application/json") {
            content
                .entry("application/problem+json".to_string())
                .or_insert(json_body);
        }
        if content.is_empty() {
            content.insert(
                "application/problem+json".into(),
                json!({"schema": {"$ref": "#/components/schemas/Problem"}}),
            );
        }
    }

    if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
        for p in params {
            if p["in"] == "query" && p["name"] == "limit" {
                if let Some(schema) = p.get_mut("schema").and_then(Value::as_object_mut) {
                    schema.insert("minimum".into(), json!(1));
                    schema.insert("maximum".into(), json!(ttx_web::pagination::MAX_LIMIT));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_platform_answers_and_problem_media_type() {
        let mut doc = json!({"paths": {"/x/{id}": {"patch": {
            "parameters": [
                {"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}},
                {"name": "If-Match", "in": "header", "required": true, "schema": {"type": "string"}},
                {"name": "limit", "in": "query", "required": false, "schema": {"type": ["integer", "null"]}}
            ],
            "requestBody": {"content": {"application/json": {}}},
            "security": [{"bearer": []}],
            "responses": {
                "200": {"description": "ok", "content": {"application/json": {}}},
                "403": {"description": "no", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
            }
        }}}});
        conform(&mut doc);
        let op = &doc["paths"]["/x/{id}"]["patch"];
        for code in [
            "400", "401", "403", "404", "412", "413", "415", "422", "428", "429",
        ] {
            assert!(
                op["responses"][code]["content"]["application/problem+json"].is_object(),
                "{code}: {}",
                op["responses"]
            );
            assert!(op["responses"][code]["content"]["application/json"].is_null());
        }
        assert!(op["responses"]["200"]["content"]["application/json"].is_object());
        assert!(op["responses"]["409"].is_null(), "no Idempotency-Key here");
        assert_eq!(op["parameters"][2]["schema"]["minimum"], 1);
        assert_eq!(op["parameters"][2]["schema"]["maximum"], 100);

        let mut doc =
            json!({"paths": {"/healthz": {"get": {"responses": {"200": {"description": "ok"}}}}}});
        conform(&mut doc);
        assert!(
            doc["paths"]["/healthz"]["get"]["responses"]["429"].is_null(),
            "probes are not rate limited"
        );
    }
}
