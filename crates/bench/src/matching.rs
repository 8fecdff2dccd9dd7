//! `ttx-bench match`: match quality and latency over HTTP.
//!
//! 1. Starts TTX in-process (fresh SQLite, embedded engine, or Meilisearch with `--engine
//!    meilisearch` and `MEILI_URL`), imports the CSL records as listings (each keeps its
//!    `csl-N` id as external id), demo listings as distractors, and CSL recombinations up to
//!    `--listings`.
//! 2. Creates every need of the labelled set (`crates/bench/eval/matching/needs.jsonl`: title,
//!    problem, key points, goals, up to three keywords) as a draft of a firm.
//! 3. Asks `GET /v1/demands/{id}/matches` and, as the baseline, the search box
//!    (`GET /v1/listings?q=` with the need pasted and cut to 200 characters), and prints
//!    nDCG@10, recall@50 and MRR of both.
//! 4. Times `--requests` match requests with `--clients` concurrent clients.
use crate::report::{cpu_model, figure, memory_gib, rss_mib, say, Latencies};
use crate::search::{csl_path, field_of, first_sentence, listing_from, start, CslRecord};
use anyhow::Context;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use ttx_listings::demo::Rng;
use ttx_listings::import::{Format, ImportOptions};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Listings in the index in all (the CSL records, the demo distractors, then CSL
    /// recombinations up to this number).
    #[arg(long, default_value_t = 0)]
    listings: usize,
    /// Demo listings added as distractors.
    #[arg(long, default_value_t = 2000)]
    distractors: usize,
    /// Concurrent clients of the latency run.
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Match requests of the latency run (0: none).
    #[arg(long, default_value_t = 400)]
    requests: usize,
    /// The labelled needs (JSON Lines).
    #[arg(long)]
    needs: Option<PathBuf>,
    /// The CSL corpus (default: csl/corpus.jsonl in the data directory).
    #[arg(long)]
    csl: Option<PathBuf>,
    /// `embedded` or `meilisearch` (with MEILI_URL and MEILI_MASTER_KEY / MEILI_API_KEY).
    #[arg(long, default_value = "embedded")]
    engine: String,
    /// Write each need's ranked lists here (JSON Lines) for inspection.
    #[arg(long)]
    dump: Option<PathBuf>,
}

#[derive(serde::Deserialize, Clone)]
struct Need {
    id: String,
    title: String,
    problem: String,
    key_points: String,
    goals: String,
    #[serde(default)]
    keywords: Vec<String>,
    relevant: HashMap<String, u32>,
}

fn needs_path(a: &Args) -> PathBuf {
    a.needs.clone().unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("eval/matching/needs.jsonl")
    })
}

/// nDCG@k with gains 2^grade − 1.
fn ndcg(ranked: &[String], rel: &HashMap<String, u32>, k: usize) -> f64 {
    let gain = |g: u32| (2f64.powi(g as i32)) - 1.0;
    let dcg: f64 = ranked
        .iter()
        .take(k)
        .enumerate()
        .map(|(i, id)| gain(*rel.get(id).unwrap_or(&0)) / ((i + 2) as f64).log2())
        .sum();
    let mut ideal: Vec<u32> = rel.values().copied().collect();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let idcg: f64 = ideal
        .iter()
        .take(k)
        .enumerate()
        .map(|(i, g)| gain(*g) / ((i + 2) as f64).log2())
        .sum();
    if idcg == 0.0 {
        0.0
    } else {
        dcg / idcg
    }
}

fn recall(ranked: &[String], rel: &HashMap<String, u32>, k: usize) -> f64 {
    let relevant = rel.values().filter(|g| **g > 0).count();
    if relevant == 0 {
        return 0.0;
    }
    let found = ranked
        .iter()
        .take(k)
        .filter(|id| rel.get(*id).is_some_and(|g| *g > 0))
        .count();
    found as f64 / relevant as f64
}

/// Where each graded record is in a ranked list (1-based; absent from the list: not named).
fn ranks(ranked: &[String], rel: &HashMap<String, u32>) -> serde_json::Map<String, Value> {
    rel.keys()
        .filter_map(|id| {
            let p = ranked.iter().position(|r| r == id)?;
            Some((id.clone(), json!(p + 1)))
        })
        .collect()
}

fn mrr(ranked: &[String], rel: &HashMap<String, u32>) -> f64 {
    ranked
        .iter()
        .position(|id| rel.get(id).is_some_and(|g| *g > 0))
        .map_or(0.0, |p| 1.0 / (p + 1) as f64)
}

