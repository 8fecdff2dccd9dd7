//! The broker pipeline (`/v1/matches`): who sees a match, stage changes and the actions they
//! allow, each party notified once per step, anonymity of firms, feedback on suggestions and its
//! export, and the walk from a suggestion to a registered contract that the broker's funnel
//! then shows to the fen.
use serde_json::{json, Value};
use ttx_tests::fixtures::{day, need_body, WAN};
use ttx_tests::{Org, Resp, TestApp};

fn patent(digits12: &str) -> String {
    ttx_listings::patent::PatentNumber::complete(digits12).expect("12 digits")
}

/// A published listing of `token`'s organisation.
async fn listing(app: &TestApp, token: &str, title: &str, text: &str) -> i64 {
    let body = json!({
        "title": title,
        "summary": format!("{title}：{text}"),
        "description": format!("本成果“{title}”已完成中试验证，可面向企业转化。{text}"),
        "keywords": ["脱硫石膏", "资源化利用"],
        "field": "environment",
        "trl": 6,
        "ip_items": [{"kind": "invention_patent", "number": format!("CN{}", patent("202310123456")), "status": "granted"}],
        "transfer_modes": ["license", "transfer"],
        "price": {"kind": "negotiable"},
        "contact": {"name": "成果联系人", "phone": "13912345678", "email": "contact@lab.test"},
        "publish": true
    });
    let r = app.post("/v1/listings", Some(token), &body).await;
    r.assert_status(201);
    assert_eq!(r.body["status"], "published", "{}", r.text);
    r.body["id"].as_i64().unwrap()
}

/// An open need of `token`'s organisation.
async fn need(app: &TestApp, token: &str, title: &str, anonymous: bool) -> i64 {
    let body = need_body(title, anonymous);
    let r = app.post("/v1/demands", Some(token), &body).await;
    r.assert_status(201);
    assert_eq!(r.body["status"], "open", "{}", r.text);
    r.body["id"].as_i64().unwrap()
}

/// The parties and brokers of every test.
struct World {
    /// A Haidian university with a member: owns the listing (the seller side).
    lab: Org,
    lab_member: String,
    /// A Suzhou enterprise with a member: owns the need (the buyer side).
    firm: Org,
    firm_member: String,
    /// A verified agency with a broker (its admin is `agency.admin_token`).
    agency: Org,
    broker: String,
    broker_id: i64,
    /// Another verified agency and its broker.
    rival: Org,
    rival_broker: String,
    /// An enterprise with nothing to do with the match.
    stranger: Org,
    listing_id: i64,
    demand_id: i64,
}

async fn user_id(app: &TestApp, token: &str) -> i64 {
    let r = app.get("/v1/me", Some(token)).await;
    r.assert_status(200);
    r.body["user"]["id"].as_i64().unwrap()
}

async fn world(app: &TestApp, anonymous: bool) -> World {
    let lab = app.org("university", "110108", false).await;
    let lab_member = app.member(&lab, "member").await;
    let firm = app.org("enterprise", "320505", false).await;
    let firm_member = app.member(&firm, "member").await;
    let agency = app.org("agency", "110108", true).await;
    let broker = app.member(&agency, "broker").await;
    let broker_id = user_id(app, &broker).await;
    let rival = app.org("agency", "310104", true).await;
    let rival_broker = app.member(&rival, "broker").await;
    let stranger = app.org("enterprise", "440305", false).await;
    let listing_id = listing(
        app,
        &lab_member,
        "脱硫石膏渣资源化利用制备高强石膏技术",
        "以电厂脱硫石膏渣为原料，经除杂提纯和转晶工艺制成高强石膏，强度和白度稳定。",
    )
    .await;
    let demand_id = need(app, &firm_member, "脱硫石膏渣综合利用技术需求", anonymous).await;
    World {
        lab,
        lab_member,
        firm,
        firm_member,
        agency,
        broker,
        broker_id,
        rival,
        rival_broker,
        stranger,
        listing_id,
        demand_id,
    }
}

async fn open(app: &TestApp, w: &World) -> i64 {
    let r = app
        .post(
            "/v1/matches",
            Some(&w.broker),
            &json!({"listing_id": w.listing_id, "demand_id": w.demand_id, "note": "双方技术路线吻合"}),
        )
        .await;
    r.assert_status(201);
    r.body["id"].as_i64().unwrap()
}

