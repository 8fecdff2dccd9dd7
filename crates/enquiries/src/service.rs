//! Use cases of enquiries: each change is one transaction with its audit entry
//! (`ttx_accounts::audit::record`), its disclosure-log rows and its notification events
//! (`ttx_notify::emit`), so a step, its record and its notices commit together or not at all.
use crate::confidential;
use crate::domain::{self, Action, Disclosure, EnquiryStatus, Purpose, Side, SubjectType};
use crate::entity::{disclosure, enquiry, message, nda_acceptance, quota};
use crate::error::{self, err, EnquiryError};
use crate::notices;
use crate::EnquiriesState;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, SqlErr,
};
use serde_json::json;
use ttx_accounts::audit::{self, Target};
use ttx_accounts::entity::organization;
use ttx_accounts::Actor;
use ttx_demands::domain::DemandStatus;
use ttx_demands::entity::demand;
use ttx_listings::domain::ListingStatus;
use ttx_listings::entity::listing;
use ttx_notify::begin_write;
use ttx_web::{ApiError, ApiResult, Cursor, ErrorCode};

/// A validated new enquiry.
#[derive(Debug, Clone)]
pub struct NewEnquiry {
    pub subject: (SubjectType, i64),
    pub purpose: Purpose,
    pub message: String,
    pub offer: Option<(SubjectType, i64)>,
}

/// An enquiry and the side the caller is on.
#[derive(Debug, Clone)]
pub struct Seen {
    pub enquiry: enquiry::Model,
    pub side: Side,
}

/// The contact details of a listing or need.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contact {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// What the rules need to know of a listing or need (read without visibility checks).
#[derive(Debug, Clone)]
pub struct Item {
    pub kind: SubjectType,
    pub id: i64,
    pub owner_org_id: i64,
    pub title: String,
    /// Published listing, or open / in-negotiation need (expiry applied).
    pub takes_enquiries: bool,
    /// Readable by anyone (a published listing, an open need).
    pub public: bool,
    /// A need whose firm is not named publicly.
    pub anonymous: bool,
    pub contact: Contact,
}

/// Loads a listing or need, whoever asks (`None` when it does not exist).
pub async fn item<C: ConnectionTrait>(
    conn: &C,
    kind: SubjectType,
    id: i64,
) -> Result<Option<Item>, DbErr> {
    let day = ttx_core::clock::today();
    Ok(match kind {
        SubjectType::Listing => listing::Entity::find_by_id(id).one(conn).await?.map(|l| {
            let status = l
                .status
                .parse::<ListingStatus>()
                .map(|s| ttx_listings::domain::effective_status(s, l.expires_on, day))
                .unwrap_or(ListingStatus::Draft);
            Item {
                kind,
                id,
                owner_org_id: l.owner_org_id,
                title: l.title,
                takes_enquiries: status == ListingStatus::Published,
                public: status == ListingStatus::Published,
                anonymous: false,
                contact: Contact {
                    name: l.contact_name,
                    phone: l.contact_phone,
                    email: l.contact_email,
                },
            }
        }),
        SubjectType::Demand => demand::Entity::find_by_id(id).one(conn).await?.map(|d| {
            let status = d
                .status
                .parse::<DemandStatus>()
                .map(|s| ttx_demands::domain::effective_status(s, d.deadline, day))
                .unwrap_or(DemandStatus::Draft);
            Item {
                kind,
                id,
                owner_org_id: d.owner_org_id,
                title: d.title,
                takes_enquiries: matches!(status, DemandStatus::Open | DemandStatus::InNegotiation),
                public: status == DemandStatus::Open,
                anonymous: d.anonymous,
                contact: Contact {
                    name: d.contact_name,
                    phone: d.contact_phone,
                    email: d.contact_email,
                },
            }
        }),
    })
}

