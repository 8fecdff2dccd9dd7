//! The search interface both engines implement.

use async_trait::async_trait;

use crate::{EngineStats, IndexName, SearchDoc, SearchError, SearchQuery, SearchResults};

/// A full-text search engine holding one logical index per [`IndexName`].
///
/// Writes are visible to [`SearchEngine::search`] once the call returns. Indexes are created
/// on first use.
#[async_trait]
pub trait SearchEngine: Send + Sync + 'static {
    /// `"embedded"` or `"meilisearch"`.
    fn kind(&self) -> &'static str;

    /// Adds or replaces documents (by [`SearchDoc::id`]).
    async fn upsert(&self, index: IndexName, docs: Vec<SearchDoc>) -> Result<(), SearchError>;

    /// Removes documents by id; unknown ids are ignored.
    async fn delete(&self, index: IndexName, ids: &[i64]) -> Result<(), SearchError>;

    /// Runs a query. An invalid cursor gives [`SearchError::InvalidCursor`].
    async fn search(&self, index: IndexName, q: &SearchQuery)
        -> Result<SearchResults, SearchError>;

    /// Number of documents in the index.
    async fn count(&self, index: IndexName) -> Result<u64, SearchError>;

    /// How many documents of the index have each of `terms` (words as the query analyser
    /// gives them) in a text field, with the number of documents: to weigh words by rarity,
    /// e.g. to choose the telling words of a long text. `None` where the engine cannot say.
    async fn doc_freqs(
        &self,
        index: IndexName,
        terms: &[String],
    ) -> Result<Option<DocFreqs>, SearchError> {
        let _ = (index, terms);
        Ok(None)
    }

    /// How many words of a query the engine reads (`None`: all of them). A caller with a long
    /// text (a whole need) should then send its most telling words only, rather than have the
    /// engine cut the text after its first words.
    fn query_word_limit(&self) -> Option<usize> {
        None
    }

    /// Documents per index and bytes on disk where known.
    async fn stats(&self) -> Result<EngineStats, SearchError>;

    /// Starts building a fresh physical index beside the live one. Fill it with
    /// [`Rebuild::add`], then [`Rebuild::swap`] makes it live atomically. Dropping the
    /// rebuild without swapping leaves the live index untouched.
    async fn rebuild(&self, index: IndexName) -> Result<Box<dyn Rebuild>, SearchError>;

    /// Releases what this process holds on the index that would block another process —
    /// the embedded engine closes its index writer (waiting for merges) and so frees the
    /// directory lock. The next write reopens it. [`crate::reindex()`] calls this when it is
    /// done so that a running server can write the new index at once. Default: nothing.
    async fn release(&self, index: IndexName) -> Result<(), SearchError> {
        let _ = index;
        Ok(())
    }
}

/// A physical index being built beside the live one (see [`SearchEngine::rebuild`]).
#[async_trait]
pub trait Rebuild: Send {
    /// Adds documents to the new index (not visible to searches yet).
    async fn add(&mut self, docs: Vec<SearchDoc>) -> Result<(), SearchError>;

    /// Makes the new index live and retires the old one.
    async fn swap(self: Box<Self>) -> Result<(), SearchError>;
}

/// Document frequencies of some terms (see [`SearchEngine::doc_freqs`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DocFreqs {
    /// Documents in the index.
    pub docs: u64,
    /// Documents having each term, in the order asked.
    pub freqs: Vec<u64>,
}
