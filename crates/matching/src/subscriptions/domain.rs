//! The rules of subscriptions, as pure functions: which new matches are sent, queued or
//! capped (dedup and the daily cap), the window of listing changes a run looks at, the text
//! relevance of a listing to a saved search, and the profile a saved search is scored as.
use crate::score::NeedProfile;
use crate::text::{self, Text};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use ttx_search::Filters;
use utoipa::ToSchema;

/// What a subscription follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A saved search: query text and filters.
    Search,
    /// One of the subscriber's own needs: the need is the query, scored by the matcher.
    Demand,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Search => "search",
            Kind::Demand => "demand",
        }
    }
    pub fn from_code(s: &str) -> Option<Kind> {
        match s {
            "search" => Some(Kind::Search),
            "demand" => Some(Kind::Demand),
            _ => None,
        }
    }
}

/// How matches reach the subscriber.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// One notification per new match, at the job's next run.
    #[default]
    Immediate,
    /// One notification a day listing the previous days' matches.
    Daily,
}

impl Delivery {
    pub fn as_str(self) -> &'static str {
        match self {
            Delivery::Immediate => "immediate",
            Delivery::Daily => "daily",
        }
    }
    pub fn from_code(s: &str) -> Option<Delivery> {
        match s {
            "immediate" => Some(Delivery::Immediate),
            "daily" => Some(Delivery::Daily),
            _ => None,
        }
    }
}

/// Status of a recorded (subscription, listing) pairing.
pub const SENT: &str = "sent";
pub const QUEUED: &str = "queued";
pub const DIGESTED: &str = "digested";
pub const CAPPED: &str = "capped";

/// A match found in a run: the listing and its score.
#[derive(Clone, Debug, PartialEq)]
pub struct Found<T> {
    pub listing_id: i64,
    pub score: f64,
    pub item: T,
}

/// What to do with one subscription's matches of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan<T> {
    /// Pushed now (immediate) or queued for the digest (daily), best first.
    pub deliver: Vec<Found<T>>,
    /// Over the day's cap: recorded as capped, never sent.
    pub capped: Vec<Found<T>>,
}

/// Decides a run's matches of one subscription: those below `threshold` are dropped, a
/// listing already recorded for the subscription (in any status) is never taken again, a
/// listing found twice counts once (its best score), and of the rest, best score first (then
/// lowest listing id), only what the day's cap leaves (`cap - used_today`) is delivered; the
/// others are capped.
pub fn plan<T>(
    found: Vec<Found<T>>,
    already: &HashSet<i64>,
    threshold: f64,
    used_today: u32,
    cap: u32,
) -> Plan<T> {
    let mut found: Vec<Found<T>> = found
        .into_iter()
        .filter(|f| f.score >= threshold && !already.contains(&f.listing_id))
        .collect();
    found.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.listing_id.cmp(&b.listing_id))
    });
    let mut seen = HashSet::new();
    found.retain(|f| seen.insert(f.listing_id));
    let room = cap.saturating_sub(used_today) as usize;
    let capped = if found.len() > room {
        found.split_off(room)
    } else {
        vec![]
    };
    Plan {
        deliver: found,
        capped,
    }
}

/// Listing changes are re-read this far behind the checkpoint: a transaction that commits a
/// little after a run, with an earlier `updated_at`, is still seen by the next run (the
/// pairing table makes looking twice harmless).
pub const OVERLAP_SECS: i64 = 30;

/// The listing changes a run looks at: `(from, to]` by `updated_at`. Without a checkpoint
/// the job starts at the oldest subscription.
pub fn window(
    checkpoint: Option<DateTime<Utc>>,
    oldest_subscription: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = checkpoint.or(oldest_subscription).unwrap_or(now);
    (start - Duration::seconds(OVERLAP_SECS), now)
}

/// The checkpoint after a run: `now`, but never past a listing change the search index has not
/// applied yet (`oldest_pending`, the oldest unprocessed outbox row of the listings index),
/// since a followed need finds listings through the index; and never backwards.
pub fn next_checkpoint(
    old: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    oldest_pending: Option<DateTime<Utc>>,
) -> DateTime<Utc> {
    let next = oldest_pending.map_or(now, |p| p.min(now));
    old.map_or(next, |o| o.max(next))
}

