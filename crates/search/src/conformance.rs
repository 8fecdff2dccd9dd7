//! The conformance suite every [`SearchEngine`] must pass.
//!
//! [`run_conformance`] loads a fixed set of 46 documents ([`fixture`]: Chinese, English and
//! mixed text; several fields, modes, regions, TRLs, prices including negotiable ones,
//! statuses and dual-use flags) into a dedicated index and checks text matching, filters,
//! facets, sorts, pagination, highlighting, writes and rebuilds against brute-force answers
//! computed from the fixture with the reference semantics of [`Filters::matches`],
//! [`FacetField::values`] and [`SortOrder::compare`].
//!
//! The index is emptied first (through a rebuild) and left holding the modified fixture.
//! Use a dedicated index name: the suite owns its content.
//!
//! ```text
//! let report = ttx_search::conformance::run_conformance(engine, "conformance").await;
//! report.assert_ok();
//! ```

mod language;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

use crate::{
    FacetField, Filters, IndexName, SearchDoc, SearchEngine, SearchError, SearchQuery,
    SearchResults, SortOrder,
};

const FIXTURE_JSON: &str = include_str!("../data/conformance_fixture.json");

/// 万元 in fen.
const WAN: i64 = 1_000_000;

/// The 46 fixture documents (region prefixes filled in).
pub fn fixture() -> Vec<SearchDoc> {
    let mut docs: Vec<SearchDoc> =
        serde_json::from_str(FIXTURE_JSON).expect("conformance fixture is valid JSON");
    for d in &mut docs {
        if d.region_prefixes.is_empty() {
            d.region_prefixes = crate::region_prefixes(&d.region_code);
        }
    }
    docs
}

/// Outcome of [`run_conformance`].
#[derive(Clone, Debug, Default)]
pub struct ConformanceReport {
    /// [`SearchEngine::kind`] of the engine under test.
    pub engine: String,
    pub index: String,
    /// Names of the checks that passed.
    pub passed: Vec<String>,
    /// `name: reason` of the checks that failed.
    pub failed: Vec<String>,
    /// Checks not applicable to this engine (`name: why`).
    pub skipped: Vec<String>,
}

impl ConformanceReport {
    /// No check failed.
    pub fn is_ok(&self) -> bool {
        self.failed.is_empty()
    }

    /// One-line summary.
    pub fn summary(&self) -> String {
        format!(
            "conformance {} on {:?}: {} passed, {} failed, {} skipped",
            self.engine,
            self.index,
            self.passed.len(),
            self.failed.len(),
            self.skipped.len()
        )
    }

    /// Panics with every failure when a check failed.
    pub fn assert_ok(&self) {
        if !self.is_ok() {
            panic!("{}\n  - {}", self.summary(), self.failed.join("\n  - "));
        }
    }
}

type Check = Result<(), String>;

struct Ctx {
    engine: Arc<dyn SearchEngine>,
    index: IndexName,
    docs: Vec<SearchDoc>,
    report: ConformanceReport,
}

fn ids_of(r: &SearchResults) -> Vec<i64> {
    r.hits.iter().map(|h| h.id).collect()
}

fn set(ids: impl IntoIterator<Item = i64>) -> BTreeSet<i64> {
    ids.into_iter().collect()
}

/// Does the document contain `word` (case-insensitive) in a searchable field?
fn contains_word(d: &SearchDoc, word: &str) -> bool {
    let w = word.to_lowercase();
    let hit = |s: &str| s.to_lowercase().contains(&w);
    hit(&d.title)
        || hit(&d.summary)
        || hit(&d.body)
        || d.keywords.iter().any(|k| hit(k))
        || d.org_name.as_deref().is_some_and(hit)
}

fn eq_sets(what: &str, got: &BTreeSet<i64>, want: &BTreeSet<i64>) -> Check {
    if got == want {
        Ok(())
    } else {
        Err(format!(
            "{what}: got {got:?}, want {want:?} (missing {:?}, unexpected {:?})",
            want.difference(got).collect::<Vec<_>>(),
            got.difference(want).collect::<Vec<_>>()
        ))
    }
}

