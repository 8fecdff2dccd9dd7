//! Suggestions both ways: for a need, the listings that could serve it; for a listing, the
//! needs it could serve (科技成果推送).
//!
//! Candidates come from the search engine (so the embedded engine and Meilisearch both work),
//! asked with the need (or listing: the whole text, or its most telling words) in any-word
//! mode, then with the words the best matches add (pseudo-relevance feedback). Their text
//! relevance blends the engine scores of both retrievals (relative to the best) with the
//! similarity of character pairs between the two texts. They are then re-ranked with
//! [`crate::score::score`], whose parts are returned with each suggestion.
use crate::score::{self, ListingProfile, NeedProfile, Scored};
use crate::text::{self, Text, TextRef, WeightedTerms};
use crate::MatchingState;
use axum::extract::{FromRef, State};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use ttx_accounts::Actor;
use ttx_core::{FieldErrors, Labelled, TechField, TransferMode};
use ttx_demands::domain::{Budget, DemandStatus};
use ttx_demands::store::Demand;
use ttx_demands::view::DemandView;
use ttx_listings::domain::{ListingStatus, Price};
use ttx_listings::dto::ListingCard;
use ttx_listings::store::Listing;
use ttx_search::{params, Filters, SearchQuery, DEMANDS, LISTINGS};
use ttx_web::error::Problem;
use ttx_web::{ApiError, ApiPath, ApiQuery, ApiResult, ErrorCode};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    MatchingState: FromRef<S>,
    DatabaseConnection: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(demand_matches))
        .routes(routes!(listing_matches))
}

/// Filters of a suggestion list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MatchParams {
    /// Technology field codes (repeat or comma-separate).
    #[serde(default)]
    pub field: Vec<String>,
    /// A 2-, 4- or 6-digit region prefix.
    pub region: Option<String>,
    /// Lowest TRL, 1 to 9.
    pub trl_min: Option<u8>,
    /// Highest TRL, 1 to 9.
    pub trl_max: Option<u8>,
    /// Transfer modes (repeat or comma-separate).
    #[serde(default)]
    pub mode: Vec<String>,
    /// Lowest price (or budget), fen.
    pub price_min: Option<i64>,
    /// Highest price (or budget), fen.
    pub price_max: Option<i64>,
    /// 1 to 100 (default 20).
    pub limit: Option<u64>,
}

/// Validated filters.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MatchFilters {
    pub filters: Filters,
    pub limit: usize,
}

impl MatchParams {
    pub fn parse(self) -> Result<MatchFilters, FieldErrors> {
        let mut errs = FieldErrors::new();
        let fields = params::codes::<TechField>(&mut errs, "field", &self.field);
        let modes = params::codes::<TransferMode>(&mut errs, "mode", &self.mode);
        let region_prefix = params::region_prefix(&mut errs, self.region.as_deref());
        for (name, v) in [("trl_min", self.trl_min), ("trl_max", self.trl_max)] {
            if v.is_some_and(|t| !(1..=9).contains(&t)) {
                errs.add(name, "out_of_range", "TRL is between 1 and 9");
            }
        }
        if let (Some(a), Some(b)) = (self.trl_min, self.trl_max) {
            if a > b {
                errs.add(
                    "trl_min",
                    "min_greater_than_max",
                    "trl_min is above trl_max",
                );
            }
        }
        for (name, v) in [("price_min", self.price_min), ("price_max", self.price_max)] {
            if v.is_some_and(|p| p < 0) {
                errs.add(name, "invalid_amount", "amounts are not negative");
            }
        }
        if let (Some(a), Some(b)) = (self.price_min, self.price_max) {
            if a > b {
                errs.add(
                    "price_min",
                    "min_greater_than_max",
                    "price_min is above price_max",
                );
            }
        }
        if self.limit.is_some_and(|l| !(1..=100).contains(&l)) {
            errs.add("limit", "out_of_range", "must be 1 to 100");
        }
        let filters = Filters {
            fields,
            modes,
            region_prefix,
            trl_min: self.trl_min.map(i64::from),
            trl_max: self.trl_max.map(i64::from),
            amount_min: self.price_min,
            amount_max: self.price_max,
            include_negotiable: true,
            ..Default::default()
        };
        errs.finish(MatchFilters {
            filters,
            limit: self.limit.unwrap_or(20) as usize,
        })
    }
}

