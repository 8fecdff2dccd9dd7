//! Use cases of the pipeline: each change is one transaction with its history row(s), its
//! audit entry (`ttx_accounts::audit::record`) and its notification events (`ttx_notify::emit`),
//! so a step, its record and its notices commit together or not at all.
use super::access::{self, Viewer};
use super::command::{FeedbackSpec, FunnelScope, OpenSpec};
use super::domain::{self, CloseReason, ClosingReason, MatchAction, Response, Side, Stage, State};
use super::notices::{self, Addressee};
use super::view::{DemandInfo, Names, OrgInfo};
use crate::entity::{match_event, match_feedback, matches};
use crate::error::MatchingError;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Condition;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, SqlErr,
};
use serde_json::json;
use std::collections::{BTreeSet, HashMap};
use ttx_accounts::audit::{self, Target};
use ttx_accounts::entity::{organization, user};
use ttx_accounts::Actor;
use ttx_core::{FieldErrors, OrgKind, Role};
use ttx_demands::domain::DemandStatus;
use ttx_demands::entity::demand;
use ttx_listings::domain::ListingStatus;
use ttx_listings::entity::listing;
use ttx_web::{Cursor, ErrorCode, ServiceError};

/// Ids per `IN (…)` list.
const CHUNK: usize = 500;