async fn act(app: &TestApp, token: &str, id: i64, action: &str, body: Value) -> Resp {
    app.post(&format!("/v1/matches/{id}/{action}"), Some(token), &body)
        .await
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// The match notifications in an inbox, oldest first: `(kind, match id, data)`.
async fn match_notes(app: &TestApp, token: &str) -> Vec<(String, i64, Value)> {
    let r = app.get("/v1/notifications?limit=100", Some(token)).await;
    r.assert_status(200);
    let mut v: Vec<(String, i64, Value)> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"].as_str().unwrap_or("").starts_with("match."))
        .map(|n| {
            (
                n["kind"].as_str().unwrap().to_string(),
                n["subject_id"].as_i64().unwrap(),
                n["data"].clone(),
            )
        })
        .collect();
    v.reverse();
    v
}

fn kinds(notes: &[(String, i64, Value)]) -> Vec<&str> {
    notes.iter().map(|n| n.0.as_str()).collect()
}

#[tokio::test]
async fn a_match_is_seen_only_by_its_broker_its_agency_and_the_parties() {
    let app = TestApp::spawn().await;
    let w = world(&app, false).await;
    let op = app.operator().await;

    // Who may open one.
    let body = json!({"listing_id": w.listing_id, "demand_id": w.demand_id});
    app.post("/v1/matches", Some(&w.firm_member), &body)
        .await
        .assert_problem(403, "forbidden");
    let unverified = app.org("agency", "110108", false).await;
    let unverified_broker = app.member(&unverified, "broker").await;
    app.post("/v1/matches", Some(&unverified_broker), &body)
        .await
        .assert_problem(403, "org_not_verified");
    let r = app
        .post(
            "/v1/matches",
            Some(&w.broker),
            &json!({"listing_id": 0, "demand_id": 999_999, "note": "x".repeat(2001)}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), vec!["listing_id", "note"]);
    let r = app
        .post(
            "/v1/matches",
            Some(&w.broker),
            &json!({"listing_id": 999_999, "demand_id": 999_998}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), vec!["listing_id", "demand_id"]);
    // A need still in draft is not revealed.
    let draft = app
        .post(
            "/v1/demands",
            Some(&w.firm_member),
            &json!({"title": "尚未发布的需求草稿", "problem": "草稿"}),
        )
        .await;
    draft.assert_status(201);
    let r = app
        .post(
            "/v1/matches",
            Some(&w.broker),
            &json!({"listing_id": w.listing_id, "demand_id": draft.body["id"]}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["code"], "not_found");

    // Opened: the broker's own until introduced.
    let r = app
        .post(
            "/v1/matches",
            Some(&w.broker),
            &json!({"listing_id": w.listing_id, "demand_id": w.demand_id, "note": "双方技术路线吻合"}),
        )
        .await;
    r.assert_status(201);
    let id = r.body["id"].as_i64().unwrap();
    assert_eq!(r.header("location").unwrap(), format!("/v1/matches/{id}"));
    assert_eq!(r.body["stage"], "suggested");
    assert_eq!(r.body["viewer"], "broker");
    assert_eq!(r.body["broker"]["user_id"], w.broker_id);
    assert_eq!(r.body["broker"]["agency"]["id"], w.agency.id);
    assert_eq!(r.body["listing"]["org"]["id"], w.lab.id);
    assert_eq!(r.body["demand"]["org"]["id"], w.firm.id);
    assert_eq!(r.body["note"], "双方技术路线吻合");
    assert_eq!(strs(&r.body["actions"]), vec!["introduce", "close"]);
    assert_eq!(r.body["history"][0]["action"], "open");
    assert_eq!(r.body["history"][0]["actor_user_id"], w.broker_id);

    // The same pair again by the same agency: one live match per pair and agency.
    let r = app.post("/v1/matches", Some(&w.broker), &body).await;
    r.assert_problem(409, "match_exists");
    assert_eq!(r.body["context"]["match_id"], id);
    // Another agency may pitch the same pair.
    app.post("/v1/matches", Some(&w.rival_broker), &body)
        .await
        .assert_status(201);

    let path = format!("/v1/matches/{id}");
    assert_eq!(app.get(&path, Some(&w.broker)).await.status, 200);
    let r = app.get(&path, Some(&w.agency.admin_token)).await;
    r.assert_status(200);
    assert_eq!(r.body["viewer"], "agency_admin");
    assert!(r.etag().contains('1'));
    assert_eq!(app.get(&path, Some(&op)).await.status, 200);
    for stranger in [
        &w.rival_broker,
        &w.rival.admin_token,
        &w.stranger.admin_token,
        &w.lab_member,
        &w.firm_member,
    ] {
        app.get(&path, Some(stranger))
            .await
            .assert_problem(404, "not_found");
    }
    app.get(&path, None)
        .await
        .assert_problem(401, "unauthenticated");
    // Acting on an invisible match is 404 too.
    act(&app, &w.rival_broker, id, "introduce", json!({}))
        .await
        .assert_problem(404, "not_found");
    act(&app, &w.lab_member, id, "accept", json!({}))
        .await
        .assert_problem(404, "not_found");

    // Introduced: now the parties see it (without the broker's own note); strangers still not.
    let r = act(
        &app,
        &w.broker,
        id,
        "introduce",
        json!({"note": "请双方尽快答复"}),
    )
    .await;
    r.assert_status(200);
    assert_eq!(r.body["stage"], "introduced");
    for party in [&w.lab_member, &w.lab.admin_token, &w.firm_member] {
        let r = app.get(&path, Some(party)).await;
        r.assert_status(200);
        assert!(r.body.get("note").is_none(), "{}", r.text);
        assert_eq!(r.body["history"][0]["note"], Value::Null);
        assert_eq!(r.body["history"][1]["note"], "请双方尽快答复");
        assert_eq!(strs(&r.body["actions"]), vec!["accept", "decline", "close"]);
    }
    assert_eq!(
        app.get(&path, Some(&w.lab_member)).await.body["viewer"],
        "listing"
    );
    assert_eq!(
        app.get(&path, Some(&w.firm_member)).await.body["viewer"],
        "demand"
    );
    for stranger in [
        &w.rival_broker,
        &w.rival.admin_token,
        &w.stranger.admin_token,
    ] {
        app.get(&path, Some(stranger))
            .await
            .assert_problem(404, "not_found");
    }
    act(
        &app,
        &w.stranger.admin_token,
        id,
        "close",
        json!({"reason": "no_fit"}),
    )
    .await
    .assert_problem(404, "not_found");

    // Lists: each sees what it may.
    let ids = |r: &Resp| -> Vec<i64> {
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_i64().unwrap())
            .collect()
    };
    let r = app.get("/v1/matches", Some(&w.broker)).await;
    r.assert_status(200);
    assert_eq!(ids(&r), vec![id]);
    assert!(r.body["items"][0].get("history").is_none());
    assert_eq!(
        strs(&r.body["items"][0]["actions"]),
        vec!["close"],
        "{}",
        r.text
    );
    assert_eq!(
        ids(&app.get("/v1/matches", Some(&w.lab_member)).await),
        vec![id]
    );
    assert_eq!(
        ids(&app.get("/v1/matches", Some(&w.firm_member)).await),
        vec![id]
    );
    assert_eq!(
        ids(&app.get("/v1/matches", Some(&w.agency.admin_token)).await),
        vec![id]
    );
    let rival_ids = ids(&app.get("/v1/matches", Some(&w.rival_broker)).await);
    assert_eq!(rival_ids.len(), 1);
    assert!(!rival_ids.contains(&id));
    assert!(ids(&app.get("/v1/matches", Some(&w.stranger.admin_token)).await).is_empty());
    assert_eq!(ids(&app.get("/v1/matches", Some(&op)).await).len(), 2);
    assert!(ids(&app
        .get("/v1/matches?stage=negotiating", Some(&w.broker))
        .await)
    .is_empty());
    assert_eq!(
        ids(&app.get("/v1/matches?stage=introduced", Some(&op)).await),
        vec![id]
    );
    assert_eq!(
        ids(&app
            .get(&format!("/v1/matches?broker={}", w.broker_id), Some(&op))
            .await),
        vec![id]
    );
    let p1 = app.get("/v1/matches?limit=1", Some(&op)).await;
    assert_eq!(ids(&p1).len(), 1);
    let cursor = p1.body["next_cursor"].as_str().unwrap();
    let p2 = app
        .get(&format!("/v1/matches?limit=1&cursor={cursor}"), Some(&op))
        .await;
    assert_eq!(ids(&p2).len(), 1);
    assert_ne!(ids(&p1), ids(&p2));
    assert_eq!(p2.body["next_cursor"], Value::Null);
    app.get("/v1/matches?stage=lost", Some(&op))
        .await
        .assert_problem(400, "invalid_query");
    app.get("/v1/matches?cursor=zzz", Some(&op))
        .await
        .assert_problem(400, "invalid_cursor");
}

#[tokio::test]
async fn an_anonymous_firm_is_named_to_the_listing_side_only_once_it_accepted() {
    let app = TestApp::spawn().await;
    let w = world(&app, true).await;
    let id = open(&app, &w).await;
    let path = format!("/v1/matches/{id}");
    // The broker (a verified agency) sees the firm, as needs do.
    let r = app.get(&path, Some(&w.broker)).await;
    assert_eq!(r.body["demand"]["anonymous"], true);
    assert_eq!(r.body["demand"]["org"]["id"], w.firm.id);
    act(&app, &w.broker, id, "introduce", json!({}))
        .await
        .assert_status(200);

    let r = app.get(&path, Some(&w.lab_member)).await;
    assert_eq!(r.body["demand"]["org"], Value::Null, "{}", r.text);
    let firm_name = app.get(&format!("/v1/orgs/{}", w.firm.id), None).await.body["name"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!r.text.contains(&firm_name), "{}", r.text);
    let r = app.get(&path, Some(&w.firm_member)).await;
    assert_eq!(r.body["demand"]["org"]["id"], w.firm.id);
    let notes = match_notes(&app, &w.lab_member).await;
    assert_eq!(kinds(&notes), vec!["match.introduced"]);
    assert_eq!(notes[0].2["demand"]["org"], Value::Null);
    assert_eq!(notes[0].2["listing"]["org"]["id"], w.lab.id);
    let notes = match_notes(&app, &w.firm_member).await;
    assert_eq!(notes[0].2["demand"]["org"]["id"], w.firm.id);

    // The lab accepts first: the firm's member who acted stays unnamed in the history too.
    act(&app, &w.lab_member, id, "accept", json!({}))
        .await
        .assert_status(200);
    let r = app.get(&path, Some(&w.lab_member)).await;
    assert_eq!(r.body["demand"]["org"], Value::Null);

    // The firm accepts: the parties must know each other to negotiate and sign.
    let r = act(
        &app,
        &w.firm_member,
        id,
        "accept",
        json!({"note": "愿意洽谈"}),
    )
    .await;
    r.assert_status(200);
    assert_eq!(r.body["stage"], "negotiating");
    let r = app.get(&path, Some(&w.lab_member)).await;
    assert_eq!(r.body["demand"]["org"]["id"], w.firm.id);
    let firm_step = r.body["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["side"] == "demand")
        .unwrap()
        .clone();
    assert_eq!(firm_step["actor_org_id"], w.firm.id);
    let notes = match_notes(&app, &w.lab_member).await;
    assert_eq!(kinds(&notes), vec!["match.introduced", "match.negotiating"]);
    assert_eq!(notes[1].2["demand"]["org"]["id"], w.firm.id);

    // Another anonymous need declined by the firm: the lab never learns who it was.
    let second = need(&app, &w.firm_member, "脱硫石膏渣制备建材的第二项需求", true).await;
    let r = app
        .post(
            "/v1/matches",
            Some(&w.broker),
            &json!({"listing_id": w.listing_id, "demand_id": second}),
        )
        .await;
    let id2 = r.body["id"].as_i64().unwrap();
    act(&app, &w.broker, id2, "introduce", json!({}))
        .await
        .assert_status(200);
    let r = act(&app, &w.firm_member, id2, "decline", json!({})).await;
    r.assert_status(200);
    assert_eq!(r.body["stage"], "closed");
    assert_eq!(r.body["close_reason"], "declined");
    let r = app
        .get(&format!("/v1/matches/{id2}"), Some(&w.lab_member))
        .await;
    assert_eq!(r.body["demand"]["org"], Value::Null);
    let step = r.body["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "decline")
        .unwrap()
        .clone();
    assert_eq!(step["side"], "demand");
    assert_eq!(step["actor_org_id"], Value::Null);
    assert_eq!(step["actor_user_id"], Value::Null);
    let notes = match_notes(&app, &w.lab_member).await;
    let declined = notes.iter().find(|n| n.1 == id2 && n.0 == "match.declined");
    assert_eq!(declined.unwrap().2["demand"]["org"], Value::Null);
}

#[tokio::test]
async fn a_stage_change_out_of_order_is_409_naming_the_allowed_actions() {
    let app = TestApp::spawn().await;
    let w = world(&app, false).await;
    let id = open(&app, &w).await;

    // Signing a suggestion: 409 with what is allowed now.
    let r = act(&app, &w.broker, id, "sign", json!({"contract_id": 1})).await;
    r.assert_problem(409, "match_invalid_transition");
    assert_eq!(strs(&r.body["allowed"]), vec!["introduce", "close"]);
    assert_eq!(
        strs(&r.body["context"]["allowed"]),
        vec!["introduce", "close"]
    );
    assert_eq!(r.body["context"]["stage"], "suggested");
    assert_eq!(r.body["context"]["action"], "sign");
    // The code is listed.
    let meta = app.get("/v1/meta/errors", None).await;
    assert!(meta
        .body
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["code"] == "match_invalid_transition" && e["status"] == 409));

    act(&app, &w.broker, id, "introduce", json!({}))
        .await
        .assert_status(200);
    let r = act(&app, &w.broker, id, "introduce", json!({})).await;
    r.assert_problem(409, "match_invalid_transition");
    assert_eq!(strs(&r.body["allowed"]), vec!["close"]);
    let r = act(&app, &w.broker, id, "sign", json!({"contract_id": 1})).await;
    r.assert_problem(409, "match_invalid_transition");
    assert_eq!(strs(&r.body["allowed"]), vec!["close"]);

    // A party may not do the broker's steps, nor the broker a party's: 403.
    act(&app, &w.lab_member, id, "introduce", json!({}))
        .await
        .assert_problem(403, "forbidden");
    act(&app, &w.firm_member, id, "sign", json!({"contract_id": 1}))
        .await
        .assert_problem(403, "forbidden");
    act(&app, &w.broker, id, "accept", json!({}))
        .await
        .assert_problem(403, "forbidden");
    // An agency admin is seen but acts for the broker's side only.
    act(&app, &w.agency.admin_token, id, "accept", json!({}))
        .await
        .assert_problem(403, "forbidden");

    // The lab accepts (an empty body is fine); accepting again is out of order.
    let r = app
        .send(
            reqwest::Method::POST,
            &format!("/v1/matches/{id}/accept"),
            Some(&w.lab_member),
            None,
            &[],
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["responses"]["listing"], "accepted");
    assert_eq!(r.body["responses"]["demand"], "pending");
    assert_eq!(strs(&r.body["actions"]), vec!["close"]);
    let r = act(&app, &w.lab_member, id, "accept", json!({})).await;
    r.assert_problem(409, "match_invalid_transition");
    assert_eq!(strs(&r.body["allowed"]), vec!["close"]);
    let r = act(&app, &w.lab.admin_token, id, "decline", json!({})).await;
    r.assert_problem(409, "match_invalid_transition");
    assert_eq!(strs(&r.body["allowed"]), vec!["close"]);

    // Bad bodies are 422 with the field.
    let r = act(
        &app,
        &w.firm_member,
        id,
        "close",
        json!({"reason": "other"}),
    )
    .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), vec!["note"]);
    let r = act(
        &app,
        &w.firm_member,
        id,
        "close",
        json!({"reason": "boredom"}),
    )
    .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), vec!["reason"]);
    let r = act(
        &app,
        &w.firm_member,
        id,
        "accept",
        json!({"side": "listing"}),
    )
    .await;
    r.assert_problem(422, "validation_failed");

    // The firm declines: the match is closed, nothing is allowed any more.
    let r = act(
        &app,
        &w.firm_member,
        id,
        "decline",
        json!({"note": "预算不足"}),
    )
    .await;
    r.assert_status(200);
    assert_eq!(r.body["stage"], "closed");
    assert_eq!(r.body["close_reason"], "declined");
    assert_eq!(r.body["close_note"], "预算不足");
    assert_eq!(strs(&r.body["actions"]), Vec::<String>::new());
    let r = act(&app, &w.broker, id, "close", json!({"reason": "no_fit"})).await;
    r.assert_problem(409, "match_invalid_transition");
    assert_eq!(r.body["allowed"], json!([]));
    let r = act(&app, &w.firm_member, id, "accept", json!({})).await;
    r.assert_problem(409, "match_invalid_transition");

    // Closed, the pair may be pitched again; closing a suggestion needs no party.
    let again = open(&app, &w).await;
    assert_ne!(again, id);
    let r = act(
        &app,
        &w.broker,
        again,
        "close",
        json!({"reason": "timing", "note": "等明年预算"}),
    )
    .await;
    r.assert_status(200);
    assert_eq!(r.body["close_reason"], "timing");
    app.get(&format!("/v1/matches/{again}"), Some(&w.lab_member))
        .await
        .assert_problem(404, "not_found");
}

