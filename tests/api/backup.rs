//! `ttx backup`: a copy taken while the server runs and takes writes restores into a working
//! deployment with the data (SQLite: `VACUUM INTO`; PostgreSQL: `pg_dump`/`pg_restore`).
use sea_orm::{ConnectionTrait, Database};
use serde_json::json;
use ttx_tests::TestApp;

fn listing(title: &str) -> serde_json::Value {
    json!({
        "title": title,
        "summary": "备份恢复测试用的成果简介",
        "description": "备份恢复测试用的成果详细说明",
        "field": "new_energy",
        "trl": 5,
        "transfer_modes": ["transfer"],
        "price": {"kind": "negotiable"}
    })
}

#[tokio::test]
async fn a_backup_of_a_running_server_restores_with_its_data() {
    let app = TestApp::spawn().await;
    let uni = app.org("university", "320102", true).await;
    let r = app
        .post(
            "/v1/listings",
            Some(&uni.admin_token),
            &listing("备份前的成果一号"),
        )
        .await;
    r.assert_status(201);
    let first = r.body["id"].as_i64().unwrap();

    // The backup is taken while writes go on.
    let dest = app.dir.path().join("backups").join("ttx.backup");
    let url = app.config.database_url();
    let writes = async {
        let mut ids = vec![];
        for i in 0..15 {
            let r = app
                .post(
                    "/v1/listings",
                    Some(&uni.admin_token),
                    &listing(&format!("备份期间的成果{i}号")),
                )
                .await;
            r.assert_status(201);
            ids.push(r.body["id"].as_i64().unwrap());
        }
        ids
    };
    let (report, _during) = tokio::join!(ttx_server::backup::backup(&app.db, &url, &dest), writes);
    let report = report.expect("backup");
    assert!(report.bytes > 0);
    // A backup never overwrites.
    assert!(ttx_server::backup::backup(&app.db, &url, &dest)
        .await
        .is_err());

    // Restore into a new place and serve from it.
    let restore_dir = tempfile::tempdir().unwrap();
    let (restored_url, drop_pg) = match app.db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => {
            let admin_url = std::env::var("TTX_TEST_DATABASE_URL").unwrap();
            let name = format!("ttx_restore_{}", uuid::Uuid::new_v4().simple());
            let admin = Database::connect(&admin_url).await.unwrap();
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .unwrap();
            let base = url.rsplit_once('/').unwrap().0.to_string();
            let restored = format!("{base}/{name}");
            let out = tokio::process::Command::new("pg_restore")
                .args(["--no-owner", "--exit-on-error", "--dbname"])
                .arg(&restored)
                .arg(&dest)
                .output()
                .await
                .expect("pg_restore runs");
            assert!(
                out.status.success(),
                "pg_restore: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            (restored, Some((admin, name)))
        }
        _ => {
            let file = restore_dir.path().join("ttx.db");
            std::fs::copy(&dest, &file).unwrap();
            (format!("sqlite://{}?mode=rwc", file.display()), None)
        }
    };
    let restored_url2 = restored_url.clone();
    let back = TestApp::spawn_with(move |c| c.database.url = restored_url2).await;
    // The token, the organisation and the listing written before the backup are there.
    let r = back
        .get(&format!("/v1/listings/{first}"), Some(&uni.admin_token))
        .await;
    r.assert_status(200);
    assert_eq!(r.body["title"], "备份前的成果一号");
    // The copy is one consistent snapshot: the listings it holds are whole and readable.
    use sea_orm::{EntityTrait, PaginatorTrait};
    let n = ttx_listings::entity::listing::Entity::find()
        .count(&back.db)
        .await
        .unwrap();
    assert!((1..=16).contains(&n), "{n} listings restored");
    for row in ttx_listings::entity::listing::Entity::find()
        .all(&back.db)
        .await
        .unwrap()
    {
        back.get(&format!("/v1/listings/{}", row.id), Some(&uni.admin_token))
            .await
            .assert_status(200);
    }
    // And the restored deployment takes writes.
    back.post(
        "/v1/listings",
        Some(&uni.admin_token),
        &listing("恢复之后的成果"),
    )
    .await
    .assert_status(201);
    drop(back);
    if let Some((admin, name)) = drop_pg {
        let _ = admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await;
    }
}
