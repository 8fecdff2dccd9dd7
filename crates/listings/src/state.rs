//! What the listings routes and use cases need from the application.
use sea_orm::DatabaseConnection;
use std::sync::Arc;
use tokio::sync::Notify;
use ttx_search::SearchEngine;
use ttx_web::read_cache::ReadCache;

use crate::dto::ListingCard;

/// The listings sub-state (`FromRef` of the application state).
#[derive(Clone)]
pub struct ListingsState {
    pub db: DatabaseConnection,
    /// The search engine public searches go to.
    pub engine: Arc<dyn SearchEngine>,
    /// Wakes the outbox worker after a commit that enqueued index updates.
    pub outbox: Arc<Notify>,
    /// Public views of listings by id, for anonymous reads ([`ttx_web::read_cache`]).
    pub reads: Arc<ReadCache>,
    /// Cards of published listings shown by public searches, by id (`read_cache.search_cards`).
    pub cards: Option<Arc<ReadCache<ListingCard>>>,
}

impl ListingsState {
    pub fn new(db: DatabaseConnection, engine: Arc<dyn SearchEngine>, outbox: Arc<Notify>) -> Self {
        ListingsState {
            db,
            engine,
            outbox,
            reads: ReadCache::disabled(),
            cards: None,
        }
    }

    /// With the application's cache of public views (the default holds nothing).
    pub fn with_reads(mut self, reads: Arc<ReadCache>) -> Self {
        self.reads = reads;
        self
    }

    /// With the application's cache of search cards (the default holds none).
    pub fn with_cards(mut self, cards: Arc<ReadCache<ListingCard>>) -> Self {
        self.cards = Some(cards).filter(|c| c.enabled());
        self
    }

    /// Listing `id` changed (after the commit): its cached public view and card go.
    pub fn changed(&self, id: i64) {
        self.reads.invalidate(id);
        if let Some(c) = &self.cards {
            c.invalidate(id);
        }
    }

    /// Tells the outbox worker there is work (after commit).
    pub fn wake_indexer(&self) {
        self.outbox.notify_one();
    }
}
