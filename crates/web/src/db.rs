//! Database plumbing shared by every crate.
use sea_orm::{DbErr, SqliteTransactionMode, TransactionOptions, TransactionTrait};

/// Begins a transaction that will write — the one way services open one.
///
/// On SQLite it takes the write lock at `BEGIN` (`BEGIN IMMEDIATE`, waiting for it with the busy
/// timeout), so a transaction that reads before it writes cannot fail with "database is locked"
/// when another writer made its snapshot stale. PostgreSQL ignores the mode (a plain `BEGIN`);
/// there, rows that must not change underneath are locked explicitly (`SELECT … FOR UPDATE`).
pub async fn begin_write<C: TransactionTrait>(db: &C) -> Result<C::Transaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}
