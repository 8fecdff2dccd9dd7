//! The embedded engine: tantivy + jieba, no server needed.
//!
//! # On-disk layout
//!
//! ```text
//! <root>/<index>/CURRENT        "g000003\n" — the live generation (written atomically)
//! <root>/<index>/g000003/       a complete tantivy index
//! <root>/<index>/g000002/       the previous generation (RETIRED marker, removed later)
//! ```
//!
//! # Generations and the reindex protocol
//!
//! Tantivy allows one writer per index directory, and a rebuild must not disturb the index
//! being served. So every rebuild writes a **new generation directory** and then flips the
//! `CURRENT` pointer:
//!
//! 1. [`SearchEngine::rebuild`] creates `g<max+1>` with `create_dir` (atomic, so two
//!    builders never share a directory) and takes the tantivy writer lock of *that*
//!    directory only. A separate process (the `ttx reindex` CLI) can do this while the
//!    server keeps serving and writing the live generation.
//! 2. [`Rebuild::swap`] commits, then replaces `CURRENT` by writing `CURRENT.tmp.*`, syncing
//!    it and renaming it over `CURRENT`; the old generation gets a `RETIRED` marker.
//! 3. Every engine re-reads `CURRENT` before each write (under its write lock) and at most
//!    once per [`EmbeddedOptions::pointer_check_interval`] before a search, or at once on
//!    [`EmbeddedEngine::reload`]. When it changed, the engine opens the new generation,
//!    switches reader and writer to it and drops its writer of the old one.
//! 4. Retired generations are deleted [`EmbeddedOptions::retired_grace`] after retirement
//!    (by whichever engine next opens or switches the index), so an engine that has not
//!    noticed the flip yet is never left without files. Abandoned rebuild directories are
//!    removed when the [`Rebuild`] is dropped, or after a day if the builder crashed.
//!
//! Rules for a second process: only ever *write* to a generation it created through
//! `rebuild`; after `swap` it may write to the new live generation (the catch-up of
//! [`crate::reindex()`]), and must then release the writer ([`SearchEngine::release`],
//! which `reindex` does) or exit, so the server can take that generation's writer lock —
//! until then the server's writes fail with [`SearchError::Locked`] and the outbox retries
//! them every two seconds.
//!
//! # Concurrency
//!
//! Searches run in `spawn_blocking` on a shared, manually reloaded reader. Writes are
//! serialised by a mutex per index; each `upsert`/`delete` call commits and reloads the
//! reader, so its changes are visible when it returns (batching is the caller's job).

mod collector;
pub mod en_zh;
mod lineage;
mod query;
mod results;
mod schema;
pub mod tokenizer;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use tantivy::query::TermSetQuery;
use tantivy::schema::Value;
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term};

use self::collector::{MainCollector, NumericFilter, SegmentCache, SortKey};
use self::lineage::{Change, Lineage};
use self::schema::Fields;
use crate::engine::{DocFreqs, Rebuild, SearchEngine};
use crate::{
    doc::validate_index_name, highlight, next_cursor, EngineStats, Hit, IndexName, IndexStats,
    SearchDoc, SearchError, SearchQuery, SearchResults,
};

const POINTER: &str = "CURRENT";
const RETIRED: &str = "RETIRED";
/// Tantivy's lower bound on the writer memory per indexing thread (15 MB) plus margin.
const MIN_HEAP_PER_THREAD: usize = 16_000_000;
const TITLE_MAX_CHARS: usize = 200;
const SUMMARY_MAX_CHARS: usize = 120;

/// Tuning of the embedded engine.
#[derive(Clone, Debug)]
pub struct EmbeddedOptions {
    /// Total memory budget of one index writer, in bytes.
    pub writer_heap_bytes: usize,
    /// Indexing threads per writer.
    pub writer_threads: usize,
    /// How often a search checks whether another process flipped the live generation.
    pub pointer_check_interval: Duration,
    /// How long a retired generation is kept before it is deleted.
    pub retired_grace: Duration,
}

impl Default for EmbeddedOptions {
    fn default() -> Self {
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .clamp(1, 2);
        EmbeddedOptions {
            writer_heap_bytes: 64 * 1024 * 1024 * threads,
            writer_threads: threads,
            pointer_check_interval: Duration::from_secs(1),
            retired_grace: Duration::from_secs(60),
        }
    }
}

/// The embedded (tantivy) search engine. Cheap to clone.
#[derive(Clone)]
pub struct EmbeddedEngine {
    inner: Arc<Inner>,
}

struct Inner {
    root: PathBuf,
    opts: EmbeddedOptions,
    slots: Mutex<HashMap<String, Arc<Slot>>>,
}

/// One logical index: its directory and live generation.
struct Slot {
    dir: PathBuf,
    live: RwLock<Arc<Generation>>,
    last_check: Mutex<Instant>,
    /// Serialises writes and generation switches.
    write: Mutex<()>,
}

/// One physical tantivy index.
struct Generation {
    name: String,
    path: PathBuf,
    index: Index,
    fields: Fields,
    reader: IndexReader,
    writer: Mutex<Option<IndexWriter>>,
    cache: SegmentCache,
    /// Answers of recent searches.
    answers: results::ResultCache,
    /// What each recent reload made visible, to carry answers over commits (see [`lineage`]).
    /// Held only to record a reload or to read the records: searches never wait for a commit.
    lineage: Mutex<Lineage<Searcher>>,
    /// Held across a commit and the reload that shows it, and across any other reload, so that
    /// no other reload can show a commit first and pass it off as a merge.
    reloads: Mutex<()>,
    /// Grows when a commit may have gone unrecorded (see [`lineage`]).
    writer_epoch: AtomicU64,
    index_analyzer: TextAnalyzer,
    query_analyzer: TextAnalyzer,
    /// Modification time of `meta.json` when the reader was last reloaded.
    meta_seen: Mutex<Option<SystemTime>>,
    /// A background reload is running.
    reloading: AtomicBool,
}

/// Most terms a block-max WAND pass is run over when only the top is wanted (measured on the
/// matching bench at 100k listings: a whole need of ~150 words, hundreds of terms over the text and
/// character-pair fields, took 1.4 s per request with WAND against 0.3 s scoring every match,
/// while its 24 heaviest words took 0.1 s with WAND).
const MAX_WAND_TERMS: usize = 160;

/// The top `collector.k` of the query of `groups` and `filters` by block-max WAND over its
/// bound terms (see [`collector::top_by_score`]).
fn wand_top(
    infos: &query::TermInfos<'_>,
    fields: &Fields,
    groups: &[query::Group],
    any_word: bool,
    filters: &crate::Filters,
    terms: Vec<(tantivy::Term, f32)>,
    collector: &MainCollector,
) -> Result<Vec<collector::Entry>, SearchError> {
    let bound = query::bound_query(terms);
    let plan = query::exact_plan(fields, groups, any_word);
    let filter = query::all_of(query::filter_queries(fields, filters));
    Ok(collector::top_by_score(
        infos,
        &collector.data,
        &plan,
        filter.as_deref(),
        &*bound,
        collector.k,
        &collector.numeric,
    )?)
}

