//! `ttx-bench search`: listing import rate and search latency over HTTP.
//!
//! 1. Builds a corpus: the CSL records (`--csl`, else `csl/corpus.jsonl` in the data directory,
//!    `--data-dir`, default `../shared/data` from the repository root) expanded to `--listings` by deterministic
//!    recombination of titles, keywords and abstracts; without CSL, the demo generator.
//! 2. Starts TTX in-process on a random port with a fresh SQLite file and index in a temporary
//!    directory, signs up a university, and imports the corpus through the import path
//!    (`ttx import listings`), timing until the search outbox has drained.
//! 3. Runs `--clients` concurrent HTTP clients through `--requests` searches of a realistic mix
//!    (two-character Chinese terms, longer terms, English, mixed, filters, facets, sorts) and
//!    prints p50 / p95 / p99 per kind and overall, the index size and the process RSS.
//! 4. With `MEILI_URL` set, repeats against Meilisearch and prints the top-10 overlap.
use crate::report::{dir_size, figure, rss_mib, say, Latencies};
use anyhow::Context;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use ttx_core::{Labelled, TechField, TransferMode, Trl};
use ttx_listings::demo::Rng;
use ttx_listings::domain::Price;
use ttx_listings::dto::ListingInput;
use ttx_listings::import::{Format, ImportOptions};
use ttx_server::{App, Config};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Listings to import.
    #[arg(long, default_value_t = 100_000)]
    listings: usize,
    /// Concurrent HTTP search clients.
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Search requests to time (after a warm-up of 5%).
    #[arg(long, default_value_t = 20_000)]
    requests: usize,
    /// The CSL corpus (JSON Lines); default: csl/corpus.jsonl in the data directory.
    #[arg(long)]
    csl: Option<PathBuf>,
    /// Rows per import transaction.
    #[arg(long, default_value_t = 1000)]
    batch_size: usize,
    /// Outbox rows the index worker applies per batch.
    #[arg(long, default_value_t = 2000)]
    outbox_batch: u64,
    /// Seed of the corpus expansion and the query mix.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Keep the embedded engine's database and index in this directory: the first run imports
    /// into it, later runs with the same `--listings` and `--seed` reuse it and skip the import
    /// (at 1M listings the import takes minutes).
    #[arg(long)]
    reuse: Option<PathBuf>,
    /// Write the top 10 ids of every distinct query of the mix (engine alone) to this JSON
    /// file, to compare rankings between builds with `--compare-top10`.
    #[arg(long)]
    save_top10: Option<PathBuf>,
    /// Compare the top 10 of every distinct query of the mix with a file written by
    /// `--save-top10` (same data: use `--reuse`) and print the overlap.
    #[arg(long)]
    compare_top10: Option<PathBuf>,
    /// Skip the in-process runs (service and engine alone) after the HTTP run.
    #[arg(long)]
    http_only: bool,
    /// Listing edits per second during the timed HTTP run, as a live market makes them: each
    /// one is a committed update that the index applies and commits, which opens a new searcher;
    /// the embedded engine's cached answers are carried over to it only when the edited listing
    /// matches none of them. 0: a read-only run.
    #[arg(long, default_value_t = 0.0)]
    writes_per_sec: f64,
}

#[derive(serde::Deserialize)]
pub(crate) struct CslRecord {
    pub(crate) id: String,
    pub(crate) title: String,
    #[serde(rename = "abstract")]
    pub(crate) abstract_: String,
    pub(crate) keywords: Vec<String>,
    pub(crate) discipline: String,
    pub(crate) category: String,
}

pub(crate) fn csl_path(given: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = given {
        return Some(p.to_path_buf());
    }
    Some(crate::data_dir().join("csl/corpus.jsonl")).filter(|p| p.exists())
}

/// The technology field of a CSL discipline (first match wins).
pub(crate) fn field_of(r: &CslRecord) -> TechField {
    let d = r.discipline.as_str();
    let has = |keys: &[&str]| keys.iter().any(|k| d.contains(k));
    if has(&["航空", "兵器"]) {
        TechField::Aerospace
    } else if has(&["核"]) {
        TechField::Nuclear
    } else if has(&["计算机", "信息与通信", "电子", "控制科学", "测绘", "图书馆"])
    {
        TechField::ElectronicInformation
    } else if has(&["医", "药", "生物", "口腔", "心理"]) {
        TechField::Biomedicine
    } else if has(&["材料", "化学", "纺织", "冶金"]) {
        TechField::NewMaterials
    } else if has(&["电气", "动力", "石油", "矿业"]) {
        TechField::NewEnergy
    } else if has(&["环境", "大气", "地理", "地质", "海洋", "地球物理"]) {
        TechField::Environment
    } else if has(&["农", "园艺", "作物", "水产", "林", "畜牧", "植物", "食品"]) {
        TechField::Agriculture
    } else if has(&["交通", "船舶"]) {
        TechField::ModernTransport
    } else if has(&["机械", "力学", "光学", "仪器"]) || r.category == "工学" {
        TechField::AdvancedManufacturing
    } else {
        TechField::UrbanSocial
    }
}

