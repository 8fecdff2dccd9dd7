use sea_orm::entity::prelude::*;

/// One append-only ledger entry.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_entries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub contract_id: i64,
    pub amendment_id: Option<i64>,
    pub entry_kind: String,
    pub booked_on: ChronoDate,
    pub count_delta: i32,
    pub contract_amount_delta: i64,
    pub technology_amount_delta: i64,
    pub station_id: i64,
    pub seller_org_id: Option<i64>,
    pub seller_region: String,
    pub seller_entity_kind: String,
    pub buyer_org_id: Option<i64>,
    pub buyer_region: String,
    pub buyer_entity_kind: String,
    pub kind: String,
    pub sub_kind: String,
    pub tech_field: String,
    pub ip_kind: Option<String>,
    pub programme_source: Option<String>,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