impl Ctx {
    fn record(&mut self, name: &str, res: Check) {
        match res {
            Ok(()) => self.report.passed.push(name.to_string()),
            Err(e) => self.report.failed.push(format!("{name}: {e}")),
        }
    }

    fn skip(&mut self, name: &str, why: &str) {
        self.report.skipped.push(format!("{name}: {why}"));
    }

    async fn search(&self, q: &SearchQuery) -> Result<SearchResults, String> {
        self.engine
            .search(self.index, q)
            .await
            .map_err(|e| format!("search {:?} failed: {e}", q.text))
    }

    /// Every hit of a query, following cursors; checks that no id repeats.
    async fn all_ids(&self, q: &SearchQuery) -> Result<(Vec<i64>, u64), String> {
        let mut q = q.clone();
        let mut out = Vec::new();
        let mut total = None;
        for _ in 0..200 {
            let r = self.search(&q).await?;
            total.get_or_insert(r.total);
            out.extend(ids_of(&r));
            match r.next_cursor {
                Some(c) => q.cursor = Some(c),
                None => {
                    let mut seen = HashSet::new();
                    if let Some(dup) = out.iter().find(|id| !seen.insert(**id)) {
                        return Err(format!("id {dup} returned twice while paging"));
                    }
                    return Ok((out, total.unwrap_or(0)));
                }
            }
        }
        Err("pagination did not terminate".into())
    }

    /// Brute force: documents containing every word and passing the filters.
    fn expected(&self, words: &[&str], filters: &Filters) -> Vec<&SearchDoc> {
        self.docs
            .iter()
            .filter(|d| words.iter().all(|w| contains_word(d, w)) && filters.matches(d))
            .collect()
    }

    fn expected_ids(&self, words: &[&str], filters: &Filters) -> BTreeSet<i64> {
        set(self.expected(words, filters).iter().map(|d| d.id))
    }

    fn expected_facets(
        &self,
        words: &[&str],
        filters: &Filters,
        facets: &[FacetField],
    ) -> BTreeMap<String, BTreeMap<String, u64>> {
        let mut out: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
        for f in facets {
            let m = out.entry(f.as_str().to_string()).or_default();
            for d in self.expected(words, filters) {
                for v in f.values(d) {
                    *m.entry(v).or_insert(0) += 1;
                }
            }
        }
        out
    }

    /// The query's full result set equals the brute-force set; `total` agrees.
    async fn check_set(&self, text: Option<&str>, words: &[&str], filters: Filters) -> Check {
        let q = SearchQuery {
            text: text.map(str::to_string),
            filters: filters.clone(),
            limit: 100,
            ..Default::default()
        };
        let (ids, total) = self.all_ids(&q).await?;
        let want = self.expected_ids(words, &filters);
        eq_sets("result set", &set(ids.iter().copied()), &want)?;
        if total != want.len() as u64 {
            return Err(format!("total {total}, want {}", want.len()));
        }
        Ok(())
    }

    /// Title matches rank before matches elsewhere.
    async fn check_title_first(&self, word: &str) -> Check {
        let r = self
            .search(&SearchQuery {
                limit: 100,
                ..SearchQuery::text(word)
            })
            .await?;
        let in_title: Vec<bool> = r
            .hits
            .iter()
            .map(|h| {
                self.docs
                    .iter()
                    .find(|d| d.id == h.id)
                    .is_some_and(|d| d.title.to_lowercase().contains(&word.to_lowercase()))
            })
            .collect();
        if let Some(first_other) = in_title.iter().position(|t| !t) {
            if in_title[first_other..].iter().any(|t| *t) {
                return Err(format!(
                    "a title match ranks below a non-title match: {:?}",
                    ids_of(&r)
                ));
            }
        }
        Ok(())
    }

    async fn check_top(&self, text: &str, want_first: i64) -> Check {
        let r = self.search(&SearchQuery::text(text)).await?;
        match r.hits.first() {
            Some(h) if h.id == want_first => Ok(()),
            _ => Err(format!(
                "{text:?}: first hit should be {want_first}, got {:?}",
                ids_of(&r)
            )),
        }
    }

