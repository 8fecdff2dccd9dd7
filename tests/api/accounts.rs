//! Accounts: signup, login, tokens, organisations, members, verification, audit.
use serde_json::json;
use ttx_tests::{fixtures, TestApp};

#[tokio::test]
async fn signup_login_me() {
    let app = TestApp::spawn().await;
    let org = app.org("university", "110108", false).await;
    let me = app.get("/v1/me", Some(&org.admin_token)).await;
    me.assert_status(200);
    assert_eq!(me.body["user"]["role"], "org_admin");
    assert_eq!(me.body["org"]["kind"], "university");
    assert_eq!(me.body["org"]["region_code"], "110108");
    assert!(me.body["org"]["region_name"]
        .as_str()
        .unwrap()
        .contains("海淀"));
    assert!(me.body["user"].get("password_hash").is_none());

    let login = app
        .post(
            "/v1/tokens",
            None,
            &json!({"email": org.admin_email, "password": "correct-horse-42"}),
        )
        .await;
    login.assert_status(201);
    let token = login.body["token"].as_str().unwrap();
    assert!(token.starts_with("ttx_"));
    app.get("/v1/me", Some(token)).await.assert_status(200);

    app.post(
        "/v1/tokens",
        None,
        &json!({"email": org.admin_email, "password": "wrong-password"}),
    )
    .await
    .assert_problem(401, "invalid_credentials");
    app.post(
        "/v1/tokens",
        None,
        &json!({"email": "nobody@org.test", "password": "wrong-password"}),
    )
    .await
    .assert_problem(401, "invalid_credentials");
    app.get("/v1/me", None)
        .await
        .assert_problem(401, "unauthenticated");
    app.get("/v1/me", Some("ttx_not-a-real-token"))
        .await
        .assert_problem(401, "invalid_token");
    app.send(
        reqwest::Method::GET,
        "/v1/me",
        None,
        None,
        &[("authorization", "Basic abc")],
    )
    .await
    .assert_problem(401, "invalid_token");
}

#[tokio::test]
async fn tokens_are_stored_hashed_listed_and_revoked() {
    use sea_orm::{ConnectionTrait, Statement};
    let app = TestApp::spawn().await;
    let org = app.org("enterprise", "440305", false).await;
    let rows = app
        .db
        .query_all_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT token_hash FROM api_tokens",
        ))
        .await
        .unwrap();
    for row in rows {
        let h: String = row.try_get("", "token_hash").unwrap();
        assert_ne!(h, org.admin_token, "the token itself is never stored");
        assert_eq!(h.len(), 64);
    }
    let list = app.get("/v1/tokens", Some(&org.admin_token)).await;
    list.assert_status(200);
    let items = list.body.as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert!(items[0].get("token").is_none() && items[0].get("token_hash").is_none());
    let id = items[0]["id"].as_i64().unwrap();

    let other = app.org("enterprise", "440305", false).await;
    app.delete(&format!("/v1/tokens/{id}"), Some(&other.admin_token))
        .await
        .assert_problem(404, "not_found");
    app.delete(&format!("/v1/tokens/{id}"), Some(&org.admin_token))
        .await
        .assert_status(204);
    app.get("/v1/me", Some(&org.admin_token))
        .await
        .assert_problem(401, "invalid_token");
}

