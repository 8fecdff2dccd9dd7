//! `ttx-search`: one search interface ([`SearchEngine`]) with two engines — the embedded
//! default ([`EmbeddedEngine`], tantivy + jieba, no server) and [`MeiliEngine`] — plus the
//! transactional outbox that keeps them in step with the database ([`outbox`]), the reindex
//! procedure ([`reindex()`]) and, behind the `conformance` feature (tests and benches), a
//! conformance suite both engines pass (`conformance`).
//!
//! Typical wiring:
//!
//! * domain code builds [`SearchDoc`]s from public fields only and, inside the transaction
//!   that changes a listing or need, calls [`outbox::enqueue`]; after commit it may call
//!   [`OutboxWorker::notify`] for low latency;
//! * the server runs [`OutboxWorker::spawn`] with a [`DocSource`] per index;
//! * `ttx reindex` calls [`reindex()`], which rebuilds beside the live index, swaps, and
//!   re-applies changes made meanwhile;
//! * readiness reports [`outbox_lag`].

#[cfg(feature = "conformance")]
pub mod conformance;
mod doc;
pub mod embedded;
mod engine;
mod error;
mod highlight;
pub mod meili;
pub mod outbox;
pub mod params;
mod reindex;

pub use doc::{
    decode_cursor, encode_cursor, next_cursor, region_prefixes, validate_index_name, EngineStats,
    FacetField, Filters, Hit, IndexName, IndexStats, ResultCacheStats, SearchDoc, SearchQuery,
    SearchResults, SortOrder, DEFAULT_LIMIT, DEMANDS, LISTINGS, MAX_LIMIT, MAX_OFFSET,
};
pub use embedded::{EmbeddedEngine, EmbeddedOptions};
pub use engine::{DocFreqs, Rebuild, SearchEngine};
pub use error::SearchError;
pub use meili::MeiliEngine;
pub use outbox::{enqueue, outbox_lag, BeforeApply, DocSource, OutboxLag, OutboxWorker};
pub use reindex::{reindex, ReindexReport};
