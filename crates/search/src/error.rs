//! The one error type of the search crate.

use sea_orm::DbErr;

/// Everything that can go wrong in search, indexing, the outbox and reindexing.
///
/// The HTTP layer maps [`SearchError::InvalidCursor`] to `400 Bad Request`; every other
/// variant is a server-side failure (`500`/`503`).
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The pagination cursor was not produced by this engine (or was tampered with).
    #[error("invalid pagination cursor")]
    InvalidCursor,
    /// The index name is not one the engine can serve (e.g. contains `/`).
    #[error("invalid index name: {0}")]
    InvalidIndex(String),
    /// The search engine failed (tantivy error, Meilisearch error or task failure, ...).
    #[error("search engine error: {0}")]
    Engine(String),
    /// The engine could not take the write lock of an index generation (another process,
    /// e.g. a running `ttx reindex`, is writing to it). Retry later.
    #[error("index is locked by another writer: {0}")]
    Locked(String),
    /// File-system error of the embedded engine.
    #[error("search i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// Database error while reading the outbox or loading documents.
    #[error("database error: {0}")]
    Db(#[from] DbErr),
    /// A [`crate::DocSource`] failed to load documents.
    #[error("document source error: {0}")]
    Source(String),
}

impl From<tantivy::TantivyError> for SearchError {
    fn from(e: tantivy::TantivyError) -> Self {
        match e {
            tantivy::TantivyError::LockFailure(lock, msg) => {
                SearchError::Locked(format!("{lock:?} {}", msg.unwrap_or_default()))
            }
            other => SearchError::Engine(other.to_string()),
        }
    }
}

impl From<meilisearch_sdk::errors::Error> for SearchError {
    fn from(e: meilisearch_sdk::errors::Error) -> Self {
        SearchError::Engine(format!("meilisearch: {e}"))
    }
}

impl From<tokio::task::JoinError> for SearchError {
    fn from(e: tokio::task::JoinError) -> Self {
        SearchError::Engine(format!("search task failed: {e}"))
    }
}

/// A search failure as a use case reports it: a bad cursor is the caller's (400
/// `invalid_cursor`), a database error is internal, and the engine's failures are 503
/// `search_unavailable` (logged, never shown).
impl From<SearchError> for ttx_web::ServiceError {
    fn from(e: SearchError) -> Self {
        use ttx_web::{ErrorCode, ServiceError};
        match e {
            SearchError::InvalidCursor => ServiceError::new(ErrorCode::InvalidCursor),
            SearchError::Db(db) => ServiceError::internal(db),
            other => {
                tracing::error!(error = %other, "search failed");
                ServiceError::new(ErrorCode::SearchUnavailable)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_failures_map_to_the_callers_or_ours() {
        let e = ttx_web::ServiceError::from(SearchError::InvalidCursor);
        assert_eq!((e.code, e.status), ("invalid_cursor", 400));
        let e = ttx_web::ServiceError::from(SearchError::Engine("tantivy: boom".into()));
        assert_eq!((e.code, e.status), ("search_unavailable", 503));
        assert!(e.detail.is_none(), "the engine's message is not shown");
        let e = ttx_web::ServiceError::from(SearchError::Db(DbErr::Custom("x".into())));
        assert_eq!((e.code, e.status), ("internal", 500));
    }
}
