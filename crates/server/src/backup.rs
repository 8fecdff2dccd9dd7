//! `ttx backup <dest>`: a consistent copy of the database, taken while the server runs.
//!
//! - SQLite: `VACUUM INTO` writes a compacted copy of one read snapshot (writers go on meanwhile;
//!   WAL mode lets the snapshot and the writers coexist), then the copy is checked with
//!   `PRAGMA integrity_check`. Restore: stop `ttx`, put the copy in place of the database file
//!   (removing any `-wal`/`-shm` files beside it), start `ttx`, run `ttx reindex`.
//! - PostgreSQL: runs `pg_dump --format=custom` (one consistent snapshot too). Restore with
//!   `pg_restore --clean --if-exists -d <url> <dest>` into a stopped deployment, then `ttx reindex`.
use anyhow::{bail, Context};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};
use std::path::Path;

/// What a backup wrote.
#[derive(Debug, Clone)]
pub struct BackupReport {
    pub dest: std::path::PathBuf,
    pub bytes: u64,
    pub backend: &'static str,
}

/// Backs up the database at `url` (through `db`, the connection to it) into `dest`, which must
/// not exist yet.
pub async fn backup(
    db: &DatabaseConnection,
    url: &str,
    dest: &Path,
) -> anyhow::Result<BackupReport> {
    if dest.exists() {
        bail!(
            "{} exists already; a backup never overwrites",
            dest.display()
        );
    }
    if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let backend = match db.get_database_backend() {
        DatabaseBackend::Sqlite => {
            let path = dest
                .to_str()
                .context("the destination path must be UTF-8")?
                .to_string();
            db.execute_raw(Statement::from_sql_and_values(
                DatabaseBackend::Sqlite,
                "VACUUM INTO ?",
                [path.clone().into()],
            ))
            .await
            .context("VACUUM INTO")?;
            check_sqlite_copy(dest).await?;
            "sqlite"
        }
        DatabaseBackend::Postgres => {
            let out = tokio::process::Command::new("pg_dump")
                .arg("--format=custom")
                .arg("--no-owner")
                .arg("--file")
                .arg(dest)
                .arg("--dbname")
                .arg(url)
                .output()
                .await
                .context("running pg_dump (is the PostgreSQL client installed?)")?;
            if !out.status.success() {
                let _ = std::fs::remove_file(dest);
                bail!(
                    "pg_dump failed: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                );
            }
            "postgresql"
        }
        other => bail!("backup of {other:?} databases is not supported"),
    };
    let bytes = std::fs::metadata(dest)?.len();
    Ok(BackupReport {
        dest: dest.to_path_buf(),
        bytes,
        backend,
    })
}

/// Opens the copy and runs `PRAGMA integrity_check` on it.
async fn check_sqlite_copy(dest: &Path) -> anyhow::Result<()> {
    let url = format!("sqlite://{}?mode=ro", dest.display());
    let copy = sea_orm::Database::connect(&url)
        .await
        .with_context(|| format!("opening the copy {}", dest.display()))?;
    let row = copy
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Sqlite,
            "PRAGMA integrity_check",
        ))
        .await?
        .context("integrity_check returned nothing")?;
    let verdict: String = row.try_get_by_index(0)?;
    copy.close().await.ok();
    if verdict != "ok" {
        bail!("the copy failed its integrity check: {verdict}");
    }
    Ok(())
}