    async fn check_facets(&self, text: Option<&str>, words: &[&str], filters: Filters) -> Check {
        let q = SearchQuery {
            text: text.map(str::to_string),
            filters: filters.clone(),
            facets: FacetField::ALL.to_vec(),
            limit: 3,
            ..Default::default()
        };
        let r = self.search(&q).await?;
        let want = self.expected_facets(words, &filters, &FacetField::ALL);
        for f in FacetField::ALL {
            let got: BTreeMap<String, u64> = r
                .facets
                .get(f.as_str())
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter(|(_, n)| *n > 0)
                .collect();
            let w = want.get(f.as_str()).cloned().unwrap_or_default();
            if got != w {
                return Err(format!("facet {}: got {got:?}, want {w:?}", f.as_str()));
            }
        }
        Ok(())
    }

    async fn check_sort(&self, sort: SortOrder, filters: Filters) -> Check {
        let q = SearchQuery {
            filters: filters.clone(),
            sort,
            limit: 100,
            ..Default::default()
        };
        let r = self.search(&q).await?;
        let mut want = self.expected(&[], &filters);
        want.sort_by(|a, b| sort.compare(a, b));
        let want: Vec<i64> = want.iter().map(|d| d.id).collect();
        let got = ids_of(&r);
        if got != want {
            return Err(format!("{sort:?}: got {got:?}, want {want:?}"));
        }
        Ok(())
    }

    async fn count_is(&self, n: usize) -> Check {
        let c = self
            .engine
            .count(self.index)
            .await
            .map_err(|e| format!("count failed: {e}"))?;
        if c == n as u64 {
            Ok(())
        } else {
            Err(format!("count {c}, want {n}"))
        }
    }
}

/// Runs the whole suite against `engine` on the dedicated index `index`, one section after the
/// other (a section records its checks in the report); nothing runs when the fixture does not load.
pub async fn run_conformance(engine: Arc<dyn SearchEngine>, index: IndexName) -> ConformanceReport {
    let mut cx = Ctx {
        report: ConformanceReport {
            engine: engine.kind().to_string(),
            index: index.to_string(),
            ..Default::default()
        },
        engine,
        index,
        docs: fixture(),
    };
    if !load(&mut cx).await {
        return cx.report;
    }
    short_terms(&mut cx).await;
    long_terms(&mut cx).await;
    english_and_mixed(&mut cx).await;
    language::partial_words(&mut cx).await;
    language::english_finds_chinese(&mut cx).await;
    filters_alone(&mut cx).await;
    combined_filters(&mut cx).await;
    facets(&mut cx).await;
    sorts(&mut cx).await;
    pagination(&mut cx).await;
    highlights(&mut cx).await;
    hostile_queries(&mut cx).await;
    upsert_and_delete(&mut cx).await;
    rebuild_and_swap(&mut cx).await;
    cx.report
}

/// Load: empty the index through a rebuild, then upsert in two batches.
async fn load(cx: &mut Ctx) -> bool {
    let index = cx.index;
    let load: Check = async {
        let rb = cx
            .engine
            .rebuild(index)
            .await
            .map_err(|e| format!("rebuild: {e}"))?;
        rb.swap().await.map_err(|e| format!("swap: {e}"))?;
        let (a, b) = cx.docs.split_at(20);
        cx.engine
            .upsert(index, a.to_vec())
            .await
            .map_err(|e| format!("upsert: {e}"))?;
        cx.engine
            .upsert(index, b.to_vec())
            .await
            .map_err(|e| format!("upsert: {e}"))?;
        cx.count_is(cx.docs.len()).await
    }
    .await;
    let loaded = load.is_ok();
    cx.record("load fixture", load);
    loaded
}

/// Two-character words, found inside longer words, exactly.
async fn short_terms(cx: &mut Ctx) {
    for w in ["电池", "芯片", "疫苗"] {
        let r = cx.check_set(Some(w), &[w], Filters::default()).await;
        cx.record(&format!("term {w} finds exactly the docs containing it"), r);
        let r = cx.check_title_first(w).await;
        cx.record(&format!("term {w} ranks title matches first"), r);
    }
}

