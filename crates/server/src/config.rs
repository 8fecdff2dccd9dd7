//! Configuration: built-in defaults < `ttx.toml` (or `--config FILE`) < `TTX_*` environment.
//!
//! Environment keys use `__` between sections: `TTX_SERVER__BIND=0.0.0.0:8080`,
//! `TTX_DATABASE__URL=postgres://...`, `TTX_SEARCH__ENGINE=meilisearch`.
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use ttx_accounts::AccountsConfig;
pub use ttx_demands::DemandsConfig;
pub use ttx_enquiries::EnquiriesConfig;
pub use ttx_matching::MatchingConfig;
pub use ttx_notify::NotifyConfig;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Where the SQLite file and the embedded search index live.
    pub data_dir: PathBuf,
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub search: SearchConfig,
    pub log: LogConfig,
    pub accounts: AccountsConfig,
    pub demands: DemandsConfig,
    pub matching: MatchingConfig,
    /// Inbox and webhook delivery.
    pub notify: NotifyConfig,
    pub contracts: ContractsConfig,
    /// Documents of listings, proposals and contracts: storage backend and size limit.
    pub documents: ttx_documents::DocumentsConfig,
    /// Enquiries between parties: the daily cap per organisation.
    pub enquiries: EnquiriesConfig,
    /// The in-memory cache of public reads by id (anonymous `GET /v1/listings/{id}` and
    /// `GET /v1/demands/{id}`): on, size, and how stale another process's write may be seen.
    pub read_cache: ttx_web::read_cache::ReadCacheConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ServerConfig {
    pub bind: String,
    /// Largest accepted request body in bytes.
    pub body_limit_bytes: usize,
    pub request_timeout_secs: u64,
    /// Allowed CORS origins; empty means no cross-origin access.
    pub cors_origins: Vec<String>,
    /// Take the client address from the last `X-Forwarded-For` entry (behind a reverse proxy):
    /// for the rate limits and the registration check's limit. (`contracts.trust_forwarded_for`,
    /// its old place, still works.)
    pub trust_forwarded_for: bool,
    /// Requests per minute per bearer token and per client address; 429 with `Retry-After` above.
    pub rate_limit: RateLimitConfig,
}

/// Rate limits of every route except `/healthz`, `/readyz` and `/metrics`: a fixed one-minute
/// window per key, counted by each process.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct RateLimitConfig {
    /// Requests a minute per bearer token (0: no limit).
    pub per_token_per_minute: u32,
    /// Requests a minute per client address without a token (0: no limit); also the number of
    /// requests with an invalid token an address may send in a minute.
    pub per_address_per_minute: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            per_token_per_minute: 600,
            per_address_per_minute: 120,
        }
    }
}

