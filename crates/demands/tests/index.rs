//! The `demands` index: the search crate's conformance suite on it, documents built from
//! needs against the reference semantics of filters, facets and sorts, the document source
//! over a real database (anonymity, what is searchable, reindex), and the expiry job.
use chrono::{Duration, NaiveDate, Utc};
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Database, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter,
};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use ttx_core::{Fen, RegionCode, TechField, TransferMode, Trl};
use ttx_demands::challenge::ChallengeTerms;
use ttx_demands::domain::{Budget, Contact, DemandData, DemandStatus, ResearchType};
use ttx_demands::search::DemandSearchParams;
use ttx_demands::source::to_search_doc;
use ttx_demands::store::{Challenge, Demand};
use ttx_demands::DemandSource;
use ttx_search::{
    DocSource, EmbeddedEngine, FacetField, SearchDoc, SearchEngine, SearchQuery, SortOrder, DEMANDS,
};

const WAN: i64 = 1_000_000;
const REGIONS: [&str; 6] = ["320505", "440305", "440106", "110108", "310104", "420111"];
const FIELDS: [TechField; 4] = [
    TechField::NewEnergy,
    TechField::NewMaterials,
    TechField::ElectronicInformation,
    TechField::Environment,
];

fn data(i: usize, today: NaiveDate) -> DemandData {
    let modes = match i % 4 {
        0 => vec![TransferMode::CoDevelopment],
        1 => vec![TransferMode::License, TransferMode::Transfer],
        2 => vec![TransferMode::Service],
        _ => vec![],
    };
    let budget = match i % 5 {
        0 => Some(Budget::Range {
            min: Fen((i as i64 + 1) * 10 * WAN),
            max: Fen((i as i64 + 3) * 10 * WAN),
        }),
        1 => Some(Budget::Negotiable),
        2 => None,
        _ => Some(Budget::Range {
            min: Fen(50 * WAN),
            max: Fen(50 * WAN),
        }),
    };
    DemandData {
        title: format!("需求{i}：动力电池与光伏组件工艺攻关"),
        problem: format!("第{i}号需求的主要问题：产线良率波动大，能耗偏高。"),
        key_points: "在线监测；材料选型".into(),
        goals: "良率提高".into(),
        keywords: vec![format!("关键词{}", i % 3)],
        field: (i % 7 != 6).then_some(FIELDS[i % FIELDS.len()]),
        research_type: Some(
            [
                ResearchType::Basic,
                ResearchType::Applied,
                ResearchType::ExperimentalDevelopment,
            ][i % 3],
        ),
        modes,
        trl_min: Trl::new((i % 9) as u8 + 1).ok(),
        trl_max: None,
        budget,
        deadline: (i % 6 != 5).then(|| today + Duration::days(10 + (i as i64 * 7) % 200)),
        region: RegionCode::parse(REGIONS[i % REGIONS.len()]).ok(),
        anonymous: i % 4 == 3,
        contact: Contact::default(),
    }
}

/// 40 needs (every fourth anonymous, every fifth a challenge) as stored values.
fn demands(today: NaiveDate) -> Vec<(Demand, Option<Challenge>)> {
    let now = Utc::now();
    (0..40)
        .map(|i| {
            let d = data(i, today);
            let region = d.region.unwrap();
            let challenge = (i % 5 == 2).then(|| Challenge {
                demand_id: i as i64 + 1,
                terms: ChallengeTerms {
                    bounty: Fen((i as i64 + 1) * 20 * WAN),
                    proposal_deadline: now + Duration::days(5),
                    eligible_kinds: vec![],
                    eligible_regions: vec![],
                    criteria: vec![],
                    max_winners: 1,
                },
                accepted_count: 0,
            });
            (
                Demand {
                    id: i as i64 + 1,
                    owner_org_id: 100 + (i % 3) as i64,
                    created_by: 1,
                    data: d,
                    region,
                    status: DemandStatus::Open,
                    is_challenge: challenge.is_some(),
                    close_reason: None,
                    version: 1,
                    created_at: now,
                    updated_at: now,
                    published_at: Some(now - Duration::minutes(i as i64)),
                    closed_at: None,
                },
                challenge,
            )
        })
        .collect()
}

fn engine() -> (tempfile::TempDir, Arc<dyn SearchEngine>) {
    let dir = tempfile::tempdir().unwrap();
    let e = EmbeddedEngine::open(&dir.path().join("index")).unwrap();
    (dir, Arc::new(e))
}