/// A listing suggested for a need.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ListingSuggestion {
    pub listing: ListingCard,
    pub score: f64,
    pub parts: Vec<score::Part>,
    pub reason_zh: String,
    pub reason_en: String,
}

/// A need suggested for a listing.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DemandSuggestion {
    pub demand: DemandView,
    pub score: f64,
    pub parts: Vec<score::Part>,
    pub reason_zh: String,
    pub reason_en: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ListingSuggestions {
    pub items: Vec<ListingSuggestion>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DemandSuggestions {
    pub items: Vec<DemandSuggestion>,
}

/// The text of a need, borrowed.
fn demand_ref(d: &Demand) -> TextRef<'_> {
    let d = &d.data;
    TextRef {
        title: &d.title,
        keywords: &d.keywords,
        body: vec![&d.problem, &d.key_points, &d.goals],
    }
}

/// The text of a need.
pub fn demand_text(d: &Demand) -> Text {
    demand_ref(d).to_text()
}

/// Characters of a listing's description read as its text (the rest adds little).
const DESCRIPTION_CHARS: usize = 600;

/// The first `n` characters of `s`.
fn first_chars(s: &str, n: usize) -> &str {
    s.char_indices().nth(n).map_or(s, |(i, _)| &s[..i])
}

/// The text of a listing, borrowed.
fn listing_ref(l: &Listing) -> TextRef<'_> {
    let d = &l.data;
    TextRef {
        title: &d.title,
        keywords: &d.keywords,
        body: vec![&d.summary, first_chars(&d.description, DESCRIPTION_CHARS)],
    }
}

/// The text of a listing.
pub fn listing_text(l: &Listing) -> Text {
    listing_ref(l).to_text()
}

/// What the scorer needs of a need.
pub fn need_profile(d: &Demand) -> NeedProfile {
    let (budget, negotiable) = match &d.data.budget {
        Some(Budget::Range { min, max }) => (Some((min.0, max.0)), false),
        Some(Budget::Negotiable) => (None, true),
        None => (None, false),
    };
    NeedProfile {
        field: d.data.field.map(|f| f.code().to_string()),
        inferred_field: None,
        modes: d.data.modes.iter().map(|m| m.code().to_string()).collect(),
        budget,
        negotiable,
        trl_min: d.data.trl_min.map(|t| i64::from(t.level())),
        trl_max: d.data.trl_max.map(|t| i64::from(t.level())),
        region: d.region.as_string(),
    }
}

/// What the scorer needs of a listing.
pub fn listing_profile(l: &Listing) -> ListingProfile {
    let (price, negotiable) = match &l.data.price {
        Price::Fixed { amount } => (Some((amount.0, amount.0)), false),
        Price::Range { min, max } => (Some((min.0, max.0)), false),
        Price::Negotiable => (None, true),
    };
    ListingProfile {
        field: l.data.field.code().to_string(),
        modes: l.data.modes.iter().map(|m| m.code().to_string()).collect(),
        price,
        negotiable,
        trl: Some(i64::from(l.data.trl.level())),
        region: l.region.as_string(),
        ip: l
            .data
            .ip_items
            .iter()
            .map(|i| (i.kind.code().to_string(), i.status.code().to_string()))
            .collect(),
        published_at: l.published_at.unwrap_or(l.updated_at).timestamp(),
    }
}

/// Ranked ids for a query (best first).
async fn ranked(
    st: &MatchingState,
    index: &'static str,
    text: String,
    filters: &Filters,
    limit: usize,
) -> ApiResult<Vec<(i64, f64)>> {
    if text.trim().is_empty() {
        return Ok(vec![]);
    }
    let q = SearchQuery {
        text: Some(text),
        filters: filters.clone(),
        limit: limit.min(ttx_search::MAX_LIMIT),
        any_word: true,
        // the candidates only: no total, no facets (lets the engine skip most of the index)
        top_only: true,
        // a whole need or listing, not words typed into a box
        long_text: true,
        ..Default::default()
    };
    let r = st.engine.search(index, &q).await.map_err(search_error)?;
    Ok(r.hits
        .into_iter()
        .map(|h| (h.id, f64::from(h.score)))
        .collect())
}

