//! One-pass collection of the total, the facet counts and the top `offset + limit` hits.
//!
//! Per segment, the values the collector needs for every document (id, sort keys, facet
//! values) are decoded once from the columnar fast fields into plain arrays
//! ([`SegmentData`]) and cached by segment id: segments are immutable, deletions are applied
//! by tantivy's alive bitset before documents reach the collector. Collecting a document is
//! then a handful of array reads, so facets over 100k matches cost a few milliseconds.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::StrColumn;
use tantivy::index::SegmentId;

use tantivy::fieldnorm::FieldNormReader;
use tantivy::postings::{Postings, SegmentPostings};
use tantivy::query::{Bm25Weight, EnableScoring, Query};
use tantivy::schema::Field;
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, DocId, Score, Searcher, SegmentOrdinal, SegmentReader};
use tantivy::{DocSet, Term};

use super::query::{Plan, SegmentInfos, TermInfos, TIE_BREAKER};
use super::schema::names;
use crate::{FacetField, SortOrder};
use tantivy::postings::TermInfo;

/// Decoded per-document values of one segment.
pub struct SegmentData {
    ids: Vec<i64>,
    newest: Vec<u64>,
    amount_asc: Vec<u64>,
    amount_desc: Vec<u64>,
    deadline_asc: Vec<u64>,
    /// Values for the numeric filters applied in the collector (see [`NumericFilter`]).
    trl: Vec<i8>,
    amount_lo: Vec<i64>,
    amount_hi: Vec<i64>,
    deadline: Vec<i64>,
    flags: Vec<u8>,
    /// CSR of facet value indices: values of doc `d` are `facet_vals[offsets[d]..offsets[d+1]]`.
    offsets: Vec<u32>,
    facet_vals: Vec<u32>,
    /// Facet value index → (facet, value).
    facet_table: Vec<(FacetField, String)>,
    /// Each document's status, as an index into `status_names` ([`NO_STATUS`] without one).
    status: Vec<u8>,
    status_names: Vec<String>,
    /// Documents (deleted ones included) per status, as `status_names`.
    status_docs: Vec<u32>,
    /// Doc ids ordered best first for each non-score sort key (built on first use).
    sorted: [OnceLock<Vec<u32>>; 4],
    /// Facet counts over all alive documents, with the deleted-doc count they are for.
    all_counts: Mutex<Option<(u32, Arc<Vec<u32>>)>>,
}

/// Sentinel for "no value" in the numeric filter arrays.
const NONE: i64 = i64::MIN;
/// A document without a status (or with more distinct statuses in its segment than a `u8`
/// indexes, which the status enums never come near).
const NO_STATUS: u8 = u8::MAX;
const FLAG_DUAL_USE: u8 = 1;
const FLAG_NEGOTIABLE: u8 = 2;

/// The numeric filters (TRL, amount, deadline, dual-use), checked per document against
/// the cached arrays: much cheaper than range queries over optional fast-field columns.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NumericFilter {
    trl: Option<(i64, i64)>,
    /// Wanted range and whether negotiable documents pass.
    amount: Option<(i64, i64, bool)>,
    deadline: Option<(i64, i64)>,
    dual_use: Option<bool>,
    /// Wanted statuses (any, when empty): checked against each segment's decoded statuses
    /// (see [`NumericFilter::bind`]) instead of intersecting every match with the posting list
    /// of a status that nearly every document of a public search has.
    statuses: Vec<String>,
}

/// A [`NumericFilter`] bound to one segment: the wanted statuses resolved to the segment's
/// own status indices.
#[derive(Clone, Debug)]
pub struct SegmentFilter {
    numeric: Option<NumericFilter>,
    /// Whether each of the segment's statuses passes; `None` when every document's does.
    statuses: Option<Vec<bool>>,
}

impl SegmentFilter {
    #[inline]
    fn matches(&self, data: &SegmentData, d: usize) -> bool {
        if let Some(ok) = &self.statuses {
            if !ok
                .get(usize::from(data.status[d]))
                .copied()
                .unwrap_or(false)
            {
                return false;
            }
        }
        self.numeric.as_ref().is_none_or(|f| f.matches(data, d))
    }

    /// No document of the segment can pass.
    fn rejects_all(&self) -> bool {
        self.statuses.as_ref().is_some_and(|ok| !ok.contains(&true))
    }
}

