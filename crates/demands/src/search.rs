//! Searching needs: the public search goes to the engine (open needs only) and loads the
//! hits from the database, rendering each for the caller (so a verified broker sees the
//! names of anonymous firms that the index never holds); `mine=true` searches the caller's
//! own needs in every state straight from the database, with the filter, facet and sort
//! semantics of the engines (the reference functions of `ttx-search`).
use crate::domain::{self, DemandStatus, ResearchType};
use crate::entity::demand::{Column, Entity};
use crate::service::viewer_of;
use crate::source::{research_tag, to_search_doc, CHALLENGE_TAG};
use crate::state::DemandsState;
use crate::store::{self, Demand};
use crate::view::{DemandHit, DemandSearchResponse, DemandView};
use chrono::NaiveDate;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use ttx_accounts::Actor;
use ttx_core::{FieldErrors, Labelled, TechField, TransferMode};
use ttx_search::{params, FacetField, Filters, SearchDoc, SearchQuery, SortOrder, DEMANDS};
use ttx_web::pagination::SearchPage;
use ttx_web::{ErrorCode, ServiceError, ServiceResult};

/// Longest query text accepted.
pub const MAX_QUERY_CHARS: usize = 200;
/// Most needs a `mine=true` search looks at.
pub const MAX_MINE_SCAN: u64 = 5_000;

/// `GET /v1/demands` parameters. Lists may be repeated (`field=a&field=b`) or
/// comma-separated.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DemandSearchParams {
    /// Free text (Chinese or English).
    pub q: Option<String>,
    /// Technology field codes.
    #[serde(default)]
    pub field: Vec<String>,
    /// Budget range wanted (fen): needs whose budget overlaps it.
    pub budget_min: Option<i64>,
    pub budget_max: Option<i64>,
    /// With a budget filter, also include needs with a negotiable or unstated budget.
    pub include_negotiable: Option<bool>,
    /// Region prefix: 2 (province), 4 (city) or 6 (county) digits.
    pub region: Option<String>,
    /// Transfer mode codes (any of).
    #[serde(default)]
    pub mode: Vec<String>,
    /// Deadline on or before this date.
    pub deadline_before: Option<NaiveDate>,
    /// Deadline on or after this date.
    pub deadline_after: Option<NaiveDate>,
    /// Status codes; other than `open` only with `mine=true`.
    #[serde(default)]
    pub status: Vec<String>,
    /// basic | applied | experimental_development
    pub research_type: Option<String>,
    /// `true`: only challenges (揭榜挂帅).
    pub challenge: Option<bool>,
    /// Facets to count: field, modes, status, province, trl, tags.
    pub facets: Option<String>,
    /// relevance (default) | newest | budget_asc | budget_desc | deadline
    pub sort: Option<String>,
    #[serde(default, deserialize_with = "ttx_web::pagination::page_limit")]
    pub limit: Option<u64>,
    pub cursor: Option<String>,
    /// Search the caller's organisation's needs in every state.
    pub mine: Option<bool>,
}

/// A validated search.
#[derive(Clone, Debug, PartialEq)]
pub struct DemandSearch {
    pub query: SearchQuery,
    pub mine: bool,
}

const FACETS: &str = "field, modes, status, province, trl, tags";

fn facet(name: &str) -> Option<FacetField> {
    Some(match name {
        "field" => FacetField::Field,
        "modes" | "mode" => FacetField::Modes,
        "status" => FacetField::Status,
        "province" | "region" => FacetField::Province,
        "trl" => FacetField::Trl,
        "tags" => FacetField::Tags,
        _ => return None,
    })
}

