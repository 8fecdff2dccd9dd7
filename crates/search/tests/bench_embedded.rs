//! In-process load test of the embedded engine on synthetic documents (ignored by default):
//!
//! ```text
//! cargo test -p ttx-search --release --test bench_embedded -- --ignored --nocapture
//! BENCH_DOCS=20000 BENCH_SECS=10 cargo test ...   # smaller / shorter
//! ```
//!
//! Prints bulk-upsert throughput and per-query latency percentiles with 8 concurrent
//! clients, every query computing all facets.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ttx_search::{
    region_prefixes, EmbeddedEngine, FacetField, Filters, SearchDoc, SearchEngine, SearchQuery,
    SortOrder,
};

const TERMS: &[&str] = &[
    "锂离子电池",
    "固态电池",
    "钙钛矿",
    "碳化硅",
    "氮化镓",
    "光刻胶",
    "芯片设计",
    "机器视觉",
    "数字孪生",
    "新冠疫苗",
    "基因编辑",
    "燃料电池",
    "石墨烯",
    "碳纤维",
    "工业机器人",
    "边缘计算",
    "污水处理",
    "土壤修复",
    "智慧农业",
    "高温合金",
    "激光雷达",
    "量子通信",
    "储能系统",
    "大模型",
    "5G基站",
    "mRNA疫苗",
    "CRISPR",
    "machine vision",
    "lithium battery",
    "digital twin",
];
const WORDS: &[&str] = &[
    "制备方法",
    "系统",
    "工艺",
    "平台",
    "装置",
    "材料",
    "检测",
    "控制",
    "优化",
    "应用",
    "高效",
    "低成本",
    "规模化",
    "一体化",
    "智能",
    "在线",
    "回收",
    "设计",
    "集成",
    "测试",
];
const FILLER: &[&str] = &[
    "本技术已完成中试验证，",
    "具有自主知识产权，",
    "可显著降低生产成本，",
    "适用于多种工业场景，",
    "关键指标达到国际先进水平，",
    "已申请发明专利多项，",
    "团队具有多年产业化经验，",
    "可提供技术培训与现场指导，",
    "支持定制化开发，",
    "产品良率稳定，",
    "能耗较传统方案下降三成，",
];
const FIELDS: &[&str] = &[
    "new_energy",
    "new_materials",
    "electronic_info",
    "biomedicine",
    "advanced_manufacturing",
    "agriculture",
    "environment",
];
const MODES: &[&str] = &["transfer", "license", "equity", "co_development", "service"];
const IPS: &[&str] = &[
    "invention_patent",
    "utility_model",
    "software_copyright",
    "technical_secret",
];
const REGIONS: &[&str] = &[
    "440305", "440306", "440106", "110108", "310115", "320506", "330106", "420111", "510107",
    "370212", "610113", "500112",
];

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

fn synth(id: i64, r: &mut Rng) -> SearchDoc {
    let t1 = r.pick(TERMS);
    let t2 = r.pick(TERMS);
    let title = format!("{}{}{}", t1, r.pick(WORDS), r.pick(WORDS));
    let summary = format!(
        "一种用于{}的{}{}，{}",
        t2,
        r.pick(WORDS),
        r.pick(WORDS),
        r.pick(FILLER)
    );
    let mut body = String::new();
    for _ in 0..12 {
        body.push_str(r.pick(FILLER));
        if r.below(3) == 0 {
            body.push_str(r.pick(TERMS));
            body.push_str(r.pick(WORDS));
            body.push('，');
        }
    }
    let region = r.pick(REGIONS).to_string();
    let amount = if r.below(4) == 0 {
        (None, None)
    } else {
        let lo = (r.below(2000) as i64 + 1) * 1_000_000;
        (Some(lo), Some(lo + r.below(3000) as i64 * 1_000_000))
    };
    let mut modes = vec![r.pick(MODES).to_string()];
    if r.below(2) == 0 {
        modes.push(r.pick(MODES).to_string());
    }
    SearchDoc {
        id,
        title,
        summary,
        body,
        keywords: vec![t1.to_string(), t2.to_string()],
        org_name: Some(format!("机构{}", r.below(500))),
        org_id: Some(r.below(500) as i64),
        field: r.pick(FIELDS).to_string(),
        modes,
        ip_kinds: vec![r.pick(IPS).to_string()],
        status: if r.below(10) == 0 {
            "transacted"
        } else {
            "published"
        }
        .to_string(),
        region_prefixes: region_prefixes(&region),
        region_code: region,
        dual_use: r.below(8) == 0,
        trl: Some(r.below(9) as i64 + 1),
        amount_min: amount.0,
        amount_max: amount.1,
        negotiable: amount.0.is_none(),
        published_at: 1_700_000_000 + r.below(60_000_000) as i64,
        deadline: (r.below(3) == 0).then(|| 1_760_000_000 + r.below(10_000_000) as i64),
        tags: if r.below(5) == 0 {
            vec!["challenge".into()]
        } else {
            vec![]
        },
    }
}

