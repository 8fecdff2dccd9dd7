use sea_orm::entity::prelude::*;

/// A row of `nda_acceptances`: who accepted which NDA version, when, on which enquiry.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "nda_acceptances")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub enquiry_id: i64,
    pub listing_id: i64,
    pub org_id: i64,
    pub user_id: i64,
    pub nda_version: i32,
    pub accepted_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
