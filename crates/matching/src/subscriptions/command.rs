//! The commands of subscriptions: what a request asks for once parsed and validated (the
//! HTTP layer builds them in `dto.rs`; the service takes them).
use super::domain::Delivery;
use ttx_search::Filters;

/// A validated new subscription.
#[derive(Clone, Debug, PartialEq)]
pub struct NewSubscription {
    pub name: Option<String>,
    pub target: Target,
    pub filters: Filters,
    pub delivery: Delivery,
}

/// What a subscription follows: a saved search text, or one of the subscriber's needs.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    Search(String),
    Demand(i64),
}
