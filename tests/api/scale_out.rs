//! Scale-out: two `ttx serve` processes on one PostgreSQL database (and one Meilisearch when
//! `TTX_TEST_MEILI_URL` is set).
//!
//! What each process applied to the search index is observed two ways:
//! - its `/metrics` counter `ttx_search_outbox_applied_total{index="listings"}` (documents the
//!   process wrote to its engine), whose sum over both processes must equal the number of outbox
//!   events: an event applied by both processes would count twice;
//! - the search answers. With Meilisearch both processes share one index, so each answers every
//!   listing. With the embedded engine each process has an index of its own (in its data
//!   directory) that holds exactly the events that process applied, so the two answer disjoint sets
//!   whose union is every listing.
//!
//! (With the applier lock taken out, both processes apply most events and the sum is about twice
//! the number of events; with deliveries claimed without their conditional `UPDATE`, the receiver
//! gets events twice: both were tried while writing this test.)
//!
//! The outbox table itself shows every event processed (`processed_at` set, no error left).
//! Which process holds the applier lock is read from `pg_locks` (each process connects with its
//! own `application_name`). The tests run only on PostgreSQL: on SQLite one process owns the file.
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use sea_orm::{
    ColumnTrait, ConnectionTrait, Database, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter, Statement,
};
use ttx_search::outbox::entity as outbox;
use ttx_tests::fixtures;
use ttx_tests::process::signup;
use ttx_tests::process::ChildServer;

/// Whether the tests run on PostgreSQL; prints why a test skips otherwise.
fn postgres_or_skip(test: &str) -> bool {
    let on_pg = std::env::var("TTX_TEST_DATABASE_URL")
        .is_ok_and(|u| u.trim_start().starts_with("postgres"));
    if !on_pg {
        println!("SKIP scale_out: needs TTX_TEST_DATABASE_URL (a PostgreSQL URL) ({test})");
    }
    on_pg
}

/// `url` with `application_name=name`, so `pg_stat_activity` tells the processes apart.
fn named(url: &str, name: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}application_name={name}")
}

/// The settings both processes share: the webhook worker on, polling often; Meilisearch (one
/// index prefix for both) when the tests search with it.
fn shared_env(meili_prefix: &str) -> Vec<(String, String)> {
    let mut env = vec![
        ("TTX_NOTIFY__WORKER_ENABLED".into(), "true".into()),
        ("TTX_NOTIFY__ALLOW_PRIVATE_URLS".into(), "true".into()),
        ("TTX_NOTIFY__POLL_INTERVAL_MS".into(), "100".into()),
    ];
    if ttx_tests::uses_meili() {
        env.push(("TTX_SEARCH__ENGINE".into(), "meilisearch".into()));
        env.push((
            "TTX_SEARCH__MEILI_URL".into(),
            std::env::var("TTX_TEST_MEILI_URL").unwrap(),
        ));
        if let Ok(k) = std::env::var("TTX_TEST_MEILI_KEY") {
            if !k.is_empty() {
                env.push(("TTX_SEARCH__MEILI_API_KEY".into(), k));
            }
        }
        env.push(("TTX_SEARCH__MEILI_INDEX_PREFIX".into(), meili_prefix.into()));
    }
    env
}

