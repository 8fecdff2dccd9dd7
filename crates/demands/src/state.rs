//! What the demands routes and use cases need from the application.
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tokio::sync::Notify;
use ttx_search::SearchEngine;
use ttx_web::read_cache::ReadCache;

/// Settings of needs (`[demands]` in `ttx.toml`, `TTX_DEMANDS__*` in the environment).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct DemandsConfig {
    /// Minimum completeness score (0-100) a need must reach to be published.
    pub min_publish_score: u8,
    /// How often the expiry job records needs past their deadline.
    pub expiry_interval_secs: u64,
}

impl Default for DemandsConfig {
    fn default() -> Self {
        DemandsConfig {
            min_publish_score: 60,
            expiry_interval_secs: 300,
        }
    }
}

/// The demands sub-state (`FromRef` of the application state).
#[derive(Clone)]
pub struct DemandsState {
    pub db: DatabaseConnection,
    /// The search engine public searches go to.
    pub engine: Arc<dyn SearchEngine>,
    /// Wakes the search outbox worker after a commit that enqueued index updates.
    pub outbox: Arc<Notify>,
    pub cfg: Arc<DemandsConfig>,
    /// Public views of needs by id, for anonymous reads ([`ttx_web::read_cache`]).
    pub reads: Arc<ReadCache>,
}

impl DemandsState {
    pub fn new(
        db: DatabaseConnection,
        engine: Arc<dyn SearchEngine>,
        outbox: Arc<Notify>,
        cfg: DemandsConfig,
    ) -> Self {
        DemandsState {
            db,
            engine,
            outbox,
            cfg: Arc::new(cfg),
            reads: ReadCache::disabled(),
        }
    }

    /// With the application's settings and cache of public views, shared rather than copied
    /// for each request.
    pub fn shared(
        db: DatabaseConnection,
        engine: Arc<dyn SearchEngine>,
        outbox: Arc<Notify>,
        cfg: Arc<DemandsConfig>,
        reads: Arc<ReadCache>,
    ) -> Self {
        DemandsState {
            db,
            engine,
            outbox,
            cfg,
            reads,
        }
    }

    /// Need `id` changed (after the commit): its cached public view goes.
    pub fn changed(&self, id: i64) {
        self.reads.invalidate(id);
    }

    /// After a commit: wakes the search outbox worker and the webhook delivery worker.
    pub fn committed(&self) {
        self.outbox.notify_one();
        ttx_notify::wake();
    }
}