#[tokio::test]
async fn signup_validation_names_fields() {
    let app = TestApp::spawn().await;
    let r = app
        .post(
            "/v1/signup",
            None,
            &json!({
                "org": {"kind": "enterprise", "name": "坏数据公司", "credit_code": "91350100M000100Y44", "region_code": "999999"},
                "admin": {"email": "not-an-email", "display_name": "x", "password": "short"}
            }),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    let fields = r.error_fields();
    for f in [
        "org.credit_code",
        "org.region_code",
        "admin.email",
        "admin.password",
    ] {
        assert!(fields.contains(&f.to_string()), "{f} in {fields:?}");
    }
    let r = app
        .post(
            "/v1/signup",
            None,
            &json!({
                "org": {"kind": "operator", "name": "假运营", "credit_code": fixtures::credit_code("110000", 1), "region_code": "110000"},
                "admin": {"email": "a@b.cn", "display_name": "x", "password": "correct-horse-42"}
            }),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), vec!["org.kind"]);
    let r = app
        .post(
            "/v1/signup",
            None,
            &json!({"org": {}, "admin": {}, "extra": 1}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
}

#[tokio::test]
async fn org_profile_contact_is_private_and_updates_need_if_match() {
    let app = TestApp::spawn().await;
    let org = app.org("research_institute", "440305", false).await;
    let other = app.org("enterprise", "320505", false).await;

    let public = app.get(&format!("/v1/orgs/{}", org.id), None).await;
    public.assert_status(200);
    assert!(
        public.body.get("contact").is_none(),
        "no contact in public reads"
    );
    let stranger = app
        .get(&format!("/v1/orgs/{}", org.id), Some(&other.admin_token))
        .await;
    assert!(stranger.body.get("contact").is_none());
    let own = app
        .get(&format!("/v1/orgs/{}", org.id), Some(&org.admin_token))
        .await;
    assert!(own.body["contact"]["contact_email"].as_str().is_some());
    let etag = own.etag();
    assert_eq!(etag, "\"1\"");

    let path = format!("/v1/orgs/{}", org.id);
    // No If-Match: 428.
    app.send(
        reqwest::Method::PATCH,
        &path,
        Some(&org.admin_token),
        Some(&json!({"name": "新名字研究院"})),
        &[],
    )
    .await
    .assert_problem(428, "precondition_required");
    // Another organisation: 404, not its business.
    app.patch(
        &path,
        Some(&other.admin_token),
        &etag,
        &json!({"name": "抢走"}),
    )
    .await
    .assert_problem(404, "not_found");
    let ok = app
        .patch(
            &path,
            Some(&org.admin_token),
            &etag,
            &json!({"name": "新名字研究院", "website": null}),
        )
        .await;
    ok.assert_status(200);
    assert_eq!(ok.body["name"], "新名字研究院");
    assert_eq!(ok.etag(), "\"2\"");
    // A second writer with the old ETag loses: 412.
    app.patch(
        &path,
        Some(&org.admin_token),
        &etag,
        &json!({"name": "旧版本覆盖"}),
    )
    .await
    .assert_problem(412, "precondition_failed");
    let r = app
        .patch(
            &path,
            Some(&org.admin_token),
            "\"2\"",
            &json!({"region_code": "12345"}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), vec!["region_code"]);
    // A plain member may not edit.
    let member = app.member(&org, "member").await;
    app.patch(&path, Some(&member), "\"2\"", &json!({"name": "成员改名"}))
        .await
        .assert_problem(403, "forbidden");
}

#[tokio::test]
async fn members_roles_and_last_admin() {
    let app = TestApp::spawn().await;
    let agency = app.org("agency", "420111", true).await;
    let broker = app.member(&agency, "broker").await;
    let me = app.get("/v1/me", Some(&broker)).await;
    assert_eq!(me.body["user"]["role"], "broker");
    // Role must fit the organisation kind.
    let r = app
        .post(
            &format!("/v1/orgs/{}/members", agency.id),
            Some(&agency.admin_token),
            &json!({"email": "rev@org.test", "display_name": "x", "password": "correct-horse-42", "role": "station_reviewer"}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), vec!["role"]);
    // A broker cannot add members.
    app.post(
        &format!("/v1/orgs/{}/members", agency.id),
        Some(&broker),
        &json!({"email": "x2@org.test", "display_name": "x", "password": "correct-horse-42", "role": "member"}),
    )
    .await
    .assert_problem(403, "forbidden");
    let list = app
        .get(&format!("/v1/orgs/{}/members", agency.id), Some(&broker))
        .await;
    list.assert_status(200);
    assert_eq!(list.body["items"].as_array().unwrap().len(), 2);
    let outsider = app.org("enterprise", "420111", false).await;
    app.get(
        &format!("/v1/orgs/{}/members", agency.id),
        Some(&outsider.admin_token),
    )
    .await
    .assert_problem(404, "not_found");

    // The last admin cannot be demoted.
    let admin_path = format!("/v1/orgs/{}/members/{}", agency.id, agency.admin_id);
    app.patch(
        &admin_path,
        Some(&agency.admin_token),
        "\"1\"",
        &json!({"role": "member"}),
    )
    .await
    .assert_problem(409, "invalid_state");
    app.delete(&admin_path, Some(&agency.admin_token))
        .await
        .assert_problem(409, "invalid_state");

    // Removing the broker revokes its tokens.
    let broker_id = me.body["user"]["id"].as_i64().unwrap();
    app.delete(
        &format!("/v1/orgs/{}/members/{broker_id}", agency.id),
        Some(&agency.admin_token),
    )
    .await
    .assert_status(204);
    app.get("/v1/me", Some(&broker))
        .await
        .assert_problem(401, "invalid_token");
}

#[tokio::test]
async fn verification_is_for_operators_and_stations_need_jurisdiction() {
    let app = TestApp::spawn().await;
    let station = app.org("station", "320000", false).await;
    let firm = app.org("enterprise", "320505", false).await;
    let path = format!("/v1/orgs/{}/verify", station.id);
    app.post(&path, Some(&firm.admin_token), &json!({}))
        .await
        .assert_problem(403, "forbidden");
    app.post(&path, Some(&station.admin_token), &json!({}))
        .await
        .assert_problem(403, "forbidden");
    let op = app.operator().await;
    let r = app.post(&path, Some(&op), &json!({})).await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), vec!["jurisdiction"]);
    let r = app
        .post(&path, Some(&op), &json!({"jurisdiction": ["320000", "88"]}))
        .await;
    assert_eq!(r.error_fields(), vec!["jurisdiction[1]"]);
    let r = app
        .post(&path, Some(&op), &json!({"jurisdiction": ["320000"]}))
        .await;
    r.assert_status(200);
    assert_eq!(r.body["verified"], true);
    assert_eq!(r.body["jurisdiction"], json!(["320000"]));
    let dir = app.get("/v1/orgs?kind=station&region=32", None).await;
    assert_eq!(dir.body["items"][0]["jurisdiction"], json!(["320000"]));
}