fn is_unique_violation(e: &DbErr) -> bool {
    matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

fn corrupt(what: &str, id: i64) -> ServiceError {
    ServiceError::internal(format!("match {id}: stored {what} does not parse"))
}

/// The rules' view of a stored match.
pub fn state_of(m: &matches::Model) -> Result<State, ServiceError> {
    Ok(State {
        stage: m.stage.parse().map_err(|_| corrupt("stage", m.id))?,
        listing: m
            .listing_response
            .parse()
            .map_err(|_| corrupt("listing_response", m.id))?,
        demand: m
            .demand_response
            .parse()
            .map_err(|_| corrupt("demand_response", m.id))?,
    })
}

/// The actions `viewer` may take on `m` now.
pub fn actions_for(viewer: &Viewer, m: &matches::Model) -> Vec<MatchAction> {
    state_of(m)
        .map(|s| domain::allowed(s, &viewer.acting))
        .unwrap_or_default()
}

/// 409 `match_invalid_transition`, naming the stage and the actions the caller may take now.
pub fn invalid_transition(state: State, viewer: &Viewer, action: MatchAction) -> ServiceError {
    let allowed: Vec<&str> = domain::allowed(state, &viewer.acting)
        .iter()
        .map(|a| a.as_str())
        .collect();
    ServiceError::new(MatchingError::InvalidTransition)
        .detail(format!(
            "a match that is {} does not allow {} now; allowed: {}",
            state.stage.as_str(),
            action.as_str(),
            if allowed.is_empty() {
                "nothing".to_string()
            } else {
                allowed.join(", ")
            }
        ))
        .with_context(json!({
            "stage": state.stage.as_str(),
            "action": action.as_str(),
            "allowed": allowed,
        }))
}

/// Today's date in Beijing (listings and needs expire by Beijing dates).
fn today() -> chrono::NaiveDate {
    ttx_core::clock::today()
}

fn listing_status(l: &listing::Model) -> Option<ListingStatus> {
    let s: ListingStatus = l.status.parse().ok()?;
    Some(ttx_listings::domain::effective_status(
        s,
        l.expires_on,
        today(),
    ))
}

fn demand_status(d: &demand::Model) -> Option<DemandStatus> {
    let s: DemandStatus = d.status.parse().ok()?;
    Some(ttx_demands::domain::effective_status(
        s,
        d.deadline,
        today(),
    ))
}

/// Loads the names a set of matches refers to.
pub async fn names<C: ConnectionTrait>(
    conn: &C,
    ms: &[matches::Model],
) -> Result<Names, ServiceError> {
    let mut n = Names::default();
    let uniq = |f: &dyn Fn(&matches::Model) -> Vec<i64>| -> Vec<i64> {
        ms.iter()
            .flat_map(f)
            .collect::<BTreeSet<i64>>()
            .into_iter()
            .collect()
    };
    let listing_ids = uniq(&|m| vec![m.listing_id]);
    let demand_ids = uniq(&|m| vec![m.demand_id]);
    let org_ids = uniq(&|m| vec![m.listing_org_id, m.demand_org_id, m.agency_org_id]);
    let user_ids = uniq(&|m| vec![m.broker_user_id]);
    for ids in listing_ids.chunks(CHUNK) {
        for l in listing::Entity::find()
            .filter(listing::Column::Id.is_in(ids.to_vec()))
            .all(conn)
            .await?
        {
            n.listings.insert(l.id, l.title);
        }
    }
    for ids in demand_ids.chunks(CHUNK) {
        for d in demand::Entity::find()
            .filter(demand::Column::Id.is_in(ids.to_vec()))
            .all(conn)
            .await?
        {
            n.demands.insert(
                d.id,
                DemandInfo {
                    title: d.title,
                    anonymous: d.anonymous,
                },
            );
        }
    }
    for ids in org_ids.chunks(CHUNK) {
        for o in organization::Entity::find()
            .filter(organization::Column::Id.is_in(ids.to_vec()))
            .all(conn)
            .await?
        {
            n.orgs.insert(
                o.id,
                OrgInfo {
                    name: o.name,
                    kind: o.kind,
                },
            );
        }
    }
    for ids in user_ids.chunks(CHUNK) {
        for u in user::Entity::find()
            .filter(user::Column::Id.is_in(ids.to_vec()))
            .all(conn)
            .await?
        {
            n.users.insert(u.id, u.display_name);
        }
    }
    Ok(n)
}

/// The history of a match, oldest first.
pub async fn history<C: ConnectionTrait>(
    conn: &C,
    id: i64,
) -> Result<Vec<match_event::Model>, ServiceError> {
    Ok(match_event::Entity::find()
        .filter(match_event::Column::MatchId.eq(id))
        .order_by_asc(match_event::Column::Id)
        .all(conn)
        .await?)
}

#[allow(clippy::too_many_arguments)]
async fn record_step<C: ConnectionTrait>(
    conn: &C,
    m: &matches::Model,
    action: MatchAction,
    side: &str,
    from: Option<Stage>,
    to: Stage,
    actor: &Actor,
    reason: Option<&str>,
    note: Option<&str>,
    contract_id: Option<i64>,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    match_event::ActiveModel {
        match_id: Set(m.id),
        action: Set(action.as_str().into()),
        side: Set(side.into()),
        from_stage: Set(from.map(|s| s.as_str().to_string())),
        to_stage: Set(to.as_str().into()),
        actor_user_id: Set(Some(actor.user_id)),
        actor_org_id: Set(Some(actor.org_id)),
        reason: Set(reason.map(str::to_string)),
        note: Set(note.map(str::to_string)),
        contract_id: Set(contract_id),
        at: Set(at),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Opens a match between a published listing and an open need of another organisation (a
/// broker of a verified agency). Nobody is notified: a suggestion is the broker's own until it
/// is introduced.
pub async fn open(
    db: &DatabaseConnection,
    actor: &Actor,
    spec: OpenSpec,
) -> Result<matches::Model, ServiceError> {
    if !actor.is_verified_broker() {
        if actor.org_kind == OrgKind::Agency && actor.role == Role::Broker {
            return Err(ServiceError::new(ErrorCode::OrgNotVerified));
        }
        return Err(ServiceError::forbidden(
            "only brokers of verified agencies open matches",
        ));
    }
    let txn = ttx_notify::begin_write(db).await?;
    let l = listing::Entity::find_by_id(spec.listing_id)
        .one(&txn)
        .await?;
    let d = demand::Entity::find_by_id(spec.demand_id).one(&txn).await?;
    let mut errs = FieldErrors::new();
    match l.as_ref().and_then(|l| listing_status(l).map(|s| (l, s))) {
        None => errs.add("listing_id", "not_found", "no such listing"),
        Some((_, ListingStatus::Draft)) => errs.add("listing_id", "not_found", "no such listing"),
        Some((_, ListingStatus::Published)) => {}
        Some((_, s)) => errs.add(
            "listing_id",
            "not_published",
            format!("the listing is {}, not published", s.as_str()),
        ),
    }
    match d.as_ref().and_then(|d| demand_status(d).map(|s| (d, s))) {
        None | Some((_, DemandStatus::Draft)) => errs.add("demand_id", "not_found", "no such need"),
        Some((_, DemandStatus::Open)) => {}
        Some((_, s)) => errs.add(
            "demand_id",
            "not_open",
            format!("the need is {}, not open", s.as_str()),
        ),
    }
    if let (Some(l), Some(d)) = (&l, &d) {
        if l.owner_org_id == d.owner_org_id {
            errs.add(
                "demand_id",
                "same_organisation",
                "the listing and the need belong to the same organisation",
            );
        }
    }
    errs.into_result()?;
    let (l, d) = (l.expect("checked"), d.expect("checked"));
    let key = format!("{}:{}:{}", l.id, d.id, actor.org_id);
    if let Some(existing) = matches::Entity::find()
        .filter(matches::Column::OpenKey.eq(key.clone()))
        .one(&txn)
        .await?
    {
        return Err(
            ServiceError::new(MatchingError::Exists).with_context(json!({"match_id": existing.id}))
        );
    }
    let now = ttx_core::clock::now();
    let m = matches::ActiveModel {
        listing_id: Set(l.id),
        demand_id: Set(d.id),
        listing_org_id: Set(l.owner_org_id),
        demand_org_id: Set(d.owner_org_id),
        broker_user_id: Set(actor.user_id),
        agency_org_id: Set(actor.org_id),
        stage: Set(Stage::Suggested.as_str().into()),
        listing_response: Set(Response::Pending.as_str().into()),
        demand_response: Set(Response::Pending.as_str().into()),
        note: Set(spec.note.clone()),
        close_reason: Set(None),
        close_note: Set(None),
        contract_id: Set(None),
        open_key: Set(Some(key)),
        introduced_at: Set(None),
        stage_changed_at: Set(now),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            ServiceError::new(MatchingError::Exists)
        } else {
            e.into()
        }
    })?;
    record_step(
        &txn,
        &m,
        MatchAction::Open,
        "broker",
        None,
        Stage::Suggested,
        actor,
        None,
        spec.note.as_deref(),
        None,
        now,
    )
    .await?;
    audit::record(
        &txn,
        &actor.audit(),
        "match.open",
        Target::new("match", m.id, Some(m.agency_org_id)),
        json!({"listing_id": m.listing_id, "demand_id": m.demand_id}),
    )
    .await?;
    txn.commit().await?;
    Ok(m)
}

/// A step a caller takes on a match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Introduce {
        note: Option<String>,
    },
    Accept {
        note: Option<String>,
    },
    Decline {
        note: Option<String>,
    },
    Sign {
        contract_id: i64,
        note: Option<String>,
    },
    Close {
        reason: ClosingReason,
        note: Option<String>,
    },
}

