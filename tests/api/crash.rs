//! The crash suite: the real binary killed with SIGKILL at random moments while clients write
//! listings, needs, contract registrations and enquiries, then started again on the same
//! database, round after round. After every restart:
//!
//! - every write that was answered 2xx is there, as it was answered;
//! - the turnover ledger adds up to the registered contracts, one registration entry each;
//! - the search outbox drains.
//!
//! At the end, every request that was cut off (sent with an `Idempotency-Key`, never answered) is
//! retried with its key: it must come back 2xx (the stored answer, or a first run), never stuck.
//!
//! Short form (the suite, `.ci/run`): 2 rounds. Long form, one command:
//! `TTX_CRASH_ROUNDS=20 cargo test --workspace --test api -- crash_suite --nocapture`
//! (add `TTX_TEST_DATABASE_URL=…` for PostgreSQL).
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use ttx_tests::fixtures::{contract_body, listing_body, need_body, next};
use ttx_tests::process::{operator_token, signup, ChildServer};

/// The request timeout of the crashed server (its idempotency lease is this + 30 s).
const REQUEST_TIMEOUT_SECS: u64 = 3;

async fn start(dir: &std::path::Path, db_url: &str) -> ChildServer {
    let timeout = REQUEST_TIMEOUT_SECS.to_string();
    ChildServer::start(
        crate::TTX_BIN,
        dir,
        db_url,
        &[
            ("TTX_SERVER__REQUEST_TIMEOUT_SECS", timeout.as_str()),
            ("TTX_ENQUIRIES__DAILY_LIMIT_PER_ORG", "1000000"),
            ("TTX_CONTRACTS__REMINDER_INTERVAL_SECS", "0"),
        ],
    )
    .await
}

/// One request: `Ok((status, body))`, or `Err` when the connection failed (the server died).
async fn send(
    client: &reqwest::Client,
    base: &str,
    m: Method,
    path: &str,
    token: Option<&str>,
    key: Option<&str>,
    body: &Value,
) -> Result<(u16, Value), ()> {
    let mut rb = client.request(m, format!("{base}{path}"));
    if !body.is_null() {
        rb = rb.json(body);
    }
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    if let Some(k) = key {
        rb = rb.header("Idempotency-Key", k);
    }
    let r = rb.send().await.map_err(|_| ())?;
    let status = r.status().as_u16();
    let v = r.json::<Value>().await.map_err(|_| ())?;
    Ok((status, v))
}

async fn ok(base: &str, m: Method, path: &str, token: Option<&str>, body: Value) -> Value {
    let (s, v) = send(
        &reqwest::Client::new(),
        base,
        m.clone(),
        path,
        token,
        None,
        &body,
    )
    .await
    .unwrap_or_else(|_| panic!("{m} {path}: no answer"));
    assert!((200..300).contains(&s), "{m} {path}: {s} {v}");
    v
}

/// What the clients were told (2xx), and what was cut off.
#[derive(Default)]
struct Record {
    listings: BTreeMap<i64, String>,
    needs: BTreeMap<i64, String>,
    /// contract id → (registration number, technology amount)
    registered: BTreeMap<i64, (String, i64)>,
    enquiries: BTreeMap<i64, i64>,
    /// (path, token, key, body) of keyed requests that got no answer.
    cut: Vec<(String, String, String, Value)>,
}

struct Parties {
    seller: String,
    buyer: String,
    buyer_org: i64,
    reviewer: String,
}

/// A keyed POST; 2xx → `Some(body)`, no answer → recorded as cut, `None`.
async fn post_keyed(
    client: &reqwest::Client,
    base: &str,
    rec: &Mutex<Record>,
    path: &str,
    token: &str,
    body: Value,
) -> Option<Value> {
    let key = format!("crash-{}", next());
    match send(
        client,
        base,
        Method::POST,
        path,
        Some(token),
        Some(&key),
        &body,
    )
    .await
    {
        Ok((s, v)) if (200..300).contains(&s) => Some(v),
        Ok((s, v)) => panic!("POST {path}: {s} {v}"),
        Err(()) => {
            rec.lock()
                .unwrap()
                .cut
                .push((path.to_string(), token.to_string(), key, body));
            None
        }
    }
}