fn search_error(e: ttx_search::SearchError) -> ApiError {
    tracing::warn!(error = %e, "matching: search failed");
    ApiError::new(ErrorCode::Unavailable).detail("search is unavailable; try again shortly")
}

/// The need's text sent to the engine (characters): title, keywords, problem, key points and
/// goals together are rarely longer.
const QUERY_CHARS: usize = 2000;

/// What both directions share about their candidates: the index they are found in, the status
/// a candidate must have, how they are loaded and whose they are.
#[async_trait::async_trait]
trait Candidate: Sized + Send + Sync {
    const INDEX: &'static str;
    fn open_status() -> &'static str;
    fn id(&self) -> i64;
    fn owner_org_id(&self) -> i64;
    /// Its version (changes with every edit of its text).
    fn version(&self) -> i64;
    /// Its text (for feedback words).
    fn text(&self) -> Text;
    /// The parts of its text, borrowed (for character pairs).
    fn parts(&self) -> Vec<&str>;
    /// Those of `ids` still open on `today` (what is no longer public is left out).
    async fn load_open(
        db: &DatabaseConnection,
        ids: &[i64],
        today: NaiveDate,
    ) -> ApiResult<HashMap<i64, Self>>;
}

#[async_trait::async_trait]
impl Candidate for Listing {
    const INDEX: &'static str = LISTINGS;
    fn open_status() -> &'static str {
        ListingStatus::Published.as_str()
    }
    fn id(&self) -> i64 {
        self.id
    }
    fn owner_org_id(&self) -> i64 {
        self.owner_org_id
    }
    fn version(&self) -> i64 {
        self.version
    }
    fn text(&self) -> Text {
        listing_text(self)
    }
    fn parts(&self) -> Vec<&str> {
        listing_ref(self).parts()
    }
    async fn load_open(
        db: &DatabaseConnection,
        ids: &[i64],
        today: NaiveDate,
    ) -> ApiResult<HashMap<i64, Listing>> {
        let mut out = HashMap::with_capacity(ids.len());
        if ids.is_empty() {
            return Ok(out);
        }
        for r in &ttx_listings::store::by_ids(db, ids).await? {
            let l = ttx_listings::store::decode(r).map_err(ApiError::internal)?;
            let status = ttx_listings::domain::effective_status(l.status, l.data.expires_on, today);
            if status == ListingStatus::Published {
                out.insert(l.id, l);
            }
        }
        Ok(out)
    }
}

#[async_trait::async_trait]
impl Candidate for Demand {
    const INDEX: &'static str = DEMANDS;
    fn open_status() -> &'static str {
        DemandStatus::Open.as_str()
    }
    fn id(&self) -> i64 {
        self.id
    }
    fn owner_org_id(&self) -> i64 {
        self.owner_org_id
    }
    fn version(&self) -> i64 {
        self.version
    }
    fn text(&self) -> Text {
        demand_text(self)
    }
    fn parts(&self) -> Vec<&str> {
        demand_ref(self).parts()
    }
    async fn load_open(
        db: &DatabaseConnection,
        ids: &[i64],
        today: NaiveDate,
    ) -> ApiResult<HashMap<i64, Demand>> {
        use ttx_demands::entity::demand::{Column, Entity};
        let mut out = HashMap::with_capacity(ids.len());
        if ids.is_empty() {
            return Ok(out);
        }
        let rows = Entity::find()
            .filter(Column::Id.is_in(ids.iter().copied()))
            .all(db)
            .await?;
        for r in &rows {
            let d = ttx_demands::store::decode(r).map_err(ApiError::internal)?;
            let status = ttx_demands::domain::effective_status(d.status, d.data.deadline, today);
            if status == DemandStatus::Open {
                out.insert(d.id, d);
            }
        }
        Ok(out)
    }
}

/// Document frequencies of `words` in `index`, or `None` when the engine cannot say (the
/// words are then weighed by the text alone).
async fn doc_freqs(
    st: &MatchingState,
    index: &'static str,
    words: &[String],
) -> Option<ttx_search::DocFreqs> {
    if words.is_empty() {
        return None;
    }
    match st.engine.doc_freqs(index, words).await {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "matching: document frequencies unavailable");
            None
        }
    }
}

