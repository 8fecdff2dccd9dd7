//! The commands of the demands use cases: what a request asks for once parsed and validated
//! (the HTTP layer builds them in `dto.rs`; services take them).
use crate::domain::DemandData;
use serde::{Deserialize, Serialize};
use ttx_core::Fen;
use utoipa::ToSchema;

/// A validated new need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewDemand {
    pub data: DemandData,
    pub publish: bool,
}

/// How a need ends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CloseOutcome {
    /// Solved (已解决).
    Resolved,
    /// Withdrawn without a solution (已关闭).
    #[default]
    Closed,
}

/// A validated proposal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewProposal {
    pub approach: String,
    pub team: String,
    pub timeline: String,
    pub price: Fen,
}
