//! `ttx-bench stats`: turnover reports over a national-scale register.
//!
//! 1. A fresh database (a temporary SQLite file, or a new database on the PostgreSQL server of
//!    `--database-url`, dropped afterwards) and TTX in-process on a random port; one verified
//!    station whose jurisdiction is every province.
//! 2. Loads `--contracts` registered contracts spread over the last two full years through the
//!    library path of `ttx import contracts` (`ttx_contracts::import::validate`, then
//!    `service::history::insert_registered` in batches of `--batch` per transaction, so every
//!    contract is booked in the ledger and the monthly roll-up as an import books it), with a
//!    progress bar; on PostgreSQL the tables are vacuumed and analysed as the import does
//!    (`refresh_statistics`, whenever the register has doubled and at the end). The register
//!    is synthetic but shaped like the national one: seller and buyer provinces weighted by the techme table's latest output and absorption when
//!    `techme/` is present in the data directory (`--data-dir`) (else built-in rough shares), counties drawn from
//!    `ttx_core::RegionCode`, half the buyers in the seller's province, sub-kinds, fields and
//!    entity kinds with plausible shares, December busiest, amounts log-normal (median about
//!    18 万元, mean about 65 万元, as the 2023 national mean), a few large sellers per province.
//! 3. Times each report over HTTP, `--repeat` times after one untimed first request, as the
//!    operator (full detail) and as the public (suppressed cells): a year by province with
//!    growth and rank (output and absorption), a 24-month series, the year by kind and by
//!    field, province flows, the top 10, and county-level reports (one province, the country).
//! 4. Checks the figures against what it generated (year totals, series points), and prints a
//!    Markdown report: machine, database, data sizes, load rate, each report's latencies.
use crate::contracts::{fresh_database, Served, Target};
use crate::report::{cpu_model, figure, memory_gib, rss_mib, say, Latencies};
use anyhow::{bail, Context};
use chrono::{Datelike, Duration as Days, NaiveDate};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use ttx_contracts::import::{refresh_statistics, validate};
use ttx_contracts::service::history::insert_registered;
use ttx_contracts::store::write_txn;
use ttx_core::{Fen, Labelled, RegionCode, RegionLevel};
use ttx_server::App;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Registered contracts to load (over the last two full years).
    #[arg(long, default_value_t = 1_000_000)]
    contracts: usize,
    /// A PostgreSQL URL whose server gets a fresh database for the run (dropped afterwards), or
    /// a `sqlite://` URL. Default: a temporary SQLite file.
    #[arg(long)]
    database_url: Option<String>,
    /// Keep the PostgreSQL database after the run.
    #[arg(long)]
    keep: bool,
    /// Timed requests per report and caller (after one untimed first request).
    #[arg(long, default_value_t = 30)]
    repeat: usize,
    /// Contracts per transaction while loading.
    #[arg(long, default_value_t = 1000)]
    batch: usize,
    /// Database connections of the server's pool.
    #[arg(long, default_value_t = 16)]
    pool: u32,
    /// The techme table (province weights); default: techme/tech_market_province_year.csv in the
    /// data directory.
    #[arg(long)]
    techme: Option<PathBuf>,
    /// Seed of the generator (the same seed gives the same register).
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

/// Contracts generated and validated at a time (bounded memory).
const CHUNK: usize = 20_000;

