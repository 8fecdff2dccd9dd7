//! Subscriptions: saved searches and followed needs. A new matching listing reaches the
//! subscriber's inbox once (however often the push job runs, and after the listing changes);
//! a non-matching one never does; the daily cap holds; daily delivery sends one digest; only
//! the owner organisation sees a subscription. The push job is run directly
//! (`ttx_matching::subscriptions::job::run_once`), so no test waits for its interval.
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};
use std::sync::Arc;
use ttx_matching::subscriptions::job::{run_once, RunReport};
use ttx_matching::MatchingState;
use ttx_tests::{Org, TestApp};

/// An app whose push job does not run by itself; `cap` pushes a day.
async fn app_with_cap(cap: u32) -> TestApp {
    TestApp::spawn_with(|c| {
        c.matching.push_interval_secs = 0;
        c.matching.push_daily_cap = cap;
    })
    .await
}

/// Runs the push job once at `now` against the app's database and search index.
async fn job(app: &TestApp, now: DateTime<Utc>) -> RunReport {
    let st = MatchingState {
        db: app.db.clone(),
        engine: ttx_server::search_ops::engine_from_config(&app.config).expect("engine"),
        outbox: Arc::new(tokio::sync::Notify::new()),
        cfg: Arc::new(app.config.matching.clone()),
        terms: Arc::new(ttx_matching::TermsCache::new(1 << 20)),
    };
    run_once(&st, now).await.expect("the push job runs")
}

/// A published listing about `title`, with `keywords` and `description` as given.
async fn listing(app: &TestApp, uni: &Org, title: &str, keywords: &[&str], field: &str) -> i64 {
    let text = format!("本成果“{title}”已完成中试验证。");
    let body = ttx_tests::fixtures::listing_body(title, &text, keywords, field);
    app.create("/v1/listings", &uni.admin_token, &body).await
}

/// The inbox entries of `kind`.
async fn inbox(app: &TestApp, token: &str, kind: &str) -> Vec<Value> {
    let r = app.get("/v1/notifications?limit=100", Some(token)).await;
    r.assert_status(200);
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == kind)
        .cloned()
        .collect()
}

fn pushed_ids(items: &[Value]) -> Vec<i64> {
    let mut v: Vec<i64> = items
        .iter()
        .map(|i| i["data"]["listing"]["id"].as_i64().unwrap())
        .collect();
    v.sort_unstable();
    v
}

async fn subscribe(app: &TestApp, token: &str, body: Value) -> i64 {
    let r = app.post("/v1/subscriptions", Some(token), &body).await;
    r.assert_status(201);
    assert_eq!(
        r.header("location"),
        Some(format!("/v1/subscriptions/{}", r.body["id"]).as_str())
    );
    r.body["id"].as_i64().unwrap()
}

