//! Use cases of listings: each one a transaction with its audit entry and, when the public
//! index is affected, its outbox row; the indexer is woken after commit.
use crate::domain::{self, Action, ListingData, ListingPatch, ListingStatus, NewListing};
use crate::entity::listing::{ActiveModel, Column, Entity};
use crate::error::ListingError;
use crate::state::ListingsState;
use crate::store::{self, Listing, OrgInfo};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;
use ttx_accounts::audit::{self, AuditCtx, Target};
use ttx_accounts::Actor;
use ttx_core::{OrgKind, RegionCode, Role};
use ttx_search::{outbox, LISTINGS};
use ttx_web::{ErrorCode, IfMatch, ServiceError, ServiceResult};

/// A listing as one caller may see it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub listing: Listing,
    pub org: Option<OrgInfo>,
    /// What the caller sees (expiry applied).
    pub status: ListingStatus,
    /// The caller belongs to the owner organisation.
    pub owner_view: bool,
}

/// How a caller relates to a listing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Relation {
    /// Member of the owning organisation.
    Owner,
    Operator,
    Other,
}

fn relation(actor: Option<&Actor>, owner_org_id: i64) -> Relation {
    match actor {
        Some(a) if a.belongs_to(owner_org_id) => Relation::Owner,
        Some(a) if a.is_operator() => Relation::Operator,
        _ => Relation::Other,
    }
}

fn not_found() -> ServiceError {
    ServiceError::not_found("listing")
}

/// 404 for what the caller may not see, 403 for what it sees but may not change.
fn require_owner(rel: Relation, visible: bool) -> ServiceResult<()> {
    match rel {
        Relation::Owner => Ok(()),
        _ if visible || rel == Relation::Operator => Err(ServiceError::forbidden(
            "only members of the owning organisation may change a listing",
        )),
        _ => Err(not_found()),
    }
}

fn now_and_today() -> (DateTime<Utc>, chrono::NaiveDate) {
    let now = ttx_core::clock::now();
    (now, ttx_core::clock::beijing_date(now))
}

fn is_indexed(status: ListingStatus) -> bool {
    status == ListingStatus::Published
}

async fn load_for_update(txn: &DatabaseTransaction, id: i64) -> ServiceResult<Listing> {
    let m = Entity::find_by_id(id)
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or_else(not_found)?;
    Ok(store::decode(&m)?)
}

async fn org_of<C: ConnectionTrait>(conn: &C, id: i64) -> Result<Option<OrgInfo>, DbErr> {
    Ok(store::orgs(conn, [id]).await?.remove(&id))
}

/// Compare-and-set: applies `am` and bumps the version only if it is still `version`.
async fn cas_update(
    txn: &DatabaseTransaction,
    id: i64,
    version: i64,
    mut am: ActiveModel,
    now: DateTime<Utc>,
) -> ServiceResult<Listing> {
    am.version = Set(version + 1);
    am.updated_at = Set(now);
    let res = Entity::update_many()
        .set(am)
        .filter(Column::Id.eq(id))
        .filter(Column::Version.eq(version))
        .exec(txn)
        .await?;
    if res.rows_affected == 0 {
        return Err(ServiceError::new(ErrorCode::PreconditionFailed)
            .detail("the listing was changed meanwhile; read it again"));
    }
    let m = Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or_else(not_found)?;
    Ok(store::decode(&m)?)
}

fn region_or_org(data: &ListingData, org_region: &str) -> ServiceResult<RegionCode> {
    match data.region {
        Some(r) => Ok(r),
        None => RegionCode::parse(org_region).map_err(|_| {
            ServiceError::field(
                "region_code",
                "required",
                "the organisation has no valid region; give region_code",
            )
        }),
    }
}