/// The weighted terms of a saved search's text: the matcher's content words, or, when the
/// text has none (only general words), its whitespace-separated words.
pub fn query_terms(query: &str) -> Vec<(String, f64)> {
    let terms = text::weighted_terms(&Text {
        title: query.to_string(),
        ..Default::default()
    });
    if !terms.is_empty() {
        return terms;
    }
    let mut out: Vec<(String, f64)> = vec![];
    for w in query.split_whitespace().map(str::to_lowercase) {
        if !out.iter().any(|(t, _)| *t == w) {
            out.push((w, 1.0));
        }
    }
    out
}

/// Text relevance of a listing to a saved search, in `0..=1`: the share of the query's term
/// weight the listing contains, a term in the title or keywords counting fully and one only in
/// the rest of the text 0.8. Containment, not token equality, so 电池 finds 锂离子电池.
pub fn coverage(terms: &[(String, f64)], listing: &Text) -> f64 {
    let total: f64 = terms.iter().map(|(_, w)| w).sum();
    if total <= 0.0 {
        return 0.0;
    }
    let head = format!("{}\n{}", listing.title, listing.keywords.join("\n")).to_lowercase();
    let body = listing.body.join("\n").to_lowercase();
    let got: f64 = terms
        .iter()
        .map(|(t, w)| {
            if head.contains(t.as_str()) {
                *w
            } else if body.contains(t.as_str()) {
                0.8 * w
            } else {
                0.0
            }
        })
        .sum();
    (got / total).clamp(0.0, 1.0)
}

