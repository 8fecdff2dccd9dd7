//! The database itself refuses status, kind and role values the code does not know (migration
//! `m20261129_000010_checks`: CHECK constraints on PostgreSQL, triggers on SQLite).
use migration::m20261129_000010_checks::CHECKS;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait,
    QueryFilter, Statement,
};
use ttx_accounts::entity::{organization, user};
use ttx_tests::TestApp;

fn org(kind: &str) -> organization::ActiveModel {
    let now = chrono::Utc::now();
    organization::ActiveModel {
        kind: Set(kind.into()),
        name: Set(format!("直接写入的{kind}")),
        region_code: Set("110108".into()),
        verified: Set(false),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

/// An insert or update with an unknown code fails; with a known one it succeeds.
#[tokio::test]
async fn unknown_kinds_roles_and_statuses_are_refused_by_the_database() {
    let app = TestApp::spawn().await;

    // insert
    let err = org("pirate_ship").insert(&app.db).await.unwrap_err();
    assert!(
        err.to_string().contains("ck_organizations_kind") || err.to_string().contains("CHECK"),
        "{err}"
    );
    let ok = org("university").insert(&app.db).await.unwrap();

    // update
    let bad = organization::Entity::update_many()
        .col_expr(organization::Column::Kind, Expr::value("University"))
        .filter(organization::Column::Id.eq(ok.id))
        .exec(&app.db)
        .await;
    assert!(bad.is_err(), "a kind outside the enum was stored");
    organization::Entity::update_many()
        .col_expr(organization::Column::Kind, Expr::value("enterprise"))
        .filter(organization::Column::Id.eq(ok.id))
        .exec(&app.db)
        .await
        .unwrap();

    // a user made through the API cannot be given an unknown role behind its back
    let o = app.org("enterprise", "310104", true).await;
    let bad = user::Entity::update_many()
        .col_expr(user::Column::Role, Expr::value("superuser"))
        .filter(user::Column::Id.eq(o.admin_id))
        .exec(&app.db)
        .await;
    assert!(bad.is_err(), "an unknown role was stored");
    let stored = user::Entity::find_by_id(o.admin_id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.role, "org_admin");

    // and the API keeps working with the known values
    app.get("/v1/me", Some(&o.admin_token))
        .await
        .assert_status(200);
}

/// Every checked column has its constraint (PostgreSQL) or its two triggers (SQLite).
#[tokio::test]
async fn every_checked_column_has_its_check_in_the_schema() {
    let app = TestApp::spawn().await;
    let backend = app.db.get_database_backend();
    let sql = match backend {
        DatabaseBackend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'trigger'",
        _ => "SELECT conname AS name FROM pg_constraint WHERE contype = 'c'",
    };
    let rows = app
        .db
        .query_all_raw(Statement::from_string(backend, sql))
        .await
        .unwrap();
    let names: std::collections::HashSet<String> = rows
        .iter()
        .map(|r| r.try_get::<String>("", "name").unwrap())
        .collect();
    assert!(CHECKS.len() >= 13);
    for c in CHECKS {
        let expected: Vec<String> = match backend {
            DatabaseBackend::Sqlite => {
                vec![
                    format!("{}_insert", c.name()),
                    format!("{}_update", c.name()),
                ]
            }
            _ => vec![c.name()],
        };
        for n in expected {
            assert!(names.contains(&n), "{n} is missing");
        }
    }
}