#[derive(Default, Clone, Copy)]
struct Quality {
    ndcg10: f64,
    recall50: f64,
    mrr: f64,
    n: usize,
}

impl Quality {
    fn add(&mut self, ranked: &[String], rel: &HashMap<String, u32>) {
        self.ndcg10 += ndcg(ranked, rel, 10);
        self.recall50 += recall(ranked, rel, 50);
        self.mrr += mrr(ranked, rel);
        self.n += 1;
    }
    fn mean(&self) -> (f64, f64, f64) {
        let n = self.n.max(1) as f64;
        (self.ndcg10 / n, self.recall50 / n, self.mrr / n)
    }
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The need as a person pastes it into the search box (200 characters at most).
fn search_box(n: &Need) -> String {
    let all = format!("{} {} {} {}", n.title, n.problem, n.key_points, n.goals);
    all.chars().take(200).collect()
}

pub async fn run(a: Args) -> anyhow::Result<()> {
    let needs_file = needs_path(&a);
    let needs: Vec<Need> = std::fs::read_to_string(&needs_file)
        .with_context(|| format!("reading {}", needs_file.display()))?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()
        .context("parsing the needs")?;
    let Some(csl) = csl_path(a.csl.as_deref()) else {
        say!(
            "SKIP: the CSL corpus is absent (looked for --csl and {}); the labelled needs refer \
             to its records",
            crate::data_dir().join("csl/corpus.jsonl").display()
        );
        return Ok(());
    };
    let recs: Vec<CslRecord> = std::fs::read_to_string(&csl)?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()
        .context("parsing the CSL corpus")?;

    // The corpus: CSL records as listings, demo distractors, recombinations.
    let mut rng = Rng::new(7);
    let mut corpus: Vec<ttx_listings::dto::ListingInput> = recs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut l = listing_from(
                &mut rng,
                i,
                r.title.clone(),
                first_sentence(&r.abstract_),
                r.abstract_.clone(),
                r.keywords.clone(),
                field_of(r),
            );
            l.external_id = Some(r.id.clone());
            l
        })
        .collect();
    let today = ttx_core::clock::today();
    for (i, mut l) in ttx_listings::demo::generate(a.distractors, 11, today)
        .into_iter()
        .enumerate()
    {
        l.publish = Some(true);
        l.external_id = Some(format!("demo-{i}"));
        corpus.push(l);
    }
    let extra = if a.listings > corpus.len() {
        crate::search::expand_from(&recs, a.listings - corpus.len(), 3)
    } else {
        vec![]
    };
    let run = start(&a.engine, 2000).await?;
    let client = reqwest::Client::new();
    let uni = signup(
        &client,
        &run.base,
        "university",
        "12110108MB0099981",
        "110108",
    )
    .await?;
    let t0 = Instant::now();
    let imported = import(&run, uni.0, &corpus, "listings.jsonl").await?;
    let import_secs = t0.elapsed().as_secs_f64();
    eprintln!("imported {imported} listings in {import_secs:.1}s");
    // listing id → external id
    let ext: HashMap<i64, String> = {
        use sea_orm::{EntityTrait, QuerySelect};
        use ttx_listings::entity::listing::{Column, Entity};
        Entity::find()
            .select_only()
            .column(Column::Id)
            .column(Column::ExternalId)
            .into_tuple::<(i64, Option<String>)>()
            .all(&run.db)
            .await?
            .into_iter()
            .filter_map(|(id, e)| e.map(|e| (id, e)))
            .collect()
    };

    // The firm and its drafts.
    let firm = signup(
        &client,
        &run.base,
        "enterprise",
        "91320505MA0099971",
        "320505",
    )
    .await?;
    let mut ids = vec![];
    for n in &needs {
        let kw: Vec<&String> = n.keywords.iter().take(3).collect();
        let r: Value = client
            .post(format!("{}/v1/demands", run.base))
            .bearer_auth(&firm.1)
            .json(
                &json!({"title": n.title, "problem": n.problem, "key_points": n.key_points,
                          "goals": n.goals, "keywords": kw}),
            )
            .send()
            .await?
            .json()
            .await?;
        ids.push(
            r["id"]
                .as_i64()
                .with_context(|| format!("draft of {}: {r}", n.id))?,
        );
    }

    let mut matcher = Quality::default();
    let mut box_q = Quality::default();
    let mut dump = match &a.dump {
        Some(p) => Some(std::io::BufWriter::new(std::fs::File::create(p)?)),
        None => None,
    };
    for (n, id) in needs.iter().zip(&ids) {
        let m: Value = client
            .get(format!("{}/v1/demands/{id}/matches?limit=50", run.base))
            .bearer_auth(&firm.1)
            .send()
            .await?
            .json()
            .await?;
        let items = m["items"]
            .as_array()
            .with_context(|| format!("matches of {}: {m}", n.id))?;
        let ranked: Vec<String> = items
            .iter()
            .filter_map(|i| i["listing"]["id"].as_i64())
            .filter_map(|lid| ext.get(&lid).cloned())
            .collect();
        // the top ten's scores and parts, for the dump
        let explained: Vec<Value> = items
            .iter()
            .take(10)
            .map(|i| {
                let parts: serde_json::Map<String, Value> = i["parts"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|p| Some((p["name"].as_str()?.to_string(), p["value"].clone())))
                    .collect();
                json!({"score": i["score"], "values": parts})
            })
            .collect();
        matcher.add(&ranked, &n.relevant);
        let s: Value = client
            .get(format!(
                "{}/v1/listings?limit=50&q={}",
                run.base,
                enc(&search_box(n))
            ))
            .send()
            .await?
            .json()
            .await?;
        let boxed: Vec<String> = s["hits"]
            .as_array()
            .or(s["items"].as_array())
            .map(|v| {
                v.iter()
                    .filter_map(|h| h["listing"]["id"].as_i64().or(h["id"].as_i64()))
                    .filter_map(|lid| ext.get(&lid).cloned())
                    .collect()
            })
            .unwrap_or_default();
        box_q.add(&boxed, &n.relevant);
        if let Some(d) = dump.as_mut() {
            serde_json::to_writer(
                &mut *d,
                &json!({"need": n.id, "ndcg10": ndcg(&ranked, &n.relevant, 10),
                        "box_ndcg10": ndcg(&boxed, &n.relevant, 10),
                        "relevant": n.relevant, "matcher": &ranked[..ranked.len().min(10)], "explained": explained,
                        "ranks": ranks(&ranked, &n.relevant), "box_ranks": ranks(&boxed, &n.relevant),
                        "box": &boxed[..boxed.len().min(10)]}),
            )?;
            d.write_all(b"\n")?;
        }
    }

    // Latency, at the full size.
    let mut total = imported;
    if !extra.is_empty() {
        let t = Instant::now();
        total += import(&run, uni.0, &extra, "recombinations.jsonl").await?;
        eprintln!(
            "imported {} recombinations in {:.1}s",
            extra.len(),
            t.elapsed().as_secs_f64()
        );
    }
    let lat = if a.requests > 0 {
        Some(latency(&run.base, &firm.1, &ids, a.requests, a.clients).await)
    } else {
        None
    };

    let (mn, mr, mm) = matcher.mean();
    let (bn, br, bm) = box_q.mean();
    say!("# ttx-bench match\n");
    say!(
        "- machine: {} cores, {:.0} GiB, {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        memory_gib().unwrap_or(0.0),
        cpu_model()
    );
    say!(
        "- engine: {}; quality measured on {imported} listings ({} CSL records and {} demo distractors, imported in {import_secs:.1}s); latency on {total} listings ({} CSL recombinations added)",
        a.engine,
        recs.len(),
        a.distractors,
        extra.len()
    );
    say!(
        "- labelled needs: {} ({})",
        needs.len(),
        needs_file.display()
    );
    if let Ok(c) = ttx_server::Config::load(None) {
        let m = &c.matching;
        say!(
            "- matcher settings: candidates {}, query_terms {}, max_term_share {}, pair_weight {}, \
             expansion {}",
            m.candidates,
            m.query_terms,
            m.max_term_share,
            m.pair_weight,
            serde_json::to_string(&m.expansion).unwrap_or_default()
        );
    }
    say!();
    say!("| | nDCG@10 | recall@50 | MRR |");
    say!("|---|---|---|---|");
    say!("| matcher (`/v1/demands/{{id}}/matches`) | {mn:.3} | {mr:.3} | {mm:.3} |");
    say!("| search box (`/v1/listings?q=`, 200 chars) | {bn:.3} | {br:.3} | {bm:.3} |");
    say!(
        "| ratio matcher / search box | {:.2}× | {:.2}× | {:.2}× |",
        mn / bn.max(1e-9),
        mr / br.max(1e-9),
        mm / bm.max(1e-9)
    );
    figure(
        format!("quality: {} labelled needs over {imported} listings", needs.len()),
        format!(
            "matcher nDCG@10 {mn:.3}, recall@50 {mr:.3}, MRR {mm:.3}; search box {bn:.3} / {br:.3} / {bm:.3}"
        ),
    );
    if let Some((l, secs, errors)) = &lat {
        figure(
            format!("match latency at {total} listings, {} clients", a.clients),
            format!(
                "{:.0} req/s, p50 / p95 / p99 {:.1} / {:.1} / {:.1} ms, {errors} errors",
                l.count() as f64 / secs,
                l.percentile(50.0),
                l.percentile(95.0),
                l.percentile(99.0)
            ),
        );
    }
    if let Some((l, secs, errors)) = lat {
        say!();
        say!(
            "Match latency over HTTP, {} clients, {} requests in {secs:.1}s ({:.0} req/s, {errors} errors): {}",
            a.clients,
            l.count(),
            l.count() as f64 / secs,
            l.line()
        );
    }
    if let Some(r) = rss_mib() {
        say!("\nRSS (server + clients): {r:.0} MiB");
    }
    Ok(())
}