impl RateLimitConfig {
    /// No limits.
    pub fn off() -> Self {
        RateLimitConfig {
            per_token_per_minute: 0,
            per_address_per_minute: 0,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct DatabaseConfig {
    /// `sqlite://path?mode=rwc` or `postgres://user@host/db`. Empty: a SQLite file in `data_dir`.
    pub url: String,
    pub max_connections: u32,
    /// Run pending migrations when `serve` starts.
    pub migrate_on_start: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct SearchConfig {
    /// `embedded` (tantivy in `data_dir/index`) or `meilisearch`.
    pub engine: String,
    pub meili_url: Option<String>,
    pub meili_api_key: Option<String>,
    /// Prefix of Meilisearch index names, so several deployments can share one server.
    pub meili_index_prefix: String,
    /// Outbox rows the index worker applies per batch.
    pub outbox_batch_size: u64,
    /// How often the index worker looks for updates it was not woken for (another process's
    /// writes, retries), in milliseconds; this process's own writes wake it at once.
    pub outbox_poll_ms: u64,
    /// `/readyz` reports not ready when the oldest pending index update is older than this.
    pub ready_max_lag_secs: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct LogConfig {
    /// `text` or `json`.
    pub format: String,
    /// An `EnvFilter` directive, e.g. `info,ttx=debug`. `RUST_LOG` overrides it.
    pub level: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ContractsConfig {
    /// Days a station has to decide after accepting a contract.
    pub review_deadline_days: i64,
    /// A contract under review gets a "deadline near" reminder this many days before its due
    /// date (to the station and the seller side, once per review round).
    pub review_reminder_days: i64,
    /// Seconds between two runs of the reminder job (0: never runs).
    pub reminder_interval_secs: u64,
    /// The public base URL (`https://ttx.example.cn`) printed in the certificate's QR code;
    /// without it, the request's `Host`.
    pub public_url: Option<String>,
    /// Public registration checks (`GET /v1/registrations/{number}`) per client address and
    /// minute; 429 with `Retry-After` above (0: no limit).
    pub checks_per_minute: u32,
    /// Old place of `server.trust_forwarded_for` (either one set: trusted).
    pub trust_forwarded_for: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("ttx-data"),
            server: ServerConfig::default(),
            database: DatabaseConfig::default(),
            search: SearchConfig::default(),
            log: LogConfig::default(),
            accounts: AccountsConfig::default(),
            demands: DemandsConfig::default(),
            matching: MatchingConfig::default(),
            notify: NotifyConfig::default(),
            contracts: ContractsConfig::default(),
            documents: ttx_documents::DocumentsConfig::default(),
            enquiries: EnquiriesConfig::default(),
            read_cache: ttx_web::read_cache::ReadCacheConfig::default(),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: "127.0.0.1:8080".into(),
            body_limit_bytes: 1024 * 1024,
            request_timeout_secs: 30,
            cors_origins: vec![],
            trust_forwarded_for: false,
            rate_limit: RateLimitConfig::default(),
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: String::new(),
            max_connections: 16,
            migrate_on_start: true,
        }
    }
}

impl Default for SearchConfig {
    fn default() -> Self {
        SearchConfig {
            engine: "embedded".into(),
            meili_url: None,
            meili_api_key: None,
            meili_index_prefix: "ttx_".into(),
            outbox_batch_size: 1000,
            outbox_poll_ms: 500,
            ready_max_lag_secs: 300.0,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: "text".into(),
            level: "info".into(),
        }
    }
}

impl Default for ContractsConfig {
    fn default() -> Self {
        ContractsConfig {
            review_deadline_days: 30,
            review_reminder_days: 5,
            reminder_interval_secs: 600,
            public_url: None,
            checks_per_minute: 30,
            trust_forwarded_for: false,
        }
    }
}

impl Config {
    /// Loads defaults, then the TOML file (if it exists), then `TTX_*` variables.
    pub fn load(file: Option<&Path>) -> Result<Config, Box<figment::Error>> {
        let path = file
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("ttx.toml"));
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if path.exists() {
            fig = fig.merge(Toml::file(&path));
        } else if file.is_some() {
            return Err(Box::new(figment::Error::from(format!(
                "config file {} not found",
                path.display()
            ))));
        }
        fig.merge(
            Env::prefixed("TTX_")
                .split("__")
                .ignore(&["TEST_DATABASE_URL"]),
        )
        .extract()
        .map_err(Box::new)
    }

    /// The database URL, defaulting to a SQLite file in the data directory.
    pub fn database_url(&self) -> String {
        if self.database.url.trim().is_empty() {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("ttx.db").display()
            )
        } else {
            self.database.url.clone()
        }
    }

    /// Whether `X-Forwarded-For` names the client (`server.trust_forwarded_for`, or its old key
    /// `contracts.trust_forwarded_for`).
    pub fn trust_forwarded_for(&self) -> bool {
        self.server.trust_forwarded_for || self.contracts.trust_forwarded_for
    }

    pub fn index_dir(&self) -> PathBuf {
        self.data_dir.join("index")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::result_large_err)]
    fn layers_file_then_env() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "ttx.toml",
                "[server]\nbind = \"0.0.0.0:9000\"\nrequest_timeout_secs = 5\n[database]\nurl = \"sqlite://x.db\"\n",
            )?;
            jail.set_env("TTX_SERVER__BIND", "127.0.0.1:7000");
            let c = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(c.server.bind, "127.0.0.1:7000");
            assert_eq!(c.server.request_timeout_secs, 5);
            assert_eq!(c.database.url, "sqlite://x.db");
            assert_eq!(c.contracts.review_deadline_days, 30);
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn rate_limits_and_forwarded_for() {
        figment::Jail::expect_with(|jail| {
            let c = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(c.server.rate_limit.per_token_per_minute, 600);
            assert_eq!(c.server.rate_limit.per_address_per_minute, 120);
            assert!(!c.trust_forwarded_for());
            jail.create_file(
                "ttx.toml",
                "[server.rate_limit]\nper_token_per_minute = 0\n[contracts]\ntrust_forwarded_for = true\n",
            )?;
            jail.set_env("TTX_SERVER__RATE_LIMIT__PER_ADDRESS_PER_MINUTE", "7");
            let c = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(c.server.rate_limit.per_token_per_minute, 0);
            assert_eq!(c.server.rate_limit.per_address_per_minute, 7);
            assert!(c.trust_forwarded_for(), "the old key still works");
            jail.create_file("ttx.toml", "[server]\ntrust_forwarded_for = true\n")?;
            assert!(Config::load(None)
                .map_err(|e| e.to_string())?
                .trust_forwarded_for());
            Ok(())
        });
    }

    #[test]
    fn default_database_is_sqlite_in_data_dir() {
        let c = Config::default();
        assert_eq!(c.database_url(), "sqlite://ttx-data/ttx.db?mode=rwc");
    }
}