impl NumericFilter {
    /// The numeric part of `f`.
    pub fn from_filters(f: &crate::Filters) -> NumericFilter {
        NumericFilter {
            trl: (f.trl_min.is_some() || f.trl_max.is_some())
                .then(|| (f.trl_min.unwrap_or(i64::MIN), f.trl_max.unwrap_or(i64::MAX))),
            amount: f.has_amount().then(|| {
                (
                    f.amount_min.unwrap_or(i64::MIN),
                    f.amount_max.unwrap_or(i64::MAX),
                    f.include_negotiable,
                )
            }),
            deadline: (f.deadline_from.is_some() || f.deadline_to.is_some()).then(|| {
                (
                    f.deadline_from.unwrap_or(i64::MIN + 1),
                    f.deadline_to.unwrap_or(i64::MAX),
                )
            }),
            dual_use: f.dual_use,
            statuses: f.statuses.clone(),
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == NumericFilter::default()
    }

    /// Whether a filter other than the status is set (one that makes the matches few).
    pub fn narrows(&self) -> bool {
        self.trl.is_some()
            || self.amount.is_some()
            || self.deadline.is_some()
            || self.dual_use.is_some()
    }

    /// This filter for the documents of one segment; `None` when every document passes.
    pub fn bind(&self, data: &SegmentData) -> Option<SegmentFilter> {
        let statuses = (!self.statuses.is_empty())
            .then(|| -> Vec<bool> {
                data.status_names
                    .iter()
                    .map(|s| self.statuses.iter().any(|w| w == s))
                    .collect()
            })
            .filter(|ok| {
                let passing: u64 = ok
                    .iter()
                    .zip(&data.status_docs)
                    .filter(|(ok, _)| **ok)
                    .map(|(_, n)| u64::from(*n))
                    .sum();
                passing < data.status.len() as u64
            });
        let numeric = self.narrows().then(|| NumericFilter {
            statuses: Vec::new(),
            ..self.clone()
        });
        (statuses.is_some() || numeric.is_some()).then_some(SegmentFilter { numeric, statuses })
    }

    #[inline]
    fn matches(&self, data: &SegmentData, d: usize) -> bool {
        if let Some((lo, hi)) = self.trl {
            let t = data.trl[d];
            if t == 0 || (t as i64) < lo || (t as i64) > hi {
                return false;
            }
        }
        if let Some((want_lo, want_hi, neg)) = self.amount {
            let (lo, hi) = (data.amount_lo[d], data.amount_hi[d]);
            let overlaps = lo != NONE && lo <= want_hi && hi >= want_lo;
            if !(overlaps || (neg && data.flags[d] & FLAG_NEGOTIABLE != 0)) {
                return false;
            }
        }
        if let Some((from, to)) = self.deadline {
            let dl = data.deadline[d];
            if dl == NONE || dl < from || dl > to {
                return false;
            }
        }
        if let Some(du) = self.dual_use {
            if (data.flags[d] & FLAG_DUAL_USE != 0) != du {
                return false;
            }
        }
        true
    }
}

/// Order-preserving map of i64 into u64.
#[inline]
fn mono(v: i64) -> u64 {
    (v as u64) ^ (1u64 << 63)
}

/// Key where larger is better: ascending values, `None` last (key 0).
#[inline]
fn asc_key(v: Option<i64>) -> u64 {
    v.map_or(0, |v| (u64::MAX - mono(v)).max(1))
}

/// Key where larger is better: descending values, `None` last (key 0).
#[inline]
fn desc_key(v: Option<i64>) -> u64 {
    v.map_or(0, |v| mono(v).max(1))
}

/// Order-preserving map of a score into u64.
#[inline]
fn score_key(s: Score) -> u64 {
    let b = s.to_bits();
    let m = if b >> 31 == 1 { !b } else { b | (1 << 31) };
    m as u64
}

fn str_facet(
    reader: &SegmentReader,
    name: &str,
    facet: FacetField,
    table: &mut Vec<(FacetField, String)>,
) -> tantivy::Result<Option<(StrColumn, u32)>> {
    let Some(col) = reader.fast_fields().str(name)? else {
        return Ok(None);
    };
    let base = table.len() as u32;
    let mut s = String::new();
    for ord in 0..col.num_terms() as u64 {
        col.ord_to_str(ord, &mut s)?;
        table.push((facet, s.clone()));
    }
    Ok(Some((col, base)))
}

impl SegmentData {
    /// Decodes the fast fields of a segment.
    pub fn load(reader: &SegmentReader) -> tantivy::Result<SegmentData> {
        let ff = reader.fast_fields();
        let max_doc = reader.max_doc();
        let n = max_doc as usize;
        let id_col = ff.i64(names::ID)?;
        let published = ff.i64(names::PUBLISHED_AT)?;
        let low = ff.i64(names::AMOUNT_SORT_LOW)?;
        let high = ff.i64(names::AMOUNT_SORT_HIGH)?;
        let deadline = ff.i64(names::DEADLINE)?;
        let trl = ff.i64(names::TRL)?;
        let dual = ff.bool(names::DUAL_USE)?;
        let amount_lo = ff.i64(names::AMOUNT_LO)?;
        let amount_hi = ff.i64(names::AMOUNT_HI)?;
        let negotiable = ff.bool(names::NEGOTIABLE)?;

        let mut facet_table: Vec<(FacetField, String)> = Vec::new();
        let mut str_cols = Vec::new();
        // The status column is one of the facet columns: its values are read with theirs, and
        // its names are its entries in the facet table.
        let mut status_col = None;
        for (name, facet) in [
            (names::FIELD, FacetField::Field),
            (names::MODES, FacetField::Modes),
            (names::IP_KINDS, FacetField::IpKinds),
            (names::STATUS, FacetField::Status),
            (names::PROVINCE, FacetField::Province),
            (names::TAGS, FacetField::Tags),
        ] {
            if let Some(c) = str_facet(reader, name, facet, &mut facet_table)? {
                if facet == FacetField::Status {
                    status_col = Some(str_cols.len());
                }
                str_cols.push(c);
            }
        }
        let status_names: Vec<String> = facet_table
            .iter()
            .filter(|(f, _)| *f == FacetField::Status)
            .take(usize::from(NO_STATUS))
            .map(|(_, v)| v.clone())
            .collect();
        let trl_base = facet_table.len() as u32;
        for t in 0..=9 {
            facet_table.push((FacetField::Trl, t.to_string()));
        }
        let dual_base = facet_table.len() as u32;
        facet_table.push((FacetField::DualUse, "false".into()));
        facet_table.push((FacetField::DualUse, "true".into()));

        let mut data = SegmentData {
            ids: Vec::with_capacity(n),
            newest: Vec::with_capacity(n),
            amount_asc: Vec::with_capacity(n),
            amount_desc: Vec::with_capacity(n),
            deadline_asc: Vec::with_capacity(n),
            trl: Vec::with_capacity(n),
            amount_lo: Vec::with_capacity(n),
            amount_hi: Vec::with_capacity(n),
            deadline: Vec::with_capacity(n),
            flags: Vec::with_capacity(n),
            offsets: Vec::with_capacity(n + 1),
            facet_vals: Vec::with_capacity(n * 8),
            facet_table,
            status: Vec::with_capacity(n),
            status_docs: vec![0; status_names.len()],
            status_names,
            sorted: Default::default(),
            all_counts: Mutex::new(None),
        };
        data.offsets.push(0);
        for doc in 0..max_doc {
            data.ids.push(id_col.first(doc).unwrap_or(i64::MIN));
            data.newest.push(desc_key(published.first(doc)));
            data.amount_asc.push(asc_key(low.first(doc)));
            data.amount_desc.push(desc_key(high.first(doc)));
            let dl = deadline.first(doc);
            data.deadline_asc.push(asc_key(dl));
            data.deadline.push(dl.unwrap_or(NONE));
            let t = trl.first(doc);
            data.trl.push(t.map_or(0, |t| t.clamp(1, 9) as i8));
            let lo = amount_lo.first(doc);
            let hi = amount_hi.first(doc);
            match (lo, hi) {
                (Some(lo), Some(hi)) => {
                    data.amount_lo.push(lo);
                    data.amount_hi.push(hi);
                }
                _ => {
                    data.amount_lo.push(NONE);
                    data.amount_hi.push(NONE);
                }
            }
            let du = dual.first(doc);
            let mut flags = 0u8;
            if du == Some(true) {
                flags |= FLAG_DUAL_USE;
            }
            if negotiable.first(doc) == Some(true) {
                flags |= FLAG_NEGOTIABLE;
            }
            data.flags.push(flags);
            let mut status = NO_STATUS;
            for (i, (col, base)) in str_cols.iter().enumerate() {
                for ord in col.term_ords(doc) {
                    if Some(i) == status_col && status == NO_STATUS && ord < u64::from(NO_STATUS) {
                        status = ord as u8;
                    }
                    data.facet_vals.push(base + ord as u32);
                }
            }
            if let Some(n) = data.status_docs.get_mut(usize::from(status)) {
                *n += 1;
            }
            data.status.push(status);
            if let Some(t) = t {
                if (0..=9).contains(&t) {
                    data.facet_vals.push(trl_base + t as u32);
                }
            }
            if let Some(d) = du {
                data.facet_vals.push(dual_base + d as u32);
            }
            data.offsets.push(data.facet_vals.len() as u32);
        }
        data.facet_vals.shrink_to_fit();
        Ok(data)
    }

