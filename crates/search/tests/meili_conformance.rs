//! The shared conformance suite against Meilisearch. Needs a running server:
//! `MEILI_URL=http://127.0.0.1:7700 MEILI_MASTER_KEY=... cargo test -p ttx-search --test meili_conformance`.
//! Without `MEILI_URL` the test prints a SKIP line and passes.

use std::sync::Arc;

use ttx_search::conformance::run_conformance;
use ttx_search::{MeiliEngine, SearchEngine};

#[tokio::test]
async fn meilisearch_engine_passes_conformance() {
    let Ok(url) = std::env::var("MEILI_URL") else {
        println!("SKIP meilisearch conformance: MEILI_URL not set");
        return;
    };
    let key = std::env::var("MEILI_MASTER_KEY").ok();
    let prefix = format!("ttxtest_{}_", uuid::Uuid::new_v4().simple());
    let engine = Arc::new(MeiliEngine::new(url, key, prefix).unwrap());
    assert!(
        engine.healthy().await,
        "meilisearch at MEILI_URL is not healthy"
    );
    let dyn_engine: Arc<dyn SearchEngine> = engine.clone();
    let report = run_conformance(dyn_engine, "conformance").await;
    println!("{}", report.summary());
    for s in &report.skipped {
        println!("skipped: {s}");
    }
    engine.drop_index("conformance").await.unwrap();
    report.assert_ok();
}
