//! The `documents` table: which thing a stored file belongs to, under which name and type.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "documents")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `listing`, `proposal` or `contract`.
    pub owner_type: String,
    pub owner_id: i64,
    /// The uploading organisation.
    pub org_id: i64,
    pub name: String,
    pub content_type: String,
    pub sha256: String,
    pub size_bytes: i64,
    pub amendment_id: Option<i64>,
    pub uploaded_by: i64,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