/// Rough shares of the provinces in national output and absorption, used when the techme
/// table is absent (rounded by hand, not the table).
const BUILT_IN: &[(&str, f64, f64)] = &[
    ("110000", 14.0, 6.0),
    ("120000", 2.0, 2.0),
    ("130000", 2.0, 3.0),
    ("140000", 1.0, 1.5),
    ("150000", 0.5, 1.0),
    ("210000", 2.0, 2.5),
    ("220000", 1.0, 1.0),
    ("230000", 1.0, 1.0),
    ("310000", 6.0, 5.0),
    ("320000", 7.0, 8.0),
    ("330000", 4.0, 5.0),
    ("340000", 4.0, 3.5),
    ("350000", 1.5, 2.5),
    ("360000", 1.5, 2.0),
    ("370000", 6.0, 6.0),
    ("410000", 2.0, 3.0),
    ("420000", 5.0, 4.0),
    ("430000", 3.0, 3.0),
    ("440000", 8.0, 8.0),
    ("450000", 1.0, 2.0),
    ("460000", 0.3, 0.5),
    ("500000", 1.5, 2.0),
    ("510000", 3.5, 4.0),
    ("520000", 1.0, 1.5),
    ("530000", 1.0, 1.5),
    ("540000", 0.1, 0.3),
    ("610000", 5.0, 3.0),
    ("620000", 1.0, 1.0),
    ("630000", 0.2, 0.3),
    ("640000", 0.3, 0.5),
    ("650000", 0.5, 1.0),
];

/// A weighted choice among `n` items.
struct Weighted {
    cum: Vec<f64>,
}

impl Weighted {
    fn new(w: impl IntoIterator<Item = f64>) -> Self {
        let mut acc = 0.0;
        let cum = w
            .into_iter()
            .map(|x| {
                acc += x.max(0.0);
                acc
            })
            .collect();
        Weighted { cum }
    }
    fn pick(&self, rng: &mut StdRng) -> usize {
        let total = *self.cum.last().expect("weights");
        let u = rng.gen::<f64>() * total;
        self.cum
            .partition_point(|c| *c <= u)
            .min(self.cum.len() - 1)
    }
}

struct Province {
    code: RegionCode,
    /// Counties (or cities, or the province itself) parties lie in.
    leaves: Vec<RegionCode>,
}

/// Output and absorption weights by province code.
type Weights = HashMap<String, (f64, f64)>;

/// Where the province weights came from, and the weights.
fn province_weights(a: &Args) -> (String, Weights) {
    let candidates: Vec<PathBuf> = match &a.techme {
        Some(p) => vec![p.clone()],
        None => vec![crate::data_dir().join("techme/tech_market_province_year.csv")],
    };
    for p in &candidates {
        if let Some(w) = techme_weights(p) {
            return w;
        }
    }
    (
        format!(
            "built-in rough shares (the techme table is absent: looked for --techme and {})",
            crate::data_dir().join("techme").display()
        ),
        BUILT_IN
            .iter()
            .map(|(c, o, ab)| (c.to_string(), (*o, *ab)))
            .collect(),
    )
}

/// The latest year's output and absorption of each province in the techme table.
fn techme_weights(path: &Path) -> Option<(String, Weights)> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next()?.split(',').collect();
    let col = |n: &str| header.iter().position(|h| *h == n);
    let (code, year, out, abs) = (
        col("region_code")?,
        col("year")?,
        col("output_amount_wan_yuan")?,
        col("absorption_amount_wan_yuan")?,
    );
    let rows: Vec<Vec<&str>> = lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| f.len() > abs.max(out))
        .collect();
    let latest = rows
        .iter()
        .filter_map(|f| f[year].parse::<i32>().ok())
        .max()?;
    let num = |s: &str| s.trim().parse::<f64>().unwrap_or(0.0);
    let w: Weights = rows
        .iter()
        .filter(|f| f[year].parse::<i32>().ok() == Some(latest) && f[code] != "000000")
        .map(|f| (f[code].to_string(), (num(f[out]), num(f[abs]))))
        .collect();
    (w.len() >= 31).then(|| {
        (
            format!(
                "the techme table's {latest} output and absorption by province ({})",
                path.display()
            ),
            w,
        )
    })
}

/// A party of the synthetic register.
#[derive(Clone)]
struct Party {
    name: String,
    credit_code: Option<String>,
    entity_kind: &'static str,
    region: String,
}

/// Seller and buyer pools, filled on first use.
struct Parties {
    per_province: usize,
    pool: HashMap<(u8, usize, usize), Party>,
}

