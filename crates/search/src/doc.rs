//! Engine-agnostic document and query types.
//!
//! Domain crates (listings, demands) fill a [`SearchDoc`] from their public fields only —
//! confidential data (contact details, internal notes, unpublished prices) never goes into a
//! `SearchDoc`. The search crate turns queries built from [`SearchQuery`] into engine
//! queries; user text is only ever tokenised, never interpreted as query syntax.
//!
//! This module also holds the *reference semantics* of filters, facets and sorts
//! ([`Filters::matches`], [`FacetField::values`], [`SortOrder::compare`]): the engines
//! implement them natively and the conformance suite checks them against these functions.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::SearchError;

/// Name of a logical index, e.g. [`LISTINGS`] or [`DEMANDS`].
///
/// Names are short ASCII identifiers (`[a-z0-9_]`), used as directory names by the embedded
/// engine and as a suffix of the index uid by Meilisearch.
pub type IndexName = &'static str;

/// The index of technology listings (科技成果).
pub const LISTINGS: IndexName = "listings";
/// The index of technical needs and challenges (技术需求 / 揭榜挂帅).
pub const DEMANDS: IndexName = "demands";

/// Page size used when a query asks for none.
pub const DEFAULT_LIMIT: usize = 20;
/// Largest page size an engine returns; larger limits are clamped.
pub const MAX_LIMIT: usize = 100;
/// Largest offset a cursor may carry (deep paging is refused with `InvalidCursor`).
pub const MAX_OFFSET: usize = 100_000;

/// One searchable document: the public face of a listing or a need.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SearchDoc {
    /// Primary key of the listing / need.
    pub id: i64,
    pub title: String,
    pub summary: String,
    pub body: String,
    pub keywords: Vec<String>,
    /// Owner organisation's name; `None` when the owner is anonymous.
    pub org_name: Option<String>,
    /// Owner organisation's id; `None` when the owner is anonymous.
    pub org_id: Option<i64>,
    /// Technology field code, e.g. `"new_energy"`.
    pub field: String,
    /// Transfer modes, e.g. `["transfer", "license"]`.
    pub modes: Vec<String>,
    /// Intellectual-property kinds, e.g. `["invention_patent"]`.
    pub ip_kinds: Vec<String>,
    /// Lifecycle status, e.g. `"published"`.
    pub status: String,
    /// 6-digit administrative division code (GB/T 2260).
    pub region_code: String,
    /// Prefixes of the region code at province / city / county level, e.g.
    /// `["44", "4403", "440305"]`; see [`region_prefixes`].
    pub region_prefixes: Vec<String>,
    pub dual_use: bool,
    /// Technology readiness level, 1..=9.
    pub trl: Option<i64>,
    /// Lower end of the price or budget, in fen. Both ends `None` means negotiable (面议).
    pub amount_min: Option<i64>,
    /// Upper end of the price or budget, in fen.
    pub amount_max: Option<i64>,
    /// The owner declared the amount negotiable (面议).
    pub negotiable: bool,
    /// Publication time, unix seconds (the "newest" sort).
    pub published_at: i64,
    /// Deadline (needs / challenges), unix seconds.
    pub deadline: Option<i64>,
    /// Extra typed tags, e.g. `"research_type:applied"`, `"challenge"`.
    pub tags: Vec<String>,
}

impl SearchDoc {
    /// The amount range `[lo, hi]` in fen, or `None` when the document states no amount.
    /// A missing upper end is open (`i64::MAX`), a missing lower end is `0`.
    pub fn amount_range(&self) -> Option<(i64, i64)> {
        match (self.amount_min, self.amount_max) {
            (None, None) => None,
            (Some(a), None) => Some((a, i64::MAX)),
            (None, Some(b)) => Some((0.min(b), b)),
            (Some(a), Some(b)) => Some((a.min(b), a.max(b))),
        }
    }

