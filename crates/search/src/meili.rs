//! The Meilisearch engine, for deployments that outgrow one machine.
//!
//! * Index uid = `index_prefix + name`; settings (searchable, filterable and sortable
//!   attributes, ranking rules, stop words, pagination and faceting limits) are applied the
//!   first time an index is used ([`MeiliEngine::ensure_index`]).
//! * Every write waits for its Meilisearch task, so a write is visible to searches once the
//!   call returns — the same contract as the embedded engine.
//! * Filters are built from typed values only: strings are quoted with `"` and `\` escaped,
//!   numbers are formatted integers; user text never reaches the filter expression. Query
//!   text is reduced to words (quotes, `-` and other operator characters become spaces).
//! * Semantics follow the embedded engine: all words must match, and if nothing does the
//!   query is retried with Meilisearch's `last` matching strategy; an explicit sort comes
//!   before relevance (the `sort` ranking rule is first) with the id as tie-breaker, and a
//!   relevance query without text is ordered newest first.
//! * Chinese: each text is indexed together with its jieba search-mode words (same
//!   dictionary as the embedded engine), so 电池 finds 锂电池 here too; highlights are
//!   computed locally with the embedded engine's analyzer, HTML-escaped.
//! * Partial Chinese words (钙钛, 钠电): each document also carries the character grams of its
//!   title, keywords and summary ([`crate::embedded::tokenizer::grams`]), each written as a
//!   Latin token (`zh` + hex code points) so that Meilisearch neither segments them nor
//!   tolerates typos in them (typo tolerance is off on that attribute). As in the embedded
//!   engine, a run of adjacent single characters in jieba's precise segmentation of the query
//!   (钠电 → 钠 电: a fragment jieba does not know as a word) is asked for by its consecutive
//!   grams from the start ([`fragment_query`]), so 钠电 finds 钠离子电池 and not 含钠废水的电解,
//!   and 钙钛 finds 钙钛矿; if that finds nothing the plain text is searched. When a query still
//!   finds nothing, all its Chinese runs are replaced by their grams and it is run again
//!   ([`gram_query`]: for a word jieba knows but no document has whole).
//! * English → Chinese: the term table of [`crate::embedded::en_zh`] is given to Meilisearch as
//!   one-way synonyms (`deep learning` → 深度学习), so the query as typed finds both. Synonyms
//!   are not weighted, so in relevance order a query with a phrase of the table is also run
//!   with each phrase replaced by its Chinese term as a quoted phrase ([`translated_queries`])
//!   in one federated multi-search, those renderings weighing 1.5 times the query as typed
//!   (the embedded engine's translation weight): `machine learning` ranks 机器学习 titles
//!   before English documents with both words. Meilisearch keeps each document once, at its
//!   best weighted score, and counts the total and the facets (`mergeFacets`) over the union
//!   (normally the query as typed's own set, which the synonyms already widen). Hit scores
//!   are then the weighted ones.
//! * Rebuild fills a temporary index, swaps it with the live one (`/swap-indexes`) and
//!   deletes the old one.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use async_trait::async_trait;
use meilisearch_sdk::client::{Client, SwapIndexes};
use meilisearch_sdk::errors::{Error as MeiliError, ErrorCode};
use meilisearch_sdk::search::{FederationOptions, MatchingStrategies, MergeFacets, Selectors};
use meilisearch_sdk::settings::{
    FacetingSettings, PaginationSetting, Settings, TypoToleranceSettings,
};
use meilisearch_sdk::task_info::TaskInfo;
use meilisearch_sdk::tasks::Task;
use serde::{Deserialize, Serialize};
use tantivy::tokenizer::TextAnalyzer;
use tokio::sync::Mutex;

use crate::embedded::tokenizer::{
    analyzer, grams, is_han, is_stopword, jieba, query_grams, query_terms, query_tokens,
    subword_analyzer, subwords,
};

use crate::engine::{DocFreqs, Rebuild, SearchEngine};
use crate::{
    doc::validate_index_name, highlight, next_cursor, EngineStats, Filters, Hit, IndexName,
    IndexStats, SearchDoc, SearchError, SearchQuery, SearchResults, SortOrder, MAX_LIMIT,
    MAX_OFFSET,
};