#[tokio::test]
async fn each_party_is_notified_exactly_once_per_step() {
    let app = TestApp::spawn().await;
    let w = world(&app, false).await;
    let id = open(&app, &w).await;
    // Opening concerns nobody but the broker.
    assert!(match_notes(&app, &w.lab.admin_token).await.is_empty());
    assert!(match_notes(&app, &w.firm.admin_token).await.is_empty());

    act(&app, &w.broker, id, "introduce", json!({}))
        .await
        .assert_status(200);
    assert_eq!(
        kinds(&match_notes(&app, &w.lab.admin_token).await),
        vec!["match.introduced"]
    );
    assert_eq!(
        kinds(&match_notes(&app, &w.firm.admin_token).await),
        vec!["match.introduced"]
    );
    // Every member of each party organisation has it once.
    assert_eq!(
        kinds(&match_notes(&app, &w.lab_member).await),
        vec!["match.introduced"]
    );
    assert_eq!(
        kinds(&match_notes(&app, &w.firm_member).await),
        vec!["match.introduced"]
    );
    let n = &match_notes(&app, &w.firm.admin_token).await[0];
    assert_eq!(n.1, id);
    assert_eq!(n.2["listing"]["id"], w.listing_id);
    assert_eq!(n.2["stage"], "introduced");
    // Strangers and the other agency hear nothing.
    assert!(match_notes(&app, &w.stranger.admin_token).await.is_empty());
    assert!(match_notes(&app, &w.rival_broker).await.is_empty());

    // The firm accepts: the lab (the other party) and the broker's agency hear of it.
    act(&app, &w.firm_member, id, "accept", json!({}))
        .await
        .assert_status(200);
    assert_eq!(
        kinds(&match_notes(&app, &w.lab.admin_token).await),
        vec!["match.introduced", "match.accepted"]
    );
    assert_eq!(
        kinds(&match_notes(&app, &w.firm.admin_token).await),
        vec!["match.introduced"]
    );
    assert_eq!(
        kinds(&match_notes(&app, &w.broker).await),
        vec!["match.accepted"]
    );

    // The lab accepts: negotiating, both parties told once.
    let r = act(&app, &w.lab_member, id, "accept", json!({})).await;
    r.assert_status(200);
    assert_eq!(r.body["stage"], "negotiating");
    assert_eq!(
        kinds(&match_notes(&app, &w.lab.admin_token).await),
        vec!["match.introduced", "match.accepted", "match.negotiating"]
    );
    assert_eq!(
        kinds(&match_notes(&app, &w.firm.admin_token).await),
        vec!["match.introduced", "match.negotiating"]
    );

    // A retry with the same Idempotency-Key notifies nobody again.
    let close = json!({"reason": "price", "note": "报价差距较大"});
    let close_path = format!("/v1/matches/{id}/close");
    let send = || {
        app.send(
            reqwest::Method::POST,
            &close_path,
            Some(&w.firm_member),
            Some(&close),
            &[("idempotency-key", "close-once")],
        )
    };
    let r = send().await;
    r.assert_status(200);
    assert_eq!(r.body["stage"], "closed");
    let again = send().await;
    again.assert_status(200);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    let lab_notes = match_notes(&app, &w.lab.admin_token).await;
    let firm_notes = match_notes(&app, &w.firm.admin_token).await;
    assert_eq!(
        kinds(&lab_notes),
        vec![
            "match.introduced",
            "match.accepted",
            "match.negotiating",
            "match.closed"
        ]
    );
    assert_eq!(
        kinds(&firm_notes),
        vec!["match.introduced", "match.negotiating", "match.closed"]
    );
    assert_eq!(lab_notes[3].2["close_reason"], "price");
    assert!(lab_notes.iter().all(|n| n.1 == id));
    assert_eq!(
        kinds(&match_notes(&app, &w.broker).await),
        vec!["match.accepted", "match.negotiating", "match.closed"]
    );
}

