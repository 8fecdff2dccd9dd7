use sea_orm::entity::prelude::*;

/// One finished review round: what was submitted and what the station decided.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "contract_rounds")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub contract_id: i64,
    pub round: i32,
    pub station_id: i64,
    pub submitted_at: ChronoDateTimeUtc,
    pub submitted_by: i64,
    pub accepted_at: Option<ChronoDateTimeUtc>,
    pub accepted_by: Option<i64>,
    /// `returned`, `registered` or `refused`.
    pub outcome: String,
    pub decided_at: ChronoDateTimeUtc,
    pub decided_by: i64,
    /// JSON array of reasons (returns).
    pub reasons: Option<String>,
    pub ground: Option<String>,
    pub note: Option<String>,
    /// JSON of the submitted content.
    pub snapshot: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