/// Which of the equivalent ways to rank by score a search may take (the ranking is the same
/// either way, see the tests below).
#[derive(Clone, Copy, Debug)]
struct Paths {
    /// Every word required, or filters: walk the matches of [`query::match_query`] once and score
    /// each by [`query::exact_plan`] (needs `any_text`). On the 1M bench this made the mixed and
    /// filtered queries faster than the scored query's per-word unions.
    exact: bool,
    /// One word (or any word) with no filter but the status (every public search has that
    /// one): count the matches without scoring, then the top k by block-max WAND, the status
    /// checked on its candidates only. On the 1M bench (`ttx-bench search --listings 1000000`)
    /// this took the HTTP p95 from 33.5–34.1 to 28.3 ms and a single common word's from 41.8
    /// to 32.5 ms, with the same top 10 for every query; at 100k nothing was slower. Filters
    /// that narrow the matches (field, region, TRL …) still take the exact pass, which measured
    /// faster for them.
    wand: bool,
    /// On the pruned path, a one-word query's matches are counted from its postings and the
    /// decoded statuses ([`collector::count_union`]) instead of by running its match query.
    /// `TTX_SEARCH_COUNT=0` runs the match query instead (to compare the two).
    count: bool,
}

impl Paths {
    /// `TTX_SEARCH_PRUNE=1` turns both on, `=0` both off; unset: both when the index has
    /// `any_text`.
    fn default_for(fields: &Fields) -> Paths {
        static ON: std::sync::OnceLock<Option<bool>> = std::sync::OnceLock::new();
        let forced = *ON.get_or_init(|| match std::env::var("TTX_SEARCH_PRUNE").as_deref() {
            Ok("1") => Some(true),
            Ok("0") => Some(false),
            _ => None,
        });
        static COUNT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        let count = *COUNT.get_or_init(|| std::env::var("TTX_SEARCH_COUNT").as_deref() != Ok("0"));
        let on = forced.unwrap_or(fields.any_text.is_some());
        Paths {
            exact: on,
            wand: on,
            count: on && count,
        }
    }