/// Net (contract amount, technology amount) of a contract's ledger entries.
async fn ledger_net(app: &TestApp, token: &str, cid: i64) -> (i64, i64) {
    let r = app
        .get(&format!("/v1/contracts/{cid}/ledger"), Some(token))
        .await;
    r.assert_status(200);
    r.body.as_array().unwrap().iter().fold((0, 0), |a, e| {
        (
            a.0 + e["contract_amount_delta"].as_i64().unwrap(),
            a.1 + e["technology_amount_delta"].as_i64().unwrap(),
        )
    })
}

fn contract_body(title: &str, buyer: i64, match_id: Option<i64>, w: &World) -> Value {
    json!({
        "title": title,
        "sub_kind": "patent_license",
        "buyer": {"org_id": buyer},
        "contract_amount": 120 * WAN,
        "non_technical_costs": 15 * WAN,
        "signed_on": day(-1),
        "term_start": day(-1),
        "term_end": day(700),
        "tech_field": "environment",
        "ip_kind": "invention_patent",
        "listing_id": w.listing_id,
        "demand_id": w.demand_id,
        "match_id": match_id,
        "documents": [{"name": "专利实施许可合同（签章版）.pdf", "sha256": format!("{:064x}", 7), "size_bytes": 1024}]
    })
}