/// Searchable attributes in ranking order: each text is followed by its jieba search-mode
/// words (see [`crate::embedded::tokenizer::subwords`]), because Meilisearch's own Chinese
/// segmentation keeps 锂电池 whole and would not find it for 电池.
const SEARCHABLE: [&str; 10] = [
    "title",
    "title_sub",
    "keywords",
    "keywords_sub",
    "summary",
    "summary_sub",
    "body",
    "body_sub",
    "org_name",
    "grams",
];
const FILTERABLE: [&str; 17] = [
    "field",
    "modes",
    "ip_kinds",
    "status",
    "region_prefixes",
    "province",
    "dual_use",
    "trl",
    "amount_min",
    "amount_max",
    "amount_lo",
    "amount_hi",
    "negotiable",
    "negotiable_any",
    "org_id",
    "deadline",
    "tags",
];
const SORTABLE: [&str; 8] = [
    "id",
    "published_at",
    "amount_min",
    "amount_max",
    "deadline",
    "sort_amount_low",
    "sort_amount_high",
    "sort_deadline",
];
const RANKING_RULES: [&str; 6] = [
    "sort",
    "words",
    "typo",
    "proximity",
    "attribute",
    "exactness",
];
/// Same function words the embedded engine drops from queries.
const STOP_WORDS: [&str; 28] = [
    "的", "了", "和", "与", "及", "或", "在", "是", "对", "等", "之", "以及", "或者", "并且", "a",
    "an", "and", "or", "not", "the", "of", "for", "in", "on", "to", "with", "by", "at",
];
/// Sort-key stand-in for "no value" (sorts last ascending).
const BIG: i64 = 4_000_000_000_000_000_000;
const TASK_TIMEOUT: Duration = Duration::from_secs(300);
const TITLE_MAX_CHARS: usize = 200;
const SUMMARY_MAX_CHARS: usize = 120;

/// Meilisearch-backed [`SearchEngine`].
pub struct MeiliEngine {
    client: Client,
    prefix: String,
    /// Index uids whose settings are known to be applied.
    ready: Mutex<HashSet<String>>,
}

/// The document as stored in Meilisearch: the [`SearchDoc`] plus derived filter and sort
/// attributes; absent values are left out (comparisons on them are false).
#[derive(Serialize)]
struct MeiliDoc<'a> {
    id: i64,
    title: &'a str,
    summary: &'a str,
    body: &'a str,
    keywords: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    org_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    org_id: Option<i64>,
    field: &'a str,
    modes: &'a [String],
    ip_kinds: &'a [String],
    status: &'a str,
    region_code: &'a str,
    region_prefixes: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    province: Option<&'a str>,
    dual_use: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    trl: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    amount_min: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    amount_max: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    amount_lo: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    amount_hi: Option<i64>,
    negotiable: bool,
    negotiable_any: bool,
    published_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    deadline: Option<i64>,
    tags: &'a [String],
    sort_amount_low: i64,
    sort_amount_high: i64,
    sort_deadline: i64,
    title_sub: String,
    keywords_sub: String,
    summary_sub: String,
    body_sub: String,
    grams: String,
}

/// A character gram as one Latin token: `zh` and five hex digits per code point.
fn gram_token(g: &str) -> String {
    let mut out = String::with_capacity(2 + 5 * 2);
    out.push_str("zh");
    for c in g.chars() {
        out.push_str(&format!("{:05x}", c as u32));
    }
    out
}

/// The gram tokens of a document's title, keywords and summary, each once.
fn doc_grams(d: &SearchDoc) -> String {
    let mut seen = HashSet::new();
    let mut out: Vec<String> = Vec::new();
    let texts = std::iter::once(d.title.as_str())
        .chain(d.keywords.iter().map(String::as_str))
        .chain(std::iter::once(d.summary.as_str()));
    for t in texts {
        for g in grams(t) {
            if seen.insert(g.clone()) {
                out.push(gram_token(&g));
            }
        }
    }
    out.join(" ")
}

/// The query with each run of Chinese characters replaced by the gram tokens it must have
/// (`None` when it has no Chinese).
pub fn gram_query(text: &str) -> Option<String> {
    if !text.chars().any(is_han) {
        return None;
    }
    let mut out: Vec<String> = Vec::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut Vec<String>| {
        if !run.is_empty() {
            out.extend(query_grams(run).iter().map(|g| gram_token(g)));
            run.clear();
        }
    };
    for word in text.split_whitespace() {
        let mut other = String::new();
        for c in word.chars() {
            if is_han(c) {
                if !other.is_empty() {
                    out.push(std::mem::take(&mut other));
                }
                run.push(c);
            } else {
                flush(&mut run, &mut out);
                other.push(c);
            }
        }
        flush(&mut run, &mut out);
        if !other.is_empty() {
            out.push(other);
        }
    }
    Some(out.join(" "))
}

