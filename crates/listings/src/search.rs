//! Searching listings: the public search goes to the engine (published listings only) and
//! loads the hits from the database; `mine=true` searches the caller's own listings in every
//! state straight from the database, with the same filter, facet and sort semantics as the
//! engines (the reference functions of `ttx-search`).
use crate::domain::{self, ListingStatus};
use crate::dto::{ListingCard, SearchHit, SearchParams, SearchResponse};
use crate::entity::listing::{Column, Entity};
use crate::source::to_search_doc;
use crate::state::ListingsState;
use crate::store::{self, Listing};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::{BTreeMap, HashMap};
use std::time::Instant;
use ttx_accounts::Actor;
use ttx_core::{FieldErrors, IpKind, TechField, TransferMode};
use ttx_search::{params, FacetField, Filters, SearchDoc, SearchQuery, SortOrder, LISTINGS};
use ttx_web::{ErrorCode, ServiceError, ServiceResult};

/// Longest query text accepted.
pub const MAX_QUERY_CHARS: usize = 200;
/// Most listings a `mine=true` search looks at.
pub const MAX_MINE_SCAN: u64 = 20_000;

/// A validated search.
#[derive(Clone, Debug, PartialEq)]
pub struct ListingSearch {
    pub query: SearchQuery,
    /// Only the caller's organisation's listings, every state.
    pub mine: bool,
}

const FACETS: &str = "field, modes, ip_kinds, status, province, trl, dual_use";

fn facet(name: &str) -> Option<FacetField> {
    Some(match name {
        "field" => FacetField::Field,
        "modes" | "mode" => FacetField::Modes,
        "ip_kinds" | "ip_kind" => FacetField::IpKinds,
        "status" => FacetField::Status,
        "province" | "region" => FacetField::Province,
        "trl" => FacetField::Trl,
        "dual_use" => FacetField::DualUse,
        _ => return None,
    })
}