/// Creates a listing owned by the caller's organisation (a draft, or published at once).
pub async fn create(st: &ListingsState, actor: &Actor, n: NewListing) -> ServiceResult<Seen> {
    if !domain::may_post(actor.org_kind) {
        return Err(ServiceError::new(ListingError::OrgKind));
    }
    actor.require_role(&[Role::OrgAdmin, Role::Member])?;
    let region = region_or_org(&n.data, &actor.org_region)?;
    let (now, _) = now_and_today();
    let status = if n.publish.unwrap_or(false) {
        ListingStatus::Published
    } else {
        ListingStatus::Draft
    };
    let txn = store::write_txn(&st.db).await?;
    let row = store::new_row(
        actor.org_id,
        Some(actor.user_id),
        &n.data,
        region,
        status,
        n.external_id.clone(),
        now,
    );
    let id = Entity::insert(row)
        .exec(&txn)
        .await
        .map_err(|e| match e.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
                ServiceError::new(ErrorCode::AlreadyExists)
                    .detail("a listing with this external_id exists in your organisation")
            }
            _ => ServiceError::internal(e),
        })?
        .last_insert_id;
    audit::record(
        &txn,
        &actor.audit(),
        "listing.create",
        Target::new("listing", id, Some(actor.org_id)),
        json!({"title": n.data.title, "status": status.as_str()}),
    )
    .await?;
    if is_indexed(status) {
        outbox::enqueue(&txn, LISTINGS, id).await?;
    }
    let m = Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(not_found)?;
    let org = org_of(&txn, actor.org_id).await?;
    txn.commit().await?;
    if is_indexed(status) {
        st.wake_indexer();
    }
    let listing = store::decode(&m)?;
    Ok(Seen {
        status: listing.status,
        listing,
        org,
        owner_view: true,
    })
}

/// Reads a listing: published ones for everybody, the rest for the owner (and operators).
pub async fn get(db: &DatabaseConnection, actor: Option<&Actor>, id: i64) -> ServiceResult<Seen> {
    // One query: the row and its owner (a read by id is the hottest path of the API).
    let (m, org) = store::find_with_org(db, id).await?.ok_or_else(not_found)?;
    let listing = store::decode(&m)?;
    let (_, today) = now_and_today();
    let status = domain::effective_status(listing.status, listing.data.expires_on, today);
    let rel = relation(actor, listing.owner_org_id);
    if status != ListingStatus::Published && rel == Relation::Other {
        return Err(not_found());
    }
    Ok(Seen {
        listing,
        org,
        status,
        owner_view: rel == Relation::Owner,
    })
}

/// Changes what the owner describes (If-Match required).
pub async fn update(
    st: &ListingsState,
    actor: &Actor,
    id: i64,
    expected: IfMatch,
    patch: ListingPatch,
) -> ServiceResult<Seen> {
    let (now, today) = now_and_today();
    let txn = store::write_txn(&st.db).await?;
    let cur = load_for_update(&txn, id).await?;
    let status = domain::effective_status(cur.status, cur.data.expires_on, today);
    require_owner(
        relation(Some(actor), cur.owner_org_id),
        status == ListingStatus::Published,
    )?;
    domain::transition(status, Action::Edit)?;
    expected.check(cur.version)?;

    let mut changed: Vec<&str> = vec![];
    let mut data = cur.data.clone();
    let mut region = cur.region;
    macro_rules! take {
        ($field:ident, $name:literal) => {
            if let Some(v) = patch.$field {
                if data.$field != v {
                    data.$field = v;
                    changed.push($name);
                }
            }
        };
    }
    take!(title, "title");
    take!(summary, "summary");
    take!(description, "description");
    take!(keywords, "keywords");
    take!(field, "field");
    take!(trl, "trl");
    take!(ip_items, "ip_items");
    take!(modes, "transfer_modes");
    take!(price, "price");
    take!(registration_no, "registration_no");
    take!(dual_use, "dual_use");
    take!(expires_on, "expires_on");
    take!(contact, "contact");
    if let Some(r) = patch.region {
        if r != region {
            region = r;
            changed.push("region_code");
        }
    }
    if changed.is_empty() {
        txn.commit().await?;
        let org = org_of(&st.db, cur.owner_org_id).await?;
        return Ok(Seen {
            listing: cur,
            org,
            status,
            owner_view: true,
        });
    }
    let mut am = ActiveModel {
        ..Default::default()
    };
    store::set_data(&mut am, &data, region);
    let updated = cas_update(&txn, id, cur.version, am, now).await?;
    audit::record(
        &txn,
        &actor.audit(),
        "listing.update",
        Target::new("listing", id, Some(cur.owner_org_id)),
        json!({"changed": changed, "version": updated.version}),
    )
    .await?;
    let indexed = is_indexed(cur.status);
    if indexed {
        outbox::enqueue(&txn, LISTINGS, id).await?;
    }
    let org = org_of(&txn, cur.owner_org_id).await?;
    txn.commit().await?;
    st.changed(id);
    if indexed {
        st.wake_indexer();
    }
    let status = domain::effective_status(updated.status, updated.data.expires_on, today);
    Ok(Seen {
        listing: updated,
        org,
        status,
        owner_view: true,
    })
}