    /// Whether the document counts as negotiable for amount filters: declared negotiable,
    /// or no amount stated at all.
    pub fn is_negotiable(&self) -> bool {
        self.negotiable || (self.amount_min.is_none() && self.amount_max.is_none())
    }

    /// The 2-digit province code, if the region code has one.
    pub fn province(&self) -> Option<&str> {
        self.region_code.get(..2).filter(|p| p.len() == 2)
    }
}

/// The prefixes of a 6-digit region code at province, city and county level
/// (`"440305"` → `["44", "4403", "440305"]`); trailing `00` levels are omitted
/// (`"440000"` → `["44"]`, `"440300"` → `["44", "4403"]`).
pub fn region_prefixes(region_code: &str) -> Vec<String> {
    let code = region_code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return if code.is_empty() {
            Vec::new()
        } else {
            vec![code.to_string()]
        };
    }
    let mut out = vec![code[..2].to_string()];
    if &code[2..4] != "00" {
        out.push(code[..4].to_string());
        if &code[4..] != "00" {
            out.push(code.to_string());
        }
    }
    out
}

/// Typed filters. Empty lists and `None` mean "no constraint".
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Filters {
    /// Any of these technology fields.
    pub fields: Vec<String>,
    /// Any of these transfer modes.
    pub modes: Vec<String>,
    /// Any of these IP kinds.
    pub ip_kinds: Vec<String>,
    /// Any of these statuses.
    pub statuses: Vec<String>,
    /// Region code prefix: 2 digits (province), 4 (city) or 6 (county). Matches the
    /// document's `region_prefixes`.
    pub region_prefix: Option<String>,
    /// Minimum TRL (inclusive); documents without a TRL do not match a TRL filter.
    pub trl_min: Option<i64>,
    /// Maximum TRL (inclusive).
    pub trl_max: Option<i64>,
    /// Wanted amount range (fen), lower end; a document matches when its amount range
    /// overlaps the wanted range.
    pub amount_min: Option<i64>,
    /// Wanted amount range (fen), upper end.
    pub amount_max: Option<i64>,
    /// With an amount filter, also let negotiable documents (see
    /// [`SearchDoc::is_negotiable`]) through.
    pub include_negotiable: bool,
    pub dual_use: Option<bool>,
    pub org_id: Option<i64>,
    /// Deadline at or after (unix seconds); documents without deadline do not match.
    pub deadline_from: Option<i64>,
    /// Deadline at or before (unix seconds); documents without deadline do not match.
    pub deadline_to: Option<i64>,
    /// All of these tags.
    pub tags: Vec<String>,
}

impl Filters {
    /// Whether an amount filter is active.
    pub fn has_amount(&self) -> bool {
        self.amount_min.is_some() || self.amount_max.is_some()
    }

    /// Reference semantics: does `doc` pass these filters?
    pub fn matches(&self, doc: &SearchDoc) -> bool {
        let any_of = |wanted: &[String], have: &[String]| {
            wanted.is_empty() || wanted.iter().any(|w| have.contains(w))
        };
        if !self.fields.is_empty() && !self.fields.contains(&doc.field) {
            return false;
        }
        if !self.statuses.is_empty() && !self.statuses.contains(&doc.status) {
            return false;
        }
        if !any_of(&self.modes, &doc.modes) || !any_of(&self.ip_kinds, &doc.ip_kinds) {
            return false;
        }
        if let Some(p) = &self.region_prefix {
            if !doc.region_prefixes.contains(p) {
                return false;
            }
        }
        if self.trl_min.is_some() || self.trl_max.is_some() {
            let Some(t) = doc.trl else { return false };
            if self.trl_min.is_some_and(|m| t < m) || self.trl_max.is_some_and(|m| t > m) {
                return false;
            }
        }
        if self.has_amount() {
            let want_lo = self.amount_min.unwrap_or(i64::MIN);
            let want_hi = self.amount_max.unwrap_or(i64::MAX);
            let overlaps = doc
                .amount_range()
                .is_some_and(|(lo, hi)| lo <= want_hi && hi >= want_lo);
            if !(overlaps || (self.include_negotiable && doc.is_negotiable())) {
                return false;
            }
        }
        if self.dual_use.is_some_and(|d| d != doc.dual_use) {
            return false;
        }
        if self.org_id.is_some() && self.org_id != doc.org_id {
            return false;
        }
        if self.deadline_from.is_some() || self.deadline_to.is_some() {
            let Some(d) = doc.deadline else { return false };
            if self.deadline_from.is_some_and(|f| d < f) || self.deadline_to.is_some_and(|t| d > t)
            {
                return false;
            }
        }
        self.tags.iter().all(|t| doc.tags.contains(t))
    }
}