pub(crate) fn first_sentence(s: &str) -> String {
    let end = s
        .char_indices()
        .find(|(_, c)| matches!(c, '。' | '；' | ';'))
        .map_or(s.len(), |(i, c)| i + c.len_utf8());
    s[..end].chars().take(300).collect()
}

const REGIONS: &[&str] = &[
    "110108", "440305", "310115", "320505", "330106", "420111", "510107", "610113", "430104",
    "370102", "340104", "230103", "120116", "500112", "440106", "320106",
];
const QUALIFIERS: &[&str] = &["新型", "高效", "改进的", "低成本", "智能化"];
const SUFFIXES: &[&str] = &["及其应用", "关键技术研究", "方法与系统", "优化设计"];

/// Expands CSL records to `n` listings: the first pass keeps each record, later passes
/// recombine a record with a partner record's keywords and abstract.
fn expand_csl(recs: &[CslRecord], n: usize, seed: u64) -> Vec<ListingInput> {
    let mut rng = Rng::new(seed);
    let r = recs.len();
    (0..n)
        .map(|i| {
            let base = &recs[i % r];
            let pass = i / r;
            let partner = &recs[(i.wrapping_mul(7919) + pass * 104_729 + 13) % r];
            let pkw = partner
                .keywords
                .first()
                .cloned()
                .unwrap_or_else(|| "集成".into());
            let title = match pass % 5 {
                0 => base.title.clone(),
                1 => format!("{}（{}）", base.title, pkw),
                2 => format!("基于{}的{}", pkw, base.title),
                3 => format!("{}{}", base.title, rng.pick(SUFFIXES)),
                _ => format!("{}{}", rng.pick(QUALIFIERS), base.title),
            };
            let mut keywords: Vec<String> = base.keywords.iter().take(6).cloned().collect();
            keywords.extend(partner.keywords.iter().take(2).cloned());
            listing_from(
                &mut rng,
                i,
                title,
                first_sentence(&base.abstract_),
                format!("{}\n{}", base.abstract_, first_sentence(&partner.abstract_)),
                keywords,
                field_of(base),
            )
        })
        .collect()
}

/// `n` recombinations of CSL records (no record as it is), with external ids `rec-<i>`.
pub(crate) fn expand_from(recs: &[CslRecord], n: usize, seed: u64) -> Vec<ListingInput> {
    expand_csl(recs, n + recs.len(), seed)
        .into_iter()
        .skip(recs.len())
        .enumerate()
        .map(|(i, mut l)| {
            l.external_id = Some(format!("rec-{i}"));
            l
        })
        .collect()
}

pub(crate) fn listing_from(
    rng: &mut Rng,
    i: usize,
    title: String,
    summary: String,
    description: String,
    keywords: Vec<String>,
    field: TechField,
) -> ListingInput {
    const WAN: i64 = 1_000_000;
    let price = match rng.below(10) {
        0..=3 => Price::Negotiable,
        4..=6 => Price::Fixed {
            amount: ttx_core::Fen(rng.between(5, 2_000) * WAN),
        },
        _ => {
            let lo = rng.between(5, 1_000);
            Price::Range {
                min: ttx_core::Fen(lo * WAN),
                max: ttx_core::Fen((lo + rng.between(5, 800)) * WAN),
            }
        }
    };
    let mut modes: Vec<TransferMode> = (0..1 + rng.below(3))
        .map(|_| *rng.pick(TransferMode::ALL))
        .collect();
    modes.sort();
    modes.dedup();
    let summary = if summary.trim().is_empty() {
        title.clone()
    } else {
        summary
    };
    ListingInput {
        title: title.chars().take(200).collect(),
        summary,
        description: description.chars().take(20_000).collect(),
        keywords: keywords
            .into_iter()
            .filter(|k| k.chars().count() <= 50)
            .take(10)
            .collect(),
        field,
        trl: Trl::new(rng.between(1, 9) as u8).expect("1..=9"),
        ip_items: vec![],
        transfer_modes: modes,
        price: price.into(),
        region_code: Some(rng.pick(REGIONS).to_string()),
        registration_no: None,
        dual_use: rng.chance(5),
        expires_on: None,
        contact: None,
        publish: Some(true),
        external_id: Some(format!("bench-{i}")),
    }
}

/// The corpus and a description of where it came from.
fn corpus(a: &Args) -> anyhow::Result<(Vec<ListingInput>, String)> {
    match csl_path(a.csl.as_deref()) {
        Some(p) => {
            let text = std::fs::read_to_string(&p)
                .with_context(|| format!("reading the CSL corpus {}", p.display()))?;
            let recs: Vec<CslRecord> = text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(serde_json::from_str)
                .collect::<Result<_, _>>()
                .context("parsing the CSL corpus")?;
            anyhow::ensure!(!recs.is_empty(), "the CSL corpus {} is empty", p.display());
            let desc = format!(
                "CSL ({} records from {}) expanded to {} listings",
                recs.len(),
                p.display(),
                a.listings
            );
            Ok((expand_csl(&recs, a.listings, a.seed), desc))
        }
        None => {
            say!(
                "NOTE: the CSL corpus is absent (looked for --csl and {}); falling back to the \
                 demo generator",
                crate::data_dir().join("csl/corpus.jsonl").display()
            );
            let today = ttx_core::clock::today();
            Ok((
                ttx_listings::demo::generate(a.listings, a.seed, today)
                    .into_iter()
                    .map(|mut l| {
                        l.publish = Some(true);
                        l
                    })
                    .collect(),
                format!("demo generator, {} listings", a.listings),
            ))
        }
    }
}

