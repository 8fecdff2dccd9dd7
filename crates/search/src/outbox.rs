//! The search outbox: the database is the truth, the index follows it.
//!
//! Domain code calls [`enqueue`] **inside the transaction** that changes a listing or need,
//! so the "document changed" note commits (or rolls back) with the change itself; a crash
//! loses no update. The [`OutboxWorker`] then takes unprocessed rows in id order, loads the
//! *current* state of each document from its [`DocSource`], and upserts it into the engine
//! (or deletes it when it is no longer publicly searchable). Because it always reads the
//! current state, replaying a row is harmless and an old update can never overwrite a newer
//! one. Several server processes may run a worker each: on PostgreSQL one process at a time
//! applies a batch (an advisory lock, [`applier_lock`]), the others take over within a poll
//! interval when it stops or dies.
//!
//! Failures (engine down, index locked by a running reindex, source error) leave the rows
//! unprocessed with `attempts + 1`, `last_error` and an exponential `next_attempt_at`.
//! Processed rows are pruned after [`OutboxWorker::with_retention`] (a day by default); the
//! reindex catch-up ([`crate::reindex()`]) relies on them being kept for a while.

pub mod entity;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

use self::entity as outbox;
use crate::{IndexName, SearchDoc, SearchEngine, SearchError};

/// Records that document `doc_id` of `index` changed. Call it with the transaction that
/// made the change (`&DatabaseTransaction`), so that both commit together.
pub async fn enqueue<C: ConnectionTrait>(
    conn: &C,
    index: IndexName,
    doc_id: i64,
) -> Result<(), DbErr> {
    enqueue_many(conn, index, &[doc_id]).await
}

/// Like [`enqueue`] for several documents of one index (one `INSERT`).
pub async fn enqueue_many<C: ConnectionTrait>(
    conn: &C,
    index: IndexName,
    doc_ids: &[i64],
) -> Result<(), DbErr> {
    if doc_ids.is_empty() {
        return Ok(());
    }
    let now = ttx_core::clock::now();
    let rows = doc_ids.iter().map(|&doc_id| outbox::ActiveModel {
        id: NotSet,
        index_name: Set(index.to_string()),
        doc_id: Set(doc_id),
        created_at: Set(now),
        attempts: Set(0),
        next_attempt_at: Set(None),
        last_error: Set(None),
        processed_at: Set(None),
    });
    outbox::Entity::insert_many(rows)
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// Where the outbox worker and reindex get the current, public state of documents.
/// Implemented by each domain crate for its index.
#[async_trait]
pub trait DocSource: Send + Sync + 'static {
    /// The index this source feeds.
    fn index(&self) -> IndexName;

    /// Current state of the given documents: `Some(doc)` to index, `None` (or no entry at
    /// all) when the document is gone or no longer publicly searchable, so it is removed
    /// from the index.
    async fn load(&self, ids: &[i64]) -> Result<Vec<(i64, Option<SearchDoc>)>, SearchError>;

    /// All searchable documents with `id > after_id`, in id order, at most `limit`.
    async fn scan(
        &self,
        after_id: Option<i64>,
        limit: usize,
    ) -> Result<Vec<SearchDoc>, SearchError>;

    /// Number of searchable documents (for progress reporting).
    async fn count(&self) -> Result<u64, SearchError>;
}

/// How far the index is behind the database.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OutboxLag {
    /// Unprocessed outbox rows.
    pub pending: u64,
    /// Age of the oldest unprocessed row, in seconds.
    pub oldest_pending_age_secs: Option<f64>,
}

/// Measures the outbox lag and publishes it as the gauges `ttx_search_outbox_pending` and
/// `ttx_search_outbox_oldest_seconds` (0 when nothing is pending).
pub async fn outbox_lag<C: ConnectionTrait>(db: &C) -> Result<OutboxLag, DbErr> {
    let pending = outbox::Entity::find()
        .filter(outbox::Column::ProcessedAt.is_null())
        .count(db)
        .await?;
    let oldest = outbox::Entity::find()
        .filter(outbox::Column::ProcessedAt.is_null())
        .order_by_asc(outbox::Column::Id)
        .one(db)
        .await?;
    let age = oldest.map(|r| {
        let ms = (ttx_core::clock::now() - r.created_at)
            .num_milliseconds()
            .max(0);
        ms as f64 / 1000.0
    });
    metrics::gauge!("ttx_search_outbox_pending").set(pending as f64);
    metrics::gauge!("ttx_search_outbox_oldest_seconds").set(age.unwrap_or(0.0));
    Ok(OutboxLag {
        pending,
        oldest_pending_age_secs: age,
    })
}

