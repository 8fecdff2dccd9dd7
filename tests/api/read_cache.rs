//! The public read cache (`read_cache`): anonymous `GET /v1/listings/{id}` and
//! `GET /v1/demands/{id}` are answered from memory, yet a write in this process is seen by the
//! next read (read-your-writes), callers with a token never get the cached public view, ETags stay
//! the versions, and a write made by another process on the same database is followed through
//! the change log within about `read_cache.follow_ms` (or, with following off, seen after at most
//! `read_cache.ttl_secs`); a second application on the same database stands for that process.
use serde_json::{json, Value};
use ttx_tests::fixtures::{listing_body, need_body, query_escape};
use ttx_tests::{Resp, TestApp};

fn listing(title: &str) -> Value {
    let mut b = listing_body(
        title,
        &format!("本成果“{title}”已完成中试验证，可面向企业转化。"),
        &["成果转化"],
        "new_energy",
    );
    b["contact"] =
        json!({"name": "保密联系人", "phone": "13912345678", "email": "secret@lab.test"});
    b
}

/// Asserts a public answer: 200, JSON, the ETag of `version`, no contact details.
fn public(r: &Resp, version: i64) {
    r.assert_status(200);
    assert!(
        r.header("content-type")
            .unwrap_or("")
            .starts_with("application/json"),
        "content type {:?}",
        r.header("content-type")
    );
    assert_eq!(r.etag(), format!("\"{version}\""));
    assert_eq!(r.body["version"], version);
    assert_eq!(
        r.body["contact"],
        Value::Null,
        "no contact in a public read"
    );
    assert!(!r.text.contains("secret@lab.test") && !r.text.contains("needs@firm.test"));
}

