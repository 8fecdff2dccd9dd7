use sea_orm::entity::prelude::*;

/// A request to amend or terminate a registered contract.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "contract_amendments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub contract_id: i64,
    pub kind: String,
    pub status: String,
    pub reason: String,
    /// JSON of the requested changes (amendments).
    pub changes: Option<String>,
    /// JSON of the values replaced, recorded on approval.
    pub before: Option<String>,
    pub station_id: i64,
    pub submitted_by: i64,
    pub submitted_at: ChronoDateTimeUtc,
    pub decided_by: Option<i64>,
    pub decided_at: Option<ChronoDateTimeUtc>,
    pub effective_on: Option<ChronoDate>,
    pub decision_note: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
