//! HTTP routes of matching (mounted under `/v1`).
use crate::MatchingConfig;
use axum::extract::FromRef;
use sea_orm::DatabaseConnection;
use std::sync::Arc;
use tokio::sync::Notify;
use ttx_search::SearchEngine;
use utoipa_axum::router::OpenApiRouter;

/// State the matching routes need.
#[derive(Clone)]
pub struct MatchingState {
    pub db: DatabaseConnection,
    pub engine: Arc<dyn SearchEngine>,
    /// Wakes the search outbox worker after a commit that enqueued index updates.
    pub outbox: Arc<Notify>,
    pub cfg: Arc<MatchingConfig>,
    /// The weighted words of feedback texts, by id and version (shared by all requests).
    pub terms: Arc<crate::TermsCache>,
}

impl MatchingState {
    /// After a commit: wakes the webhook delivery worker.
    pub fn committed(&self) {
        self.outbox.notify_one();
        ttx_notify::wake();
    }
}

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    MatchingState: FromRef<S>,
    DatabaseConnection: FromRef<S>,
{
    OpenApiRouter::new()
        .merge(crate::suggest::router())
        .merge(crate::pipeline::router())
        .merge(crate::subscriptions::router())
        .merge(crate::events::router())
}
