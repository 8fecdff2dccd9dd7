//! Use cases of proposals: submit, read, shortlist, accept, decline.
use super::{load_visible, reload, save, viewer_of};
use crate::challenge::{self, Decision, ProposalStatus};
use crate::command::NewProposal;
use crate::domain::{self, Action, DemandStatus};
use crate::entity::{challenge as challenge_entity, demand, proposal};
use crate::error;
use crate::state::DemandsState;
use crate::store::{self, Demand, OrgInfo, Proposal};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, SqlErr,
};
use serde_json::json;
use std::collections::BTreeMap;
use ttx_accounts::audit::{self, Target};
use ttx_accounts::Actor;
use ttx_core::RegionCode;
use ttx_search::DEMANDS;
use ttx_web::{ErrorCode, ServiceError};

/// A proposal with what its view needs.
#[derive(Clone, Debug)]
pub struct ProposalBundle {
    pub proposal: Proposal,
    pub challenge_title: String,
    pub orgs: BTreeMap<i64, OrgInfo>,
}

async fn bundle<C: ConnectionTrait>(
    conn: &C,
    proposals: Vec<Proposal>,
    d: &Demand,
) -> Result<Vec<ProposalBundle>, ServiceError> {
    let mut ids: Vec<i64> = proposals.iter().map(|p| p.solver_org_id).collect();
    ids.push(d.owner_org_id);
    let orgs: BTreeMap<i64, OrgInfo> = store::orgs(conn, &ids).await?.into_iter().collect();
    Ok(proposals
        .into_iter()
        .map(|p| ProposalBundle {
            proposal: p,
            challenge_title: d.data.title.clone(),
            orgs: orgs.clone(),
        })
        .collect())
}

/// Submits the caller's organisation's proposal to a challenge.
pub async fn submit(
    st: &DemandsState,
    actor: &Actor,
    challenge_id: i64,
    new: NewProposal,
) -> Result<ProposalBundle, ServiceError> {
    let now = ttx_core::clock::now();
    let viewer = viewer_of(Some(actor));
    let txn = ttx_notify::begin_write(&st.db).await?;
    let cur = load_visible(&txn, &viewer, challenge_id).await?;
    let d = &cur.demand;
    let Some(ch) = &cur.challenge else {
        return Err(ServiceError::not_found("challenge"));
    };
    let region = RegionCode::parse(&actor.org_region).map_err(ServiceError::internal)?;
    if d.owner_org_id == actor.org_id {
        return Err(error::ineligible(&challenge::Ineligible::OwnChallenge));
    }
    let status = domain::effective_status(
        d.status,
        d.data.deadline,
        ttx_core::clock::beijing_date(now),
    );
    if !challenge::open_for_proposals(status) {
        return Err(error::challenge_not_open(status.as_str()));
    }
    if !challenge::accepts_proposals(&ch.terms, now) {
        return Err(error::proposal_deadline_passed(ch.terms.proposal_deadline));
    }
    challenge::check_eligible(
        &ch.terms,
        d.owner_org_id,
        actor.org_id,
        actor.org_kind,
        &region,
    )
    .map_err(|e| error::ineligible(&e))?;
    let row = proposal::ActiveModel {
        challenge_id: Set(challenge_id),
        solver_org_id: Set(actor.org_id),
        submitted_by: Set(actor.user_id),
        approach: Set(new.approach),
        team: Set(new.team),
        timeline: Set(new.timeline),
        price: Set(new.price.0),
        status: Set(ProposalStatus::Submitted.as_str().to_string()),
        decline_reason: Set(None),
        decided_by: Set(None),
        decided_at: Set(None),
        seller_org_id: Set(None),
        buyer_org_id: Set(None),
        contract_amount: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| {
        if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) {
            error::already_submitted()
        } else {
            ServiceError::internal(e)
        }
    })?;
    let p = store::decode_proposal(&row)?;
    let solver_name = store::orgs(&txn, &[actor.org_id])
        .await?
        .remove(&actor.org_id)
        .map(|o| o.name)
        .unwrap_or_default();
    audit::record(
        &txn,
        &actor.audit(),
        "proposal.submit",
        Target::new("proposal", p.id, Some(actor.org_id)),
        json!({"challenge_id": challenge_id, "challenger_org_id": d.owner_org_id}),
    )
    .await?;
    ttx_notify::emit(&txn, crate::events::proposal_submitted(d, &p, &solver_name)).await?;
    let mut out = bundle(&txn, vec![p], d).await?;
    txn.commit().await?;
    st.changed(challenge_id);
    st.committed();
    Ok(out.remove(0))
}

