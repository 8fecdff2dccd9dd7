use sea_orm::entity::prelude::*;

/// A row of `challenges`: the terms of a need that is a challenge (same id).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "challenges")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub demand_id: i64,
    pub bounty: i64,
    pub proposal_deadline: ChronoDateTimeUtc,
    pub eligible_org_kinds: String,
    pub eligible_regions: String,
    pub criteria: String,
    pub max_winners: i32,
    pub accepted_count: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