    #[cfg(test)]
    fn all(on: bool) -> Paths {
        Paths {
            exact: on,
            wand: on,
            count: on,
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn gen_name(n: u64) -> String {
    format!("g{n:06}")
}

fn parse_gen(name: &str) -> Option<u64> {
    let digits = name.strip_prefix('g')?;
    if digits.len() < 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Existing generation numbers in an index directory.
fn list_gens(dir: &Path) -> std::io::Result<Vec<u64>> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir)? {
        let e = e?;
        if e.file_type()?.is_dir() {
            if let Some(n) = e.file_name().to_str().and_then(parse_gen) {
                out.push(n);
            }
        }
    }
    out.sort_unstable();
    Ok(out)
}

fn read_pointer(dir: &Path) -> std::io::Result<Option<String>> {
    match fs::read_to_string(dir.join(POINTER)) {
        Ok(s) => {
            let name = s.trim();
            if parse_gen(name).is_some() {
                Ok(Some(name.to_string()))
            } else {
                Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("bad generation pointer {:?}", dir.join(POINTER)),
                ))
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn write_tmp(dir: &Path, contents: &str) -> std::io::Result<PathBuf> {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let tmp = dir.join(format!("{POINTER}.tmp.{}.{nanos}", std::process::id()));
    let mut f = fs::File::create(&tmp)?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()?;
    Ok(tmp)
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Atomically replaces the pointer.
fn write_pointer(dir: &Path, gen: &str) -> std::io::Result<()> {
    let tmp = write_tmp(dir, &format!("{gen}\n"))?;
    fs::rename(&tmp, dir.join(POINTER))?;
    sync_dir(dir);
    Ok(())
}

/// Creates the pointer only if there is none; returns whether it was created.
fn create_pointer(dir: &Path, gen: &str) -> std::io::Result<bool> {
    let tmp = write_tmp(dir, &format!("{gen}\n"))?;
    let res = fs::hard_link(&tmp, dir.join(POINTER));
    let _ = fs::remove_file(&tmp);
    match res {
        Ok(()) => {
            sync_dir(dir);
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

/// Creates the next generation directory (atomically reserved with `create_dir`).
fn reserve_gen(dir: &Path) -> std::io::Result<(String, PathBuf)> {
    let mut n = list_gens(dir)?.last().copied().unwrap_or(0) + 1;
    loop {
        let name = gen_name(n);
        let path = dir.join(&name);
        match fs::create_dir(&path) {
            Ok(()) => return Ok((name, path)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => n += 1,
            Err(e) => return Err(e),
        }
    }
}

fn dir_size(path: &Path) -> u64 {
    let mut total = 0;
    if let Ok(rd) = fs::read_dir(path) {
        for e in rd.flatten() {
            match e.metadata() {
                Ok(m) if m.is_dir() => total += dir_size(&e.path()),
                Ok(m) => total += m.len(),
                Err(_) => {}
            }
        }
    }
    total
}

impl Generation {
    fn open_index(name: String, path: PathBuf, index: Index) -> Result<Generation, SearchError> {
        tokenizer::register(&index);
        let fields = schema::fields_of(&index.schema())?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let mut lineage = Lineage::default();
        let first = reader.searcher();
        lineage.record(
            first.generation().generation_id(),
            0,
            Change::Unknown,
            first,
        );
        let index_analyzer = index
            .tokenizers()
            .get(tokenizer::INDEX_ANALYZER)
            .ok_or_else(|| SearchError::Engine("index analyzer not registered".into()))?;
        let query_analyzer = index
            .tokenizers()
            .get(tokenizer::QUERY_ANALYZER)
            .ok_or_else(|| SearchError::Engine("query analyzer not registered".into()))?;
        Ok(Generation {
            name,
            path,
            index,
            fields,
            reader,
            writer: Mutex::new(None),
            cache: SegmentCache::default(),
            answers: results::ResultCache::new(results::configured_entries()),
            lineage: Mutex::new(lineage),
            reloads: Mutex::new(()),
            writer_epoch: AtomicU64::new(0),
            index_analyzer,
            query_analyzer,
            meta_seen: Mutex::new(None),
            reloading: AtomicBool::new(false),
        })
    }

    fn open(name: &str, path: PathBuf) -> Result<Generation, SearchError> {
        let index = Index::open_in_dir(&path)?;
        Generation::open_index(name.to_string(), path, index)
    }

    fn create(name: String, path: PathBuf) -> Result<Generation, SearchError> {
        let (schema, _) = schema::build();
        let index = Index::create_in_dir(&path, schema)?;
        Generation::open_index(name, path, index)
    }

    /// Runs `f` with this generation's writer, opening it if needed.
    fn with_writer<R>(
        &self,
        opts: &EmbeddedOptions,
        f: impl FnOnce(&mut IndexWriter) -> Result<R, SearchError>,
    ) -> Result<R, SearchError> {
        let mut guard = lock(&self.writer);
        if guard.is_none() {
            let threads = opts.writer_threads.clamp(1, 8);
            let heap = opts.writer_heap_bytes.max(threads * MIN_HEAP_PER_THREAD);
            let w: IndexWriter = self.index.writer_with_num_threads(threads, heap)?;
            // Fewer, larger segments: every query pays per segment (term lookups, scorers,
            // collectors). Merging at 4 segments per level instead of tantivy's 8 keeps a
            // 100k-listing index at about half the segments for a little more merge work.
            let mut policy = tantivy::indexer::LogMergePolicy::default();
            policy.set_min_num_segments(4);
            w.set_merge_policy(Box::new(policy));
            // With the directory lock now held, no other process can commit. If the reader
            // already shows the last commit on disk, none did while no writer was held either,
            // and the answers carried so far stay sound: the chain goes on.
            let seen = self.shows_last_commit().unwrap_or(false);
            *guard = Some(w);
            if !seen {
                self.writer_epoch.fetch_add(1, AtomicOrdering::AcqRel);
            }
        }
        let w = guard.as_mut().expect("writer just opened");
        match f(w) {
            Ok(r) => Ok(r),
            Err(e) => {
                // Discard half-applied operations so that the next call starts clean.
                if w.rollback().is_err() {
                    *guard = None;
                }
                Err(e)
            }
        }
    }

    /// Whether the reader's searcher shows exactly the segments (and deletions) of the last
    /// commit on disk.
    fn shows_last_commit(&self) -> Result<bool, SearchError> {
        let mut on_disk: Vec<_> = self
            .index
            .searchable_segment_metas()?
            .iter()
            .map(|m| (m.id(), m.delete_opstamp()))
            .collect();
        let mut shown: Vec<_> = self
            .reader
            .searcher()
            .segment_readers()
            .iter()
            .map(|r| (r.segment_id(), r.delete_opstamp()))
            .collect();
        on_disk.sort_unstable();
        shown.sort_unstable();
        Ok(on_disk == shown)
    }

    /// Runs `f` with the writer, commits, and makes the commit visible. `ids` are the
    /// documents the commit changes (`None`: not known). `reloads` is held from before the
    /// commit until the reload that shows it is recorded, so no other reload can show the
    /// commit first and pass it off as a merge; searches meanwhile read the lineage freely.
    fn commit_with(
        &self,
        opts: &EmbeddedOptions,
        ids: Option<Vec<i64>>,
        f: impl FnOnce(&mut IndexWriter) -> Result<(), SearchError>,
    ) -> Result<(), SearchError> {
        let gate = lock(&self.reloads);
        let committed = self.with_writer(opts, |w| {
            f(w)?;
            w.commit()?;
            Ok(())
        });
        if let Err(e) = committed {
            // A failed commit may have published part of itself: the next reload, whatever
            // its cause, cannot vouch for what it shows.
            self.writer_epoch.fetch_add(1, AtomicOrdering::AcqRel);
            return Err(e);
        }
        let epoch = self.writer_epoch.load(AtomicOrdering::Acquire);
        let searcher = self.reload(&gate, ids.map_or(Change::Unknown, Change::Ids), epoch)?;
        drop(gate);
        self.warm(&searcher)
    }

    /// Makes merged segments (or another process's commit) visible: a merge when this process
    /// holds the writer, otherwise not known.
    fn after_commit(&self) -> Result<(), SearchError> {
        let gate = lock(&self.reloads);
        let (change, epoch) = if lock(&self.writer).is_some() {
            (
                Change::Merge,
                self.writer_epoch.load(AtomicOrdering::Acquire),
            )
        } else {
            (Change::Unknown, 0)
        };
        let searcher = self.reload(&gate, change, epoch)?;
        drop(gate);
        self.warm(&searcher)
    }

    /// Reloads the reader and records what the new searcher shows (with `reloads` held). A
    /// reload that fails leaves what it was to show unrecorded: the epoch moves on, so that
    /// the next reload cannot pass it off as a merge.
    fn reload(
        &self,
        _reloads: &MutexGuard<'_, ()>,
        change: Change,
        epoch: u64,
    ) -> Result<Searcher, SearchError> {
        *lock(&self.meta_seen) = self.meta_mtime();
        if let Err(e) = self.reader.reload() {
            self.writer_epoch.fetch_add(1, AtomicOrdering::AcqRel);
            return Err(e.into());
        }
        let searcher = self.reader.searcher();
        lock(&self.lineage).record(
            searcher.generation().generation_id(),
            epoch,
            change,
            searcher.clone(),
        );
        Ok(searcher)
    }

    /// Decodes the new segments' fast fields now, so that the writer pays for it rather than
    /// the next search.
    fn warm(&self, searcher: &Searcher) -> Result<(), SearchError> {
        self.cache.retain(searcher);
        self.cache.warm(searcher)?;
        Ok(())
    }

    fn upsert(&self, opts: &EmbeddedOptions, docs: &[SearchDoc]) -> Result<(), SearchError> {
        let ids = docs.iter().map(|d| d.id).collect();
        self.commit_with(opts, Some(ids), |w| {
            for d in docs {
                w.delete_term(Term::from_field_i64(self.fields.id, d.id));
                w.add_document(schema::to_tantivy(&self.fields, d))?;
            }
            Ok(())
        })
    }

    fn delete(&self, opts: &EmbeddedOptions, ids: &[i64]) -> Result<(), SearchError> {
        self.commit_with(opts, Some(ids.to_vec()), |w| {
            for id in ids {
                w.delete_term(Term::from_field_i64(self.fields.id, *id));
            }
            Ok(())
        })
    }

    fn meta_mtime(&self) -> Option<SystemTime> {
        fs::metadata(self.path.join("meta.json"))
            .and_then(|m| m.modified())
            .ok()
    }

    /// Background merges publish merged segments in `meta.json` without a commit of ours;
    /// the manually reloaded reader only sees them after a reload. When `meta.json` changed,
    /// reload (and decode the merged segments) on a helper thread.
    fn reload_if_merged(self: &Arc<Self>) {
        let m = self.meta_mtime();
        if m.is_none() || m == *lock(&self.meta_seen) {
            return;
        }
        if self.reloading.swap(true, AtomicOrdering::AcqRel) {
            return;
        }
        let gen = self.clone();
        let spawned = std::thread::Builder::new()
            .name("ttx-search-reload".into())
            .spawn(move || {
                if let Err(e) = gen.after_commit() {
                    tracing::warn!(generation = %gen.name, error = %e, "reloading index reader");
                }
                gen.reloading.store(false, AtomicOrdering::Release);
            });
        if spawned.is_err() {
            self.reloading.store(false, AtomicOrdering::Release);
        }
    }

    /// Drops the writer (releasing the directory lock) after background merges finish.
    fn close_writer(&self) {
        if let Some(w) = lock(&self.writer).take() {
            if let Err(e) = w.wait_merging_threads() {
                tracing::warn!(generation = %self.name, error = %e, "closing index writer");
            }
        }
    }

    /// Total, facets and top k of the query of `groups` and `filters`.
    ///
    /// * Not ranked by score: one pass over [`query::match_query`] (one posting list per word).
    /// * Ranked by score with one word, or any of the words: the top k come from a pruned pass
    ///   (block-max WAND, [`collector::top_by_score`]) and the total and facets from a pass over
    ///   the match query that visits every match without scoring. (With every word required,
    ///   the intersection is small, and WAND over a union of the words would yield documents
    ///   that lack some of them: one pass scores the intersection.)
    /// * `top_only` (no facets asked for): only the pruned pass runs, and the total is the
    ///   number of hits it kept (a lower bound). This is what makes a whole need, sent as a
    ///   query of a hundred words, cheap: WAND skips the documents that cannot reach the top k.
    #[allow(clippy::too_many_arguments)]
    fn collect(
        &self,
        infos: &query::TermInfos<'_>,
        groups: &[query::Group],
        filters: &crate::Filters,
        any_word: bool,
        collector: &MainCollector,
        paths: Paths,
        top_only: bool,
    ) -> Result<collector::Collected, SearchError> {
        let searcher = infos.searcher();
        let scored = || {
            query::combine(
                &self.fields,
                groups,
                any_word,
                query::filter_queries(&self.fields, filters),
            )
        };
        let matching = || {
            query::match_query(
                &self.fields,
                groups,
                any_word,
                query::filter_queries(&self.fields, filters),
            )
            .unwrap_or_else(scored)
        };
        if collector.sort != SortKey::Score {
            return Ok(searcher.search(&*matching(), collector)?);
        }
        let prunable = !groups.is_empty() && (groups.len() == 1 || any_word) && collector.k > 0;
        // Filters other than the status (which nearly every document of a public search
        // passes): these make the matches few, and scoring each of them is cheaper than pruning.
        let narrowed =
            collector.numeric.narrows() || !query::filter_queries(&self.fields, filters).is_empty();
        let filtered = narrowed || !filters.statuses.is_empty();
        if self.fields.any_text.is_some()
            && paths.exact
            && !groups.is_empty()
            && !(top_only && collector.facets.is_empty())
            && (!prunable || if paths.wand { narrowed } else { filtered })
        {
            // Every word required, or filters that narrow the matches: they are few next to the
            // words' postings; walk them once and score each exactly.
            let plan = query::exact_plan(&self.fields, groups, any_word);
            return Ok(collector::collect_exact(
                infos,
                collector,
                &*matching(),
                &plan,
            )?);
        }
        let tq = scored();
        if prunable && top_only && collector.facets.is_empty() {
            let terms = query::bound_terms(&self.fields, groups);
            if terms.len() > MAX_WAND_TERMS {
                // WAND re-sorts its term cursors at every step: over a few hundred terms (a
                // whole need of a hundred words, in every field) it is slower than scoring
                // every match once.
                return Ok(searcher.search(&*tq, collector)?);
            }
            let top = wand_top(
                infos,
                &self.fields,
                groups,
                any_word,
                filters,
                terms,
                collector,
            )?;
            return Ok(collector::Collected {
                total: top.len() as u64,
                top,
                facets: Default::default(),
            });
        }
        if !(prunable && paths.wand) {
            return Ok(searcher.search(&*tq, collector)?);
        }
        let counter = MainCollector {
            data: collector.data.clone(),
            sort: SortKey::Newest,
            k: 0,
            facets: collector.facets.clone(),
            numeric: collector.numeric.clone(),
        };
        // With no filter but the status, a one-word query's matches are a union of postings:
        // counted without a query per document (see `collector::count_union`).
        let union = (!narrowed)
            .then(|| query::union_terms(&self.fields, groups, any_word))
            .flatten();
        let mut counted = match union {
            Some(terms) if paths.count => collector::count_union(infos, &counter, &terms)?,
            _ => searcher.search(&*matching(), &counter)?,
        };
        if counted.total > 0 {
            let terms = query::bound_terms(&self.fields, groups);
            counted.top = wand_top(
                infos,
                &self.fields,
                groups,
                any_word,
                filters,
                terms,
                collector,
            )?;
        }
        Ok(counted)
    }

    /// The answer to `q`, from the result cache when the same query ran on the current
    /// searcher (see [`results`]).
    fn search(&self, q: &SearchQuery) -> Result<SearchResults, SearchError> {
        let searcher = self.reader.searcher();
        let generation = searcher.generation().generation_id();
        let key = self.answers.key(q);
        if let Some(k) = &key {
            match self.answers.get(generation, k) {
                results::Lookup::Hit(r) => return Ok(r),
                results::Lookup::Stale(from, r) => match self.refusal(q, from, &searcher)? {
                    None => {
                        self.answers.carried(k, from, generation);
                        return Ok(r);
                    }
                    Some(why) => self.answers.missed(why),
                },
                results::Lookup::Miss => {}
            }
        }
        let r = self.search_on(&searcher, q, Paths::default_for(&self.fields))?;
        if let Some(k) = key {
            self.answers.put(generation, k, &r);
        }
        Ok(r)
    }

    #[cfg(test)]
    fn search_with(&self, q: &SearchQuery, paths: Paths) -> Result<SearchResults, SearchError> {
        self.search_on(&self.reader.searcher(), q, paths)
    }

    /// Why the answer to `q` computed on searcher generation `from` may not be the answer on
    /// `now`, or `None` when it is: every reload between them is known (see [`lineage`]), and
    /// no document changed since matches `q` on either searcher, before or after its change.
    /// The check is wider than the search (any of the words, the term filters, no numeric
    /// filter), so it can only refuse too often; the query's words must also resolve to the
    /// same groups on both, as a changed document can bring a word the dictionary lacked.
    fn refusal(
        &self,
        q: &SearchQuery,
        from: u64,
        now: &Searcher,
    ) -> Result<Option<results::Refused>, SearchError> {
        use results::Refused;
        let to = now.generation().generation_id();
        let changes = lock(&self.lineage).changes(from, to);
        let Some((old, ids)) = changes else {
            return Ok(Some(Refused::Unknown));
        };
        if ids.is_empty() {
            return Ok(None);
        }
        let before = self.groups(&query::TermInfos::new(&old), q)?;
        let after = self.groups(&query::TermInfos::new(now), q)?;
        if before != after
            || self.any_matches(&old, q, &before, &ids)?
            || self.any_matches(now, q, &after, &ids)?
        {
            return Ok(Some(Refused::Touched));
        }
        Ok(None)
    }

    /// The groups of `q`'s words on the searcher of `infos` (none without text).
    fn groups(
        &self,
        infos: &query::TermInfos<'_>,
        q: &SearchQuery,
    ) -> Result<Vec<query::Group>, SearchError> {
        let Some(t) = q.text_trimmed() else {
            return Ok(Vec::new());
        };
        let (mut qa, mut ia) = (self.query_analyzer.clone(), self.index_analyzer.clone());
        Ok(query::text_groups(
            &self.fields,
            infos,
            &mut qa,
            &mut ia,
            t,
        )?)
    }

    /// Whether a live document with one of `ids` matches any of `groups` and `q`'s term filters.
    fn any_matches(
        &self,
        searcher: &Searcher,
        q: &SearchQuery,
        groups: &[query::Group],
        ids: &[i64],
    ) -> Result<bool, SearchError> {
        let filters = || {
            let mut f = query::filter_queries(&self.fields, &q.filters);
            f.push(Box::new(TermSetQuery::new(
                ids.iter()
                    .map(|id| Term::from_field_i64(self.fields.id, *id)),
            )) as Box<dyn tantivy::query::Query>);
            f
        };
        // The scored query's matches, one posting list per word (see `match_query`).
        let wide = query::match_query(&self.fields, groups, true, filters())
            .unwrap_or_else(|| query::combine(&self.fields, groups, true, filters()));
        Ok(searcher.search(&*wide, &tantivy::collector::Count)? > 0)
    }

    fn search_on(
        &self,
        searcher: &tantivy::Searcher,
        q: &SearchQuery,
        paths: Paths,
    ) -> Result<SearchResults, SearchError> {
        let offset = q.offset()?;
        let limit = q.effective_limit();
        let data = self.cache.for_searcher(searcher)?;

        let infos = query::TermInfos::new(searcher);
        let groups = self.groups(&infos, q)?;
        let has_text = !groups.is_empty();
        let collector = MainCollector {
            data,
            sort: SortKey::for_order(q.sort, has_text),
            k: offset + limit,
            facets: q.facets.clone(),
            numeric: NumericFilter::from_filters(&q.filters),
        };
        let long_terms =
            (q.long_text && has_text && q.facets.is_empty() && collector.sort == SortKey::Score)
                .then(|| query::long_text_terms(&self.fields, &groups))
                .flatten();
        if let Some(terms) = long_terms {
            let filter = query::all_of(query::filter_queries(&self.fields, &q.filters));
            let top = collector::top_by_terms(
                &infos,
                &collector.data,
                &terms,
                filter.as_deref(),
                &collector.numeric,
                collector.k,
            )?;
            let collected = collector::Collected {
                total: top.len() as u64,
                top,
                facets: Default::default(),
            };
            return self.results(searcher, q, &groups, offset, limit, collected);
        }
        let mut collected = if groups.is_empty()
            && query::filter_queries(&self.fields, &q.filters).is_empty()
            && collector.numeric.is_empty()
        {
            collector::collect_all(searcher, &collector.data, &collector)?
        } else {
            self.collect(
                &infos, &groups, &q.filters, q.any_word, &collector, paths, q.top_only,
            )?
        };
        if collected.total == 0 && groups.len() > 1 && !q.any_word {
            // No document has every word: rank documents having some of them.
            collected = self.collect(
                &infos, &groups, &q.filters, true, &collector, paths, q.top_only,
            )?;
        }

        self.results(searcher, q, &groups, offset, limit, collected)
    }

    /// The page of `collected` from `offset`, with highlights when asked for.
    fn results(
        &self,
        searcher: &tantivy::Searcher,
        q: &SearchQuery,
        groups: &[query::Group],
        offset: usize,
        limit: usize,
        collected: collector::Collected,
    ) -> Result<SearchResults, SearchError> {
        let has_text = !groups.is_empty();
        let terms: HashSet<String> = query::highlight_terms(groups)
            .into_iter()
            .map(|(t, _)| t)
            .collect();
        let mut hits = Vec::with_capacity(limit);
        for e in collected.top.into_iter().skip(offset) {
            let mut highlights = BTreeMap::new();
            if q.highlight && !terms.is_empty() {
                let doc: TantivyDocument = searcher.doc(e.address)?;
                for (field, name, max) in [
                    (self.fields.title, "title", TITLE_MAX_CHARS),
                    (self.fields.summary, "summary", SUMMARY_MAX_CHARS),
                ] {
                    if let Some(text) = doc.get_first(field).and_then(|v| v.as_str()) {
                        if let Some(h) = highlight::highlight_terms(text, &terms, max) {
                            highlights.insert(name.to_string(), h);
                        }
                    }
                }
            }
            hits.push(Hit {
                id: e.id,
                score: if has_text { e.score } else { 0.0 },
                highlights,
            });
        }
        Ok(SearchResults {
            next_cursor: next_cursor(offset, hits.len(), collected.total),
            hits,
            total: collected.total,
            facets: collected.facets,
        })
    }
}

impl Slot {
    fn live(&self) -> Arc<Generation> {
        self.live.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl EmbeddedEngine {
    /// Opens (or creates) the engine rooted at `dir`. Indexes are opened on first use.
    pub fn open(dir: &Path) -> Result<EmbeddedEngine, SearchError> {
        EmbeddedEngine::open_with(dir, EmbeddedOptions::default())
    }

    /// Like [`EmbeddedEngine::open`] with explicit options.
    pub fn open_with(dir: &Path, opts: EmbeddedOptions) -> Result<EmbeddedEngine, SearchError> {
        fs::create_dir_all(dir)?;
        // Load the dictionary now rather than on the first request.
        let _ = tokenizer::jieba();
        Ok(EmbeddedEngine {
            inner: Arc::new(Inner {
                root: dir.to_path_buf(),
                opts,
                slots: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    /// Re-reads every open index's generation pointer now and switches to a generation
    /// another process made live.
    pub async fn reload(&self) -> Result<(), SearchError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let slots: Vec<Arc<Slot>> = lock(&inner.slots).values().cloned().collect();
            for slot in slots {
                let _w = lock(&slot.write);
                inner.refresh_locked(&slot)?;
            }
            Ok(())
        })
        .await?
    }

    /// The name of the live generation of an index (e.g. `"g000002"`).
    pub async fn live_generation(&self, index: IndexName) -> Result<String, SearchError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || Ok(inner.slot(index)?.live().name.clone())).await?
    }

    /// Approximate memory held by the per-segment fast-field caches, in bytes.
    pub fn cache_bytes(&self) -> usize {
        lock(&self.inner.slots)
            .values()
            .map(|s| s.live().cache.bytes())
            .sum()
    }
}

impl Inner {
    /// The slot of an index, opening or creating it.
    fn slot(&self, name: &str) -> Result<Arc<Slot>, SearchError> {
        validate_index_name(name)?;
        let mut slots = lock(&self.slots);
        if let Some(s) = slots.get(name) {
            return Ok(s.clone());
        }
        let dir = self.root.join(name);
        fs::create_dir_all(&dir)?;
        let gen = loop {
            if let Some(g) = read_pointer(&dir)? {
                break Generation::open(&g, dir.join(&g))?;
            }
            let (g, path) = reserve_gen(&dir)?;
            let created = Generation::create(g.clone(), path.clone())?;
            if create_pointer(&dir, &g)? {
                break created;
            }
            // Another process created the index at the same time: use theirs.
            drop(created);
            let _ = fs::remove_dir_all(&path);
        };
        self.collect_garbage(&dir, &gen.name);
        let slot = Arc::new(Slot {
            dir,
            live: RwLock::new(Arc::new(gen)),
            last_check: Mutex::new(Instant::now()),
            write: Mutex::new(()),
        });
        slots.insert(name.to_string(), slot.clone());
        Ok(slot)
    }

    /// Switches to the generation named by the pointer if it changed. Caller holds
    /// `slot.write`.
    fn refresh_locked(&self, slot: &Slot) -> Result<(), SearchError> {
        *lock(&slot.last_check) = Instant::now();
        let Some(name) = read_pointer(&slot.dir)? else {
            return Ok(());
        };
        let current = slot.live();
        if current.name == name {
            return Ok(());
        }
        let next = Arc::new(Generation::open(&name, slot.dir.join(&name))?);
        tracing::info!(from = %current.name, to = %name, dir = %slot.dir.display(),
            "search index switched to a new generation");
        *slot.live.write().unwrap_or_else(|e| e.into_inner()) = next;
        current.close_writer();
        self.collect_garbage(&slot.dir, &name);
        Ok(())
    }

    /// Cheap, rate-limited pointer check before a search; skipped while a write runs.
    fn maybe_refresh(&self, slot: &Slot) {
        if lock(&slot.last_check).elapsed() < self.opts.pointer_check_interval {
            return;
        }
        let Ok(_w) = slot.write.try_lock() else {
            return;
        };
        if let Err(e) = self.refresh_locked(slot) {
            tracing::warn!(error = %e, dir = %slot.dir.display(), "checking index generation");
        }
        slot.live().reload_if_merged();
    }

    /// Deletes retired generations past their grace period and abandoned builds older
    /// than a day. Never touches `live`.
    fn collect_garbage(&self, dir: &Path, live: &str) {
        let Some(live_n) = parse_gen(live) else {
            return;
        };
        let Ok(gens) = list_gens(dir) else { return };
        let now = SystemTime::now();
        let age = |p: &Path| {
            fs::metadata(p)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| now.duration_since(t).ok())
        };
        for n in gens {
            if n == live_n {
                continue;
            }
            let path = dir.join(gen_name(n));
            let remove = if n < live_n {
                match age(&path.join(RETIRED)) {
                    Some(a) => a >= self.opts.retired_grace,
                    // Older than live but never marked (crash between flip and mark).
                    None => {
                        let _ = fs::write(path.join(RETIRED), b"");
                        false
                    }
                }
            } else {
                age(&path).is_some_and(|a| a >= Duration::from_secs(24 * 3600))
            };
            if remove {
                match fs::remove_dir_all(&path) {
                    Ok(()) => {
                        tracing::info!(path = %path.display(), "removed old index generation")
                    }
                    Err(e) => tracing::warn!(path = %path.display(), error = %e,
                        "could not remove old index generation"),
                }
            }
        }
    }

    fn upsert(&self, index: &str, docs: &[SearchDoc]) -> Result<(), SearchError> {
        let slot = self.slot(index)?;
        let _w = lock(&slot.write);
        self.refresh_locked(&slot)?;
        slot.live().upsert(&self.opts, docs)
    }

    fn delete(&self, index: &str, ids: &[i64]) -> Result<(), SearchError> {
        let slot = self.slot(index)?;
        let _w = lock(&slot.write);
        self.refresh_locked(&slot)?;
        slot.live().delete(&self.opts, ids)
    }

    fn search(&self, index: &str, q: &SearchQuery) -> Result<SearchResults, SearchError> {
        let slot = self.slot(index)?;
        self.maybe_refresh(&slot);
        slot.live().search(q)
    }

    fn count(&self, index: &str) -> Result<u64, SearchError> {
        let slot = self.slot(index)?;
        self.maybe_refresh(&slot);
        Ok(slot.live().reader.searcher().num_docs())
    }

    fn doc_freqs(&self, index: &str, terms: &[String]) -> Result<DocFreqs, SearchError> {
        let slot = self.slot(index)?;
        self.maybe_refresh(&slot);
        let gen = slot.live();
        let searcher = gen.reader.searcher();
        let fields: Vec<tantivy::schema::Field> = match gen.fields.any_text {
            // exact: the documents having the word in any text field
            Some(a) => vec![a],
            // a lower bound: the most in one field
            None => schema::text_fields(&gen.fields).map(|(f, _)| f).to_vec(),
        };
        let mut freqs = Vec::with_capacity(terms.len());
        for t in terms {
            let mut n = 0;
            for f in &fields {
                n = n.max(searcher.doc_freq(&Term::from_field_text(*f, t))?);
            }
            freqs.push(n);
        }
        Ok(DocFreqs {
            docs: searcher.num_docs(),
            freqs,
        })
    }

    fn stats(&self) -> Result<EngineStats, SearchError> {
        let mut names: Vec<String> = Vec::new();
        for e in fs::read_dir(&self.root)?.flatten() {
            if e.path().join(POINTER).exists() {
                if let Some(n) = e.file_name().to_str() {
                    if validate_index_name(n).is_ok() {
                        names.push(n.to_string());
                    }
                }
            }
        }
        let mut indexes = BTreeMap::new();
        for n in names {
            let slot = self.slot(&n)?;
            self.maybe_refresh(&slot);
            let gen = slot.live();
            indexes.insert(
                n,
                IndexStats {
                    docs: gen.reader.searcher().num_docs(),
                    bytes_on_disk: Some(dir_size(&gen.path)),
                    generation: Some(gen.name.clone()),
                    segments: Some(gen.reader.searcher().segment_readers().len() as u64),
                    result_cache: Some(gen.answers.counts()),
                },
            );
        }
        Ok(EngineStats {
            kind: "embedded".into(),
            indexes,
        })
    }
}

#[async_trait]
impl SearchEngine for EmbeddedEngine {
    fn kind(&self) -> &'static str {
        "embedded"
    }

    async fn upsert(&self, index: IndexName, docs: Vec<SearchDoc>) -> Result<(), SearchError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || inner.upsert(index, &docs)).await?
    }

    async fn delete(&self, index: IndexName, ids: &[i64]) -> Result<(), SearchError> {
        let inner = self.inner.clone();
        let ids = ids.to_vec();
        tokio::task::spawn_blocking(move || inner.delete(index, &ids)).await?
    }

    async fn search(
        &self,
        index: IndexName,
        q: &SearchQuery,
    ) -> Result<SearchResults, SearchError> {
        let inner = self.inner.clone();
        let q = q.clone();
        tokio::task::spawn_blocking(move || inner.search(index, &q)).await?
    }

    async fn count(&self, index: IndexName) -> Result<u64, SearchError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || inner.count(index)).await?
    }

    async fn stats(&self) -> Result<EngineStats, SearchError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || inner.stats()).await?
    }

    async fn doc_freqs(
        &self,
        index: IndexName,
        terms: &[String],
    ) -> Result<Option<DocFreqs>, SearchError> {
        let inner = self.inner.clone();
        let terms = terms.to_vec();
        tokio::task::spawn_blocking(move || inner.doc_freqs(index, &terms).map(Some)).await?
    }

    async fn release(&self, index: IndexName) -> Result<(), SearchError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let slot = inner.slot(index)?;
            let _w = lock(&slot.write);
            slot.live().close_writer();
            Ok(())
        })
        .await?
    }