/// The highest outbox id so far (0 when empty): the reindex high-water mark.
pub(crate) async fn high_water_mark<C: ConnectionTrait>(db: &C) -> Result<i64, DbErr> {
    Ok(outbox::Entity::find()
        .order_by_desc(outbox::Column::Id)
        .one(db)
        .await?
        .map_or(0, |r| r.id))
}

/// What applying a set of document ids did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Applied {
    pub upserted: usize,
    pub deleted: usize,
}

/// Loads the current state of `ids` from `source` and writes it to the engine.
pub(crate) async fn apply_ids(
    engine: &dyn SearchEngine,
    source: &dyn DocSource,
    ids: &[i64],
) -> Result<Applied, SearchError> {
    let index = source.index();
    let loaded = source.load(ids).await?;
    let wanted: HashSet<i64> = ids.iter().copied().collect();
    let mut seen = HashSet::with_capacity(ids.len());
    let mut docs = Vec::new();
    let mut deletes = Vec::new();
    for (id, doc) in loaded {
        if !wanted.contains(&id) || !seen.insert(id) {
            continue;
        }
        match doc {
            Some(mut d) => {
                d.id = id;
                docs.push(d);
            }
            None => deletes.push(id),
        }
    }
    deletes.extend(ids.iter().filter(|id| !seen.contains(id)));
    deletes.sort_unstable();
    deletes.dedup();
    let applied = Applied {
        upserted: docs.len(),
        deleted: deletes.len(),
    };
    if !docs.is_empty() {
        engine.upsert(index, docs).await?;
    }
    if !deletes.is_empty() {
        engine.delete(index, &deletes).await?;
    }
    Ok(applied)
}

/// Retry delay when the index is locked by another process.
const LOCKED_RETRY: Duration = Duration::from_secs(2);

/// Delay before retry number `attempts` (1-based): 1 s, 2 s, 4 s … capped at 10 minutes.
pub fn backoff(attempts: i32) -> Duration {
    let exp = attempts.clamp(1, 20) as u32 - 1;
    Duration::from_secs((1u64 << exp).min(600))
}

/// Doc ids of one index in first-seen order, and the outbox rows of each.
type DocGroups<'a> = (Vec<i64>, HashMap<i64, Vec<&'a outbox::Model>>);

/// Called with an index and document ids whose committed changes the worker is about to write
/// to the engine ([`OutboxWorker::with_before_apply`]).
pub type BeforeApply = Arc<dyn Fn(&str, &[i64]) + Send + Sync>;

/// Applies outbox rows to the search engine. See the module docs.
pub struct OutboxWorker {
    db: DatabaseConnection,
    engine: Arc<dyn SearchEngine>,
    sources: HashMap<&'static str, Arc<dyn DocSource>>,
    notify: Arc<Notify>,
    batch_size: u64,
    poll_interval: Duration,
    retention: Duration,
    before_apply: Option<BeforeApply>,
}

impl OutboxWorker {
    /// A worker applying rows of the sources' indexes to `engine`.
    pub fn new(
        db: DatabaseConnection,
        engine: Arc<dyn SearchEngine>,
        sources: impl IntoIterator<Item = Arc<dyn DocSource>>,
    ) -> OutboxWorker {
        OutboxWorker {
            db,
            engine,
            sources: sources.into_iter().map(|s| (s.index(), s)).collect(),
            notify: Arc::new(Notify::new()),
            batch_size: 500,
            poll_interval: Duration::from_millis(500),
            retention: Duration::from_secs(24 * 3600),
            before_apply: None,
        }
    }

    /// Calls `f(index, ids)` before each group of changes is written to the engine. The rows
    /// are committed by then, so whatever `f` drops from a cache of database reads is read back
    /// current, before a search can find the new version in the index. (Caches of other
    /// processes learn of the change from the outbox itself, a moment later.)
    pub fn with_before_apply(mut self, f: BeforeApply) -> Self {
        self.before_apply = Some(f);
        self
    }

    /// Rows taken per batch (default 500).
    pub fn with_batch_size(mut self, n: u64) -> Self {
        self.batch_size = n.max(1);
        self
    }

    /// Poll interval when not notified (default 500 ms).
    pub fn with_poll_interval(mut self, d: Duration) -> Self {
        self.poll_interval = d;
        self
    }

    /// How long processed rows are kept (default one day).
    pub fn with_retention(mut self, d: Duration) -> Self {
        self.retention = d;
        self
    }

    /// The engine this worker writes to.
    pub fn engine(&self) -> &Arc<dyn SearchEngine> {
        &self.engine
    }