    fn bytes(&self) -> usize {
        let sorted: usize = self
            .sorted
            .iter()
            .filter_map(|s| s.get())
            .map(|v| v.len() * 4)
            .sum();
        self.ids.len() * (8 * 8 + 3) + self.offsets.len() * 4 + self.facet_vals.len() * 4 + sorted
    }

    fn keys(&self, sort: SortKey) -> Option<(&[u64], usize)> {
        match sort {
            SortKey::Score => None,
            SortKey::Newest => Some((&self.newest, 0)),
            SortKey::AmountAsc => Some((&self.amount_asc, 1)),
            SortKey::AmountDesc => Some((&self.amount_desc, 2)),
            SortKey::DeadlineAsc => Some((&self.deadline_asc, 3)),
        }
    }

    /// All doc ids, best first for `sort` (larger key, then smaller id).
    fn sorted_docs(&self, sort: SortKey) -> Option<&[u32]> {
        let (keys, slot) = self.keys(sort)?;
        Some(self.sorted[slot].get_or_init(|| {
            let mut docs: Vec<u32> = (0..keys.len() as u32).collect();
            docs.sort_unstable_by(|&a, &b| {
                keys[b as usize]
                    .cmp(&keys[a as usize])
                    .then(self.ids[a as usize].cmp(&self.ids[b as usize]))
            });
            docs
        }))
    }

