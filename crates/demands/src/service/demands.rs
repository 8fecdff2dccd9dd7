//! Use cases of needs: create, edit, publish, close.
use super::{load_visible, reload, save, viewer_of, Loaded};
use crate::challenge::{ChallengeTerms, Decision, ProposalStatus};
use crate::command::DemandPatchCommand;
use crate::command::{CloseOutcome, NewDemand};
use crate::completeness::{self, Completeness};
use crate::domain::{self, Action, DemandData, DemandStatus};
use crate::entity::{challenge, demand, proposal};
use crate::error;
use crate::state::DemandsState;
use crate::store::{self, Demand};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction,
    EntityTrait, IntoActiveModel, QueryFilter,
};
use serde_json::json;
use ttx_accounts::audit::{self, Target};
use ttx_accounts::Actor;
use ttx_core::RegionCode;
use ttx_search::DEMANDS;
use ttx_web::ServiceError;

/// Requires a completeness score of at least `min`.
fn check_complete(data: &DemandData, min: u8) -> Result<Completeness, ServiceError> {
    let c = completeness::assess(data);
    if c.score < min {
        Err(error::incomplete(&c, min))
    } else {
        Ok(c)
    }
}

/// 403 for someone who sees the need but may not manage it.
fn require_manage(d: &Demand, actor: &Actor) -> Result<(), ServiceError> {
    if domain::can_manage(d.owner_org_id, d.created_by, &viewer_of(Some(actor))) {
        Ok(())
    } else {
        Err(ServiceError::forbidden(
            "only the member who posted the need and the organisation's admins may change it",
        ))
    }
}

fn status_now(d: &Demand, now: DateTime<Utc>) -> DemandStatus {
    domain::effective_status(
        d.status,
        d.data.deadline,
        ttx_core::clock::beijing_date(now),
    )
}

/// Checks that publishing is allowed now: deadline ahead, complete enough, and for a
/// challenge a proposal deadline ahead.
fn check_publishable(
    d: &DemandData,
    terms: Option<&ChallengeTerms>,
    min: u8,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    if domain::is_past_deadline(d.deadline, ttx_core::clock::beijing_date(now)) {
        return Err(error::deadline_passed());
    }
    check_complete(d, min)?;
    if let Some(t) = terms {
        if t.proposal_deadline <= now {
            return Err(error::deadline_passed().detail(
                "the challenge's proposal deadline has passed; move it before publishing",
            ));
        }
    }
    Ok(())
}

