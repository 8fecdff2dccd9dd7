//! The schema the first migrations build never changes: the SQLite schema of migrations 1 to 9
//! is the committed snapshot `schema_m01_m09.sqlite.sql` (so a change to the shared helpers in
//! `migrations/src/helpers.rs` that would alter an old migration's schema fails here).
//! `UPDATE_SCHEMA_SNAPSHOT=1 cargo test -p ttx-migration --test schema` rewrites the snapshot;
//! only ever do that for a reason stated in the commit.
use migration::{MigratorTrait, SchemaManager};
use sea_orm_migration::sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, Statement,
};

/// `CREATE` statements of every table and index, in name order.
pub async fn sqlite_schema(db: &DatabaseConnection) -> String {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type, name",
        ))
        .await
        .expect("read sqlite_master");
    rows.iter()
        .map(|r| format!("{};\n", r.try_get::<String>("", "sql").expect("sql")))
        .collect()
}

#[tokio::test]
async fn migrations_1_to_9_build_the_schema_of_the_snapshot() {
    let db = memory_db().await;
    let manager = SchemaManager::new(&db);
    for m in migration::Migrator::migrations().into_iter().take(9) {
        m.up(&manager).await.unwrap();
    }
    let schema = sqlite_schema(&db).await;
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/schema_m01_m09.sqlite.sql"
    );
    if std::env::var("UPDATE_SCHEMA_SNAPSHOT").is_ok_and(|v| v == "1") {
        std::fs::write(path, &schema).unwrap();
    }
    let want = std::fs::read_to_string(path).expect("the snapshot");
    assert!(
        schema == want,
        "the schema of migrations 1-9 changed:\n{schema}"
    );
}

/// An in-memory SQLite database (one connection: each would have its own).
async fn memory_db() -> DatabaseConnection {
    let mut opts = ConnectOptions::new("sqlite::memory:");
    opts.max_connections(1).min_connections(1);
    Database::connect(opts).await.unwrap()
}