    /// The registered source of an index.
    pub fn source(&self, index: &str) -> Option<&Arc<dyn DocSource>> {
        self.sources.get(index)
    }

    /// Wakes the worker now (call after committing a transaction that enqueued rows).
    pub fn notify(&self) {
        self.notify.notify_one();
    }

    /// A handle domain code can keep to wake the worker (`notifier.notify_one()`).
    pub fn notifier(&self) -> Arc<Notify> {
        self.notify.clone()
    }

    /// Processes one batch of due rows; returns how many rows were applied and marked
    /// processed. Failed groups stay unprocessed with a backoff (and are not counted).
    pub async fn drain_once(&self) -> Result<usize, SearchError> {
        Ok(self.drain_batch().await?.1)
    }

    /// One batch: (rows fetched, rows marked processed). On PostgreSQL the batch runs while
    /// this process holds the outbox applier lock; another process holding it means this one
    /// skips the batch (see [`applier_lock`]).
    async fn drain_batch(&self) -> Result<(usize, usize), SearchError> {
        let Some(lock) = applier_lock(&self.db).await? else {
            return Ok((0, 0));
        };
        let result = self.drain_locked().await;
        // Release the lock now. Dropping the transaction would only queue its rollback until
        // the connection is next used, and meanwhile the next batch (on another pooled
        // connection) would find the lock still held and skip.
        if let Some(txn) = lock {
            txn.rollback().await?;
        }
        result
    }

    async fn drain_locked(&self) -> Result<(usize, usize), SearchError> {
        let now = ttx_core::clock::now();
        let rows = outbox::Entity::find()
            .filter(outbox::Column::ProcessedAt.is_null())
            .filter(
                Condition::any()
                    .add(outbox::Column::NextAttemptAt.is_null())
                    .add(outbox::Column::NextAttemptAt.lte(now)),
            )
            .order_by_asc(outbox::Column::Id)
            .limit(self.batch_size)
            .all(&self.db)
            .await?;
        let fetched = rows.len();
        if rows.is_empty() {
            return Ok((0, 0));
        }
        // index → doc id → its rows (deduplicated, in first-seen order).
        let mut groups: BTreeMap<String, DocGroups<'_>> = BTreeMap::new();
        for r in &rows {
            let (order, by_doc) = groups.entry(r.index_name.clone()).or_default();
            let e = by_doc.entry(r.doc_id).or_default();
            if e.is_empty() {
                order.push(r.doc_id);
            }
            e.push(r);
        }
        let mut processed = 0;
        for (index, (doc_ids, by_doc)) in groups {
            let group_rows: Vec<&outbox::Model> = by_doc.values().flatten().copied().collect();
            if let Some(f) = &self.before_apply {
                f(index.as_str(), &doc_ids);
            }
            let result = match self.sources.get(index.as_str()) {
                Some(source) => apply_ids(self.engine.as_ref(), source.as_ref(), &doc_ids).await,
                None => Err(SearchError::Source(format!(
                    "no document source registered for index {index:?}"
                ))),
            };
            match result {
                Ok(applied) => {
                    let ids: Vec<i64> = group_rows.iter().map(|r| r.id).collect();
                    mark_processed(&self.db, &ids).await?;
                    processed += ids.len();
                    metrics::counter!("ttx_search_outbox_applied_total", "index" => index.clone())
                        .increment((applied.upserted + applied.deleted) as u64);
                }
                Err(e) => {
                    tracing::warn!(index = %index, docs = doc_ids.len(), error = %e,
                        "search outbox: applying changes failed, will retry");
                    metrics::counter!("ttx_search_outbox_failures_total", "index" => index.clone())
                        .increment(1);
                    // Another process holding the index writer (a reindex finishing) is
                    // brief: retry soon instead of backing off exponentially.
                    let retry = matches!(e, SearchError::Locked(_)).then_some(LOCKED_RETRY);
                    mark_failed(&self.db, &group_rows, &e.to_string(), retry).await?;
                }
            }
        }
        Ok((fetched, processed))
    }

