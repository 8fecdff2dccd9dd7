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

/// Pseudo-relevance feedback: firms and researchers name the same thing differently
/// (脱硫石膏渣 against 工业副产石膏), so the words the best first-pass matches share, and the
/// need lacks, are asked for in a second retrieval whose relevance is blended in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Expansion {
    /// Best first-pass matches read for feedback words (0: no expansion).
    pub docs: usize,
    /// Feedback words asked for in the second retrieval (0: no expansion).
    pub terms: usize,
    /// A feedback word must appear in at least this many of the feedback matches.
    pub min_docs: usize,
    /// Weight of the second retrieval's relevance against the first's (1.0).
    pub weight: f64,
    /// The second retrieval asks for the need's words too (else the feedback words alone).
    pub with_query: bool,
}

impl Default for Expansion {
    fn default() -> Self {
        Expansion {
            docs: 5,
            terms: 10,
            min_docs: 2,
            weight: 0.3,
            with_query: false,
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
    /// Words of a need (or listing) sent to the engine: the most telling ones, by weight in
    /// the text (title and keywords weigh most) times rarity in the index; 0 sends the whole
    /// text. Fewer words answer faster.
    pub query_terms: usize,
    /// Words in more than this share of the indexed documents are not sent to the engine
    /// (they say nothing about the need and cost the most to score).
    pub max_term_share: f64,
    /// Pseudo-relevance feedback (vocabulary bridging).
    pub expansion: Expansion,
    /// Share of the text relevance taken from the similarity of character pairs between the
    /// need and each candidate (independent of word segmentation); the rest is the engine's.
    pub pair_weight: f64,
    /// Memory for the words of feedback texts kept between requests, in MiB (0: none kept).
    pub terms_cache_mib: usize,
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
            max_term_share: 0.2,
            expansion: Expansion::default(),
            pair_weight: 0.5,
            terms_cache_mib: 32,
            push_threshold: 0.45,
            push_daily_cap: 20,
            push_interval_secs: 60,
        }
    }
}
