use sea_orm::entity::prelude::*;

/// A row of `listing_confidential`: the parts of a listing kept behind its NDA.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "listing_confidential")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub listing_id: i64,
    pub owner_org_id: i64,
    pub description: Option<String>,
    pub ip_details: Option<String>,
    pub data_sheet_notes: Option<String>,
    pub nda_version: i32,
    pub auto_grant: bool,
    pub updated_by: i64,
    pub version: i64,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