    /// Facet counts over the alive documents of `reader`.
    fn all_counts(&self, reader: &SegmentReader) -> Arc<Vec<u32>> {
        let deleted = reader.num_deleted_docs();
        let mut cached = self.all_counts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((d, c)) = &*cached {
            if *d == deleted {
                return c.clone();
            }
        }
        let mut counts = vec![0u32; self.facet_table.len()];
        let alive = reader.alive_bitset();
        for d in 0..self.ids.len() {
            if alive.is_some_and(|a| !a.is_alive(d as DocId)) {
                continue;
            }
            let (a, b) = (self.offsets[d] as usize, self.offsets[d + 1] as usize);
            for &v in &self.facet_vals[a..b] {
                counts[v as usize] += 1;
            }
        }
        let counts = Arc::new(counts);
        *cached = Some((deleted, counts.clone()));
        counts
    }
}

/// Documents handed to the collector at a time where the caller forms the blocks (the size of a
/// block of postings).
const COLLECT_BLOCK: usize = 128;

/// Fast path for a query without text and without filters: counts are cached per segment
/// and the top `k` come from a presorted document order, so listing "everything, newest
/// first, with facets" does not visit every document.
pub fn collect_all(
    searcher: &Searcher,
    data: &[Arc<SegmentData>],
    collector: &MainCollector,
) -> tantivy::Result<Collected> {
    let mut fruits = Vec::with_capacity(data.len());
    for (ord, (reader, d)) in searcher.segment_readers().iter().zip(data).enumerate() {
        let Some(order) = d.sorted_docs(collector.sort) else {
            return Err(tantivy::TantivyError::InternalError(
                "collect_all needs a field sort".into(),
            ));
        };
        let (keys, _) = d.keys(collector.sort).expect("field sort");
        let alive = reader.alive_bitset();
        let entries: Vec<Entry> = order
            .iter()
            .copied()
            .filter(|&doc| alive.is_none_or(|a| a.is_alive(doc)))
            .take(collector.k)
            .map(|doc| Entry {
                key: keys[doc as usize],
                id: d.ids[doc as usize],
                score: 0.0,
                address: DocAddress::new(ord as SegmentOrdinal, doc),
            })
            .collect();
        let facets = if collector.facets.is_empty() {
            Vec::new()
        } else {
            d.all_counts(reader)
                .iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .map(|(i, n)| {
                    let (f, v) = &d.facet_table[i];
                    (*f, v.clone(), u64::from(*n))
                })
                .collect()
        };
        fruits.push(SegmentFruit {
            count: u64::from(reader.num_docs()),
            entries,
            facets,
        });
    }
    collector.merge_fruits(fruits)
}

/// Total, facets and top k by score in one pass over the documents of `matching` (a query
/// matched without scores, see `query::match_query`), each scored exactly by `plan`. For
/// queries whose matches are few (several words required, or a word and filters), this visits
/// one posting list per word and filter instead of the scored query's per-word unions over the
/// text fields, whose seeks refill a window of 4,096 documents each.
pub fn collect_exact(
    infos: &TermInfos<'_>,
    collector: &MainCollector,
    matching: &dyn Query,
    plan: &Plan,
) -> tantivy::Result<Collected> {
    let searcher = infos.searcher();
    let exact = PlanWeights::new(plan, infos)?;
    let weight = matching.weight(EnableScoring::disabled_from_searcher(searcher))?;
    let mut fruits = Vec::with_capacity(searcher.segment_readers().len());
    for (ord, reader) in searcher.segment_readers().iter().enumerate() {
        let mut seg = collector.for_segment(ord as SegmentOrdinal, reader)?;
        let mut scorer = exact.bind(ord, reader)?;
        let alive = reader.alive_bitset();
        weight.for_each_no_score(reader, &mut |docs| {
            seg.touch(docs);
            for &doc in docs {
                // the per-document filters before the score, which costs more
                if alive.is_some_and(|a| !a.is_alive(doc)) || !seg.passes(doc) {
                    continue;
                }
                // every match of `matching` matches the plan (the same words)
                if let Some(score) = scorer.score_at(doc) {
                    seg.push_passed(doc, score);
                }
            }
        })?;
        fruits.push(seg.harvest());
    }
    collector.merge_fruits(fruits)
}

/// Calls `f` with the documents of a term's postings in one segment (deleted ones included), in
/// order, block by block as they are read (without frequencies).
fn for_each_posting_block(
    reader: &SegmentReader,
    field: Field,
    info: &TermInfo,
    f: &mut impl FnMut(&[DocId]),
) -> tantivy::Result<()> {
    let mut block = reader
        .inverted_index(field)?
        .read_block_postings_from_terminfo(info, IndexRecordOption::Basic)?;
    loop {
        let docs = block.docs();
        if docs.is_empty() {
            return Ok(());
        }
        f(docs);
        block.advance();
    }
}

/// Total and facet counts, without scores, of the documents having any of `terms` (the match
/// set of a one-word query, see [`super::query::union_terms`]) that pass the counter's
/// per-document filters (the status among them); `counter.k` is 0.
///
/// This is the same count as running the match query through `counter`, without a query's
/// machinery per document: one term's postings are read block by block; several terms' are
/// first OR'ed into a bitset of the segment (so a document having several of them is counted
/// once, in document order). Where every document of a segment passes the filters, it has no
/// deletions and no facets are asked for, one term's count is its document frequency, read
/// from the term dictionary.
pub fn count_union(
    infos: &super::query::TermInfos<'_>,
    counter: &MainCollector,
    terms: &[Term],
) -> tantivy::Result<Collected> {
    let searcher = infos.searcher();
    let readers = searcher.segment_readers();
    let per_term: Vec<(Field, SegmentInfos)> = terms
        .iter()
        .map(|t| Ok((t.field(), infos.get(t)?)))
        .collect::<tantivy::Result<_>>()?;
    let mut fruits = Vec::with_capacity(readers.len());
    for (ord, reader) in readers.iter().enumerate() {
        let mut seg = counter.for_segment(ord as SegmentOrdinal, reader)?;
        let postings: Vec<(Field, &TermInfo)> = per_term
            .iter()
            .filter_map(|(f, infos)| infos[ord].as_ref().map(|i| (*f, i)))
            .collect();
        let alive = reader.alive_bitset();
        if postings.is_empty() || seg.numeric.as_ref().is_some_and(|f| f.rejects_all()) {
            fruits.push(seg.harvest());
            continue;
        }
        if let [(_, info)] = postings.as_slice() {
            if alive.is_none() && !seg.count_facets && seg.numeric.is_none() {
                seg.count = u64::from(info.doc_freq);
                fruits.push(seg.harvest());
                continue;
            }
        }
        let mut visit = |docs: &[DocId]| {
            seg.touch(docs);
            for &doc in docs {
                if alive.is_none_or(|a| a.is_alive(doc)) {
                    seg.push(doc, 0.0);
                }
            }
        };
        if let [(field, info)] = postings.as_slice() {
            for_each_posting_block(reader, *field, info, &mut visit)?;
        } else {
            let mut bits = vec![0u64; (reader.max_doc() as usize).div_ceil(64)];
            for (field, info) in &postings {
                for_each_posting_block(reader, *field, info, &mut |docs| {
                    for &doc in docs {
                        bits[doc as usize / 64] |= 1u64 << (doc % 64);
                    }
                })?;
            }
            // the union in document order, in blocks as the postings give them
            let mut block: Vec<DocId> = Vec::with_capacity(COLLECT_BLOCK);
            for (i, &word) in bits.iter().enumerate() {
                let mut w = word;
                while w != 0 {
                    block.push((i * 64) as DocId + w.trailing_zeros());
                    w &= w - 1;
                }
                if block.len() >= COLLECT_BLOCK - 64 {
                    visit(&block);
                    block.clear();
                }
            }
            visit(&block);
        }
        fruits.push(seg.harvest());
    }
    counter.merge_fruits(fruits)
}

/// Seeks `s` forward to `doc` (documents asked for in increasing order): whether it matches.
fn seek_to(s: &mut (impl DocSet + ?Sized), doc: DocId) -> bool {
    if s.doc() < doc {
        s.seek(doc);
    }
    s.doc() == doc
}

/// Keeps the document of `key` in the top `k` of `heap` (the worst on top). Its `id` (a
/// scattered read) is looked up only when the key alone does not settle it: most documents
/// lose to the worst of a full heap on the key.
fn offer(
    heap: &mut BinaryHeap<Reverse<Entry>>,
    k: usize,
    key: u64,
    id: impl FnOnce() -> i64,
    score: Score,
    address: DocAddress,
) {
    if heap.len() < k {
        heap.push(Reverse(Entry {
            key,
            id: id(),
            score,
            address,
        }));
    } else if let Some(mut worst) = heap.peek_mut() {
        if key < worst.0.key {
            return;
        }
        let entry = Entry {
            key,
            id: id(),
            score,
            address,
        };
        if entry > worst.0 {
            *worst = Reverse(entry);
        }
    }
}

/// The entries of `heap`, best first.
fn best_first(heap: BinaryHeap<Reverse<Entry>>) -> Vec<Entry> {
    let mut top: Vec<Entry> = heap.into_iter().map(|r| r.0).collect();
    top.sort_unstable_by(|a, b| b.cmp(a));
    top
}

/// A [`Plan`] bound to one segment: term cursors sought forward to the documents asked for.
enum Exact {
    /// `None`: the term is not in the segment. (Boxed: a cursor holds a decoded block.)
    Term(Option<Box<TermCursor>>),
    Max(Vec<Exact>),
    All(Vec<Exact>),
    Any(Vec<Exact>),
}

/// One term's postings in one segment with what its BM25 score needs: the score of a document
/// is `bm25.score(fieldnorm, term frequency)`, as tantivy's term scorer computes it, without a
/// boxed scorer per term.
struct TermCursor {
    postings: SegmentPostings,
    norms: FieldNormReader,
    bm25: Bm25Weight,
}

/// Term weights of a plan, built once per search (the BM25 statistics are the searcher's).
enum PlanWeights {
    /// The term's weight (times its boost) and its dictionary entry in each segment.
    Term(Term, Bm25Weight, SegmentInfos),
    Max(Vec<PlanWeights>),
    All(Vec<PlanWeights>),
    Any(Vec<PlanWeights>),
}

impl PlanWeights {
    /// The weights of `plan`, each term's BM25 weight (times its boost) as a term query's on
    /// the searcher of `infos`; the terms' dictionary entries are read through `infos`, once
    /// per search.
    fn new(plan: &Plan, infos: &TermInfos<'_>) -> tantivy::Result<PlanWeights> {
        let many = |ps: &[Plan]| -> tantivy::Result<Vec<PlanWeights>> {
            ps.iter().map(|p| PlanWeights::new(p, infos)).collect()
        };
        Ok(match plan {
            Plan::Term(t, boost) => PlanWeights::Term(
                t.clone(),
                Bm25Weight::for_terms(infos, std::slice::from_ref(t))?.boost_by(*boost),
                infos.get(t)?,
            ),
            Plan::Max(ps) => PlanWeights::Max(many(ps)?),
            Plan::All(ps) => PlanWeights::All(many(ps)?),
            Plan::Any(ps) => PlanWeights::Any(many(ps)?),
        })
    }