/// The query with each run of two or more adjacent single Han characters — what jieba's
/// precise mode makes of a fragment it does not know as a word (钠电 → 钠 电) — replaced by
/// the gram tokens the fragment must have ([`query_grams`]), as the embedded engine looks such
/// runs up in its gram fields. `None` when the query has no such run.
///
/// Without this, Meilisearch would match the characters anywhere in a document (钠电 would find
/// 含钠废水的电解 and rank it like 钠离子电池).
pub fn fragment_query(text: &str) -> Option<String> {
    let mut a = analyzer(jieba(), false);
    let toks = query_tokens(&mut a, text);
    let single = |t: &str| {
        let mut cs = t.chars();
        matches!((cs.next(), cs.next()), (Some(c), None) if is_han(c)) && !is_stopword(t)
    };
    // Byte ranges of the runs (at least two adjacent single characters).
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        if !single(&toks[i].0) {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < toks.len() && single(&toks[j].0) && toks[j - 1].2 == toks[j].1 {
            j += 1;
        }
        if j - i >= 2 {
            runs.push((toks[i].1, toks[j - 1].2));
        }
        i = j;
    }
    if runs.is_empty() {
        return None;
    }
    let mut out = String::new();
    let mut at = 0;
    for (from, to) in runs {
        out.push_str(&text[at..from]);
        out.push(' ');
        let grams: Vec<String> = query_grams(&text[from..to])
            .iter()
            .map(|g| gram_token(g))
            .collect();
        out.push_str(&grams.join(" "));
        out.push(' ');
        at = to;
    }
    out.push_str(&text[at..]);
    Some(out.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Weight of a query in which English phrases of the term table are replaced by their
/// Chinese terms, relative to the query as typed (the embedded engine's translation weight).
const TRANSLATION_WEIGHT: f32 = 1.5;
/// Weight of each word of a long text asked for on its own ([`SearchQuery::long_text`]):
/// documents having only some of the words, but not the rarest one that the frequency
/// strategy keeps to the end, come after those of the whole text instead of not at all.
const LONG_TEXT_WORD_WEIGHT: f32 = 0.25;
/// At most this many Chinese renderings of one query.
const MAX_TRANSLATIONS: usize = 3;

/// The query with each English phrase of the term table ([`crate::embedded::en_zh`]) replaced
/// by one of its Chinese terms, quoted as a phrase (`machine learning` → `"机器学习"`): the
/// k-th rendering uses each phrase's k-th term (or its last). Empty when no phrase matches.
///
/// The query as typed still finds the Chinese documents through the one-way synonyms, but
/// ranks them like English ones; searched beside these renderings with a higher weight
/// ([`MeiliEngine::run_search`]), the Chinese terms rank first as in the embedded engine.
pub fn translated_queries(text: &str) -> Vec<String> {
    let mut a = analyzer(jieba(), false);
    let toks = query_tokens(&mut a, text);
    let ascii: Vec<Option<&str>> = toks
        .iter()
        .map(|(t, _, _)| t.is_ascii().then_some(t.as_str()))
        .collect();
    let dict = crate::embedded::en_zh::dict();
    // (byte range, terms) of each phrase.
    let mut phrases: Vec<(usize, usize, &[String])> = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        if ascii[i].is_some() && !is_stopword(&toks[i].0) {
            if let Some((n, zh)) = dict.longest_at(&ascii, i) {
                phrases.push((toks[i].1, toks[i + n - 1].2, zh));
                i += n;
                continue;
            }
        }
        i += 1;
    }
    let most = phrases.iter().map(|p| p.2.len()).max().unwrap_or(0);
    let mut out: Vec<String> = Vec::new();
    for k in 0..most.min(MAX_TRANSLATIONS) {
        let mut q = String::new();
        let mut at = 0;
        for (from, to, zh) in &phrases {
            q.push_str(&text[at..*from]);
            let term = &zh[k.min(zh.len() - 1)];
            q.push_str(&format!(" \"{}\" ", plain_query(term)));
            at = *to;
        }
        q.push_str(&text[at..]);
        let q = q.split_whitespace().collect::<Vec<_>>().join(" ");
        if !out.contains(&q) {
            out.push(q);
        }
    }
    out
}

impl<'a> MeiliDoc<'a> {
    fn new(d: &'a SearchDoc, sub: &mut TextAnalyzer) -> Self {
        let range = d.amount_range();
        MeiliDoc {
            title_sub: subwords(sub, &d.title),
            keywords_sub: subwords(sub, &d.keywords.join(" ")),
            summary_sub: subwords(sub, &d.summary),
            body_sub: subwords(sub, &d.body),
            grams: doc_grams(d),
            id: d.id,
            title: &d.title,
            summary: &d.summary,
            body: &d.body,
            keywords: &d.keywords,
            org_name: d.org_name.as_deref(),
            org_id: d.org_id,
            field: &d.field,
            modes: &d.modes,
            ip_kinds: &d.ip_kinds,
            status: &d.status,
            region_code: &d.region_code,
            region_prefixes: &d.region_prefixes,
            province: d.province(),
            dual_use: d.dual_use,
            trl: d.trl,
            amount_min: d.amount_min,
            amount_max: d.amount_max,
            amount_lo: range.map(|r| r.0),
            amount_hi: range.map(|r| r.1),
            negotiable: d.negotiable,
            negotiable_any: d.is_negotiable(),
            published_at: d.published_at,
            deadline: d.deadline,
            tags: &d.tags,
            sort_amount_low: d.amount_sort_low().unwrap_or(BIG),
            sort_amount_high: d.amount_sort_high().unwrap_or(-BIG),
            sort_deadline: d.deadline.unwrap_or(BIG),
        }
    }
}

#[derive(Deserialize)]
struct IdOnly {
    id: i64,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    summary: Option<String>,
}

/// Quotes a string for a Meilisearch filter expression.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

fn any_of(attr: &str, values: &[String]) -> Option<String> {
    if values.is_empty() {
        return None;
    }
    let list: Vec<String> = values.iter().map(|v| quote(v)).collect();
    Some(format!("{attr} IN [{}]", list.join(", ")))
}

fn range(attr: &str, lo: Option<i64>, hi: Option<i64>) -> Option<String> {
    match (lo, hi) {
        (None, None) => None,
        (Some(l), None) => Some(format!("{attr} >= {l}")),
        (None, Some(h)) => Some(format!("{attr} <= {h}")),
        (Some(l), Some(h)) => Some(format!("({attr} >= {l} AND {attr} <= {h})")),
    }
}

/// Builds the filter expression from typed values (`None` = no filter).
pub fn filter_expression(f: &Filters) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    parts.extend(any_of("field", &f.fields));
    parts.extend(any_of("modes", &f.modes));
    parts.extend(any_of("ip_kinds", &f.ip_kinds));
    parts.extend(any_of("status", &f.statuses));
    if let Some(p) = &f.region_prefix {
        parts.push(format!("region_prefixes = {}", quote(p.trim())));
    }
    parts.extend(range("trl", f.trl_min, f.trl_max));
    if f.has_amount() {
        // Overlap of [amount_lo, amount_hi] with the wanted range.
        let mut overlap = Vec::new();
        if let Some(hi) = f.amount_max {
            overlap.push(format!("amount_lo <= {hi}"));
        }
        if let Some(lo) = f.amount_min {
            overlap.push(format!("amount_hi >= {lo}"));
        }
        let overlap = format!("({})", overlap.join(" AND "));
        if f.include_negotiable {
            parts.push(format!("({overlap} OR negotiable_any = true)"));
        } else {
            parts.push(overlap);
        }
    }
    if let Some(d) = f.dual_use {
        parts.push(format!("dual_use = {d}"));
    }
    if let Some(o) = f.org_id {
        parts.push(format!("org_id = {o}"));
    }
    parts.extend(range("deadline", f.deadline_from, f.deadline_to));
    for t in &f.tags {
        parts.push(format!("tags = {}", quote(t)));
    }
    (!parts.is_empty()).then(|| parts.join(" AND "))
}