impl DemandSearchParams {
    /// Validates the parameters, reporting every problem at once.
    pub fn parse(self) -> Result<DemandSearch, FieldErrors> {
        let mut errs = FieldErrors::new();
        let mine = self.mine.unwrap_or(false);
        let text = errs.opt_text("q", self.q.as_deref(), MAX_QUERY_CHARS);
        let fields = params::codes::<TechField>(&mut errs, "field", &self.field);
        let modes = params::codes::<TransferMode>(&mut errs, "mode", &self.mode);
        let statuses = params::statuses::<DemandStatus>(
            &mut errs,
            &self.status,
            mine,
            DemandStatus::Open.as_str(),
            "needs",
        );
        params::amount_range(
            &mut errs,
            ("budget_min", self.budget_min),
            ("budget_max", self.budget_max),
        );
        if let (Some(a), Some(b)) = (self.deadline_after, self.deadline_before) {
            if a > b {
                errs.add(
                    "deadline_after",
                    "after_greater_than_before",
                    "deadline_after is later than deadline_before",
                );
            }
        }
        let region_prefix = params::region_prefix(&mut errs, self.region.as_deref());
        let mut tags = vec![];
        match self.challenge {
            Some(true) => tags.push(CHALLENGE_TAG.to_string()),
            Some(false) => errs.add(
                "challenge",
                "unsupported",
                "only challenge=true (challenges only) is supported",
            ),
            None => {}
        }
        if let Some(r) = self.research_type.as_deref().map(str::trim) {
            match ResearchType::from_code(r) {
                Some(rt) => tags.push(research_tag(rt.as_str())),
                None => errs.add(
                    "research_type",
                    "invalid_choice",
                    "must be one of: basic, applied, experimental_development",
                ),
            }
        }
        let sort = params::sort(
            &mut errs,
            self.sort.as_deref(),
            &[
                ("relevance", SortOrder::Relevance),
                ("newest", SortOrder::Newest),
                ("budget_asc", SortOrder::AmountAsc),
                ("budget_desc", SortOrder::AmountDesc),
                ("deadline", SortOrder::DeadlineAsc),
            ],
        );
        let facets = params::facets(&mut errs, self.facets.as_deref(), facet, FACETS);
        let filters = Filters {
            fields,
            modes,
            statuses,
            region_prefix,
            amount_min: self.budget_min,
            amount_max: self.budget_max,
            include_negotiable: self.include_negotiable.unwrap_or(false),
            deadline_from: self.deadline_after.map(domain::date_start_unix),
            deadline_to: self.deadline_before.map(domain::date_start_unix),
            tags,
            ..Default::default()
        };
        let limit = params::limit(self.limit);
        errs.finish(DemandSearch {
            query: SearchQuery {
                text,
                filters,
                facets,
                sort,
                limit,
                cursor: self.cursor.filter(|c| !c.trim().is_empty()),
                highlight: true,
                any_word: false,
                top_only: false,
                long_text: false,
            },
            mine,
        })
    }
}

/// Runs a search for `actor` (anonymous when `None`).
pub async fn search(
    st: &DemandsState,
    actor: Option<&Actor>,
    s: DemandSearch,
) -> ServiceResult<DemandSearchResponse> {
    if s.mine {
        let actor = actor.ok_or_else(|| {
            ServiceError::new(ErrorCode::Unauthenticated).detail("mine=true needs a bearer token")
        })?;
        search_mine(&st.db, actor, &s.query).await
    } else {
        search_public(st, actor, &s.query).await
    }
}

/// Renders needs by id for a viewer, keeping `ids`' order; with `only_open`, needs no
/// longer open (the index may lag behind) are left out.
async fn render<C: ConnectionTrait>(
    conn: &C,
    actor: Option<&Actor>,
    ids: &[i64],
    only_open: bool,
) -> Result<HashMap<i64, DemandView>, ServiceError> {
    let rows = Entity::find()
        .filter(Column::Id.is_in(ids.iter().copied()))
        .all(conn)
        .await?;
    let demands = rows
        .iter()
        .map(store::decode)
        .collect::<Result<Vec<_>, _>>()?;
    let challenges = store::challenges_of(conn, ids).await?;
    let org_ids: Vec<i64> = demands.iter().map(|d| d.owner_org_id).collect();
    let orgs = store::orgs(conn, &org_ids).await?;
    let viewer = viewer_of(actor);
    let now = ttx_core::clock::now();
    let today = ttx_core::clock::beijing_date(now);
    Ok(demands
        .iter()
        .filter(|d| {
            !only_open
                || domain::effective_status(d.status, d.data.deadline, today) == DemandStatus::Open
        })
        .map(|d| {
            (
                d.id,
                DemandView::build(
                    d,
                    challenges.get(&d.id),
                    orgs.get(&d.owner_org_id),
                    &viewer,
                    now,
                ),
            )
        })
        .collect())
}

async fn search_public(
    st: &DemandsState,
    actor: Option<&Actor>,
    q: &SearchQuery,
) -> ServiceResult<DemandSearchResponse> {
    let res = st.engine.search(DEMANDS, q).await?;
    let ids: Vec<i64> = res.hits.iter().map(|h| h.id).collect();
    let mut views = render(&st.db, actor, &ids, true).await?;
    let hits = res
        .hits
        .into_iter()
        .filter_map(|h| {
            views.remove(&h.id).map(|demand| DemandHit {
                demand,
                score: h.score,
                highlights: h.highlights,
            })
        })
        .collect();
    Ok(DemandSearchResponse::new(SearchPage {
        total: res.total,
        hits,
        facets: res.facets,
        next_cursor: res.next_cursor,
    }))
}

/// Whether `doc` contains every term of `text` (case-insensitive substring match).
fn text_matches(doc: &SearchDoc, text: &str) -> bool {
    let hay = format!(
        "{} {} {} {}",
        doc.title,
        doc.summary,
        doc.body,
        doc.keywords.join(" ")
    )
    .to_lowercase();
    text.split_whitespace()
        .all(|t| hay.contains(&t.to_lowercase()))
}