impl SearchParams {
    /// Validates the parameters, reporting every problem at once.
    pub fn parse(self) -> Result<ListingSearch, FieldErrors> {
        let mut errs = FieldErrors::new();
        let mine = self.mine.unwrap_or(false);
        let text = errs.opt_text("q", self.q.as_deref(), MAX_QUERY_CHARS);
        let fields = params::codes::<TechField>(&mut errs, "field", &self.field);
        let modes = params::codes::<TransferMode>(&mut errs, "mode", &self.mode);
        let ip_kinds = params::codes::<IpKind>(&mut errs, "ip_kind", &self.ip_kind);
        let statuses = params::statuses::<ListingStatus>(
            &mut errs,
            &self.status,
            mine,
            ListingStatus::Published.as_str(),
            "listings",
        );
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
        params::amount_range(
            &mut errs,
            ("price_min", self.price_min),
            ("price_max", self.price_max),
        );
        let region_prefix = params::region_prefix(&mut errs, self.region.as_deref());
        let sort = params::sort(
            &mut errs,
            self.sort.as_deref(),
            &[
                ("relevance", SortOrder::Relevance),
                ("newest", SortOrder::Newest),
                ("price_asc", SortOrder::AmountAsc),
                ("price_desc", SortOrder::AmountDesc),
            ],
        );
        let facets = params::facets(&mut errs, self.facets.as_deref(), facet, FACETS);
        let filters = Filters {
            fields,
            modes,
            ip_kinds,
            statuses,
            region_prefix,
            trl_min: self.trl_min.map(i64::from),
            trl_max: self.trl_max.map(i64::from),
            amount_min: self.price_min,
            amount_max: self.price_max,
            include_negotiable: self.include_negotiable.unwrap_or(false),
            dual_use: self.dual_use,
            ..Default::default()
        };
        let limit = params::limit(self.limit);
        errs.finish(ListingSearch {
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
    st: &ListingsState,
    actor: Option<&Actor>,
    s: ListingSearch,
) -> ServiceResult<SearchResponse> {
    let t0 = Instant::now();
    let mine = s.mine;
    let res = if mine {
        let actor = actor.ok_or_else(|| {
            ServiceError::new(ErrorCode::Unauthenticated).detail("mine=true needs a bearer token")
        })?;
        search_mine(st, actor.org_id, &s.query).await
    } else {
        search_public(st, &s.query).await
    };
    metrics::histogram!("ttx_listings_search_seconds", "mine" => mine.to_string())
        .record(t0.elapsed().as_secs_f64());
    res
}

async fn search_public(st: &ListingsState, q: &SearchQuery) -> ServiceResult<SearchResponse> {
    let found = st.engine.search(LISTINGS, q).await?;
    let mut cards = public_cards(st, found.hits.iter().map(|h| h.id)).await?;
    let mut hits = Vec::with_capacity(found.hits.len());
    for h in found.hits {
        // The index may lag the database by a moment: what is no longer public is skipped.
        let Some(listing) = cards.remove(&h.id) else {
            continue;
        };
        hits.push(SearchHit {
            listing,
            score: h.score,
            highlights: h.highlights,
        });
    }
    Ok(SearchResponse {
        hits,
        total: found.total,
        facets: found.facets,
        next_cursor: found.next_cursor,
    })
}

/// The public cards of those of `ids` that are published today, from the card cache where it
/// holds them and from the database for the rest (which then fill it).
async fn public_cards(
    st: &ListingsState,
    ids: impl Iterator<Item = i64>,
) -> ServiceResult<HashMap<i64, ListingCard>> {
    let now = ttx_core::clock::now();
    let mut out = HashMap::new();
    let mut missing = Vec::new();
    for id in ids {
        match st.cards.as_ref().and_then(|c| c.get(id, now)) {
            Some(card) => {
                out.insert(id, card);
            }
            None => missing.push(id),
        }
    }
    if missing.is_empty() {
        return Ok(out);
    }
    // Taken before the read: a write that commits meanwhile keeps this fill out of the cache.
    let ticket = st.cards.as_ref().map(|c| c.ticket());
    let rows = store::by_ids(&st.db, &missing).await?;
    let orgs = store::orgs(&st.db, rows.iter().map(|r| r.owner_org_id)).await?;
    let today = ttx_core::clock::beijing_date(now);
    for r in &rows {
        let l = store::decode(r)?;
        let status = domain::effective_status(l.status, l.data.expires_on, today);
        if status != ListingStatus::Published {
            continue;
        }
        let org = orgs.get(&l.owner_org_id);
        let card = ListingCard::build(l, org, status, false);
        if let (Some(cache), Some(ticket)) = (&st.cards, ticket) {
            cache.put(ticket, card.id, card.clone(), cache.expiry(now, None));
        }
        out.insert(card.id, card);
    }
    Ok(out)
}

/// Case-insensitive: does every whitespace-separated term of `text` occur in the listing?
fn text_matches(doc: &SearchDoc, terms: &[String]) -> usize {
    let hay = format!(
        "{}\n{}\n{}\n{}",
        doc.title,
        doc.summary,
        doc.body,
        doc.keywords.join("\n")
    )
    .to_lowercase();
    let title = doc.title.to_lowercase();
    let mut score = 0;
    for t in terms {
        if !hay.contains(t.as_str()) {
            return 0;
        }
        score += 1 + usize::from(title.contains(t.as_str())) * 2;
    }
    score
}

async fn search_mine(
    st: &ListingsState,
    org_id: i64,
    q: &SearchQuery,
) -> ServiceResult<SearchResponse> {
    let offset = q.offset()?;
    let limit = q.effective_limit();
    let mut sel = Entity::find().filter(Column::OwnerOrgId.eq(org_id));
    let f = &q.filters;
    if !f.fields.is_empty() {
        sel = sel.filter(Column::Field.is_in(f.fields.clone()));
    }
    if let Some(d) = f.dual_use {
        sel = sel.filter(Column::DualUse.eq(d));
    }
    if let Some(p) = &f.region_prefix {
        sel = sel.filter(Column::RegionCode.starts_with(p.as_str()));
    }
    let rows = sel
        .order_by_desc(Column::Id)
        .limit(MAX_MINE_SCAN)
        .all(&st.db)
        .await?;
    let orgs = store::orgs(&st.db, [org_id]).await?;
    let org = orgs.get(&org_id);
    let today = ttx_core::clock::today();
    let terms: Vec<String> = q
        .text_trimmed()
        .map(|t| t.split_whitespace().map(str::to_lowercase).collect())
        .unwrap_or_default();
    let mut matched: Vec<(usize, SearchDoc, Listing, ListingStatus)> = Vec::new();
    for r in &rows {
        let l = store::decode(r)?;
        let status = domain::effective_status(l.status, l.data.expires_on, today);
        let doc = to_search_doc(&l, org, status);
        if !f.matches(&doc) {
            continue;
        }
        let score = if terms.is_empty() {
            0
        } else {
            match text_matches(&doc, &terms) {
                0 => continue,
                s => s,
            }
        };
        matched.push((score, doc, l, status));
    }
    let mut facets: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for fct in &q.facets {
        let counts = facets.entry(fct.as_str().to_string()).or_default();
        for (_, doc, _, _) in &matched {
            for v in fct.values(doc) {
                *counts.entry(v).or_default() += 1;
            }
        }
    }
    let by_relevance = q.sort == SortOrder::Relevance && !terms.is_empty();
    matched.sort_by(|a, b| {
        if by_relevance {
            b.0.cmp(&a.0).then_with(|| q.sort.compare(&a.1, &b.1))
        } else {
            q.sort.compare(&a.1, &b.1)
        }
    });
    let total = matched.len() as u64;
    let hits: Vec<SearchHit> = matched
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|(score, _, l, status)| SearchHit {
            listing: ListingCard::build(l, org, status, true),
            score: score as f32,
            highlights: BTreeMap::new(),
        })
        .collect();
    Ok(SearchResponse {
        next_cursor: ttx_search::next_cursor(offset, hits.len(), total),
        hits,
        total,
        facets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(q: &str) -> Result<ListingSearch, FieldErrors> {
        let p: SearchParams = serde_html_form::from_str(q).unwrap();
        p.parse()
    }

    #[test]
    fn parses_filters() {
        let s = params("q=电池&field=new_energy&mode=transfer&mode=license&trl_min=3&trl_max=7&region=4403&facets=field,modes&sort=price_asc&limit=100").unwrap();
        let f = &s.query.filters;
        assert_eq!(f.fields, vec!["new_energy"]);
        assert_eq!(f.modes, vec!["license", "transfer"]);
        assert_eq!(f.statuses, vec!["published"]);
        assert_eq!(f.region_prefix.as_deref(), Some("4403"));
        assert_eq!(s.query.facets, vec![FacetField::Field, FacetField::Modes]);
        assert_eq!(s.query.sort, SortOrder::AmountAsc);
        assert_eq!(s.query.limit, 100);
        assert!(!s.mine);
    }

    #[test]
    fn reports_bad_parameters() {
        let e = params("field=magic&trl_min=8&trl_max=2&region=999999&sort=best&facets=colour&status=draft&price_min=5&price_max=1").unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|e| e.field.as_str()).collect();
        for f in [
            "field",
            "trl_min",
            "region",
            "sort",
            "facets",
            "status",
            "price_min",
        ] {
            assert!(fields.contains(&f), "{f} in {fields:?}");
        }
        let s = params("mine=true&status=draft,withdrawn").unwrap();
        assert_eq!(s.query.filters.statuses, vec!["draft", "withdrawn"]);
        assert!(s.mine);
    }

    #[test]
    fn text_matching_for_own_listings() {
        let doc = SearchDoc {
            id: 1,
            title: "固态电池电解质".into(),
            summary: "Solid-state battery".into(),
            body: String::new(),
            keywords: vec!["锂电".into()],
            org_name: None,
            org_id: None,
            field: "new_energy".into(),
            modes: vec![],
            ip_kinds: vec![],
            status: "draft".into(),
            region_code: "110108".into(),
            region_prefixes: vec![],
            dual_use: false,
            trl: None,
            amount_min: None,
            amount_max: None,
            negotiable: true,
            published_at: 0,
            deadline: None,
            tags: vec![],
        };
        assert!(text_matches(&doc, &["电池".into(), "battery".into()]) > 0);
        assert_eq!(text_matches(&doc, &["芯片".into()]), 0);
    }
}
