//! `ttx-bench`: measures TTX over HTTP and prints a report.
//!
//! - `ttx-bench search`: bulk import rate, search latency (p50/p95/p99) with concurrent clients,
//!   index size and server memory, for the embedded engine and (with `MEILI_URL`) Meilisearch.
//! - `ttx-bench match`: match quality on the labelled needs against the search box, and match
//!   latency.
//! - `ttx-bench contracts`: submit + accept + register throughput with concurrent clients.
//! - `ttx-bench stats`: turnover report latencies over a national-scale register (1,000,000
//!   contracts over two years by default).
use clap::{Parser, Subcommand};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod contracts;
mod matching;
mod report;
mod search;
mod stats;

#[derive(Parser)]
#[command(name = "ttx-bench", about = "TTX benchmarks over HTTP")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
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
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    ttx_server::telemetry::init_logs("text", "warn");
    match Cli::parse().cmd {
        Cmd::Search(a) => search::run(a).await,
        Cmd::Contracts(a) => contracts::run(a).await,
        Cmd::Match(a) => matching::run(a).await,
        Cmd::Stats(a) => stats::run(a).await,
    }
}
