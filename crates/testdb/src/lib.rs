//! `ttx-testdb`: a fresh, throw-away database per test or benchmark run — a SQLite file in a
//! directory the caller owns, or a new database on a PostgreSQL server — and its removal.
//!
//! Tests take the PostgreSQL server from `TTX_TEST_DATABASE_URL` ([`from_env`]); benchmarks
//! pass the URL they were given ([`fresh`]). A PostgreSQL database is dropped by
//! [`FreshDb::cleanup`], or when the [`DropDatabase`] guard goes out of scope.
use sea_orm::{ConnectionTrait, Database, DbErr};
use std::path::Path;

/// The environment variable naming an admin connection to the PostgreSQL test server.
pub const TEST_DATABASE_URL: &str = "TTX_TEST_DATABASE_URL";

/// A fresh database.
#[derive(Debug)]
pub struct FreshDb {
    /// The URL to connect to.
    pub url: String,
    /// The PostgreSQL database to drop afterwards: (admin URL, database name).
    pub pg: Option<(String, String)>,
}

impl FreshDb {
    /// Drops the PostgreSQL database (a SQLite file goes with its directory).
    pub async fn cleanup(self) {
        if let Some((admin_url, name)) = self.pg {
            drop_database(&admin_url, &name).await;
        }
    }

    /// A guard that drops the PostgreSQL database when it goes out of scope.
    pub fn guard(&mut self) -> DropDatabase {
        DropDatabase(self.pg.take())
    }
}

/// A fresh database for a test: a new PostgreSQL database named `<prefix>_<uuid>` when
/// `TTX_TEST_DATABASE_URL` is set, else the SQLite file `<dir>/ttx.db`.
pub async fn from_env(dir: &Path, prefix: &str) -> Result<FreshDb, DbErr> {
    let admin = std::env::var(TEST_DATABASE_URL).ok();
    fresh(
        admin.as_deref().filter(|u| !u.trim().is_empty()),
        dir,
        prefix,
    )
    .await
}

/// A fresh database: a new database named `<prefix>_<uuid>` on the PostgreSQL server of
/// `admin_url` when it is a `postgres` URL, the `sqlite:` URL itself, or (none) the SQLite file
/// `<dir>/ttx.db`.
pub async fn fresh(admin_url: Option<&str>, dir: &Path, prefix: &str) -> Result<FreshDb, DbErr> {
    match admin_url {
        Some(admin_url) if admin_url.starts_with("postgres") => {
            let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
            let admin = Database::connect(admin_url).await?;
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await?;
            admin.close().await.ok();
            Ok(FreshDb {
                url: format!("{}/{name}", server_url(admin_url)),
                pg: Some((admin_url.to_string(), name)),
            })
        }
        Some(url) => Ok(FreshDb {
            url: url.to_string(),
            pg: None,
        }),
        None => Ok(FreshDb {
            url: format!("sqlite://{}?mode=rwc", dir.join("ttx.db").display()),
            pg: None,
        }),
    }
}

/// The server part of a PostgreSQL URL: without its query and its database name.
pub fn server_url(admin_url: &str) -> &str {
    let base = admin_url.split('?').next().unwrap_or(admin_url);
    match base.rfind('/') {
        Some(i) if !base[..i].ends_with('/') => &base[..i],
        _ => base.trim_end_matches('/'),
    }
}

/// Drops PostgreSQL database `name` (connections to it are closed first); errors are ignored.
pub async fn drop_database(admin_url: &str, name: &str) {
    if let Ok(admin) = Database::connect(admin_url).await {
        let _ = admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await;
        admin.close().await.ok();
    }
}

/// Drops a PostgreSQL database when it goes out of scope (from `Drop`, so on its own thread and
/// runtime: it works whether or not the dropping thread runs a runtime).
#[derive(Debug, Default)]
pub struct DropDatabase(pub Option<(String, String)>);

impl Drop for DropDatabase {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.0.take() {
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime");
                rt.block_on(drop_database(&admin_url, &name));
            })
            .join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_name_is_replaced_on_the_same_server() {
        assert_eq!(
            server_url("postgres://u@h:5432/test"),
            "postgres://u@h:5432"
        );
        assert_eq!(
            server_url("postgres://u@h:5432/test?sslmode=disable"),
            "postgres://u@h:5432"
        );
        assert_eq!(server_url("postgres://u@h:5432/"), "postgres://u@h:5432");
        assert_eq!(server_url("postgres://u@h:5432"), "postgres://u@h:5432");
    }
}
