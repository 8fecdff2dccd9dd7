//! `ttx-bench contracts`: end-to-end registration throughput.
//!
//! Starts TTX in-process on a random port against a fresh database (a new PostgreSQL database
//! created for the run, or a temporary SQLite file), sets up a verified station with a reviewer,
//! one seller organisation per client and a buyer, writes the drafts, then times the station
//! flow: `clients` concurrent HTTP clients each take contracts from a shared queue and do
//! submit → accept → register. Afterwards it checks what matters: every contract registered,
//! numbers distinct and gapless, the ledger equal to the registered amounts.
use crate::report::{figure, rss_mib, say, Latencies};
use anyhow::{bail, Context};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;
use ttx_server::{App, Config};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Concurrent HTTP clients.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Contracts to take through submit + accept + register.
    #[arg(long, default_value_t = 3000)]
    contracts: usize,
    /// A PostgreSQL URL whose server gets a fresh database for the run (dropped afterwards), or
    /// a `sqlite://` URL. Default: a temporary SQLite file.
    #[arg(long)]
    database_url: Option<String>,
    /// Keep the PostgreSQL database after the run.
    #[arg(long)]
    keep: bool,
    /// Database connections of the server's pool.
    #[arg(long, default_value_t = 16)]
    pool: u32,
}

/// The database of a run (shared with `ttx-bench stats`).
pub(crate) struct Target {
    pub(crate) url: String,
    /// (admin URL, database name) to drop afterwards.
    pub(crate) pg: Option<(String, String)>,
    pub(crate) _dir: tempfile::TempDir,
    pub(crate) label: String,
}

/// A fresh database: a new one on the PostgreSQL server of `database_url`, the `sqlite://`
/// URL itself, or (none) a temporary SQLite file.
pub(crate) async fn fresh_database(database_url: Option<&str>) -> anyhow::Result<Target> {
    let dir = tempfile::tempdir()?;
    let prefix = format!("ttx_bench_{}", std::process::id());
    let db = ttx_testdb::fresh(database_url, dir.path(), &prefix)
        .await
        .context("creating the benchmark database")?;
    let label = match (&db.pg, database_url) {
        (Some((_, name)), _) => {
            let conn = Database::connect(&db.url)
                .await
                .context("connecting to PostgreSQL")?;
            let version: String = conn
                .query_one_raw(Statement::from_string(
                    conn.get_database_backend(),
                    "SELECT version() AS v",
                ))
                .await?
                .map(|r| r.try_get("", "v"))
                .transpose()?
                .unwrap_or_default();
            conn.close().await.ok();
            format!(
                "PostgreSQL (fresh database {name}; {})",
                version.split(" on ").next().unwrap_or(&version)
            )
        }
        (None, Some(u)) => format!("SQLite ({u})"),
        (None, None) => "SQLite (temporary file)".into(),
    };
    Ok(Target {
        url: db.url,
        pg: db.pg,
        _dir: dir,
        label,
    })
}

pub(crate) use ttx_testdb::drop_database;

impl Target {
    /// The server configuration of a run on this database: `pool` connections, cheap password
    /// hashing for the setup's sign-ups (the measured flows hash nothing).
    pub(crate) fn config(&self, pool: u32) -> Config {
        let mut config = Config {
            data_dir: self._dir.path().to_path_buf(),
            ..Default::default()
        };
        config.database.url = self.url.clone();
        config.database.max_connections = pool;
        config.accounts.password_cost.memory_kib = 4096;
        config.accounts.password_cost.iterations = 1;
        // The load comes from one address and a few tokens: the rate limits would measure
        // themselves.
        config.server.rate_limit = ttx_server::config::RateLimitConfig::off();
        config
    }

    /// Drops a PostgreSQL database after the run, unless `keep` (then says which it is).
    pub(crate) async fn finish(&self, keep: bool) {
        if let Some((admin, name)) = &self.pg {
            if keep {
                say!("kept database {name}");
            } else {
                drop_database(admin, name).await;
            }
        }
    }
}

/// The application serving on a random local port until [`Served::stop`].
pub(crate) struct Served {
    pub(crate) base: String,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<()>,
}

