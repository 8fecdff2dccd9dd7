use sea_orm::entity::prelude::*;

/// A row of `matchmaking_entries`: a listing or a need registered for an event.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "matchmaking_entries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub event_id: i64,
    /// `listing` or `demand`.
    pub side: String,
    pub item_id: i64,
    /// The organisation owning the listing or need.
    pub org_id: i64,
    pub created_by: i64,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