const SELLER_KINDS: &[(&str, f64)] = &[
    ("enterprise", 78.0),
    ("university", 9.0),
    ("research_institute", 8.0),
    ("hospital", 2.0),
    ("other", 2.0),
    ("individual", 1.0),
];
const BUYER_KINDS: &[(&str, f64)] = &[
    ("enterprise", 86.0),
    ("university", 2.0),
    ("research_institute", 2.0),
    ("hospital", 2.0),
    ("other", 7.0),
    ("individual", 1.0),
];

impl Parties {
    /// Party `k` of a province's sellers (`side` 1) or buyers (2); small `k` are drawn most.
    fn get(&mut self, side: u8, p: usize, prov: &Province, rng: &mut StdRng) -> Party {
        let k = ((self.per_province as f64) * rng.gen::<f64>().powf(2.5)) as usize;
        let key = (side, p, k);
        if let Some(x) = self.pool.get(&key) {
            return x.clone();
        }
        let kinds = if side == 1 { SELLER_KINDS } else { BUYER_KINDS };
        let kind = kinds[Weighted::new(kinds.iter().map(|k| k.1)).pick(rng)].0;
        let region = prov.leaves[rng.gen_range(0..prov.leaves.len())];
        let place = prov.code.name();
        let tag = if side == 1 { "技术" } else { "实业" };
        let name = match kind {
            "enterprise" => format!("{place}{tag}{k}号有限公司"),
            "university" => format!("{place}第{k}{tag}大学"),
            "research_institute" => format!("{place}第{k}{tag}研究院"),
            "hospital" => format!("{place}第{k}{tag}医院"),
            "individual" => format!("自然人{side}{p}{k}"),
            _ => format!("{place}第{k}{tag}事业单位"),
        };
        let credit_code = (kind != "individual").then(|| {
            let prefix = if kind == "enterprise" { "91" } else { "12" };
            let org = format!("{side}{p:02}{k:06}");
            ttx_core::CreditCode::complete(&format!("{prefix}{}{org}", region.as_string()))
                .expect("a valid code")
                .to_string()
        });
        let party = Party {
            name,
            credit_code,
            entity_kind: kind,
            region: region.as_string(),
        };
        self.pool.insert(key, party.clone());
        party
    }
}

const SUB_KINDS: &[(&str, f64)] = &[
    ("entrusted_development", 15.0),
    ("cooperative_development", 4.0),
    ("patent_right_transfer", 1.2),
    ("patent_application_right_transfer", 0.3),
    ("technical_secret_transfer", 0.8),
    ("other_rights_transfer", 0.7),
    ("patent_license", 0.8),
    ("technical_secret_license", 0.5),
    ("other_license", 0.7),
    ("consulting", 6.0),
    ("general_service", 66.0),
    ("training", 2.0),
    ("intermediary", 2.0),
];
const FIELDS: &[(&str, f64)] = &[
    ("electronic_information", 28.0),
    ("advanced_manufacturing", 14.0),
    ("new_energy", 10.0),
    ("biomedicine", 9.0),
    ("urban_social", 9.0),
    ("environment", 7.0),
    ("modern_transport", 7.0),
    ("new_materials", 6.0),
    ("agriculture", 6.0),
    ("aerospace", 2.0),
    ("nuclear", 1.0),
];
const PROGRAMMES: &[&str] = &["国家重点研发计划", "省级科技计划", "国家自然科学基金"];
const MONTH_WEIGHTS: [f64; 12] = [0.6, 0.6, 0.9, 0.9, 0.9, 1.0, 1.0, 0.9, 1.0, 1.0, 1.1, 2.2];

/// The synthetic register.
struct Generator {
    rng: StdRng,
    provinces: Vec<Province>,
    out_w: Weighted,
    abs_w: Weighted,
    parties: Parties,
    sub_kinds: Weighted,
    fields: Weighted,
}

/// Row fields as `ttx import contracts` reads them.
type Fields = HashMap<String, String>;