/// One search of the mix.
#[derive(Clone, Debug)]
struct Query {
    kind: &'static str,
    path: String,
    /// Text, for comparing engines.
    text: Option<String>,
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A realistic mix drawn from the corpus.
fn query_mix(corpus: &[ListingInput], n: usize, seed: u64) -> Vec<Query> {
    let mut rng = Rng::new(seed ^ 0x5EA2C4);
    let mut kw_count: HashMap<&str, usize> = HashMap::new();
    for l in corpus.iter().take(20_000) {
        for k in &l.keywords {
            *kw_count.entry(k.as_str()).or_default() += 1;
        }
    }
    let mut by_freq: Vec<(&str, usize)> = kw_count.into_iter().collect();
    by_freq.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let longer: Vec<&str> = by_freq
        .iter()
        .map(|(k, _)| *k)
        .filter(|k| k.chars().count() >= 3 && !k.is_ascii())
        .take(300)
        .collect();
    let two: Vec<&str> = vec![
        "电池", "芯片", "疫苗", "材料", "控制", "检测", "算法", "土壤", "水稻", "桥梁", "催化",
        "传感", "模型", "优化", "图像", "网络", "农业", "药物", "合金", "储能",
    ];
    let english: Vec<String> = {
        let mut words: HashMap<String, usize> = HashMap::new();
        for l in corpus.iter().take(20_000) {
            for w in l
                .description
                .split(|c: char| !c.is_ascii_alphabetic())
                .filter(|w| w.len() >= 4)
            {
                *words.entry(w.to_lowercase()).or_default() += 1;
            }
        }
        let mut v: Vec<(String, usize)> = words.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut out: Vec<String> = v.into_iter().take(60).map(|(w, _)| w).collect();
        if out.is_empty() {
            out = vec!["battery".into(), "vaccine".into(), "chip".into()];
        }
        out
    };
    let fields: Vec<&str> = TechField::ALL.iter().map(|f| f.code()).collect();
    let modes: Vec<&str> = TransferMode::ALL.iter().map(|m| m.code()).collect();
    let provinces = ["11", "44", "31", "32", "33", "42", "51", "4403", "3201"];
    (0..n)
        .map(|_| {
            let (kind, text, mut params): (&'static str, Option<String>, Vec<String>) =
                match rng.below(100) {
                    0..=24 => {
                        let t = rng.pick(&two).to_string();
                        ("zh-2char", Some(t), vec![])
                    }
                    25..=44 => {
                        let t = rng.pick(&longer).to_string();
                        ("zh-longer", Some(t), vec![])
                    }
                    45..=54 => {
                        let t = rng.pick(&english).clone();
                        ("english", Some(t), vec![])
                    }
                    55..=62 => {
                        let t = format!("{} {}", rng.pick(&english), rng.pick(&two));
                        ("mixed", Some(t), vec![])
                    }
                    63..=79 => {
                        let t = rng.pick(&two).to_string();
                        let mut p = vec![format!("field={}", rng.pick(&fields))];
                        if rng.chance(50) {
                            let lo = rng.between(1, 6);
                            p.push(format!("trl_min={lo}&trl_max={}", lo + 3));
                        }
                        if rng.chance(40) {
                            p.push(format!("mode={}", rng.pick(&modes)));
                        }
                        if rng.chance(40) {
                            p.push(format!("region={}", rng.pick(&provinces)));
                        }
                        if rng.chance(30) {
                            p.push("price_min=10000000&price_max=500000000".into());
                        }
                        ("text+filters", Some(t), p)
                    }
                    80..=91 => {
                        let mut p = vec![format!("field={}", rng.pick(&fields))];
                        if rng.chance(50) {
                            p.push(format!("region={}", rng.pick(&provinces)));
                        }
                        p.push(
                            ["sort=newest", "sort=price_asc", "sort=price_desc"][rng.below(3)]
                                .to_string(),
                        );
                        ("filters-only", None, p)
                    }
                    _ => {
                        let t = rng.pick(&longer).to_string();
                        ("text+facets", Some(t), vec![])
                    }
                };
            if kind == "text+facets" || rng.chance(30) {
                params.push("facets=field,modes,trl,province".into());
            }
            if let Some(t) = &text {
                params.insert(0, format!("q={}", enc(t)));
            }
            Query {
                kind,
                path: format!("/v1/listings?{}", params.join("&")),
                text,
            }
        })
        .collect()
}

/// Listing edits made beside the timed searches (`--writes-per-sec`): each re-imports one
/// listing of the corpus by its external id with a new title, in its own transaction, which
/// queues it for the index worker as any edit does.
struct WriteLoad {
    stop: Arc<std::sync::atomic::AtomicBool>,
    task: tokio::task::JoinHandle<anyhow::Result<(u64, Latencies)>>,
}

impl WriteLoad {
    async fn start(
        run: &Running,
        edits: &[ListingInput],
        per_sec: f64,
    ) -> anyhow::Result<Option<WriteLoad>> {
        if per_sec <= 0.0 || edits.is_empty() {
            return Ok(None);
        }
        use sea_orm::{ConnectionTrait, Statement};
        let rows = run
            .db
            .query_all_raw(Statement::from_string(
                run.db.get_database_backend(),
                "SELECT owner_org_id FROM listings WHERE external_id IS NOT NULL LIMIT 1",
            ))
            .await?;
        let org: i64 = rows
            .first()
            .context("no imported listing to edit")?
            .try_get("", "owner_org_id")?;
        let (db, wake, edits) = (run.db.clone(), run.outbox.clone(), edits.to_vec());
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = stop.clone();
        let task = tokio::spawn(async move {
            let mut opts = ImportOptions::new(org);
            opts.batch_size = 1;
            let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / per_sec));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let (mut n, mut lat) = (0u64, Vec::new());
            while !stopped.load(Ordering::Relaxed) {
                tick.tick().await;
                let mut edit = edits[n as usize % edits.len()].clone();
                let title: String = edit.title.chars().take(180).collect();
                edit.title = format!("{title}（第{}版）", n + 2);
                let t = Instant::now();
                let r = ttx_listings::import::import_inputs(&db, Some(&wake), &opts, vec![edit])
                    .await?;
                anyhow::ensure!(r.failed == 0, "a bench edit was rejected: {:?}", r.errors);
                lat.push(t.elapsed());
                n += 1;
            }
            Ok((n, Latencies::new(lat)))
        });
        Ok(Some(WriteLoad { stop, task }))
    }