/// Longer terms.
async fn long_terms(cx: &mut Ctx) {
    for w in [
        "钙钛矿",
        "碳化硅",
        "氮化镓",
        "光刻胶",
        "锂离子电池",
        "机器视觉",
        "数字孪生",
        "基因编辑",
    ] {
        let r = cx.check_set(Some(w), &[w], Filters::default()).await;
        cx.record(&format!("term {w}"), r);
    }
}

/// English and mixed queries.
async fn english_and_mixed(cx: &mut Ctx) {
    let embedded = cx.engine.kind() == "embedded";
    for (q, words) in [
        ("CRISPR", vec!["crispr"]),
        ("crispr", vec!["crispr"]),
        ("machine vision", vec!["machine", "vision"]),
        ("lithium battery", vec!["lithium", "battery"]),
        ("5G 基站 天线", vec!["5g", "基站", "天线"]),
        ("CRISPR 基因编辑", vec!["crispr", "基因编辑"]),
        ("mRNA 疫苗", vec!["mrna", "疫苗"]),
    ] {
        let r = cx.check_set_translated(q, &words).await;
        cx.record(&format!("query {q:?}"), r);
    }
    let r = cx.check_top("5G 基站 天线", 25).await;
    cx.record("mixed query ranks the doc with every word first", r);
    if embedded {
        let r = cx.check_set_translated("batteries", &["battery"]).await;
        cx.record("english stemming (batteries → battery)", r);
    } else {
        cx.skip("english stemming", "engine does not stem English");
    }
}

/// Filters alone.
async fn filters_alone(cx: &mut Ctx) {
    let filter_cases: Vec<(&str, Filters)> = vec![
        (
            "field",
            Filters {
                fields: vec!["new_energy".into()],
                ..Default::default()
            },
        ),
        (
            "fields any-of",
            Filters {
                fields: vec!["biomedicine".into(), "agriculture".into()],
                ..Default::default()
            },
        ),
        (
            "modes",
            Filters {
                modes: vec!["license".into()],
                ..Default::default()
            },
        ),
        (
            "modes any-of",
            Filters {
                modes: vec!["equity".into(), "service".into()],
                ..Default::default()
            },
        ),
        (
            "ip_kinds",
            Filters {
                ip_kinds: vec!["technical_secret".into()],
                ..Default::default()
            },
        ),
        (
            "statuses",
            Filters {
                statuses: vec!["transacted".into(), "withdrawn".into()],
                ..Default::default()
            },
        ),
        (
            "province prefix",
            Filters {
                region_prefix: Some("44".into()),
                ..Default::default()
            },
        ),
        (
            "city prefix",
            Filters {
                region_prefix: Some("4403".into()),
                ..Default::default()
            },
        ),
        (
            "county prefix",
            Filters {
                region_prefix: Some("440305".into()),
                ..Default::default()
            },
        ),
        (
            "trl_min",
            Filters {
                trl_min: Some(7),
                ..Default::default()
            },
        ),
        (
            "trl range",
            Filters {
                trl_min: Some(4),
                trl_max: Some(6),
                ..Default::default()
            },
        ),
        (
            "trl_max",
            Filters {
                trl_max: Some(3),
                ..Default::default()
            },
        ),
        (
            "amount range",
            Filters {
                amount_min: Some(100 * WAN),
                amount_max: Some(300 * WAN),
                ..Default::default()
            },
        ),
        (
            "amount range incl. negotiable",
            Filters {
                amount_min: Some(100 * WAN),
                amount_max: Some(300 * WAN),
                include_negotiable: true,
                ..Default::default()
            },
        ),
        (
            "amount_min only",
            Filters {
                amount_min: Some(1000 * WAN),
                ..Default::default()
            },
        ),
        (
            "amount_max only",
            Filters {
                amount_max: Some(40 * WAN),
                ..Default::default()
            },
        ),
        (
            "dual_use true",
            Filters {
                dual_use: Some(true),
                ..Default::default()
            },
        ),
        (
            "dual_use false",
            Filters {
                dual_use: Some(false),
                ..Default::default()
            },
        ),
        (
            "org_id",
            Filters {
                org_id: Some(101),
                ..Default::default()
            },
        ),
        (
            "deadline range",
            Filters {
                deadline_from: Some(1_760_000_000 + 50 * 86_400),
                deadline_to: Some(1_760_000_000 + 100 * 86_400),
                ..Default::default()
            },
        ),
        (
            "tag",
            Filters {
                tags: vec!["challenge".into()],
                ..Default::default()
            },
        ),
        (
            "tags all-of",
            Filters {
                tags: vec!["challenge".into(), "research_type:applied".into()],
                ..Default::default()
            },
        ),
        (
            "unknown value",
            Filters {
                fields: vec!["no_such_field".into()],
                ..Default::default()
            },
        ),
    ];
    for (name, f) in &filter_cases {
        let r = cx.check_set(None, &[], f.clone()).await;
        cx.record(&format!("filter {name}"), r);
    }
}

