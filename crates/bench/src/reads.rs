//! `ttx-bench reads`: public reads by id over HTTP.
//!
//! Starts TTX in-process on a random port with a fresh SQLite file and index in a temporary
//! directory (rate limits off), imports `--listings` demo listings through the import path and
//! seeds the demo needs, then runs `--clients` concurrent HTTP/1.1 clients, each on its own
//! keep-alive connection (one request at a time, no pipelining), through `--requests`
//! anonymous `GET /v1/listings/{id}` of random published listings, and the same for
//! `GET /v1/demands/{id}` of the open needs. Reports requests/s, p50/p95/p99 and errors.
//!
//! The load generator runs in the same process and on the same cores as the server: the
//! figures are what the server does while sharing the machine with its clients.
//!
//! The server runs with its configuration defaults and `TTX_*` overrides, so the public read
//! cache is on (`read_cache`, TTL 5 s); `TTX_READ_CACHE__ENABLED=false` measures every read going
//! to the database. The report gives the cache's hit ratio from `/metrics`.
use crate::report::{figure, rss_mib, say, Latencies};
use anyhow::Context;
use sea_orm::{ConnectionTrait, Statement};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use ttx_listings::demo::Rng;

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// Published listings to import.
    #[arg(long, default_value_t = 10_000)]
    pub(crate) listings: usize,
    /// Concurrent HTTP clients (each its own keep-alive connection).
    #[arg(long, default_value_t = 32)]
    pub(crate) clients: usize,
    /// Timed requests per route (after a warm-up of 5%).
    #[arg(long, default_value_t = 200_000)]
    pub(crate) requests: usize,
    /// Seed of the listings and of the id sequence.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
}

/// What one route's run measured.
pub(crate) struct ReadFigures {
    pub(crate) latencies: Latencies,
    pub(crate) errors: usize,
    pub(crate) secs: f64,
}

impl ReadFigures {
    pub(crate) fn rate(&self) -> f64 {
        self.latencies.count() as f64 / self.secs
    }
}

/// Hits and misses of the read cache `cache` so far, from `/metrics`.
pub(crate) async fn cache_lookups(base: &str, cache: &str) -> anyhow::Result<(u64, u64)> {
    let text = reqwest::get(format!("{base}/metrics"))
        .await?
        .text()
        .await?;
    let mut out = (0, 0);
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("ttx_read_cache_lookups_total{") else {
            continue;
        };
        if !rest.contains(&format!("cache=\"{cache}\"")) {
            continue;
        }
        let n: f64 = line
            .rsplit(' ')
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        if rest.contains("result=\"hit\"") {
            out.0 += n as u64;
        } else if rest.contains("result=\"miss\"") {
            out.1 += n as u64;
        }
    }
    Ok(out)
}

/// `requests` GETs of `paths`, taken in turn from a shared cursor by `clients` tasks.
async fn fire(base: &str, paths: Arc<Vec<String>>, clients: usize) -> anyhow::Result<ReadFigures> {
    let next = Arc::new(AtomicUsize::new(0));
    let t0 = Instant::now();
    let mut handles = vec![];
    for _ in 0..clients.max(1) {
        // One client per task: its own pool, so each task keeps its one connection.
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .tcp_nodelay(true)
            .build()?;
        let (next, paths, base) = (next.clone(), paths.clone(), base.to_string());
        handles.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(paths.len() / clients.max(1) + 1);
            let mut errors = 0usize;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(p) = paths.get(i) else { break };
                let t = Instant::now();
                let ok = match client.get(format!("{base}{p}")).send().await {
                    Ok(r) => {
                        let s = r.status();
                        r.bytes().await.is_ok() && s.is_success()
                    }
                    Err(_) => false,
                };
                lat.push(t.elapsed());
                if !ok {
                    errors += 1;
                }
            }
            (lat, errors)
        }));
    }
    let mut all = vec![];
    let mut errors = 0;
    for h in handles {
        let (l, e) = h.await?;
        all.extend(l);
        errors += e;
    }
    Ok(ReadFigures {
        secs: t0.elapsed().as_secs_f64(),
        latencies: Latencies::new(all),
        errors,
    })
}

async fn ids(db: &sea_orm::DatabaseConnection, sql: &str) -> anyhow::Result<Vec<i64>> {
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?;
    rows.iter()
        .map(|r| r.try_get::<i64>("", "id").map_err(Into::into))
        .collect()
}

fn random_paths(prefix: &str, ids: &[i64], n: usize, rng: &mut Rng) -> Vec<String> {
    (0..n)
        .map(|_| format!("{prefix}/{}", ids[rng.below(ids.len())]))
        .collect()
}