/// A facet the caller wants counts for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FacetField {
    Field,
    Modes,
    IpKinds,
    Status,
    /// 2-digit province prefix of the region code.
    Province,
    /// TRL as `"1"`..`"9"`.
    Trl,
    /// `"true"` / `"false"`.
    DualUse,
    Tags,
}

impl FacetField {
    /// All facets, in a stable order.
    pub const ALL: [FacetField; 8] = [
        FacetField::Field,
        FacetField::Modes,
        FacetField::IpKinds,
        FacetField::Status,
        FacetField::Province,
        FacetField::Trl,
        FacetField::DualUse,
        FacetField::Tags,
    ];

    /// The key of this facet in [`SearchResults::facets`] (and its API name).
    pub fn as_str(self) -> &'static str {
        match self {
            FacetField::Field => "field",
            FacetField::Modes => "modes",
            FacetField::IpKinds => "ip_kinds",
            FacetField::Status => "status",
            FacetField::Province => "province",
            FacetField::Trl => "trl",
            FacetField::DualUse => "dual_use",
            FacetField::Tags => "tags",
        }
    }

    /// Parses an API name (the inverse of [`FacetField::as_str`]).
    pub fn parse(s: &str) -> Option<FacetField> {
        FacetField::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// Reference semantics: the facet values a document contributes (each counted once).
    pub fn values(self, doc: &SearchDoc) -> Vec<String> {
        let mut v: Vec<String> = match self {
            FacetField::Field => vec![doc.field.clone()],
            FacetField::Modes => doc.modes.clone(),
            FacetField::IpKinds => doc.ip_kinds.clone(),
            FacetField::Status => vec![doc.status.clone()],
            FacetField::Province => doc.province().map(str::to_string).into_iter().collect(),
            FacetField::Trl => doc.trl.map(|t| t.to_string()).into_iter().collect(),
            FacetField::DualUse => vec![doc.dual_use.to_string()],
            FacetField::Tags => doc.tags.clone(),
        };
        v.retain(|s| !s.is_empty());
        v.sort();
        v.dedup();
        v
    }
}

/// Result order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortOrder {
    /// Text relevance; without query text it falls back to [`SortOrder::Newest`].
    #[default]
    Relevance,
    /// `published_at` descending.
    Newest,
    /// Lowest stated amount (`amount_min`, else `amount_max`) ascending; documents without
    /// an amount last.
    AmountAsc,
    /// Highest stated amount (`amount_max`, else `amount_min`) descending; documents without
    /// an amount last.
    AmountDesc,
    /// `deadline` ascending; documents without a deadline last.
    DeadlineAsc,
}