/// Two processes `a` and `b` on one database, each with its own data directory.
struct Pair {
    a: ChildServer,
    b: ChildServer,
    http: reqwest::Client,
    db: DatabaseConnection,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

const APP_A: &str = "ttx_scale_a";
const APP_B: &str = "ttx_scale_b";

async fn pair(db_url: &str) -> Pair {
    let prefix = format!("t{}_", uuid::Uuid::new_v4().simple());
    let env = shared_env(&prefix);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (da, db_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = ChildServer::start(crate::TTX_BIN, da.path(), &named(db_url, APP_A), &env).await;
    let b = ChildServer::start(crate::TTX_BIN, db_dir.path(), &named(db_url, APP_B), &env).await;
    Pair {
        a,
        b,
        http: reqwest::Client::new(),
        db: Database::connect(db_url).await.unwrap(),
        _dirs: (da, db_dir),
    }
}

/// A call to one process: (status, JSON body or Null).
async fn call(
    http: &reqwest::Client,
    base: &str,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
    idempotency_key: Option<&str>,
) -> (u16, Value) {
    let mut rb = http
        .request(method, format!("{base}{path}"))
        .timeout(Duration::from_secs(60));
    if let Some(b) = body {
        rb = rb.json(b);
    }
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    if let Some(k) = idempotency_key {
        rb = rb.header("Idempotency-Key", k);
    }
    let r = rb.send().await.unwrap_or_else(|e| panic!("{path}: {e}"));
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn post(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> Value {
    let (s, v) = call(
        http,
        base,
        reqwest::Method::POST,
        path,
        token,
        Some(&body),
        None,
    )
    .await;
    assert!((200..300).contains(&s), "POST {base}{path}: {s} {v}");
    v
}

async fn get(http: &reqwest::Client, base: &str, path: &str, token: Option<&str>) -> Value {
    let (s, v) = call(http, base, reqwest::Method::GET, path, token, None, None).await;
    assert_eq!(s, 200, "GET {base}{path}: {v}");
    v
}

/// Adds a member with `role` and returns the member's token.
async fn member(http: &reqwest::Client, base: &str, org: (i64, &str), role: &str) -> String {
    let n = fixtures::next();
    let email = format!("scale-m{n}@org.test");
    post(
        http,
        base,
        &format!("/v1/orgs/{}/members", org.0),
        Some(org.1),
        json!({"email": email, "display_name": "成员", "password": "correct-horse-42", "role": role}),
    )
    .await;
    let v = post(
        http,
        base,
        "/v1/tokens",
        None,
        json!({"email": email, "password": "correct-horse-42"}),
    )
    .await;
    v["token"].as_str().unwrap().to_string()
}

/// An operator's token (created in the database, as `ttx admin` does).
async fn operator(db: &DatabaseConnection) -> String {
    let mut cfg = ttx_server::Config::default().accounts;
    cfg.password_cost.memory_kib = 4096;
    cfg.password_cost.iterations = 1;
    let email = format!("op-{}@ttx.test", uuid::Uuid::new_v4().simple());
    ttx_server::admin::create_operator(db, &cfg, &email, "Operator", "operator-pass-123")
        .await
        .expect("operator")
        .1
}

/// A published listing whose title carries `probe` (a word the search finds).
fn listing(probe: &str, i: usize) -> Value {
    fixtures::listing_body(
        &format!("{probe} 第{i}号 钠离子电池正极材料"),
        "层状氧化物正极材料的低成本制备工艺，已完成中试验证，可许可使用。",
        &["钠离子电池", "正极材料"],
        "new_energy",
    )
}

/// The number of listing documents `base`'s process applied (its outbox counter).
async fn applied_by(http: &reqwest::Client, base: &str) -> u64 {
    let text = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|l| {
            l.starts_with("ttx_search_outbox_applied_total{") && l.contains("index=\"listings\"")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|v| v as u64)
        .sum()
}

/// Listing ids `base`'s process finds for `probe`.
async fn found_by(http: &reqwest::Client, base: &str, probe: &str) -> BTreeSet<i64> {
    let mut found = BTreeSet::new();
    let mut cursor = String::new();
    loop {
        let r = get(
            http,
            base,
            &format!("/v1/listings?q={probe}&limit=100{cursor}"),
            None,
        )
        .await;
        for h in r["hits"].as_array().unwrap() {
            found.insert(h["listing"]["id"].as_i64().unwrap());
        }
        match r["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={}", fixtures::query_escape(c)),
            None => break,
        }
    }
    found
}

/// Unprocessed outbox rows of the listings index.
async fn pending(db: &DatabaseConnection) -> u64 {
    outbox::Entity::find()
        .filter(outbox::Column::IndexName.eq("listings"))
        .filter(outbox::Column::ProcessedAt.is_null())
        .count(db)
        .await
        .unwrap()
}

/// Waits (60 s at most) until the listings outbox is drained.
async fn drained(db: &DatabaseConnection) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let n = pending(db).await;
        if n == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "outbox not drained: {n} pending");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The `application_name` of the session holding the outbox applier lock, if any.
async fn lock_holder(db: &DatabaseConnection) -> Option<String> {
    let key = ttx_search::outbox::APPLIER_LOCK_KEY;
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT a.application_name AS name FROM pg_locks l \
             JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE l.locktype = 'advisory' AND l.granted \
               AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
               AND l.classid::bigint = $1 AND l.objid::bigint = $2 AND l.objsubid = 1",
            [(key >> 32).into(), (key & 0xffff_ffff).into()],
        ))
        .await
        .unwrap();
    row.map(|r| r.try_get::<String>("", "name").unwrap())
}

fn signal(child: &ChildServer, sig: &str) {
    let ok = std::process::Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(child.child.id().to_string())
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{sig}");
}