/// One writer of one kind, until the server stops answering.
async fn writer(kind: usize, base: String, p: Arc<Parties>, rec: Arc<Mutex<Record>>) {
    let client = reqwest::Client::new();
    for k in 0.. {
        let n = next();
        match kind {
            0 => {
                let title = format!("崩溃套件成果{n}号");
                let body = listing_body(
                    &title,
                    "崩溃恢复测试用成果描述。",
                    &["崩溃测试"],
                    "new_energy",
                );
                let Some(v) =
                    post_keyed(&client, &base, &rec, "/v1/listings", &p.seller, body).await
                else {
                    return;
                };
                rec.lock()
                    .unwrap()
                    .listings
                    .insert(v["id"].as_i64().unwrap(), title);
            }
            1 => {
                let title = format!("崩溃套件需求{n}号");
                let body = need_body(&title, false);
                let Some(v) = post_keyed(&client, &base, &rec, "/v1/demands", &p.buyer, body).await
                else {
                    return;
                };
                rec.lock()
                    .unwrap()
                    .needs
                    .insert(v["id"].as_i64().unwrap(), title);
            }
            2 => {
                let amount = 100_000 + (n as i64 % 97) * 1_000;
                let body = contract_body(&format!("崩溃套件合同{n}"), p.buyer_org, amount);
                let Some(v) =
                    post_keyed(&client, &base, &rec, "/v1/contracts", &p.seller, body).await
                else {
                    return;
                };
                let cid = v["id"].as_i64().unwrap();
                let steps = [
                    ("submit", &p.seller),
                    ("accept", &p.reviewer),
                    ("register", &p.reviewer),
                ];
                let mut last = Value::Null;
                for (action, token) in steps {
                    let path = format!("/v1/contracts/{cid}/{action}");
                    let Some(v) = post_keyed(&client, &base, &rec, &path, token, json!({})).await
                    else {
                        return;
                    };
                    last = v;
                }
                let number = last["registration"]["number"]
                    .as_str()
                    .unwrap_or_else(|| panic!("a registration number in {last}"))
                    .to_string();
                let tech = last["technology_amount"]
                    .as_i64()
                    .expect("the technology amount");
                rec.lock().unwrap().registered.insert(cid, (number, tech));
            }
            _ => {
                let body = listing_body(
                    &format!("崩溃套件询价成果{n}号"),
                    "供询价的成果。",
                    &["询价"],
                    "new_energy",
                );
                let Some(l) =
                    post_keyed(&client, &base, &rec, "/v1/listings", &p.seller, body).await
                else {
                    return;
                };
                let lid = l["id"].as_i64().unwrap();
                rec.lock()
                    .unwrap()
                    .listings
                    .insert(lid, l["title"].as_str().unwrap().to_string());
                let body = json!({"listing_id": lid, "purpose": "license", "message": "希望了解许可条件与报价。"});
                let Some(v) =
                    post_keyed(&client, &base, &rec, "/v1/enquiries", &p.buyer, body).await
                else {
                    return;
                };
                rec.lock()
                    .unwrap()
                    .enquiries
                    .insert(v["id"].as_i64().unwrap(), lid);
            }
        }
        if k % 16 == 15 {
            tokio::task::yield_now().await;
        }
    }
}

