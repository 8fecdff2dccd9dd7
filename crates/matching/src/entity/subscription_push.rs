use sea_orm::entity::prelude::*;

/// A row of `subscription_pushes`: one (subscription, listing) pairing, found once.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "subscription_pushes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub subscription_id: i64,
    pub listing_id: i64,
    /// Beijing date the match was found.
    pub day: ChronoDate,
    pub score: f64,
    pub reason_zh: String,
    pub reason_en: String,
    /// `sent`, `queued`, `digested` or `capped`.
    pub status: String,
    pub created_at: ChronoDateTimeUtc,
    pub sent_at: Option<ChronoDateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