#[tokio::test]
async fn a_suggestion_becomes_a_registered_contract_and_the_funnel_shows_its_amount() {
    let app = TestApp::spawn().await;
    let w = world(&app, false).await;
    let station = app.org("station", "110000", true).await;
    let reviewer = app.member(&station, "station_reviewer").await;
    let op = app.operator().await;

    // Suggestion: the broker finds the listing among the need's suggestions.
    let path = format!("/v1/demands/{}/matches?limit=20", w.demand_id);
    let r = app
        .wait_until(
            &path,
            Some(&w.broker),
            "the listing among the suggestions",
            |r| {
                r.status.as_u16() == 200
                    && r.body["items"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|i| i["listing"]["id"] == w.listing_id))
            },
        )
        .await;
    let suggestion = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["listing"]["id"] == w.listing_id)
        .unwrap()
        .clone();
    assert!(suggestion["score"].as_f64().unwrap() > 0.0);
    // The broker marks it relevant.
    app.post(
        "/v1/matches/feedback",
        Some(&w.broker),
        &json!({"demand_id": w.demand_id, "listing_id": w.listing_id, "relevant": true}),
    )
    .await
    .assert_status(201);

    // Match → introduced → negotiating.
    let r = app
        .post(
            "/v1/matches",
            Some(&w.broker),
            &json!({"listing_id": w.listing_id, "demand_id": w.demand_id,
                    "note": format!("推荐得分 {}", suggestion["score"])}),
        )
        .await;
    r.assert_status(201);
    let id = r.body["id"].as_i64().unwrap();
    act(&app, &w.broker, id, "introduce", json!({}))
        .await
        .assert_status(200);
    act(&app, &w.firm_member, id, "accept", json!({}))
        .await
        .assert_status(200);
    let r = act(&app, &w.lab_member, id, "accept", json!({})).await;
    assert_eq!(r.body["stage"], "negotiating");
    assert_eq!(strs(&r.body["actions"]), vec!["close"]);
    let r = app.get(&format!("/v1/matches/{id}"), Some(&w.broker)).await;
    assert_eq!(strs(&r.body["actions"]), vec!["sign", "close"]);

    // The contract: drafted by the lab with match_id, then submitted, accepted, registered.
    let r = app
        .post(
            "/v1/contracts",
            Some(&w.lab_member),
            &contract_body(
                "脱硫石膏渣制备高强石膏专利实施许可合同",
                w.firm.id,
                Some(id),
                &w,
            ),
        )
        .await;
    r.assert_status(201);
    let cid = r.body["id"].as_i64().unwrap();
    // Not registered yet: it cannot sign the match.
    let r = act(&app, &w.broker, id, "sign", json!({"contract_id": cid})).await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "contract_id");
    assert_eq!(r.body["errors"][0]["code"], "not_registered");
    for (step, token) in [
        ("submit", &w.lab_member),
        ("accept", &reviewer),
        ("register", &reviewer),
    ] {
        let r = app
            .post(
                &format!("/v1/contracts/{cid}/{step}"),
                Some(token),
                &json!({}),
            )
            .await;
        r.assert_status(200);
    }
    let (contract_amount, technology_amount) = ledger_net(&app, &w.lab_member, cid).await;
    assert_eq!(contract_amount, 120 * WAN);
    assert_eq!(technology_amount, 105 * WAN);

    // A contract of the same parties that does not name this match cannot sign it, nor can a
    // contract that does not exist.
    let r = app
        .post(
            "/v1/contracts",
            Some(&w.lab_member),
            &contract_body("另一份无关的专利实施许可合同", w.firm.id, None, &w),
        )
        .await;
    let other = r.body["id"].as_i64().unwrap();
    for c in [other, 999_999] {
        let r = act(&app, &w.broker, id, "sign", json!({"contract_id": c})).await;
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.body["errors"][0]["code"], "not_linked");
    }
    // Only the broker's side signs.
    act(&app, &w.lab_member, id, "sign", json!({"contract_id": cid}))
        .await
        .assert_problem(403, "forbidden");

    // Signed.
    let r = act(&app, &w.broker, id, "sign", json!({"contract_id": cid})).await;
    r.assert_status(200);
    assert_eq!(r.body["stage"], "signed");
    assert_eq!(r.body["contract_id"], cid);
    let history: Vec<(String, String)> = r.body["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_string(),
                e["to_stage"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected = [
        ("open", "suggested"),
        ("introduce", "introduced"),
        ("accept", "introduced"),
        ("accept", "introduced"),
        ("negotiate", "negotiating"),
        ("sign", "signed"),
    ];
    assert_eq!(
        history,
        expected
            .iter()
            .map(|(a, s)| (a.to_string(), s.to_string()))
            .collect::<Vec<_>>()
    );
    for e in r.body["history"].as_array().unwrap() {
        assert!(e["actor_user_id"].as_i64().is_some(), "who: {e}");
        assert!(e["at"].as_str().is_some(), "when: {e}");
    }
    assert_eq!(r.body["history"][5]["contract_id"], cid);
    let notes = match_notes(&app, &w.firm.admin_token).await;
    assert_eq!(notes.last().unwrap().0, "match.signed");
    assert_eq!(notes.last().unwrap().2["contract_id"], cid);

    // A second match of the broker, closed, so the funnel has more than one stage to show.
    let n2 = need(
        &app,
        &w.firm_member,
        "脱硫石膏渣制备建材的另一项需求",
        false,
    )
    .await;
    let r = app
        .post(
            "/v1/matches",
            Some(&w.broker),
            &json!({"listing_id": w.listing_id, "demand_id": n2}),
        )
        .await;
    let id2 = r.body["id"].as_i64().unwrap();
    act(&app, &w.broker, id2, "close", json!({"reason": "no_fit"}))
        .await
        .assert_status(200);

    // The broker's funnel shows the registered technology amount, to the fen.
    let funnel_path = format!("/v1/matches/funnel?broker={}", w.broker_id);
    let f = app.get(&funnel_path, Some(&w.broker)).await;
    f.assert_status(200);
    assert_eq!(f.body["broker"], w.broker_id);
    assert_eq!(f.body["total"], 2);
    assert_eq!(f.body["signed"]["matches"], 1);
    assert_eq!(f.body["signed"]["contracts"], 1);
    assert_eq!(f.body["signed"]["technology_amount"], technology_amount);
    assert_eq!(f.body["signed"]["technology_amount"], 105 * WAN);
    assert_eq!(f.body["signed"]["contract_amount"], 120 * WAN);
    let item = &f.body["signed"]["items"][0];
    assert_eq!(item["match_id"], id);
    assert_eq!(item["listing_id"], w.listing_id);
    assert_eq!(item["demand_id"], w.demand_id);
    assert_eq!(item["broker_user_id"], w.broker_id);
    assert_eq!(item["contract_id"], cid);
    assert_eq!(item["technology_amount"], 105 * WAN);
    assert_eq!(item["registration_number"].as_str().unwrap().len(), 18);
    let stage = |s: &str| -> Value {
        f.body["stages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["stage"] == s)
            .unwrap_or_else(|| panic!("{s} in {}", f.text))
            .clone()
    };
    assert_eq!(stage("suggested")["reached"], 2);
    assert_eq!(stage("suggested")["current"], 0);
    assert_eq!(stage("suggested")["stays"], 2);
    assert_eq!(stage("introduced")["reached"], 1);
    assert_eq!(stage("negotiating")["reached"], 1);
    assert_eq!(stage("signed")["current"], 1);
    assert_eq!(stage("closed")["current"], 1);
    assert_eq!(stage("signed")["median_days"], Value::Null);
    for s in ["suggested", "introduced", "negotiating"] {
        let d = stage(s)["median_days"].as_f64().unwrap();
        assert!((0.0..1.0).contains(&d), "{s}: {d}");
    }
    assert_eq!(f.body["closed_by_reason"]["no_fit"], 1);

    // The agency's funnel (its admin, operators) is the same here; others are refused.
    let agency_path = format!("/v1/matches/funnel?agency={}", w.agency.id);
    let a = app.get(&agency_path, Some(&w.agency.admin_token)).await;
    a.assert_status(200);
    assert_eq!(a.body["signed"]["technology_amount"], 105 * WAN);
    app.get(&agency_path, Some(&op)).await.assert_status(200);
    app.get(&funnel_path, Some(&w.agency.admin_token))
        .await
        .assert_status(200);
    app.get(&funnel_path, Some(&op)).await.assert_status(200);
    for other in [
        &w.rival_broker,
        &w.rival.admin_token,
        &w.lab_member,
        &w.firm.admin_token,
    ] {
        app.get(&funnel_path, Some(other))
            .await
            .assert_problem(403, "forbidden");
    }
    app.get(&agency_path, Some(&w.broker))
        .await
        .assert_problem(403, "forbidden");
    app.get(&agency_path, Some(&w.rival.admin_token))
        .await
        .assert_problem(403, "forbidden");
    app.get("/v1/matches/funnel?broker=999999", Some(&op))
        .await
        .assert_problem(404, "not_found");
    app.get(
        &format!("/v1/matches/funnel?agency={}", w.lab.id),
        Some(&op),
    )
    .await
    .assert_problem(404, "not_found");
    let r = app.get("/v1/matches/funnel", Some(&op)).await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), vec!["broker"]);
    app.get(
        &format!(
            "/v1/matches/funnel?broker={}&agency={}",
            w.broker_id, w.agency.id
        ),
        Some(&op),
    )
    .await
    .assert_problem(422, "validation_failed");
    // The rival broker's funnel is empty.
    let rival_id = user_id(&app, &w.rival_broker).await;
    let r = app
        .get(
            &format!("/v1/matches/funnel?broker={rival_id}"),
            Some(&w.rival_broker),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["total"], 0);
    assert_eq!(r.body["signed"]["technology_amount"], 0);
}