    /// The plan on segment `ord` (`reader`) of the searcher it was weighted on.
    fn bind(&self, ord: usize, reader: &SegmentReader) -> tantivy::Result<Exact> {
        let many = |ws: &[PlanWeights]| -> tantivy::Result<Vec<Exact>> {
            ws.iter().map(|w| w.bind(ord, reader)).collect()
        };
        Ok(match self {
            PlanWeights::Term(term, bm25, infos) => {
                let Some(info) = infos.get(ord).and_then(Option::as_ref) else {
                    return Ok(Exact::Term(None));
                };
                let field = term.field();
                let postings = reader
                    .inverted_index(field)?
                    .read_postings_from_terminfo(info, IndexRecordOption::WithFreqs)?;
                // as tantivy's term weight: a field without norms scores as if of length 1
                let norms = match reader.fieldnorms_readers().get_field(field)? {
                    Some(n) => n,
                    None => FieldNormReader::constant(reader.max_doc(), 1),
                };
                Exact::Term(Some(Box::new(TermCursor {
                    postings,
                    norms,
                    bm25: bm25.clone(),
                })))
            }
            PlanWeights::Max(ws) => Exact::Max(many(ws)?),
            PlanWeights::All(ws) => Exact::All(many(ws)?),
            PlanWeights::Any(ws) => Exact::Any(many(ws)?),
        })
    }
}

impl Exact {
    /// The score of `doc`, or `None` when it does not match. Documents must be asked for in
    /// increasing order.
    fn score_at(&mut self, doc: DocId) -> Option<Score> {
        match self {
            Exact::Term(cursor) => {
                let c = cursor.as_mut()?;
                seek_to(&mut c.postings, doc).then(|| {
                    c.bm25
                        .score(c.norms.fieldnorm_id(doc), c.postings.term_freq())
                })
            }
            Exact::Max(cs) => {
                // as tantivy's DisjunctionMaxCombiner
                let (mut max, mut sum, mut hit) = (0.0 as Score, 0.0 as Score, false);
                for c in cs {
                    if let Some(x) = c.score_at(doc) {
                        max = Score::max(x, max);
                        sum += x;
                        hit = true;
                    }
                }
                hit.then_some(max + (sum - max) * TIE_BREAKER)
            }
            Exact::All(cs) => {
                let mut sum = 0.0;
                for c in cs {
                    sum += c.score_at(doc)?;
                }
                Some(sum)
            }
            Exact::Any(cs) => {
                let (mut sum, mut hit) = (0.0, false);
                for c in cs {
                    if let Some(x) = c.score_at(doc) {
                        sum += x;
                        hit = true;
                    }
                }
                hit.then_some(sum)
            }
        }
    }
}

/// The best `k` documents by the score of `plan` among those matching `filter`, without
/// scoring every match: `bound` is a disjunction of term queries whose summed score is at
/// least the plan's score for every document (see `query::bound_terms`). Tantivy runs it with
/// block-max WAND, which only yields documents whose bound can still beat the current k-th
/// best score; each of these is then scored exactly by the plan's term scorers (sought
/// forward to the document), so the ranking is the same as scoring every match. Filters,
/// numeric filters and deletions are applied to the candidates. One heap across segments, so
/// later segments start with a high threshold.
pub fn top_by_score(
    infos: &TermInfos<'_>,
    data: &[Arc<SegmentData>],
    plan: &Plan,
    filter: Option<&dyn Query>,
    bound: &dyn Query,
    k: usize,
    numeric: &NumericFilter,
) -> tantivy::Result<Vec<Entry>> {
    let searcher = infos.searcher();
    let scoring = EnableScoring::enabled_from_searcher(searcher);
    let exact = PlanWeights::new(plan, infos)?;
    let filter = filter
        .map(|f| f.weight(EnableScoring::disabled_from_searcher(searcher)))
        .transpose()?;
    let wand = bound.weight(scoring)?;
    let mut heap: BinaryHeap<Reverse<Entry>> = BinaryHeap::with_capacity(k.min(1024) + 1);
    if k == 0 {
        return Ok(Vec::new());
    }
    // Candidates whose bound is below the k-th best score are skipped; ties are kept (a tie
    // is broken by id), hence the threshold a little below that score.
    let floor = |heap: &BinaryHeap<Reverse<Entry>>| -> Score {
        match heap.peek() {
            Some(w) if heap.len() >= k => {
                let s = w.0.score;
                s - s.abs() * 1e-5 - f32::MIN_POSITIVE
            }
            _ => f32::MIN,
        }
    };
    for (ord, reader) in searcher.segment_readers().iter().enumerate() {
        let d = &*data[ord];
        let passes = numeric.bind(d);
        if passes.as_ref().is_some_and(|f| f.rejects_all()) {
            continue;
        }
        let mut scorer = exact.bind(ord, reader)?;
        let mut allowed = filter.as_ref().map(|w| w.scorer(reader, 1.0)).transpose()?;
        let alive = reader.alive_bitset();
        let start = floor(&heap);
        wand.for_each_pruning(start, reader, &mut |doc, _bound| {
            if alive.is_some_and(|a| !a.is_alive(doc)) {
                return floor(&heap);
            }
            if allowed.as_mut().is_some_and(|f| !seek_to(f, doc)) {
                return floor(&heap);
            }
            if passes.as_ref().is_some_and(|f| !f.matches(d, doc as usize)) {
                return floor(&heap);
            }
            let Some(score) = scorer.score_at(doc) else {
                return floor(&heap);
            };
            offer(
                &mut heap,
                k,
                score_key(score),
                || d.ids[doc as usize],
                score,
                DocAddress::new(ord as SegmentOrdinal, doc),
            );
            floor(&heap)
        })?;
    }
    Ok(best_first(heap))
}

/// In a long text, words in more than this share of the documents are left out when rarer
/// words remain: they weigh least (an idf about 1.5 against 7 for a word in one document in a
/// thousand) and cost most (the longest posting lists).
pub const LONG_TEXT_MAX_SHARE: f64 = 0.2;

/// The best `k` documents for a long text (a whole need), term at a time: each term's postings
/// add its BM25 score (times its weight) to a score per document of the segment, then the best
/// scores that pass `filter` (a query matched without scores), deletions and `numeric` are
/// kept. The cost is about one step per posting, whatever the number of terms, where a
/// document-at-a-time union of a hundred words over several fields pays a heap operation per
/// posting and block-max WAND cannot skip (every word adds a little to the bound). Terms in
/// more than [`LONG_TEXT_MAX_SHARE`] of the documents are skipped when others remain.
pub fn top_by_terms(
    infos: &super::query::TermInfos<'_>,
    data: &[Arc<SegmentData>],
    terms: &[(Term, f32)],
    filter: Option<&dyn Query>,
    numeric: &NumericFilter,
    k: usize,
) -> tantivy::Result<Vec<Entry>> {
    if k == 0 || terms.is_empty() {
        return Ok(Vec::new());
    }
    let searcher = infos.searcher();
    let readers = searcher.segment_readers();
    // as tantivy's BM25 statistics: documents counted with deletions, tokens per field
    let total_docs: u64 = readers.iter().map(|r| u64::from(r.max_doc())).sum();
    let mut avg_norm: HashMap<Field, Score> = HashMap::new();
    // Each term's dictionary entry in every segment (most were looked up already, when the
    // text was read into groups).
    let mut found: Vec<(f32, Field, u64, SegmentInfos)> = Vec::with_capacity(terms.len());
    for (term, w) in terms {
        let field = term.field();
        let infos = infos.get(term)?;
        let df = super::query::doc_freq_of(&infos);
        if df == 0 {
            continue;
        }
        if let std::collections::hash_map::Entry::Vacant(e) = avg_norm.entry(field) {
            let mut tokens = 0u64;
            for r in readers {
                tokens += r.inverted_index(field)?.total_num_tokens();
            }
            e.insert(tokens as Score / total_docs.max(1) as Score);
        }
        found.push((*w, field, df, infos));
    }
    let common = (total_docs as f64 * LONG_TEXT_MAX_SHARE) as u64;
    if found.iter().any(|t| t.2 <= common) {
        found.retain(|t| t.2 <= common);
    }
    let weighted: Vec<(Bm25Weight, Field, SegmentInfos)> = found
        .into_iter()
        .map(|(w, field, df, infos)| {
            let bm25 = Bm25Weight::for_one_term_without_explain(df, total_docs, avg_norm[&field])
                .boost_by(w);
            (bm25, field, infos)
        })
        .collect();
    let filter = filter
        .map(|f| f.weight(EnableScoring::disabled_from_searcher(searcher)))
        .transpose()?;
    let mut heap: BinaryHeap<Reverse<Entry>> = BinaryHeap::with_capacity(k + 1);
    let mut acc: Vec<Score> = Vec::new();
    for (ord, reader) in readers.iter().enumerate() {
        let d = &*data[ord];
        let passes = numeric.bind(d);
        if passes.as_ref().is_some_and(|f| f.rejects_all()) {
            continue;
        }
        acc.clear();
        acc.resize(reader.max_doc() as usize, 0.0);
        for (bm25, field, infos) in &weighted {
            let Some(info) = &infos[ord] else {
                continue;
            };
            // Block by block (128 documents and their frequencies, decoded together): a
            // plain loop over two slices instead of a cursor step per posting.
            let mut block = reader
                .inverted_index(*field)?
                .read_block_postings_from_terminfo(info, IndexRecordOption::WithFreqs)?;
            let norms = reader.get_fieldnorms_reader(*field)?;
            loop {
                let docs = block.docs();
                if docs.is_empty() {
                    break;
                }
                for (&doc, &tf) in docs.iter().zip(block.freqs()) {
                    acc[doc as usize] += bm25.score(norms.fieldnorm_id(doc), tf);
                }
                block.advance();
            }
        }
        // The filter is sought forward to the candidates (in document order) only.
        let mut allowed = filter.as_ref().map(|w| w.scorer(reader, 1.0)).transpose()?;
        let alive = reader.alive_bitset();
        for (doc, &score) in acc.iter().enumerate() {
            if score <= 0.0 {
                continue;
            }
            if heap.len() >= k {
                if let Some(w) = heap.peek() {
                    if score < w.0.score {
                        continue;
                    }
                }
            }
            let doc = doc as DocId;
            if alive.is_some_and(|a| !a.is_alive(doc))
                || passes.as_ref().is_some_and(|f| !f.matches(d, doc as usize))
            {
                continue;
            }
            if allowed.as_mut().is_some_and(|f| !seek_to(f, doc)) {
                continue;
            }
            offer(
                &mut heap,
                k,
                score_key(score),
                || d.ids[doc as usize],
                score,
                DocAddress::new(ord as SegmentOrdinal, doc),
            );
        }
    }
    Ok(best_first(heap))
}

/// Cache of [`SegmentData`] by segment id, shared by all searches of one generation.
#[derive(Default)]
pub struct SegmentCache {
    map: Mutex<HashMap<SegmentId, Arc<OnceLock<Arc<SegmentData>>>>>,
}

impl SegmentCache {
    /// The data of every segment of `searcher`, in segment order (loads missing ones;
    /// concurrent searches wait for one loader instead of decoding twice).
    pub fn for_searcher(&self, searcher: &Searcher) -> tantivy::Result<Vec<Arc<SegmentData>>> {
        let mut out = Vec::with_capacity(searcher.segment_readers().len());
        for reader in searcher.segment_readers() {
            let cell = {
                let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
                map.entry(reader.segment_id()).or_default().clone()
            };
            if let Some(d) = cell.get() {
                out.push(d.clone());
                continue;
            }
            let loaded = Arc::new(SegmentData::load(reader)?);
            out.push(cell.get_or_init(|| loaded).clone());
        }
        Ok(out)
    }