/// Engine scores relative to the best one, in `0..=1`: BM25 ratios separate a good match from
/// a weak one far more than ranks do, so the other parts reorder only near-equals.
fn relative(hits: &[(i64, f64)]) -> HashMap<i64, f64> {
    let best = hits.iter().map(|(_, s)| *s).fold(0.0, f64::max);
    hits.iter()
        .map(|(id, s)| {
            let rel = if best > 0.0 {
                (s / best).clamp(0.0, 1.0)
            } else {
                0.0
            };
            (*id, rel)
        })
        .collect()
}

/// Blends the relevance of the first retrieval with that of the feedback retrieval:
/// `(first + weight × feedback) / (1 + weight)`, a document missing from one list counting 0
/// there. In `0..=1`.
fn blend(first: &HashMap<i64, f64>, second: &HashMap<i64, f64>, weight: f64) -> HashMap<i64, f64> {
    let w = weight.max(0.0);
    let mut out: HashMap<i64, f64> = HashMap::with_capacity(first.len() + second.len());
    for id in first.keys().chain(second.keys()) {
        let a = first.get(id).copied().unwrap_or(0.0);
        let b = second.get(id).copied().unwrap_or(0.0);
        out.insert(*id, ((a + w * b) / (1.0 + w)).clamp(0.0, 1.0));
    }
    out
}

/// The open candidates for text `t`, with their relevance (in `0..=1`), most relevant first.
///
/// 1. The text's most telling words (weight in the text × rarity in the index, at most
///    `query_terms`) are asked for in any-word mode.
/// 2. Pseudo-relevance feedback: the words that the best first-pass matches use and the text
///    does not (the researchers' words for the firm's thing) are asked for in a second
///    retrieval, and both relevances are blended (see [`crate::config::Expansion`]).
/// 3. `pair_weight` of the relevance is the similarity of character pairs between the text and
///    each candidate (relative to the most similar candidate), whatever the word segmentation.
async fn candidates<C: Candidate>(
    st: &MatchingState,
    t: &Text,
    filters: &Filters,
    want: usize,
    today: NaiveDate,
) -> ApiResult<Vec<(f64, C)>> {
    let cfg = &st.cfg;
    let weighted = text::weighted_terms(t);
    // The whole text, unless settings or the engine (Meilisearch reads ten words) ask for its
    // most telling words only.
    let word_limit = match cfg.query_terms {
        0 => st.engine.query_word_limit(),
        n => Some(n),
    };
    let q: String = match word_limit {
        None => text::query_text(t).chars().take(QUERY_CHARS).collect(),
        Some(n) => {
            let words: Vec<String> = weighted.iter().map(|(w, _)| w.clone()).collect();
            let df = doc_freqs(st, C::INDEX, &words).await;
            text::select_terms(&weighted, df.as_ref(), n, cfg.max_term_share)
                .into_iter()
                .map(|(w, _)| w)
                .collect::<Vec<_>>()
                .join(" ")
        }
    };
    let mut filters = filters.clone();
    filters.statuses = vec![C::open_status().to_string()];
    let n = cfg.candidates.max(want).clamp(10, ttx_search::MAX_LIMIT);
    let first = ranked(st, C::INDEX, q.clone(), &filters, n).await?;
    let ids: Vec<i64> = first.iter().map(|(id, _)| *id).collect();
    let mut loaded = C::load_open(&st.db, &ids, today).await?;
    let mut rel = relative(&first);

    let x = &cfg.expansion;
    if x.docs > 0 && x.terms > 0 && !first.is_empty() {
        // each feedback text's words from the cache (a text at one version has one set)
        let feedback: Vec<(f64, Arc<WeightedTerms>)> = first
            .iter()
            .filter_map(|(id, _)| {
                let c = loaded.get(id)?;
                Some((
                    rel[id],
                    st.terms.get(C::INDEX, *id, c.version(), || c.text()),
                ))
            })
            .take(x.docs)
            .collect();
        let own: HashSet<String> = weighted.iter().map(|(w, _)| w.clone()).collect();
        let mut cands = text::feedback_terms(&feedback, &own);
        cands.retain(|c| c.2 >= x.min_docs);
        cands.truncate(x.terms * 4);
        let words: Vec<String> = cands.iter().map(|c| c.0.clone()).collect();
        let df = doc_freqs(st, C::INDEX, &words).await;
        let exp =
            text::pick_expansion(&cands, df.as_ref(), x.terms, cfg.max_term_share, x.min_docs);
        if !exp.is_empty() {
            let mut q2: Vec<String> = exp.into_iter().map(|(w, _)| w).collect();
            if x.with_query {
                q2.push(q);
            }
            let second = ranked(st, C::INDEX, q2.join(" "), &filters, n).await?;
            let missing: Vec<i64> = second
                .iter()
                .map(|(id, _)| *id)
                .filter(|id| !rel.contains_key(id))
                .collect();
            loaded.extend(C::load_open(&st.db, &missing, today).await?);
            rel = blend(&rel, &relative(&second), x.weight);
        }
    }
    let g = cfg.pair_weight.clamp(0.0, 1.0);
    if g > 0.0 && !loaded.is_empty() {
        let query = text::query_pairs(t);
        let ids: Vec<i64> = loaded.keys().copied().collect();
        let shared = text::shared_pairs(&query, ids.iter().map(|id| loaded[id].parts()));
        let sims = text::similarities(query.len(), &shared);
        let top = sims.iter().copied().fold(0.0, f64::max);
        if top > 0.0 {
            for (id, s) in ids.iter().zip(sims) {
                let r = rel.entry(*id).or_insert(0.0);
                *r = ((1.0 - g) * *r + g * s / top).clamp(0.0, 1.0);
            }
        }
    }
    let mut ids: Vec<(i64, f64)> = rel.into_iter().collect();
    ids.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(ids
        .into_iter()
        .filter_map(|(id, rel)| loaded.remove(&id).map(|c| (rel, c)))
        .collect())
}