impl Step {
    pub fn action(&self) -> MatchAction {
        match self {
            Step::Introduce { .. } => MatchAction::Introduce,
            Step::Accept { .. } => MatchAction::Accept,
            Step::Decline { .. } => MatchAction::Decline,
            Step::Sign { .. } => MatchAction::Sign,
            Step::Close { .. } => MatchAction::Close,
        }
    }
    fn note(&self) -> Option<&str> {
        match self {
            Step::Introduce { note }
            | Step::Accept { note }
            | Step::Decline { note }
            | Step::Sign { note, .. }
            | Step::Close { note, .. } => note.as_deref(),
        }
    }
}

/// Loads a match and locks its row until the transaction ends; 404 unless the caller may see
/// it.
async fn lock_visible(
    txn: &DatabaseTransaction,
    actor: &Actor,
    id: i64,
) -> Result<(matches::Model, Viewer), ServiceError> {
    let m = matches::Entity::find_by_id(id)
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or_else(|| ServiceError::not_found("match"))?;
    let v = access::viewer_of(actor, &m);
    if !v.visible() {
        return Err(ServiceError::not_found("match"));
    }
    Ok((m, v))
}

/// The registered contract a match is signed with: it names this match, it is registered, and
/// it is sold by the listing's owner to the need's owner. Contracts that do not name this match
/// are not described (the broker is no party to them).
async fn signing_contract<C: ConnectionTrait>(
    conn: &C,
    m: &matches::Model,
    contract_id: i64,
) -> Result<i64, ServiceError> {
    use ttx_contracts::entity::contract;
    let c = contract::Entity::find_by_id(contract_id)
        .one(conn)
        .await?
        .filter(|c| c.match_id == Some(m.id));
    let Some(c) = c else {
        return Err(ServiceError::field(
            "contract_id",
            "not_linked",
            "no contract with this id names this match (set its match_id)",
        ));
    };
    if c.status != "registered" {
        return Err(ServiceError::field(
            "contract_id",
            "not_registered",
            format!("the contract is {}; it must be registered first", c.status),
        ));
    }
    if c.seller_org_id != Some(m.listing_org_id) || c.buyer_org_id != Some(m.demand_org_id) {
        return Err(ServiceError::field(
            "contract_id",
            "wrong_parties",
            "the contract's seller must be the listing's owner and its buyer the need's owner",
        ));
    }
    Ok(c.id)
}