/// Proposals of a challenge: all of them for the challenger's organisation, the caller's
/// own otherwise. Newest first; `before` is the last id of the previous page.
pub async fn list_for_challenge(
    db: &DatabaseConnection,
    actor: &Actor,
    challenge_id: i64,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<ProposalBundle>, ServiceError> {
    let cur = load_visible(db, &viewer_of(Some(actor)), challenge_id).await?;
    if cur.challenge.is_none() {
        return Err(ServiceError::not_found("challenge"));
    }
    let mut q = proposal::Entity::find().filter(proposal::Column::ChallengeId.eq(challenge_id));
    if cur.demand.owner_org_id != actor.org_id {
        q = q.filter(proposal::Column::SolverOrgId.eq(actor.org_id));
    }
    if let Some(b) = before {
        q = q.filter(proposal::Column::Id.lt(b));
    }
    let rows = q
        .order_by_desc(proposal::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?;
    let ps = rows
        .iter()
        .map(store::decode_proposal)
        .collect::<Result<Vec<_>, _>>()?;
    bundle(db, ps, &cur.demand).await
}

/// The proposals the caller's organisation submitted, newest first (keyset on id).
pub async fn list_own(
    db: &DatabaseConnection,
    actor: &Actor,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<ProposalBundle>, ServiceError> {
    let mut q = proposal::Entity::find().filter(proposal::Column::SolverOrgId.eq(actor.org_id));
    if let Some(b) = before {
        q = q.filter(proposal::Column::Id.lt(b));
    }
    let rows = q
        .order_by_desc(proposal::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let p = store::decode_proposal(row)?;
        let Some(d) = store::find(db, p.challenge_id).await? else {
            continue;
        };
        out.extend(bundle(db, vec![p], &d).await?);
    }
    Ok(out)
}

/// Loads a proposal visible to the caller (its organisation or the challenger's); 404
/// otherwise. Returns it with its challenge.
async fn load<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: i64,
) -> Result<(Proposal, Demand), ServiceError> {
    let not_found = || ServiceError::not_found("proposal");
    let row = proposal::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(not_found)?;
    let p = store::decode_proposal(&row)?;
    let d = store::find(conn, p.challenge_id)
        .await?
        .ok_or_else(not_found)?;
    if actor.org_id != p.solver_org_id && actor.org_id != d.owner_org_id {
        return Err(not_found());
    }
    Ok((p, d))
}

/// When the challenge `d` has all its winners, the proposals still waiting leave `submitted` /
/// `shortlisted` for `not_selected` and their solvers are notified (in the caller's
/// transaction).
async fn not_selected<C: ConnectionTrait>(
    conn: &C,
    d: &Demand,
    accepted_id: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), ServiceError> {
    let Some(ch) = store::find_challenge(conn, d.id).await? else {
        return Ok(());
    };
    let rows = proposal::Entity::find()
        .filter(proposal::Column::ChallengeId.eq(d.id))
        .filter(proposal::Column::Id.ne(accepted_id))
        .all(conn)
        .await?;
    for row in rows {
        let p = store::decode_proposal(&row)?;
        if !challenge::loses_when_full(p.status, ch.accepted_count, ch.terms.max_winners) {
            continue;
        }
        let res = proposal::Entity::update_many()
            .set(proposal::ActiveModel {
                status: Set(ProposalStatus::NotSelected.as_str().to_string()),
                decided_at: Set(Some(now)),
                version: Set(p.version + 1),
                updated_at: Set(now),
                ..Default::default()
            })
            .filter(proposal::Column::Id.eq(p.id))
            .filter(proposal::Column::Version.eq(p.version))
            .exec(conn)
            .await?;
        if res.rows_affected == 1 {
            let p = Proposal {
                status: ProposalStatus::NotSelected,
                ..p
            };
            ttx_notify::emit(conn, crate::events::proposal_not_selected(d, &p)).await?;
        }
    }
    Ok(())
}

/// A proposal for its authors or the challenger.
pub async fn get(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
) -> Result<ProposalBundle, ServiceError> {
    let (p, d) = load(db, actor, id).await?;
    Ok(bundle(db, vec![p], &d).await?.remove(0))
}

/// The challenger shortlists, accepts (up to the challenge's number of winners) or declines
/// (with a reason) a proposal. Accepting records the parties of the contract that follows
/// and moves the challenge to negotiation.
pub async fn decide(
    st: &DemandsState,
    actor: &Actor,
    id: i64,
    decision: Decision,
    reason: Option<String>,
) -> Result<ProposalBundle, ServiceError> {
    let now = ttx_core::clock::now();
    let txn = ttx_notify::begin_write(&st.db).await?;
    let (p, d) = load(&txn, actor, id).await?;
    if actor.org_id != d.owner_org_id {
        return Err(ServiceError::forbidden(
            "only the challenger decides on proposals",
        ));
    }
    if !domain::can_manage(d.owner_org_id, d.created_by, &viewer_of(Some(actor))) {
        return Err(ServiceError::forbidden(
            "only the member who posted the challenge and the organisation's admins decide",
        ));
    }
    let status = domain::effective_status(
        d.status,
        d.data.deadline,
        ttx_core::clock::beijing_date(now),
    );
    if !challenge::open_for_decisions(status) {
        return Err(error::challenge_not_open(status.as_str()));
    }
    let to = challenge::decide(p.status, decision)
        .ok_or_else(|| error::proposal_transition(p.status, decision))?;
    if decision == Decision::Accept {
        let res = challenge_entity::Entity::update_many()
            .col_expr(
                challenge_entity::Column::AcceptedCount,
                Expr::col(challenge_entity::Column::AcceptedCount).add(1),
            )
            .filter(challenge_entity::Column::DemandId.eq(d.id))
            .filter(
                Expr::col(challenge_entity::Column::AcceptedCount)
                    .lt(Expr::col(challenge_entity::Column::MaxWinners)),
            )
            .exec(&txn)
            .await?;
        if res.rows_affected != 1 {
            let max = store::find_challenge(&txn, d.id)
                .await?
                .map(|c| c.terms.max_winners)
                .unwrap_or(0);
            return Err(error::winners_exhausted(max));
        }
    }
    let mut am = proposal::ActiveModel {
        status: Set(to.as_str().to_string()),
        decided_by: Set(Some(actor.user_id)),
        decided_at: Set(Some(now)),
        version: Set(p.version + 1),
        updated_at: Set(now),
        ..Default::default()
    };
    match decision {
        Decision::Decline => am.decline_reason = Set(reason.clone()),
        Decision::Accept => {
            am.seller_org_id = Set(Some(p.solver_org_id));
            am.buyer_org_id = Set(Some(d.owner_org_id));
            am.contract_amount = Set(Some(p.price.0));
        }
        Decision::Shortlist => {}
    }
    let res = proposal::Entity::update_many()
        .set(am)
        .filter(proposal::Column::Id.eq(p.id))
        .filter(proposal::Column::Version.eq(p.version))
        .exec(&txn)
        .await?;
    if res.rows_affected != 1 {
        return Err(ServiceError::new(ErrorCode::Conflict)
            .detail("the proposal was changed meanwhile; retry"));
    }
    if decision == Decision::Accept && d.status != DemandStatus::InNegotiation {
        let to = domain::transition(status, Action::Negotiate).map_err(error::transition)?;
        let dam = demand::ActiveModel {
            status: Set(to.as_str().to_string()),
            ..Default::default()
        };
        save(&txn, d.version, d.id, dam, false).await?;
        ttx_search::enqueue(&txn, DEMANDS, d.id).await?;
    }
    let row = proposal::Entity::find_by_id(p.id)
        .one(&txn)
        .await?
        .ok_or_else(|| ServiceError::not_found("proposal"))?;
    let p = store::decode_proposal(&row)?;
    let d = reload(&txn, d.id).await?;
    audit::record(
        &txn,
        &actor.audit(),
        &format!("proposal.{}", decision.as_str()),
        Target::new("proposal", p.id, Some(p.solver_org_id)),
        json!({"challenge_id": d.id, "reason": reason}),
    )
    .await?;
    ttx_notify::emit(
        &txn,
        crate::events::proposal_decided(&d, &p, decision, reason.as_deref()),
    )
    .await?;
    if decision == Decision::Accept {
        not_selected(&txn, &d, p.id, now).await?;
    }
    let mut out = bundle(&txn, vec![p], &d).await?;
    txn.commit().await?;
    st.changed(d.id);
    st.committed();
    Ok(out.remove(0))
}