/// The card of `id` among the hits of the public search at `path`, if shown.
fn card(r: &Resp, id: i64) -> Option<Value> {
    r.assert_status(200);
    r.body["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| h["listing"].clone())
        .find(|l| l["id"] == id)
}

/// Anonymous reads by id and the cards of public searches: both come from memory once read, and
/// both follow each write at once. The index is updated asynchronously, so a search card that
/// changes at once changes because the write dropped it, not because the index caught up.
#[tokio::test]
async fn anonymous_listing_reads_follow_every_write_at_once() {
    let app = TestApp::spawn_with(|c| c.read_cache.ttl_secs = 3600).await;
    let uni = app.org("university", "110108", false).await;
    let id = app
        .create("/v1/listings", &uni.admin_token, &listing("钙钛矿叠层电池"))
        .await;
    let path = format!("/v1/listings/{id}");

    // Twice anonymously (the second from the cache): the same public view.
    let a = app.get(&path, None).await;
    public(&a, 1);
    let b = app.get(&path, None).await;
    public(&b, 1);
    assert_eq!(a.body, b.body);
    assert_eq!(a.body["title"], "钙钛矿叠层电池");

    // The owner still gets the private fields.
    let own = app.get(&path, Some(&uni.admin_token)).await;
    own.assert_status(200);
    assert_eq!(own.body["contact"]["email"], "secret@lab.test");
    assert_eq!(own.etag(), a.etag());

    // Its search card, twice (the second from the card cache): the same public card.
    let search = format!("/v1/listings?q={}", query_escape("钙钛矿"));
    let first = app
        .wait_until(&search, None, "the listing to be indexed", |r| {
            card(r, id).is_some()
        })
        .await;
    let c = card(&first, id).unwrap();
    assert_eq!(c["title"], "钙钛矿叠层电池");
    assert_eq!(c["version"], 1);
    assert!(!first.text.contains("secret@lab.test") && !first.text.contains("13912345678"));
    assert_eq!(card(&app.get(&search, None).await, id), Some(c));

    // An update with the ETag an anonymous read gave: the next anonymous read shows it.
    let p = app
        .patch(
            &path,
            Some(&uni.admin_token),
            &a.etag(),
            &json!({"title": "钙钛矿叠层电池（第二版）"}),
        )
        .await;
    p.assert_status(200);
    let r = app.get(&path, None).await;
    public(&r, 2);
    assert_eq!(r.body["title"], "钙钛矿叠层电池（第二版）");
    let c = card(&app.get(&search, None).await, id).expect("still found");
    assert_eq!(c["title"], "钙钛矿叠层电池（第二版）");
    assert_eq!(c["version"], 2);
    // The ETag a cached read gave is the version: an update with the old one is refused.
    app.patch(
        &path,
        Some(&uni.admin_token),
        &a.etag(),
        &json!({"title": "旧版本覆盖"}),
    )
    .await
    .assert_problem(412, "precondition_failed");

    // The owner organisation renamed: the public view names it at once.
    let org_path = format!("/v1/orgs/{}", uni.id);
    let o = app.get(&org_path, Some(&uni.admin_token)).await;
    app.patch(
        &org_path,
        Some(&uni.admin_token),
        &o.etag(),
        &json!({"name": "改名后的大学"}),
    )
    .await
    .assert_status(200);
    let r = app.get(&path, None).await;
    public(&r, 2);
    assert_eq!(r.body["owner"]["name"], "改名后的大学");
    let c = card(&app.get(&search, None).await, id).expect("still found");
    assert_eq!(c["owner"]["name"], "改名后的大学");

    // Withdrawn: gone from the public and off the results at once (even where the index still
    // holds it); published again: back.
    app.post(
        &format!("{path}/withdraw"),
        Some(&uni.admin_token),
        &json!({}),
    )
    .await
    .assert_status(200);
    app.get(&path, None).await.assert_problem(404, "not_found");
    assert_eq!(card(&app.get(&search, None).await, id), None);
    app.post(
        &format!("{path}/publish"),
        Some(&uni.admin_token),
        &json!({}),
    )
    .await
    .assert_status(200);
    let r = app.get(&path, None).await;
    public(&r, 4);
    assert_eq!(r.body["status"], "published");
    let back = app
        .wait_until(&search, None, "the listing back in the results", |r| {
            card(r, id).is_some()
        })
        .await;
    let c = card(&back, id).unwrap();
    assert_eq!(c["status"], "published");
    assert_eq!(c["version"], 4);

    // A draft is never public, cached or not.
    let mut draft = listing("未发布的草稿成果");
    draft["publish"] = json!(false);
    let d = app.create("/v1/listings", &uni.admin_token, &draft).await;
    for _ in 0..2 {
        app.get(&format!("/v1/listings/{d}"), None)
            .await
            .assert_problem(404, "not_found");
    }
}

#[tokio::test]
async fn anonymous_need_reads_follow_every_write_at_once() {
    let app = TestApp::spawn_with(|c| c.read_cache.ttl_secs = 3600).await;
    let firm = app.org("enterprise", "320505", false).await;
    let id = app
        .create(
            "/v1/demands",
            &firm.admin_token,
            &need_body("脱硫石膏渣综合利用", false),
        )
        .await;
    let path = format!("/v1/demands/{id}");
    let a = app.get(&path, None).await;
    public(&a, 1);
    public(&app.get(&path, None).await, 1);
    let own = app.get(&path, Some(&firm.admin_token)).await;
    assert_eq!(own.body["contact"]["email"], "needs@firm.test");

    app.patch(
        &path,
        Some(&firm.admin_token),
        &a.etag(),
        &json!({"title": "脱硫石膏渣高值化利用"}),
    )
    .await
    .assert_status(200);
    let r = app.get(&path, None).await;
    public(&r, 2);
    assert_eq!(r.body["title"], "脱硫石膏渣高值化利用");

    app.post(
        &format!("{path}/close"),
        Some(&firm.admin_token),
        &json!({"outcome": "resolved"}),
    )
    .await
    .assert_status(200);
    app.get(&path, None).await.assert_problem(404, "not_found");
}

/// A second application on the same database (another `ttx` process in the scale-out setup),
/// with its own data directory; its base URL.
async fn second_process(app: &TestApp) -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = app.config.clone();
    config.data_dir = dir.path().to_path_buf();
    let other = ttx_server::App::build_with_clock(config, ttx_core::Clock::manual())
        .await
        .expect("the second application builds");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = other.serve_until(listener, std::future::pending()).await;
    });
    (base, dir)
}

async fn retitle_elsewhere(base: &str, path: &str, token: &str, etag: &str, title: &str) {
    let r = reqwest::Client::new()
        .patch(format!("{base}{path}"))
        .bearer_auth(token)
        .header("if-match", etag)
        .json(&json!({ "title": title }))
        .send()
        .await
        .expect("request sent");
    assert_eq!(
        r.status().as_u16(),
        200,
        "{}",
        r.text().await.unwrap_or_default()
    );
}

