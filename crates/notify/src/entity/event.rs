use sea_orm::entity::prelude::*;

/// A row of `notify_events`: one event, addressed to one organisation.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notify_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub event_id: String,
    pub kind: String,
    pub org_id: i64,
    pub subject_type: String,
    pub subject_id: Option<i64>,
    /// JSON object.
    pub payload: String,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
