//! `ttx-server`: the `ttx` binary's library — configuration, application assembly, operations
//! endpoints, CLI commands (serve, migrate, seed, admin, openapi).
pub mod admin;
pub mod app;
pub mod cli;
pub mod config;
pub mod db;
pub mod ops;
pub mod search_ops;
pub mod seed;
pub mod telemetry;

pub use app::{App, AppState};
pub use config::Config;
