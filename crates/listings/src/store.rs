//! Persistence: rows of `listings` to domain values and back, and the queries the use cases
//! share.
use crate::domain::{Contact, IpItem, ListingData, ListingStatus, Price};
use crate::entity::listing::{self, ActiveModel, Column, Entity, Model};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, JoinType, QueryFilter, QuerySelect,
    RelationDef,
};
use std::collections::HashMap;
use ttx_accounts::entity::organization;
use ttx_core::{Labelled, OrgKind, RegionCode, TechField, TransferMode, Trl};

/// A stored listing with its columns parsed.
#[derive(Clone, Debug, PartialEq)]
pub struct Listing {
    pub id: i64,
    pub owner_org_id: i64,
    pub created_by: Option<i64>,
    pub data: ListingData,
    pub region: RegionCode,
    /// As stored; see [`crate::domain::effective_status`] for what readers see.
    pub status: ListingStatus,
    pub external_id: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Why it was withdrawn (owner and operators only); `None` once published again.
    pub withdrawal_reason: Option<String>,
    /// Non-exclusive licences (普通许可) recorded while the listing stayed open.
    pub licences_granted: i32,
    /// When the last deal was recorded.
    pub last_transacted_at: Option<DateTime<Utc>>,
}

/// A row that does not parse: the database holds something no code path writes.
#[derive(Debug, thiserror::Error)]
#[error("listing {id}: column {column} holds an invalid value")]
pub struct CorruptRow {
    pub id: i64,
    pub column: &'static str,
}

impl From<CorruptRow> for ttx_web::ServiceError {
    fn from(e: CorruptRow) -> Self {
        ttx_web::ServiceError::internal(e)
    }
}

/// Parses a row.
pub fn decode(m: &Model) -> Result<Listing, CorruptRow> {
    let bad = |column| CorruptRow { id: m.id, column };
    let keywords: Vec<String> = serde_json::from_str(&m.keywords).map_err(|_| bad("keywords"))?;
    let ip_items: Vec<IpItem> = serde_json::from_str(&m.ip_items).map_err(|_| bad("ip_items"))?;
    let modes: Vec<TransferMode> =
        serde_json::from_str(&m.transfer_modes).map_err(|_| bad("transfer_modes"))?;
    let field = TechField::from_code(&m.field).ok_or_else(|| bad("field"))?;
    let trl = u8::try_from(m.trl)
        .ok()
        .and_then(|t| Trl::new(t).ok())
        .ok_or_else(|| bad("trl"))?;
    let status = ListingStatus::from_code(&m.status).ok_or_else(|| bad("status"))?;
    let region = RegionCode::parse(&m.region_code).map_err(|_| bad("region_code"))?;
    Ok(Listing {
        id: m.id,
        owner_org_id: m.owner_org_id,
        created_by: m.created_by,
        data: ListingData {
            title: m.title.clone(),
            summary: m.summary.clone(),
            description: m.description.clone(),
            keywords,
            field,
            trl,
            ip_items,
            modes,
            price: Price::from_columns(&m.price_kind, m.price_min, m.price_max),
            region: Some(region),
            registration_no: m.registration_no.clone(),
            dual_use: m.dual_use,
            expires_on: m.expires_on,
            contact: Contact {
                name: m.contact_name.clone(),
                phone: m.contact_phone.clone(),
                email: m.contact_email.clone(),
            },
        },
        region,
        status,
        external_id: m.external_id.clone(),
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
        published_at: m.published_at,
        closed_at: m.closed_at,
        withdrawal_reason: m.withdrawal_reason.clone(),
        licences_granted: m.licences_granted,
        last_transacted_at: m.last_transacted_at,
    })
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("listing values serialize")
}