/// Scores the candidates of other organisations than `exclude`'s, best first, at most `limit`.
fn best<C: Candidate>(
    cands: Vec<(f64, C)>,
    exclude: &HashSet<i64>,
    limit: usize,
    score: impl Fn(&C, f64) -> Scored,
) -> Vec<(Scored, C)> {
    let mut scored: Vec<(Scored, C)> = cands
        .into_iter()
        .filter(|(_, c)| !exclude.contains(&c.owner_org_id()))
        .map(|(rel, c)| (score(&c, rel), c))
        .collect();
    scored.sort_by(|a, b| {
        b.0.score
            .total_cmp(&a.0.score)
            .then_with(|| a.1.id().cmp(&b.1.id()))
    });
    scored.truncate(limit);
    scored
}

/// The field most of the best text matches share, when one clearly leads.
fn infer_field(fields: &[String]) -> Option<String> {
    let mut count: HashMap<&str, f64> = HashMap::new();
    for (i, f) in fields.iter().enumerate() {
        *count.entry(f.as_str()).or_insert(0.0) += 1.0 / (1.0 + i as f64 * 0.5);
    }
    let total: f64 = count.values().sum();
    let (best, n) = count
        .into_iter()
        .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.0.cmp(a.0)))?;
    (n / total >= 0.4).then(|| best.to_string())
}

/// The published listings that could serve need `d`, scored, best first: the matcher without
/// an asker (no access check), for the suggestion routes, subscriptions and events. Listings of
/// the organisations in `exclude` are left out.
pub async fn listings_for_need(
    st: &MatchingState,
    d: &Demand,
    filters: &Filters,
    limit: usize,
    exclude: &HashSet<i64>,
    now: DateTime<Utc>,
) -> ApiResult<Vec<(Scored, Listing)>> {
    let today = ttx_core::clock::beijing_date(now);
    let cands: Vec<(f64, Listing)> = candidates(st, &demand_text(d), filters, limit, today).await?;
    let mut profile = need_profile(d);
    if profile.field.is_none() {
        let fields: Vec<String> = cands
            .iter()
            .take(10)
            .map(|(_, l)| l.data.field.code().to_string())
            .collect();
        profile.inferred_field = infer_field(&fields);
    }
    let ts = now.timestamp();
    Ok(best(cands, exclude, limit, |l, rel| {
        score::score(&profile, &listing_profile(l), rel, ts, &st.cfg.weights)
    }))
}

