//! Settings of matching (`[matching]` in `ttx.toml`, `TTX_MATCHING__*` in the environment).
use serde::{Deserialize, Serialize};

/// The weight of each part of a suggestion's score. The score is the sum of weight × value over
/// the parts (each value in 0..=1), so the weights bound the score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Weights {
    pub text: f64,
    pub field: f64,
    pub modes: f64,
    pub price: f64,
    pub maturity: f64,
    pub region: f64,
    pub ip: f64,
    pub freshness: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            text: 0.60,
            field: 0.10,
            modes: 0.06,
            price: 0.06,
            maturity: 0.06,
            region: 0.05,
            ip: 0.04,
            freshness: 0.03,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MatchingConfig {
    pub weights: Weights,
    /// Candidates retrieved through search before re-ranking (at least the page asked for, at
    /// most 100).
    pub candidates: usize,
    /// Words of a need (or listing) sent to the engine, heaviest first (title and keywords
    /// weigh most); 0 sends the whole text. Fewer words answer faster.
    pub query_terms: usize,
    /// Subscriptions: the lowest score that is pushed.
    pub push_threshold: f64,
    /// Subscriptions: at most this many pushes per subscription and day.
    pub push_daily_cap: u32,
    /// Subscriptions: seconds between two runs of the push job (0: the job does not run).
    pub push_interval_secs: u64,
}

impl Default for MatchingConfig {
    fn default() -> Self {
        MatchingConfig {
            weights: Weights::default(),
            candidates: 60,
            query_terms: 0,
            push_threshold: 0.45,
            push_daily_cap: 20,
            push_interval_secs: 60,
        }
    }
}