/// (1) Listings written through both processes at once: every outbox event is applied, by one
/// process only. (5) The process holding the applier lock is frozen (SIGSTOP) while it holds it:
/// the other applies nothing meanwhile; once the frozen one is killed (SIGKILL), the other takes
/// over and applies everything within seconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_apply_each_outbox_event_once_and_take_over_from_a_killed_one() {
    if !postgres_or_skip("outbox") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (db_url, pg) = ttx_tests::fresh_database(dir.path()).await;
    let _drop = ttx_testdb::DropDatabase(pg);
    let mut p = pair(&db_url).await;
    let (_, token) = signup(&p.a.base, "university", "110108").await;
    // The database and the indexes are this test's own: one search word finds every listing.
    let probe = "scaleprobe".to_string();

    // (1) 40 listings, 20 through each process, 8 at a time.
    let n = 40;
    let bases = [p.a.base.clone(), p.b.base.clone()];
    let mut ids = BTreeSet::new();
    for chunk in (0..n).collect::<Vec<_>>().chunks(8) {
        let created = futures::future::join_all(chunk.iter().map(|&i| {
            let (http, base, token, body) = (&p.http, &bases[i % 2], &token, listing(&probe, i));
            async move { post(http, base, "/v1/listings", Some(token), body).await }
        }))
        .await;
        ids.extend(created.iter().map(|v| v["id"].as_i64().unwrap()));
    }
    assert_eq!(ids.len(), n);
    drained(&p.db).await;
    let rows = outbox::Entity::find()
        .filter(outbox::Column::IndexName.eq("listings"))
        .all(&p.db)
        .await
        .unwrap();
    assert_eq!(rows.len(), n, "one outbox event per created listing");
    assert!(
        rows.iter()
            .all(|r| r.processed_at.is_some() && r.last_error.is_none()),
        "every event processed: {rows:?}"
    );
    let (by_a, by_b) = (
        applied_by(&p.http, &p.a.base).await,
        applied_by(&p.http, &p.b.base).await,
    );
    println!("scale_out: {n} events; process a applied {by_a}, process b {by_b}");
    assert_eq!(
        by_a + by_b,
        n as u64,
        "each event applied once over both processes (a applied {by_a}, b {by_b})"
    );
    // The indexes say the same.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (fa, fb) = (
            found_by(&p.http, &p.a.base, &probe).await,
            found_by(&p.http, &p.b.base, &probe).await,
        );
        let ok = if ttx_tests::uses_meili() {
            // One shared index: both answer everything.
            fa == ids && fb == ids
        } else {
            // An index per process: each holds what that process applied, nothing twice.
            fa.is_disjoint(&fb) && fa.union(&fb).copied().collect::<BTreeSet<_>>() == ids
        };
        if ok {
            if !ttx_tests::uses_meili() {
                assert_eq!((fa.len() as u64, fb.len() as u64), (by_a, by_b));
            }
            break;
        }
        assert!(
            Instant::now() < deadline,
            "search answers do not match one application per event: a {fa:?}, b {fb:?}, created {ids:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // (5) Keep process a busy applying until it is caught holding the lock, then freeze it there.
    let writer = {
        let (http, base, token, probe) = (
            p.http.clone(),
            p.a.base.clone(),
            token.clone(),
            probe.clone(),
        );
        tokio::spawn(async move {
            for i in 1000.. {
                let _ = call(
                    &http,
                    &base,
                    reqwest::Method::POST,
                    "/v1/listings",
                    Some(&token),
                    Some(&listing(&probe, i)),
                    None,
                )
                .await;
            }
        })
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if lock_holder(&p.db).await.as_deref() == Some(APP_A) {
            signal(&p.a, "STOP");
            // Frozen: it cannot release the lock any more. Did we freeze it holding it?
            if lock_holder(&p.db).await.as_deref() == Some(APP_A) {
                break;
            }
            signal(&p.a, "CONT");
        }
        assert!(
            Instant::now() < deadline,
            "never saw process a holding the applier lock"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    writer.abort();

    // While the frozen process holds the lock, the other applies nothing: a listing created
    // through b stays pending over several of b's poll intervals (500 ms) and notifications.
    let late = post(
        &p.http,
        &p.b.base,
        "/v1/listings",
        Some(&token),
        listing(&probe, 9999),
    )
    .await;
    let late_id = late["id"].as_i64().unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(pending(&p.db).await > 0, "b applied while a held the lock");
    assert_eq!(lock_holder(&p.db).await.as_deref(), Some(APP_A));

    // Kill the lock holder: the other process takes over within seconds.
    let killed_at = Instant::now();
    p.a.kill();
    let deadline = killed_at + Duration::from_secs(15);
    loop {
        if pending(&p.db).await == 0
            && found_by(&p.http, &p.b.base, &probe)
                .await
                .contains(&late_id)
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no takeover within 15 s of killing the lock holder: {} pending, holder {:?}",
            pending(&p.db).await,
            lock_holder(&p.db).await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "scale_out: process b took over {} ms after process a was killed holding the applier lock",
        killed_at.elapsed().as_millis()
    );
    assert_ne!(lock_holder(&p.db).await.as_deref(), Some(APP_A));
    p.b.kill();
}

/// A webhook receiver counting deliveries by event id.
#[derive(Clone, Default)]
struct Hooks {
    got: Arc<Mutex<Vec<(String, String, Value)>>>,
}

async fn hook(State(h): State<Hooks>, headers: HeaderMap, body: axum::body::Bytes) -> StatusCode {
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    h.got
        .lock()
        .unwrap()
        .push((header("x-ttx-event-id"), header("x-ttx-event"), body));
    StatusCode::NO_CONTENT
}

async fn receiver() -> (Hooks, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let hooks = Hooks::default();
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(hook))
        .with_state(hooks.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (hooks, url)
}

/// The fixtures' contract, its document hash distinct per amount.
fn contract(title: &str, buyer_org: i64, amount: i64) -> Value {
    ttx_tests::fixtures::merged(
        ttx_tests::fixtures::contract_body(title, buyer_org, amount),
        json!({"documents": [{"name": "技术开发合同（签章版）.pdf", "sha256": format!("{:064x}", amount), "size_bytes": 120034}]}),
    )
}

/// (2) Registrations decided through both processes at once get distinct, gapless numbers.
/// (3) Both processes run the webhook worker: each event reaches the receiver once.
/// (4) One `Idempotency-Key` sent to both processes at once creates one listing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn numbers_webhooks_and_idempotency_hold_across_two_processes() {
    if !postgres_or_skip("numbers_webhooks_idempotency") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (db_url, pg) = ttx_tests::fresh_database(dir.path()).await;
    let _drop = ttx_testdb::DropDatabase(pg);
    let mut p = pair(&db_url).await;
    let (http, a, b) = (p.http.clone(), p.a.base.clone(), p.b.base.clone());
    let bases = [a.clone(), b.clone()];

    // The parties: a Beijing station (through a), a university seller (through b), a buyer.
    let op = operator(&p.db).await;
    let station = signup(&a, "station", "110000").await;
    post(
        &http,
        &b,
        &format!("/v1/orgs/{}/verify", station.0),
        Some(&op),
        json!({"jurisdiction": ["110000"]}),
    )
    .await;
    let reviewer = member(&http, &a, (station.0, &station.1), "station_reviewer").await;
    let seller = signup(&b, "university", "110108").await;
    let seller_member = member(&http, &b, (seller.0, &seller.1), "member").await;
    let buyer = signup(&a, "enterprise", "320505").await;
    let (hooks, url) = receiver().await;
    post(
        &http,
        &a,
        "/v1/webhooks",
        Some(&seller.1),
        json!({"url": url}),
    )
    .await;

    // (2) 24 contracts drafted, submitted and accepted alternately through a and b, then all
    // registered at once, half through each process.
    let n = 24usize;
    let mut cids = vec![];
    for i in 0..n {
        let (x, y) = (&bases[i % 2], &bases[(i + 1) % 2]);
        let c = post(
            &http,
            x,
            "/v1/contracts",
            Some(&seller_member),
            contract(
                &format!("第{i}号横向扩展测试技术开发"),
                buyer.0,
                1_000_000 + i as i64,
            ),
        )
        .await;
        let cid = c["id"].as_i64().unwrap();
        post(
            &http,
            y,
            &format!("/v1/contracts/{cid}/submit"),
            Some(&seller_member),
            json!({}),
        )
        .await;
        post(
            &http,
            x,
            &format!("/v1/contracts/{cid}/accept"),
            Some(&reviewer),
            json!({}),
        )
        .await;
        cids.push(cid);
    }
    let registered = futures::future::join_all(cids.iter().enumerate().map(|(i, cid)| {
        let (http, base, reviewer) = (&http, &bases[i % 2], &reviewer);
        async move {
            post(
                http,
                base,
                &format!("/v1/contracts/{cid}/register"),
                Some(reviewer),
                json!({}),
            )
            .await
        }
    }))
    .await;
    let numbers: BTreeMap<i64, String> = cids
        .iter()
        .zip(&registered)
        .map(|(cid, r)| {
            (
                *cid,
                r["registration"]["number"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let distinct: BTreeSet<&String> = numbers.values().collect();
    assert_eq!(distinct.len(), n, "every number issued once: {numbers:?}");
    let mut seqs: Vec<u64> = distinct
        .iter()
        .map(|s| {
            assert_eq!(s.len(), 18, "{s}");
            s[12..].parse().unwrap()
        })
        .collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=n as u64).collect::<Vec<_>>(), "gapless from 1");
    let prefixes: BTreeSet<&str> = distinct.iter().map(|s| &s[..12]).collect();
    assert_eq!(prefixes.len(), 1, "one station, one year: {prefixes:?}");

    // (3) Every event of the seller (submitted, accepted, registered for each contract) arrives
    // once, though both processes deliver.
    let expected = 3 * n;
    let deadline = Instant::now() + Duration::from_secs(60);
    let got = loop {
        let got = hooks.got.lock().unwrap().clone();
        let ids: BTreeSet<&str> = got.iter().map(|g| g.0.as_str()).collect();
        if ids.len() >= expected {
            break got;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {expected} events delivered",
            ids.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // Wait for the delivery bookkeeping to settle, then no delivery is left to send twice.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let open =
            p.db.query_one_raw(Statement::from_string(
                sea_orm::DatabaseBackend::Postgres,
                "SELECT count(*) AS n FROM webhook_deliveries WHERE status = 'pending'",
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get::<i64>("", "n")
            .unwrap();
        if open == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{open} deliveries still pending");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let got_now = hooks.got.lock().unwrap().clone();
    let mut per_event: BTreeMap<&str, usize> = BTreeMap::new();
    for g in &got_now {
        *per_event.entry(g.0.as_str()).or_default() += 1;
    }
    let twice: Vec<_> = per_event.iter().filter(|(_, c)| **c > 1).collect();
    assert!(
        twice.is_empty(),
        "events delivered more than once: {twice:?}"
    );
    assert_eq!(
        per_event.len(),
        expected,
        "{:?}",
        got.iter().map(|g| &g.1).collect::<Vec<_>>()
    );
    let hooked_numbers: BTreeSet<String> = got_now
        .iter()
        .filter(|g| g.1 == "contract.registered")
        .map(|g| {
            g.2["data"]["registration_number"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    assert_eq!(
        hooked_numbers,
        numbers.values().cloned().collect::<BTreeSet<_>>(),
        "one contract.registered event per number"
    );

    // (4) One Idempotency-Key, four requests at once, two to each process: one listing.
    let key = uuid::Uuid::new_v4().to_string();
    let probe = format!("idemprobe{}", fixtures::next());
    let body = listing(&probe, 1);
    let send = |base: String| {
        let (http, token, body, key) = (http.clone(), seller.1.clone(), body.clone(), key.clone());
        async move {
            call(
                &http,
                &base,
                reqwest::Method::POST,
                "/v1/listings",
                Some(&token),
                Some(&body),
                Some(&key),
            )
            .await
        }
    };
    let first = futures::future::join_all([
        send(a.clone()),
        send(b.clone()),
        send(a.clone()),
        send(b.clone()),
    ])
    .await;
    let mut created = BTreeSet::new();
    for (s, v) in &first {
        match s {
            201 => {
                created.insert(v["id"].as_i64().unwrap());
            }
            409 => assert_eq!(v["code"], "idempotency_in_progress", "{v}"),
            _ => panic!("same key at once: {s} {v}"),
        }
    }
    println!(
        "scale_out: one Idempotency-Key, four requests at once: statuses {:?}",
        first.iter().map(|(s, _)| s).collect::<Vec<_>>()
    );
    assert_eq!(created.len(), 1, "one listing created: {first:?}");
    // A retry through either process replays it.
    for base in [&a, &b] {
        let (s, v) = send(base.clone()).await;
        assert_eq!(s, 201, "{v}");
        assert_eq!(created, BTreeSet::from([v["id"].as_i64().unwrap()]));
    }
    let rows =
        p.db.query_one_raw(Statement::from_sql_and_values(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT count(*) AS n FROM listings WHERE title LIKE $1",
            [format!("{probe}%").into()],
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(rows, 1, "one listing row for one key");
    p.a.kill();
    p.b.kill();
}