/// Combined filters, with and without text.
async fn combined_filters(cx: &mut Ctx) {
    let combined: Vec<(&str, Option<&str>, Vec<&str>, Filters)> = vec![
        (
            "field + province + trl_min",
            None,
            vec![],
            Filters {
                fields: vec!["new_energy".into()],
                region_prefix: Some("44".into()),
                trl_min: Some(5),
                ..Default::default()
            },
        ),
        (
            "modes + dual_use + amount incl. negotiable",
            None,
            vec![],
            Filters {
                modes: vec!["license".into(), "transfer".into()],
                dual_use: Some(true),
                amount_min: Some(300 * WAN),
                include_negotiable: true,
                ..Default::default()
            },
        ),
        (
            "status + ip kind + city",
            None,
            vec![],
            Filters {
                statuses: vec!["published".into()],
                ip_kinds: vec!["invention_patent".into()],
                region_prefix: Some("3205".into()),
                ..Default::default()
            },
        ),
        (
            "text 电池 + province",
            Some("电池"),
            vec!["电池"],
            Filters {
                region_prefix: Some("44".into()),
                ..Default::default()
            },
        ),
        (
            "text 电池 + status + amount",
            Some("电池"),
            vec!["电池"],
            Filters {
                statuses: vec!["published".into()],
                amount_max: Some(200 * WAN),
                include_negotiable: true,
                ..Default::default()
            },
        ),
    ];
    for (name, text, words, f) in &combined {
        let r = cx.check_set(*text, words, f.clone()).await;
        cx.record(&format!("combined {name}"), r);
    }
}

/// Facets equal brute-force counts over all matches.
async fn facets(cx: &mut Ctx) {
    let facet_cases: Vec<(&str, Option<&str>, Vec<&str>, Filters)> = vec![
        ("all documents", None, vec![], Filters::default()),
        (
            "filtered",
            None,
            vec![],
            Filters {
                region_prefix: Some("44".into()),
                ..Default::default()
            },
        ),
        ("text 电池", Some("电池"), vec!["电池"], Filters::default()),
        (
            "text + filter",
            Some("芯片"),
            vec!["芯片"],
            Filters {
                dual_use: Some(true),
                ..Default::default()
            },
        ),
    ];
    for (name, text, words, f) in &facet_cases {
        let r = cx.check_facets(*text, words, f.clone()).await;
        cx.record(&format!("facets {name}"), r);
    }
}

/// Sorts.
async fn sorts(cx: &mut Ctx) {
    for sort in [
        SortOrder::Newest,
        SortOrder::AmountAsc,
        SortOrder::AmountDesc,
        SortOrder::DeadlineAsc,
        SortOrder::Relevance,
    ] {
        let r = cx.check_sort(sort, Filters::default()).await;
        cx.record(&format!("sort {sort:?}"), r);
        let f = Filters {
            fields: vec!["new_energy".into()],
            ..Default::default()
        };
        let r = cx.check_sort(sort, f).await;
        cx.record(&format!("sort {sort:?} filtered"), r);
    }
    let r = async {
        let q = SearchQuery {
            sort: SortOrder::Newest,
            limit: 100,
            ..SearchQuery::text("电池")
        };
        let r = cx.search(&q).await?;
        let mut want = cx.expected(&["电池"], &Filters::default());
        want.sort_by(|a, b| SortOrder::Newest.compare(a, b));
        let want: Vec<i64> = want.iter().map(|d| d.id).collect();
        if ids_of(&r) == want {
            Ok(())
        } else {
            Err(format!("got {:?}, want {want:?}", ids_of(&r)))
        }
    }
    .await;
    cx.record("sort newest with text", r);
}