#[tokio::test]
async fn another_process_write_is_seen_within_the_ttl_without_following() {
    // The index worker of a process drops the cached views of what it indexes: this one's
    // worker must not take the other process's write (on PostgreSQL either could), so it runs
    // only when this process's own writes wake it.
    let app = TestApp::spawn_with(|c| {
        c.read_cache.ttl_secs = 3600;
        c.read_cache.follow_ms = 0;
        c.search.outbox_poll_ms = 3_600_000;
    })
    .await;
    let uni = app.org("university", "110108", false).await;
    let reader = app.org("enterprise", "320505", false).await;
    let id = app
        .create(
            "/v1/listings",
            &uni.admin_token,
            &listing("高通量电解水制氢"),
        )
        .await;
    let path = format!("/v1/listings/{id}");
    let a = app.get(&path, None).await;
    public(&a, 1);
    // its search card, read once into this process's card cache
    let search = format!("/v1/listings?q={}", query_escape("电解水"));
    let r = app
        .wait_until(&search, None, "the listing to be indexed", |r| {
            card(r, id).is_some()
        })
        .await;
    assert_eq!(card(&r, id).unwrap()["version"], 1);
    // Indexing the listing dropped the view this process cached: read it into the cache again.
    public(&app.get(&path, None).await, 1);

    // The other process starts once the listing is in this process's index: each process has
    // its own embedded index, and on PostgreSQL the other one's outbox worker could take the
    // listing's row first and index it in its own index only.
    let (other, _dir) = second_process(&app).await;
    retitle_elsewhere(
        &other,
        &path,
        &uni.admin_token,
        &a.etag(),
        "高通量电解水制氢（修订）",
    )
    .await;

    // This process has not seen the write: anonymous readers get the cached view for up to the
    // TTL (an hour here), callers with a token read the database.
    let stale = app.get(&path, None).await;
    public(&stale, 1);
    assert_eq!(stale.body["title"], "高通量电解水制氢");
    let fresh = app.get(&path, Some(&reader.admin_token)).await;
    fresh.assert_status(200);
    assert_eq!(fresh.body["title"], "高通量电解水制氢（修订）");
    assert_eq!(fresh.etag(), "\"2\"");
    assert_eq!(fresh.body["contact"], Value::Null);
    // The search card too is this process's until the TTL (which shows that cards are served
    // from memory).
    let stale = card(&app.get(&search, None).await, id).expect("found");
    assert_eq!(
        (&stale["title"], &stale["version"]),
        (&json!("高通量电解水制氢"), &json!(1))
    );

    // Past the TTL, the anonymous read and the search card show the write too.
    app.clock.advance(chrono::Duration::seconds(3601));
    let r = app.get(&path, None).await;
    public(&r, 2);
    assert_eq!(r.body["title"], "高通量电解水制氢（修订）");
    let fresh = card(&app.get(&search, None).await, id).expect("found");
    assert_eq!(
        (&fresh["title"], &fresh["version"]),
        (&json!("高通量电解水制氢（修订）"), &json!(2))
    );
}

#[tokio::test]
async fn without_the_cache_another_process_write_is_seen_at_once() {
    let app = TestApp::spawn_with(|c| c.read_cache.enabled = false).await;
    let (other, _dir) = second_process(&app).await;
    let firm = app.org("enterprise", "320505", false).await;
    let id = app
        .create(
            "/v1/demands",
            &firm.admin_token,
            &need_body("高盐废水零排放", false),
        )
        .await;
    let path = format!("/v1/demands/{id}");
    let a = app.get(&path, None).await;
    public(&a, 1);
    retitle_elsewhere(
        &other,
        &path,
        &firm.admin_token,
        &a.etag(),
        "高盐废水零排放（修订）",
    )
    .await;
    let r = app.get(&path, None).await;
    public(&r, 2);
    assert_eq!(r.body["title"], "高盐废水零排放（修订）");
}