#[tokio::test]
async fn the_search_conformance_suite_passes_on_the_demands_index() {
    let (_dir, engine) = engine();
    ttx_search::conformance::run_conformance(engine, DEMANDS)
        .await
        .assert_ok();
}

/// The same suite on the `demands` index of a Meilisearch server, when `MEILI_URL` is set
/// (`MEILI_MASTER_KEY` too if it has one); a SKIP line otherwise.
#[tokio::test]
async fn the_search_conformance_suite_passes_on_the_demands_index_in_meilisearch() {
    let Some(url) = std::env::var("MEILI_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    else {
        println!("SKIP meilisearch conformance on the demands index: MEILI_URL not set");
        return;
    };
    let key = std::env::var("MEILI_MASTER_KEY").ok();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let prefix = format!("ttxtest_{}_{nanos}_", std::process::id());
    let meili = Arc::new(ttx_search::MeiliEngine::new(url, key, prefix).unwrap());
    assert!(
        meili.healthy().await,
        "meilisearch at MEILI_URL is not healthy"
    );
    let engine: Arc<dyn SearchEngine> = meili.clone();
    let report = ttx_search::conformance::run_conformance(engine, DEMANDS).await;
    println!("{}", report.summary());
    meili.drop_index(DEMANDS).await.unwrap();
    report.assert_ok();
}

fn params(f: impl FnOnce(&mut DemandSearchParams)) -> SearchQuery {
    let mut p = DemandSearchParams {
        limit: Some(100),
        facets: Some("field,modes,status,province,trl,tags".into()),
        ..Default::default()
    };
    f(&mut p);
    p.parse().expect("valid parameters").query
}

#[tokio::test]
async fn need_documents_follow_the_reference_semantics_of_filters_facets_and_sorts() {
    let today = ttx_demands::domain::today(Utc::now());
    let docs: Vec<SearchDoc> = demands(today)
        .iter()
        .map(|(d, c)| {
            to_search_doc(
                d,
                c.as_ref(),
                Some("星河新能源科技有限公司"),
                DemandStatus::Open,
            )
        })
        .collect();
    for d in &docs {
        if d.id % 4 == 0 {
            // i % 4 == 3: anonymous
            assert_eq!(d.org_name, None);
            assert_eq!(d.org_id, None);
        }
    }
    let (_dir, engine) = engine();
    engine.upsert(DEMANDS, docs.clone()).await.unwrap();

    let day = |n: i64| Some(today + Duration::days(n));
    let queries: Vec<(&str, SearchQuery)> = vec![
        ("all", params(|_| {})),
        (
            "field",
            params(|p| p.field = vec!["new_energy,environment".into()]),
        ),
        (
            "modes",
            params(|p| p.mode = vec!["license".into(), "service".into()]),
        ),
        ("region province", params(|p| p.region = Some("44".into()))),
        ("region city", params(|p| p.region = Some("4403".into()))),
        (
            "budget",
            params(|p| {
                p.budget_min = Some(40 * WAN);
                p.budget_max = Some(120 * WAN);
            }),
        ),
        (
            "budget with negotiable",
            params(|p| {
                p.budget_min = Some(40 * WAN);
                p.budget_max = Some(120 * WAN);
                p.include_negotiable = Some(true);
            }),
        ),
        ("budget floor", params(|p| p.budget_min = Some(300 * WAN))),
        (
            "deadline window",
            params(|p| {
                p.deadline_after = day(30);
                p.deadline_before = day(120);
            }),
        ),
        ("challenges", params(|p| p.challenge = Some(true))),
        (
            "research type",
            params(|p| p.research_type = Some("basic".into())),
        ),
        (
            "combined",
            params(|p| {
                p.field = vec!["new_energy".into(), "new_materials".into()];
                p.region = Some("440000".into());
                p.deadline_before = day(150);
            }),
        ),
    ];
    for (name, q) in &queries {
        let want: Vec<&SearchDoc> = docs.iter().filter(|d| q.filters.matches(d)).collect();
        let got = engine.search(DEMANDS, q).await.unwrap();
        let got_ids: BTreeSet<i64> = got.hits.iter().map(|h| h.id).collect();
        let want_ids: BTreeSet<i64> = want.iter().map(|d| d.id).collect();
        assert_eq!(got_ids, want_ids, "{name}");
        assert_eq!(got.total, want.len() as u64, "{name}");
        for f in &q.facets {
            let mut counts: BTreeMap<String, u64> = BTreeMap::new();
            for d in &want {
                for v in f.values(d) {
                    *counts.entry(v).or_default() += 1;
                }
            }
            let got_counts = got.facets.get(f.as_str()).cloned().unwrap_or_default();
            let got_counts: BTreeMap<String, u64> =
                got_counts.into_iter().filter(|(_, n)| *n > 0).collect();
            assert_eq!(got_counts, counts, "{name}: facet {}", f.as_str());
        }
    }
    assert!(queries
        .iter()
        .all(|(_, q)| q.facets.contains(&FacetField::Tags)));

    // Sorts without text follow the reference order exactly.
    for (sort, order) in [
        ("budget_asc", SortOrder::AmountAsc),
        ("budget_desc", SortOrder::AmountDesc),
        ("deadline", SortOrder::DeadlineAsc),
        ("newest", SortOrder::Newest),
    ] {
        let q = params(|p| p.sort = Some(sort.into()));
        let mut want = docs.clone();
        want.sort_by(|a, b| order.compare(a, b));
        let got = engine.search(DEMANDS, &q).await.unwrap();
        let got: Vec<i64> = got.hits.iter().map(|h| h.id).collect();
        assert_eq!(got, want.iter().map(|d| d.id).collect::<Vec<_>>(), "{sort}");
    }

    // Paging walks every match once.
    let mut seen = vec![];
    let mut cursor = None;
    loop {
        let q = params(|p| {
            p.sort = Some("deadline".into());
            p.limit = Some(7);
            p.cursor = cursor.clone();
        });
        let page = engine.search(DEMANDS, &q).await.unwrap();
        seen.extend(page.hits.iter().map(|h| h.id));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen.len(), docs.len());
    assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), docs.len());
}

