//! The commands of the broker pipeline: what a request asks for once parsed and validated
//! (the HTTP layer builds them in `dto.rs`; the service takes them).

/// A new match between a published listing and an open need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenSpec {
    pub listing_id: i64,
    pub demand_id: i64,
    pub note: Option<String>,
}

/// Feedback on a suggested pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedbackSpec {
    pub demand_id: i64,
    pub listing_id: i64,
    pub relevant: bool,
    pub note: Option<String>,
}

/// Whose funnel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FunnelScope {
    Broker(i64),
    Agency(i64),
}