/// Reads `path` anonymously until `done` holds of the body, for up to 20 s of real time; the last
/// answer.
async fn read_until(app: &TestApp, path: &str, done: impl Fn(&Value) -> bool) -> Resp {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let r = app.get(path, None).await;
        if done(&r.body) || std::time::Instant::now() > until {
            return r;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn another_process_write_is_followed_long_before_the_ttl() {
    // An hour of TTL and a clock that does not move: only following can explain fresh reads.
    let app = TestApp::spawn_with(|c| {
        c.read_cache.ttl_secs = 3600;
        c.read_cache.follow_ms = 50;
    })
    .await;
    let (other, _dir) = second_process(&app).await;
    let uni = app.org("university", "110108", false).await;
    let firm = app.org("enterprise", "320505", false).await;
    let lid = app
        .create("/v1/listings", &uni.admin_token, &listing("固态电池电解质"))
        .await;
    let did = app
        .create(
            "/v1/demands",
            &firm.admin_token,
            &need_body("锂电池回收提锂", false),
        )
        .await;
    let lpath = format!("/v1/listings/{lid}");
    let dpath = format!("/v1/demands/{did}");
    let l = app.get(&lpath, None).await;
    public(&l, 1);
    let d = app.get(&dpath, None).await;
    public(&d, 1);
    assert!(d.body["org"]["name"].is_string(), "{}", d.body);
    let firm_name = d.body["org"]["name"].clone();

    // A listing and a need changed by the other process.
    retitle_elsewhere(
        &other,
        &lpath,
        &uni.admin_token,
        &l.etag(),
        "固态电池电解质（二代）",
    )
    .await;
    retitle_elsewhere(
        &other,
        &dpath,
        &firm.admin_token,
        &d.etag(),
        "锂电池回收提锂（扩产）",
    )
    .await;
    let r = read_until(&app, &lpath, |b| b["title"] == "固态电池电解质（二代）").await;
    public(&r, 2);
    assert_eq!(r.body["title"], "固态电池电解质（二代）");
    let r = read_until(&app, &dpath, |b| b["title"] == "锂电池回收提锂（扩产）").await;
    public(&r, 2);
    assert_eq!(r.body["title"], "锂电池回收提锂（扩产）");

    // The firm renamed through the other process: every view naming it follows.
    let org_path = format!("/v1/orgs/{}", firm.id);
    let own = app.get(&org_path, Some(&firm.admin_token)).await;
    own.assert_status(200);
    let renamed = reqwest::Client::new()
        .patch(format!("{other}{org_path}"))
        .bearer_auth(&firm.admin_token)
        .header("if-match", own.etag())
        .json(&json!({"name": "新名字回收科技有限公司"}))
        .send()
        .await
        .expect("request sent");
    assert_eq!(renamed.status().as_u16(), 200);
    let r = read_until(&app, &dpath, |b| {
        b["org"]["name"] == "新名字回收科技有限公司"
    })
    .await;
    public(&r, 2);
    assert_eq!(r.body["org"]["name"], "新名字回收科技有限公司");
    assert_ne!(r.body["org"]["name"], firm_name);
}

/// A change-log row that commits after a higher one was seen (a slow transaction) is still
/// followed: the follower waits for the ids it skipped.
#[tokio::test]
async fn a_late_commit_below_the_highest_id_seen_is_followed() {
    use sea_orm::{ActiveValue::Set, EntityTrait};
    use ttx_search::outbox::entity as outbox;
    use ttx_web::read_cache::{Cached, ReadCache};

    let app = TestApp::spawn().await;
    let reads = ttx_server::app::PublicReads::new(&app.config);
    let mut follower = ttx_server::read_follow::Follower::start(app.db.clone(), reads.clone())
        .await
        .expect("the follower starts");
    let last: i64 = outbox::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .iter()
        .map(|r| r.id)
        .max()
        .unwrap_or(0);
    let fill = |cache: &ReadCache, id: i64| {
        let now = chrono::Utc::now();
        let v = Cached::render(1, &json!({"id": id})).unwrap();
        cache.put(cache.ticket(), id, v, now + chrono::Duration::hours(1));
        assert!(cache.get(id, now).is_some());
    };
    let row = |id: i64, index: &str, doc: i64| outbox::ActiveModel {
        id: Set(id),
        index_name: Set(index.to_string()),
        doc_id: Set(doc),
        created_at: Set(chrono::Utc::now()),
        attempts: Set(0),
        next_attempt_at: Set(None),
        last_error: Set(None),
        processed_at: Set(Some(chrono::Utc::now())),
    };
    fill(&reads.listings, 7);
    fill(&reads.demands, 8);
    fill(&reads.demands, 9);

    // Id last+3 commits first: listing 7 goes, last+1 and last+2 are awaited.
    outbox::Entity::insert(row(last + 3, "listings", 7))
        .exec_without_returning(&app.db)
        .await
        .unwrap();
    let f = follower.poll().await.unwrap();
    assert_eq!((f.dropped, f.cleared), (1, false));
    let now = chrono::Utc::now();
    assert!(reads.listings.get(7, now).is_none());
    assert!(reads.demands.get(8, now).is_some());

    // Then the slow one, below it: need 8 goes too; need 9 was never named and stays.
    outbox::Entity::insert(row(last + 1, "demands", 8))
        .exec_without_returning(&app.db)
        .await
        .unwrap();
    let f = follower.poll().await.unwrap();
    assert_eq!((f.dropped, f.cleared), (1, false));
    assert!(reads.demands.get(8, now).is_none());
    assert!(reads.demands.get(9, now).is_some());

    // Nothing new: nothing dropped.
    let f = follower.poll().await.unwrap();
    assert_eq!((f.dropped, f.cleared), (0, false));
    assert!(reads.demands.get(9, now).is_some());
}