/// Reduces user text to words: characters other than letters, digits and spaces become
/// spaces, so quotes and `-` lose their operator meaning.
pub fn plain_query(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn sort_spec(order: SortOrder, has_text: bool) -> Vec<&'static str> {
    match order {
        SortOrder::Relevance if has_text => vec![],
        SortOrder::Relevance | SortOrder::Newest => vec!["published_at:desc", "id:asc"],
        SortOrder::AmountAsc => vec!["sort_amount_low:asc", "id:asc"],
        SortOrder::AmountDesc => vec!["sort_amount_high:desc", "id:asc"],
        SortOrder::DeadlineAsc => vec!["sort_deadline:asc", "id:asc"],
    }
}

/// Waits for a task and turns its failure into an error.
async fn wait(client: &Client, task: TaskInfo) -> Result<(), SearchError> {
    match client
        .wait_for_task(task, Some(Duration::from_millis(20)), Some(TASK_TIMEOUT))
        .await?
    {
        Task::Failed { content } => Err(SearchError::Engine(format!(
            "meilisearch task failed: {}",
            content.error.error_message
        ))),
        _ => Ok(()),
    }
}

/// Adds or replaces documents and waits for the task.
async fn add_docs(client: &Client, uid: &str, docs: &[SearchDoc]) -> Result<(), SearchError> {
    if docs.is_empty() {
        return Ok(());
    }
    // Meilisearch keeps the last version of a repeated id within one payload.
    let mut sub = subword_analyzer();
    let payload: Vec<MeiliDoc<'_>> = docs.iter().map(|d| MeiliDoc::new(d, &mut sub)).collect();
    let task = client
        .index(uid)
        .add_or_replace(&payload, Some("id"))
        .await?;
    wait(client, task).await
}

impl MeiliEngine {
    /// A client for `url` (e.g. `http://127.0.0.1:7700`); index uids are
    /// `index_prefix + name` (tests use a random prefix to run in parallel).
    pub fn new(
        url: impl Into<String>,
        api_key: Option<String>,
        index_prefix: impl Into<String>,
    ) -> Result<MeiliEngine, SearchError> {
        Ok(MeiliEngine {
            client: Client::new(url, api_key)?,
            prefix: index_prefix.into(),
            ready: Mutex::new(HashSet::new()),
        })
    }

    /// Whether the server answers its health check.
    pub async fn healthy(&self) -> bool {
        self.client.is_healthy().await
    }

    /// The uid of a logical index.
    pub fn uid(&self, index: &str) -> String {
        format!("{}{index}", self.prefix)
    }

    async fn wait(&self, task: TaskInfo) -> Result<(), SearchError> {
        wait(&self.client, task).await
    }

