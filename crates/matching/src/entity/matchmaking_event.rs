use sea_orm::entity::prelude::*;

/// A row of `matchmaking_events` (科技对接活动).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "matchmaking_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organiser_org_id: i64,
    pub created_by: i64,
    pub title: String,
    pub description: String,
    pub venue: String,
    pub event_date: ChronoDate,
    /// `HH:MM`, start of the first slot.
    pub start_time: String,
    pub slots: i32,
    pub tables: i32,
    pub slot_minutes: i32,
    pub scheduled_at: Option<ChronoDateTimeUtc>,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