/// Imports listings through the import path and waits until the index has them.
pub(crate) async fn import(
    run: &crate::search::Running,
    org: i64,
    rows: &[ttx_listings::dto::ListingInput],
    name: &str,
) -> anyhow::Result<u64> {
    let file = run.dir.path().join(name);
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&file)?);
        for l in rows {
            serde_json::to_writer(&mut f, l)?;
            f.write_all(b"\n")?;
        }
    }
    let report = ttx_listings::import::import_file(
        &run.db,
        Some(&run.outbox),
        &file,
        Format::Jsonl,
        &ImportOptions::new(org),
        |_, _| {},
    )
    .await?;
    while ttx_search::outbox_lag(&run.db).await?.pending > 0 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(report.created)
}

pub(crate) async fn signup(
    client: &reqwest::Client,
    base: &str,
    kind: &str,
    code17: &str,
    region: &str,
) -> anyhow::Result<(i64, String)> {
    let code = ttx_core::CreditCode::complete(code17)?;
    let n = code17.chars().rev().take(4).collect::<String>();
    let r: Value = client
        .post(format!("{base}/v1/signup"))
        .json(&json!({
            "org": {"kind": kind, "name": format!("基准评测{kind}{n}"), "credit_code": code.as_str(), "region_code": region},
            "admin": {"email": format!("{kind}{n}@bench.test"), "display_name": "bench", "password": "bench-password-1"}
        }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok((
        r["org"]["id"].as_i64().context("org id")?,
        r["token"].as_str().context("token")?.to_string(),
    ))
}

async fn latency(
    base: &str,
    token: &str,
    ids: &[i64],
    requests: usize,
    clients: usize,
) -> (Latencies, f64, usize) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients * 2)
        .build()
        .expect("client");
    let next = Arc::new(AtomicUsize::new(0));
    let ids = Arc::new(ids.to_vec());
    let t0 = Instant::now();
    let mut handles = vec![];
    for _ in 0..clients.max(1) {
        let (client, next, ids, base, token) = (
            client.clone(),
            next.clone(),
            ids.clone(),
            base.to_string(),
            token.to_string(),
        );
        handles.push(tokio::spawn(async move {
            let mut out = vec![];
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= requests {
                    break;
                }
                let id = ids[i % ids.len()];
                let t = Instant::now();
                let ok = client
                    .get(format!("{base}/v1/demands/{id}/matches?limit=20"))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .map(|r| r.status().is_success())
                    .unwrap_or(false);
                out.push((t.elapsed(), ok));
            }
            out
        }));
    }
    let mut samples = vec![];
    for h in handles {
        samples.extend(h.await.unwrap_or_default());
    }
    let secs = t0.elapsed().as_secs_f64();
    let errors = samples.iter().filter(|s| !s.1).count();
    (
        Latencies::new(samples.into_iter().map(|s| s.0).collect()),
        secs,
        errors,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(v: &[(&str, u32)]) -> HashMap<String, u32> {
        v.iter().map(|(k, g)| (k.to_string(), *g)).collect()
    }

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn metrics() {
        let r = rel(&[("a", 2), ("b", 1)]);
        assert!((ndcg(&ids(&["a", "b"]), &r, 10) - 1.0).abs() < 1e-12);
        assert!(ndcg(&ids(&["b", "a"]), &r, 10) < 1.0);
        assert_eq!(ndcg(&ids(&["x"]), &r, 10), 0.0);
        assert_eq!(recall(&ids(&["x", "b"]), &r, 50), 0.5);
        assert_eq!(mrr(&ids(&["x", "b"]), &r), 0.5);
        assert_eq!(mrr(&ids(&[]), &r), 0.0);
    }
}