/// Takes a step: checks who may act and whether the stage allows it (409 naming the allowed
/// actions otherwise), records it with who and when, notifies the parties (each once) and, for
/// what the parties do, the broker's agency.
pub async fn act(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    step: Step,
) -> Result<(), ServiceError> {
    let action = step.action();
    let txn = ttx_notify::begin_write(db).await?;
    let (m, v) = lock_visible(&txn, actor, id).await?;
    if !domain::may_ever(&v.acting, action) {
        let as_unverified_broker = domain::Roles {
            broker: v.broker_side,
            ..v.acting
        };
        if domain::may_ever(&as_unverified_broker, action) {
            return Err(ServiceError::new(ErrorCode::OrgNotVerified));
        }
        return Err(ServiceError::forbidden(format!(
            "you may not {} this match",
            action.as_str()
        )));
    }
    let state = state_of(&m)?;
    // The broker's side acts as the broker; a party as its side (its organisation decides).
    let side: Option<Side> = match action {
        MatchAction::Introduce | MatchAction::Sign => None,
        MatchAction::Close if v.acting.broker => None,
        _ => v.acting.side(),
    };
    let o =
        domain::apply(state, action, side).map_err(|_| invalid_transition(state, &v, action))?;
    let contract_id = match &step {
        Step::Sign { contract_id, .. } => Some(signing_contract(&txn, &m, *contract_id).await?),
        _ => None,
    };
    let reason: Option<CloseReason> = match &step {
        Step::Close { reason, .. } => Some((*reason).into()),
        Step::Decline { .. } => Some(CloseReason::Declined),
        _ => None,
    };
    let now = ttx_core::clock::now();
    let after = o.state;
    let mut am: matches::ActiveModel = m.clone().into();
    am.stage = Set(after.stage.as_str().into());
    am.listing_response = Set(after.listing.as_str().into());
    am.demand_response = Set(after.demand.as_str().into());
    if o.moved {
        am.stage_changed_at = Set(now);
    }
    if action == MatchAction::Introduce {
        am.introduced_at = Set(Some(now));
    }
    if let Some(r) = reason {
        am.close_reason = Set(Some(r.as_str().into()));
        am.close_note = Set(step.note().map(str::to_string));
    }
    if contract_id.is_some() {
        am.contract_id = Set(contract_id);
    }
    if !after.is_live() {
        am.open_key = Set(None);
    }
    am.version = Set(m.version + 1);
    am.updated_at = Set(now);
    let updated = am.update(&txn).await?;

    let side_label = side.map(|s| s.as_str()).unwrap_or("broker");
    // The acceptance itself, then (for the second one) the negotiation it starts.
    let step_to = if o.negotiating {
        state.stage
    } else {
        after.stage
    };
    record_step(
        &txn,
        &updated,
        action,
        side_label,
        Some(state.stage),
        step_to,
        actor,
        reason.map(|r| r.as_str()),
        step.note(),
        contract_id,
        now,
    )
    .await?;
    if o.negotiating {
        record_step(
            &txn,
            &updated,
            MatchAction::Negotiate,
            "system",
            Some(state.stage),
            after.stage,
            actor,
            None,
            None,
            None,
            now,
        )
        .await?;
    }

    let who = domain::notified(state, action, side, &o);
    if !who.parties.is_empty() || who.agency {
        let names = names(&txn, std::slice::from_ref(&updated)).await?;
        let kind = notices::kind_of(action, o.negotiating);
        for p in &who.parties {
            ttx_notify::emit(
                &txn,
                notices::event(kind, Addressee::Party(*p), &updated, &names, side_label),
            )
            .await?;
        }
        if who.agency {
            ttx_notify::emit(
                &txn,
                notices::event(kind, Addressee::Agency, &updated, &names, side_label),
            )
            .await?;
        }
    }
    audit::record(
        &txn,
        &actor.audit(),
        &format!("match.{}", action.as_str()),
        Target::new("match", updated.id, Some(updated.agency_org_id)),
        json!({
            "from": state.stage.as_str(),
            "to": after.stage.as_str(),
            "side": side_label,
            "reason": reason.map(|r| r.as_str()),
            "contract_id": contract_id,
        }),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// A match the caller may see, with its viewer, history and names.
pub struct Detail {
    pub m: matches::Model,
    pub viewer: Viewer,
    pub history: Vec<match_event::Model>,
    pub names: Names,
}

pub async fn get(db: &DatabaseConnection, actor: &Actor, id: i64) -> Result<Detail, ServiceError> {
    let m = matches::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| ServiceError::not_found("match"))?;
    let viewer = access::viewer_of(actor, &m);
    if !viewer.visible() {
        return Err(ServiceError::not_found("match"));
    }
    let history = history(db, id).await?;
    let names = names(db, std::slice::from_ref(&m)).await?;
    Ok(Detail {
        m,
        viewer,
        history,
        names,
    })
}

/// Filters of the list.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub stage: Option<Stage>,
    pub broker: Option<i64>,
}