    /// Loads every segment of `searcher` and presorts it for the default (newest) order.
    pub fn warm(&self, searcher: &Searcher) -> tantivy::Result<()> {
        for d in self.for_searcher(searcher)? {
            d.sorted_docs(SortKey::Newest);
        }
        Ok(())
    }

    /// Drops the data of segments that are no longer in `searcher`.
    pub fn retain(&self, searcher: &Searcher) {
        let live: HashSet<SegmentId> = searcher
            .segment_readers()
            .iter()
            .map(|r| r.segment_id())
            .collect();
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|id, _| live.contains(id));
    }

    /// Approximate memory held by the cache.
    pub fn bytes(&self) -> usize {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.values()
            .filter_map(|c| c.get())
            .map(|d| d.bytes())
            .sum()
    }
}

/// What a page is ordered by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKey {
    Score,
    Newest,
    AmountAsc,
    AmountDesc,
    DeadlineAsc,
}

impl SortKey {
    /// The key for a sort order (relevance without text means newest).
    pub fn for_order(order: SortOrder, has_text: bool) -> SortKey {
        match order {
            SortOrder::Relevance if has_text => SortKey::Score,
            SortOrder::Relevance | SortOrder::Newest => SortKey::Newest,
            SortOrder::AmountAsc => SortKey::AmountAsc,
            SortOrder::AmountDesc => SortKey::AmountDesc,
            SortOrder::DeadlineAsc => SortKey::DeadlineAsc,
        }
    }
}

