//! HTTP request bodies and queries of the pipeline, and their parsing into checked values,
//! gathering every field error.
use super::command::{FeedbackSpec, FunnelScope, OpenSpec};
use super::domain::{ClosingReason, Stage};
use serde::Deserialize;
use ttx_core::FieldErrors;
use utoipa::{IntoParams, ToSchema};

pub const NOTE_MAX: usize = 2000;

fn id(errs: &mut FieldErrors, f: &str, v: i64) -> i64 {
    if v <= 0 {
        errs.add(f, "invalid", "must be positive");
    }
    v
}

/// A new match (a broker of a verified agency).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchOpenRequest {
    /// A published listing.
    pub listing_id: i64,
    /// An open need of another organisation.
    pub demand_id: i64,
    /// The broker's note (seen by the broker's agency, never by the parties).
    pub note: Option<String>,
}

impl MatchOpenRequest {
    pub fn parse(self) -> Result<OpenSpec, FieldErrors> {
        let mut e = FieldErrors::new();
        let listing_id = id(&mut e, "listing_id", self.listing_id);
        let demand_id = id(&mut e, "demand_id", self.demand_id);
        let note = e.opt_text("note", self.note.as_deref(), NOTE_MAX);
        e.finish(OpenSpec {
            listing_id,
            demand_id,
            note,
        })
    }
}

/// An optional note with a step (introduce, accept, decline). The caller's organisation
/// decides which side accepts or declines.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchNoteRequest {
    pub note: Option<String>,
}

impl MatchNoteRequest {
    pub fn parse(self) -> Result<Option<String>, FieldErrors> {
        let mut e = FieldErrors::new();
        let note = e.opt_text("note", self.note.as_deref(), NOTE_MAX);
        e.finish(note)
    }
}

/// Sign a match (the broker): the registered contract it led to.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchSignRequest {
    /// A registered contract whose `match_id` is this match, sold by the listing's owner to the
    /// need's owner.
    pub contract_id: i64,
    pub note: Option<String>,
}

impl MatchSignRequest {
    pub fn parse(self) -> Result<(i64, Option<String>), FieldErrors> {
        let mut e = FieldErrors::new();
        let contract_id = id(&mut e, "contract_id", self.contract_id);
        let note = e.opt_text("note", self.note.as_deref(), NOTE_MAX);
        e.finish((contract_id, note))
    }
}

/// Close a match (the broker or either party), saying why.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchCloseRequest {
    pub reason: ClosingReason,
    /// Required with `other`.
    pub note: Option<String>,
}

impl MatchCloseRequest {
    pub fn parse(self) -> Result<(ClosingReason, Option<String>), FieldErrors> {
        let mut e = FieldErrors::new();
        let note = if self.reason == ClosingReason::Other {
            let n = e.text("note", self.note.as_deref().unwrap_or(""), 2, NOTE_MAX);
            (!n.is_empty()).then_some(n)
        } else {
            e.opt_text("note", self.note.as_deref(), NOTE_MAX)
        };
        e.finish((self.reason, note))
    }
}

/// `GET /v1/matches`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MatchListQuery {
    /// Only matches at this stage.
    #[param(inline)]
    pub stage: Option<Stage>,
    /// Only matches of this broker (user id).
    pub broker: Option<i64>,
    /// Page size, 1 to 100 (default 20).
    #[serde(default, deserialize_with = "ttx_web::pagination::page_limit")]
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// Feedback on a suggested pair (a party of either side, or a broker of a verified agency).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchFeedbackRequest {
    pub demand_id: i64,
    pub listing_id: i64,
    /// Whether the suggestion is relevant.
    pub relevant: bool,
    pub note: Option<String>,
}

impl MatchFeedbackRequest {
    pub fn parse(self) -> Result<FeedbackSpec, FieldErrors> {
        let mut e = FieldErrors::new();
        let demand_id = id(&mut e, "demand_id", self.demand_id);
        let listing_id = id(&mut e, "listing_id", self.listing_id);
        let note = e.opt_text("note", self.note.as_deref(), NOTE_MAX);
        e.finish(FeedbackSpec {
            demand_id,
            listing_id,
            relevant: self.relevant,
            note,
        })
    }
}

/// `GET /v1/matches/funnel`: exactly one of `broker` and `agency`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FunnelQuery {
    /// A broker's user id: its own pipeline.
    pub broker: Option<i64>,
    /// An agency's organisation id: the pipelines of all its brokers.
    pub agency: Option<i64>,
}

impl FunnelQuery {
    pub fn parse(&self) -> Result<FunnelScope, FieldErrors> {
        let mut e = FieldErrors::new();
        let scope = match (self.broker, self.agency) {
            (Some(b), None) => Some(FunnelScope::Broker(id(&mut e, "broker", b))),
            (None, Some(a)) => Some(FunnelScope::Agency(id(&mut e, "agency", a))),
            (Some(_), Some(_)) => {
                e.add(
                    "agency",
                    "ambiguous",
                    "give either broker or agency, not both",
                );
                None
            }
            (None, None) => {
                e.add(
                    "broker",
                    "required",
                    "give broker (a user id) or agency (an organisation id)",
                );
                None
            }
        };
        e.into_result()?;
        Ok(scope.expect("checked"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_checked_field_by_field() {
        let e = MatchOpenRequest {
            listing_id: 0,
            demand_id: -1,
            note: Some("x".repeat(NOTE_MAX + 1)),
        }
        .parse()
        .unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, vec!["listing_id", "demand_id", "note"]);

        let e = MatchCloseRequest {
            reason: ClosingReason::Other,
            note: None,
        }
        .parse()
        .unwrap_err();
        assert_eq!(e.0[0].field, "note");
        let (r, n) = MatchCloseRequest {
            reason: ClosingReason::Price,
            note: None,
        }
        .parse()
        .unwrap();
        assert_eq!((r, n), (ClosingReason::Price, None));

        let q = |b, a| FunnelQuery {
            broker: b,
            agency: a,
        };
        assert_eq!(q(Some(3), None).parse().unwrap(), FunnelScope::Broker(3));
        assert_eq!(q(None, Some(4)).parse().unwrap(), FunnelScope::Agency(4));
        assert!(q(None, None).parse().is_err());
        assert!(q(Some(1), Some(2)).parse().is_err());
        assert!(q(Some(0), None).parse().is_err());
    }
}