pub async fn run(a: Args) -> anyhow::Result<()> {
    anyhow::ensure!(
        a.listings > 0 && a.clients > 0 && a.requests > 0,
        "--listings, --clients and --requests must be positive"
    );
    let run = crate::search::start("embedded", 2000).await?;
    let client = reqwest::Client::new();
    let uni = crate::matching::signup(
        &client,
        &run.base,
        "university",
        "12110108MB0099961",
        "110108",
    )
    .await?;
    let firm = crate::matching::signup(
        &client,
        &run.base,
        "enterprise",
        "91320505MA0099951",
        "320505",
    )
    .await?;
    let inst = crate::matching::signup(
        &client,
        &run.base,
        "research_institute",
        "12310115MB0099941",
        "310115",
    )
    .await?;
    let today = ttx_core::clock::today();
    let rows: Vec<_> = ttx_listings::demo::generate(a.listings, a.seed, today)
        .into_iter()
        .map(|mut l| {
            l.publish = Some(true);
            l
        })
        .collect();
    let t0 = Instant::now();
    let imported = crate::matching::import(&run, uni.0, &rows, "reads.jsonl").await?;
    let import_secs = t0.elapsed().as_secs_f64();
    drop(rows);
    ttx_demands::demo::seed(
        &run.db,
        ttx_demands::demo::DemoOrgs {
            enterprise: firm.0,
            university: uni.0,
            institute: inst.0,
        },
    )
    .await
    .context("seeding the demo needs")?;
    let listing_ids = ids(
        &run.db,
        "SELECT id FROM listings WHERE status = 'published' ORDER BY id",
    )
    .await?;
    let demand_ids = ids(
        &run.db,
        "SELECT id FROM demands WHERE status = 'open' ORDER BY id",
    )
    .await?;
    anyhow::ensure!(!listing_ids.is_empty(), "no published listings to read");
    anyhow::ensure!(!demand_ids.is_empty(), "no open needs to read");

    say!("== ttx-bench reads ==");
    say!(
        "data:       {} listings imported ({:.1}s), {} published; {} open needs (the demo needs)",
        imported,
        import_secs,
        listing_ids.len(),
        demand_ids.len()
    );
    say!(
        "load:       {} clients, one keep-alive HTTP/1.1 connection each (reqwest), one request \
         at a time, anonymous; clients in the server's process, on the same 2 cores",
        a.clients
    );
    figure(
        "data",
        format!(
            "{} published listings, {} open needs",
            listing_ids.len(),
            demand_ids.len()
        ),
    );
    figure("clients", a.clients.to_string());
    let rc = ttx_server::config::Config::load(None)
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .read_cache;
    let cache_line = if rc.enabled && rc.ttl_secs > 0 {
        format!(
            "on (ttl {} s, at most {} entries per resource)",
            rc.ttl_secs, rc.max_entries
        )
    } else {
        "off".to_string()
    };
    say!("read cache: {cache_line}");
    figure("read cache", cache_line);
    let mut rng = Rng::new(a.seed ^ 0xEAD5);
    let mut met = true;
    for (prefix, ids) in [("/v1/listings", &listing_ids), ("/v1/demands", &demand_ids)] {
        let warm = Arc::new(random_paths(
            prefix,
            ids,
            (a.requests / 20).max(100),
            &mut rng,
        ));
        let w = fire(&run.base, warm, a.clients).await?;
        anyhow::ensure!(
            w.errors == 0,
            "GET {prefix}/{{id}}: {} errors in the warm-up",
            w.errors
        );
        let paths = Arc::new(random_paths(prefix, ids, a.requests, &mut rng));
        let cache = prefix.trim_start_matches("/v1/");
        let before = cache_lookups(&run.base, cache).await?;
        let f = fire(&run.base, paths, a.clients).await?;
        let after = cache_lookups(&run.base, cache).await?;
        let (hits, misses) = (
            after.0.saturating_sub(before.0),
            after.1.saturating_sub(before.1),
        );
        let (rate, p99) = (f.rate(), f.latencies.percentile(99.0));
        let ok = rate >= 10_000.0 && p99 < 10.0 && f.errors == 0;
        met &= ok;
        say!(
            "GET {prefix}/{{id}}: {} requests in {:.2}s = {:.0} req/s, {} errors",
            f.latencies.count(),
            f.secs,
            rate,
            f.errors
        );
        say!("  {}", f.latencies.line());
        if hits + misses > 0 {
            let ratio = 100.0 * hits as f64 / (hits + misses) as f64;
            say!("  read cache: {hits} hits, {misses} misses ({ratio:.0}% hits)");
            figure(
                format!("GET {prefix}/{{id}} read cache hits"),
                format!("{ratio:.0}%"),
            );
        }
        say!(
            "  target >= 10,000 req/s with p99 < 10 ms: {}",
            if ok { "met" } else { "MISSED" }
        );
        figure(format!("GET {prefix}/{{id}} req/s"), format!("{rate:.0}"));
        figure(
            format!("GET {prefix}/{{id}} p50 / p95 / p99"),
            format!(
                "{:.2} / {:.2} / {:.2} ms",
                f.latencies.percentile(50.0),
                f.latencies.percentile(95.0),
                p99
            ),
        );
        figure(format!("GET {prefix}/{{id}} errors"), f.errors.to_string());
    }
    if let Some(r) = rss_mib() {
        say!("process RSS (server + clients): {r:.0} MiB");
    }
    figure(
        "target (>= 10,000 req/s, p99 < 10 ms)",
        if met { "met" } else { "MISSED" },
    );
    drop(run);
    tokio::time::sleep(Duration::from_millis(100)).await;
    Ok(())
}
