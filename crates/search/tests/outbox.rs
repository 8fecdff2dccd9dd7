//! Outbox, worker and reindex against a real database: SQLite by default, PostgreSQL when
//! `TTX_TEST_DATABASE_URL` names an admin connection (a fresh database is created).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use migration::{Migrator, MigratorTrait, SchemaManager};
use sea_orm::{
    ColumnTrait, Database, DatabaseConnection, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder, TransactionTrait,
};
use ttx_search::outbox::{enqueue_many, entity as outbox};
use ttx_search::{
    enqueue, outbox_lag, reindex, DocSource, EmbeddedEngine, EngineStats, IndexName, OutboxWorker,
    Rebuild, SearchDoc, SearchEngine, SearchError, SearchQuery, SearchResults,
};

const IDX: IndexName = "listings";

struct TestDb {
    db: DatabaseConnection,
    _dir: tempfile::TempDir,
    /// (admin url, database name) of a PostgreSQL test database.
    pg: Option<(String, String)>,
}

impl TestDb {
    /// Drops the PostgreSQL test database (SQLite files go with the temp dir).
    async fn cleanup(self) {
        self.db.close().await.ok();
        if let Some((admin_url, name)) = self.pg {
            ttx_testdb::drop_database(&admin_url, &name).await;
        }
    }
}

/// A fresh database with only the search outbox migration applied.
async fn fresh_db() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let fresh = ttx_testdb::from_env(dir.path(), "ttx_search")
        .await
        .unwrap();
    let pg = fresh.pg.clone();
    let db = Database::connect(&fresh.url).await.unwrap();
    let m = Migrator::migrations()
        .into_iter()
        .find(|m| m.name() == "m20261123_000002_search_outbox")
        .expect("search outbox migration registered");
    m.up(&SchemaManager::new(&db)).await.unwrap();
    TestDb { db, _dir: dir, pg }
}

fn doc(id: i64, title: &str) -> SearchDoc {
    SearchDoc {
        id,
        title: title.to_string(),
        summary: String::new(),
        body: String::new(),
        keywords: vec![],
        org_name: None,
        org_id: None,
        field: "new_energy".into(),
        modes: vec!["transfer".into()],
        ip_kinds: vec![],
        status: "published".into(),
        region_code: "440305".into(),
        region_prefixes: ttx_search::region_prefixes("440305"),
        dual_use: false,
        trl: Some(5),
        amount_min: None,
        amount_max: None,
        negotiable: true,
        published_at: 1_700_000_000 + id,
        deadline: None,
        tags: vec![],
    }
}

type ScanHook = Box<dyn FnOnce(&MemSource) + Send>;

/// An in-memory "database table" of documents.
struct MemSource {
    docs: Mutex<BTreeMap<i64, SearchDoc>>,
    fail: AtomicBool,
    scans: AtomicUsize,
    /// Runs on the second `scan` call (to change data in the middle of a reindex).
    on_second_scan: Mutex<Option<ScanHook>>,
    db: Option<DatabaseConnection>,
    mid_scan_enqueue: Mutex<Vec<i64>>,
}

impl MemSource {
    fn new(n: i64) -> Arc<MemSource> {
        Arc::new(MemSource {
            docs: Mutex::new(
                (1..=n)
                    .map(|i| (i, doc(i, &format!("锂离子电池 {i}"))))
                    .collect(),
            ),
            fail: AtomicBool::new(false),
            scans: AtomicUsize::new(0),
            on_second_scan: Mutex::new(None),
            db: None,
            mid_scan_enqueue: Mutex::new(vec![]),
        })
    }
    fn set(&self, d: SearchDoc) {
        self.docs.lock().unwrap().insert(d.id, d);
    }
    fn remove(&self, id: i64) {
        self.docs.lock().unwrap().remove(&id);
    }
}

