//! Persistence: rows of `demands`, `challenges` and `proposals` to domain values and back,
//! and the queries the use cases share.
use crate::challenge::{ChallengeTerms, Criterion, ProposalStatus};
use crate::domain::{Budget, Contact, DemandData, DemandStatus, ResearchType};
use crate::entity::{challenge, demand, proposal};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, JoinType, QueryFilter,
    QuerySelect, RelationDef,
};
use std::collections::HashMap;
use ttx_accounts::entity::organization;
use ttx_core::{Fen, Labelled, OrgKind, RegionCode, TechField, TransferMode, Trl};

/// A stored need with its columns parsed.
#[derive(Clone, Debug, PartialEq)]
pub struct Demand {
    pub id: i64,
    pub owner_org_id: i64,
    pub created_by: i64,
    pub data: DemandData,
    pub region: RegionCode,
    /// As stored; see [`crate::domain::effective_status`] for what readers see.
    pub status: DemandStatus,
    pub is_challenge: bool,
    pub close_reason: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// A stored challenge: its terms and how many proposals it accepted.
#[derive(Clone, Debug, PartialEq)]
pub struct Challenge {
    pub demand_id: i64,
    pub terms: ChallengeTerms,
    pub accepted_count: u32,
}

/// A stored proposal.
#[derive(Clone, Debug, PartialEq)]
pub struct Proposal {
    pub id: i64,
    pub challenge_id: i64,
    pub solver_org_id: i64,
    pub submitted_by: i64,
    pub approach: String,
    pub team: String,
    pub timeline: String,
    pub price: Fen,
    pub status: ProposalStatus,
    pub decline_reason: Option<String>,
    pub decided_by: Option<i64>,
    pub decided_at: Option<DateTime<Utc>>,
    /// Set on acceptance: the parties of the contract that follows.
    pub contract: Option<ContractParties>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Who signs the technology contract that follows an accepted proposal, and for how much.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContractParties {
    /// The solver organisation (技术开发 / 服务 provider).
    pub seller_org_id: i64,
    /// The challenger organisation.
    pub buyer_org_id: i64,
    pub amount: Fen,
}

/// A row that does not parse: the database holds something no code path writes.
#[derive(Debug, thiserror::Error)]
#[error("{table} {id}: column {column} holds an invalid value")]
pub struct CorruptRow {
    pub table: &'static str,
    pub id: i64,
    pub column: &'static str,
}

impl From<CorruptRow> for ttx_web::ServiceError {
    fn from(e: CorruptRow) -> Self {
        ttx_web::ServiceError::internal(e)
    }
}

fn trl(v: Option<i16>) -> Option<Trl> {
    v.and_then(|t| u8::try_from(t).ok())
        .and_then(|t| Trl::new(t).ok())
}

/// Parses a need row.
pub fn decode(m: &demand::Model) -> Result<Demand, CorruptRow> {
    let bad = |column| CorruptRow {
        table: "demand",
        id: m.id,
        column,
    };
    let keywords: Vec<String> = serde_json::from_str(&m.keywords).map_err(|_| bad("keywords"))?;
    let modes: Vec<TransferMode> = serde_json::from_str(&m.modes).map_err(|_| bad("modes"))?;
    let field = match &m.field {
        Some(f) => Some(TechField::from_code(f).ok_or_else(|| bad("field"))?),
        None => None,
    };
    let research_type = match &m.research_type {
        Some(r) => Some(ResearchType::from_code(r).ok_or_else(|| bad("research_type"))?),
        None => None,
    };
    let status = DemandStatus::from_code(&m.status).ok_or_else(|| bad("status"))?;
    let region = RegionCode::parse(&m.region_code).map_err(|_| bad("region_code"))?;
    Ok(Demand {
        id: m.id,
        owner_org_id: m.owner_org_id,
        created_by: m.created_by,
        data: DemandData {
            title: m.title.clone(),
            problem: m.problem.clone(),
            key_points: m.key_points.clone(),
            goals: m.goals.clone(),
            keywords,
            field,
            research_type,
            modes,
            trl_min: trl(m.trl_min),
            trl_max: trl(m.trl_max),
            budget: Budget::from_columns(&m.budget_kind, m.budget_min, m.budget_max),
            deadline: m.deadline,
            region: Some(region),
            anonymous: m.anonymous,
            contact: Contact {
                name: m.contact_name.clone(),
                phone: m.contact_phone.clone(),
                email: m.contact_email.clone(),
            },
        },
        region,
        status,
        is_challenge: m.is_challenge,
        close_reason: m.close_reason.clone(),
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
        published_at: m.published_at,
        closed_at: m.closed_at,
    })
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("values serialise")
}

/// Sets every owner-described column from `data` (`region` already resolved).
pub fn set_data(am: &mut demand::ActiveModel, data: &DemandData, region: RegionCode) {
    let (min, max) = Budget::bounds(data.budget.as_ref());
    am.title = Set(data.title.clone());
    am.problem = Set(data.problem.clone());
    am.key_points = Set(data.key_points.clone());
    am.goals = Set(data.goals.clone());
    am.keywords = Set(json(&data.keywords));
    am.field = Set(data.field.map(|f| f.as_str().to_string()));
    am.research_type = Set(data.research_type.map(|r| r.as_str().to_string()));
    am.modes = Set(json(&data.modes));
    am.trl_min = Set(data.trl_min.map(|t| i16::from(t.level())));
    am.trl_max = Set(data.trl_max.map(|t| i16::from(t.level())));
    am.budget_kind = Set(Budget::kind_code(data.budget.as_ref()).to_string());
    am.budget_min = Set(min);
    am.budget_max = Set(max);
    am.deadline = Set(data.deadline);
    am.region_code = Set(region.as_string());
    am.anonymous = Set(data.anonymous);
    am.contact_name = Set(data.contact.name.clone());
    am.contact_phone = Set(data.contact.phone.clone());
    am.contact_email = Set(data.contact.email.clone());
}

/// Parses a challenge row.
pub fn decode_challenge(m: &challenge::Model) -> Result<Challenge, CorruptRow> {
    let bad = |column| CorruptRow {
        table: "challenge",
        id: m.demand_id,
        column,
    };
    let kinds: Vec<OrgKind> =
        serde_json::from_str(&m.eligible_org_kinds).map_err(|_| bad("eligible_org_kinds"))?;
    let regions: Vec<String> =
        serde_json::from_str(&m.eligible_regions).map_err(|_| bad("eligible_regions"))?;
    let criteria: Vec<Criterion> =
        serde_json::from_str(&m.criteria).map_err(|_| bad("criteria"))?;
    Ok(Challenge {
        demand_id: m.demand_id,
        terms: ChallengeTerms {
            bounty: Fen(m.bounty),
            proposal_deadline: m.proposal_deadline,
            eligible_kinds: kinds,
            eligible_regions: regions,
            criteria,
            max_winners: u32::try_from(m.max_winners).map_err(|_| bad("max_winners"))?,
        },
        accepted_count: u32::try_from(m.accepted_count).map_err(|_| bad("accepted_count"))?,
    })
}

/// Sets the term columns of a challenge.
pub fn set_terms(am: &mut challenge::ActiveModel, t: &ChallengeTerms) {
    am.bounty = Set(t.bounty.0);
    am.proposal_deadline = Set(t.proposal_deadline);
    am.eligible_org_kinds = Set(json(&t.eligible_kinds));
    am.eligible_regions = Set(json(&t.eligible_regions));
    am.criteria = Set(json(&t.criteria));
    am.max_winners = Set(i32::try_from(t.max_winners).unwrap_or(i32::MAX));
}

/// Parses a proposal row.
pub fn decode_proposal(m: &proposal::Model) -> Result<Proposal, CorruptRow> {
    let status = ProposalStatus::from_code(&m.status).ok_or(CorruptRow {
        table: "proposal",
        id: m.id,
        column: "status",
    })?;
    let contract = match (m.seller_org_id, m.buyer_org_id, m.contract_amount) {
        (Some(s), Some(b), Some(a)) => Some(ContractParties {
            seller_org_id: s,
            buyer_org_id: b,
            amount: Fen(a),
        }),
        _ => None,
    };
    Ok(Proposal {
        id: m.id,
        challenge_id: m.challenge_id,
        solver_org_id: m.solver_org_id,
        submitted_by: m.submitted_by,
        approach: m.approach.clone(),
        team: m.team.clone(),
        timeline: m.timeline.clone(),
        price: Fen(m.price),
        status,
        decline_reason: m.decline_reason.clone(),
        decided_by: m.decided_by,
        decided_at: m.decided_at,
        contract,
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

/// Loads a need row.
pub async fn find<C: ConnectionTrait>(conn: &C, id: i64) -> Result<Option<Demand>, DbErr> {
    match demand::Entity::find_by_id(id).one(conn).await? {
        Some(m) => decode(&m)
            .map(Some)
            .map_err(|e| DbErr::Custom(e.to_string())),
        None => Ok(None),
    }
}

/// Loads a need with its owner organisation, in one query (a read by id).
pub async fn find_with_org<C: ConnectionTrait>(
    conn: &C,
    id: i64,
) -> Result<Option<(Demand, Option<OrgInfo>)>, DbErr> {
    let owner: RelationDef = demand::Entity::belongs_to(organization::Entity)
        .from(demand::Column::OwnerOrgId)
        .to(organization::Column::Id)
        .into();
    let row = demand::Entity::find_by_id(id)
        .select_also(organization::Entity)
        .join(JoinType::LeftJoin, owner)
        .one(conn)
        .await?;
    match row {
        Some((m, o)) => {
            let d = decode(&m).map_err(|e| DbErr::Custom(e.to_string()))?;
            Ok(Some((d, o.map(org_info))))
        }
        None => Ok(None),
    }
}

/// Loads a challenge row.
pub async fn find_challenge<C: ConnectionTrait>(
    conn: &C,
    id: i64,
) -> Result<Option<Challenge>, DbErr> {
    match challenge::Entity::find_by_id(id).one(conn).await? {
        Some(m) => decode_challenge(&m)
            .map(Some)
            .map_err(|e| DbErr::Custom(e.to_string())),
        None => Ok(None),
    }
}

/// Challenges of the given needs, by need id.
pub async fn challenges_of<C: ConnectionTrait>(
    conn: &C,
    ids: &[i64],
) -> Result<HashMap<i64, Challenge>, DbErr> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = challenge::Entity::find()
        .filter(challenge::Column::DemandId.is_in(ids.iter().copied()))
        .all(conn)
        .await?;
    rows.iter()
        .map(|m| {
            decode_challenge(m)
                .map(|c| (c.demand_id, c))
                .map_err(|e| DbErr::Custom(e.to_string()))
        })
        .collect()
}

/// What readers may learn about an organisation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgInfo {
    pub id: i64,
    pub name: String,
    pub kind: OrgKind,
    pub region: String,
    pub verified: bool,
}

/// Organisations by id.
pub async fn orgs<C: ConnectionTrait>(
    conn: &C,
    ids: &[i64],
) -> Result<HashMap<i64, OrgInfo>, DbErr> {
    let rows = organization::by_ids(conn, ids.iter().copied()).await?;
    Ok(rows.into_iter().map(|o| (o.id, org_info(o))).collect())
}

fn org_info(o: organization::Model) -> OrgInfo {
    OrgInfo {
        id: o.id,
        kind: o.kind.parse().unwrap_or(OrgKind::Enterprise),
        name: o.name,
        region: o.region_code,
        verified: o.verified,
    }
}