/// What the scorer knows of a saved search: its filters as the wanted field (when it names
/// one), modes, budget, maturity and region (the region prefix, else the subscriber's own
/// region: local transfer is a policy goal).
pub fn search_profile(filters: &Filters, org_region: &str) -> NeedProfile {
    let region = match &filters.region_prefix {
        Some(p) if p.len() <= 6 => format!("{p:0<6}"),
        _ => org_region.to_string(),
    };
    NeedProfile {
        field: match filters.fields.as_slice() {
            [one] => Some(one.clone()),
            _ => None,
        },
        inferred_field: None,
        modes: filters.modes.clone(),
        budget: filters
            .amount_max
            .map(|max| (filters.amount_min.unwrap_or(0).min(max), max)),
        negotiable: filters.include_negotiable,
        trl_min: filters.trl_min,
        trl_max: filters.trl_max,
        region,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn f(id: i64, score: f64) -> Found<()> {
        Found {
            listing_id: id,
            score,
            item: (),
        }
    }

    fn ids(v: &[Found<()>]) -> Vec<i64> {
        v.iter().map(|f| f.listing_id).collect()
    }

    #[test]
    fn the_cap_takes_the_best_and_dedup_skips_what_was_recorded() {
        let found = vec![
            f(1, 0.5),
            f(2, 0.9),
            f(3, 0.3),
            f(4, 0.7),
            f(5, 0.8),
            f(2, 0.6),
        ];
        let already: HashSet<i64> = [5].into();
        let p = plan(found.clone(), &already, 0.45, 0, 2);
        assert_eq!(ids(&p.deliver), vec![2, 4]);
        assert_eq!(ids(&p.capped), vec![1]);
        // Two already used today: one left.
        let p = plan(found.clone(), &already, 0.45, 1, 2);
        assert_eq!(ids(&p.deliver), vec![2]);
        assert_eq!(ids(&p.capped), vec![4, 1]);
        // Cap reached: everything is capped.
        let p = plan(found, &HashSet::new(), 0.45, 5, 2);
        assert!(p.deliver.is_empty());
        assert_eq!(ids(&p.capped), vec![2, 5, 4, 1]);
    }

    proptest! {
        /// Over any run: no pairing twice, none already recorded, nothing below the threshold,
        /// at most the day's room delivered, and every match above the threshold accounted for.
        #[test]
        fn plans_respect_dedup_threshold_and_cap(
            found in proptest::collection::vec((0i64..30, 0.0f64..1.0), 0..40),
            already in proptest::collection::hash_set(0i64..30, 0..10),
            used in 0u32..10, cap in 0u32..10, threshold in 0.0f64..1.0,
        ) {
            let found: Vec<Found<()>> = found.into_iter().map(|(i, s)| f(i, s)).collect();
            let p = plan(found.clone(), &already, threshold, used, cap);
            let all: Vec<i64> = ids(&p.deliver).into_iter().chain(ids(&p.capped)).collect();
            let unique: HashSet<i64> = all.iter().copied().collect();
            prop_assert_eq!(unique.len(), all.len());
            prop_assert!(all.iter().all(|i| !already.contains(i)));
            prop_assert!(p.deliver.iter().chain(&p.capped).all(|f| f.score >= threshold));
            prop_assert!(p.deliver.len() as u32 <= cap.saturating_sub(used));
            let eligible: HashSet<i64> = found
                .iter()
                .filter(|f| f.score >= threshold && !already.contains(&f.listing_id))
                .map(|f| f.listing_id)
                .collect();
            prop_assert_eq!(unique, eligible);
            // The delivered ones are at least as good as every capped one.
            if let (Some(worst), Some(best_capped)) = (p.deliver.last(), p.capped.first()) {
                prop_assert!(worst.score >= best_capped.score);
            }
        }
    }

    #[test]
    fn the_window_overlaps_and_the_checkpoint_waits_for_the_index() {
        let t = |s: i64| DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap();
        assert_eq!(window(Some(t(100)), Some(t(0)), t(200)), (t(70), t(200)));
        assert_eq!(window(None, Some(t(10)), t(200)), (t(-20), t(200)));
        assert_eq!(window(None, None, t(200)), (t(170), t(200)));
        assert_eq!(next_checkpoint(Some(t(100)), t(200), None), t(200));
        assert_eq!(next_checkpoint(Some(t(100)), t(200), Some(t(150))), t(150));
        // Never backwards.
        assert_eq!(next_checkpoint(Some(t(100)), t(200), Some(t(50))), t(100));
        assert_eq!(next_checkpoint(None, t(200), Some(t(300))), t(200));
    }

    #[test]
    fn coverage_weighs_title_over_body_and_finds_compounds() {
        let terms = query_terms("磷石膏 建材");
        assert!(!terms.is_empty());
        let l = |title: &str, body: &str| Text {
            title: title.into(),
            keywords: vec![],
            body: vec![body.into()],
        };
        assert!((coverage(&terms, &l("磷石膏制备绿色建材", "")) - 1.0).abs() < 1e-9);
        let in_body = coverage(&terms, &l("固废利用", "磷石膏制备绿色建材"));
        assert!((in_body - 0.8).abs() < 1e-9, "{in_body}");
        let half = coverage(&terms, &l("磷石膏提纯", ""));
        assert!(half > 0.3 && half < 0.7, "{half}");
        assert_eq!(coverage(&terms, &l("锂电池正极材料", "")), 0.0);
        let battery = query_terms("电池");
        assert_eq!(coverage(&battery, &l("锂离子电池回收", "")), 1.0);
        // Only general words: the words themselves.
        assert_eq!(
            query_terms("技术 合作"),
            vec![("技术".to_string(), 1.0), ("合作".to_string(), 1.0)]
        );
    }

    #[test]
    fn a_saved_search_is_scored_as_a_need() {
        let filters = Filters {
            fields: vec!["environment".into()],
            modes: vec!["license".into()],
            region_prefix: Some("3205".into()),
            trl_min: Some(4),
            amount_max: Some(1_000_000),
            include_negotiable: true,
            ..Default::default()
        };
        let p = search_profile(&filters, "110108");
        assert_eq!(p.field.as_deref(), Some("environment"));
        assert_eq!(p.region, "320500");
        assert_eq!(p.budget, Some((0, 1_000_000)));
        assert_eq!(p.trl_min, Some(4));
        assert!(p.negotiable);
        let p = search_profile(&Filters::default(), "110108");
        assert_eq!(p.region, "110108");
        assert_eq!(p.field, None);
        assert_eq!(p.budget, None);
    }
}