/// Everything acknowledged is there; the ledger adds up; the outbox drains.
async fn verify(base: &str, db_url: &str, p: &Parties, rec: &Record, round: usize) {
    for (id, title) in &rec.listings {
        let v = ok(
            base,
            Method::GET,
            &format!("/v1/listings/{id}"),
            Some(&p.seller),
            Value::Null,
        )
        .await;
        assert_eq!(v["title"], *title, "round {round}: listing {id}");
    }
    for (id, title) in &rec.needs {
        let v = ok(
            base,
            Method::GET,
            &format!("/v1/demands/{id}"),
            Some(&p.buyer),
            Value::Null,
        )
        .await;
        assert_eq!(v["title"], *title, "round {round}: need {id}");
    }
    for (id, (number, _)) in &rec.registered {
        let v = ok(
            base,
            Method::GET,
            &format!("/v1/contracts/{id}"),
            Some(&p.seller),
            Value::Null,
        )
        .await;
        assert_eq!(v["status"], "registered", "round {round}: contract {id}");
        assert_eq!(
            v["registration"]["number"], *number,
            "round {round}: contract {id}"
        );
    }
    for (id, lid) in &rec.enquiries {
        let v = ok(
            base,
            Method::GET,
            &format!("/v1/enquiries/{id}"),
            Some(&p.buyer),
            Value::Null,
        )
        .await;
        assert_eq!(v["subject"]["id"], *lid, "round {round}: enquiry {id}");
    }

    // The ledger: one registration entry per registered contract, of its technology amount, and
    // nothing for a contract that is not registered.
    use sea_orm::{ConnectionTrait, Database, Statement};
    let db = Database::connect(db_url).await.unwrap();
    let backend = db.get_database_backend();
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT c.id AS id, c.status AS status, c.technology_amount AS tech, \
             CAST(COALESCE(SUM(l.count_delta), 0) AS BIGINT) AS n, \
             CAST(COALESCE(SUM(l.technology_amount_delta), 0) AS BIGINT) AS booked \
             FROM contracts c LEFT JOIN ledger_entries l ON l.contract_id = c.id \
             GROUP BY c.id, c.status, c.technology_amount",
        ))
        .await
        .unwrap();
    let mut registered = 0;
    for r in rows {
        let id: i64 = r.try_get("", "id").unwrap();
        let status: String = r.try_get("", "status").unwrap();
        let tech: i64 = r.try_get("", "tech").unwrap();
        let n: i64 = r.try_get("", "n").unwrap();
        let booked: i64 = r.try_get("", "booked").unwrap();
        if status == "registered" {
            registered += 1;
            assert_eq!(
                (n, booked),
                (1, tech),
                "round {round}: contract {id}'s ledger"
            );
        } else {
            assert_eq!(
                (n, booked),
                (0, 0),
                "round {round}: unregistered contract {id} booked"
            );
        }
    }
    assert!(registered >= rec.registered.len());
    let numbers: BTreeSet<&String> = rec.registered.values().map(|(n, _)| n).collect();
    assert_eq!(
        numbers.len(),
        rec.registered.len(),
        "a registration number issued twice"
    );
    db.close().await.ok();

    // The outbox drains.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let v = ok(base, Method::GET, "/readyz", None, Value::Null).await;
        if v["search"]["outbox_pending"] == json!(0) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "round {round}: the outbox did not drain: {v}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn crash_suite() {
    let rounds: usize = std::env::var("TTX_CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2);
    let dir = tempfile::tempdir().unwrap();
    let (db_url, pg) = ttx_tests::fresh_database(dir.path()).await;
    let _drop = ttx_testdb::DropDatabase(pg);

    // The parties, made through the first life's API (an operator verifies the station).
    let server = start(dir.path(), &db_url).await;
    let b = server.base.clone();
    let (station, reviewer) = signup(&b, "station", "110000").await;
    let (_, seller) = signup(&b, "university", "110108").await;
    let (buyer_org, buyer) = signup(&b, "enterprise", "320505").await;
    {
        let op = operator_token(&db_url).await;
        ok(
            &b,
            Method::POST,
            &format!("/v1/orgs/{station}/verify"),
            Some(&op),
            json!({"jurisdiction": ["110000"]}),
        )
        .await;
        // The buyer sends enquiries: it must be verified too.
        ok(
            &b,
            Method::POST,
            &format!("/v1/orgs/{buyer_org}/verify"),
            Some(&op),
            json!({}),
        )
        .await;
    }
    drop(server);
    let parties = Arc::new(Parties {
        seller,
        buyer,
        buyer_org,
        reviewer,
    });
    let rec = Arc::new(Mutex::new(Record::default()));

    let mut last_kill = Instant::now();
    for round in 1..=rounds {
        let mut server = start(dir.path(), &db_url).await;
        let writers: Vec<_> = (0..8)
            .map(|i| {
                tokio::spawn(writer(
                    i % 4,
                    server.base.clone(),
                    parties.clone(),
                    rec.clone(),
                ))
            })
            .collect();
        // Kill at a random moment once the writers are under way.
        let ms = 300
            + u64::from(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .subsec_nanos(),
            ) % 1200;
        tokio::time::sleep(Duration::from_millis(ms)).await;
        server.kill();
        last_kill = Instant::now();
        for w in writers {
            w.await.expect("a writer panicked");
        }
        let server = start(dir.path(), &db_url).await;
        {
            let r = rec.lock().unwrap();
            eprintln!(
                "crash round {round}/{rounds} (killed after {ms} ms): acknowledged so far {} listings, {} needs, {} registrations, {} enquiries; {} requests cut off",
                r.listings.len(), r.needs.len(), r.registered.len(), r.enquiries.len(), r.cut.len()
            );
        }
        let snapshot = {
            let r = rec.lock().unwrap();
            Record {
                listings: r.listings.clone(),
                needs: r.needs.clone(),
                registered: r.registered.clone(),
                enquiries: r.enquiries.clone(),
                cut: vec![],
            }
        };
        verify(&server.base, &db_url, &parties, &snapshot, round).await;
        drop(server);
    }
    assert!(
        !rec.lock().unwrap().listings.is_empty(),
        "the writers wrote nothing before the kills"
    );

    // No key stuck: each cut-off request, retried with its key after its lease has lapsed,
    // answers 2xx (the stored answer or its first complete run).
    let server = start(dir.path(), &db_url).await;
    let lease = Duration::from_secs(REQUEST_TIMEOUT_SECS + 30);
    let cut = std::mem::take(&mut rec.lock().unwrap().cut);
    let client = reqwest::Client::new();
    let mut replayed = 0;
    for (path, token, key, body) in &cut {
        let deadline = last_kill + lease + Duration::from_secs(15);
        loop {
            let (s, v) = send(
                &client,
                &server.base,
                Method::POST,
                path,
                Some(token),
                Some(key),
                body,
            )
            .await
            .expect("the restarted server answers");
            if (200..300).contains(&s) {
                replayed += 1;
                break;
            }
            // 409 while a reservation of the killed process still holds its lease; a step of
            // a contract whose previous step was cut off may be refused as out of order (409
            // naming the allowed actions) for good: that request did not run, which is what a
            // client must learn.
            assert_eq!(s, 409, "{path} retried with its key: {s} {v}");
            if v["code"] != "idempotency_in_progress" {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{path}: key {key} still in progress after its lease"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    eprintln!(
        "crash suite: {rounds} rounds; {} cut-off requests retried with their keys, {replayed} answered 2xx, none stuck",
        cut.len()
    );
    drop(server);
}
