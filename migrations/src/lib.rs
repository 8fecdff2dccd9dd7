//! The schema of TTX, owned by migrations. Every change is a new migration; the same
//! migrations run on SQLite and PostgreSQL.
pub use sea_orm_migration::prelude::*;

pub mod helpers;

mod m20261123_000001_accounts;
mod m20261123_000002_search_outbox;
mod m20261123_000003_listings;
mod m20261123_000004_demands;
mod m20261123_000005_notifications;
mod m20261123_000006_contracts;
mod m20261129_000007_stats_rollup;
mod m20261129_000008_matches;
mod m20261129_000009_subscriptions_events;
/// Public: the server's tests compare its frozen value lists with the enums.
pub mod m20261129_000010_checks;
mod m20261129_000011_enquiries;
mod m20261129_000012_documents;
mod m20261129_000020_listing_withdrawal_licences;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_accounts::Migration),
            Box::new(m20261123_000002_search_outbox::Migration),
            Box::new(m20261123_000003_listings::Migration),
            Box::new(m20261123_000004_demands::Migration),
            Box::new(m20261123_000005_notifications::Migration),
            Box::new(m20261123_000006_contracts::Migration),
            Box::new(m20261129_000007_stats_rollup::Migration),
            Box::new(m20261129_000008_matches::Migration),
            Box::new(m20261129_000009_subscriptions_events::Migration),
            Box::new(m20261129_000010_checks::Migration),
            Box::new(m20261129_000011_enquiries::Migration),
            Box::new(m20261129_000012_documents::Migration),
            Box::new(m20261129_000020_listing_withdrawal_licences::Migration),
        ]
    }
}