#[async_trait]
impl DocSource for MemSource {
    fn index(&self) -> IndexName {
        IDX
    }
    async fn load(&self, ids: &[i64]) -> Result<Vec<(i64, Option<SearchDoc>)>, SearchError> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(SearchError::Source("source down".into()));
        }
        let docs = self.docs.lock().unwrap();
        Ok(ids.iter().map(|id| (*id, docs.get(id).cloned())).collect())
    }
    async fn scan(
        &self,
        after_id: Option<i64>,
        limit: usize,
    ) -> Result<Vec<SearchDoc>, SearchError> {
        if self.scans.fetch_add(1, Ordering::SeqCst) == 1 {
            let hook = self.on_second_scan.lock().unwrap().take();
            if let Some(h) = hook {
                h(self);
            }
            let ids: Vec<i64> = std::mem::take(&mut *self.mid_scan_enqueue.lock().unwrap());
            if let Some(db) = &self.db {
                enqueue_many(db, IDX, &ids).await?;
            }
        }
        let docs = self.docs.lock().unwrap();
        Ok(docs
            .range(after_id.map_or(i64::MIN, |a| a + 1)..)
            .take(limit)
            .map(|(_, d)| d.clone())
            .collect())
    }
    async fn count(&self) -> Result<u64, SearchError> {
        Ok(self.docs.lock().unwrap().len() as u64)
    }
}

/// Wraps an engine and fails writes on demand.
struct Flaky {
    inner: EmbeddedEngine,
    fail: AtomicBool,
    /// Successful upserts and deletes so far.
    writes: AtomicUsize,
}

#[async_trait]
impl SearchEngine for Flaky {
    fn kind(&self) -> &'static str {
        "flaky"
    }
    async fn upsert(&self, index: IndexName, docs: Vec<SearchDoc>) -> Result<(), SearchError> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(SearchError::Engine("engine down".into()));
        }
        self.inner.upsert(index, docs).await?;
        self.writes.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
    async fn delete(&self, index: IndexName, ids: &[i64]) -> Result<(), SearchError> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(SearchError::Engine("engine down".into()));
        }
        self.inner.delete(index, ids).await?;
        self.writes.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
    async fn search(&self, i: IndexName, q: &SearchQuery) -> Result<SearchResults, SearchError> {
        self.inner.search(i, q).await
    }
    async fn count(&self, index: IndexName) -> Result<u64, SearchError> {
        self.inner.count(index).await
    }
    async fn stats(&self) -> Result<EngineStats, SearchError> {
        self.inner.stats().await
    }
    async fn rebuild(&self, index: IndexName) -> Result<Box<dyn Rebuild>, SearchError> {
        self.inner.rebuild(index).await
    }
}

fn engine() -> (Arc<Flaky>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let e = Arc::new(Flaky {
        inner: EmbeddedEngine::open(dir.path()).unwrap(),
        fail: AtomicBool::new(false),
        writes: AtomicUsize::new(0),
    });
    (e, dir)
}

async fn ids_for(engine: &dyn SearchEngine, text: &str) -> Vec<i64> {
    let q = SearchQuery {
        limit: 100,
        ..SearchQuery::text(text)
    };
    let mut ids: Vec<i64> = engine
        .search(IDX, &q)
        .await
        .unwrap()
        .hits
        .iter()
        .map(|h| h.id)
        .collect();
    ids.sort();
    ids
}

async fn rows(db: &DatabaseConnection) -> Vec<outbox::Model> {
    outbox::Entity::find()
        .order_by_asc(outbox::Column::Id)
        .all(db)
        .await
        .unwrap()
}