/// The open needs listing `l` could serve, scored, best first (see [`listings_for_need`]).
pub async fn needs_for_listing(
    st: &MatchingState,
    l: &Listing,
    filters: &Filters,
    limit: usize,
    exclude: &HashSet<i64>,
    now: DateTime<Utc>,
) -> ApiResult<Vec<(Scored, Demand)>> {
    let today = ttx_core::clock::beijing_date(now);
    let cands: Vec<(f64, Demand)> = candidates(st, &listing_text(l), filters, limit, today).await?;
    let lp = listing_profile(l);
    let ts = now.timestamp();
    Ok(best(cands, exclude, limit, |d, rel| {
        score::score(&need_profile(d), &lp, rel, ts, &st.cfg.weights)
    }))
}

/// Who may ask for suggestions about a thing owned by `owner`: its organisation (every state),
/// operators, and brokers of verified agencies while it is public. Others get 404 for what they
/// may not see, 403 for a public thing.
fn may_ask(actor: &Actor, owner: i64, public: bool, what: &'static str) -> Result<(), ApiError> {
    if actor.belongs_to(owner) || actor.is_operator() {
        return Ok(());
    }
    if !public {
        return Err(ApiError::not_found(what));
    }
    if actor.is_verified_broker() {
        return Ok(());
    }
    Err(ApiError::forbidden(match what {
        "need" => "suggestions for a need are for its firm and for brokers of verified agencies",
        _ => "suggestions for a listing are for its owner and for brokers of verified agencies",
    }))
}

/// The listings that could serve need `id`, best first, as `actor` may see them.
pub async fn for_demand(
    st: &MatchingState,
    actor: &Actor,
    id: i64,
    f: &MatchFilters,
) -> ApiResult<Vec<ListingSuggestion>> {
    let d = ttx_demands::store::find(&st.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("need"))?;
    let now = ttx_core::clock::now();
    let status = ttx_demands::domain::effective_status(
        d.status,
        d.data.deadline,
        ttx_core::clock::beijing_date(now),
    );
    may_ask(actor, d.owner_org_id, status == DemandStatus::Open, "need")?;
    let exclude: HashSet<i64> = [d.owner_org_id, actor.org_id].into_iter().collect();
    let scored = listings_for_need(st, &d, &f.filters, f.limit, &exclude, now).await?;
    let orgs =
        ttx_listings::store::orgs(&st.db, scored.iter().map(|(_, l)| l.owner_org_id)).await?;
    Ok(scored
        .into_iter()
        .map(|(s, l)| {
            let org = orgs.get(&l.owner_org_id);
            ListingSuggestion {
                listing: ListingCard::build(l, org, ListingStatus::Published, false),
                score: s.score,
                parts: s.parts,
                reason_zh: s.reason_zh,
                reason_en: s.reason_en,
            }
        })
        .collect())
}

/// The open needs listing `id` could serve, best first, as `actor` may see them (anonymous
/// firms stay anonymous).
pub async fn for_listing(
    st: &MatchingState,
    actor: &Actor,
    id: i64,
    f: &MatchFilters,
) -> ApiResult<Vec<DemandSuggestion>> {
    let row = ttx_listings::store::by_ids(&st.db, &[id])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::not_found("listing"))?;
    let l = ttx_listings::store::decode(&row).map_err(ApiError::internal)?;
    let now = ttx_core::clock::now();
    let status = ttx_listings::domain::effective_status(
        l.status,
        l.data.expires_on,
        ttx_core::clock::beijing_date(now),
    );
    may_ask(
        actor,
        l.owner_org_id,
        status == ListingStatus::Published,
        "listing",
    )?;
    let exclude: HashSet<i64> = [l.owner_org_id, actor.org_id].into_iter().collect();
    let scored = needs_for_listing(st, &l, &f.filters, f.limit, &exclude, now).await?;
    let org_ids: Vec<i64> = scored.iter().map(|(_, d)| d.owner_org_id).collect();
    let orgs = ttx_demands::store::orgs(&st.db, &org_ids).await?;
    let viewer = ttx_demands::service::viewer_of(Some(actor));
    Ok(scored
        .into_iter()
        .map(|(s, d)| DemandSuggestion {
            demand: DemandView::build(&d, None, orgs.get(&d.owner_org_id), &viewer, now),
            score: s.score,
            parts: s.parts,
            reason_zh: s.reason_zh,
            reason_en: s.reason_en,
        })
        .collect())
}