impl Generator {
    fn new(a: &Args, weights: &Weights) -> Self {
        let mut provinces = vec![];
        let (mut ow, mut aw) = (vec![], vec![]);
        for code in RegionCode::provinces() {
            let Some((o, ab)) = weights.get(&code.as_string()) else {
                continue; // 台湾, 香港, 澳门: not in the table
            };
            let mut leaves: Vec<RegionCode> = RegionCode::all()
                .filter(|r| r.province() == code && r.level() == RegionLevel::County)
                .collect();
            if leaves.is_empty() {
                leaves.push(code);
            }
            provinces.push(Province { code, leaves });
            ow.push(*o);
            aw.push(*ab);
        }
        Generator {
            rng: StdRng::seed_from_u64(a.seed),
            out_w: Weighted::new(ow),
            abs_w: Weighted::new(aw),
            parties: Parties {
                per_province: (a.contracts / provinces.len().max(1) / 15).max(20),
                pool: HashMap::new(),
            },
            provinces,
            sub_kinds: Weighted::new(SUB_KINDS.iter().map(|x| x.1)),
            fields: Weighted::new(FIELDS.iter().map(|x| x.1)),
        }
    }

    /// `n` registration dates over two years, in order.
    fn dates(&mut self, first_year: i32, n: usize) -> Vec<NaiveDate> {
        let months = Weighted::new((0..24).map(|m| MONTH_WEIGHTS[m % 12]));
        let mut out: Vec<NaiveDate> = (0..n)
            .map(|_| {
                let m = months.pick(&mut self.rng);
                let start =
                    NaiveDate::from_ymd_opt(first_year + m as i32 / 12, m as u32 % 12 + 1, 1)
                        .expect("a month");
                let days = (start + chrono::Months::new(1) - start).num_days();
                start + Days::days(self.rng.gen_range(0..days))
            })
            .collect();
        out.sort();
        out
    }