#[tokio::test]
async fn migration_gives_autoincrement_ids() {
    let t = fresh_db().await;
    enqueue(&t.db, IDX, 10).await.unwrap();
    enqueue(&t.db, IDX, 11).await.unwrap();
    let r = rows(&t.db).await;
    assert_eq!(r.len(), 2);
    assert!(r[0].id >= 1 && r[1].id == r[0].id + 1, "{r:?}");
    assert_eq!(r[0].attempts, 0);
    assert!(r[0].processed_at.is_none() && r[0].next_attempt_at.is_none());
    if t.db.get_database_backend() == sea_orm::DatabaseBackend::Sqlite {
        let sql = SqlRow::find_by_statement(sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Sqlite,
            "SELECT sql FROM sqlite_master WHERE name = 'search_outbox'",
        ))
        .one(&t.db)
        .await
        .unwrap()
        .unwrap()
        .sql;
        assert!(
            sql.contains("\"id\" integer NOT NULL PRIMARY KEY AUTOINCREMENT"),
            "{sql}"
        );
    }
    // And down again.
    let m = Migrator::migrations()
        .into_iter()
        .find(|m| m.name() == "m20261123_000002_search_outbox")
        .unwrap();
    m.down(&SchemaManager::new(&t.db)).await.unwrap();
    t.cleanup().await;
}

#[derive(Debug, FromQueryResult)]
struct SqlRow {
    sql: String,
}

#[tokio::test]
async fn enqueue_follows_the_transaction() {
    let t = fresh_db().await;
    let txn = t.db.begin().await.unwrap();
    enqueue(&txn, IDX, 1).await.unwrap();
    txn.rollback().await.unwrap();
    assert!(rows(&t.db).await.is_empty());
    let txn = t.db.begin().await.unwrap();
    enqueue(&txn, IDX, 1).await.unwrap();
    txn.commit().await.unwrap();
    assert_eq!(rows(&t.db).await.len(), 1);
    t.cleanup().await;
}

#[tokio::test]
async fn worker_applies_current_state_dedupes_and_deletes() {
    let t = fresh_db().await;
    let (engine, _d) = engine();
    let source = MemSource::new(3);
    let worker = OutboxWorker::new(t.db.clone(), engine.clone(), [source.clone() as _]);
    enqueue_many(&t.db, IDX, &[1, 2, 2, 3, 99]).await.unwrap();
    assert_eq!(outbox_lag(&t.db).await.unwrap().pending, 5);
    assert_eq!(worker.drain_once().await.unwrap(), 5);
    assert_eq!(engine.count(IDX).await.unwrap(), 3);
    let lag = outbox_lag(&t.db).await.unwrap();
    assert_eq!(lag.pending, 0);
    assert_eq!(lag.oldest_pending_age_secs, None);
    assert!(rows(&t.db).await.iter().all(|r| r.processed_at.is_some()));

    // An old note never brings back old data: the worker reads the current state.
    source.set(doc(2, "固态电池 v2"));
    enqueue(&t.db, IDX, 2).await.unwrap();
    enqueue(&t.db, IDX, 2).await.unwrap();
    assert_eq!(worker.drain_once().await.unwrap(), 2);
    assert_eq!(ids_for(engine.as_ref(), "固态电池").await, vec![2]);

    // Gone from the source → deleted from the index.
    source.remove(3);
    enqueue(&t.db, IDX, 3).await.unwrap();
    worker.drain_once().await.unwrap();
    assert_eq!(engine.count(IDX).await.unwrap(), 2);
    assert_eq!(worker.drain_once().await.unwrap(), 0);
    t.cleanup().await;
}