    /// Stops the edits; how many were made and how long each took to commit.
    async fn stop(self) -> anyhow::Result<(u64, Latencies)> {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await?
    }
}

/// Where a running server keeps its database and index: a temporary directory, or one kept
/// across runs (`--reuse`).
pub(crate) enum BenchDir {
    Temp(tempfile::TempDir),
    Kept(PathBuf),
}

impl BenchDir {
    pub(crate) fn path(&self) -> &Path {
        match self {
            BenchDir::Temp(t) => t.path(),
            BenchDir::Kept(p) => p,
        }
    }
}

pub(crate) struct Running {
    pub(crate) base: String,
    pub(crate) db: sea_orm::DatabaseConnection,
    pub(crate) outbox: Arc<tokio::sync::Notify>,
    listings: ttx_listings::ListingsState,
    pub(crate) dir: BenchDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    engine: String,
}

pub(crate) async fn start(engine: &str, outbox_batch: u64) -> anyhow::Result<Running> {
    start_in(engine, outbox_batch, BenchDir::Temp(tempfile::tempdir()?)).await
}

async fn start_in(engine: &str, outbox_batch: u64, dir: BenchDir) -> anyhow::Result<Running> {
    // Defaults, with `TTX_*` environment overrides (e.g. matching weights) honoured.
    let mut config = Config::load(None).map_err(|e| anyhow::anyhow!("{e}"))?;
    config.data_dir = dir.path().to_path_buf();
    config.database.url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.db").display()
    );
    config.search.engine = engine.to_string();
    config.search.outbox_batch_size = outbox_batch;
    // The load comes from one address: the rate limits would measure themselves.
    config.server.rate_limit = ttx_server::config::RateLimitConfig::off();
    if engine == "meilisearch" {
        config.search.meili_url = std::env::var("MEILI_URL").ok();
        config.search.meili_api_key = std::env::var("MEILI_API_KEY")
            .or_else(|_| std::env::var("MEILI_MASTER_KEY"))
            .ok();
        config.search.meili_index_prefix = format!("ttx_bench_{}_", std::process::id());
    }
    let app = App::build(config).await?;
    let db = app.state.db.clone();
    let outbox = app.state.search.outbox.clone();
    let listings = ttx_listings::ListingsState::new(
        db.clone(),
        app.state.search.engine.clone(),
        outbox.clone(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = app
            .serve_until(listener, async move {
                let _ = rx.await;
            })
            .await;
    });
    Ok(Running {
        base: format!("http://{addr}"),
        db,
        outbox,
        listings,
        dir,
        stop: Some(tx),
        engine: engine.to_string(),
    })
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