impl Served {
    pub(crate) async fn start(app: App) -> anyhow::Result<Served> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let _ = app
                .serve_until(listener, async move {
                    let _ = stop_rx.await;
                })
                .await;
        });
        Ok(Served { base, stop, server })
    }

    /// Stops serving (waits 5 s at most).
    pub(crate) async fn stop(self) {
        let _ = self.stop.send(());
        let _ = tokio::time::timeout(Duration::from_secs(5), self.server).await;
    }
}

#[derive(Clone)]
struct Http {
    client: reqwest::Client,
    base: String,
}

impl Http {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let mut rb = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        if let Some(b) = body {
            rb = rb.json(b);
        }
        let r = rb.send().await?;
        let status = r.status();
        let text = r.text().await?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> anyhow::Result<Value> {
        let (s, v) = self
            .send(reqwest::Method::POST, path, token, Some(body))
            .await?;
        if !s.is_success() {
            bail!("POST {path}: {s} {v}");
        }
        Ok(v)
    }
}

fn credit_code(prefix: &str, region: &str, n: usize) -> String {
    let first17 = format!("{prefix}{region}{:09}", n);
    ttx_core::CreditCode::complete(&first17)
        .expect("valid code")
        .to_string()
}

/// Signs up an organisation; returns (org id, admin token).
async fn signup(http: &Http, kind: &str, region: &str, n: usize) -> anyhow::Result<(i64, String)> {
    let v = http
        .post(
            "/v1/signup",
            None,
            &json!({
                "org": {"kind": kind, "name": format!("压测机构{n}"), "credit_code": credit_code("91", region, n),
                        "region_code": region},
                "admin": {"email": format!("bench{n}@bench.test"), "display_name": "压测", "password": "bench-password-1"}
            }),
        )
        .await?;
    Ok((
        v["org"]["id"].as_i64().context("org id")?,
        v["token"].as_str().context("token")?.to_string(),
    ))
}

fn draft_body(i: usize, buyer: i64) -> Value {
    let amount = 1_000_000 + (i as i64 % 997) * 10_000;
    let sub_kind = [
        "entrusted_development",
        "general_service",
        "consulting",
        "cooperative_development",
    ][i % 4];
    json!({
        "title": format!("压测合同第{i}号：工业软件定制开发"),
        "sub_kind": sub_kind,
        "buyer": {"org_id": buyer},
        "contract_amount": amount,
        "non_technical_costs": amount / 10,
        "signed_on": "2026-01-15",
        "term_start": "2026-01-15",
        "term_end": "2026-12-31",
        "tech_field": "electronic_information",
        "documents": [{"name": "合同.pdf", "sha256": format!("{:064x}", i + 1)}]
    })
}

#[derive(Default)]
struct Samples {
    submit: Vec<Duration>,
    accept: Vec<Duration>,
    register: Vec<Duration>,
    flow: Vec<Duration>,
    numbers: Vec<String>,
    failures: Vec<String>,
}

pub async fn run(a: Args) -> anyhow::Result<()> {
    if a.clients == 0 || a.contracts == 0 {
        bail!("--clients and --contracts must be positive");
    }
    let target = fresh_database(a.database_url.as_deref()).await?;
    let result = bench(&a, &target).await;
    target.finish(a.keep).await;
    result
}