async fn search_mine(
    db: &DatabaseConnection,
    actor: &Actor,
    q: &SearchQuery,
) -> ServiceResult<DemandSearchResponse> {
    let offset = q.offset()?;
    let rows = Entity::find()
        .filter(Column::OwnerOrgId.eq(actor.org_id))
        .order_by_desc(Column::Id)
        .limit(MAX_MINE_SCAN)
        .all(db)
        .await?;
    let demands: Vec<Demand> = rows
        .iter()
        .map(store::decode)
        .collect::<Result<Vec<_>, _>>()?;
    let ids: Vec<i64> = demands.iter().map(|d| d.id).collect();
    let challenges = store::challenges_of(db, &ids).await?;
    let today = ttx_core::clock::today();
    let mut docs: Vec<SearchDoc> = demands
        .iter()
        .map(|d| {
            let status = domain::effective_status(d.status, d.data.deadline, today);
            to_search_doc(d, challenges.get(&d.id), None, status)
        })
        .filter(|doc| q.filters.matches(doc))
        .filter(|doc| q.text_trimmed().is_none_or(|t| text_matches(doc, t)))
        .collect();
    let mut facets: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for f in &q.facets {
        let counts = facets.entry(f.as_str().to_string()).or_default();
        for doc in &docs {
            for v in f.values(doc) {
                *counts.entry(v).or_default() += 1;
            }
        }
    }
    docs.sort_by(|a, b| q.sort.compare(a, b));
    let total = docs.len() as u64;
    let limit = q.effective_limit();
    let page: Vec<i64> = docs.iter().skip(offset).take(limit).map(|d| d.id).collect();
    let mut views = render(db, Some(actor), &page, false).await?;
    Ok(DemandSearchResponse::new(SearchPage {
        total,
        hits: page
            .iter()
            .filter_map(|id| views.remove(id))
            .map(|demand| DemandHit {
                demand,
                score: 0.0,
                highlights: BTreeMap::new(),
            })
            .collect(),
        facets,
        next_cursor: ttx_search::next_cursor(offset, page.len(), total),
    }))
}

/// `GET /v1/challenges` parameters.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ChallengeListParams {
    /// The caller's organisation's challenges in every state (default: open challenges).
    pub mine: Option<bool>,
    #[serde(default, deserialize_with = "ttx_web::pagination::page_limit")]
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// Open challenges, or the caller's own; newest first; `before` is the last id of the
/// previous page.
pub async fn list_challenges(
    db: &DatabaseConnection,
    actor: Option<&Actor>,
    mine: bool,
    before: Option<i64>,
    limit: u64,
) -> ServiceResult<(Vec<DemandView>, bool)> {
    let mut q = Entity::find().filter(Column::IsChallenge.eq(true));
    if mine {
        let actor = actor.ok_or_else(|| {
            ServiceError::new(ErrorCode::Unauthenticated).detail("mine=true needs a bearer token")
        })?;
        q = q.filter(Column::OwnerOrgId.eq(actor.org_id));
    } else {
        let today = ttx_core::clock::today();
        q = q
            .filter(Column::Status.eq(DemandStatus::Open.as_str()))
            .filter(
                sea_orm::Condition::any()
                    .add(Column::Deadline.is_null())
                    .add(Column::Deadline.gte(today)),
            );
    }
    if let Some(b) = before {
        q = q.filter(Column::Id.lt(b));
    }
    let rows = q.order_by_desc(Column::Id).limit(limit + 1).all(db).await?;
    let more = rows.len() as u64 > limit;
    let ids: Vec<i64> = rows.iter().take(limit as usize).map(|m| m.id).collect();
    let mut views = render(db, actor, &ids, !mine).await?;
    Ok((ids.iter().filter_map(|id| views.remove(id)).collect(), more))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_are_validated_together() {
        let p = DemandSearchParams {
            field: vec!["new_energy,magic".into()],
            budget_min: Some(-1),
            status: vec!["draft".into()],
            region: Some("99".into()),
            sort: Some("cheapest".into()),
            facets: Some("field,colour".into()),
            ..Default::default()
        };
        let e = p.parse().unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            vec!["field", "status", "budget_min", "region", "sort", "facets"]
        );
    }

    #[test]
    fn public_searches_only_open_needs() {
        let s = DemandSearchParams {
            q: Some("电池".into()),
            field: vec!["new_energy".into()],
            mode: vec!["license".into(), "co_development".into()],
            budget_min: Some(100),
            budget_max: Some(500),
            region: Some("440000".into()),
            deadline_before: NaiveDate::from_ymd_opt(2027, 1, 1),
            challenge: Some(true),
            research_type: Some("applied".into()),
            sort: Some("deadline".into()),
            facets: Some("field,modes,status".into()),
            ..Default::default()
        }
        .parse()
        .unwrap();
        let f = &s.query.filters;
        assert_eq!(f.statuses, vec!["open"]);
        assert_eq!(f.region_prefix.as_deref(), Some("44"));
        assert_eq!(f.modes, vec!["co_development", "license"]);
        assert_eq!(f.tags, vec!["challenge", "research_type:applied"]);
        assert_eq!(
            f.deadline_to,
            Some(domain::date_start_unix(
                NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()
            ))
        );
        assert_eq!(s.query.sort, SortOrder::DeadlineAsc);
        assert_eq!(s.query.facets.len(), 3);
        assert!(!s.mine);
    }
}
