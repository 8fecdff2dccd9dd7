//! The commands of the demands use cases: what a request asks for once parsed and validated
//! (the HTTP layer builds them in `dto.rs`; services take them).
use crate::challenge::{self, ChallengeTerms, Criterion};
use crate::domain::{DemandData, DemandPatch};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use ttx_core::{Fen, FieldErrors, OrgKind};
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

/// A validated patch of a need: the changed fields, and for a challenge still in draft its new
/// terms.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DemandPatchCommand {
    pub patch: DemandPatch,
    pub terms: Option<TermsDraft>,
}

/// Challenge terms as asked for, amounts read. They are checked against the need's deadline
/// ([`TermsDraft::validate`]) once the deadline is known: a patch may change both at once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TermsDraft {
    /// 榜单金额 in fen.
    pub bounty: i64,
    pub proposal_deadline: DateTime<Utc>,
    pub eligible_org_kinds: Vec<OrgKind>,
    pub eligible_regions: Vec<String>,
    pub criteria: Vec<Criterion>,
    pub max_winners: u32,
}

impl TermsDraft {
    /// The terms, checked against the need's deadline and `now`; field names without the
    /// `terms.` prefix.
    pub fn validate(
        &self,
        need_deadline: Option<NaiveDate>,
        now: DateTime<Utc>,
    ) -> Result<ChallengeTerms, FieldErrors> {
        let mut errs = FieldErrors::new();
        let t = self.check(&mut errs, need_deadline, now);
        errs.finish(t)
    }

    /// [`TermsDraft::validate`], gathering into `errs`.
    pub fn check(
        &self,
        errs: &mut FieldErrors,
        need_deadline: Option<NaiveDate>,
        now: DateTime<Utc>,
    ) -> ChallengeTerms {
        challenge::validate_terms(
            errs,
            self.bounty,
            self.proposal_deadline,
            &self.eligible_org_kinds,
            &self.eligible_regions,
            &self.criteria,
            self.max_winners,
            need_deadline,
            now,
        )
    }
}
