use sea_orm::entity::prelude::*;

/// A row of `match_subscriptions`: a saved search (`kind = search`) or a followed need
/// (`kind = demand`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "match_subscriptions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_id: i64,
    pub created_by: i64,
    pub kind: String,
    pub name: String,
    pub query: Option<String>,
    pub demand_id: Option<i64>,
    /// JSON of `ttx_search::Filters`.
    pub filters: String,
    pub delivery: String,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