/// The matches the caller may see, newest first: a broker's own, an agency admin's agency's,
/// a party's introduced ones, every match for operators. Returns `limit + 1` rows at most.
pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    f: &ListFilter,
    cursor: Option<Cursor>,
    limit: u64,
) -> Result<(Vec<matches::Model>, Names), ServiceError> {
    use matches::Column as C;
    let mut cond = Condition::all();
    if !actor.is_operator() {
        let mut any = Condition::any().add(C::BrokerUserId.eq(actor.user_id)).add(
            Condition::all().add(C::IntroducedAt.is_not_null()).add(
                Condition::any()
                    .add(C::ListingOrgId.eq(actor.org_id))
                    .add(C::DemandOrgId.eq(actor.org_id)),
            ),
        );
        if actor.role == Role::OrgAdmin {
            any = any.add(C::AgencyOrgId.eq(actor.org_id));
        }
        cond = cond.add(any);
    }
    if let Some(s) = f.stage {
        cond = cond.add(C::Stage.eq(s.as_str()));
    }
    if let Some(b) = f.broker {
        cond = cond.add(C::BrokerUserId.eq(b));
    }
    if let Some(c) = cursor {
        cond = cond.add(C::Id.lt(c.id));
    }
    let rows = matches::Entity::find()
        .filter(cond)
        .order_by_desc(C::Id)
        .limit(limit + 1)
        .all(db)
        .await?;
    let names = names(db, &rows).await?;
    Ok((rows, names))
}