/// A collected document. Ordering: larger key first, then smaller id.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    pub key: u64,
    pub id: i64,
    pub score: Score,
    pub address: DocAddress,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    /// `a > b` means `a` ranks before `b`.
    fn cmp(&self, other: &Self) -> Ordering {
        self.key
            .cmp(&other.key)
            .then_with(|| other.id.cmp(&self.id))
    }
}

/// The result of a collection.
pub struct Collected {
    pub total: u64,
    /// The best `k` entries, best first.
    pub top: Vec<Entry>,
    pub facets: BTreeMap<String, BTreeMap<String, u64>>,
}

/// The collector: total + facets + top-k.
pub struct MainCollector {
    pub data: Vec<Arc<SegmentData>>,
    pub sort: SortKey,
    /// `offset + limit`.
    pub k: usize,
    pub facets: Vec<FacetField>,
    /// Numeric filters applied per document.
    pub numeric: NumericFilter,
}

pub struct MainSegmentCollector {
    data: Arc<SegmentData>,
    segment_ord: SegmentOrdinal,
    sort: SortKey,
    k: usize,
    count: u64,
    counts: Vec<u32>,
    count_facets: bool,
    heap: BinaryHeap<Reverse<Entry>>,
    numeric: Option<SegmentFilter>,
}

