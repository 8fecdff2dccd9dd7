//! Confidential parts of a listing (kept in their own table, so no public read, search document
//! or listing card can ever carry them), its versioned NDA, the contact reveal, and the owner's
//! access log.
use crate::domain::{self, Disclosure, SubjectType};
use crate::entity::{confidential, disclosure, enquiry, nda_version};
use crate::service::{self, log_disclosure, Contact, Item};
use crate::EnquiriesState;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;
use ttx_accounts::audit::{self, Target};
use ttx_accounts::Actor;
use ttx_core::Role;
use ttx_notify::begin_write;
use ttx_web::{ApiError, ApiResult, Cursor, ErrorCode};

/// The owner's confidential parts and NDA, validated.
#[derive(Debug, Clone)]
pub struct ConfidentialSpec {
    pub description: Option<String>,
    pub ip_details: Option<String>,
    pub data_sheet_notes: Option<String>,
    pub nda_text: String,
    pub auto_grant: bool,
}

/// Confidential parts with the text of their current NDA.
#[derive(Debug, Clone)]
pub struct Confidential {
    pub row: confidential::Model,
    pub nda: nda_version::Model,
}

/// The confidential row of a listing, if any.
pub async fn find<C: ConnectionTrait>(
    conn: &C,
    listing_id: i64,
) -> Result<Option<confidential::Model>, DbErr> {
    confidential::Entity::find()
        .filter(confidential::Column::ListingId.eq(listing_id))
        .one(conn)
        .await
}

async fn nda_text<C: ConnectionTrait>(
    conn: &C,
    listing_id: i64,
    version: i32,
) -> ApiResult<nda_version::Model> {
    nda_version::Entity::find()
        .filter(nda_version::Column::ListingId.eq(listing_id))
        .filter(nda_version::Column::NdaVersion.eq(version))
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::internal(format!("listing {listing_id}: NDA v{version} missing")))
}

async fn listing_item(db: &DatabaseConnection, id: i64) -> ApiResult<Item> {
    service::item(db, SubjectType::Listing, id)
        .await?
        .ok_or_else(|| ApiError::not_found("listing"))
}