fn query(kind: usize, r: &mut Rng) -> SearchQuery {
    let facets = FacetField::ALL.to_vec();
    match kind {
        0 => SearchQuery {
            facets,
            highlight: true,
            ..SearchQuery::text(r.pick(&[
                "电池",
                "芯片",
                "疫苗",
                "钙钛矿",
                "碳化硅",
                "机器视觉",
                "CRISPR",
                "石墨烯",
            ]))
        },
        1 => SearchQuery {
            facets,
            highlight: true,
            ..SearchQuery::text(format!("{} {}", r.pick(TERMS), r.pick(WORDS)))
        },
        2 => SearchQuery {
            facets,
            sort: SortOrder::Newest,
            filters: Filters {
                fields: vec![r.pick(FIELDS).to_string()],
                region_prefix: Some(r.pick(REGIONS)[..2].to_string()),
                ..Default::default()
            },
            ..Default::default()
        },
        3 => SearchQuery {
            facets,
            sort: SortOrder::AmountAsc,
            filters: Filters {
                modes: vec![r.pick(MODES).to_string()],
                trl_min: Some(5),
                amount_min: Some(1_000_000_000),
                amount_max: Some(2_000_000_000),
                include_negotiable: true,
                ..Default::default()
            },
            ..SearchQuery::text(r.pick(&["电池", "材料", "检测", "系统"]))
        },
        _ => SearchQuery {
            facets,
            ..Default::default()
        },
    }
}

const KINDS: [&str; 5] = [
    "one word",
    "two words",
    "filters only",
    "text+filters+amount sort",
    "match all",
];

fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1]
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "load test; run with --release --ignored --nocapture"]
async fn bench_embedded_engine() {
    let n_docs = env("BENCH_DOCS", 100_000);
    let secs = env("BENCH_SECS", 20);
    let clients = env("BENCH_CLIENTS", 8);
    let dir = tempfile::tempdir().unwrap();
    let engine = Arc::new(EmbeddedEngine::open(dir.path()).unwrap());

    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let docs: Vec<SearchDoc> = (1..=n_docs as i64).map(|i| synth(i, &mut rng)).collect();
    let bytes: usize = docs
        .iter()
        .map(|d| d.title.len() + d.summary.len() + d.body.len())
        .sum();
    let t = Instant::now();
    for chunk in docs.chunks(5_000) {
        engine.upsert("bench", chunk.to_vec()).await.unwrap();
    }
    let load = t.elapsed();
    println!(
        "bulk upsert: {n_docs} docs ({:.1} MB text) in {:.1} s = {:.0} docs/s (batches of 5000, commit each)",
        bytes as f64 / 1e6,
        load.as_secs_f64(),
        n_docs as f64 / load.as_secs_f64()
    );
    let t = Instant::now();
    let small: Vec<SearchDoc> = (0..100).map(|i| synth(i + 1, &mut rng)).collect();
    for d in small.chunks(10) {
        engine.upsert("bench", d.to_vec()).await.unwrap();
    }
    println!(
        "small upserts: 10 calls x 10 docs, {:.1} ms per call (commit + reload)",
        t.elapsed().as_secs_f64() * 100.0
    );
    assert_eq!(engine.count("bench").await.unwrap(), n_docs as u64);

    // Warm up (segment caches).
    let t = Instant::now();
    engine.search("bench", &query(4, &mut rng)).await.unwrap();
    println!(
        "first query (loads fast-field cache): {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    for k in 0..5 {
        engine.search("bench", &query(k, &mut rng)).await.unwrap();
    }

    // BENCH_KINDS=0,3 restricts the query mix (indexes into KINDS).
    let kinds: Vec<usize> = std::env::var("BENCH_KINDS")
        .ok()
        .map(|v| v.split(',').filter_map(|k| k.trim().parse().ok()).collect())
        .unwrap_or_else(|| (0..KINDS.len()).collect());
    let kinds = Arc::new(kinds);
    let deadline = Instant::now() + Duration::from_secs(secs as u64);
    let mut tasks = Vec::new();
    for c in 0..clients {
        let engine = engine.clone();
        let kinds = kinds.clone();
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng(0x1234_5678 + c as u64 * 7919);
            let mut lat: Vec<(usize, f64)> = Vec::new();
            let mut i = c;
            while Instant::now() < deadline {
                let kind = kinds[i % kinds.len()];
                i += 1;
                let q = query(kind, &mut rng);
                let t = Instant::now();
                let r = engine.search("bench", &q).await.unwrap();
                lat.push((kind, t.elapsed().as_secs_f64() * 1e3));
                std::hint::black_box(r);
            }
            lat
        }));
    }
    let mut all = Vec::new();
    let mut by_kind: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
    for t in tasks {
        for (k, ms) in t.await.unwrap() {
            all.push(ms);
            by_kind.entry(k).or_default().push(ms);
        }
    }
    println!(
        "search: {} queries in {secs} s by {clients} clients = {:.0} q/s; p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms (all facets)",
        all.len(),
        all.len() as f64 / secs as f64,
        pct(&mut all, 0.50),
        pct(&mut all, 0.95),
        pct(&mut all, 0.99)
    );
    for (k, mut v) in by_kind {
        println!(
            "  {:<26} n={:<6} p50 {:>6.2} ms  p95 {:>6.2} ms  p99 {:>6.2} ms",
            KINDS[k],
            v.len(),
            pct(&mut v, 0.50),
            pct(&mut v, 0.95),
            pct(&mut v, 0.99)
        );
    }
    println!(
        "fast-field cache: {:.1} MB",
        engine.cache_bytes() as f64 / 1e6
    );
    let stats = engine.stats().await.unwrap();
    println!("stats: {stats:?}");
}