pub struct SegmentFruit {
    count: u64,
    entries: Vec<Entry>,
    facets: Vec<(FacetField, String, u64)>,
}

impl Collector for MainCollector {
    type Fruit = Collected;
    type Child = MainSegmentCollector;

    fn for_segment(
        &self,
        segment_ord: SegmentOrdinal,
        _reader: &SegmentReader,
    ) -> tantivy::Result<MainSegmentCollector> {
        let data = self.data[segment_ord as usize].clone();
        let numeric = self.numeric.bind(&data);
        let counts = if self.facets.is_empty() {
            Vec::new()
        } else {
            vec![0; data.facet_table.len()]
        };
        Ok(MainSegmentCollector {
            data,
            segment_ord,
            sort: self.sort,
            k: self.k,
            count: 0,
            counts,
            count_facets: !self.facets.is_empty(),
            heap: BinaryHeap::with_capacity(self.k.min(1024) + 1),
            numeric,
        })
    }

    fn requires_scoring(&self) -> bool {
        self.sort == SortKey::Score
    }

    fn merge_fruits(&self, fruits: Vec<SegmentFruit>) -> tantivy::Result<Collected> {
        let mut total = 0;
        let mut all: Vec<Entry> = Vec::new();
        let mut facets: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
        for f in &self.facets {
            facets.insert(f.as_str().to_string(), BTreeMap::new());
        }
        for fruit in fruits {
            total += fruit.count;
            all.extend(fruit.entries);
            for (facet, value, n) in fruit.facets {
                if let Some(m) = facets.get_mut(facet.as_str()) {
                    *m.entry(value).or_insert(0) += n;
                }
            }
        }
        all.sort_unstable_by(|a, b| b.cmp(a));
        all.truncate(self.k);
        Ok(Collected {
            total,
            top: all,
            facets,
        })
    }
}

impl MainSegmentCollector {
    #[inline]
    fn push(&mut self, doc: DocId, score: Score) {
        if self.passes(doc) {
            self.push_passed(doc, score);
        }
    }

    /// Reads, ahead of pushing `docs`, the values [`Self::push_passed`] looks up for them at
    /// scattered places of the segment's arrays (facet values, sort keys), so that their cache
    /// misses overlap: one document at a time, each facet lookup waits for its offsets first,
    /// and the varying number of values per document cuts the overlap short. At 1M listings
    /// this lookup was the largest single cost of counting a common word's matches.
    #[inline]
    fn touch(&self, docs: &[DocId]) {
        let data = &*self.data;
        let mut acc = 0u64;
        if self.count_facets {
            for &d in docs {
                acc ^= u64::from(data.offsets.get(d as usize).copied().unwrap_or(0));
            }
            for &d in docs {
                let a = data.offsets.get(d as usize).copied().unwrap_or(0) as usize;
                let b = data.offsets.get(d as usize + 1).copied().unwrap_or(0) as usize;
                acc ^= u64::from(data.facet_vals.get(a).copied().unwrap_or(0));
                acc ^= u64::from(data.facet_vals.get(b.wrapping_sub(1)).copied().unwrap_or(0));
            }
        }
        if self.k > 0 {
            if let Some((keys, _)) = data.keys(self.sort) {
                for &d in docs {
                    acc ^= keys.get(d as usize).copied().unwrap_or(0);
                }
            }
        }
        std::hint::black_box(acc);
    }

    /// Whether `doc` passes the per-document filters (status, TRL, amount ...).
    #[inline]
    fn passes(&self, doc: DocId) -> bool {
        self.numeric
            .as_ref()
            .is_none_or(|f| f.matches(&self.data, doc as usize))
    }

    /// Collects `doc`, which [`Self::passes`].
    #[inline]
    fn push_passed(&mut self, doc: DocId, score: Score) {
        let d = doc as usize;
        let data = &*self.data;
        self.count += 1;
        if self.count_facets {
            let (a, b) = (data.offsets[d] as usize, data.offsets[d + 1] as usize);
            for &v in &data.facet_vals[a..b] {
                if let Some(c) = self.counts.get_mut(v as usize) {
                    *c += 1;
                }
            }
        }
        if self.k == 0 {
            return;
        }
        let key = match data.keys(self.sort) {
            None => score_key(score),
            Some((keys, _)) => keys[d],
        };
        offer(
            &mut self.heap,
            self.k,
            key,
            || data.ids[d],
            score,
            DocAddress::new(self.segment_ord, doc),
        );
    }
}

impl SegmentCollector for MainSegmentCollector {
    type Fruit = SegmentFruit;

    fn collect(&mut self, doc: DocId, score: Score) {
        self.push(doc, score);
    }

    fn collect_block(&mut self, docs: &[DocId]) {
        self.touch(docs);
        for &doc in docs {
            self.push(doc, 0.0);
        }
    }

    fn harvest(self) -> SegmentFruit {
        let facets = self
            .counts
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(i, n)| {
                let (f, v) = &self.data.facet_table[i];
                (*f, v.clone(), u64::from(*n))
            })
            .collect();
        SegmentFruit {
            count: self.count,
            entries: self.heap.into_iter().map(|r| r.0).collect(),
            facets,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_monotone() {
        assert!(score_key(2.0) > score_key(1.0));
        assert!(score_key(0.0) > score_key(-1.0));
        assert!(asc_key(Some(1)) > asc_key(Some(2)));
        assert!(asc_key(Some(i64::MAX - 1)) > asc_key(None));
        assert!(desc_key(Some(2)) > desc_key(Some(1)));
        assert!(desc_key(Some(-5)) > desc_key(None));
    }
}
