//! `ttx-bench`: measures TTX over HTTP and prints a report.
//!
//! - `ttx-bench search`: bulk import rate, search latency (p50/p95/p99) with concurrent clients,
//!   index size and server memory, for the embedded engine and (with `MEILI_URL`) Meilisearch.
//! - `ttx-bench match`: match quality on the labelled needs against the search box, and match
//!   latency.
//! - `ttx-bench contracts`: submit + accept + register throughput with concurrent clients.
//! - `ttx-bench stats`: turnover report latencies over a national-scale register (1,000,000
//!   contracts over two years by default).
//! - `ttx-bench reads`: public reads by id (`GET /v1/listings/{id}`, `GET /v1/demands/{id}`):
//!   requests/s and latency with concurrent keep-alive clients.
//! - `ttx-bench all`: all of them at sizes for one run on this machine, written as one Markdown
//!   report into `docs/BENCHMARKS.md` (`--quick` for a smoke run).
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod all;
mod contracts;
mod matching;
mod reads;
mod report;
mod search;
mod stats;

#[derive(Parser)]
#[command(name = "ttx-bench", about = "TTX benchmarks over HTTP")]
struct Cli {
    /// The shared data sets (the CSL corpus in `csl/`, the techme tables in `techme/`); default:
    /// `../shared/data` from the repository root.
    #[arg(long, global = true, env = "TTX_BENCH_DATA_DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    cmd: Cmd,
}

static DATA_DIR: OnceLock<PathBuf> = OnceLock::new();

/// The directory of the shared data sets (`--data-dir`, else `../shared/data` next to the
/// repository root, wherever the bench is started from).
pub(crate) fn data_dir() -> &'static Path {
    DATA_DIR.get_or_init(|| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join("../shared/data")
    })
}

#[derive(Subcommand)]
enum Cmd {
    /// Listing import and search latency.
    Search(search::Args),
    /// Match quality (nDCG@10, recall@50, MRR against the search box) and match latency.
    Match(matching::Args),
    /// Contract registration throughput.
    Contracts(contracts::Args),
    /// Turnover statistics over a large register: load rate and report latencies.
    Stats(stats::Args),
    /// Public reads by id: requests/s and latency.
    Reads(reads::Args),
    /// Every benchmark, then one Markdown report (docs/BENCHMARKS.md).
    All(all::Args),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    ttx_server::telemetry::init_logs("text", "warn");
    let cli = Cli::parse();
    if let Some(d) = cli.data_dir {
        DATA_DIR.set(d).expect("set once, before any use");
    }
    match cli.cmd {
        Cmd::Search(a) => search::run(a).await,
        Cmd::Contracts(a) => contracts::run(a).await,
        Cmd::Match(a) => matching::run(a).await,
        Cmd::Stats(a) => stats::run(a).await,
        Cmd::Reads(a) => reads::run(a).await,
        Cmd::All(a) => all::run(a).await,
    }
}