    /// Contract `i`, registered on `on`: its row and its amount in fen.
    fn row(&mut self, i: usize, on: NaiveDate) -> (Fields, i64) {
        let rng = &mut self.rng;
        let sp = self.out_w.pick(rng);
        let bp = if rng.gen_bool(0.45) {
            sp
        } else {
            self.abs_w.pick(rng)
        };
        let seller = self.parties.get(1, sp, &self.provinces[sp], rng);
        let buyer = self.parties.get(2, bp, &self.provinces[bp], rng);
        let sub_kind = SUB_KINDS[self.sub_kinds.pick(rng)].0;
        let field = FIELDS[self.fields.pick(rng)].0;
        let ip_kind = match sub_kind {
            "patent_right_transfer" | "patent_application_right_transfer" | "patent_license" => {
                Some(if rng.gen_bool(0.7) {
                    "invention_patent"
                } else {
                    "utility_model"
                })
            }
            "technical_secret_transfer" | "technical_secret_license" => Some("technical_secret"),
            "other_rights_transfer" | "other_license" => rng.gen_bool(0.5).then_some("software"),
            "entrusted_development" | "cooperative_development" => {
                rng.gen_bool(0.2).then_some("invention_patent")
            }
            _ => None,
        };
        // Log-normal in 元: median e^12.1 ≈ 18 万, mean ≈ 65 万.
        let z: f64 = {
            let (u1, u2): (f64, f64) = (rng.gen::<f64>().max(1e-12), rng.gen());
            (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
        };
        let yuan = (12.1 + 1.6 * z).exp().clamp(500.0, 2.0e9);
        let mut fen = (yuan * 100.0).round() as i64;
        if rng.gen_bool(0.7) {
            fen = (fen / 10_000).max(1) * 10_000; // whole hundreds of 元
        }
        let costs = if rng.gen_bool(0.35) {
            (fen as f64 * rng.gen::<f64>() * 0.5) as i64
        } else {
            0
        };
        let signed_on = on - Days::days(rng.gen_range(0..45));
        let mut f: Fields = HashMap::new();
        let mut put = |k: &str, v: String| {
            f.insert(k.to_string(), v);
        };
        put("registration_number", format!("B{}{:08}", on.year(), i));
        put("registered_on", on.to_string());
        let sk: ttx_core::ContractSubKind = sub_kind.parse().expect("a sub-kind");
        let tf: ttx_core::TechField = field.parse().expect("a field");
        put("title", format!("{}{}合同（第{i}号）", tf.zh(), sk.zh()));
        put("sub_kind", sub_kind.into());
        put("contract_amount", Fen(fen).to_yuan_string());
        if costs > 0 {
            put("non_technical_costs", Fen(costs).to_yuan_string());
        }
        put("signed_on", signed_on.to_string());
        for (p, party) in [("seller", &seller), ("buyer", &buyer)] {
            put(&format!("{p}_name"), party.name.clone());
            if let Some(c) = &party.credit_code {
                put(&format!("{p}_credit_code"), c.clone());
            }
            put(&format!("{p}_entity_kind"), party.entity_kind.into());
            put(&format!("{p}_region"), party.region.clone());
        }
        put("tech_field", field.into());
        if let Some(k) = ip_kind {
            put("ip_kind", k.into());
        }
        if rng.gen_bool(0.06) {
            put(
                "programme_source",
                PROGRAMMES[rng.gen_range(0..PROGRAMMES.len())].into(),
            );
        }
        (f, fen)
    }
}

#[derive(Default, Clone, Copy)]
struct Total {
    count: i64,
    amount: i64,
}

/// One report: what it asks and its latencies.
struct Timed {
    name: &'static str,
    path: String,
    first: Duration,
    samples: Vec<Duration>,
    rows: usize,
    bytes: usize,
    body: Value,
}

async fn get(
    client: &reqwest::Client,
    base: &str,
    path: &str,
    token: Option<&str>,
) -> anyhow::Result<(Duration, Value, usize)> {
    let t = Instant::now();
    let mut rb = client.get(format!("{base}{path}"));
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    let r = rb.send().await?;
    let status = r.status();
    let text = r.text().await?;
    let d = t.elapsed();
    if !status.is_success() {
        bail!("GET {path}: {status} {text}");
    }
    Ok((d, serde_json::from_str(&text)?, text.len()))
}

async fn time(
    client: &reqwest::Client,
    base: &str,
    name: &'static str,
    path: String,
    token: Option<&str>,
    repeat: usize,
) -> anyhow::Result<Timed> {
    let (first, body, bytes) = get(client, base, &path, token).await?;
    let mut samples = vec![];
    for _ in 0..repeat {
        samples.push(get(client, base, &path, token).await?.0);
    }
    let rows = ["rows", "points", "items", "sellers"]
        .iter()
        .find_map(|k| body[*k].as_array().map(|a| a.len()))
        .unwrap_or(0);
    Ok(Timed {
        name,
        path,
        first,
        samples,
        rows,
        bytes,
        body,
    })
}

async fn scalar(db: &DatabaseConnection, sql: &str) -> anyhow::Result<i64> {
    let r = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?
        .context("a row")?;
    Ok(r.try_get_by_index::<i64>(0)?)
}

pub async fn run(a: Args) -> anyhow::Result<()> {
    if a.contracts == 0 || a.batch == 0 || a.repeat == 0 {
        bail!("--contracts, --batch and --repeat must be positive");
    }
    let target = fresh_database(a.database_url.as_deref()).await?;
    let result = bench(&a, &target).await;
    target.finish(a.keep).await;
    result
}

async fn bench(a: &Args, target: &Target) -> anyhow::Result<()> {
    let mut config = target.config(a.pool);
    config.server.request_timeout_secs = 300;
    let app = App::build(config.clone()).await?;
    let db = app.state.db.clone();
    let served = Served::start(app).await?;
    let base = served.base.clone();
    let client = reqwest::Client::new();

    // A station for the whole country, and the operator.
    let (_, op) = ttx_server::admin::create_operator(
        &db,
        &config.accounts,
        "operator@bench.test",
        "Bench operator",
        "bench-password-1",
    )
    .await?;
    let signup = client
        .post(format!("{base}/v1/signup"))
        .json(&json!({
            "org": {"kind": "station", "name": "全国技术合同登记压测站",
                    "credit_code": ttx_core::CreditCode::complete("12110000000000001")?.to_string(),
                    "region_code": "110000"},
            "admin": {"email": "station@bench.test", "display_name": "压测", "password": "bench-password-1"}
        }))
        .send()
        .await?;
    if !signup.status().is_success() {
        bail!("signup: {} {}", signup.status(), signup.text().await?);
    }
    let station = signup.json::<Value>().await?["org"]["id"]
        .as_i64()
        .context("station id")?;
    let all: Vec<String> = RegionCode::provinces()
        .iter()
        .map(|p| p.as_string())
        .collect();
    let v = client
        .post(format!("{base}/v1/orgs/{station}/verify"))
        .bearer_auth(&op)
        .json(&json!({ "jurisdiction": all }))
        .send()
        .await?;
    if !v.status().is_success() {
        bail!("verify: {} {}", v.status(), v.text().await?);
    }

    // The register, loaded through the import's library path.
    let (weights_from, weights) = province_weights(a);
    let today = ttx_contracts::service::today();
    let (y1, y2) = (today.year() - 2, today.year() - 1);
    let mut gen = Generator::new(a, &weights);
    let dates = gen.dates(y1, a.contracts);
    let mut totals: BTreeMap<i32, Total> = BTreeMap::new();
    let mut months: BTreeMap<(i32, u32), Total> = BTreeMap::new();
    let bar = indicatif::ProgressBar::new(a.contracts as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} loading [{bar:40}] {pos}/{len} contracts ({per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let load_started = Instant::now();
    let mut validate_time = Duration::ZERO;
    let mut analyze_time = Duration::ZERO;
    let mut analyzed_at = 0usize;
    let mut loaded = 0usize;
    for (c, chunk) in dates.chunks(CHUNK).enumerate() {
        let mut rows = Vec::with_capacity(chunk.len());
        for (j, on) in chunk.iter().enumerate() {
            let i = c * CHUNK + j;
            let (f, fen) = gen.row(i, *on);
            let t = totals.entry(on.year()).or_default();
            t.count += 1;
            t.amount += fen;
            let m = months.entry((on.year(), on.month())).or_default();
            m.count += 1;
            m.amount += fen;
            rows.push((i + 2, f));
        }
        let t = Instant::now();
        let (valid, errors) = validate(&db, station, &rows, today).await?;
        validate_time += t.elapsed();
        if let Some(e) = errors.first() {
            bail!("{} generated rows are invalid, e.g. {e}", errors.len());
        }
        drop(rows);
        for batch in valid.chunks(a.batch) {
            let txn = write_txn(&db).await?;
            for r in batch {
                insert_registered(&txn, station, &r.registered)
                    .await
                    .map_err(|e| anyhow::anyhow!("line {}: {e}", r.line))?;
            }
            txn.commit().await?;
            bar.inc(batch.len() as u64);
        }
        // As `ttx import contracts` does after each file: VACUUM (ANALYZE) whenever the
        // register has doubled (PostgreSQL; nothing on SQLite).
        loaded += chunk.len();
        if loaded >= 2 * analyzed_at || loaded == a.contracts {
            let t = Instant::now();
            refresh_statistics(&db).await?;
            analyze_time += t.elapsed();
            analyzed_at = loaded;
        }
    }
    bar.finish_and_clear();
    let load_time = load_started.elapsed();

    // Data sizes.
    let contracts = scalar(&db, "SELECT CAST(COUNT(*) AS BIGINT) FROM contracts").await?;
    let ledger = scalar(&db, "SELECT CAST(COUNT(*) AS BIGINT) FROM ledger_entries").await?;
    let rollup = scalar(&db, "SELECT CAST(COUNT(*) AS BIGINT) FROM stats_monthly").await?;
    let size_mib = if target.pg.is_some() {
        scalar(
            &db,
            "SELECT CAST(pg_database_size(current_database()) AS BIGINT)",
        )
        .await? as f64
            / 1048576.0
    } else {
        crate::report::dir_size(target._dir.path()) as f64 / 1048576.0
    };

    // The reports.
    let (from, to) = (format!("{y2}-01-01"), format!("{y2}-12-31"));
    let reports: Vec<(&'static str, String)> = vec![
        (
            "year by province, output (growth, rank)",
            format!("/v1/stats/turnover?from={from}&to={to}&side=output&by=region&level=province"),
        ),
        (
            "year by province, absorption (growth, rank)",
            format!(
                "/v1/stats/turnover?from={from}&to={to}&side=absorption&by=region&level=province"
            ),
        ),
        (
            "24-month series (growth)",
            format!("/v1/stats/series?from={y1}-01-01&to={to}&interval=month"),
        ),
        (
            "year by kind",
            format!("/v1/stats/turnover?from={from}&to={to}&by=kind"),
        ),
        (
            "year by field",
            format!("/v1/stats/turnover?from={from}&to={to}&by=field"),
        ),
        (
            "year flows, province level",
            format!("/v1/stats/flows?from={from}&to={to}&level=province"),
        ),
        (
            "year top 10 sellers and buyers",
            format!("/v1/stats/top?from={from}&to={to}&limit=10"),
        ),
        (
            "year by county, one province (江苏)",
            format!("/v1/stats/turnover?from={from}&to={to}&region=32&by=region&level=county"),
        ),
        (
            "year by county, whole country",
            format!("/v1/stats/turnover?from={from}&to={to}&by=region&level=county"),
        ),
    ];
    let rss_before = rss_mib();
    let mut operator = vec![];
    let mut public = vec![];
    for (name, path) in &reports {
        eprintln!("timing {name} …");
        operator.push(time(&client, &base, name, path.clone(), Some(&op), a.repeat).await?);
        public.push(time(&client, &base, name, path.clone(), None, a.repeat).await?);
    }
    let rss_after = rss_mib();

    // Checks against the generated register.
    let mut problems = vec![];
    let want = totals.get(&y2).copied().unwrap_or_default();
    for (who, set) in [("operator", &operator), ("public", &public)] {
        let year = &set[0].body["total"];
        if year["count"].as_i64() != Some(want.count)
            || year["contract_amount"].as_i64() != Some(want.amount)
        {
            problems.push(format!(
                "{who}: year total {year} against {} contracts, {} fen generated",
                want.count, want.amount
            ));
        }
    }
    if operator[0].body["detail"] != "full" || public[0].body["detail"] == "full" {
        problems.push("the operator's report is not in full detail, or the public's is".into());
    }
    let points = operator[2].body["points"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let sum: i64 = points
        .iter()
        .map(|p| p["contract_amount"].as_i64().unwrap_or(0))
        .sum();
    let all: i64 = totals.values().map(|t| t.amount).sum();
    if points.len() != 24 || sum != all {
        problems.push(format!(
            "series: {} points summing to {sum} fen against 24 months and {all} fen generated",
            points.len()
        ));
    }
    for p in &points {
        let from: Option<NaiveDate> = p["period"]["from"].as_str().and_then(|s| s.parse().ok());
        if let Some(d) = from {
            let m = months
                .get(&(d.year(), d.month()))
                .copied()
                .unwrap_or_default();
            if p["contract_amount"].as_i64() != Some(m.amount) {
                problems.push(format!("series point {d}: {p} against {} fen", m.amount));
            }
        }
    }

    // The report.
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    say!("## ttx-bench stats\n");
    say!(
        "- machine: {cores} cores, {}, {}; server, database and client on this machine",
        cpu_model(),
        memory_gib()
            .map(|g| format!("{g:.0} GiB memory"))
            .unwrap_or_else(|| "memory unknown".into())
    );
    say!("- database: {}", target.label);
    say!(
        "- register: {} contracts registered {y1}-01-01 to {y2}-12-31 ({y1}: {}, {y2}: {}); {:.2} 亿元 in {y2}; province weights: {weights_from}",
        a.contracts,
        totals.get(&y1).map(|t| t.count).unwrap_or(0),
        want.count,
        want.amount as f64 / 1e10,
    );
    say!(
        "- data: {contracts} contracts, {ledger} ledger entries, {rollup} roll-up cells; database on disk {size_mib:.0} MiB"
    );
    say!(
        "- load (`ttx import contracts` library path, {} per transaction): {:.1} s, {:.0} contracts/s (of it: validation {:.1} s, VACUUM (ANALYZE) {:.1} s)",
        a.batch,
        load_time.as_secs_f64(),
        a.contracts as f64 / load_time.as_secs_f64(),
        validate_time.as_secs_f64(),
        analyze_time.as_secs_f64()
    );
    if let (Some(b), Some(af)) = (rss_before, rss_after) {
        say!("- process RSS while timing: {b:.0} MiB before, {af:.0} MiB after");
    }
    say!(
        "- each report: one untimed first request, then {} timed sequential requests; latency over HTTP in ms\n",
        a.repeat
    );
    figure("database", target.label.clone());
    figure(
        format!("load of {} contracts", a.contracts),
        format!(
            "{:.1} s, {:.0} contracts/s",
            load_time.as_secs_f64(),
            a.contracts as f64 / load_time.as_secs_f64()
        ),
    );
    for (o, p) in operator.iter().zip(&public) {
        let lo = Latencies::new(o.samples.clone());
        let lp = Latencies::new(p.samples.clone());
        figure(
            format!("{} (operator p50 / p95, public p95)", o.name),
            format!(
                "{:.1} / {:.1} ({:.1}) ms",
                lo.percentile(50.0),
                lo.percentile(95.0),
                lp.percentile(95.0)
            ),
        );
    }
    say!("| report | rows | operator p50 / p95 / max | public p50 / p95 / max | first (operator) | bytes |");
    say!("|---|---|---|---|---|---|");
    for (o, p) in operator.iter().zip(&public) {
        let lo = Latencies::new(o.samples.clone());
        let lp = Latencies::new(p.samples.clone());
        say!(
            "| {} | {} | {:.1} / {:.1} / {:.1} | {:.1} / {:.1} / {:.1} | {:.1} | {} |",
            o.name,
            o.rows,
            lo.percentile(50.0),
            lo.percentile(95.0),
            lo.percentile(100.0),
            lp.percentile(50.0),
            lp.percentile(95.0),
            lp.percentile(100.0),
            o.first.as_secs_f64() * 1000.0,
            o.bytes
        );
    }
    say!();
    for o in &operator {
        say!("- `{}`: `GET {}`", o.name, o.path);
    }
    let target_ms = 200.0;
    let mut misses = vec![];
    for i in [0, 2] {
        for (who, set) in [("operator", &operator), ("public", &public)] {
            let p95 = Latencies::new(set[i].samples.clone()).percentile(95.0);
            if p95 > target_ms {
                misses.push(format!("{} ({who}): p95 {p95:.0} ms", set[i].name));
            }
        }
    }
    say!();
    if misses.is_empty() {
        say!(
            "Target (year province report and 24-month series under {target_ms:.0} ms, p95): met."
        );
    } else {
        say!(
            "Target (year province report and 24-month series under {target_ms:.0} ms, p95): missed by {}.",
            misses.join("; ")
        );
    }
    if problems.is_empty() {
        say!("Checks: the year totals (operator and public) and every month of the series equal the generated register.");
    } else {
        say!("Checks FAILED:");
        for p in &problems {
            say!("- {p}");
        }
    }
    served.stop().await;
    if !problems.is_empty() {
        bail!("the figures do not match the generated register");
    }
    Ok(())
}
