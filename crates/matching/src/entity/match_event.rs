use sea_orm::entity::prelude::*;

/// A row of `match_events`: one step of a match, with who and when.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "match_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub match_id: i64,
    pub action: String,
    /// `broker`, `listing`, `demand` or `system`.
    pub side: String,
    pub from_stage: Option<String>,
    pub to_stage: String,
    pub actor_user_id: Option<i64>,
    pub actor_org_id: Option<i64>,
    pub reason: Option<String>,
    pub note: Option<String>,
    pub contract_id: Option<i64>,
    pub at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