    async fn rebuild(&self, index: IndexName) -> Result<Box<dyn Rebuild>, SearchError> {
        let inner = self.inner.clone();
        let (slot, gen) = tokio::task::spawn_blocking(move || {
            let slot = inner.slot(index)?;
            let (name, path) = reserve_gen(&slot.dir)?;
            match Generation::create(name, path.clone()) {
                Ok(g) => Ok((slot, Arc::new(g))),
                Err(e) => {
                    let _ = fs::remove_dir_all(&path);
                    Err(e)
                }
            }
        })
        .await??;
        Ok(Box::new(EmbeddedRebuild {
            inner: self.inner.clone(),
            slot,
            gen: Some(gen),
        }))
    }
}

/// A generation being built (see the module docs).
struct EmbeddedRebuild {
    inner: Arc<Inner>,
    slot: Arc<Slot>,
    /// `None` once swapped.
    gen: Option<Arc<Generation>>,
}

#[async_trait]
impl Rebuild for EmbeddedRebuild {
    async fn add(&mut self, docs: Vec<SearchDoc>) -> Result<(), SearchError> {
        let gen = self.gen.clone().expect("rebuild already swapped");
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            gen.with_writer(&inner.opts, |w| {
                for d in &docs {
                    w.delete_term(Term::from_field_i64(gen.fields.id, d.id));
                    w.add_document(schema::to_tantivy(&gen.fields, d))?;
                }
                Ok(())
            })
        })
        .await?
    }

    async fn swap(mut self: Box<Self>) -> Result<(), SearchError> {
        let gen = self.gen.take().expect("rebuild already swapped");
        let inner = self.inner.clone();
        let slot = self.slot.clone();
        let res = tokio::task::spawn_blocking(move || {
            gen.commit_with(&inner.opts, None, |_| Ok(()))?;
            let _w = lock(&slot.write);
            // Switch to whatever is live now first, so that the generation we retire is
            // the one actually being replaced.
            inner.refresh_locked(&slot)?;
            let old = slot.live();
            write_pointer(&slot.dir, &gen.name)?;
            fs::write(old.path.join(RETIRED), b"")?;
            *slot.live.write().unwrap_or_else(|e| e.into_inner()) = gen.clone();
            *lock(&slot.last_check) = Instant::now();
            old.close_writer();
            inner.collect_garbage(&slot.dir, &gen.name);
            tracing::info!(from = %old.name, to = %gen.name, dir = %slot.dir.display(),
                "search index rebuilt and swapped");
            Ok::<_, SearchError>(())
        })
        .await;
        match res {
            Ok(r) => r,
            Err(e) => Err(e.into()),
        }
    }
}

