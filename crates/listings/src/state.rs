//! What the listings routes and use cases need from the application.
use sea_orm::DatabaseConnection;
use std::sync::Arc;
use tokio::sync::Notify;
use ttx_search::SearchEngine;

/// The listings sub-state (`FromRef` of the application state).
#[derive(Clone)]
pub struct ListingsState {
    pub db: DatabaseConnection,
    /// The search engine public searches go to.
    pub engine: Arc<dyn SearchEngine>,
    /// Wakes the outbox worker after a commit that enqueued index updates.
    pub outbox: Arc<Notify>,
}

impl ListingsState {
    pub fn new(db: DatabaseConnection, engine: Arc<dyn SearchEngine>, outbox: Arc<Notify>) -> Self {
        ListingsState { db, engine, outbox }
    }

    /// Tells the outbox worker there is work (after commit).
    pub fn wake_indexer(&self) {
        self.outbox.notify_one();
    }
}
