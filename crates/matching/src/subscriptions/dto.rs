//! HTTP types of subscriptions and their parsing, gathering every field error.
use super::command::{NewSubscription, Target};
use super::domain::{Delivery, Kind};
use crate::entity::{subscription, subscription_push};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use ttx_core::{FieldErrors, TechField, TransferMode};
use ttx_search::{params, Filters};
use utoipa::ToSchema;

/// Longest saved-search text.
pub const MAX_QUERY_CHARS: usize = 200;

/// Filters of a saved search or a followed need, as in the listings search.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FiltersInput {
    /// Technology field codes (any of them).
    #[serde(default)]
    pub field: Vec<String>,
    /// A 2-, 4- or 6-digit region prefix.
    pub region: Option<String>,
    /// Lowest TRL, 1 to 9.
    pub trl_min: Option<i64>,
    /// Highest TRL, 1 to 9.
    pub trl_max: Option<i64>,
    /// Transfer modes (any of them).
    #[serde(default)]
    pub mode: Vec<String>,
    /// Lowest price, fen.
    pub price_min: Option<i64>,
    /// Highest price, fen.
    pub price_max: Option<i64>,
}

impl FiltersInput {
    /// Validated engine filters (published listings; negotiable prices pass a price filter).
    pub fn parse(&self, errs: &mut FieldErrors) -> Filters {
        let fields = params::codes::<TechField>(errs, "filters.field", &self.field);
        let modes = params::codes::<TransferMode>(errs, "filters.mode", &self.mode);
        let region_prefix = self
            .region
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .and_then(|r| {
                errs.take(
                    "filters.region",
                    "invalid_region",
                    ttx_core::region::parse_region_prefix(r),
                )
            });
        for (name, v) in [
            ("filters.trl_min", self.trl_min),
            ("filters.trl_max", self.trl_max),
        ] {
            if v.is_some_and(|t| !(1..=9).contains(&t)) {
                errs.add(name, "out_of_range", "TRL is between 1 and 9");
            }
        }
        if let (Some(a), Some(b)) = (self.trl_min, self.trl_max) {
            if a > b {
                errs.add(
                    "filters.trl_min",
                    "min_greater_than_max",
                    "trl_min is above trl_max",
                );
            }
        }
        for (name, v) in [
            ("filters.price_min", self.price_min),
            ("filters.price_max", self.price_max),
        ] {
            if v.is_some_and(|p| p < 0) {
                errs.add(name, "invalid_amount", "amounts are not negative");
            }
        }
        if let (Some(a), Some(b)) = (self.price_min, self.price_max) {
            if a > b {
                errs.add(
                    "filters.price_min",
                    "min_greater_than_max",
                    "price_min is above price_max",
                );
            }
        }
        Filters {
            fields,
            modes,
            region_prefix,
            trl_min: self.trl_min,
            trl_max: self.trl_max,
            amount_min: self.price_min,
            amount_max: self.price_max,
            include_negotiable: true,
            ..Default::default()
        }
    }

    pub fn from_filters(f: &Filters) -> FiltersInput {
        FiltersInput {
            field: f.fields.clone(),
            region: f.region_prefix.clone(),
            trl_min: f.trl_min,
            trl_max: f.trl_max,
            mode: f.modes.clone(),
            price_min: f.amount_min,
            price_max: f.amount_max,
        }
    }
}

/// A new subscription: a saved search (`query`) or one of your organisation's needs
/// (`demand_id`), with optional filters.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionInput {
    /// A label; defaults to the query or the need's title.
    pub name: Option<String>,
    /// Saved search: the words to look for (at most 200 characters).
    pub query: Option<String>,
    /// Follow a need of your organisation: the need is the query.
    pub demand_id: Option<i64>,
    #[serde(default)]
    pub filters: FiltersInput,
    /// `immediate` (default) or `daily` (one digest a day).
    #[serde(default)]
    pub delivery: Delivery,
}

impl SubscriptionInput {
    pub fn parse(self) -> Result<NewSubscription, FieldErrors> {
        let mut errs = FieldErrors::new();
        let name = errs.opt_text("name", self.name.as_deref(), 200);
        let query = errs.opt_text("query", self.query.as_deref(), MAX_QUERY_CHARS);
        let target = match (query, self.demand_id) {
            (Some(_), Some(_)) => {
                errs.add(
                    "demand_id",
                    "ambiguous",
                    "give either query (a saved search) or demand_id (a need to follow), not both",
                );
                None
            }
            (None, None) => {
                errs.add(
                    "query",
                    "required",
                    "give query (a saved search) or demand_id (a need to follow)",
                );
                None
            }
            (Some(q), None) => Some(Target::Search(q)),
            (None, Some(id)) if id <= 0 => {
                errs.add("demand_id", "invalid", "must be positive");
                None
            }
            (None, Some(id)) => Some(Target::Demand(id)),
        };
        let filters = self.filters.parse(&mut errs);
        match target {
            Some(target) if errs.is_empty() => Ok(NewSubscription {
                name,
                target,
                filters,
                delivery: self.delivery,
            }),
            _ => Err(errs),
        }
    }
}

