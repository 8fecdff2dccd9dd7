use sea_orm::entity::prelude::*;

/// A row of `matchmaking_pairings`: a listing and a need at one table in one time slot.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "matchmaking_pairings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub event_id: i64,
    /// 0-based.
    pub slot: i32,
    /// 0-based.
    pub table_no: i32,
    pub listing_id: i64,
    pub demand_id: i64,
    pub listing_org_id: i64,
    pub demand_org_id: i64,
    pub score: f64,
    /// JSON array of the score's parts.
    pub parts: String,
    pub reason_zh: String,
    pub reason_en: String,
    /// `met`, `intent` or `signed`.
    pub outcome: Option<String>,
    pub contract_id: Option<i64>,
    pub outcome_by: Option<i64>,
    pub outcome_at: Option<ChronoDateTimeUtc>,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
