//! Settings (`[enquiries]` in `ttx.toml`, `TTX_ENQUIRIES__*` in the environment) and the state
//! the routes need.
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct EnquiriesConfig {
    /// Enquiries one organisation may send per day (Beijing date); more is 429
    /// `enquiry_daily_limit`.
    pub daily_limit_per_org: u32,
}

impl Default for EnquiriesConfig {
    fn default() -> Self {
        EnquiriesConfig {
            daily_limit_per_org: 20,
        }
    }
}

/// The enquiries sub-state (`FromRef` of the application state).
#[derive(Clone)]
pub struct EnquiriesState {
    pub db: DatabaseConnection,
    pub cfg: Arc<EnquiriesConfig>,
}

impl EnquiriesState {
    pub fn new(db: DatabaseConnection, cfg: EnquiriesConfig) -> Self {
        EnquiriesState {
            db,
            cfg: Arc::new(cfg),
        }
    }
}