#[tokio::test]
async fn audit_log_records_changes_and_is_scoped() {
    let app = TestApp::spawn().await;
    let a = app.org("enterprise", "310115", false).await;
    let b = app.org("enterprise", "310115", false).await;
    app.member(&a, "member").await;
    let own = app.get("/v1/audit", Some(&a.admin_token)).await;
    own.assert_status(200);
    let actions: Vec<&str> = own.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"org.signup") && actions.contains(&"member.add"),
        "{actions:?}"
    );
    for e in own.body["items"].as_array().unwrap() {
        assert!(e["actor_org_id"] == a.id || e["target_org_id"] == a.id);
        assert!(!e["request_id"].as_str().unwrap().is_empty());
    }
    let theirs = app.get("/v1/audit", Some(&b.admin_token)).await;
    assert!(theirs.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["target_org_id"] == b.id || e["actor_org_id"] == b.id));
    let member = app.member(&a, "member").await;
    app.get("/v1/audit", Some(&member))
        .await
        .assert_problem(403, "forbidden");
    let op = app.operator().await;
    let all = app
        .get(&format!("/v1/audit?org_id={}", b.id), Some(&op))
        .await;
    assert!(!all.body["items"].as_array().unwrap().is_empty());
    // Pagination: limit is honoured and capped, and the cursor continues.
    let p1 = app.get("/v1/audit?limit=1", Some(&op)).await;
    assert_eq!(p1.body["items"].as_array().unwrap().len(), 1);
    let c = p1.body["next_cursor"].as_str().unwrap();
    let p2 = app
        .get(&format!("/v1/audit?limit=1&cursor={c}"), Some(&op))
        .await;
    assert_ne!(p1.body["items"][0]["id"], p2.body["items"][0]["id"]);
    app.get("/v1/audit?cursor=garbage!", Some(&op))
        .await
        .assert_problem(400, "invalid_cursor");
    app.get("/v1/audit?limit=abc", Some(&op))
        .await
        .assert_problem(400, "invalid_query");
}

/// The recorded last use of `token` (read from the database; the API does not show it).
async fn last_used(app: &TestApp, token: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    use ttx_accounts::entity::api_token;
    api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(ttx_accounts::secrets::token_hash(token)))
        .one(&app.db)
        .await
        .unwrap()
        .expect("the token's row")
        .last_used_at
}

#[tokio::test]
async fn a_tokens_last_use_is_recorded_at_most_once_a_minute() {
    let app = TestApp::spawn().await;
    let org = app.org("university", "110108", false).await;
    let t = &org.admin_token;
    app.get("/v1/me", Some(t)).await.assert_status(200);
    let first = last_used(&app, t).await.expect("recorded on first use");
    // Used again within the minute: not written again.
    app.clock.advance(chrono::Duration::seconds(20));
    app.get("/v1/me", Some(t)).await.assert_status(200);
    assert_eq!(last_used(&app, t).await, Some(first));
    // Past the minute: it moves, to the clock's time.
    app.clock.advance(chrono::Duration::seconds(50));
    app.get("/v1/me", Some(t)).await.assert_status(200);
    let later = last_used(&app, t).await.unwrap();
    assert!(
        later - first >= chrono::Duration::seconds(70),
        "{first} → {later}"
    );
}