/// Loads a listing or need the caller may read (404 otherwise, not revealing it exists).
async fn visible_item(
    db: &DatabaseConnection,
    actor: &Actor,
    kind: SubjectType,
    id: i64,
) -> ApiResult<Item> {
    let what = match kind {
        SubjectType::Listing => "listing",
        SubjectType::Demand => "need",
    };
    let it = item(db, kind, id)
        .await?
        .ok_or_else(|| ApiError::not_found(what))?;
    if actor.belongs_to(it.owner_org_id) {
        return Ok(it);
    }
    let visible = match kind {
        SubjectType::Listing => it.public,
        // The needs crate decides (challenges and their solvers, anonymous firms...).
        SubjectType::Demand => ttx_demands::service::load_visible(
            db,
            &ttx_demands::service::viewer_of(Some(actor)),
            id,
        )
        .await
        .is_ok(),
    };
    if visible {
        Ok(it)
    } else {
        Err(ApiError::not_found(what))
    }
}

fn is_unique_violation(e: &DbErr) -> bool {
    matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

fn not_found() -> ApiError {
    ApiError::not_found("enquiry")
}

/// The side `actor` is on, or 404.
pub fn side_of(actor: &Actor, e: &enquiry::Model) -> ApiResult<Side> {
    if actor.org_id == e.owner_org_id {
        Ok(Side::Owner)
    } else if actor.org_id == e.sender_org_id {
        Ok(Side::Sender)
    } else {
        Err(not_found())
    }
}

pub fn status_of(e: &enquiry::Model) -> ApiResult<EnquiryStatus> {
    e.status
        .parse()
        .map_err(|_| ApiError::internal(format!("enquiry {}: stored status does not parse", e.id)))
}

pub fn subject_of(e: &enquiry::Model) -> ApiResult<SubjectType> {
    e.subject_type.parse().map_err(|_| {
        ApiError::internal(format!(
            "enquiry {}: stored subject type does not parse",
            e.id
        ))
    })
}

/// The actions the caller may take now.
pub fn actions(seen: &Seen) -> Vec<Action> {
    status_of(&seen.enquiry)
        .map(|s| domain::allowed(s, seen.side))
        .unwrap_or_default()
}

/// Takes one enquiry from the organisation's allowance for `day`: 429 when none is left. The
/// conditional increment is atomic on SQLite and PostgreSQL alike.
async fn take_quota(
    txn: &DatabaseTransaction,
    org_id: i64,
    day: NaiveDate,
    cap: u32,
) -> ApiResult<()> {
    quota::Entity::insert(quota::ActiveModel {
        org_id: Set(org_id),
        day: Set(day),
        used: Set(0),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([quota::Column::OrgId, quota::Column::Day])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    let res = quota::Entity::update_many()
        .col_expr(quota::Column::Used, Expr::col(quota::Column::Used).add(1))
        .filter(quota::Column::OrgId.eq(org_id))
        .filter(quota::Column::Day.eq(day))
        .filter(quota::Column::Used.lt(i64::from(cap)))
        .exec(txn)
        .await?;
    if res.rows_affected == 0 {
        return Err(err(EnquiryError::DailyLimit)
            .detail(format!(
                "at most {cap} enquiries a day per organisation; try again tomorrow (Beijing time)"
            ))
            .with_context(json!({"limit": cap, "day": day})));
    }
    Ok(())
}

async fn org_name<C: ConnectionTrait>(conn: &C, id: i64) -> Result<String, DbErr> {
    Ok(organization::Entity::find_by_id(id)
        .one(conn)
        .await?
        .map(|o| o.name)
        .unwrap_or_default())
}

/// Records a disclosure in the owner's access log.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn log_disclosure<C: ConnectionTrait>(
    conn: &C,
    owner_org_id: i64,
    kind: SubjectType,
    subject_id: i64,
    enquiry_id: Option<i64>,
    reader_org_id: i64,
    reader_user_id: Option<i64>,
    what: Disclosure,
    nda_version: Option<i32>,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    disclosure::ActiveModel {
        owner_org_id: Set(owner_org_id),
        subject_type: Set(kind.as_str().to_string()),
        subject_id: Set(subject_id),
        enquiry_id: Set(enquiry_id),
        reader_org_id: Set(reader_org_id),
        reader_user_id: Set(reader_user_id),
        what: Set(what.as_str().to_string()),
        nda_version: Set(nda_version),
        at: Set(at),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Sends an enquiry.
pub async fn create(st: &EnquiriesState, actor: &Actor, n: NewEnquiry) -> ApiResult<Seen> {
    domain::may_send(actor.org_kind, actor.org_verified, actor.role)
        .map_err(error::may_not_send)?;
    let (kind, id) = n.subject;
    let field = match kind {
        SubjectType::Listing => "listing_id",
        SubjectType::Demand => "demand_id",
    };
    let it = visible_item(&st.db, actor, kind, id).await?;
    if it.owner_org_id == actor.org_id {
        return Err(ApiError::field(
            field,
            "own_item",
            "your organisation owns this item; enquire about others' items",
        ));
    }
    if !it.takes_enquiries {
        return Err(err(EnquiryError::SubjectClosed).detail(match kind {
            SubjectType::Listing => "only published listings take enquiries",
            SubjectType::Demand => "only open needs take enquiries",
        }));
    }
    if let Some((ok, oid)) = n.offer {
        let ofield = match ok {
            SubjectType::Listing => "offer_listing_id",
            SubjectType::Demand => "offer_demand_id",
        };
        match item(&st.db, ok, oid).await? {
            Some(o) if o.owner_org_id == actor.org_id => {}
            _ => {
                return Err(ApiError::field(
                    ofield,
                    "not_yours",
                    "name a listing or need of your own organisation",
                ))
            }
        }
    }
    let now = ttx_core::clock::now();
    let key = domain::open_key(EnquiryStatus::Open, kind, id, actor.org_id)
        .expect("an open enquiry is live");
    let txn = begin_write(&st.db).await?;
    if let Some(ex) = enquiry::Entity::find()
        .filter(enquiry::Column::OpenKey.eq(key.clone()))
        .one(&txn)
        .await?
    {
        return Err(duplicate(ex.id));
    }
    take_quota(
        &txn,
        actor.org_id,
        ttx_core::clock::beijing_date(now),
        st.cfg.daily_limit_per_org,
    )
    .await?;
    let row = enquiry::ActiveModel {
        subject_type: Set(kind.as_str().to_string()),
        subject_id: Set(id),
        owner_org_id: Set(it.owner_org_id),
        sender_org_id: Set(actor.org_id),
        sender_user_id: Set(actor.user_id),
        purpose: Set(n.purpose.as_str().to_string()),
        message: Set(n.message.clone()),
        offer_type: Set(n.offer.map(|(k, _)| k.as_str().to_string())),
        offer_id: Set(n.offer.map(|(_, i)| i)),
        status: Set(EnquiryStatus::Open.as_str().to_string()),
        decline_reason: Set(None),
        close_reason: Set(None),
        open_key: Set(Some(key)),
        nda_version: Set(None),
        nda_accepted_by: Set(None),
        nda_accepted_at: Set(None),
        access_grant: Set(None),
        access_granted_by: Set(None),
        access_granted_at: Set(None),
        answered_at: Set(None),
        accepted_at: Set(None),
        decided_at: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    let e = match row.insert(&txn).await {
        Ok(e) => e,
        Err(e) if is_unique_violation(&e) => {
            return Err(err(EnquiryError::Duplicate)
                .detail("your organisation already has an enquiry under way about this item"))
        }
        Err(e) => return Err(e.into()),
    };
    insert_message(&txn, &e, actor, Side::Sender, &n.message, now).await?;
    audit::record(
        &txn,
        &actor.audit(),
        "enquiry.create",
        Target::new("enquiry", e.id, Some(e.owner_org_id)),
        json!({"subject_type": kind.as_str(), "subject_id": id, "purpose": n.purpose.as_str()}),
    )
    .await?;
    let sender_name = org_name(&txn, actor.org_id).await?;
    ttx_notify::emit(&txn, notices::received(&e, &it.title, &sender_name)).await?;
    txn.commit().await?;
    ttx_notify::wake();
    Ok(Seen {
        enquiry: e,
        side: Side::Sender,
    })
}

fn duplicate(existing: i64) -> ApiError {
    err(EnquiryError::Duplicate)
        .detail(format!(
            "your organisation's enquiry {existing} about this item is under way; \
             continue it or close it first"
        ))
        .with_context(json!({"enquiry_id": existing}))
}

async fn insert_message(
    txn: &DatabaseTransaction,
    e: &enquiry::Model,
    actor: &Actor,
    side: Side,
    body: &str,
    now: DateTime<Utc>,
) -> Result<message::Model, DbErr> {
    message::ActiveModel {
        enquiry_id: Set(e.id),
        author_user_id: Set(actor.user_id),
        author_org_id: Set(actor.org_id),
        side: Set(side.as_str().to_string()),
        body: Set(body.to_string()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await
}

/// Reads an enquiry (either side; anyone else 404). The sender of an accepted enquiry gets the
/// item's contact details with it, and the read is logged.
pub async fn get(
    st: &EnquiriesState,
    actor: &Actor,
    id: i64,
) -> ApiResult<(Seen, Option<Contact>)> {
    let e = enquiry::Entity::find_by_id(id)
        .one(&st.db)
        .await?
        .ok_or_else(not_found)?;
    let side = side_of(actor, &e)?;
    let mut contact = None;
    if side == Side::Sender && e.accepted_at.is_some() {
        let kind = subject_of(&e)?;
        if let Some(it) = item(&st.db, kind, e.subject_id).await? {
            let txn = begin_write(&st.db).await?;
            log_disclosure(
                &txn,
                e.owner_org_id,
                kind,
                e.subject_id,
                Some(e.id),
                actor.org_id,
                Some(actor.user_id),
                Disclosure::ContactRead,
                None,
                ttx_core::clock::now(),
            )
            .await?;
            txn.commit().await?;
            contact = Some(it.contact);
        }
    }
    Ok((Seen { enquiry: e, side }, contact))
}

/// Which enquiries to list.
#[derive(Debug, Clone)]
pub struct ListFilter {
    /// `Sender`: what the caller's organisation sent; `Owner`: what it received.
    pub side: Side,
    pub status: Option<EnquiryStatus>,
    pub subject: Option<(SubjectType, i64)>,
}

/// The caller organisation's sent or received enquiries, newest first.
pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    f: &ListFilter,
    cursor: Option<Cursor>,
    limit: u64,
) -> ApiResult<Vec<enquiry::Model>> {
    let mut q = enquiry::Entity::find();
    q = match f.side {
        Side::Sender => q.filter(enquiry::Column::SenderOrgId.eq(actor.org_id)),
        Side::Owner => q.filter(enquiry::Column::OwnerOrgId.eq(actor.org_id)),
    };
    if let Some(s) = f.status {
        q = q.filter(enquiry::Column::Status.eq(s.as_str()));
    }
    if let Some((k, id)) = f.subject {
        q = q
            .filter(enquiry::Column::SubjectType.eq(k.as_str()))
            .filter(enquiry::Column::SubjectId.eq(id));
    }
    if let Some(c) = cursor {
        q = q.filter(enquiry::Column::Id.lt(c.id));
    }
    Ok(q.order_by_desc(enquiry::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?)
}

/// The thread of an enquiry, oldest first (either side; anyone else 404).
pub async fn messages(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    cursor: Option<Cursor>,
    limit: u64,
) -> ApiResult<Vec<message::Model>> {
    let e = enquiry::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    side_of(actor, &e)?;
    let mut q = message::Entity::find().filter(message::Column::EnquiryId.eq(id));
    if let Some(c) = cursor {
        q = q.filter(message::Column::Id.gt(c.id));
    }
    Ok(q.order_by_asc(message::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?)
}

/// Loads an enquiry for a change, locked, with the caller's side; checks the action.
async fn begin_step(
    txn: &DatabaseTransaction,
    actor: &Actor,
    id: i64,
    action: Action,
) -> ApiResult<(enquiry::Model, Side, EnquiryStatus, EnquiryStatus)> {
    let e = enquiry::Entity::find_by_id(id)
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or_else(not_found)?;
    let side = side_of(actor, &e)?;
    let status = status_of(&e)?;
    let to = domain::transition(status, side, action)
        .map_err(|r| error::refused(r, status, side, action))?;
    Ok((e, side, status, to))
}

/// Compare-and-set on the version; returns the row as saved.
async fn save(
    txn: &DatabaseTransaction,
    cur: &enquiry::Model,
    mut am: enquiry::ActiveModel,
    now: DateTime<Utc>,
) -> ApiResult<enquiry::Model> {
    am.version = Set(cur.version + 1);
    am.updated_at = Set(now);
    let res = enquiry::Entity::update_many()
        .set(am)
        .filter(enquiry::Column::Id.eq(cur.id))
        .filter(enquiry::Column::Version.eq(cur.version))
        .exec(txn)
        .await?;
    if res.rows_affected == 0 {
        return Err(ApiError::new(ErrorCode::Conflict)
            .detail("the enquiry was changed meanwhile; read it again"));
    }
    enquiry::Entity::find_by_id(cur.id)
        .one(txn)
        .await?
        .ok_or_else(not_found)
}

async fn title_of<C: ConnectionTrait>(conn: &C, e: &enquiry::Model) -> ApiResult<String> {
    Ok(item(conn, subject_of(e)?, e.subject_id)
        .await?
        .map(|i| i.title)
        .unwrap_or_default())
}

async fn audit_step(
    txn: &DatabaseTransaction,
    actor: &Actor,
    e: &enquiry::Model,
    action: &str,
    data: serde_json::Value,
) -> Result<(), DbErr> {
    audit::record(
        txn,
        &actor.audit(),
        &format!("enquiry.{action}"),
        Target::new("enquiry", e.id, Some(e.owner_org_id)),
        data,
    )
    .await
    .map(|_| ())
}

/// Posts a message in the thread (either side). The owner's first message answers an open
/// enquiry.
pub async fn post_message(
    st: &EnquiriesState,
    actor: &Actor,
    id: i64,
    body: String,
) -> ApiResult<message::Model> {
    let now = ttx_core::clock::now();
    let txn = begin_write(&st.db).await?;
    let (e, side, status, to) = begin_step(&txn, actor, id, Action::Message).await?;
    let msg = insert_message(&txn, &e, actor, side, &body, now).await?;
    let mut am = enquiry::ActiveModel {
        ..Default::default()
    };
    if to != status {
        am.status = Set(to.as_str().to_string());
    }
    if side == Side::Owner && e.answered_at.is_none() {
        am.answered_at = Set(Some(now));
    }
    let e2 = save(&txn, &e, am, now).await?;
    audit_step(
        &txn,
        actor,
        &e2,
        "message",
        json!({"message_id": msg.id, "side": side.as_str()}),
    )
    .await?;
    let title = title_of(&txn, &e2).await?;
    ttx_notify::emit(&txn, notices::message(&e2, &title, side, msg.id)).await?;
    txn.commit().await?;
    ttx_notify::wake();
    Ok(msg)
}

/// The owner accepts: the item's contact details are revealed to the sender (logged). With
/// `grant`, access to the listing's confidential parts is granted in the same step (the sender
/// must have accepted the current NDA).
pub async fn accept(
    st: &EnquiriesState,
    actor: &Actor,
    id: i64,
    note: Option<String>,
    grant: bool,
) -> ApiResult<Seen> {
    let now = ttx_core::clock::now();
    let txn = begin_write(&st.db).await?;
    let (e, side, _, to) = begin_step(&txn, actor, id, Action::Accept).await?;
    if let Some(n) = &note {
        insert_message(&txn, &e, actor, side, n, now).await?;
    }
    let am = enquiry::ActiveModel {
        status: Set(to.as_str().to_string()),
        accepted_at: Set(Some(now)),
        answered_at: Set(e.answered_at.or(Some(now))),
        ..Default::default()
    };
    let mut e2 = save(&txn, &e, am, now).await?;
    let kind = subject_of(&e2)?;
    log_disclosure(
        &txn,
        e2.owner_org_id,
        kind,
        e2.subject_id,
        Some(e2.id),
        e2.sender_org_id,
        None,
        Disclosure::ContactRevealed,
        None,
        now,
    )
    .await?;
    audit_step(&txn, actor, &e2, "accept", json!({"grant": grant})).await?;
    let title = title_of(&txn, &e2).await?;
    ttx_notify::emit(&txn, notices::accepted(&e2, &title)).await?;
    if grant {
        e2 = grant_in(&txn, actor, e2, &title, now).await?;
    }
    txn.commit().await?;
    ttx_notify::wake();
    Ok(Seen {
        enquiry: e2,
        side: Side::Owner,
    })
}

/// The owner declines, with a reason the sender reads.
pub async fn decline(
    st: &EnquiriesState,
    actor: &Actor,
    id: i64,
    reason: String,
) -> ApiResult<Seen> {
    let now = ttx_core::clock::now();
    let txn = begin_write(&st.db).await?;
    let (e, side, _, to) = begin_step(&txn, actor, id, Action::Decline).await?;
    let am = enquiry::ActiveModel {
        status: Set(to.as_str().to_string()),
        decline_reason: Set(Some(reason.clone())),
        decided_at: Set(Some(now)),
        open_key: Set(None),
        ..Default::default()
    };
    let e2 = save(&txn, &e, am, now).await?;
    audit_step(&txn, actor, &e2, "decline", json!({"reason": reason})).await?;
    let title = title_of(&txn, &e2).await?;
    ttx_notify::emit(&txn, notices::declined(&e2, &title, &reason)).await?;
    txn.commit().await?;
    ttx_notify::wake();
    Ok(Seen { enquiry: e2, side })
}

/// Either side closes (the sender withdraws, or ends an accepted enquiry; the owner ends an
/// accepted one).
pub async fn close(
    st: &EnquiriesState,
    actor: &Actor,
    id: i64,
    reason: Option<String>,
) -> ApiResult<Seen> {
    let now = ttx_core::clock::now();
    let txn = begin_write(&st.db).await?;
    let (e, side, _, to) = begin_step(&txn, actor, id, Action::Close).await?;
    let am = enquiry::ActiveModel {
        status: Set(to.as_str().to_string()),
        close_reason: Set(reason.clone()),
        decided_at: Set(Some(now)),
        open_key: Set(None),
        ..Default::default()
    };
    let e2 = save(&txn, &e, am, now).await?;
    audit_step(
        &txn,
        actor,
        &e2,
        "close",
        json!({"side": side.as_str(), "reason": reason}),
    )
    .await?;
    let title = title_of(&txn, &e2).await?;
    ttx_notify::emit(&txn, notices::closed(&e2, &title, side)).await?;
    txn.commit().await?;
    ttx_notify::wake();
    Ok(Seen { enquiry: e2, side })
}

/// The sender accepts version `version` of the listing's NDA (who, when, which version are
/// recorded). When the listing grants access automatically, access follows at once.
pub async fn accept_nda(
    st: &EnquiriesState,
    actor: &Actor,
    id: i64,
    version: i32,
) -> ApiResult<Seen> {
    let now = ttx_core::clock::now();
    let txn = begin_write(&st.db).await?;
    let (e, side, _, _) = begin_step(&txn, actor, id, Action::AcceptNda).await?;
    let conf = match subject_of(&e)? {
        SubjectType::Listing => confidential::find(&txn, e.subject_id).await?,
        SubjectType::Demand => None,
    };
    domain::nda_acceptable(conf.as_ref().map(|c| c.nda_version), version)
        .map_err(|r| error::grant(r, true))
        .map_err(|er| match &conf {
            Some(c) => er.with_context(json!({"current_version": c.nda_version})),
            None => er,
        })?;
    let conf = conf.expect("checked above");
    nda_acceptance::ActiveModel {
        enquiry_id: Set(e.id),
        listing_id: Set(e.subject_id),
        org_id: Set(actor.org_id),
        user_id: Set(actor.user_id),
        nda_version: Set(version),
        accepted_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let am = enquiry::ActiveModel {
        nda_version: Set(Some(version)),
        nda_accepted_by: Set(Some(actor.user_id)),
        nda_accepted_at: Set(Some(now)),
        ..Default::default()
    };
    let mut e2 = save(&txn, &e, am, now).await?;
    audit_step(
        &txn,
        actor,
        &e2,
        "accept_nda",
        json!({"nda_version": version}),
    )
    .await?;
    let title = title_of(&txn, &e2).await?;
    let auto = conf.auto_grant && e2.access_granted_at.is_none();
    ttx_notify::emit(&txn, notices::nda_accepted(&e2, &title, version, auto)).await?;
    if auto {
        e2 = record_grant(&txn, e2, None, &title, version, now).await?;
    }
    txn.commit().await?;
    ttx_notify::wake();
    Ok(Seen { enquiry: e2, side })
}

/// The owner grants the sender access to the listing's confidential parts (the sender must
/// have accepted the current NDA version). Granting again changes nothing.
pub async fn grant(st: &EnquiriesState, actor: &Actor, id: i64) -> ApiResult<Seen> {
    let now = ttx_core::clock::now();
    let txn = begin_write(&st.db).await?;
    let (e, side, _, _) = begin_step(&txn, actor, id, Action::Grant).await?;
    let title = title_of(&txn, &e).await?;
    let e2 = grant_in(&txn, actor, e, &title, now).await?;
    txn.commit().await?;
    ttx_notify::wake();
    Ok(Seen { enquiry: e2, side })
}

async fn grant_in(
    txn: &DatabaseTransaction,
    actor: &Actor,
    e: enquiry::Model,
    title: &str,
    now: DateTime<Utc>,
) -> ApiResult<enquiry::Model> {
    let conf = match subject_of(&e)? {
        SubjectType::Listing => confidential::find(txn, e.subject_id).await?,
        SubjectType::Demand => None,
    };
    let current = conf.as_ref().map(|c| c.nda_version);
    domain::may_grant(current, e.nda_version).map_err(|r| {
        error::grant(r, false).with_context(json!({
            "current_version": current,
            "accepted_version": e.nda_version,
        }))
    })?;
    if e.access_granted_at.is_some() {
        return Ok(e);
    }
    let version = current.expect("checked above");
    let e2 = record_grant(txn, e, Some(actor.user_id), title, version, now).await?;
    audit_step(txn, actor, &e2, "grant", json!({"nda_version": version})).await?;
    Ok(e2)
}

/// Saves a grant (by the owner's user, or automatic), logs it and notifies the sender.
async fn record_grant(
    txn: &DatabaseTransaction,
    e: enquiry::Model,
    by: Option<i64>,
    title: &str,
    version: i32,
    now: DateTime<Utc>,
) -> ApiResult<enquiry::Model> {
    let am = enquiry::ActiveModel {
        access_grant: Set(Some(
            if by.is_some() { "owner" } else { "auto" }.to_string(),
        )),
        access_granted_by: Set(by),
        access_granted_at: Set(Some(now)),
        ..Default::default()
    };
    let e2 = save(txn, &e, am, now).await?;
    log_disclosure(
        txn,
        e2.owner_org_id,
        SubjectType::Listing,
        e2.subject_id,
        Some(e2.id),
        e2.sender_org_id,
        None,
        Disclosure::AccessGranted,
        Some(version),
        now,
    )
    .await?;
    ttx_notify::emit(txn, notices::access_granted(&e2, title, version)).await?;
    Ok(e2)
}
