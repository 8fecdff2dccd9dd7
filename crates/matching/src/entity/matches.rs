use sea_orm::entity::prelude::*;

/// A row of `matches`: a broker's match between a listing and a need.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "matches")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub listing_id: i64,
    pub demand_id: i64,
    /// The listing's owner (seller side) when the match was opened.
    pub listing_org_id: i64,
    /// The need's owner (buyer side) when the match was opened.
    pub demand_org_id: i64,
    pub broker_user_id: i64,
    pub agency_org_id: i64,
    pub stage: String,
    pub listing_response: String,
    pub demand_response: String,
    pub note: Option<String>,
    pub close_reason: Option<String>,
    pub close_note: Option<String>,
    pub contract_id: Option<i64>,
    /// `listing:demand:agency` while under way, NULL once signed or closed (unique).
    pub open_key: Option<String>,
    pub introduced_at: Option<ChronoDateTimeUtc>,
    pub stage_changed_at: ChronoDateTimeUtc,
    pub version: i64,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