/// Sets (replaces) a listing's confidential parts and NDA: members of the owner organisation.
/// A changed NDA text is a new NDA version; `If-Match` (the confidential record's ETag) is
/// required once the record exists.
pub async fn put(
    st: &EnquiriesState,
    actor: &Actor,
    listing_id: i64,
    if_match: Option<i64>,
    spec: ConfidentialSpec,
) -> ApiResult<Confidential> {
    let it = listing_item(&st.db, listing_id).await?;
    if !actor.belongs_to(it.owner_org_id) {
        return Err(if it.public {
            ApiError::forbidden("only members of the owning organisation set confidential details")
        } else {
            ApiError::not_found("listing")
        });
    }
    actor.require_role(&[Role::OrgAdmin, Role::Member])?;
    let now = ttx_core::clock::now();
    let txn = begin_write(&st.db).await?;
    let cur = find(&txn, listing_id).await?;
    match (&cur, if_match) {
        (Some(_), None) => return Err(ApiError::new(ErrorCode::PreconditionRequired)),
        (Some(c), Some(v)) if v != c.version => {
            return Err(ApiError::new(ErrorCode::PreconditionFailed).detail(format!(
                "current version is {}, If-Match named {v}",
                c.version
            )))
        }
        (None, Some(v)) if v != 0 => {
            return Err(ApiError::new(ErrorCode::PreconditionFailed)
                .detail("the listing has no confidential details yet (version 0)"))
        }
        _ => {}
    }
    let current_nda = match &cur {
        Some(c) => Some(nda_text(&txn, listing_id, c.nda_version).await?),
        None => None,
    };
    let (nda_v, new_nda) = domain::next_nda_version(
        current_nda
            .as_ref()
            .map(|n| (n.nda_version, n.text.as_str())),
        &spec.nda_text,
    );
    if new_nda {
        nda_version::ActiveModel {
            listing_id: Set(listing_id),
            nda_version: Set(nda_v),
            text: Set(spec.nda_text.clone()),
            created_by: Set(actor.user_id),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    let row = match cur {
        Some(c) => {
            let version = c.version;
            let mut am: confidential::ActiveModel = c.into();
            am.description = Set(spec.description.clone());
            am.ip_details = Set(spec.ip_details.clone());
            am.data_sheet_notes = Set(spec.data_sheet_notes.clone());
            am.nda_version = Set(nda_v);
            am.auto_grant = Set(spec.auto_grant);
            am.updated_by = Set(actor.user_id);
            am.version = Set(version + 1);
            am.updated_at = Set(now);
            am.update(&txn).await?
        }
        None => {
            confidential::ActiveModel {
                listing_id: Set(listing_id),
                owner_org_id: Set(it.owner_org_id),
                description: Set(spec.description.clone()),
                ip_details: Set(spec.ip_details.clone()),
                data_sheet_notes: Set(spec.data_sheet_notes.clone()),
                nda_version: Set(nda_v),
                auto_grant: Set(spec.auto_grant),
                updated_by: Set(actor.user_id),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?
        }
    };
    audit::record(
        &txn,
        &actor.audit(),
        "listing.confidential.set",
        Target::new("listing", listing_id, Some(it.owner_org_id)),
        // What changed, never the confidential text itself.
        json!({"version": row.version, "nda_version": nda_v, "new_nda": new_nda,
               "auto_grant": spec.auto_grant}),
    )
    .await?;
    let nda = nda_text(&txn, listing_id, nda_v).await?;
    txn.commit().await?;
    Ok(Confidential { row, nda })
}

/// The live-or-past enquiry of the caller's organisation about an item that satisfies `pred`.
async fn enquiry_of<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    kind: SubjectType,
    id: i64,
    pred: impl Fn(&enquiry::Model) -> bool,
) -> Result<Option<enquiry::Model>, DbErr> {
    Ok(enquiry::Entity::find()
        .filter(enquiry::Column::SenderOrgId.eq(actor.org_id))
        .filter(enquiry::Column::SubjectType.eq(kind.as_str()))
        .filter(enquiry::Column::SubjectId.eq(id))
        .order_by_desc(enquiry::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .find(|e| pred(e)))
}

fn granted(e: &enquiry::Model) -> bool {
    e.access_granted_at.is_some() && e.status != domain::EnquiryStatus::Declined.as_str()
}

/// Reads a listing's confidential parts: the owner organisation, and enquirers granted access
/// (each such read is logged for the owner). Anyone else: 404.
pub async fn get(st: &EnquiriesState, actor: &Actor, listing_id: i64) -> ApiResult<Confidential> {
    let nf = || ApiError::not_found("confidential details");
    let it = listing_item(&st.db, listing_id).await?;
    let owner = actor.belongs_to(it.owner_org_id);
    let via = if owner {
        None
    } else {
        enquiry_of(&st.db, actor, SubjectType::Listing, listing_id, granted).await?
    };
    if !domain::may_read_confidential(owner, via.is_some()) {
        return Err(nf());
    }
    let row = find(&st.db, listing_id).await?.ok_or_else(nf)?;
    let nda = nda_text(&st.db, listing_id, row.nda_version).await?;
    if let Some(e) = via {
        let txn = begin_write(&st.db).await?;
        log_disclosure(
            &txn,
            it.owner_org_id,
            SubjectType::Listing,
            listing_id,
            Some(e.id),
            actor.org_id,
            Some(actor.user_id),
            Disclosure::ConfidentialRead,
            e.nda_version,
            ttx_core::clock::now(),
        )
        .await?;
        txn.commit().await?;
    }
    Ok(Confidential { row, nda })
}

/// The current NDA of a listing, for whoever may read the listing (an enquirer reads it before
/// accepting). 404 when the listing has no confidential details.
pub async fn nda(
    db: &DatabaseConnection,
    actor: Option<&Actor>,
    listing_id: i64,
) -> ApiResult<(confidential::Model, nda_version::Model)> {
    let it = listing_item(db, listing_id).await?;
    if !it.public && !actor.is_some_and(|a| a.belongs_to(it.owner_org_id)) {
        return Err(ApiError::not_found("listing"));
    }
    let row = find(db, listing_id)
        .await?
        .ok_or_else(|| ApiError::not_found("NDA"))?;
    let text = nda_text(db, listing_id, row.nda_version).await?;
    Ok((row, text))
}

/// The contact details of a listing or need: the owner organisation, and the sender of an
/// enquiry the owner accepted (each such read is logged). Anyone else: 404.
pub async fn contact(
    st: &EnquiriesState,
    actor: &Actor,
    kind: SubjectType,
    id: i64,
) -> ApiResult<Contact> {
    let nf = || ApiError::not_found("contact details");
    let it = service::item(&st.db, kind, id).await?.ok_or_else(nf)?;
    let owner = actor.belongs_to(it.owner_org_id);
    let via = if owner {
        None
    } else {
        enquiry_of(&st.db, actor, kind, id, |e| e.accepted_at.is_some()).await?
    };
    if !domain::may_read_contact(owner, via.is_some()) {
        return Err(nf());
    }
    if let Some(e) = via {
        let txn = begin_write(&st.db).await?;
        log_disclosure(
            &txn,
            it.owner_org_id,
            kind,
            id,
            Some(e.id),
            actor.org_id,
            Some(actor.user_id),
            Disclosure::ContactRead,
            None,
            ttx_core::clock::now(),
        )
        .await?;
        txn.commit().await?;
    }
    Ok(it.contact)
}

/// The access log of a listing or need, newest first: members of the owner organisation only
/// (anyone else 404).
pub async fn access_log(
    db: &DatabaseConnection,
    actor: &Actor,
    kind: SubjectType,
    id: i64,
    cursor: Option<Cursor>,
    limit: u64,
) -> ApiResult<Vec<disclosure::Model>> {
    let it = service::item(db, kind, id).await?;
    match it {
        Some(it) if actor.belongs_to(it.owner_org_id) => {}
        _ => return Err(ApiError::not_found("access log")),
    }
    let mut q = disclosure::Entity::find()
        .filter(disclosure::Column::SubjectType.eq(kind.as_str()))
        .filter(disclosure::Column::SubjectId.eq(id));
    if let Some(c) = cursor {
        q = q.filter(disclosure::Column::Id.lt(c.id));
    }
    Ok(q.order_by_desc(disclosure::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?)
}