async fn signup(client: &reqwest::Client, base: &str) -> anyhow::Result<i64> {
    let code = ttx_core::CreditCode::complete("12110108MB0099991")?;
    let r: Value = client
        .post(format!("{base}/v1/signup"))
        .json(&serde_json::json!({
            "org": {"kind": "university", "name": "基准测试大学", "credit_code": code.as_str(), "region_code": "110108"},
            "admin": {"email": "bench@bench.test", "display_name": "bench", "password": "bench-password-1"}
        }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    r["org"]["id"].as_i64().context("org id")
}

struct ImportFigures {
    listings: u64,
    failed: u64,
    db_secs: f64,
    total_secs: f64,
}

async fn import(run: &Running, file: &Path, a: &Args) -> anyhow::Result<ImportFigures> {
    let client = reqwest::Client::new();
    let org = signup(&client, &run.base).await?;
    let mut opts = ImportOptions::new(org);
    opts.batch_size = a.batch_size;
    let t0 = Instant::now();
    let mut last = Instant::now();
    let report = ttx_listings::import::import_file(
        &run.db,
        Some(&run.outbox),
        file,
        Format::Jsonl,
        &opts,
        |done, _| {
            if last.elapsed() > Duration::from_secs(5) {
                eprintln!(
                    "  imported {done} rows ({:.0}/s)",
                    done as f64 / t0.elapsed().as_secs_f64()
                );
                last = Instant::now();
            }
        },
    )
    .await?;
    let db_secs = t0.elapsed().as_secs_f64();
    for e in report.errors.iter().take(5) {
        eprintln!("  import error line {}: {} {}", e.line, e.field, e.message);
    }
    loop {
        let lag = ttx_search::outbox_lag(&run.db).await?;
        if lag.pending == 0 {
            break;
        }
        if last.elapsed() > Duration::from_secs(5) {
            eprintln!("  indexing: {} pending", lag.pending);
            last = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(ImportFigures {
        listings: report.created + report.updated,
        failed: report.failed,
        db_secs,
        total_secs: t0.elapsed().as_secs_f64(),
    })
}

struct SearchFigures {
    all: Latencies,
    by_kind: BTreeMap<&'static str, Latencies>,
    errors: usize,
    secs: f64,
    empty: usize,
}

async fn run_queries(base: &str, queries: &[Query], clients: usize) -> SearchFigures {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients * 2)
        .build()
        .expect("client");
    let next = Arc::new(AtomicUsize::new(0));
    let queries = Arc::new(queries.to_vec());
    let t0 = Instant::now();
    let mut handles = vec![];
    for _ in 0..clients.max(1) {
        let (client, next, queries, base) = (
            client.clone(),
            next.clone(),
            queries.clone(),
            base.to_string(),
        );
        handles.push(tokio::spawn(async move {
            let mut out: Vec<(&'static str, Duration, bool, bool)> = vec![];
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(q) = queries.get(i) else { break };
                let t = Instant::now();
                let r = client.get(format!("{base}{}", q.path)).send().await;
                let (ok, empty) = match r {
                    Ok(r) if r.status().is_success() => match r.bytes().await {
                        Ok(b) => (true, b.windows(9).any(|w| w == b"\"hits\":[]")),
                        Err(_) => (false, false),
                    },
                    _ => (false, false),
                };
                out.push((q.kind, t.elapsed(), ok, empty));
            }
            out
        }));
    }
    let mut samples = vec![];
    for h in handles {
        samples.extend(h.await.unwrap_or_default());
    }
    let secs = t0.elapsed().as_secs_f64();
    let errors = samples.iter().filter(|s| !s.2).count();
    let empty = samples.iter().filter(|s| s.3).count();
    let mut by: BTreeMap<&'static str, Vec<Duration>> = BTreeMap::new();
    for (k, d, _, _) in &samples {
        by.entry(k).or_default().push(*d);
    }
    SearchFigures {
        all: Latencies::new(samples.iter().map(|s| s.1).collect()),
        by_kind: by
            .into_iter()
            .map(|(k, v)| (k, Latencies::new(v)))
            .collect(),
        errors,
        secs,
        empty,
    }
}

/// The same queries without HTTP: `service` runs the listings search use case (engine plus
/// database loads), otherwise the engine alone; to see where the time goes.
async fn run_in_process(
    st: &ttx_listings::ListingsState,
    queries: &[Query],
    clients: usize,
    service: bool,
) -> Latencies {
    let next = Arc::new(AtomicUsize::new(0));
    let queries = Arc::new(queries.to_vec());
    let mut handles = vec![];
    for _ in 0..clients.max(1) {
        let (st, next, queries) = (st.clone(), next.clone(), queries.clone());
        handles.push(tokio::spawn(async move {
            let mut out = vec![];
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(q) = queries.get(i) else { break };
                let qs = q.path.split_once('?').map_or("", |(_, q)| q);
                let Ok(params) = serde_html_form::from_str::<ttx_listings::dto::SearchParams>(qs)
                else {
                    continue;
                };
                let Ok(s) = params.parse() else { continue };
                let t = Instant::now();
                if service {
                    let _ = ttx_listings::search::search(&st, None, s).await;
                } else {
                    let _ = st.engine.search(ttx_search::LISTINGS, &s.query).await;
                }
                out.push(t.elapsed());
            }
            out
        }));
    }
    let mut samples = vec![];
    for h in handles {
        samples.extend(h.await.unwrap_or_default());
    }
    Latencies::new(samples)
}

async fn top10(base: &str, text: &str) -> Vec<i64> {
    let client = reqwest::Client::new();
    let Ok(r) = client
        .get(format!("{base}/v1/listings?q={}&limit=10", enc(text)))
        .send()
        .await
    else {
        return vec![];
    };
    let v: Value = r.json().await.unwrap_or(Value::Null);
    v["hits"]
        .as_array()
        .map(|h| {
            h.iter()
                .filter_map(|h| h["listing"]["id"].as_i64())
                .collect()
        })
        .unwrap_or_default()
}

fn stamp(a: &Args) -> String {
    format!("listings={} seed={}\n", a.listings, a.seed)
}

/// Whether `--reuse` names a directory holding a complete import of this corpus.
fn reusable(a: &Args) -> bool {
    a.reuse.as_ref().is_some_and(|d| {
        std::fs::read_to_string(d.join("bench-complete")).is_ok_and(|s| s == stamp(a))
    })
}

/// Runs one engine end to end; returns the running server for the overlap comparison.
async fn bench_engine(
    engine: &str,
    a: &Args,
    file: &Path,
    queries: &[Query],
    edits: &[ListingInput],
) -> anyhow::Result<Running> {
    say!("\n== engine: {engine} ==");
    let kept = a.reuse.as_ref().filter(|_| engine == "embedded");
    let stamp = stamp(a);
    let reused = engine == "embedded" && reusable(a);
    let run = match kept {
        Some(d) => {
            if !reused && d.exists() {
                std::fs::remove_dir_all(d).with_context(|| format!("clearing {}", d.display()))?;
            }
            std::fs::create_dir_all(d)?;
            start_in(engine, a.outbox_batch, BenchDir::Kept(d.clone())).await?
        }
        None => start(engine, a.outbox_batch).await?,
    };
    if reused {
        let n = run.listings.engine.count(ttx_search::LISTINGS).await?;
        say!(
            "import: skipped, reusing {} ({n} documents indexed)",
            run.dir.path().display()
        );
    } else {
        import_and_report(engine, &run, file, a).await?;
        if let Some(d) = kept {
            std::fs::write(d.join("bench-complete"), &stamp)?;
        }
    }
    measure(engine, &run, a, queries, edits).await?;
    Ok(run)
}

async fn import_and_report(
    engine: &str,
    run: &Running,
    file: &Path,
    a: &Args,
) -> anyhow::Result<()> {
    let imp = import(run, file, a).await?;
    say!(
        "import: {} listings ({} rows rejected) in {:.1}s end to end incl. indexing = {:.0} listings/s \
         (database writes alone {:.1}s = {:.0}/s) [target >= 2000/s: {}]",
        imp.listings,
        imp.failed,
        imp.total_secs,
        imp.listings as f64 / imp.total_secs,
        imp.db_secs,
        imp.listings as f64 / imp.db_secs,
        if imp.listings as f64 / imp.total_secs >= 2000.0 { "met" } else { "MISSED" }
    );
    figure(
        format!("{engine}: import end to end (until indexed)"),
        format!(
            "{} listings, {:.0} listings/s",
            imp.listings,
            imp.listings as f64 / imp.total_secs
        ),
    );
    Ok(())
}

/// The embedded engine's result-cache lookups so far (`None` on Meilisearch).
async fn cache_lookups(run: &Running) -> Option<ttx_search::ResultCacheStats> {
    let st = run.listings.engine.stats().await.ok()?;
    st.indexes.get("listings")?.result_cache
}

/// Result-cache lookups between two readings.
fn cache_line(from: ttx_search::ResultCacheStats, to: ttx_search::ResultCacheStats) -> String {
    let hits = to.hits.saturating_sub(from.hits);
    let lookups = hits + to.misses.saturating_sub(from.misses);
    let carried = to.carried.saturating_sub(from.carried);
    let unknown = to.stale_unknown.saturating_sub(from.stale_unknown);
    let touched = to.stale_touched.saturating_sub(from.stale_touched);
    format!(
        "result cache: {hits} of {lookups} searches answered from it ({:.1}%; {carried} of them \
         carried over a commit; of the misses, {touched} recomputed for a changed document that \
         matches, {unknown} for commits not all known; TTX_SEARCH_RESULT_CACHE=0 turns it off)",
        100.0 * hits as f64 / lookups.max(1) as f64
    )
}

async fn measure(
    engine: &str,
    run: &Running,
    a: &Args,
    queries: &[Query],
    edits: &[ListingInput],
) -> anyhow::Result<()> {
    let warm = (queries.len() / 20).max(50);
    let _ = run_queries(&run.base, &queries[..warm.min(queries.len())], a.clients).await;
    let before = cache_lookups(run).await;
    let cards_before = crate::reads::cache_lookups(&run.base, "listing_cards").await;
    let writes = WriteLoad::start(run, edits, a.writes_per_sec).await?;
    let s = run_queries(&run.base, queries, a.clients).await;
    if let Some(w) = writes {
        let (n, lat) = w.stop().await?;
        say!(
            "writes during the run: {n} listing edits ({:.1}/s asked, {:.1}/s made), \
             each committed before the next; edit {}",
            a.writes_per_sec,
            n as f64 / s.secs,
            lat.line()
        );
    }
    let http_cache = cache_lookups(run).await;
    let cards_after = crate::reads::cache_lookups(&run.base, "listing_cards").await;
    say!(
        "search: {} requests, {} clients, {:.0} req/s, {} errors, {} with no hits",
        s.all.count(),
        a.clients,
        s.all.count() as f64 / s.secs,
        s.errors,
        s.empty
    );
    say!("  all            {}", s.all.line());
    figure(
        format!("{engine}: search over HTTP, {} clients", a.clients),
        format!(
            "{:.0} req/s, p50 / p95 / p99 {:.1} / {:.1} / {:.1} ms, {} errors",
            s.all.count() as f64 / s.secs,
            s.all.percentile(50.0),
            s.all.percentile(95.0),
            s.all.percentile(99.0),
            s.errors
        ),
    );
    for (k, l) in &s.by_kind {
        say!("  {k:<14} {}", l.line());
    }
    if let (Some(b), Some(h)) = (before, http_cache) {
        say!("  {}", cache_line(b, h));
    }
    if let (Ok(b), Ok(h)) = (cards_before, cards_after) {
        let (hits, misses) = (h.0.saturating_sub(b.0), h.1.saturating_sub(b.1));
        say!(
            "  card cache: {hits} of {} cards read from memory ({:.1}%; \
             TTX_READ_CACHE__SEARCH_CARDS=0 turns it off)",
            hits + misses,
            100.0 * hits as f64 / (hits + misses).max(1) as f64
        );
    }
    if !a.http_only {
        let svc = run_in_process(&run.listings, queries, a.clients, true).await;
        say!("  without HTTP (engine + database loads): {}", svc.line());
        let eng = run_in_process(&run.listings, queries, a.clients, false).await;
        say!("  engine alone:                           {}", eng.line());
        if let (Some(h), Some(e)) = (http_cache, cache_lookups(run).await) {
            say!(
                "  without HTTP and engine alone (the same queries again): {}",
                cache_line(h, e)
            );
        }
    }
    let (p95, p99) = (s.all.percentile(95.0), s.all.percentile(99.0));
    say!(
        "  targets: p95 {:.1} ms <= 15 ms: {}; p99 {:.1} ms <= 30 ms: {}",
        p95,
        if p95 <= 15.0 { "met" } else { "MISSED" },
        p99,
        if p99 <= 30.0 { "met" } else { "MISSED" }
    );
    if run.engine == "embedded" {
        let idx = dir_size(&run.dir.path().join("index"));
        say!(
            "index size on disk: {:.1} MiB; database file: {:.1} MiB",
            idx as f64 / 1048576.0,
            dir_size(run.dir.path()) as f64 / 1048576.0 - idx as f64 / 1048576.0
        );
        figure(
            format!("{engine}: index on disk"),
            format!("{:.1} MiB", idx as f64 / 1048576.0),
        );
        if let Ok(st) = run.listings.engine.stats().await {
            if let Some(segs) = st.indexes.get("listings").and_then(|i| i.segments) {
                say!("index segments: {segs}");
            }
        }
    }
    if let Some(rss) = rss_mib() {
        say!("process RSS (server + bench clients): {rss:.0} MiB");
    }
    if engine == "embedded" {
        top10_files(run, a, queries).await?;
    }
    Ok(())
}

/// The top 10 ids of each distinct query of the mix, from the engine alone.
async fn mix_top10(run: &Running, queries: &[Query]) -> BTreeMap<String, Vec<i64>> {
    let mut out = BTreeMap::new();
    for q in queries {
        if out.contains_key(&q.path) {
            continue;
        }
        let qs = q.path.split_once('?').map_or("", |(_, q)| q);
        let Ok(params) = serde_html_form::from_str::<ttx_listings::dto::SearchParams>(qs) else {
            continue;
        };
        let Ok(mut s) = params.parse() else { continue };
        s.query.limit = 10;
        s.query.cursor = None;
        let Ok(r) = run
            .listings
            .engine
            .search(ttx_search::LISTINGS, &s.query)
            .await
        else {
            continue;
        };
        out.insert(q.path.clone(), r.hits.iter().map(|h| h.id).collect());
    }
    out
}

/// `--save-top10` / `--compare-top10`.
async fn top10_files(run: &Running, a: &Args, queries: &[Query]) -> anyhow::Result<()> {
    if a.save_top10.is_none() && a.compare_top10.is_none() {
        return Ok(());
    }
    let now = mix_top10(run, queries).await;
    if let Some(p) = &a.save_top10 {
        std::fs::write(p, serde_json::to_vec_pretty(&now)?)?;
        say!(
            "top 10 of {} distinct queries written to {}",
            now.len(),
            p.display()
        );
    }
    if let Some(p) = &a.compare_top10 {
        let old: BTreeMap<String, Vec<i64>> = serde_json::from_slice(
            &std::fs::read(p).with_context(|| format!("reading {}", p.display()))?,
        )?;
        let mut by_kind: BTreeMap<&str, (f64, usize, usize)> = BTreeMap::new();
        let kinds: HashMap<&str, &str> =
            queries.iter().map(|q| (q.path.as_str(), q.kind)).collect();
        let mut worst: Vec<(f64, &str)> = vec![];
        for (path, ids) in &now {
            let Some(before) = old.get(path) else {
                continue;
            };
            let b: HashSet<i64> = before.iter().copied().collect();
            let denom = ids.len().max(before.len());
            let o = if denom == 0 {
                1.0
            } else {
                ids.iter().filter(|i| b.contains(i)).count() as f64 / denom as f64
            };
            let e = by_kind
                .entry(kinds.get(path.as_str()).copied().unwrap_or("?"))
                .or_default();
            e.0 += o;
            e.1 += 1;
            if ids == before {
                e.2 += 1;
            }
            worst.push((o, path.as_str()));
        }
        let (sum, n, same) = by_kind.values().fold((0.0, 0, 0), |acc, v| {
            (acc.0 + v.0, acc.1 + v.1, acc.2 + v.2)
        });
        say!(
            "top-10 overlap with {}: {:.1}% over {n} distinct queries ({same} in the same order)",
            p.display(),
            100.0 * sum / n.max(1) as f64
        );
        for (k, (s, n, same)) in &by_kind {
            say!(
                "  {k:<14} {:.1}% over {n} ({same} same order)",
                100.0 * s / (*n).max(1) as f64
            );
        }
        worst.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (o, path) in worst.iter().take(5).filter(|w| w.0 < 1.0) {
            say!("  lowest: {:.0}% {path}", 100.0 * o);
        }
    }
    Ok(())
}

pub async fn run(a: Args) -> anyhow::Result<()> {
    let t = Instant::now();
    let (corpus, desc) = corpus(&a)?;
    say!(
        "corpus: {desc} (built in {:.1}s)",
        t.elapsed().as_secs_f64()
    );
    let queries = query_mix(&corpus, a.requests, a.seed);
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("corpus.jsonl");
    let meili = std::env::var("MEILI_URL").is_ok_and(|u| !u.trim().is_empty());
    if !reusable(&a) || meili {
        use std::io::Write;
        let mut w = std::io::BufWriter::new(std::fs::File::create(&file)?);
        for l in &corpus {
            serde_json::to_writer(&mut w, l)?;
            w.write_all(b"\n")?;
        }
        w.flush()?;
    }
    // Edits for `--writes-per-sec`: listings spread over the corpus.
    let edits: Vec<ListingInput> = if a.writes_per_sec > 0.0 {
        // (only rows the import accepted: the others are not in the index to be edited)
        let today = ttx_core::clock::today();
        let step = (corpus.len() / 5_000).max(1);
        corpus
            .iter()
            .step_by(step)
            .filter(|l| (*l).clone().parse(today).is_ok())
            .cloned()
            .collect()
    } else {
        Vec::new()
    };
    drop(corpus);
    let embedded = bench_engine("embedded", &a, &file, &queries, &edits).await?;
    if meili {
        match bench_engine("meilisearch", &a, &file, &queries, &edits).await {
            Ok(meili) => {
                let texts: Vec<&str> = queries
                    .iter()
                    .filter_map(|q| q.text.as_deref())
                    .collect::<HashSet<_>>()
                    .into_iter()
                    .take(200)
                    .collect();
                let mut overlap = 0.0;
                for t in &texts {
                    let e: HashSet<i64> = top10(&embedded.base, t).await.into_iter().collect();
                    let m: HashSet<i64> = top10(&meili.base, t).await.into_iter().collect();
                    let denom = e.len().max(m.len()).max(1);
                    overlap += e.intersection(&m).count() as f64 / denom as f64;
                }
                say!(
                    "\ntop-10 overlap embedded vs meilisearch over {} queries: {:.0}%",
                    texts.len(),
                    100.0 * overlap / texts.len().max(1) as f64
                );
            }
            Err(e) => say!("meilisearch run skipped: {e:#}"),
        }
    } else {
        say!("\n(MEILI_URL not set: Meilisearch comparison skipped)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(t: &str, kw: &[&str], d: &str) -> CslRecord {
        CslRecord {
            id: "csl-1".into(),
            title: t.into(),
            abstract_: "第一句话。第二句话。".into(),
            keywords: kw.iter().map(|s| s.to_string()).collect(),
            discipline: d.into(),
            category: "工学".into(),
        }
    }

    #[test]
    fn expansion_is_deterministic_valid_and_varied() {
        let recs = vec![
            rec(
                "锂离子电池热失控机理研究",
                &["锂电池", "热失控"],
                "电气工程",
            ),
            rec("水稻耐盐基因的定位", &["水稻", "耐盐"], "作物学"),
            rec("一种图像去噪算法", &["图像", "去噪"], "计算机科学与技术"),
        ];
        let a = expand_csl(&recs, 20, 1);
        let b = expand_csl(&recs, 20, 1);
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            serde_json::to_string(&b).unwrap()
        );
        let titles: HashSet<&str> = a.iter().map(|l| l.title.as_str()).collect();
        assert!(titles.len() > 10);
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        for l in a {
            l.clone().parse(today).unwrap();
        }
        assert_eq!(field_of(&recs[1]), TechField::Agriculture);
        assert_eq!(first_sentence("第一句话。第二句话。"), "第一句话。");
        let q = query_mix(&expand_csl(&recs, 20, 1), 50, 1);
        assert_eq!(q.len(), 50);
        assert!(q.iter().all(|q| q.path.starts_with("/v1/listings?")));
    }
}