/// Sets every owner-described column from `data` (`region` already resolved).
pub fn set_data(am: &mut ActiveModel, data: &ListingData, region: RegionCode) {
    let (min, max) = data.price.bounds();
    am.title = Set(data.title.clone());
    am.summary = Set(data.summary.clone());
    am.description = Set(data.description.clone());
    am.keywords = Set(json(&data.keywords));
    am.field = Set(data.field.as_str().to_string());
    am.trl = Set(i16::from(data.trl.level()));
    am.ip_items = Set(json(&data.ip_items));
    am.transfer_modes = Set(json(&data.modes));
    am.price_kind = Set(data.price.kind_code().to_string());
    am.price_min = Set(min);
    am.price_max = Set(max);
    am.region_code = Set(region.as_string());
    am.registration_no = Set(data.registration_no.clone());
    am.dual_use = Set(data.dual_use);
    am.expires_on = Set(data.expires_on);
    am.contact_name = Set(data.contact.name.clone());
    am.contact_phone = Set(data.contact.phone.clone());
    am.contact_email = Set(data.contact.email.clone());
}

/// A new row.
#[allow(clippy::too_many_arguments)]
pub fn new_row(
    owner_org_id: i64,
    created_by: Option<i64>,
    data: &ListingData,
    region: RegionCode,
    status: ListingStatus,
    external_id: Option<String>,
    now: DateTime<Utc>,
) -> ActiveModel {
    let mut am = ActiveModel {
        id: NotSet,
        owner_org_id: Set(owner_org_id),
        created_by: Set(created_by),
        status: Set(status.as_str().to_string()),
        external_id: Set(external_id),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        published_at: Set((status == ListingStatus::Published).then_some(now)),
        closed_at: Set(None),
        withdrawal_reason: Set(None),
        licences_granted: Set(0),
        last_transacted_at: Set(None),
        ..Default::default()
    };
    set_data(&mut am, data, region);
    am
}

/// What the public sees of an organisation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgInfo {
    pub id: i64,
    pub name: String,
    pub kind: OrgKind,
    pub region: String,
}

fn org_info(o: organization::Model) -> OrgInfo {
    OrgInfo {
        id: o.id,
        kind: OrgKind::from_code(&o.kind).unwrap_or(OrgKind::Enterprise),
        name: o.name,
        region: o.region_code,
    }
}

/// A listing row with its owner organisation, in one query (a read by id).
pub async fn find_with_org<C: ConnectionTrait>(
    conn: &C,
    id: i64,
) -> Result<Option<(Model, Option<OrgInfo>)>, DbErr> {
    let owner: RelationDef = Entity::belongs_to(organization::Entity)
        .from(Column::OwnerOrgId)
        .to(organization::Column::Id)
        .into();
    let row = Entity::find_by_id(id)
        .select_also(organization::Entity)
        .join(JoinType::LeftJoin, owner)
        .one(conn)
        .await?;
    Ok(row.map(|(m, o)| (m, o.map(org_info))))
}

/// Names and kinds of organisations, by id.
pub async fn orgs<C: ConnectionTrait>(
    conn: &C,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, OrgInfo>, DbErr> {
    let mut out = HashMap::new();
    for o in organization::by_ids(conn, ids).await? {
        out.insert(o.id, org_info(o));
    }
    Ok(out)
}

/// Rows by id, in chunks (the order of `ids` is not kept).
pub async fn by_ids<C: ConnectionTrait>(conn: &C, ids: &[i64]) -> Result<Vec<Model>, DbErr> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        out.extend(
            Entity::find()
                .filter(Column::Id.is_in(chunk.iter().copied()))
                .all(conn)
                .await?,
        );
    }
    Ok(out)
}

/// Published listings whose expiry date lies before `today`.
pub fn past_expiry(today: NaiveDate) -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(listing::Column::Status.eq(ListingStatus::Published.as_str()))
        .add(listing::Column::ExpiresOn.is_not_null())
        .add(listing::Column::ExpiresOn.lt(today))
}

/// A transaction that writes: [`ttx_web::begin_write`] under the name this crate's callers use.
pub use ttx_web::begin_write as write_txn;
