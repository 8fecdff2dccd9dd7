//! Rebuilding an index from the database while the old one keeps serving.

use std::time::{Duration, Instant};

use chrono::Utc;
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};

use crate::outbox::{apply_ids, entity as outbox, high_water_mark};
use crate::{DocSource, SearchEngine, SearchError};

/// Documents per `scan` call and per `Rebuild::add`.
pub const REINDEX_BATCH: usize = 1_000;

/// Clock skew tolerated between the worker that marks rows processed and the reindexer.
const CATCH_UP_SLACK: chrono::Duration = chrono::Duration::seconds(5);

/// What a [`reindex()`] did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReindexReport {
    pub index: String,
    /// `source.count()` when the rebuild started.
    pub expected: u64,
    /// Documents written to the new index by the scan.
    pub indexed: u64,
    /// Outbox high-water mark (max id) when the rebuild started.
    pub high_water_mark: i64,
    /// Documents re-applied after the swap (changed during the rebuild).
    pub caught_up: u64,
    pub elapsed: Duration,
}

/// Rebuilds `source.index()` from the database:
///
/// 1. records the outbox high-water mark and the start time;
/// 2. `count`s the source, starts [`SearchEngine::rebuild`] and fills it with
///    [`DocSource::scan`] in batches of [`REINDEX_BATCH`], calling `progress(done, total)`;
/// 3. swaps the new index in;
/// 4. catches up: every document named by an outbox row of this index with an id above the
///    mark (processed or not), still unprocessed, or processed since the start is loaded
///    again and written to the new index — so changes made during the rebuild (which the
///    worker applied to the old index) are not lost. Rows committed late with an id below
///    the mark are covered by the last two conditions;
/// 5. [`SearchEngine::release`]s the index, so that a server in another process can write
///    the new index at once (the embedded engine's writer lock).
///
/// Safe to run while the server and its outbox worker run (for the embedded engine in
/// another process, see the protocol in [`crate::embedded`]).
pub async fn reindex(
    db: &DatabaseConnection,
    engine: &dyn SearchEngine,
    source: &dyn DocSource,
    progress: impl Fn(u64, u64),
) -> Result<ReindexReport, SearchError> {
    let t0 = Instant::now();
    let index = source.index();
    let mark = high_water_mark(db).await?;
    let started_at = ttx_core::clock::now();
    let total = source.count().await?;
    tracing::info!(index, total, mark, "reindex started");

    let mut rebuild = engine.rebuild(index).await?;
    let mut done = 0u64;
    let mut after: Option<i64> = None;
    progress(0, total);
    loop {
        let docs = source.scan(after, REINDEX_BATCH).await?;
        if docs.is_empty() {
            break;
        }
        let last = docs.iter().map(|d| d.id).max();
        if last <= after {
            return Err(SearchError::Source(format!(
                "scan of {index} did not advance past id {after:?}"
            )));
        }
        after = last;
        done += docs.len() as u64;
        rebuild.add(docs).await?;
        progress(done, total.max(done));
    }
    rebuild.swap().await?;
    tracing::info!(index, indexed = done, "reindex swapped, catching up");

    let caught_up = catch_up(db, engine, source, mark, started_at - CATCH_UP_SLACK).await?;
    // Let a running server take over writing the new index right away.
    engine.release(index).await?;
    let report = ReindexReport {
        index: index.to_string(),
        expected: total,
        indexed: done,
        high_water_mark: mark,
        caught_up,
        elapsed: t0.elapsed(),
    };
    tracing::info!(?report, "reindex finished");
    Ok(report)
}

/// Re-applies the documents touched by outbox rows after `mark` / `since`.
async fn catch_up(
    db: &DatabaseConnection,
    engine: &dyn SearchEngine,
    source: &dyn DocSource,
    mark: i64,
    since: chrono::DateTime<Utc>,
) -> Result<u64, SearchError> {
    let doc_ids: Vec<i64> = outbox::Entity::find()
        .select_only()
        .column(outbox::Column::DocId)
        .distinct()
        .filter(outbox::Column::IndexName.eq(source.index()))
        .filter(
            Condition::any()
                .add(outbox::Column::Id.gt(mark))
                .add(outbox::Column::ProcessedAt.is_null())
                .add(outbox::Column::ProcessedAt.gte(since)),
        )
        .order_by_asc(outbox::Column::DocId)
        .into_tuple()
        .all(db)
        .await?;
    let mut n = 0;
    for chunk in doc_ids.chunks(500) {
        apply_ids(engine, source, chunk).await?;
        n += chunk.len() as u64;
    }
    Ok(n)
}
