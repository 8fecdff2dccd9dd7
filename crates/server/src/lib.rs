//! `ttx-server`: the `ttx` binary's library — configuration, application assembly, operations
//! endpoints, CLI commands (serve, migrate, seed, admin, openapi).
pub mod admin;
pub mod app;
pub mod backup;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain_metrics;
pub mod openapi_conform;
pub mod ops;
pub mod read_follow;
pub mod search_ops;
pub mod seed;
pub mod telemetry;

pub use app::{App, AppState};
pub use config::Config;
