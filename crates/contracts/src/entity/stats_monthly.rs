use sea_orm::entity::prelude::*;

/// One cell of the monthly roll-up of the ledger (see `crate::rollup`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stats_monthly")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub month: ChronoDate,
    pub side: String,
    pub region: String,
    pub dim: String,
    pub value: String,
    pub count: i64,
    pub contract_amount: i64,
    pub technology_amount: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
