//! `ttx-stats`: technology contract turnover (技术合同成交额) reports read from the ledger that
//! contract registration writes: totals and breakdowns with growth and rank, series, flows
//! between regions, the largest parties, exports a bureau can file, and the dashboard.
//!
//! - [`domain`]: the rules, pure (periods, growth, rank, suppression, units);
//! - [`query`]: grouped sums from the monthly roll-up and the ledger;
//! - [`report`]: who sees what, and the reports themselves;
//! - [`routes`], [`export`]: HTTP (JSON, CSV, XLSX); [`dashboard`]: the page at `/dashboard`.
//!
//! Nothing here writes: registration (`ttx-contracts`) is the ledger's only writer.
pub mod dashboard;
pub mod domain;
pub mod export;
pub mod query;
pub mod report;
pub mod routes;

pub use routes::{router, StatsState};