/// Listings that could serve a need, with each suggestion's score, its parts (value, weight
/// and contribution; the contributions add up to the score) and a reason. For the need's firm
/// (drafts too, so it sees candidates before publishing) and brokers of verified agencies. Only
/// published listings, never the asker's own organisation's.
#[utoipa::path(get, path = "/demands/{id}/matches", tag = "matching", security(("bearer" = [])),
    params(("id" = i64, Path), MatchParams),
    responses((status = 200, body = ListingSuggestions), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem), (status = 503, body = Problem)))]
async fn demand_matches(
    State(st): State<MatchingState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<MatchParams>,
) -> ApiResult<axum::Json<ListingSuggestions>> {
    let f = q.parse().map_err(ApiError::validation)?;
    let items = for_demand(&st, &actor, id, &f).await?;
    Ok(axum::Json(ListingSuggestions { items }))
}

/// Open needs a listing could serve (科技成果推送), scored and explained like
/// `/demands/{id}/matches`. For the listing's owner and brokers of verified agencies; anonymous
/// firms stay anonymous to whoever may not see them.
#[utoipa::path(get, path = "/listings/{id}/matches", tag = "matching", security(("bearer" = [])),
    params(("id" = i64, Path), MatchParams),
    responses((status = 200, body = DemandSuggestions), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem), (status = 503, body = Problem)))]
async fn listing_matches(
    State(st): State<MatchingState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<MatchParams>,
) -> ApiResult<axum::Json<DemandSuggestions>> {
    let f = q.parse().map_err(ApiError::validation)?;
    let items = for_listing(&st, &actor, id, &f).await?;
    Ok(axum::Json(DemandSuggestions { items }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_is_inferred_only_when_one_leads() {
        let f = |v: &[&str]| infer_field(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(f(&["a", "a", "b", "a", "c"]), Some("a".into()));
        assert_eq!(f(&[]), None);
        assert_eq!(
            f(&["a", "b", "c", "d", "e", "f", "g", "h"]),
            None,
            "no field leads"
        );
    }

    #[test]
    fn blended_relevance_is_bounded_and_keeps_the_first_retrieval_ahead() {
        let first: HashMap<i64, f64> = [(1, 1.0), (2, 0.5)].into_iter().collect();
        let second: HashMap<i64, f64> = [(2, 1.0), (3, 1.0)].into_iter().collect();
        let b = blend(&first, &second, 0.5);
        assert!(b.values().all(|v| (0.0..=1.0).contains(v)));
        assert_eq!(b.len(), 3);
        // Found by both: raised; found by the feedback words alone: below what the need's own
        // words found best.
        assert!(b[&2] > 0.5 / 1.5);
        assert!(b[&3] < b[&1]);
        assert!((b[&3] - 0.5 / 1.5).abs() < 1e-12);
        // Weight 0: the first retrieval alone.
        let same = blend(&first, &second, 0.0);
        assert_eq!(same[&1], 1.0);
        assert_eq!(same[&2], 0.5);
        assert_eq!(same[&3], 0.0);
    }

    #[test]
    fn relevance_is_relative_to_the_best_hit() {
        let r = relative(&[(7, 8.0), (9, 2.0)]);
        assert_eq!(r[&7], 1.0);
        assert_eq!(r[&9], 0.25);
        assert!(relative(&[(1, 0.0)])[&1] == 0.0);
    }

    #[test]
    fn filters_are_checked() {
        let bad = MatchParams {
            field: vec!["magic".into()],
            trl_min: Some(8),
            trl_max: Some(3),
            limit: Some(0),
            ..Default::default()
        }
        .parse()
        .unwrap_err();
        let fields: Vec<&str> = bad.0.iter().map(|e| e.field.as_str()).collect();
        assert!(
            fields.contains(&"field") && fields.contains(&"trl_min") && fields.contains(&"limit")
        );
        let ok = MatchParams {
            mode: vec!["license,transfer".into()],
            region: Some("32".into()),
            ..Default::default()
        }
        .parse()
        .unwrap();
        assert_eq!(ok.filters.modes, vec!["license", "transfer"]);
        assert_eq!(ok.limit, 20);
    }
}