#[tokio::test]
async fn a_matching_listing_reaches_the_subscriber_once_and_a_non_matching_one_never() {
    let app = app_with_cap(20).await;
    let firm = app.org("enterprise", "320505", false).await;
    let member = app.member(&firm, "member").await;
    let other = app.org("enterprise", "440305", false).await;
    let uni = app.org("university", "110108", false).await;

    // Bad input is a field error; universities do not subscribe.
    let r = app
        .post(
            "/v1/subscriptions",
            Some(&firm.admin_token),
            &json!({"query": "磷石膏", "demand_id": 1, "delivery": "weekly"}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    let r = app
        .post(
            "/v1/subscriptions",
            Some(&firm.admin_token),
            &json!({"query": "磷石膏", "filters": {"field": ["magic"], "trl_min": 0, "region": "99"}}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    let fields = r.error_fields();
    for f in ["filters.field", "filters.trl_min", "filters.region"] {
        assert!(fields.contains(&f.to_string()), "{f} in {fields:?}");
    }
    app.post(
        "/v1/subscriptions",
        Some(&firm.admin_token),
        &json!({"demand_id": 999_999}),
    )
    .await
    .assert_problem(422, "validation_failed");
    app.post(
        "/v1/subscriptions",
        Some(&uni.admin_token),
        &json!({"query": "磷石膏"}),
    )
    .await
    .assert_problem(403, "forbidden");

    let sub = subscribe(
        &app,
        &member,
        json!({"name": "磷石膏综合利用", "query": "磷石膏 建材", "filters": {"field": ["environment"]}}),
    )
    .await;
    // The organisation's webhook for pushes.
    let r = app
        .post(
            "/v1/webhooks",
            Some(&firm.admin_token),
            &json!({"url": "https://hooks.example.com/ttx", "events": ["subscription.match"]}),
        )
        .await;
    r.assert_status(201);
    let hook = r.body["webhook"]["id"].as_i64().unwrap();
    // Only the owner organisation sees it.
    app.get(
        &format!("/v1/subscriptions/{sub}"),
        Some(&other.admin_token),
    )
    .await
    .assert_problem(404, "not_found");
    app.delete(
        &format!("/v1/subscriptions/{sub}"),
        Some(&other.admin_token),
    )
    .await
    .assert_problem(404, "not_found");
    let r = app.get("/v1/subscriptions", Some(&other.admin_token)).await;
    assert_eq!(r.body["items"], json!([]));
    let r = app.get("/v1/subscriptions", Some(&firm.admin_token)).await;
    assert_eq!(r.body["items"][0]["id"], sub);
    assert_eq!(r.body["items"][0]["kind"], "search");
    assert_eq!(r.body["items"][0]["delivery"], "immediate");

    let good = listing(
        &app,
        &uni,
        "磷石膏制备绿色建材关键技术",
        &["磷石膏", "建材"],
        "environment",
    )
    .await;
    // Another field, other words: no match.
    let unrelated = listing(
        &app,
        &uni,
        "高镍三元锂电池正极材料",
        &["锂电池", "正极"],
        "new_energy",
    )
    .await;
    // The search's field, other words: no match.
    let off_topic = listing(
        &app,
        &uni,
        "城市生活垃圾焚烧飞灰稳定化处理",
        &["飞灰", "稳定化"],
        "environment",
    )
    .await;
    // The right words in a field the search excludes: no match either.
    let other_field = listing(
        &app,
        &uni,
        "磷石膏建材生产线智能控制系统",
        &["磷石膏", "建材"],
        "electronic_information",
    )
    .await;

    let r = job(&app, app.clock.now()).await;
    assert_eq!(r.sent, 1, "{r:?}");
    let got = inbox(&app, &member, "subscription.match").await;
    assert_eq!(pushed_ids(&got), vec![good]);
    assert_eq!(got[0]["data"]["subscription_id"], sub);
    assert!(got[0]["data"]["score"].as_f64().unwrap() >= app.config.matching.push_threshold);
    assert!(got[0]["title_zh"]
        .as_str()
        .unwrap()
        .contains("磷石膏综合利用"));
    // Every member of the organisation has it.
    assert_eq!(
        pushed_ids(&inbox(&app, &firm.admin_token, "subscription.match").await),
        vec![good]
    );

    // ... and its webhook.
    let r = app
        .get(
            &format!("/v1/webhooks/{hook}/deliveries"),
            Some(&firm.admin_token),
        )
        .await;
    r.assert_status(200);
    let kinds: Vec<&str> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["subscription.match"]);

    // Running again, and after the listing changed, the pairing is not pushed again.
    assert_eq!(job(&app, app.clock.now()).await.sent, 0);
    let cur = app.get(&format!("/v1/listings/{good}"), None).await;
    app.patch(
        &format!("/v1/listings/{good}"),
        Some(&uni.admin_token),
        &cur.etag(),
        &json!({"summary": "磷石膏净化后制备石膏板和砌块，已建成示范线"}),
    )
    .await
    .assert_status(200);
    assert_eq!(job(&app, app.clock.now()).await.sent, 0);
    let got = inbox(&app, &member, "subscription.match").await;
    assert_eq!(pushed_ids(&got), vec![good]);
    let r = app
        .get(
            &format!("/v1/webhooks/{hook}/deliveries"),
            Some(&firm.admin_token),
        )
        .await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    assert!(!pushed_ids(&got).contains(&unrelated));
    assert!(!pushed_ids(&got).contains(&other_field));
    assert!(!pushed_ids(&got).contains(&off_topic));

    // The subscription shows what it pushed.
    let r = app
        .get(&format!("/v1/subscriptions/{sub}"), Some(&member))
        .await;
    r.assert_status(200);
    assert_eq!(r.body["pushes"]["total"], 1);
    assert_eq!(r.body["recent"][0]["listing_id"], good);
    assert_eq!(r.body["recent"][0]["status"], "sent");
    assert_eq!(r.body["filters"]["field"], json!(["environment"]));

    // Deleted: nothing more arrives.
    app.delete(&format!("/v1/subscriptions/{sub}"), Some(&member))
        .await
        .assert_status(204);
    app.get(&format!("/v1/subscriptions/{sub}"), Some(&member))
        .await
        .assert_problem(404, "not_found");
    listing(
        &app,
        &uni,
        "磷石膏基绿色建材新工艺",
        &["磷石膏", "建材"],
        "environment",
    )
    .await;
    assert_eq!(job(&app, app.clock.now()).await.sent, 0);
    assert_eq!(inbox(&app, &member, "subscription.match").await.len(), 1);
}

#[tokio::test]
async fn a_followed_need_gets_the_listings_the_matcher_finds_for_it() {
    let app = app_with_cap(20).await;
    let firm = app.org("enterprise", "320505", false).await;
    let uni = app.org("university", "110108", false).await;
    let need = json!({
        "title": "磷石膏堆存量大，寻求磷石膏制备建材的综合利用技术",
        "problem": "我司磷化工装置每年副产磷石膏约五十万吨，长期堆存占用土地并带来环保压力，现有磷石膏含杂质多，直接用于建材强度不达标。",
        "key_points": "磷石膏预处理除杂；制备石膏板、砌块等建材的配方与工艺；产品强度与耐水性。",
        "goals": "磷石膏综合利用率达到百分之六十以上，建材产品满足国家标准。",
        "keywords": ["磷石膏", "综合利用", "建材"],
        "field": "environment",
        "modes": ["license"],
        "trl_min": 5,
        "trl_max": 8,
        "budget": {"kind": "negotiable"},
        "deadline": ttx_tests::fixtures::day(90),
        "contact": {"name": "需求对接人", "phone": "13812345678", "email": "need@firm.test"},
        "publish": true
    });
    let r = app
        .post("/v1/demands", Some(&firm.admin_token), &need)
        .await;
    r.assert_status(201);
    let demand = r.body["id"].as_i64().unwrap();
    // Another organisation's need cannot be followed.
    let stranger = app.org("enterprise", "440305", false).await;
    let r = app
        .post(
            "/v1/subscriptions",
            Some(&stranger.admin_token),
            &json!({"demand_id": demand}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), vec!["demand_id"]);

    let sub = subscribe(&app, &firm.admin_token, json!({"demand_id": demand})).await;
    let r = app
        .get(&format!("/v1/subscriptions/{sub}"), Some(&firm.admin_token))
        .await;
    assert_eq!(r.body["kind"], "demand");
    assert_eq!(r.body["demand_id"], demand);
    assert_eq!(r.body["name"], need["title"]);

    let good = listing(
        &app,
        &uni,
        "磷石膏预处理除杂及制备绿色建材技术",
        &["磷石膏", "建材", "综合利用"],
        "environment",
    )
    .await;
    let unrelated = listing(
        &app,
        &uni,
        "高镍三元锂电池正极材料",
        &["锂电池", "正极"],
        "new_energy",
    )
    .await;
    // A followed need finds listings through the index: wait until both are in it.
    app.wait_until("/readyz", None, "the search outbox to drain", |r| {
        r.body["search"]["outbox_pending"] == json!(0)
    })
    .await;
    let r = job(&app, app.clock.now()).await;
    assert_eq!(r.sent, 1, "{r:?}");
    assert_eq!(job(&app, app.clock.now()).await.sent, 0);
    let got = inbox(&app, &firm.admin_token, "subscription.match").await;
    assert_eq!(pushed_ids(&got), vec![good]);
    assert!(!pushed_ids(&got).contains(&unrelated));
    // The score is the matcher's, with its reason.
    assert!(!got[0]["data"]["reason_zh"].as_str().unwrap().is_empty());
}

#[tokio::test]
async fn the_daily_cap_holds() {
    let app = app_with_cap(2).await;
    let firm = app.org("enterprise", "320505", false).await;
    let uni = app.org("university", "110108", false).await;
    let sub = subscribe(&app, &firm.admin_token, json!({"query": "磷石膏"})).await;
    let mut ids = vec![];
    for t in [
        "磷石膏制备绿色建材技术",
        "磷石膏制备硫酸联产水泥",
        "磷石膏改良盐碱地技术",
    ] {
        ids.push(listing(&app, &uni, t, &["磷石膏"], "environment").await);
    }
    let r = job(&app, app.clock.now()).await;
    assert_eq!((r.sent, r.capped), (2, 1), "{r:?}");
    assert_eq!(job(&app, app.clock.now()).await.sent, 0);
    let got = inbox(&app, &firm.admin_token, "subscription.match").await;
    assert_eq!(got.len(), 2);
    let r = app
        .get(&format!("/v1/subscriptions/{sub}"), Some(&firm.admin_token))
        .await;
    assert_eq!(r.body["pushes"]["today"], 2);
    assert_eq!(r.body["pushes"]["capped"], 1);

    // A new listing the same day is over the cap too.
    let fourth = listing(&app, &uni, "磷石膏基胶凝材料", &["磷石膏"], "environment").await;
    let r = job(&app, app.clock.now()).await;
    assert_eq!((r.sent, r.capped), (0, 1), "{r:?}");
    assert_eq!(
        inbox(&app, &firm.admin_token, "subscription.match")
            .await
            .len(),
        2
    );
    // The next day the cap starts again; what was capped is never sent.
    let fifth = listing(
        &app,
        &uni,
        "磷石膏无害化处理装备",
        &["磷石膏"],
        "environment",
    )
    .await;
    let r = job(&app, app.clock.now() + Duration::days(1)).await;
    assert_eq!((r.sent, r.capped), (1, 0), "{r:?}");
    let got = pushed_ids(&inbox(&app, &firm.admin_token, "subscription.match").await);
    assert_eq!(got.len(), 3);
    assert!(got.contains(&fifth));
    assert!(!got.contains(&fourth));
}

#[tokio::test]
async fn daily_delivery_sends_one_digest() {
    let app = app_with_cap(20).await;
    let firm = app.org("enterprise", "320505", false).await;
    let uni = app.org("university", "110108", false).await;
    let sub = subscribe(
        &app,
        &firm.admin_token,
        json!({"query": "磷石膏", "delivery": "daily"}),
    )
    .await;
    let a = listing(
        &app,
        &uni,
        "磷石膏制备绿色建材技术",
        &["磷石膏"],
        "environment",
    )
    .await;
    let b = listing(
        &app,
        &uni,
        "磷石膏改良盐碱地技术",
        &["磷石膏"],
        "environment",
    )
    .await;
    let now = app.clock.now();
    let r = job(&app, now).await;
    assert_eq!((r.sent, r.queued, r.digests), (0, 2, 0), "{r:?}");
    assert!(inbox(&app, &firm.admin_token, "subscription.match")
        .await
        .is_empty());
    assert!(inbox(&app, &firm.admin_token, "subscription.digest")
        .await
        .is_empty());
    // The next day: one digest with both, once.
    let r = job(&app, now + Duration::days(1)).await;
    assert_eq!(r.digests, 1, "{r:?}");
    assert_eq!(job(&app, now + Duration::days(1)).await.digests, 0);
    let got = inbox(&app, &firm.admin_token, "subscription.digest").await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["data"]["subscription_id"], sub);
    let mut items: Vec<i64> = got[0]["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["listing"]["id"].as_i64().unwrap())
        .collect();
    items.sort_unstable();
    assert_eq!(items, vec![a, b]);
    let r = app
        .get(&format!("/v1/subscriptions/{sub}"), Some(&firm.admin_token))
        .await;
    assert!(r.body["recent"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["status"] == "digested"));
}