/// Pagination.
async fn pagination(cx: &mut Ctx) {
    let index = cx.index;
    let r = async {
        let q = SearchQuery {
            sort: SortOrder::Newest,
            limit: 7,
            ..Default::default()
        };
        let (ids, total) = cx.all_ids(&q).await?;
        let mut want: Vec<&SearchDoc> = cx.docs.iter().collect();
        want.sort_by(|a, b| SortOrder::Newest.compare(a, b));
        let want: Vec<i64> = want.iter().map(|d| d.id).collect();
        if ids != want || total != want.len() as u64 {
            return Err(format!("paged {ids:?} (total {total}), want {want:?}"));
        }
        Ok(())
    }
    .await;
    cx.record("pagination visits every hit once (newest)", r);
    let r = async {
        let q = SearchQuery {
            limit: 2,
            ..SearchQuery::text("电池")
        };
        let (ids, total) = cx.all_ids(&q).await?;
        let want = cx.expected_ids(&["电池"], &Filters::default());
        eq_sets("paged relevance", &set(ids.iter().copied()), &want)?;
        if ids.len() as u64 != total {
            return Err(format!("{} hits paged, total {total}", ids.len()));
        }
        Ok(())
    }
    .await;
    cx.record("pagination visits every hit once (relevance)", r);
    let r = async {
        let q = SearchQuery {
            cursor: Some("not-a-cursor!".into()),
            ..Default::default()
        };
        match cx.engine.search(index, &q).await {
            Err(SearchError::InvalidCursor) => Ok(()),
            other => Err(format!("expected InvalidCursor, got {other:?}")),
        }
    }
    .await;
    cx.record("invalid cursor is rejected", r);
    let r = async {
        let q = SearchQuery {
            limit: 0,
            ..Default::default()
        };
        let r = cx.search(&q).await?;
        if r.hits.len() != 1 {
            return Err(format!("limit 0 gave {} hits, want 1", r.hits.len()));
        }
        let q = SearchQuery {
            limit: 10_000,
            ..Default::default()
        };
        let r = cx.search(&q).await?;
        if r.hits.len() != cx.docs.len().min(crate::MAX_LIMIT) {
            return Err(format!("limit 10000 gave {} hits", r.hits.len()));
        }
        Ok(())
    }
    .await;
    cx.record("limit is clamped", r);
}

/// Highlights.
async fn highlights(cx: &mut Ctx) {
    let r = async {
        let q = SearchQuery {
            highlight: true,
            ..SearchQuery::text("电池")
        };
        let r = cx.search(&q).await?;
        let h = r
            .hits
            .iter()
            .find(|h| h.id == 1)
            .ok_or("doc 1 not found for 电池")?;
        let title = h.highlights.get("title").ok_or("no title highlight")?;
        if !title.contains("<em>电池</em>") && !title.contains("<em>锂离子电池</em>") {
            return Err(format!("title highlight {title:?}"));
        }
        if !title.contains("正极材料") {
            return Err(format!("title highlight lost text: {title:?}"));
        }
        Ok(())
    }
    .await;
    cx.record("highlights mark matches in titles", r);
}

/// Hostile query text never errors.
async fn hostile_queries(cx: &mut Ctx) {
    let long = "电池 ".repeat(3000);
    let hostile = [
        r#""芯片" AND (OR) -- \\ " '"#,
        r#"title:电池 OR body:"x"~2^3"#,
        "((((",
        "\"",
        "'",
        "\\",
        "-电池",
        "+芯片 -疫苗",
        "*?",
        "NOT",
        "AND OR",
        "   ",
        "",
        "🚀🔋 电池",
        "<script>alert(1)</script>",
        "\u{0}\u{1}",
        long.as_str(),
    ];
    let r = async {
        for t in hostile {
            let q = SearchQuery {
                highlight: true,
                facets: vec![FacetField::Field],
                ..SearchQuery::text(t)
            };
            cx.search(&q).await?;
        }
        let r = cx.search(&SearchQuery::text(hostile[0])).await?;
        let want = cx.expected_ids(&["芯片"], &Filters::default());
        eq_sets("operators are plain text", &set(ids_of(&r)), &want)
    }
    .await;
    cx.record("hostile query text is plain text", r);
    let r = cx
        .check_set(
            Some("   "),
            &[],
            Filters {
                fields: vec!["new_energy".into()],
                ..Default::default()
            },
        )
        .await;
    cx.record("blank query with filters lists all matches", r);
}