/// Stores a user's answer on a suggested pair: a party of either side or a broker of a
/// verified agency. One row per user and pair; a new answer replaces the old one (and moves
/// `updated_at`). Returns the row and whether it is new.
pub async fn feedback(
    db: &DatabaseConnection,
    actor: &Actor,
    spec: FeedbackSpec,
) -> Result<(match_feedback::Model, bool), ServiceError> {
    let txn = ttx_notify::begin_write(db).await?;
    let l = listing::Entity::find_by_id(spec.listing_id)
        .one(&txn)
        .await?;
    let d = demand::Entity::find_by_id(spec.demand_id).one(&txn).await?;
    // Another organisation's drafts are not revealed.
    let l =
        l.filter(|l| l.owner_org_id == actor.org_id || l.status != ListingStatus::Draft.as_str());
    let d =
        d.filter(|d| d.owner_org_id == actor.org_id || d.status != DemandStatus::Draft.as_str());
    let mut errs = FieldErrors::new();
    if l.is_none() {
        errs.add("listing_id", "not_found", "no such listing");
    }
    if d.is_none() {
        errs.add("demand_id", "not_found", "no such need");
    }
    errs.into_result()?;
    let (l, d) = (l.expect("checked"), d.expect("checked"));
    let side = if l.owner_org_id == actor.org_id {
        "listing"
    } else if d.owner_org_id == actor.org_id {
        "demand"
    } else if actor.is_verified_broker() {
        "broker"
    } else {
        return Err(ServiceError::forbidden(
            "feedback comes from the listing's or the need's organisation, or a broker of a verified agency",
        ));
    };
    let now = ttx_core::clock::now();
    let existing = match_feedback::Entity::find()
        .filter(match_feedback::Column::UserId.eq(actor.user_id))
        .filter(match_feedback::Column::DemandId.eq(d.id))
        .filter(match_feedback::Column::ListingId.eq(l.id))
        .one(&txn)
        .await?;
    let created = existing.is_none();
    let row = match existing {
        Some(f) => {
            let mut am: match_feedback::ActiveModel = f.into();
            am.relevant = Set(spec.relevant);
            am.note = Set(spec.note.clone());
            am.role = Set(actor.role.as_str().into());
            am.org_kind = Set(actor.org_kind.as_str().into());
            am.side = Set(side.into());
            am.updated_at = Set(now);
            am.update(&txn).await?
        }
        None => match_feedback::ActiveModel {
            demand_id: Set(d.id),
            listing_id: Set(l.id),
            user_id: Set(actor.user_id),
            org_id: Set(actor.org_id),
            role: Set(actor.role.as_str().into()),
            org_kind: Set(actor.org_kind.as_str().into()),
            side: Set(side.into()),
            relevant: Set(spec.relevant),
            note: Set(spec.note.clone()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                ServiceError::new(ErrorCode::Conflict)
                    .detail("another answer of yours on this pair arrived at the same time; retry")
            } else {
                e.into()
            }
        })?,
    };
    audit::record(
        &txn,
        &actor.audit(),
        "match.feedback",
        Target::new("match_feedback", row.id, Some(actor.org_id)),
        json!({"demand_id": d.id, "listing_id": l.id, "relevant": spec.relevant, "side": side}),
    )
    .await?;
    txn.commit().await?;
    Ok((row, created))
}

/// Every stored answer as JSON Lines, oldest first (operators).
pub async fn export_feedback(
    db: &DatabaseConnection,
    actor: &Actor,
) -> Result<Vec<u8>, ServiceError> {
    actor.require_operator()?;
    let mut out = Vec::new();
    let mut after = 0i64;
    loop {
        let rows = match_feedback::Entity::find()
            .filter(match_feedback::Column::Id.gt(after))
            .order_by_asc(match_feedback::Column::Id)
            .limit(1000)
            .all(db)
            .await?;
        let Some(last) = rows.last() else { break };
        after = last.id;
        for f in &rows {
            serde_json::to_writer(&mut out, &super::view::FeedbackLine::from(f))
                .map_err(ServiceError::internal)?;
            out.push(b'\n');
        }
    }
    Ok(out)
}

/// Whose funnel, once the caller may read it.
async fn funnel_scope<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    scope: FunnelScope,
) -> Result<sea_orm::sea_query::SimpleExpr, ServiceError> {
    match scope {
        FunnelScope::Broker(uid) => {
            let u = user::Entity::find_by_id(uid)
                .one(conn)
                .await?
                .ok_or_else(|| ServiceError::not_found("broker"))?;
            let own = actor.user_id == uid;
            let agency_admin = actor.role == Role::OrgAdmin
                && actor.org_kind == OrgKind::Agency
                && actor.org_id == u.org_id;
            if !(own || agency_admin || actor.is_operator()) {
                return Err(ServiceError::forbidden(
                    "a broker's funnel is for the broker, its agency's admins and operators",
                ));
            }
            Ok(matches::Column::BrokerUserId.eq(uid))
        }
        FunnelScope::Agency(oid) => {
            let o = organization::Entity::find_by_id(oid)
                .one(conn)
                .await?
                .filter(|o| o.kind == OrgKind::Agency.as_str())
                .ok_or_else(|| ServiceError::not_found("agency"))?;
            if !actor.administers(o.id) {
                return Err(ServiceError::forbidden(
                    "an agency's funnel is for its admins and operators",
                ));
            }
            Ok(matches::Column::AgencyOrgId.eq(oid))
        }
    }
}

