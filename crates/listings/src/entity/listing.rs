use sea_orm::entity::prelude::*;

/// A row of `listings`. List-valued columns hold JSON text.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "listings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub owner_org_id: i64,
    pub created_by: Option<i64>,
    pub title: String,
    pub summary: String,
    pub description: String,
    pub keywords: String,
    pub field: String,
    pub trl: i16,
    pub ip_items: String,
    pub transfer_modes: String,
    pub price_kind: String,
    pub price_min: Option<i64>,
    pub price_max: Option<i64>,
    pub region_code: String,
    pub registration_no: Option<String>,
    pub dual_use: bool,
    pub expires_on: Option<ChronoDate>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub contact_email: Option<String>,
    pub status: String,
    pub external_id: Option<String>,
    pub version: i64,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
    pub published_at: Option<ChronoDateTimeUtc>,
    pub closed_at: Option<ChronoDateTimeUtc>,
    pub withdrawal_reason: Option<String>,
    pub licences_granted: i32,
    pub last_transacted_at: Option<ChronoDateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