impl SortOrder {
    /// Reference semantics for the non-relevance orders: ties are broken by ascending id.
    /// `Relevance` compares like `Newest` (what engines do without query text).
    pub fn compare(self, a: &SearchDoc, b: &SearchDoc) -> Ordering {
        // `None` sorts last in both directions.
        fn opt_asc(a: Option<i64>, b: Option<i64>) -> Ordering {
            match (a, b) {
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            }
        }
        fn opt_desc(a: Option<i64>, b: Option<i64>) -> Ordering {
            match (a, b) {
                (Some(x), Some(y)) => y.cmp(&x),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            }
        }
        let primary = match self {
            SortOrder::Relevance | SortOrder::Newest => b.published_at.cmp(&a.published_at),
            SortOrder::AmountAsc => opt_asc(a.amount_sort_low(), b.amount_sort_low()),
            SortOrder::AmountDesc => opt_desc(a.amount_sort_high(), b.amount_sort_high()),
            SortOrder::DeadlineAsc => opt_asc(a.deadline, b.deadline),
        };
        primary.then(a.id.cmp(&b.id))
    }
}

impl SearchDoc {
    /// Sort key of [`SortOrder::AmountAsc`]: the lowest stated amount.
    pub fn amount_sort_low(&self) -> Option<i64> {
        match (self.amount_min, self.amount_max) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Sort key of [`SortOrder::AmountDesc`]: the highest stated amount.
    pub fn amount_sort_high(&self) -> Option<i64> {
        match (self.amount_min, self.amount_max) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => b.or(a),
        }
    }
}

/// A search request.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchQuery {
    /// Free text typed by a user; tokenised, never parsed as query syntax. `None` or blank
    /// lists all documents passing the filters.
    pub text: Option<String>,
    pub filters: Filters,
    /// Facets to count over all matching documents (not just the page).
    pub facets: Vec<FacetField>,
    pub sort: SortOrder,
    /// Page size; engines clamp it to `1..=100`.
    pub limit: usize,
    /// Opaque cursor from a previous [`SearchResults::next_cursor`].
    pub cursor: Option<String>,
    /// Fill [`Hit::highlights`] for title and summary.
    pub highlight: bool,
    /// Rank documents having any of the words (long texts such as a whole need), instead of
    /// first asking for documents having all of them.
    pub any_word: bool,
    /// Only the best `limit` hits are wanted (matching's candidates), not how many match: an
    /// engine may then skip visiting every match, so [`SearchResults::total`] is only at least
    /// the hits returned, and no facets are counted.
    pub top_only: bool,
    /// The text is a whole document (a need, a listing: hundreds of words), not words typed
    /// into a box: an engine may rank it as one bag of words over every text field, summing
    /// each word's BM25 (the embedded engine then scores term at a time, which costs about one
    /// step per posting however many words there are). Used with `any_word` and `top_only`.
    pub long_text: bool,
}

impl Default for SearchQuery {
    fn default() -> Self {
        SearchQuery {
            text: None,
            filters: Filters::default(),
            facets: Vec::new(),
            sort: SortOrder::Relevance,
            limit: DEFAULT_LIMIT,
            cursor: None,
            highlight: false,
            any_word: false,
            top_only: false,
            long_text: false,
        }
    }
}

impl SearchQuery {
    /// A query for `text` with default settings.
    pub fn text(text: impl Into<String>) -> Self {
        SearchQuery {
            text: Some(text.into()),
            ..Default::default()
        }
    }

    /// The trimmed query text, `None` when blank.
    pub fn text_trimmed(&self) -> Option<&str> {
        self.text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
    }

    /// The page size after clamping to `1..=MAX_LIMIT`.
    pub fn effective_limit(&self) -> usize {
        self.limit.clamp(1, MAX_LIMIT)
    }

    /// The offset encoded in the cursor (0 without cursor).
    pub fn offset(&self) -> Result<usize, SearchError> {
        match &self.cursor {
            None => Ok(0),
            Some(c) => decode_cursor(c),
        }
    }
}

/// One result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    pub id: i64,
    /// Engine-specific relevance score (higher is better); not comparable across engines.
    pub score: f32,
    /// `"title"` / `"summary"` → HTML-escaped text with matches wrapped in `<em>…</em>`.
    /// Only present when asked for and when the field has a match.
    pub highlights: BTreeMap<String, String>,
}