    fn settings() -> Settings {
        Settings::new()
            .with_searchable_attributes(SEARCHABLE)
            .with_filterable_attributes(FILTERABLE)
            .with_sortable_attributes(SORTABLE)
            .with_ranking_rules(RANKING_RULES)
            .with_stop_words(STOP_WORDS)
            .with_synonyms(crate::embedded::en_zh::synonyms())
            .with_typo_tolerance(TypoToleranceSettings {
                enabled: Some(true),
                disable_on_attributes: Some(vec!["grams".to_string()]),
                disable_on_words: None,
                min_word_size_for_typos: None,
                disable_on_numbers: None,
            })
            .with_pagination(PaginationSetting {
                max_total_hits: MAX_OFFSET + MAX_LIMIT,
            })
            .with_faceting(FacetingSettings {
                max_values_per_facet: 1000,
                sort_facet_values_by: None,
            })
    }

    /// Creates the index `uid` (if missing) and applies the settings, waiting for both.
    async fn setup_uid(&self, uid: &str) -> Result<(), SearchError> {
        let task = self.client.create_index(uid, Some("id")).await?;
        match self
            .client
            .wait_for_task(task, Some(Duration::from_millis(20)), Some(TASK_TIMEOUT))
            .await?
        {
            Task::Failed { content }
                if content.error.error_code != ErrorCode::IndexAlreadyExists =>
            {
                return Err(SearchError::Engine(format!(
                    "creating meilisearch index {uid}: {}",
                    content.error.error_message
                )));
            }
            _ => {}
        }
        let task = self
            .client
            .index(uid)
            .set_settings(&Self::settings())
            .await?;
        self.wait(task).await
    }

    /// Creates the index if needed and applies the settings (once per engine and index).
    pub async fn ensure_index(&self, index: IndexName) -> Result<(), SearchError> {
        validate_index_name(index)?;
        let uid = self.uid(index);
        let mut ready = self.ready.lock().await;
        if ready.contains(&uid) {
            return Ok(());
        }
        self.setup_uid(&uid).await?;
        ready.insert(uid);
        Ok(())
    }