/// Counts of a subscription's pushes.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct PushCounts {
    /// Pairings delivered or queued for the digest, ever.
    pub total: u64,
    /// Of those, found today (Beijing date; what the daily cap counts).
    pub today: u64,
    /// Matches over the daily cap, recorded and never sent.
    pub capped: u64,
}

/// A listing pushed to a subscription.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PushView {
    pub listing_id: i64,
    /// The listing's title (absent when it is gone).
    pub title: Option<String>,
    pub score: f64,
    pub reason_zh: String,
    pub reason_en: String,
    /// `sent`, `queued` (for the next digest), `digested` or `capped`.
    pub status: String,
    /// Beijing date it was found.
    pub day: NaiveDate,
    pub sent_at: Option<DateTime<Utc>>,
}

impl PushView {
    pub fn build(p: subscription_push::Model, title: Option<String>) -> PushView {
        PushView {
            listing_id: p.listing_id,
            title,
            score: p.score,
            reason_zh: p.reason_zh,
            reason_en: p.reason_en,
            status: p.status,
            day: p.day,
            sent_at: p.sent_at,
        }
    }
}

/// A subscription.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SubscriptionView {
    pub id: i64,
    pub org_id: i64,
    pub created_by: i64,
    #[schema(inline)]
    pub kind: Kind,
    pub name: String,
    pub query: Option<String>,
    pub demand_id: Option<i64>,
    pub filters: FiltersInput,
    #[schema(inline)]
    pub delivery: Delivery,
    pub created_at: DateTime<Utc>,
    pub pushes: PushCounts,
    /// The latest pushes, newest first (single reads only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recent: Option<Vec<PushView>>,
}

impl SubscriptionView {
    pub fn build(m: subscription::Model, pushes: PushCounts) -> SubscriptionView {
        let filters: Filters = serde_json::from_str(&m.filters).unwrap_or_default();
        SubscriptionView {
            id: m.id,
            org_id: m.org_id,
            created_by: m.created_by,
            kind: Kind::from_code(&m.kind).unwrap_or(Kind::Search),
            name: m.name,
            query: m.query,
            demand_id: m.demand_id,
            filters: FiltersInput::from_filters(&filters),
            delivery: Delivery::from_code(&m.delivery).unwrap_or_default(),
            created_at: m.created_at,
            pushes,
            recent: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: serde_json::Value) -> Result<NewSubscription, FieldErrors> {
        serde_json::from_value::<SubscriptionInput>(v)
            .unwrap()
            .parse()
    }

    #[test]
    fn every_field_error_at_once() {
        let e = parse(serde_json::json!({
            "query": "石膏", "demand_id": 3,
            "filters": {"field": ["magic"], "region": "999999", "trl_min": 8, "trl_max": 2,
                        "mode": ["gift"], "price_min": -1}
        }))
        .unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|e| e.field.as_str()).collect();
        for f in [
            "demand_id",
            "filters.field",
            "filters.region",
            "filters.trl_min",
            "filters.mode",
            "filters.price_min",
        ] {
            assert!(fields.contains(&f), "{f} in {fields:?}");
        }
        let e = parse(serde_json::json!({"query": "  "})).unwrap_err();
        assert_eq!(e.0[0].field, "query");
        let e = parse(serde_json::json!({"query": "电".repeat(201)})).unwrap_err();
        assert_eq!(e.0[0].code, "too_long");
    }

    #[test]
    fn a_valid_saved_search_and_follow() {
        let s = parse(serde_json::json!({"query": " 磷石膏 ", "delivery": "daily",
            "filters": {"field": ["environment"], "region": "32", "price_max": 100}}))
        .unwrap();
        assert_eq!(s.target, Target::Search("磷石膏".into()));
        assert_eq!(s.delivery, Delivery::Daily);
        assert_eq!(s.filters.fields, vec!["environment"]);
        assert_eq!(s.filters.region_prefix.as_deref(), Some("32"));
        assert!(s.filters.include_negotiable);
        let s = parse(serde_json::json!({"demand_id": 7})).unwrap();
        assert_eq!(s.target, Target::Demand(7));
        assert_eq!(s.delivery, Delivery::Immediate);
    }
}