impl Drop for EmbeddedRebuild {
    fn drop(&mut self) {
        // Abandoned before swap: remove the half-built generation.
        if let Some(gen) = self.gen.take() {
            if let Ok(gen) = Arc::try_unwrap(gen) {
                let path = gen.path.clone();
                gen.close_writer();
                drop(gen);
                let _ = fs::remove_dir_all(&path);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FacetField, Filters, SortOrder};

    fn doc(i: i64) -> SearchDoc {
        const WORDS: [&str; 12] = [
            "电池", "材料", "芯片", "算法", "储能", "催化", "水稻", "图像", "控制", "检测", "合金",
            "网络",
        ];
        // Deterministic variety: titles, keywords and bodies draw different words, so
        // scores spread over many values with some exact ties.
        let w = |k: i64| WORDS[((i * 7 + k * 13 + i / 5) % 12) as usize];
        let title = format!("{}{}的研究", w(1), if i % 3 == 0 { w(2) } else { "" });
        let body = (0..(i % 9))
            .map(|k| format!("{}方法{}", w(k + 3), "。".repeat(1 + (k % 2) as usize)))
            .collect::<String>();
        SearchDoc {
            id: i,
            title,
            summary: format!("关于{}的摘要", w(4)),
            body,
            keywords: vec![w(5).to_string(), w(6).to_string()],
            org_name: None,
            org_id: None,
            field: ["new_energy", "new_materials", "biomedicine"][(i % 3) as usize].into(),
            modes: vec!["transfer".into()],
            ip_kinds: vec![],
            // the first 700 all published; later some withdrawn
            status: if i > 700 && i % 11 == 0 {
                "withdrawn"
            } else {
                "published"
            }
            .into(),
            region_code: "440305".into(),
            region_prefixes: vec!["44".into(), "4403".into()],
            dual_use: false,
            trl: Some(1 + i % 9),
            amount_min: None,
            amount_max: None,
            negotiable: true,
            published_at: 1_700_000_000 + i,
            deadline: None,
            tags: vec![],
        }
    }

    /// An engine whose "listings" index holds `doc(1..=n)`, written `chunk` at a time (one
    /// segment per commit).
    fn filled(n: i64, chunk: usize) -> (tempfile::TempDir, Arc<Inner>) {
        let dir = tempfile::tempdir().unwrap();
        let engine = EmbeddedEngine::open(dir.path()).unwrap();
        let inner = engine.inner.clone();
        for ids in (1..=n).collect::<Vec<i64>>().chunks(chunk) {
            let docs: Vec<SearchDoc> = ids.iter().map(|&i| doc(i)).collect();
            inner.upsert("listings", &docs).unwrap();
        }
        (dir, inner)
    }

    /// A cached answer is carried over a commit whose documents it does not match (before
    /// or after the change), and recomputed after any commit that adds, edits or removes a
    /// match, or whose history is not known. What is served equals a fresh search (ids in
    /// order, total, facets).
    #[test]
    fn answers_are_carried_over_commits_that_do_not_touch_them() {
        let (_dir, inner) = filled(300, 100);
        let gen = || inner.slot("listings").unwrap().live();
        let ask = |text: &str, field: Option<&str>| SearchQuery {
            text: Some(text.into()),
            filters: Filters {
                fields: field.map(String::from).into_iter().collect(),
                statuses: vec!["published".into()],
                ..Filters::default()
            },
            facets: vec![FacetField::Field],
            ..SearchQuery::default()
        };
        let view = |r: &SearchResults| {
            let ids: Vec<i64> = r.hits.iter().map(|h| h.id).collect();
            (ids, r.total, r.facets.clone())
        };
        // Serves `q` through the cache; whether it was carried over, and what it served,
        // checked against a search that bypasses the cache.
        let serve = |q: &SearchQuery| {
            let g = gen();
            let before = g.answers.counts();
            let served = g.search(q).unwrap();
            let after = g.answers.counts();
            let fresh = g
                .search_on(&g.reader.searcher(), q, Paths::default_for(&g.fields))
                .unwrap();
            assert_eq!(view(&served), view(&fresh), "{:?}", q.text);
            (after.carried > before.carried, served)
        };
        let text_doc = |id: i64, title: &str, field: &str| {
            let mut d = doc(id);
            d.title = title.into();
            d.summary = "关于育种的摘要".into();
            d.body = String::new();
            d.keywords = vec!["育种".into()];
            d.field = field.into();
            d
        };
        let battery = ask("电池", None);
        let bio_battery = ask("电池", Some("biomedicine"));
        let (_, first) = serve(&battery);
        assert!(first.total > 0);
        serve(&bio_battery);

        // a new listing without the word: both answers carried over
        inner
            .upsert("listings", &[text_doc(5000, "水稻育种方法", "new_energy")])
            .unwrap();
        assert!(serve(&battery).0);
        assert!(serve(&bio_battery).0);
        // a new listing with the word, in another field than the filter's: only the
        // filtered answer is carried over
        inner
            .upsert("listings", &[text_doc(5001, "电池回收方法", "new_energy")])
            .unwrap();
        let (carried, now) = serve(&battery);
        assert!(!carried);
        assert_eq!(now.total, first.total + 1);
        assert!(serve(&bio_battery).0);
        // the same listing edited so that it no longer says 电池: its old version matched
        inner
            .upsert("listings", &[text_doc(5001, "水稻栽培方法", "new_energy")])
            .unwrap();
        let (carried, now) = serve(&battery);
        assert!(!carried);
        assert_eq!(now.total, first.total);
        // a matching listing removed
        let top = now.hits[0].id;
        inner.delete("listings", &[top]).unwrap();
        let (carried, now) = serve(&battery);
        assert!(!carried);
        assert_eq!(now.total, first.total - 1);
        assert!(now.hits.iter().all(|h| h.id != top));
        // a word no listing had: the first listing that has it changes the answer
        let rare = ask("钙钛矿", None);
        let (_, none) = serve(&rare);
        assert_eq!(none.total, 0);
        inner
            .upsert(
                "listings",
                &[text_doc(5002, "钙钛矿太阳能电池", "new_energy")],
            )
            .unwrap();
        let (carried, found) = serve(&rare);
        assert!(!carried);
        assert_eq!(found.hits.first().map(|h| h.id), Some(5002));
        // the writer closed and opened again, with no other commit in between: carried over
        serve(&battery);
        gen().close_writer();
        inner
            .upsert("listings", &[text_doc(5003, "水稻育种方法", "new_energy")])
            .unwrap();
        assert!(serve(&battery).0);
        // while no writer was held, another process committed (a listing without the word):
        // what this one shows after its next commit cannot be vouched for, so recomputed
        gen().close_writer();
        {
            let other = EmbeddedEngine::open(_dir.path()).unwrap();
            other
                .inner
                .upsert("listings", &[text_doc(5006, "玉米育种方法", "new_energy")])
                .unwrap();
            other.inner.slot("listings").unwrap().live().close_writer();
        }
        inner
            .upsert("listings", &[text_doc(5004, "小麦育种方法", "new_energy")])
            .unwrap();
        assert!(!serve(&battery).0);
        // and carried over again once the writer has been held across the commits
        inner
            .upsert("listings", &[text_doc(5005, "大豆育种方法", "new_energy")])
            .unwrap();
        assert!(serve(&battery).0);
        // each refusal counted with its reason: five touched answers (5001 added, edited, the
        // top match removed, 5002 for both 钙钛矿 and 电池), one unknown history
        let counts = gen().answers.counts();
        assert_eq!((counts.stale_touched, counts.stale_unknown), (5, 1));
    }

    /// The pruned top k (block-max WAND) and the exact scoring of the matches equal scoring
    /// every match through the query's own scorers, with the same total
    /// and facets, over several segments, deletions, filters and pages.
    #[test]
    fn pruned_top_k_equals_exhaustive() {
        let (_dir, inner) = filled(3000, 700);
        // none in the first segment (1..=700), whose documents are all published
        inner.delete("listings", &[705, 717, 1234]).unwrap();
        let gen = inner.slot("listings").unwrap().live();
        assert!(gen.reader.searcher().segment_readers().len() > 1);
        let mut checked = 0;
        // plain words, a one-character fragment (芯) and a pair across a word boundary (池材)
        // found through the gram fields
        for text in [
            "电池",
            "材料",
            "芯片 算法",
            "储能 水稻 网络",
            "合金",
            "芯",
            "池材 网络",
        ] {
            for any_word in [false, true] {
                for (limit, cursor_offset) in [(10, 0), (20, 40)] {
                    for (field, status) in [
                        (None, None),
                        (None, Some("published")),
                        (None, Some("withdrawn")),
                        (Some("new_materials"), None),
                        (Some("new_materials"), Some("published")),
                    ] {
                        let q = SearchQuery {
                            text: Some(text.into()),
                            filters: Filters {
                                fields: field.map(|f| vec![f.to_string()]).unwrap_or_default(),
                                trl_min: field.map(|_| 3),
                                statuses: status.map(|s| vec![s.to_string()]).unwrap_or_default(),
                                ..Filters::default()
                            },
                            facets: if limit == 10 {
                                vec![FacetField::Field, FacetField::Trl]
                            } else {
                                vec![]
                            },
                            sort: SortOrder::Relevance,
                            limit,
                            cursor: (cursor_offset > 0)
                                .then(|| crate::encode_cursor(cursor_offset)),
                            highlight: false,
                            any_word,
                            top_only: false,
                            long_text: false,
                        };
                        let a = gen.search_with(&q, Paths::all(true)).unwrap();
                        let b = gen.search_with(&q, Paths::all(false)).unwrap();
                        assert_eq!(a.total, b.total, "{text} {any_word}");
                        assert_eq!(a.facets, b.facets, "{text}");
                        let ids = |r: &SearchResults| -> Vec<(i64, u32)> {
                            r.hits.iter().map(|h| (h.id, h.score.to_bits())).collect()
                        };
                        assert_eq!(ids(&a), ids(&b), "{text} any_word={any_word}");
                        // the default: exact scoring of the matches, no WAND
                        let c = gen
                            .search_with(
                                &q,
                                Paths {
                                    exact: true,
                                    wand: false,
                                    count: false,
                                },
                            )
                            .unwrap();
                        assert_eq!((c.total, &c.facets), (b.total, &b.facets), "{text}");
                        assert_eq!(ids(&c), ids(&b), "{text} any_word={any_word}");
                        assert!(a.total > 0, "{text} {status:?}");
                        assert_eq!(a.hits.is_empty(), a.total <= cursor_offset as u64, "{text}");
                        // Only the top wanted (matching's candidates): the same hits, no
                        // counting pass, so the total is only a lower bound and no facets.
                        let top = gen
                            .search_with(
                                &SearchQuery {
                                    top_only: true,
                                    facets: vec![],
                                    ..q.clone()
                                },
                                Paths::all(false),
                            )
                            .unwrap();
                        assert_eq!(ids(&top), ids(&b), "top only: {text} any_word={any_word}");
                        assert!(top.total >= top.hits.len() as u64 && top.total <= b.total);
                        assert!(top.facets.is_empty());
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 140);
    }

    /// A long text is ranked term at a time by the summed BM25 of its words in `any_text`:
    /// the same documents, order and scores as tantivy's own scoring of that sum over every
    /// match, with filters and deletions applied, and the words of more than a fifth of the
    /// documents left out when rarer ones remain.
    #[test]
    fn long_texts_rank_by_summed_bm25_over_all_text() {
        use tantivy::collector::TopDocs;
        use tantivy::query::{BooleanQuery, BoostQuery, Occur, TermQuery};
        use tantivy::schema::IndexRecordOption;

        let (_dir, inner) = filled(2000, 600);
        // a rarer word in 60 documents: the common words (each in most documents) then drop out
        let rare: Vec<SearchDoc> = (1..=60)
            .map(|i| {
                let mut d = doc(i * 31);
                d.body.push_str("钙钛矿薄膜");
                d
            })
            .collect();
        inner.upsert("listings", &rare).unwrap();
        inner.delete("listings", &[3, 10, 11, 999, 62]).unwrap();
        let gen = inner.slot("listings").unwrap().live();
        let searcher = gen.reader.searcher();
        assert!(searcher.segment_readers().len() > 1);
        let any_text = gen.fields.any_text.expect("new indexes have any_text");
        for (text, rare_kept) in [
            ("我们厂需要电池材料和储能控制的算法，电池检测也要", false),
            (
                "我们厂需要钙钛矿电池材料和储能控制的算法，电池检测也要",
                true,
            ),
        ] {
            for field in [None, Some("new_energy")] {
                let q = SearchQuery {
                    text: Some(text.into()),
                    filters: Filters {
                        fields: field.map(|f| vec![f.to_string()]).unwrap_or_default(),
                        trl_max: Some(7),
                        ..Filters::default()
                    },
                    limit: 30,
                    any_word: true,
                    top_only: true,
                    long_text: true,
                    ..SearchQuery::default()
                };
                let got = gen.search_with(&q, Paths::all(true)).unwrap();

                // The same sum, scored by tantivy over every match.
                let mut ia = gen.index_analyzer.clone();
                let mut qa = gen.query_analyzer.clone();
                let infos = query::TermInfos::new(&searcher);
                let groups =
                    query::text_groups(&gen.fields, &infos, &mut qa, &mut ia, text).unwrap();
                let mut terms = query::long_text_terms(&gen.fields, &groups).unwrap();
                assert!(
                    terms.iter().all(|(t, _)| t.field() == any_text),
                    "{terms:?}"
                );
                assert!(terms.len() >= 5, "{terms:?}");
                let total: u64 = searcher
                    .segment_readers()
                    .iter()
                    .map(|r| u64::from(r.max_doc()))
                    .sum();
                let common = (total as f64 * collector::LONG_TEXT_MAX_SHARE) as u64;
                let df = |t: &Term| searcher.doc_freq(t).unwrap();
                terms.retain(|(t, _)| df(t) > 0);
                if terms.iter().any(|(t, _)| df(t) <= common) {
                    terms.retain(|(t, _)| df(t) <= common);
                }
                assert_eq!(terms.len() == 1, rare_kept, "{terms:?}");
                let should: Vec<(Occur, Box<dyn tantivy::query::Query>)> = terms
                    .iter()
                    .map(|(t, w)| {
                        let tq = TermQuery::new(t.clone(), IndexRecordOption::WithFreqs);
                        let q: Box<dyn tantivy::query::Query> =
                            Box::new(BoostQuery::new(Box::new(tq), *w));
                        (Occur::Should, q)
                    })
                    .collect();
                let top = searcher
                    .search(
                        &BooleanQuery::new(should),
                        &TopDocs::with_limit(3000).order_by_score(),
                    )
                    .unwrap();
                let want: Vec<(i64, f32)> = top
                    .into_iter()
                    .filter_map(|(score, addr)| {
                        // `id` is a fast field, not stored
                        let id = searcher
                            .segment_reader(addr.segment_ord)
                            .fast_fields()
                            .i64(schema::names::ID)
                            .ok()?
                            .first(addr.doc_id)?;
                        let src = doc(id);
                        let ok =
                            field.is_none_or(|f| src.field == f) && src.trl.is_some_and(|t| t <= 7);
                        ok.then_some((id, score))
                    })
                    .collect();
                assert_eq!(got.hits.len(), want.len().min(30), "{text} {field:?}");
                assert!(!got.hits.is_empty());
                for (i, h) in got.hits.iter().enumerate() {
                    // equal scores may be ordered either way; the scores themselves must agree
                    let (_, s) = want[i];
                    let close = |a: f32, b: f32| (a - b).abs() <= 1e-4 * b.abs();
                    assert!(close(h.score, s), "rank {i}: {} vs {s}", h.score);
                    assert!(want
                        .iter()
                        .any(|(id, s2)| *id == h.id && close(h.score, *s2)));
                }
                assert!(got
                    .hits
                    .iter()
                    .all(|h| ![3, 10, 11, 999, 62].contains(&h.id)));
            }
        }
    }
}