    /// Deletes the index (tests use it to clean up).
    pub async fn drop_index(&self, index: IndexName) -> Result<(), SearchError> {
        let uid = self.uid(index);
        self.ready.lock().await.remove(&uid);
        match self.client.index(&uid).delete().await {
            Ok(task) => self.wait(task).await.or(Ok(())),
            Err(MeiliError::Meilisearch(e)) if e.error_code == ErrorCode::IndexNotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Runs `text`, alone or — when `translated` is not empty — federated with those
    /// Chinese renderings of it ([`translated_queries`]), which weigh [`TRANSLATION_WEIGHT`]
    /// times the original: Meilisearch keeps each document once, at its best weighted
    /// score, and counts totals and facets over the union.
    #[allow(clippy::too_many_arguments)]
    async fn run_search(
        &self,
        uid: &str,
        q: &SearchQuery,
        text: &str,
        translated: &[String],
        strategy: MatchingStrategies,
        offset: usize,
        limit: usize,
    ) -> Result<Found, SearchError> {
        let index = self.client.index(uid);
        let filter = filter_expression(&q.filters);
        let facet_names: Vec<&str> = q.facets.iter().map(|f| f.as_str()).collect();
        let sort = sort_spec(q.sort, !text.is_empty());
        let retrieve: &[&str] = if q.highlight && !text.is_empty() {
            // Highlighted here with the same analyzer as the embedded engine.
            &["id", "title", "summary"]
        } else {
            &["id"]
        };
        let query = |text| {
            search_query(
                &index,
                text,
                strategy.clone(),
                filter.as_deref(),
                &sort,
                retrieve,
            )
        };
        if translated.is_empty() {
            let mut s = query(text);
            s.with_offset(offset).with_limit(limit);
            if !facet_names.is_empty() {
                s.with_facets(Selectors::Some(&facet_names));
            }
            let r = s.execute::<IdOnly>().await?;
            return Ok(Found {
                total: r.total_hits.or(r.estimated_total_hits).unwrap_or(0) as u64,
                hits: r
                    .hits
                    .into_iter()
                    .map(|h| (h.result, h.ranking_score.unwrap_or(0.0)))
                    .collect(),
                facets: r.facet_distribution.unwrap_or_default(),
            });
        }
        let mut multi = self.client.multi_search();
        for t in translated {
            multi.with_search_query_and_weight(query(t), TRANSLATION_WEIGHT);
        }
        multi.with_search_query(query(text));
        let facets_by_index = (!facet_names.is_empty()).then(|| {
            HashMap::from([(
                uid.to_string(),
                facet_names.iter().map(|f| f.to_string()).collect(),
            )])
        });
        let merge_facets = facets_by_index.as_ref().map(|_| MergeFacets {
            max_values_per_facet: Some(1000),
        });
        let r = multi
            .with_federation(FederationOptions {
                offset: Some(offset),
                limit: Some(limit),
                facets_by_index,
                merge_facets,
                show_performance_details: None,
            })
            .execute::<IdOnly>()
            .await?;
        Ok(Found {
            total: r.estimated_total_hits as u64,
            hits: r
                .hits
                .into_iter()
                .map(|h| {
                    let score = federated_score(&h);
                    (h.result, score)
                })
                .collect(),
            facets: r.facet_distribution.unwrap_or_default(),
        })
    }
}

impl MeiliEngine {
    /// A whole need or listing (its most telling words, see [`SearchEngine::query_word_limit`]):
    /// the words together with the frequency strategy, which drops the most frequent words
    /// first but always keeps the rarest, and each word on its own at
    /// [`LONG_TEXT_WORD_WEIGHT`], in one federated request. Any word then finds a document,
    /// as the embedded engine's sum of BM25 over the words does; those having the rarest words
    /// rank first.
    async fn long_text_search(
        &self,
        uid: &str,
        q: &SearchQuery,
        text: &str,
        offset: usize,
        limit: usize,
    ) -> Result<SearchResults, SearchError> {
        let index = self.client.index(uid);
        let filter = filter_expression(&q.filters);
        let build =
            |text, strategy| search_query(&index, text, strategy, filter.as_deref(), &[], &["id"]);
        let mut words: Vec<&str> = Vec::new();
        for w in text.split_whitespace() {
            if !words.contains(&w) {
                words.push(w);
            }
        }
        let mut multi = self.client.multi_search();
        multi.with_search_query(build(text, MatchingStrategies::FREQUENCY));
        for w in &words {
            multi.with_search_query_and_weight(
                build(w, MatchingStrategies::ALL),
                LONG_TEXT_WORD_WEIGHT,
            );
        }
        let r = multi
            .with_federation(FederationOptions {
                offset: Some(offset),
                limit: Some(limit),
                facets_by_index: None,
                merge_facets: None,
                show_performance_details: None,
            })
            .execute::<IdOnly>()
            .await?;
        let hits = r
            .hits
            .into_iter()
            .map(|h| Hit {
                id: h.result.id,
                score: federated_score(&h) as f32,
                highlights: BTreeMap::new(),
            })
            .collect();
        Ok(SearchResults {
            hits,
            total: r.estimated_total_hits as u64,
            ..Default::default()
        })
    }
}

/// One search of a multi-search (or a search on its own): `text` in `index` with `strategy`,
/// ranking scores shown, `retrieve` fields returned.
fn search_query<'a>(
    index: &'a meilisearch_sdk::indexes::Index,
    text: &'a str,
    strategy: MatchingStrategies,
    filter: Option<&'a str>,
    sort: &'a [&'a str],
    retrieve: &'a [&'a str],
) -> meilisearch_sdk::search::SearchQuery<'a, meilisearch_sdk::reqwest::ReqwestClient> {
    let mut s = index.search();
    s.with_query(text)
        .with_matching_strategy(strategy)
        .with_show_ranking_score(true)
        .with_attributes_to_retrieve(Selectors::Some(retrieve));
    if let Some(f) = filter {
        s.with_filter(f);
    }
    if !sort.is_empty() {
        s.with_sort(sort);
    }
    s
}

/// A hit's score in a federated search: its weighted ranking score (its ranking score outside
/// a federation).
fn federated_score<T>(h: &meilisearch_sdk::search::SearchResult<T>) -> f64 {
    h.federation
        .as_ref()
        .map(|f| f64::from(f.weighted_ranking_score))
        .or(h.ranking_score)
        .unwrap_or(0.0)
}

/// One page of results, from a plain or a federated search.
struct Found {
    hits: Vec<(IdOnly, f64)>,
    total: u64,
    facets: HashMap<String, HashMap<String, usize>>,
}