async fn bench(a: &Args, target: &Target) -> anyhow::Result<()> {
    let config = target.config(a.pool);
    let app = App::build(config.clone()).await?;
    let db = app.state.db.clone();
    let served = Served::start(app).await?;
    let http = Http {
        client: reqwest::Client::builder()
            .pool_max_idle_per_host(a.clients * 2)
            .build()?,
        base: served.base.clone(),
    };

    // Setup: a verified Beijing station with a reviewer, a seller per client, a buyer.
    let setup = Instant::now();
    let (_, op_token) = ttx_server::admin::create_operator(
        &db,
        &config.accounts,
        "operator@bench.test",
        "Bench operator",
        "bench-password-1",
    )
    .await?;
    let (station, station_admin) = signup(&http, "station", "110000", 1).await?;
    http.post(
        &format!("/v1/orgs/{station}/verify"),
        Some(&op_token),
        &json!({"jurisdiction": ["110000"]}),
    )
    .await?;
    http.post(
        &format!("/v1/orgs/{station}/members"),
        Some(&station_admin),
        &json!({"email": "reviewer@bench.test", "display_name": "审核员", "password": "bench-password-1", "role": "station_reviewer"}),
    )
    .await?;
    let reviewer = http
        .post(
            "/v1/tokens",
            None,
            &json!({"email": "reviewer@bench.test", "password": "bench-password-1"}),
        )
        .await?["token"]
        .as_str()
        .context("reviewer token")?
        .to_string();
    let (buyer, _) = signup(&http, "enterprise", "320505", 2).await?;
    let mut sellers = vec![];
    for c in 0..a.clients {
        sellers.push(signup(&http, "university", "110108", 100 + c).await?.1);
    }
    let sellers = Arc::new(sellers);

    // Drafts (not part of the measured flow).
    let drafts_started = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let ids = Arc::new(Mutex::new(vec![(0i64, 0usize); a.contracts]));
    let mut tasks = vec![];
    for c in 0..a.clients {
        let (http, next, ids, sellers) = (http.clone(), next.clone(), ids.clone(), sellers.clone());
        let n = a.contracts;
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok::<_, anyhow::Error>(());
                }
                let v = http
                    .post("/v1/contracts", Some(&sellers[c]), &draft_body(i, buyer))
                    .await?;
                ids.lock().await[i] = (v["id"].as_i64().context("contract id")?, c);
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    let drafts_time = drafts_started.elapsed();
    let setup_time = setup.elapsed();

    // The measured flow.
    let ids: Arc<Vec<(i64, usize)>> = Arc::new(ids.lock().await.clone());
    let next = Arc::new(AtomicUsize::new(0));
    let samples = Arc::new(Mutex::new(Samples::default()));
    let rss_before = rss_mib();
    let started = Instant::now();
    let mut tasks = vec![];
    for _ in 0..a.clients {
        let (http, next, ids, sellers, samples, reviewer) = (
            http.clone(),
            next.clone(),
            ids.clone(),
            sellers.clone(),
            samples.clone(),
            reviewer.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut local = Samples::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= ids.len() {
                    break;
                }
                let (id, owner) = ids[i];
                let seller = &sellers[owner];
                let t0 = Instant::now();
                let step = |name: &'static str, token: String| {
                    let http = http.clone();
                    async move {
                        let t = Instant::now();
                        let r = http
                            .send(
                                reqwest::Method::POST,
                                &format!("/v1/contracts/{id}/{name}"),
                                Some(&token),
                                Some(&json!({})),
                            )
                            .await;
                        (t.elapsed(), r)
                    }
                };
                let (d1, r1) = step("submit", seller.clone()).await;
                let (d2, r2) = step("accept", reviewer.clone()).await;
                let (d3, r3) = step("register", reviewer.clone()).await;
                local.flow.push(t0.elapsed());
                local.submit.push(d1);
                local.accept.push(d2);
                local.register.push(d3);
                match (r1, r2, r3) {
                    (Ok((s1, _)), Ok((s2, _)), Ok((s3, v)))
                        if s1.is_success() && s2.is_success() && s3.is_success() =>
                    {
                        local.numbers.push(
                            v["registration"]["number"]
                                .as_str()
                                .unwrap_or_default()
                                .to_string(),
                        );
                    }
                    (r1, r2, r3) => local.failures.push(format!(
                        "contract {id}: {:?} / {:?} / {:?}",
                        r1.map(|r| r.0),
                        r2.map(|r| r.0),
                        r3.map(|r| (r.0, r.1))
                    )),
                }
            }
            let mut s = samples.lock().await;
            s.submit.extend(local.submit);
            s.accept.extend(local.accept);
            s.register.extend(local.register);
            s.flow.extend(local.flow);
            s.numbers.extend(local.numbers);
            s.failures.extend(local.failures);
        }));
    }
    for t in tasks {
        t.await?;
    }
    let elapsed = started.elapsed();
    let rss_after = rss_mib();
    let s = std::mem::take(&mut *samples.lock().await);

    // Checks.
    let distinct: BTreeSet<&String> = s.numbers.iter().collect();
    let mut seqs: Vec<u64> = s
        .numbers
        .iter()
        .filter_map(|n| n.get(12..).and_then(|x| x.parse().ok()))
        .collect();
    seqs.sort();
    let gapless = seqs.iter().enumerate().all(|(i, q)| *q == i as u64 + 1);
    let sums = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT CAST((SELECT COALESCE(SUM(count_delta), 0) FROM ledger_entries) AS BIGINT) AS ln, \
             CAST((SELECT COALESCE(SUM(technology_amount_delta), 0) FROM ledger_entries) AS BIGINT) AS lt, \
             CAST((SELECT COUNT(*) FROM contracts WHERE status = 'registered') AS BIGINT) AS cn, \
             CAST((SELECT COALESCE(SUM(technology_amount), 0) FROM contracts WHERE status = 'registered') AS BIGINT) AS ct",
        ))
        .await?
        .context("ledger check")?;
    let (ln, lt, cn, ct): (i64, i64, i64, i64) = (
        sums.try_get("", "ln")?,
        sums.try_get("", "lt")?,
        sums.try_get("", "cn")?,
        sums.try_get("", "ct")?,
    );

    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let n = s.numbers.len();
    say!("== ttx-bench contracts ==");
    say!("machine:    {cores} cores, {cpu}; server, database and clients on this machine");
    say!("database:   {}", target.label);
    say!(
        "setup:      {:.1}s ({} drafts written in {:.1}s, {:.0}/s)",
        setup_time.as_secs_f64(),
        a.contracts,
        drafts_time.as_secs_f64(),
        a.contracts as f64 / drafts_time.as_secs_f64()
    );
    say!(
        "flow:       {} clients, {} contracts, submit + accept + register each ({} HTTP requests)",
        a.clients,
        a.contracts,
        a.contracts * 3
    );
    say!(
        "time:       {:.2}s  →  {:.0} contracts/s registered end to end ({:.0} requests/s)",
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64(),
        (a.contracts * 3) as f64 / elapsed.as_secs_f64()
    );
    let reg = Latencies::new(s.register.clone());
    figure("database", target.label.clone());
    figure(
        format!(
            "{} contracts, {} clients: registered end to end",
            a.contracts, a.clients
        ),
        format!("{:.0} contracts/s", n as f64 / elapsed.as_secs_f64()),
    );
    figure(
        "register p50 / p95 / p99",
        format!(
            "{:.1} / {:.1} / {:.1} ms",
            reg.percentile(50.0),
            reg.percentile(95.0),
            reg.percentile(99.0)
        ),
    );
    figure(
        "checks (numbers distinct and gapless, ledger = registered)",
        if s.failures.is_empty() && distinct.len() == n && gapless && ln == cn && lt == ct {
            "passed"
        } else {
            "FAILED"
        },
    );
    say!("submit:     {}", Latencies::new(s.submit).line());
    say!("accept:     {}", Latencies::new(s.accept).line());
    say!("register:   {}", Latencies::new(s.register).line());
    say!(
        "per contract (3 requests): {}",
        Latencies::new(s.flow).line()
    );
    if let (Some(b), Some(af)) = (rss_before, rss_after) {
        say!("process RSS: {b:.0} MiB before, {af:.0} MiB after (server + clients)");
    }
    say!(
        "checks:     {n} registered, {} failed; numbers distinct: {}; gapless 1..{}: {}; ledger = registered: {} ({} contracts, {} fen)",
        s.failures.len(),
        distinct.len() == n,
        seqs.len(),
        gapless,
        ln == cn && lt == ct,
        ln,
        lt
    );
    for f in s.failures.iter().take(5) {
        say!("  failure: {f}");
    }
    served.stop().await;
    if !s.failures.is_empty() || distinct.len() != n || !gapless || ln != cn || lt != ct {
        bail!("the run did not pass its checks");
    }
    Ok(())
}