async fn database() -> (tempfile::TempDir, DatabaseConnection) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    let db = Database::connect(&url).await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    (dir, db)
}

async fn org(db: &DatabaseConnection, name: &str, region: &str) -> (i64, i64) {
    use ttx_accounts::entity::{organization, user};
    let now = Utc::now();
    let o = organization::ActiveModel {
        kind: Set("enterprise".into()),
        name: Set(name.into()),
        credit_code: Set(None),
        region_code: Set(region.into()),
        verified: Set(false),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    let u = user::ActiveModel {
        org_id: Set(o.id),
        email: Set(format!("admin{}@firm.test", o.id)),
        display_name: Set("管理员".into()),
        password_hash: Set("x".into()),
        role: Set("org_admin".into()),
        active: Set(true),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    (o.id, u.id)
}

async fn insert(
    db: &DatabaseConnection,
    owner: (i64, i64),
    d: &DemandData,
    status: DemandStatus,
    terms: Option<&ChallengeTerms>,
) -> i64 {
    use ttx_demands::entity::{challenge, demand};
    let now = Utc::now();
    let mut am = demand::ActiveModel {
        owner_org_id: Set(owner.0),
        created_by: Set(owner.1),
        is_challenge: Set(terms.is_some()),
        status: Set(status.as_str().into()),
        close_reason: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        published_at: Set(Some(now)),
        closed_at: Set(None),
        ..Default::default()
    };
    ttx_demands::store::set_data(&mut am, d, d.region.unwrap());
    let row = am.insert(db).await.unwrap();
    if let Some(t) = terms {
        let mut cam = challenge::ActiveModel {
            demand_id: Set(row.id),
            accepted_count: Set(0),
            ..Default::default()
        };
        ttx_demands::store::set_terms(&mut cam, t);
        cam.insert(db).await.unwrap();
    }
    row.id
}

#[tokio::test]
async fn the_source_indexes_open_needs_without_anonymous_firms_and_reindexes() {
    let (_d, db) = database().await;
    let today = ttx_demands::domain::today(Utc::now());
    let firm = org(&db, "星河新能源科技有限公司", "320505").await;
    let base = data(0, today);
    let named = insert(&db, firm, &base, DemandStatus::Open, None).await;
    let anon = insert(
        &db,
        firm,
        &DemandData {
            anonymous: true,
            ..base.clone()
        },
        DemandStatus::Open,
        None,
    )
    .await;
    let terms = ChallengeTerms {
        bounty: Fen(300 * WAN),
        proposal_deadline: Utc::now() + Duration::days(3),
        eligible_kinds: vec![],
        eligible_regions: vec![],
        criteria: vec![],
        max_winners: 1,
    };
    let ch = insert(
        &db,
        firm,
        &DemandData {
            budget: None,
            ..base.clone()
        },
        DemandStatus::Open,
        Some(&terms),
    )
    .await;
    let draft = insert(&db, firm, &base, DemandStatus::Draft, None).await;
    let closed = insert(&db, firm, &base, DemandStatus::Closed, None).await;
    let past = insert(
        &db,
        firm,
        &DemandData {
            deadline: Some(today - Duration::days(1)),
            ..base.clone()
        },
        DemandStatus::Open,
        None,
    )
    .await;

    let source = DemandSource::new(db.clone());
    assert_eq!(source.count().await.unwrap(), 3);
    let loaded: BTreeMap<i64, Option<SearchDoc>> = source
        .load(&[named, anon, ch, draft, closed, past, 9999])
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert!(loaded[&draft].is_none() && loaded[&closed].is_none() && loaded[&past].is_none());
    assert!(loaded[&9999].is_none());
    let n = loaded[&named].clone().unwrap();
    assert_eq!(n.org_name.as_deref(), Some("星河新能源科技有限公司"));
    assert_eq!(n.org_id, Some(firm.0));
    let a = loaded[&anon].clone().unwrap();
    assert_eq!((a.org_name, a.org_id), (None, None));
    assert!(!serde_json::to_string(&loaded[&anon])
        .unwrap()
        .contains("星河"));
    let c = loaded[&ch].clone().unwrap();
    assert_eq!(
        (c.amount_min, c.amount_max),
        (Some(300 * WAN), Some(300 * WAN))
    );
    assert!(c.tags.contains(&"challenge".to_string()));
    let scanned: Vec<i64> = source
        .scan(None, 2)
        .await
        .unwrap()
        .iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(scanned, vec![named, anon]);
    let rest: Vec<i64> = source
        .scan(Some(anon), 10)
        .await
        .unwrap()
        .iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(rest, vec![ch]);

    // A reindex builds the index from the database.
    let (_i, engine) = engine();
    let report = ttx_search::reindex(&db, engine.as_ref(), &source, |_, _| {})
        .await
        .unwrap();
    assert_eq!(report.indexed, 3);
    let by_org = SearchQuery {
        filters: ttx_search::Filters {
            org_id: Some(firm.0),
            ..Default::default()
        },
        ..Default::default()
    };
    let ids: BTreeSet<i64> = engine
        .search(DEMANDS, &by_org)
        .await
        .unwrap()
        .hits
        .iter()
        .map(|h| h.id)
        .collect();
    assert_eq!(ids, BTreeSet::from([named, ch]));
    let by_name = engine
        .search(DEMANDS, &SearchQuery::text("星河新能源科技有限公司"))
        .await
        .unwrap();
    assert!(by_name.hits.iter().all(|h| h.id != anon));
}

#[tokio::test]
async fn the_expiry_job_records_expiry_once_with_its_event_and_index_update() {
    use ttx_demands::entity::demand;
    use ttx_notify::entity::{event, notification};
    let (_d, db) = database().await;
    let now = Utc::now();
    let today = ttx_demands::domain::today(now);
    let firm = org(&db, "星河新能源科技有限公司", "320505").await;
    let base = data(0, today);
    let due = insert(
        &db,
        firm,
        &DemandData {
            deadline: Some(today - Duration::days(1)),
            ..base.clone()
        },
        DemandStatus::Open,
        None,
    )
    .await;
    let today_is_last_day = insert(
        &db,
        firm,
        &DemandData {
            deadline: Some(today),
            ..base.clone()
        },
        DemandStatus::Open,
        None,
    )
    .await;
    let expire = ttx_demands::service::expiry::expire_due;
    assert_eq!(expire(&db, now).await.unwrap(), 1);
    assert_eq!(expire(&db, now).await.unwrap(), 0, "recorded once");
    let row = demand::Entity::find_by_id(due)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, "expired");
    assert_eq!(row.version, 2);
    let row = demand::Entity::find_by_id(today_is_last_day)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, "open");
    let events = event::Entity::find()
        .filter(event::Column::Kind.eq("demand.expired"))
        .all(&db)
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].subject_id, Some(due));
    assert_eq!(
        notification::Entity::find()
            .filter(notification::Column::UserId.eq(firm.1))
            .count(&db)
            .await
            .unwrap(),
        1
    );
    let outbox = ttx_search::outbox_lag(&db).await.unwrap();
    assert_eq!(outbox.pending, 1);
}