#[async_trait]
impl SearchEngine for MeiliEngine {
    fn kind(&self) -> &'static str {
        "meilisearch"
    }

    async fn upsert(&self, index: IndexName, docs: Vec<SearchDoc>) -> Result<(), SearchError> {
        self.ensure_index(index).await?;
        add_docs(&self.client, &self.uid(index), &docs).await
    }

    async fn delete(&self, index: IndexName, ids: &[i64]) -> Result<(), SearchError> {
        if ids.is_empty() {
            return Ok(());
        }
        self.ensure_index(index).await?;
        let task = self
            .client
            .index(self.uid(index))
            .delete_documents(ids)
            .await?;
        self.wait(task).await
    }

    async fn search(
        &self,
        index: IndexName,
        q: &SearchQuery,
    ) -> Result<SearchResults, SearchError> {
        let offset = q.offset()?;
        let limit = q.effective_limit();
        self.ensure_index(index).await?;
        let uid = self.uid(index);
        let text = q.text_trimmed().map(plain_query).unwrap_or_default();
        let first = || {
            if q.any_word {
                MatchingStrategies::FREQUENCY
            } else {
                MatchingStrategies::ALL
            }
        };
        // English phrases of the term table are also searched as their Chinese terms, weighted
        // above the English words (relevance order only: a sort ignores scores).
        let translated = if sort_spec(q.sort, !text.is_empty()).is_empty() {
            translated_queries(&text)
        } else {
            Vec::new()
        };
        // Fragments jieba splits into single characters (钠电) are asked for by their grams;
        // if no document has them, the characters are searched as words.
        if q.long_text
            && q.any_word
            && translated.is_empty()
            && text.split_whitespace().nth(1).is_some()
        {
            return self.long_text_search(&uid, q, &text, offset, limit).await;
        }
        let frag = fragment_query(&text);
        let mut fragments = frag.is_some();
        let mut res = self
            .run_search(
                &uid,
                q,
                frag.as_deref().unwrap_or(&text),
                &translated,
                first(),
                offset,
                limit,
            )
            .await?;
        if res.total == 0 && frag.is_some() {
            res = self
                .run_search(&uid, q, &text, &translated, first(), offset, limit)
                .await?;
            fragments = false;
        }
        if res.total == 0 && !q.any_word {
            // Partial Chinese words: ask for their character grams.
            if let Some(gq) = gram_query(&text) {
                let r = self
                    .run_search(&uid, q, &gq, &[], MatchingStrategies::ALL, offset, limit)
                    .await?;
                if r.total > 0 {
                    res = r;
                    fragments = true;
                }
            }
        }
        if res.total == 0 && text.split_whitespace().nth(1).is_some() {
            res = self
                .run_search(&uid, q, &text, &[], MatchingStrategies::LAST, offset, limit)
                .await?;
        }
        let total = res.total;
        let terms: HashSet<String> = if q.highlight && !text.is_empty() {
            let mut qa = analyzer(jieba(), false);
            let mut t: HashSet<String> = query_terms(&mut qa, &text).into_iter().collect();
            for (_, zh) in crate::embedded::en_zh::expansions(&text) {
                t.extend(zh);
            }
            if fragments {
                t.extend(
                    text.split(|c: char| !is_han(c))
                        .filter(|r| !r.is_empty())
                        .map(str::to_string),
                );
            }
            t
        } else {
            HashSet::new()
        };
        let hits: Vec<Hit> = res
            .hits
            .into_iter()
            .map(|(h, score)| {
                let mut highlights = BTreeMap::new();
                for (name, text, max) in [
                    ("title", &h.title, TITLE_MAX_CHARS),
                    ("summary", &h.summary, SUMMARY_MAX_CHARS),
                ] {
                    if let Some(html) = text
                        .as_deref()
                        .and_then(|t| highlight::highlight_terms(t, &terms, max))
                    {
                        highlights.insert(name.to_string(), html);
                    }
                }
                Hit {
                    id: h.id,
                    score: if text.is_empty() { 0.0 } else { score as f32 },
                    highlights,
                }
            })
            .collect();
        let mut facets: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
        let dist: HashMap<String, HashMap<String, usize>> = res.facets;
        for f in &q.facets {
            let m: BTreeMap<String, u64> = dist
                .get(f.as_str())
                .map(|m| {
                    m.iter()
                        .filter(|(_, n)| **n > 0)
                        .map(|(k, n)| (k.clone(), *n as u64))
                        .collect()
                })
                .unwrap_or_default();
            facets.insert(f.as_str().to_string(), m);
        }
        Ok(SearchResults {
            next_cursor: next_cursor(offset, hits.len(), total),
            hits,
            total,
            facets,
        })
    }

    /// Meilisearch reads at most ten words of a query ("known limitations" in its
    /// documentation); the words after the tenth are ignored.
    fn query_word_limit(&self) -> Option<usize> {
        Some(10)
    }

    async fn doc_freqs(
        &self,
        index: IndexName,
        terms: &[String],
    ) -> Result<Option<DocFreqs>, SearchError> {
        let docs = self.count(index).await?;
        if terms.is_empty() {
            return Ok(Some(DocFreqs {
                docs,
                freqs: vec![],
            }));
        }
        // One multi-search: each term alone, one hit a page (so the totals are exhaustive).
        let idx = self.client.index(self.uid(index));
        let mut multi = self.client.multi_search();
        for t in terms {
            let mut s = idx.search();
            s.with_query(t)
                .with_matching_strategy(MatchingStrategies::ALL)
                .with_hits_per_page(1)
                .with_attributes_to_retrieve(Selectors::Some(&["id"]));
            multi.with_search_query(s);
        }
        let r = multi.execute::<IdOnly>().await?;
        let freqs = r
            .results
            .iter()
            .map(|x| x.total_hits.or(x.estimated_total_hits).unwrap_or(0) as u64)
            .collect();
        Ok(Some(DocFreqs { docs, freqs }))
    }

    async fn count(&self, index: IndexName) -> Result<u64, SearchError> {
        self.ensure_index(index).await?;
        let stats = self.client.index(self.uid(index)).get_stats().await?;
        Ok(stats.number_of_documents as u64)
    }

    async fn stats(&self) -> Result<EngineStats, SearchError> {
        let stats = self.client.get_stats().await?;
        let mut indexes = BTreeMap::new();
        for (uid, s) in stats.indexes {
            if let Some(name) = uid.strip_prefix(&self.prefix) {
                if validate_index_name(name).is_ok() {
                    indexes.insert(
                        name.to_string(),
                        IndexStats {
                            docs: s.number_of_documents as u64,
                            bytes_on_disk: None,
                            generation: Some(uid.clone()),
                            segments: None,
                            result_cache: None,
                        },
                    );
                }
            }
        }
        Ok(EngineStats {
            kind: "meilisearch".into(),
            indexes,
        })
    }

    async fn rebuild(&self, index: IndexName) -> Result<Box<dyn Rebuild>, SearchError> {
        self.ensure_index(index).await?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let tmp = format!("{}__rebuild_{nanos}", self.uid(index));
        self.setup_uid(&tmp).await?;
        Ok(Box::new(MeiliRebuild {
            client: self.client.clone(),
            live: self.uid(index),
            tmp,
        }))
    }
}

