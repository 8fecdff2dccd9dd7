use sea_orm::entity::prelude::*;

/// A row of `proposals`: an organisation's answer to a challenge.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "proposals")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub challenge_id: i64,
    pub solver_org_id: i64,
    pub submitted_by: i64,
    pub approach: String,
    pub team: String,
    pub timeline: String,
    pub price: i64,
    pub status: String,
    pub decline_reason: Option<String>,
    pub decided_by: Option<i64>,
    pub decided_at: Option<ChronoDateTimeUtc>,
    pub seller_org_id: Option<i64>,
    pub buyer_org_id: Option<i64>,
    pub contract_amount: Option<i64>,
    pub version: i64,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
