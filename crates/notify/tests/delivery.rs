//! The delivery worker against a real database and a receiver on 127.0.0.1: events emitted
//! in a transaction that rolls back are never sent; two workers racing over the same
//! deliveries send each exactly once; a live lease keeps others off; failures back off.
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::{Duration, Utc};
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Database, DatabaseConnection, EntityTrait,
    QueryFilter, TransactionTrait,
};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use ttx_notify::entity::{delivery, webhook};
use ttx_notify::{emit, DeliveryWorker, NewEvent, NotifyConfig};

type Log = Arc<Mutex<Vec<(String, String)>>>;

async fn receive(State(log): State<(Log, StatusCode)>, h: HeaderMap, body: Bytes) -> StatusCode {
    let id = h
        .get("x-ttx-event-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let sig = h
        .get("x-ttx-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(
        ttx_notify::signature::verify("whsec_test", &sig, &body, Utc::now().timestamp(), 300)
            .is_ok()
    );
    log.0.lock().unwrap().push((id, sig));
    log.1
}

async fn receiver(answer: StatusCode) -> (String, Log) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let log: Log = Arc::default();
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state((log.clone(), answer));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, log)
}

async fn setup(url: &str) -> (tempfile::TempDir, DatabaseConnection, i64) {
    use ttx_accounts::entity::{organization, user};
    let dir = tempfile::tempdir().unwrap();
    let db = Database::connect(format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("n.db").display()
    ))
    .await
    .unwrap();
    Migrator::up(&db, None).await.unwrap();
    let now = Utc::now();
    let o = organization::ActiveModel {
        kind: Set("enterprise".into()),
        name: Set("星河新能源科技有限公司".into()),
        region_code: Set("320505".into()),
        verified: Set(false),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&db)
    .await
    .unwrap();
    let u = user::ActiveModel {
        org_id: Set(o.id),
        email: Set("a@firm.test".into()),
        display_name: Set("管理员".into()),
        password_hash: Set("x".into()),
        role: Set("org_admin".into()),
        active: Set(true),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&db)
    .await
    .unwrap();
    webhook::ActiveModel {
        org_id: Set(o.id),
        url: Set(url.into()),
        secret: Set("whsec_test".into()),
        events: Set("[]".into()),
        description: Set(None),
        active: Set(true),
        created_by: Set(u.id),
        created_at: Set(now),
        deleted_at: Set(None),
        ..Default::default()
    }
    .insert(&db)
    .await
    .unwrap();
    (dir, db, o.id)
}

fn event(org: i64, i: i64) -> NewEvent {
    NewEvent {
        kind: ttx_notify::events::DEMAND_PUBLISHED,
        org_id: org,
        subject_type: "demand",
        subject_id: Some(i),
        data: serde_json::json!({"demand_id": i}),
        title_zh: format!("需求{i}已发布"),
        title_en: format!("Need {i} was published"),
    }
}

fn cfg() -> NotifyConfig {
    NotifyConfig {
        allow_private_urls: true,
        retry_base_ms: 60_000,
        ..Default::default()
    }
}

async fn statuses(db: &DatabaseConnection) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for d in delivery::Entity::find().all(db).await.unwrap() {
        *m.entry(d.status).or_default() += 1;
    }
    m
}

#[tokio::test]
async fn racing_workers_send_each_event_once_and_rolled_back_events_never() {
    let (url, log) = receiver(StatusCode::OK).await;
    let (_d, db, org) = setup(&url).await;
    for i in 0..12 {
        let txn = db.begin().await.unwrap();
        emit(&txn, event(org, i)).await.unwrap();
        txn.commit().await.unwrap();
    }
    let txn = db.begin().await.unwrap();
    emit(&txn, event(org, 99)).await.unwrap();
    txn.rollback().await.unwrap();

    let a = DeliveryWorker::new(db.clone(), cfg());
    let b = DeliveryWorker::new(db.clone(), cfg());
    loop {
        let (x, y) = tokio::join!(a.run_once(), b.run_once());
        if x.unwrap() + y.unwrap() == 0 {
            break;
        }
    }
    let got = log.lock().unwrap().clone();
    let mut per_id: BTreeMap<String, usize> = BTreeMap::new();
    for (id, _) in &got {
        *per_id.entry(id.clone()).or_default() += 1;
    }
    assert_eq!(per_id.len(), 12);
    assert!(per_id.values().all(|n| *n == 1), "{per_id:?}");
    assert_eq!(
        statuses(&db).await,
        BTreeMap::from([("delivered".into(), 12)])
    );
}

#[tokio::test]
async fn a_live_lease_keeps_other_workers_off_and_failures_back_off() {
    // Time moves on the clock the worker reads, never by rewriting timestamps in the database.
    let clock = ttx_core::Clock::manual();
    clock
        .clone()
        .scope(async move {
            let (url, log) = receiver(StatusCode::INTERNAL_SERVER_ERROR).await;
            let (_d, db, org) = setup(&url).await;
            let txn = db.begin().await.unwrap();
            emit(&txn, event(org, 1)).await.unwrap();
            emit(&txn, event(org, 2)).await.unwrap();
            txn.commit().await.unwrap();

            // A worker claimed delivery 1 and died: its lease is still running.
            let first = delivery::Entity::find()
                .filter(delivery::Column::Id.eq(1))
                .one(&db)
                .await
                .unwrap()
                .unwrap();
            let mut am: delivery::ActiveModel = first.into();
            am.lease_until = Set(Some(clock.now() + Duration::seconds(10)));
            am.attempts = Set(1);
            am.update(&db).await.unwrap();

            let w = DeliveryWorker::new(db.clone(), cfg());
            assert_eq!(w.run_once().await.unwrap(), 1, "only the unleased delivery");
            assert_eq!(
                w.run_once().await.unwrap(),
                0,
                "the failure is retried later"
            );
            assert_eq!(log.lock().unwrap().len(), 1);
            let d2 = delivery::Entity::find_by_id(2)
                .one(&db)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(d2.status, "pending");
            assert_eq!(d2.attempts, 1);
            assert_eq!(d2.last_status_code, Some(500));
            assert!(d2.lease_until.is_none());
            assert!(d2.next_attempt_at > clock.now() + Duration::seconds(50));

            // Once the lease ran out, the delivery is taken over (delivery 2 waits out its back-off).
            clock.advance(Duration::seconds(11));
            assert_eq!(w.run_once().await.unwrap(), 1);
            let d1 = delivery::Entity::find_by_id(1)
                .one(&db)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(d1.attempts, 2);

            // Giving up after max_attempts.
            let w = DeliveryWorker::new(
                db.clone(),
                NotifyConfig {
                    max_attempts: 2,
                    ..cfg()
                },
            );
            // Delivery 2's back-off (60 s) is over; delivery 1's second one (120 s) is not.
            clock.advance(Duration::seconds(50));
            assert!(d2.next_attempt_at <= clock.now());
            assert_eq!(w.run_once().await.unwrap(), 1);
            let d2 = delivery::Entity::find_by_id(2)
                .one(&db)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(d2.status, "failed");
        })
        .await;
}