/// Caches of database reads hear of a change before the engine shows it (a search must never
/// find the new version and then take the old one from a cache).
#[tokio::test]
async fn before_apply_hears_each_group_before_the_engine_writes_it() {
    let t = fresh_db().await;
    let (engine, _d) = engine();
    let source = MemSource::new(3);
    // (index, ids, engine writes before the call)
    type Heard = Vec<(String, Vec<i64>, usize)>;
    let heard: Arc<Mutex<Heard>> = Arc::default();
    let (h, e) = (heard.clone(), engine.clone());
    let worker = OutboxWorker::new(t.db.clone(), engine.clone(), [source.clone() as _])
        .with_before_apply(Arc::new(move |index, ids| {
            let writes = e.writes.load(Ordering::SeqCst);
            h.lock()
                .unwrap()
                .push((index.to_string(), ids.to_vec(), writes));
        }));
    enqueue_many(&t.db, IDX, &[2, 1, 2]).await.unwrap();
    worker.drain_once().await.unwrap();
    assert_eq!(
        *heard.lock().unwrap(),
        vec![("listings".to_string(), vec![2, 1], 0)]
    );
    assert_eq!(engine.writes.load(Ordering::SeqCst), 1);
    source.remove(1);
    enqueue(&t.db, IDX, 1).await.unwrap();
    worker.drain_once().await.unwrap();
    assert_eq!(
        heard.lock().unwrap()[1],
        ("listings".to_string(), vec![1], 1)
    );
    assert_eq!(engine.writes.load(Ordering::SeqCst), 2);
    t.cleanup().await;
}

#[tokio::test]
async fn failures_back_off_and_retry() {
    // Time moves on the clock the worker reads, never by rewriting timestamps in the database.
    let clock = ttx_core::Clock::manual();
    clock
        .clone()
        .scope(async move {
            let t = fresh_db().await;
            let (engine, _d) = engine();
            let source = MemSource::new(2);
            let worker = OutboxWorker::new(t.db.clone(), engine.clone(), [source.clone() as _]);
            enqueue_many(&t.db, IDX, &[1, 2]).await.unwrap();
            enqueue(&t.db, "unknown_index", 7).await.unwrap();

            engine.fail.store(true, Ordering::SeqCst);
            assert_eq!(worker.drain_once().await.unwrap(), 0);
            let r = rows(&t.db).await;
            assert!(r
                .iter()
                .all(|r| r.processed_at.is_none() && r.attempts == 1));
            assert!(r.iter().all(|r| r.next_attempt_at.unwrap() > clock.now()));
            assert!(r[0].last_error.as_deref().unwrap().contains("engine down"));
            assert!(r[2]
                .last_error
                .as_deref()
                .unwrap()
                .contains("no document source"));
            // Not due yet.
            engine.fail.store(false, Ordering::SeqCst);
            assert_eq!(worker.drain_once().await.unwrap(), 0);

            // Make them due: the listings rows are applied, the unknown index fails again.
            clock.advance(chrono::Duration::seconds(2));
            assert_eq!(worker.drain_once().await.unwrap(), 2);
            assert_eq!(engine.count(IDX).await.unwrap(), 2);
            let unknown = outbox::Entity::find()
                .filter(outbox::Column::IndexName.eq("unknown_index"))
                .one(&t.db)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(unknown.attempts, 2);
            assert!(unknown.processed_at.is_none());
            let lag = outbox_lag(&t.db).await.unwrap();
            assert_eq!(lag.pending, 1);
            assert!(lag.oldest_pending_age_secs.unwrap() >= 0.0);

            // A failing source counts as a failure too.
            source.fail.store(true, Ordering::SeqCst);
            enqueue(&t.db, IDX, 1).await.unwrap();
            assert_eq!(worker.drain_once().await.unwrap(), 0);
            t.cleanup().await;
        })
        .await;
}

#[tokio::test]
async fn spawned_worker_reacts_to_notify_and_stops() {
    let t = fresh_db().await;
    let (engine, _d) = engine();
    let source = MemSource::new(1);
    let worker = Arc::new(
        OutboxWorker::new(t.db.clone(), engine.clone(), [source.clone() as _])
            .with_poll_interval(Duration::from_secs(30)),
    );
    let (tx, rx) = tokio::sync::watch::channel(false);
    let handle = worker.clone().spawn(rx);
    tokio::time::sleep(Duration::from_millis(200)).await;
    enqueue(&t.db, IDX, 1).await.unwrap();
    worker.notify();
    let mut ok = false;
    for _ in 0..100 {
        if engine.count(IDX).await.unwrap() == 1 {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ok, "notified worker did not apply the change");
    tx.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), handle)
        .await
        .expect("worker stops on shutdown")
        .unwrap();
    t.cleanup().await;
}

