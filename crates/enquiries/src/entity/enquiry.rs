use sea_orm::entity::prelude::*;

/// A row of `enquiries`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "enquiries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub subject_type: String,
    pub subject_id: i64,
    pub owner_org_id: i64,
    pub sender_org_id: i64,
    pub sender_user_id: i64,
    pub purpose: String,
    pub message: String,
    pub offer_type: Option<String>,
    pub offer_id: Option<i64>,
    pub status: String,
    pub decline_reason: Option<String>,
    pub close_reason: Option<String>,
    pub open_key: Option<String>,
    pub nda_version: Option<i32>,
    pub nda_accepted_by: Option<i64>,
    pub nda_accepted_at: Option<ChronoDateTimeUtc>,
    pub access_grant: Option<String>,
    pub access_granted_by: Option<i64>,
    pub access_granted_at: Option<ChronoDateTimeUtc>,
    pub answered_at: Option<ChronoDateTimeUtc>,
    pub accepted_at: Option<ChronoDateTimeUtc>,
    pub decided_at: Option<ChronoDateTimeUtc>,
    pub version: i64,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