/// A page of results.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchResults {
    pub hits: Vec<Hit>,
    /// Number of matching documents (may be an estimate on Meilisearch).
    pub total: u64,
    /// Facet name ([`FacetField::as_str`]) → value → number of matching documents.
    pub facets: BTreeMap<String, BTreeMap<String, u64>>,
    /// Cursor of the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// Per-index statistics.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IndexStats {
    pub docs: u64,
    /// Bytes on disk, where the engine knows it.
    pub bytes_on_disk: Option<u64>,
    /// The live generation / physical index name.
    pub generation: Option<String>,
    /// Segments searched per query, where the engine has them (embedded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segments: Option<u64>,
    /// Searches answered from the engine's result cache and searches looked up there but
    /// not found, since the live generation was opened (embedded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_cache: Option<ResultCacheStats>,
}

/// Lookups in a search engine's result cache.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultCacheStats {
    pub hits: u64,
    pub misses: u64,
    /// Of the hits, answers computed on an older searcher and carried over the commits since,
    /// which changed no document they match.
    #[serde(default)]
    pub carried: u64,
    /// Of the misses, answers from an older searcher that were recomputed because the
    /// reloads since were not all known (too many, another process's, a reopened writer).
    #[serde(default)]
    pub stale_unknown: u64,
    /// Of the misses, answers from an older searcher that were recomputed because a document
    /// changed since matched the query (or its words resolved differently).
    #[serde(default)]
    pub stale_touched: u64,
}

/// Engine statistics for the operator (`/readyz`, metrics, `ttx reindex`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EngineStats {
    /// `"embedded"` or `"meilisearch"`.
    pub kind: String,
    /// Index name → stats.
    pub indexes: BTreeMap<String, IndexStats>,
}

const CURSOR_PREFIX: &str = "o1:";

/// Encodes an offset as an opaque cursor.
pub fn encode_cursor(offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{offset}"))
}

/// Decodes a cursor made by [`encode_cursor`].
pub fn decode_cursor(cursor: &str) -> Result<usize, SearchError> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .map_err(|_| SearchError::InvalidCursor)?;
    let s = std::str::from_utf8(&raw).map_err(|_| SearchError::InvalidCursor)?;
    let n = s
        .strip_prefix(CURSOR_PREFIX)
        .ok_or(SearchError::InvalidCursor)?;
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SearchError::InvalidCursor);
    }
    let offset: usize = n.parse().map_err(|_| SearchError::InvalidCursor)?;
    if offset > MAX_OFFSET {
        return Err(SearchError::InvalidCursor);
    }
    Ok(offset)
}

/// The cursor of the page after `offset` with `returned` hits, if more remain.
pub fn next_cursor(offset: usize, returned: usize, total: u64) -> Option<String> {
    let next = offset + returned;
    (returned > 0 && (next as u64) < total && next <= MAX_OFFSET).then(|| encode_cursor(next))
}

/// Checks that an index name is a short `[a-z0-9_]` identifier.
pub fn validate_index_name(name: &str) -> Result<(), SearchError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(SearchError::InvalidIndex(name.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        assert_eq!(region_prefixes("440305"), ["44", "4403", "440305"]);
        assert_eq!(region_prefixes("440300"), ["44", "4403"]);
        assert_eq!(region_prefixes("440000"), ["44"]);
    }

    #[test]
    fn cursor_roundtrip() {
        assert_eq!(decode_cursor(&encode_cursor(40)).unwrap(), 40);
        assert!(matches!(
            decode_cursor("nope!"),
            Err(SearchError::InvalidCursor)
        ));
        assert!(matches!(decode_cursor(""), Err(SearchError::InvalidCursor)));
        let bad = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("o1:-3");
        assert!(matches!(
            decode_cursor(&bad),
            Err(SearchError::InvalidCursor)
        ));
    }
}