/// Deletes a draft.
pub async fn delete(st: &ListingsState, actor: &Actor, id: i64) -> ServiceResult<()> {
    let (_, today) = now_and_today();
    let txn = store::write_txn(&st.db).await?;
    let cur = load_for_update(&txn, id).await?;
    let status = domain::effective_status(cur.status, cur.data.expires_on, today);
    require_owner(
        relation(Some(actor), cur.owner_org_id),
        status == ListingStatus::Published,
    )?;
    domain::transition(status, Action::Delete)?;
    Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        &actor.audit(),
        "listing.delete",
        Target::new("listing", id, Some(cur.owner_org_id)),
        json!({"title": cur.data.title}),
    )
    .await?;
    txn.commit().await?;
    st.changed(id);
    Ok(())
}

/// A lifecycle step with what the caller said about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Publish,
    /// Withdraw, with the reason the owner will read (required from a moderating operator).
    Withdraw {
        reason: Option<String>,
    },
    /// Record a deal (成交); see [`domain::record_deal`].
    Deal(domain::Deal),
}

impl Step {
    fn action(&self) -> Action {
        match self {
            Step::Publish => Action::Publish,
            Step::Withdraw { .. } => Action::Withdraw,
            Step::Deal(_) => Action::MarkTransacted,
        }
    }
}

/// Publish, withdraw or mark transacted (as a bare action: no reason, a deal of unstated
/// kind). See [`step`].
pub async fn act(
    st: &ListingsState,
    actor: &Actor,
    id: i64,
    action: Action,
) -> ServiceResult<Seen> {
    let s = match action {
        Action::Publish => Step::Publish,
        Action::Withdraw => Step::Withdraw { reason: None },
        Action::MarkTransacted => Step::Deal(domain::Deal::default()),
        other => {
            return Err(ServiceError::internal(format!(
                "listing action {} is not a lifecycle step",
                other.as_str()
            )))
        }
    };
    step(st, actor, id, s).await
}

