use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "contracts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub title: String,
    pub kind: String,
    pub sub_kind: String,
    pub status: String,
    /// The applicant organisation; `None` only for imported contracts of outside sellers.
    pub seller_org_id: Option<i64>,
    pub seller_name: String,
    pub seller_credit_code: Option<String>,
    pub seller_region: String,
    pub seller_entity_kind: String,
    pub buyer_org_id: Option<i64>,
    pub buyer_name: String,
    pub buyer_credit_code: Option<String>,
    pub buyer_region: String,
    pub buyer_entity_kind: String,
    /// JSON array of parties.
    pub other_parties: String,
    pub contract_amount: i64,
    pub non_technical_costs: i64,
    pub technology_amount: i64,
    /// JSON array of instalments.
    pub payment_plan: String,
    pub signed_on: ChronoDate,
    pub term_start: Option<ChronoDate>,
    pub term_end: Option<ChronoDate>,
    pub tech_field: String,
    pub ip_kind: Option<String>,
    pub programme_source: Option<String>,
    pub researcher_reward_bp: Option<i32>,
    pub listing_id: Option<i64>,
    pub demand_id: Option<i64>,
    pub proposal_id: Option<i64>,
    pub match_id: Option<i64>,
    /// JSON array of documents.
    pub documents: String,
    pub fingerprint: String,
    pub party_key: String,
    pub registered_fingerprint: Option<String>,
    pub station_id: Option<i64>,
    pub round: i32,
    pub submitted_at: Option<ChronoDateTimeUtc>,
    pub submitted_by: Option<i64>,
    pub accepted_at: Option<ChronoDateTimeUtc>,
    pub accepted_by: Option<i64>,
    pub review_due_on: Option<ChronoDate>,
    pub decided_at: Option<ChronoDateTimeUtc>,
    pub decided_by: Option<i64>,
    pub registration_number: Option<String>,
    pub registered_on: Option<ChronoDate>,
    pub recognised_kind: Option<String>,
    pub recognised_sub_kind: Option<String>,
    pub refusal_ground: Option<String>,
    pub refusal_text: Option<String>,
    /// JSON array of the latest return's reasons.
    pub return_reasons: Option<String>,
    pub terminated_on: Option<ChronoDate>,
    pub imported: bool,
    pub created_by: i64,
    pub version: i64,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
    /// The review round whose "deadline near" reminder was sent.
    pub review_reminded_round: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
