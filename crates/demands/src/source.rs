//! The [`DocSource`] of the `demands` index: the public face of open needs and challenges.
//!
//! Only needs that are open (and not past their deadline) are searchable. An anonymous firm's
//! name and organisation id are never put into a [`SearchDoc`]; contact details never are.
use crate::domain::{self, DemandStatus};
use crate::entity::demand::{Column, Entity};
use crate::store::{self, Challenge, Demand};
use async_trait::async_trait;
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use std::collections::HashMap;
use ttx_search::{region_prefixes, DocSource, IndexName, SearchDoc, SearchError, DEMANDS};

/// Characters of the problem statement used as the summary.
pub const SUMMARY_CHARS: usize = 300;

/// Tag of needs that are challenges.
pub const CHALLENGE_TAG: &str = "challenge";

/// The tag naming a research type, e.g. `research_type:applied`.
pub fn research_tag(code: &str) -> String {
    format!("research_type:{code}")
}

/// Builds the search document of a need. `org_name` is the owner's name, used only when the
/// need is not anonymous; `status` is what the document reports (the effective status).
pub fn to_search_doc(
    d: &Demand,
    challenge: Option<&Challenge>,
    org_name: Option<&str>,
    status: DemandStatus,
) -> SearchDoc {
    let data = &d.data;
    let (mut amount_min, mut amount_max) = crate::domain::Budget::bounds(data.budget.as_ref());
    let negotiable = matches!(data.budget, Some(crate::domain::Budget::Negotiable));
    if let (None, None, false, Some(c)) = (amount_min, amount_max, negotiable, challenge) {
        amount_min = Some(c.terms.bounty.0);
        amount_max = Some(c.terms.bounty.0);
    }
    let mut tags = Vec::new();
    if challenge.is_some() || d.is_challenge {
        tags.push(CHALLENGE_TAG.to_string());
    }
    if let Some(r) = data.research_type {
        tags.push(research_tag(r.as_str()));
    }
    let summary: String = data.problem.chars().take(SUMMARY_CHARS).collect();
    let body = [
        data.problem.as_str(),
        data.key_points.as_str(),
        data.goals.as_str(),
    ]
    .iter()
    .filter(|s| !s.trim().is_empty())
    .copied()
    .collect::<Vec<_>>()
    .join("\n");
    let (org_name, org_id) = if data.anonymous {
        (None, None)
    } else {
        (org_name.map(str::to_string), Some(d.owner_org_id))
    };
    let region = d.region.as_string();
    SearchDoc {
        id: d.id,
        title: data.title.clone(),
        summary,
        body,
        keywords: data.keywords.clone(),
        org_name,
        org_id,
        field: data
            .field
            .map(|f| f.as_str().to_string())
            .unwrap_or_default(),
        modes: data.modes.iter().map(|m| m.as_str().to_string()).collect(),
        ip_kinds: vec![],
        status: status.as_str().to_string(),
        region_prefixes: region_prefixes(&region),
        region_code: region,
        dual_use: false,
        trl: data.trl_min.or(data.trl_max).map(|t| i64::from(t.level())),
        amount_min,
        amount_max,
        negotiable,
        published_at: d.published_at.unwrap_or(d.created_at).timestamp(),
        deadline: data.deadline.map(domain::date_start_unix),
        tags,
    }
}

/// Whether a need belongs in the public index now.
pub fn is_searchable(d: &Demand, today: chrono::NaiveDate) -> bool {
    domain::effective_status(d.status, d.data.deadline, today) == DemandStatus::Open
}

/// Feeds the `demands` index from the database.
#[derive(Clone)]
pub struct DemandSource {
    db: DatabaseConnection,
}

impl DemandSource {
    pub fn new(db: DatabaseConnection) -> Self {
        DemandSource { db }
    }

    fn searchable_condition(today: chrono::NaiveDate) -> Condition {
        Condition::all()
            .add(Column::Status.eq(DemandStatus::Open.as_str()))
            .add(
                Condition::any()
                    .add(Column::Deadline.is_null())
                    .add(Column::Deadline.gte(today)),
            )
    }

    async fn docs(&self, rows: Vec<Demand>) -> Result<HashMap<i64, SearchDoc>, SearchError> {
        let ids: Vec<i64> = rows.iter().map(|d| d.id).collect();
        let challenges = store::challenges_of(&self.db, &ids).await?;
        let org_ids: Vec<i64> = rows
            .iter()
            .filter(|d| !d.data.anonymous)
            .map(|d| d.owner_org_id)
            .collect();
        let orgs = store::orgs(&self.db, &org_ids).await?;
        Ok(rows
            .iter()
            .map(|d| {
                let name = orgs.get(&d.owner_org_id).map(|o| o.name.as_str());
                (
                    d.id,
                    to_search_doc(d, challenges.get(&d.id), name, DemandStatus::Open),
                )
            })
            .collect())
    }
}

fn decode_all(rows: Vec<crate::entity::demand::Model>) -> Result<Vec<Demand>, SearchError> {
    rows.iter()
        .map(|m| store::decode(m).map_err(|e| SearchError::Source(e.to_string())))
        .collect()
}

#[async_trait]
impl DocSource for DemandSource {
    fn index(&self) -> IndexName {
        DEMANDS
    }

    async fn load(&self, ids: &[i64]) -> Result<Vec<(i64, Option<SearchDoc>)>, SearchError> {
        let today = ttx_core::clock::today();
        let rows = decode_all(
            Entity::find()
                .filter(Column::Id.is_in(ids.iter().copied()))
                .all(&self.db)
                .await?,
        )?;
        let searchable: Vec<Demand> = rows
            .into_iter()
            .filter(|d| is_searchable(d, today))
            .collect();
        let mut docs = self.docs(searchable).await?;
        Ok(ids.iter().map(|id| (*id, docs.remove(id))).collect())
    }

    async fn scan(
        &self,
        after_id: Option<i64>,
        limit: usize,
    ) -> Result<Vec<SearchDoc>, SearchError> {
        let today = ttx_core::clock::today();
        let mut q = Entity::find().filter(Self::searchable_condition(today));
        if let Some(a) = after_id {
            q = q.filter(Column::Id.gt(a));
        }
        let rows = decode_all(
            q.order_by_asc(Column::Id)
                .limit(limit as u64)
                .all(&self.db)
                .await?,
        )?;
        let order: Vec<i64> = rows.iter().map(|d| d.id).collect();
        let mut docs = self.docs(rows).await?;
        Ok(order
            .into_iter()
            .filter_map(|id| docs.remove(&id))
            .collect())
    }

    async fn count(&self) -> Result<u64, SearchError> {
        let today = ttx_core::clock::today();
        Ok(Entity::find()
            .filter(Self::searchable_condition(today))
            .count(&self.db)
            .await?)
    }
}