/// The funnel of a broker's or an agency's pipeline: counts per stage, median days per stage
/// from the history, and the registered amounts of the signed matches read from the ledger
/// (the sum of the ledger entries of the contracts whose `match_id` is a signed match).
pub async fn funnel(
    db: &DatabaseConnection,
    actor: &Actor,
    scope: FunnelScope,
) -> Result<super::view::FunnelView, ServiceError> {
    use super::view::{FunnelContract, FunnelSigned, FunnelStage, FunnelView};
    use ttx_contracts::entity::{contract, ledger_entry};
    let filter = funnel_scope(db, actor, scope).await?;
    let ms = matches::Entity::find()
        .filter(filter)
        .order_by_asc(matches::Column::Id)
        .all(db)
        .await?;
    let ids: Vec<i64> = ms.iter().map(|m| m.id).collect();
    let mut steps: HashMap<i64, Vec<domain::Step>> = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        for e in match_event::Entity::find()
            .filter(match_event::Column::MatchId.is_in(chunk.to_vec()))
            .order_by_asc(match_event::Column::Id)
            .all(db)
            .await?
        {
            let to: Stage = e
                .to_stage
                .parse()
                .map_err(|_| corrupt("history", e.match_id))?;
            steps
                .entry(e.match_id)
                .or_default()
                .push(domain::Step { to, at: e.at });
        }
    }
    let mut input = Vec::with_capacity(ms.len());
    let mut closed_by_reason = std::collections::BTreeMap::new();
    for m in &ms {
        let stage: Stage = m.stage.parse().map_err(|_| corrupt("stage", m.id))?;
        if stage == Stage::Closed {
            *closed_by_reason
                .entry(m.close_reason.clone().unwrap_or_else(|| "other".into()))
                .or_insert(0u64) += 1;
        }
        input.push((stage, steps.remove(&m.id).unwrap_or_default()));
    }
    let figures = domain::funnel(&input);

    // Registered amounts: the ledger of the contracts that name a signed match.
    let signed: HashMap<i64, &matches::Model> = ms
        .iter()
        .filter(|m| m.stage == Stage::Signed.as_str())
        .map(|m| (m.id, m))
        .collect();
    let signed_ids: Vec<i64> = {
        let mut v: Vec<i64> = signed.keys().copied().collect();
        v.sort_unstable();
        v
    };
    let mut contracts = Vec::new();
    for chunk in signed_ids.chunks(CHUNK) {
        contracts.extend(
            contract::Entity::find()
                .filter(contract::Column::MatchId.is_in(chunk.to_vec()))
                .order_by_asc(contract::Column::Id)
                .all(db)
                .await?,
        );
    }
    let contract_ids: Vec<i64> = contracts.iter().map(|c| c.id).collect();
    let mut sums: HashMap<i64, (i64, i64)> = HashMap::new();
    for chunk in contract_ids.chunks(CHUNK) {
        for e in ledger_entry::Entity::find()
            .filter(ledger_entry::Column::ContractId.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            let s = sums.entry(e.contract_id).or_default();
            s.0 += e.contract_amount_delta;
            s.1 += e.technology_amount_delta;
        }
    }
    let items: Vec<FunnelContract> = contracts
        .iter()
        .filter_map(|c| {
            let m = signed.get(&c.match_id?)?;
            let (ca, ta) = sums.get(&c.id).copied().unwrap_or_default();
            Some(FunnelContract {
                match_id: m.id,
                listing_id: m.listing_id,
                demand_id: m.demand_id,
                broker_user_id: m.broker_user_id,
                contract_id: c.id,
                registration_number: c.registration_number.clone(),
                contract_amount: ca,
                technology_amount: ta,
            })
        })
        .collect();
    let (broker, agency) = match scope {
        FunnelScope::Broker(b) => (Some(b), None),
        FunnelScope::Agency(a) => (None, Some(a)),
    };
    Ok(FunnelView {
        broker,
        agency,
        total: ms.len() as u64,
        stages: figures.iter().map(FunnelStage::build).collect(),
        closed_by_reason,
        signed: FunnelSigned {
            matches: signed.len() as u64,
            contracts: items.len() as u64,
            contract_amount: items.iter().map(|i| i.contract_amount).sum(),
            technology_amount: items.iter().map(|i| i.technology_amount).sum(),
            items,
        },
    })
}
