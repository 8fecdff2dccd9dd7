use sea_orm::entity::prelude::*;

/// A row of `disclosure_log`: contact details or confidential parts revealed to, or read by,
/// someone outside the owner organisation.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "disclosure_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub owner_org_id: i64,
    pub subject_type: String,
    pub subject_id: i64,
    pub enquiry_id: Option<i64>,
    pub reader_org_id: i64,
    pub reader_user_id: Option<i64>,
    pub what: String,
    pub nda_version: Option<i32>,
    pub at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