/// Upsert replaces, delete removes.
async fn upsert_and_delete(cx: &mut Ctx) {
    let index = cx.index;
    let r = async {
        let mut d = cx
            .docs
            .iter()
            .find(|d| d.id == 2)
            .cloned()
            .ok_or("no doc 2")?;
        d.title = "硫化物电解质薄膜 zirconate 改性".into();
        d.keywords = vec!["固态电解质".into()];
        d.trl = Some(9);
        cx.engine
            .upsert(index, vec![d.clone()])
            .await
            .map_err(|e| format!("upsert: {e}"))?;
        cx.docs.retain(|x| x.id != 2);
        cx.docs.push(d);
        cx.count_is(cx.docs.len()).await?;
        cx.check_set(Some("zirconate"), &["zirconate"], Filters::default())
            .await?;
        cx.check_set(Some("电池"), &["电池"], Filters::default())
            .await?;
        cx.check_set(
            None,
            &[],
            Filters {
                trl_min: Some(9),
                ..Default::default()
            },
        )
        .await
    }
    .await;
    cx.record("upsert replaces without duplicating", r);
    let r = async {
        cx.engine
            .delete(index, &[5, 6, 999_999])
            .await
            .map_err(|e| format!("delete: {e}"))?;
        cx.docs.retain(|d| d.id != 5 && d.id != 6);
        cx.count_is(cx.docs.len()).await?;
        cx.check_set(Some("钠离子电池"), &["钠离子电池"], Filters::default())
            .await?;
        cx.check_set(Some("电池"), &["电池"], Filters::default())
            .await
    }
    .await;
    cx.record("delete removes", r);
}

/// Rebuild + swap keeps results.
async fn rebuild_and_swap(cx: &mut Ctx) {
    let index = cx.index;
    let r = async {
        let probe = |text: Option<&str>| SearchQuery {
            text: text.map(str::to_string),
            facets: FacetField::ALL.to_vec(),
            limit: 100,
            ..Default::default()
        };
        let before_a = cx.search(&probe(Some("电池"))).await?;
        let before_b = cx.search(&probe(None)).await?;
        let mut rb = cx
            .engine
            .rebuild(index)
            .await
            .map_err(|e| format!("rebuild: {e}"))?;
        let mut docs = cx.docs.clone();
        docs.sort_by_key(|d| d.id);
        for chunk in docs.chunks(15) {
            rb.add(chunk.to_vec())
                .await
                .map_err(|e| format!("rebuild add: {e}"))?;
        }
        // Not visible before the swap.
        cx.count_is(cx.docs.len()).await?;
        rb.swap().await.map_err(|e| format!("swap: {e}"))?;
        cx.count_is(cx.docs.len()).await?;
        let after_a = cx.search(&probe(Some("电池"))).await?;
        let after_b = cx.search(&probe(None)).await?;
        if set(ids_of(&before_a)) != set(ids_of(&after_a)) || ids_of(&before_b) != ids_of(&after_b)
        {
            return Err(format!(
                "results changed: {:?} → {:?}",
                ids_of(&before_a),
                ids_of(&after_a)
            ));
        }
        if before_a.facets != after_a.facets || before_b.facets != after_b.facets {
            return Err("facets changed across rebuild".into());
        }
        // Writes after the swap go to the new index.
        let d = cx
            .docs
            .iter()
            .find(|d| d.id == 1)
            .cloned()
            .ok_or("no doc 1")?;
        cx.engine
            .upsert(index, vec![d])
            .await
            .map_err(|e| format!("upsert after swap: {e}"))?;
        cx.count_is(cx.docs.len()).await
    }
    .await;
    cx.record("rebuild + swap keeps results", r);
}