    /// Deletes processed rows older than the retention period; returns how many.
    pub async fn prune(&self) -> Result<u64, DbErr> {
        let cutoff = ttx_core::clock::now()
            - chrono::Duration::from_std(self.retention).unwrap_or(chrono::Duration::days(1));
        let res = outbox::Entity::delete_many()
            .filter(outbox::Column::ProcessedAt.is_not_null())
            .filter(outbox::Column::ProcessedAt.lt(cutoff))
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected)
    }

    /// Runs the worker until `shutdown` becomes `true` (or its sender is dropped): drains
    /// all due rows, publishes the lag gauges, prunes hourly, then sleeps for the poll
    /// interval or until [`OutboxWorker::notify`].
    pub fn spawn(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
        ttx_core::clock::spawn(async move {
            let mut last_prune: Option<Instant> = None;
            loop {
                if *shutdown.borrow() {
                    break;
                }
                loop {
                    match self.drain_batch().await {
                        Ok((fetched, processed))
                            if fetched as u64 >= self.batch_size && processed > 0 =>
                        {
                            if *shutdown.borrow() {
                                break;
                            }
                        }
                        Ok(_) => break,
                        Err(e) => {
                            tracing::warn!(error = %e, "search outbox: batch failed");
                            break;
                        }
                    }
                }
                if let Err(e) = outbox_lag(&self.db).await {
                    tracing::warn!(error = %e, "search outbox: measuring lag failed");
                }
                if last_prune.is_none_or(|t| t.elapsed() >= Duration::from_secs(3600)) {
                    match self.prune().await {
                        Ok(n) if n > 0 => tracing::debug!(rows = n, "search outbox pruned"),
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "search outbox: pruning failed"),
                    }
                    last_prune = Some(Instant::now());
                }
                tokio::select! {
                    _ = self.notify.notified() => {}
                    _ = tokio::time::sleep(self.poll_interval) => {}
                    changed = shutdown.changed() => {
                        if changed.is_err() {
                            break;
                        }
                    }
                }
            }
            tracing::debug!("search outbox worker stopped");
        })
    }
}

/// Key of the PostgreSQL advisory lock held by the process applying the outbox ("TTXOBX").
pub const APPLIER_LOCK_KEY: i64 = 0x5454_584f_4258;

/// Exactly one process applies the outbox at a time: on PostgreSQL a batch is applied inside a
/// transaction holding the advisory lock [`APPLIER_LOCK_KEY`] (`pg_try_advisory_xact_lock`);
/// `None` when another process holds it (this one skips the batch). The lock goes with the
/// transaction — at the end of the batch, or when the process or its connection dies — so
/// another process takes over at its next poll. On SQLite (one process per database file) the
/// lock is not needed: `Some` with no transaction.
pub async fn applier_lock(
    db: &DatabaseConnection,
) -> Result<Option<Option<sea_orm::DatabaseTransaction>>, DbErr> {
    use sea_orm::TransactionTrait;
    if db.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
        return Ok(Some(None));
    }
    let txn = db.begin().await?;
    let row = txn
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT pg_try_advisory_xact_lock($1) AS held",
            [APPLIER_LOCK_KEY.into()],
        ))
        .await?;
    let held: bool = match row {
        Some(r) => r.try_get("", "held")?,
        None => false,
    };
    if held {
        Ok(Some(Some(txn)))
    } else {
        txn.rollback().await?;
        Ok(None)
    }
}

async fn mark_processed(db: &DatabaseConnection, ids: &[i64]) -> Result<(), DbErr> {
    let now = ttx_core::clock::now();
    for chunk in ids.chunks(500) {
        outbox::Entity::update_many()
            .col_expr(outbox::Column::ProcessedAt, Expr::value(now))
            .col_expr(
                outbox::Column::LastError,
                Expr::value(Option::<String>::None),
            )
            .filter(outbox::Column::Id.is_in(chunk.iter().copied()))
            .exec(db)
            .await?;
    }
    Ok(())
}

async fn mark_failed(
    db: &DatabaseConnection,
    rows: &[&outbox::Model],
    error: &str,
    retry_after: Option<Duration>,
) -> Result<(), DbErr> {
    use sea_orm::sea_query::ExprTrait as _;
    let now = ttx_core::clock::now();
    let error: String = error.chars().take(2000).collect();
    // Rows of a group usually share their attempt count: one UPDATE per distinct count.
    let mut by_attempts: BTreeMap<i32, Vec<i64>> = BTreeMap::new();
    for r in rows {
        by_attempts.entry(r.attempts).or_default().push(r.id);
    }
    for (attempts, ids) in by_attempts {
        let next = attempts.saturating_add(1);
        let delay = retry_after.unwrap_or_else(|| backoff(next));
        let at = now + chrono::Duration::from_std(delay).unwrap_or_default();
        for chunk in ids.chunks(500) {
            outbox::Entity::update_many()
                .col_expr(
                    outbox::Column::Attempts,
                    Expr::col(outbox::Column::Attempts).add(1),
                )
                .col_expr(outbox::Column::NextAttemptAt, Expr::value(at))
                .col_expr(outbox::Column::LastError, Expr::value(error.clone()))
                .filter(outbox::Column::Id.is_in(chunk.iter().copied()))
                .exec(db)
                .await?;
        }
    }
    Ok(())
}
