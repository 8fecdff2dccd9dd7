//! Database connection and migrations, for SQLite and PostgreSQL alike.
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr};
use std::time::Duration;

/// Connects; for SQLite, creates the file's directory and turns on WAL, foreign keys, a busy
/// timeout and `synchronous=FULL`, so a write that returned 2xx survives a power cut; reads go
/// through a memory map of the file (`mmap_size`, 256 MiB) and a 16 MiB page cache per
/// connection (`cache_size`) rather than a `read` system call per page.
pub async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbErr> {
    let sqlite = url.starts_with("sqlite:");
    if sqlite {
        if let Some(path) = sqlite_path(url) {
            if let Some(dir) = std::path::Path::new(&path).parent() {
                if !dir.as_os_str().is_empty() {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        DbErr::Custom(format!("cannot create {}: {e}", dir.display()))
                    })?;
                }
            }
        }
    }
    let mut opt = ConnectOptions::new(url.to_string());
    opt.max_connections(if sqlite {
        max_connections.min(8)
    } else {
        max_connections
    })
    .min_connections(1)
    .connect_timeout(Duration::from_secs(10))
    .acquire_timeout(Duration::from_secs(30))
    .sqlx_logging(false);
    if sqlite {
        opt.map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true)
                .pragma("mmap_size", "268435456")
                .pragma("cache_size", "-16384")
                .pragma("temp_store", "memory")
        });
    }
    let db = Database::connect(opt).await?;
    Ok(db)
}

fn sqlite_path(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    if path.is_empty() || path == ":memory:" {
        None
    } else {
        Some(path.to_string())
    }
}

pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Names of migrations not yet applied.
pub async fn pending(db: &DatabaseConnection) -> Result<Vec<String>, DbErr> {
    Ok(Migrator::get_pending_migrations(db)
        .await?
        .iter()
        .map(|m| m.name().to_string())
        .collect())
}

pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.execute_unprepared("SELECT 1").await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths() {
        assert_eq!(
            sqlite_path("sqlite://ttx-data/ttx.db?mode=rwc").as_deref(),
            Some("ttx-data/ttx.db")
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
    }
}

/// The value lists of the CHECK migration are the enums' code lists: a variant added to an enum
/// needs a migration that widens its check, and this test says so.
#[cfg(test)]
mod schema_checks {
    use migration::m20261129_000010_checks::{self as checks, CHECKS};
    use ttx_core::labels::Labelled;

    fn codes<T: Labelled>() -> Vec<&'static str> {
        T::ALL.iter().map(|v| v.code()).collect()
    }

    fn ledger_entry_kinds() -> Vec<&'static str> {
        use ttx_contracts::domain::ledger::EntryKind::{self, *};
        // a new kind does not compile here until it is listed (and checked)
        fn _exhaustive(k: EntryKind) {
            match k {
                Registration | Amendment | Termination | Import => {}
            }
        }
        [Registration, Amendment, Termination, Import]
            .iter()
            .map(|k| k.as_str())
            .collect()
    }

    #[test]
    fn schema_checks_match_the_enums() {
        use ttx_notify::worker::{CANCELLED, DELIVERED, FAILED, PENDING};
        let pairs: Vec<(&str, &[&str], Vec<&str>)> = vec![
            ("OrgKind", checks::ORG_KINDS, codes::<ttx_core::OrgKind>()),
            ("Role", checks::ROLES, codes::<ttx_core::Role>()),
            (
                "ContractKind",
                checks::CONTRACT_KINDS,
                codes::<ttx_core::ContractKind>(),
            ),
            (
                "ContractSubKind",
                checks::CONTRACT_SUB_KINDS,
                codes::<ttx_core::ContractSubKind>(),
            ),
            (
                "EntityKind",
                checks::ENTITY_KINDS,
                codes::<ttx_core::EntityKind>(),
            ),
            ("IpKind", checks::IP_KINDS, codes::<ttx_core::IpKind>()),
            (
                "ListingStatus",
                checks::LISTING_STATUSES,
                codes::<ttx_listings::domain::ListingStatus>(),
            ),
            (
                "DemandStatus",
                checks::DEMAND_STATUSES,
                codes::<ttx_demands::domain::DemandStatus>(),
            ),
            (
                "ProposalStatus",
                checks::PROPOSAL_STATUSES,
                codes::<ttx_demands::challenge::ProposalStatus>(),
            ),
            (
                "ContractStatus",
                checks::CONTRACT_STATUSES,
                codes::<ttx_contracts::domain::ContractStatus>(),
            ),
            (
                "AmendmentKind",
                checks::AMENDMENT_KINDS,
                codes::<ttx_contracts::domain::AmendmentKind>(),
            ),
            (
                "AmendmentStatus",
                checks::AMENDMENT_STATUSES,
                codes::<ttx_contracts::domain::AmendmentStatus>(),
            ),
            (
                "EntryKind",
                checks::LEDGER_ENTRY_KINDS,
                ledger_entry_kinds(),
            ),
            (
                "Stage",
                checks::MATCH_STAGES,
                codes::<ttx_matching::pipeline::domain::Stage>(),
            ),
            (
                "delivery status",
                checks::DELIVERY_STATUSES,
                vec![PENDING, DELIVERED, FAILED, CANCELLED],
            ),
        ];
        for (name, frozen, live) in &pairs {
            let mut a = frozen.to_vec();
            let mut b = live.clone();
            a.sort_unstable();
            b.sort_unstable();
            assert_eq!(
                a, b,
                "{name} changed: add a migration that replaces its CHECK (see m20261129_000010_checks)"
            );
        }
        // every checked column uses one of the lists compared above
        for c in CHECKS {
            assert!(
                pairs.iter().any(|(_, frozen, _)| *frozen == c.values),
                "{} is checked against a list no test compares",
                c.name()
            );
        }
    }
}