/// A temporary index being filled (see [`SearchEngine::rebuild`]). Dropped without
/// `swap`, the temporary index is left behind (named `<uid>__rebuild_<nanos>`).
struct MeiliRebuild {
    client: Client,
    live: String,
    tmp: String,
}

#[async_trait]
impl Rebuild for MeiliRebuild {
    async fn add(&mut self, docs: Vec<SearchDoc>) -> Result<(), SearchError> {
        add_docs(&self.client, &self.tmp, &docs).await
    }

    async fn swap(self: Box<Self>) -> Result<(), SearchError> {
        let task = self
            .client
            .swap_indexes([&SwapIndexes {
                indexes: (self.live.clone(), self.tmp.clone()),
                rename: None,
            }])
            .await?;
        wait(&self.client, task).await?;
        // `tmp` now holds the old documents.
        let task = self.client.index(&self.tmp).delete().await?;
        wait(&self.client, task).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_quoted() {
        let f = Filters {
            fields: vec![r#"a" OR field = "b"#.into()],
            tags: vec![r"x\".into()],
            trl_min: Some(3),
            amount_min: Some(100),
            include_negotiable: true,
            ..Default::default()
        };
        let e = filter_expression(&f).unwrap();
        assert_eq!(
            e,
            r#"field IN ["a\" OR field = \"b"] AND trl >= 3 AND ((amount_hi >= 100) OR negotiable_any = true) AND tags = "x\\""#
        );
        assert_eq!(filter_expression(&Filters::default()), None);
    }

    #[test]
    fn gram_queries() {
        assert_eq!(gram_query("battery"), None);
        assert_eq!(
            gram_query("钠电 battery"),
            Some(format!("{} battery", gram_token("钠电")))
        );
        assert_eq!(gram_token("钠电"), "zh094a007535");
        assert_eq!(
            gram_query("5G钠电池").unwrap(),
            format!("5G {} {}", gram_token("钠电"), gram_token("电池"))
        );
    }

    #[test]
    fn fragment_queries() {
        // Known words and English are left alone.
        assert_eq!(fragment_query("钙钛矿 battery"), None);
        assert_eq!(fragment_query("电池"), None);
        assert_eq!(fragment_query("钠"), None);
        // A run of single characters becomes its consecutive grams.
        assert_eq!(fragment_query("钠电").unwrap(), gram_token("钠电"));
        assert_eq!(fragment_query("钙钛").unwrap(), gram_token("钙钛"));
        assert_eq!(
            fragment_query("钠电 正极材料").unwrap(),
            format!("{} 正极材料", gram_token("钠电"))
        );
        // Separate single characters are not one fragment.
        assert_eq!(fragment_query("钠 电"), None);
        // Stop words do not join a fragment.
        assert_eq!(fragment_query("钠的电"), None);
    }

    #[test]
    fn translated_query_renderings() {
        assert!(translated_queries("钙钛矿 封装").is_empty());
        assert!(translated_queries("xyzzy").is_empty());
        assert_eq!(translated_queries("machine learning"), [r#""机器学习""#]);
        // The rest of the query is kept; phrases match after stemming.
        assert_eq!(
            translated_queries("machine learning 合金"),
            [r#""机器学习" 合金"#]
        );
        let lithium = crate::embedded::en_zh::dict()
            .get("lithium battery")
            .unwrap()
            .to_vec();
        let got = translated_queries("lithium batteries");
        assert_eq!(got.len(), lithium.len().min(MAX_TRANSLATIONS));
        for (q, t) in got.iter().zip(&lithium) {
            assert_eq!(q, &format!("\"{t}\""));
        }
    }

    #[test]
    fn query_text_loses_operators() {
        assert_eq!(plain_query(r#""芯片" AND (OR) -- \\ " '"#), "芯片 AND OR");
        assert_eq!(plain_query("-电池 CRISPR-Cas12"), "电池 CRISPR Cas12");
    }
}