async fn insert_terms(
    txn: &DatabaseTransaction,
    id: i64,
    terms: &ChallengeTerms,
) -> Result<(), ServiceError> {
    let mut am = challenge::ActiveModel {
        demand_id: Set(id),
        accepted_count: Set(0),
        ..Default::default()
    };
    store::set_terms(&mut am, terms);
    challenge::Entity::insert(am)
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

/// Posts a need (a challenge when `terms` is given); publishes it at once when asked and
/// complete enough.
pub async fn create(
    st: &DemandsState,
    actor: &Actor,
    new: NewDemand,
    terms: Option<ChallengeTerms>,
) -> Result<Loaded, ServiceError> {
    if !domain::may_post(actor.org_kind) {
        return Err(error::org_kind());
    }
    let now = ttx_core::clock::now();
    if new.publish {
        check_publishable(&new.data, terms.as_ref(), st.cfg.min_publish_score, now)?;
    }
    let region = match new.data.region {
        Some(r) => r,
        None => RegionCode::parse(&actor.org_region).map_err(ServiceError::internal)?,
    };
    let status = if new.publish {
        DemandStatus::Open
    } else {
        DemandStatus::Draft
    };
    let txn = ttx_notify::begin_write(&st.db).await?;
    let mut am = demand::ActiveModel {
        owner_org_id: Set(actor.org_id),
        created_by: Set(actor.user_id),
        is_challenge: Set(terms.is_some()),
        status: Set(status.as_str().to_string()),
        close_reason: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        published_at: Set(new.publish.then_some(now)),
        closed_at: Set(None),
        ..Default::default()
    };
    store::set_data(&mut am, &new.data, region);
    let row = am.insert(&txn).await?;
    if let Some(t) = &terms {
        insert_terms(&txn, row.id, t).await?;
    }
    let d = store::decode(&row)?;
    audit::record(
        &txn,
        &actor.audit(),
        if terms.is_some() {
            "challenge.create"
        } else {
            "demand.create"
        },
        Target::new("demand", d.id, Some(actor.org_id)),
        json!({"title": d.data.title, "status": status.as_str()}),
    )
    .await?;
    if new.publish {
        ttx_notify::emit(&txn, crate::events::published(&d)).await?;
    }
    ttx_search::enqueue(&txn, DEMANDS, d.id).await?;
    let loaded = load_visible(&txn, &viewer_of(Some(actor)), d.id).await?;
    txn.commit().await?;
    st.committed();
    Ok(loaded)
}

/// Edits a need (compare-and-set on `expected_version`). An open need must stay complete
/// enough to be published.
pub async fn update(
    st: &DemandsState,
    actor: &Actor,
    id: i64,
    expected_version: i64,
    parsed: DemandPatchCommand,
) -> Result<Loaded, ServiceError> {
    let now = ttx_core::clock::now();
    let viewer = viewer_of(Some(actor));
    let txn = ttx_notify::begin_write(&st.db).await?;
    let cur = load_visible(&txn, &viewer, id).await?;
    let d = &cur.demand;
    require_manage(d, actor)?;
    ttx_web::IfMatch(expected_version).check(d.version)?;
    let status = status_now(d, now);
    domain::transition(status, Action::Edit).map_err(error::transition)?;
    let mut data = d.data.clone();
    let changed = parsed.patch.apply(&mut data);
    let mut errs = ttx_core::FieldErrors::new();
    domain::validate_trl_range(&mut errs, data.trl_min, data.trl_max);
    errs.into_result()?;
    let new_terms = match (&parsed.terms, &cur.challenge) {
        (None, _) => None,
        (Some(_), None) => {
            return Err(ServiceError::field(
                "terms",
                "not_a_challenge",
                "only challenges have terms",
            ))
        }
        (Some(_), Some(_)) if d.status != DemandStatus::Draft => {
            return Err(error::transition(domain::TransitionError {
                from: status,
                action: Action::Edit,
            })
            .detail("challenge terms can be changed only while the challenge is a draft"))
        }
        (Some(t), Some(_)) => Some(
            t.validate(data.deadline, now)
                .map_err(|e| ServiceError::validation(prefix_terms(e)))?,
        ),
    };
    if status == DemandStatus::Open {
        check_complete(&data, st.cfg.min_publish_score)?;
    }
    let region = data.region.unwrap_or(d.region);
    let mut am = demand::ActiveModel {
        ..Default::default()
    };
    store::set_data(&mut am, &data, region);
    // An open need read as expired is recorded as expired first: moving its deadline does
    // not reopen it silently; it is published again.
    let expires_now = d.status == DemandStatus::Open && status == DemandStatus::Expired;
    if expires_now {
        am.status = Set(DemandStatus::Expired.as_str().to_string());
    }
    save(&txn, d.version, id, am, true).await?;
    if expires_now {
        ttx_notify::emit(&txn, crate::events::expired(d)).await?;
    }
    if let Some(t) = &new_terms {
        let mut cam = challenge::ActiveModel {
            demand_id: sea_orm::ActiveValue::Unchanged(id),
            ..Default::default()
        };
        store::set_terms(&mut cam, t);
        cam.update(&txn).await?;
    }
    audit::record(
        &txn,
        &actor.audit(),
        "demand.update",
        Target::new("demand", id, Some(d.owner_org_id)),
        json!({"fields": changed, "terms": new_terms.is_some()}),
    )
    .await?;
    ttx_search::enqueue(&txn, DEMANDS, id).await?;
    let loaded = load_visible(&txn, &viewer, id).await?;
    txn.commit().await?;
    st.changed(id);
    st.committed();
    Ok(loaded)
}

fn prefix_terms(e: ttx_core::FieldErrors) -> ttx_core::FieldErrors {
    ttx_core::FieldErrors(
        e.0.into_iter()
            .map(|f| {
                let name = format!("terms.{}", f.field);
                f.at(name)
            })
            .collect(),
    )
}

/// Publishes a draft (or an expired need whose deadline was moved).
pub async fn publish(st: &DemandsState, actor: &Actor, id: i64) -> Result<Loaded, ServiceError> {
    let now = ttx_core::clock::now();
    let viewer = viewer_of(Some(actor));
    let txn = ttx_notify::begin_write(&st.db).await?;
    let cur = load_visible(&txn, &viewer, id).await?;
    let d = &cur.demand;
    require_manage(d, actor)?;
    let to = domain::transition(status_now(d, now), Action::Publish).map_err(error::transition)?;
    check_publishable(
        &d.data,
        cur.challenge.as_ref().map(|c| &c.terms),
        st.cfg.min_publish_score,
        now,
    )?;
    let am = demand::ActiveModel {
        status: Set(to.as_str().to_string()),
        published_at: Set(Some(now)),
        ..Default::default()
    };
    save(&txn, d.version, id, am, false).await?;
    let d = reload(&txn, id).await?;
    audit::record(
        &txn,
        &actor.audit(),
        "demand.publish",
        Target::new("demand", id, Some(d.owner_org_id)),
        json!(null),
    )
    .await?;
    ttx_notify::emit(&txn, crate::events::published(&d)).await?;
    ttx_search::enqueue(&txn, DEMANDS, id).await?;
    let loaded = load_visible(&txn, &viewer, id).await?;
    txn.commit().await?;
    st.changed(id);
    st.committed();
    Ok(loaded)
}

/// Resolves or closes a need. Open proposals of a challenge are declined with the reason.
pub async fn close(
    st: &DemandsState,
    actor: &Actor,
    id: i64,
    outcome: CloseOutcome,
    reason: Option<String>,
) -> Result<Loaded, ServiceError> {
    let now = ttx_core::clock::now();
    let viewer = viewer_of(Some(actor));
    let txn = ttx_notify::begin_write(&st.db).await?;
    let cur = load_visible(&txn, &viewer, id).await?;
    let d = &cur.demand;
    require_manage(d, actor)?;
    let (action, outcome_code) = match outcome {
        CloseOutcome::Resolved => (Action::Resolve, "resolved"),
        CloseOutcome::Closed => (Action::Close, "closed"),
    };
    let to = domain::transition(status_now(d, now), action).map_err(error::transition)?;
    let am = demand::ActiveModel {
        status: Set(to.as_str().to_string()),
        close_reason: Set(reason.clone()),
        closed_at: Set(Some(now)),
        ..Default::default()
    };
    save(&txn, d.version, id, am, false).await?;
    let d = reload(&txn, id).await?;
    let declined = if d.is_challenge {
        decline_open_proposals(&txn, actor, &d, reason.as_deref(), now).await?
    } else {
        0
    };
    audit::record(
        &txn,
        &actor.audit(),
        "demand.close",
        Target::new("demand", id, Some(d.owner_org_id)),
        json!({"outcome": outcome_code, "reason": reason, "declined_proposals": declined}),
    )
    .await?;
    ttx_notify::emit(&txn, crate::events::closed(&d, outcome_code)).await?;
    ttx_search::enqueue(&txn, DEMANDS, id).await?;
    let loaded = load_visible(&txn, &viewer, id).await?;
    txn.commit().await?;
    st.changed(id);
    st.committed();
    Ok(loaded)
}

/// Declines every submitted or shortlisted proposal of a closing challenge.
async fn decline_open_proposals(
    txn: &DatabaseTransaction,
    actor: &Actor,
    d: &Demand,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<usize, ServiceError> {
    let reason = reason.unwrap_or("揭榜挂帅已结束 / The challenge has ended");
    let open = proposal::Entity::find()
        .filter(proposal::Column::ChallengeId.eq(d.id))
        .filter(proposal::Column::Status.is_in([
            ProposalStatus::Submitted.as_str(),
            ProposalStatus::Shortlisted.as_str(),
        ]))
        .all(txn)
        .await?;
    let n = open.len();
    for row in open {
        let version = row.version;
        let mut am = row.into_active_model();
        am.status = Set(ProposalStatus::Declined.as_str().to_string());
        am.decline_reason = Set(Some(reason.to_string()));
        am.decided_by = Set(Some(actor.user_id));
        am.decided_at = Set(Some(now));
        am.version = Set(version + 1);
        am.updated_at = Set(now);
        let m = am.update(txn).await?;
        let p = store::decode_proposal(&m)?;
        ttx_notify::emit(
            txn,
            crate::events::proposal_decided(d, &p, Decision::Decline, Some(reason)),
        )
        .await?;
    }
    Ok(n)
}

/// Loads a need for `actor` (anonymous when `None`).
pub async fn get<C: ConnectionTrait>(
    conn: &C,
    actor: Option<&Actor>,
    id: i64,
) -> Result<Loaded, ServiceError> {
    load_visible(conn, &viewer_of(actor), id).await
}