#[tokio::test]
async fn feedback_is_one_answer_per_user_and_pair_and_exports_as_json_lines() {
    let app = TestApp::spawn().await;
    let w = world(&app, false).await;
    let op = app.operator().await;
    let pair = |relevant: bool| json!({"demand_id": w.demand_id, "listing_id": w.listing_id, "relevant": relevant});

    let r = app
        .post("/v1/matches/feedback", Some(&w.firm_member), &pair(true))
        .await;
    r.assert_status(201);
    let first = r.body.clone();
    assert_eq!(first["side"], "demand");
    assert_eq!(first["relevant"], true);
    // A new answer replaces the old one.
    let mut b = pair(false);
    b["note"] = json!("工艺路线不适合我们的原料");
    let r = app
        .post("/v1/matches/feedback", Some(&w.firm_member), &b)
        .await;
    r.assert_status(200);
    assert_eq!(r.body["id"], first["id"]);
    assert_eq!(r.body["relevant"], false);
    assert_eq!(r.body["note"], "工艺路线不适合我们的原料");
    assert_eq!(r.body["created_at"], first["created_at"]);
    assert!(r.body["updated_at"].as_str().unwrap() >= first["updated_at"].as_str().unwrap());

    let r = app
        .post(
            "/v1/matches/feedback",
            Some(&w.lab.admin_token),
            &pair(true),
        )
        .await;
    r.assert_status(201);
    assert_eq!(r.body["side"], "listing");
    let r = app
        .post("/v1/matches/feedback", Some(&w.broker), &pair(true))
        .await;
    r.assert_status(201);
    assert_eq!(r.body["side"], "broker");

    // Nobody else; unknown pairs and bad bodies are 422 by field.
    app.post(
        "/v1/matches/feedback",
        Some(&w.stranger.admin_token),
        &pair(true),
    )
    .await
    .assert_problem(403, "forbidden");
    let unverified = app.org("agency", "110108", false).await;
    let unverified_broker = app.member(&unverified, "broker").await;
    app.post(
        "/v1/matches/feedback",
        Some(&unverified_broker),
        &pair(true),
    )
    .await
    .assert_problem(403, "forbidden");
    let r = app
        .post(
            "/v1/matches/feedback",
            Some(&w.broker),
            &json!({"demand_id": 999_999, "listing_id": -4, "relevant": true}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), vec!["listing_id"]);
    let r = app
        .post(
            "/v1/matches/feedback",
            Some(&w.broker),
            &json!({"demand_id": 999_999, "listing_id": w.listing_id, "relevant": true}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), vec!["demand_id"]);
    let r = app
        .post(
            "/v1/matches/feedback",
            Some(&w.broker),
            &json!({"demand_id": w.demand_id, "listing_id": w.listing_id}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), vec!["relevant"]);

    // The export: operators only, one JSON line per answer.
    app.get("/v1/matches/feedback/export", Some(&w.broker))
        .await
        .assert_problem(403, "forbidden");
    let r = app.get("/v1/matches/feedback/export", Some(&op)).await;
    r.assert_status(200);
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("application/x-ndjson"));
    let lines: Vec<Value> = r
        .text
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 3, "{}", r.text);
    let firm_line = &lines[0];
    assert_eq!(firm_line["demand_id"], w.demand_id);
    assert_eq!(firm_line["listing_id"], w.listing_id);
    assert_eq!(firm_line["relevant"], false);
    assert_eq!(firm_line["side"], "demand");
    assert_eq!(firm_line["role"], "member");
    assert_eq!(firm_line["org_kind"], "enterprise");
    assert!(firm_line["at"].as_str().is_some());
    assert!(firm_line.get("note").is_none());
    assert_eq!(lines[1]["role"], "org_admin");
    assert_eq!(lines[1]["org_kind"], "university");
    assert_eq!(lines[2]["role"], "broker");
    assert_eq!(lines[2]["org_kind"], "agency");
}