#[tokio::test]
async fn prune_removes_old_processed_rows() {
    // Time moves on the clock the worker reads, never by rewriting timestamps in the database.
    let clock = ttx_core::Clock::manual();
    clock
        .clone()
        .scope(async move {
            let t = fresh_db().await;
            let (engine, _d) = engine();
            let source = MemSource::new(2);
            let worker = OutboxWorker::new(t.db.clone(), engine.clone(), [source.clone() as _]);
            // Applied two days ago, applied now, pending: only the first is old enough to go.
            enqueue(&t.db, IDX, 1).await.unwrap();
            worker.drain_once().await.unwrap();
            clock.advance(chrono::Duration::days(2));
            enqueue(&t.db, IDX, 2).await.unwrap();
            worker.drain_once().await.unwrap();
            enqueue(&t.db, IDX, 1).await.unwrap();
            assert_eq!(worker.prune().await.unwrap(), 1);
            assert_eq!(rows(&t.db).await.len(), 2);
            t.cleanup().await;
        })
        .await;
}

#[tokio::test]
async fn reindex_rebuilds_and_catches_up() {
    let t = fresh_db().await;
    let (engine, _d) = engine();
    let mut src = MemSource::new(2_500);
    Arc::get_mut(&mut src).unwrap().db = Some(t.db.clone());
    // Stale index content that the rebuild must drop.
    engine
        .upsert(IDX, vec![doc(9_999, "stale obsoletexyz")])
        .await
        .unwrap();
    // Processed history before the rebuild.
    enqueue(&t.db, IDX, 1).await.unwrap();
    let worker = OutboxWorker::new(t.db.clone(), engine.clone(), [src.clone() as _]);
    worker.drain_once().await.unwrap();

    // During the scan: doc 5 (already scanned) changes, doc 7 is removed, doc 3000 is
    // added; their notes are enqueued (and even applied to the old index by the worker).
    *src.on_second_scan.lock().unwrap() = Some(Box::new(|s: &MemSource| {
        s.set(doc(5, "钙钛矿 新标题"));
        s.remove(7);
        s.set(doc(3_000, "氮化镓 新成果"));
        s.mid_scan_enqueue.lock().unwrap().extend([5, 7, 3_000]);
    }));
    let progress = Mutex::new(Vec::new());
    let report = reindex(&t.db, engine.as_ref(), src.as_ref(), |done, total| {
        progress.lock().unwrap().push((done, total))
    })
    .await
    .unwrap();
    assert_eq!(report.expected, 2_500);
    assert!(report.caught_up >= 3, "{report:?}");
    let p = progress.into_inner().unwrap();
    assert_eq!(p.first(), Some(&(0, 2_500)));
    assert!(p.len() >= 3, "{p:?}");
    assert_eq!(engine.count(IDX).await.unwrap(), 2_500);
    assert_eq!(ids_for(engine.as_ref(), "钙钛矿").await, vec![5]);
    assert_eq!(ids_for(engine.as_ref(), "氮化镓").await, vec![3_000]);
    assert!(ids_for(engine.as_ref(), "obsoletexyz").await.is_empty());
    let seven = engine
        .search(
            IDX,
            &SearchQuery {
                limit: 100,
                ..SearchQuery::text("7")
            },
        )
        .await
        .unwrap();
    assert!(seven.hits.iter().all(|h| h.id != 7));

    // The worker keeps working against the new generation.
    src.set(doc(1, "石墨烯 更新"));
    enqueue(&t.db, IDX, 1).await.unwrap();
    assert!(worker.drain_once().await.unwrap() >= 1);
    assert_eq!(ids_for(engine.as_ref(), "石墨烯").await, vec![1]);
    t.cleanup().await;
}
