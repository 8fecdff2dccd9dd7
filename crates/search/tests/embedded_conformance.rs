//! The shared conformance suite against the embedded engine.

use std::sync::Arc;

use ttx_search::conformance::run_conformance;
use ttx_search::{EmbeddedEngine, SearchEngine};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_engine_passes_conformance() {
    let dir = tempfile::tempdir().unwrap();
    let engine: Arc<dyn SearchEngine> = Arc::new(EmbeddedEngine::open(dir.path()).unwrap());
    let report = run_conformance(engine, "conformance").await;
    println!("{}", report.summary());
    for s in &report.skipped {
        println!("skipped: {s}");
    }
    report.assert_ok();
}
