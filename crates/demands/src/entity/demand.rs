use sea_orm::entity::prelude::*;

/// A row of `demands`. List-valued columns hold JSON text.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "demands")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub owner_org_id: i64,
    pub created_by: i64,
    pub title: String,
    pub problem: String,
    pub key_points: String,
    pub goals: String,
    pub keywords: String,
    pub field: Option<String>,
    pub research_type: Option<String>,
    pub modes: String,
    pub trl_min: Option<i16>,
    pub trl_max: Option<i16>,
    pub budget_kind: String,
    pub budget_min: Option<i64>,
    pub budget_max: Option<i64>,
    pub deadline: Option<ChronoDate>,
    pub region_code: String,
    pub anonymous: bool,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub contact_email: Option<String>,
    pub is_challenge: bool,
    pub status: String,
    pub close_reason: Option<String>,
    pub version: i64,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
    pub published_at: Option<ChronoDateTimeUtc>,
    pub closed_at: Option<ChronoDateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
