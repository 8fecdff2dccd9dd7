use sea_orm::entity::prelude::*;

/// A row of `match_feedback`: one user's answer on one suggested (need, listing) pair.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "match_feedback")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub demand_id: i64,
    pub listing_id: i64,
    pub user_id: i64,
    pub org_id: i64,
    pub role: String,
    pub org_kind: String,
    /// `listing`, `demand` or `broker`.
    pub side: String,
    pub relevant: bool,
    pub note: Option<String>,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