/// Publish, withdraw or record a deal. Owners do all three; operators may withdraw a
/// published listing (moderation), giving the reason. A non-exclusive licence leaves the
/// listing published (counted in `licences_granted`); every other deal makes it transacted.
pub async fn step(st: &ListingsState, actor: &Actor, id: i64, step: Step) -> ServiceResult<Seen> {
    let action = step.action();
    let (now, today) = now_and_today();
    let txn = store::write_txn(&st.db).await?;
    let cur = load_for_update(&txn, id).await?;
    let status = domain::effective_status(cur.status, cur.data.expires_on, today);
    let rel = relation(Some(actor), cur.owner_org_id);
    let moderation = rel == Relation::Operator && action == Action::Withdraw;
    if !moderation {
        require_owner(rel, status == ListingStatus::Published)?;
    }
    let mut reason = None;
    let mut stays_open = false;
    match &step {
        Step::Withdraw { reason: r } => {
            let mut errs = ttx_core::FieldErrors::new();
            reason = domain::withdrawal_reason(&mut errs, r.as_deref(), moderation);
            if !errs.is_empty() {
                return Err(ServiceError::validation(errs));
            }
        }
        Step::Deal(deal) => {
            stays_open = domain::record_deal(status, &cur.data.modes, cur.licences_granted, *deal)?
                == domain::DealOutcome::StaysOpen;
        }
        Step::Publish => {}
    }
    let to = if stays_open {
        status
    } else {
        domain::transition(status, action)?
    };
    if to == ListingStatus::Published
        && action == Action::Publish
        && domain::is_past_expiry(cur.data.expires_on, today)
    {
        return Err(ServiceError::new(ListingError::Expired).detail(format!(
            "the listing expired after {}; set a later expires_on first",
            cur.data
                .expires_on
                .map(|d| d.to_string())
                .unwrap_or_default()
        )));
    }
    let mut am = ActiveModel {
        status: Set(to.as_str().to_string()),
        ..Default::default()
    };
    match (action, to) {
        (Action::MarkTransacted, ListingStatus::Published) => {
            am.licences_granted = Set(cur.licences_granted + 1);
            am.last_transacted_at = Set(Some(now));
        }
        (Action::MarkTransacted, _) => {
            am.last_transacted_at = Set(Some(now));
            am.closed_at = Set(Some(now));
        }
        (_, ListingStatus::Published) => {
            am.published_at = Set(Some(now));
            am.closed_at = Set(None);
            am.withdrawal_reason = Set(None);
        }
        (Action::Withdraw, _) => {
            am.closed_at = Set(Some(now));
            am.withdrawal_reason = Set(reason.clone());
        }
        _ => am.closed_at = Set(Some(now)),
    }
    let updated = cas_update(&txn, id, cur.version, am, now).await?;
    let mut details = json!({"from": status.as_str(), "to": to.as_str(), "moderation": moderation});
    match &step {
        Step::Withdraw { .. } => details["reason"] = json!(reason),
        Step::Deal(d) => {
            details["deal"] = json!({
                "mode": d.mode.map(|m| m.as_str()),
                "licence_scope": d.scope.map(|s| s.as_str()),
                "stays_open": stays_open,
            })
        }
        Step::Publish => {}
    }
    audit::record(
        &txn,
        &actor.audit(),
        &format!("listing.{}", action.as_str()),
        Target::new("listing", id, Some(cur.owner_org_id)),
        details,
    )
    .await?;
    outbox::enqueue(&txn, LISTINGS, id).await?;
    let org = org_of(&txn, cur.owner_org_id).await?;
    txn.commit().await?;
    st.changed(id);
    st.wake_indexer();
    Ok(Seen {
        status: to,
        listing: updated,
        org,
        owner_view: rel == Relation::Owner,
    })
}

/// Records expiry of published listings past their expiry date (the background job).
/// Returns how many expired.
pub async fn expire_due(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<u64, DbErr> {
    let today = ttx_core::clock::beijing_date(now);
    let ctx = AuditCtx::system("listings expiry");
    let mut total = 0;
    loop {
        let txn = store::write_txn(db).await?;
        let due: Vec<(i64, i64)> = Entity::find()
            .select_only()
            .column(Column::Id)
            .column(Column::OwnerOrgId)
            .filter(store::past_expiry(today))
            .order_by_asc(Column::Id)
            .limit(500)
            .into_tuple()
            .all(&txn)
            .await?;
        if due.is_empty() {
            txn.commit().await?;
            return Ok(total);
        }
        let ids: Vec<i64> = due.iter().map(|(id, _)| *id).collect();
        let n = Entity::update_many()
            .col_expr(Column::Status, Expr::value(ListingStatus::Expired.as_str()))
            .col_expr(Column::ClosedAt, Expr::value(now))
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .col_expr(Column::Version, Expr::col(Column::Version).add(1))
            .filter(Column::Id.is_in(ids.iter().copied()))
            .filter(store::past_expiry(today))
            .exec(&txn)
            .await?
            .rows_affected;
        for (id, org) in &due {
            audit::record(
                &txn,
                &ctx,
                "listing.expire",
                Target::new("listing", id, Some(*org)),
                json!(null),
            )
            .await?;
        }
        outbox::enqueue_many(&txn, LISTINGS, &ids).await?;
        txn.commit().await?;
        total += n;
    }
}

/// The organisation a listing import writes for, checked.
pub async fn import_owner(db: &DatabaseConnection, org_id: i64) -> ServiceResult<OrgInfo> {
    let org = org_of(db, org_id)
        .await?
        .ok_or_else(|| ServiceError::not_found("organisation"))?;
    if !domain::may_post(org.kind) {
        return Err(ServiceError::new(ListingError::OrgKind));
    }
    Ok(org)
}

/// Kinds of organisation allowed to post, for messages.
pub fn posting_kinds() -> [OrgKind; 3] {
    [
        OrgKind::University,
        OrgKind::ResearchInstitute,
        OrgKind::Enterprise,
    ]
}
