//! The push job: looks at the listings published or changed since its checkpoint, scores
//! them against every subscription, and records each new (subscription, listing) pairing in
//! `subscription_pushes` together with its notification, in one transaction per subscription.
//!
//! - A saved search is scored locally: the listing must pass the search's filters (the
//!   engines' reference semantics, [`ttx_search::Filters::matches`]), its text relevance is the
//!   share of the query's terms it contains ([`domain::coverage`]), and the other parts come
//!   from [`crate::score::score`] with the filters as the wanted profile.
//! - A followed need is scored by the matcher ([`crate::suggest::for_demand`]), exactly as
//!   `GET /v1/demands/{id}/matches` shows it to the firm; its candidates come from the search
//!   index, so the checkpoint never passes a listing change the index has not applied yet.
//! - Only published listings of other organisations, changed after the subscription was
//!   created, scoring at least `push_threshold`, are taken. The unique (subscription_id,
//!   listing_id) makes a pairing count once, even across runs, processes and crashes; at most
//!   `push_daily_cap` are delivered per subscription and Beijing date, the best first, and the
//!   rest are recorded as capped and never sent.
//! - `immediate` subscriptions get one `subscription.match` event per listing; `daily` ones
//!   have their pairings queued and, at the first run of a later Beijing date, sent together
//!   as one `subscription.digest` event.
//!
//! Every run is safe to repeat: tests call [`run_once`] directly with their own `now`.
use super::domain::{self, Delivery, Found, Kind};
use crate::entity::{subscription, subscription_job_state as job_state, subscription_push};
use crate::score;
use crate::suggest;
use crate::MatchingState;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use tokio::sync::watch;
use ttx_accounts::entity::organization;
use ttx_listings::domain::ListingStatus;
use ttx_listings::entity::listing;
use ttx_listings::store::Listing;
use ttx_notify::events::{SUBSCRIPTION_DIGEST, SUBSCRIPTION_MATCH};
use ttx_notify::NewEvent;
use ttx_search::Filters;
use ttx_web::ServiceResult;

/// The row of `subscription_job_state` this job keeps.
pub const JOB: &str = "listings";
/// Listings read per page.
const PAGE: u64 = 500;
/// A followed need's suggestions looked at per run.
const FOLLOW_LIMIT: usize = 100;

/// What a run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunReport {
    /// Published listings in the window.
    pub listings: usize,
    /// Notifications of single matches.
    pub sent: usize,
    /// Matches queued for a digest.
    pub queued: usize,
    /// Matches over a daily cap.
    pub capped: usize,
    /// Digests sent.
    pub digests: usize,
}

/// What a notification says of a listing.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub title: String,
    pub field: String,
    pub region_code: String,
    pub trl: i64,
    pub org_name: Option<String>,
    pub reason_zh: String,
    pub reason_en: String,
}

fn item(l: &Listing, org_name: Option<String>, s: &score::Scored) -> Item {
    Item {
        title: l.data.title.clone(),
        field: l.data.field.as_str().to_string(),
        region_code: l.region.as_string(),
        trl: i64::from(l.data.trl.level()),
        org_name,
        reason_zh: s.reason_zh.clone(),
        reason_en: s.reason_en.clone(),
    }
}

/// A subscription as the job reads it.
struct Sub {
    m: subscription::Model,
    kind: Kind,
    filters: Filters,
    terms: Vec<(String, f64)>,
    org: Option<organization::Model>,
}

/// Runs the job once at `now`: pushes new matches, then sends due digests.
pub async fn run_once(st: &MatchingState, now: DateTime<Utc>) -> ServiceResult<RunReport> {
    let db = &st.db;
    let mut report = RunReport::default();
    let subs_rows = subscription::Entity::find()
        .order_by_asc(subscription::Column::Id)
        .all(db)
        .await?;
    let checkpoint = job_state::Entity::find_by_id(JOB.to_string())
        .one(db)
        .await?
        .map(|r| r.checkpoint);
    let oldest_pending = oldest_pending_listing_change(db).await?;
    if !subs_rows.is_empty() {
        let oldest_sub = subs_rows.iter().map(|s| s.created_at).min();
        let (from, to) = domain::window(checkpoint, oldest_sub, now);
        let subs = load_subs(db, subs_rows).await?;
        push_window(st, &subs, from, to, now, &mut report).await?;
    }
    save_checkpoint(
        db,
        domain::next_checkpoint(checkpoint, now, oldest_pending),
        now,
    )
    .await?;
    report.digests = send_digests(db, now).await?;
    if report.sent > 0 || report.digests > 0 {
        ttx_notify::wake();
    }
    Ok(report)
}

/// Runs the job every `every` until `stop` changes.
pub async fn job_loop(st: MatchingState, every: Duration, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
        match run_once(&st, ttx_core::clock::now()).await {
            Ok(r) if r.sent + r.queued + r.digests > 0 => tracing::info!(
                sent = r.sent,
                queued = r.queued,
                capped = r.capped,
                digests = r.digests,
                "subscriptions: pushed new matches"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "subscriptions: the push job failed"),
        }
    }
}

async fn load_subs(
    db: &DatabaseConnection,
    rows: Vec<subscription::Model>,
) -> ServiceResult<Vec<Sub>> {
    let org_ids: Vec<i64> = rows.iter().map(|r| r.org_id).collect();
    let mut orgs: HashMap<i64, organization::Model> = HashMap::new();
    for chunk in org_ids.chunks(500) {
        for o in organization::Entity::find()
            .filter(organization::Column::Id.is_in(chunk.iter().copied()))
            .all(db)
            .await?
        {
            orgs.insert(o.id, o);
        }
    }
    Ok(rows
        .into_iter()
        .filter_map(|m| {
            let kind = Kind::from_code(&m.kind)?;
            let filters: Filters = serde_json::from_str(&m.filters).unwrap_or_default();
            let terms = m
                .query
                .as_deref()
                .map(domain::query_terms)
                .unwrap_or_default();
            let org = orgs.get(&m.org_id).cloned();
            Some(Sub {
                m,
                kind,
                filters,
                terms,
                org,
            })
        })
        .collect())
}

/// Scores the published listings changed in `(from, to]` against every subscription and
/// records what is new.
async fn push_window(
    st: &MatchingState,
    subs: &[Sub],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
    report: &mut RunReport,
) -> ServiceResult<()> {
    let db = &st.db;
    let today = ttx_core::clock::beijing_date(now);
    let mut found: HashMap<i64, Vec<Found<Item>>> = HashMap::new();
    let mut follows: HashMap<i64, HashMap<i64, score::Scored>> = HashMap::new();
    let mut after = 0i64;
    loop {
        let rows = listing::Entity::find()
            .filter(listing::Column::Status.eq(ListingStatus::Published.as_str()))
            .filter(listing::Column::UpdatedAt.gt(from))
            .filter(listing::Column::UpdatedAt.lte(to))
            .filter(listing::Column::Id.gt(after))
            .order_by_asc(listing::Column::Id)
            .limit(PAGE)
            .all(db)
            .await?;
        let Some(last) = rows.last() else { break };
        after = last.id;
        let mut listings = Vec::with_capacity(rows.len());
        for r in &rows {
            let l = ttx_listings::store::decode(r)?;
            let status = ttx_listings::domain::effective_status(l.status, l.data.expires_on, today);
            if status == ListingStatus::Published {
                listings.push(l);
            }
        }
        report.listings += listings.len();
        let orgs = ttx_listings::store::orgs(db, listings.iter().map(|l| l.owner_org_id)).await?;
        for sub in subs {
            let candidates: Vec<&Listing> = listings
                .iter()
                .filter(|l| l.owner_org_id != sub.m.org_id && l.updated_at >= sub.m.created_at)
                .collect();
            if candidates.is_empty() {
                continue;
            }
            let out = found.entry(sub.m.id).or_default();
            match sub.kind {
                Kind::Search => {
                    let need = domain::search_profile(
                        &sub.filters,
                        sub.org.as_ref().map_or("", |o| o.region_code.as_str()),
                    );
                    for l in candidates {
                        let doc =
                            ttx_listings::source::to_search_doc(l, None, ListingStatus::Published);
                        if !sub.filters.matches(&doc) {
                            continue;
                        }
                        let text = domain::coverage(&sub.terms, &suggest::listing_text(l));
                        let s = score::score(
                            &need,
                            &suggest::listing_profile(l),
                            text,
                            now.timestamp(),
                            &st.cfg.weights,
                        );
                        let org_name = orgs.get(&l.owner_org_id).map(|o| o.name.clone());
                        out.push(Found {
                            listing_id: l.id,
                            score: s.score,
                            item: item(l, org_name, &s),
                        });
                    }
                }
                Kind::Demand => {
                    let scored = match follows.entry(sub.m.id) {
                        std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                        std::collections::hash_map::Entry::Vacant(e) => {
                            e.insert(follow_scores(st, sub).await?)
                        }
                    };
                    for l in candidates {
                        if let Some(s) = scored.get(&l.id) {
                            let org_name = orgs.get(&l.owner_org_id).map(|o| o.name.clone());
                            out.push(Found {
                                listing_id: l.id,
                                score: s.score,
                                item: item(l, org_name, s),
                            });
                        }
                    }
                }
            }
        }
        if (rows.len() as u64) < PAGE {
            break;
        }
    }
    for sub in subs {
        let Some(f) = found.remove(&sub.m.id) else {
            continue;
        };
        if f.is_empty() {
            continue;
        }
        let (sent, queued, capped) = record(st, &sub.m, f, now).await?;
        report.sent += sent;
        report.queued += queued;
        report.capped += capped;
    }
    Ok(())
}

/// The matcher's suggestions for a followed need (by listing id), as its firm sees them; none
/// when the need is gone or no longer a draft or open.
async fn follow_scores(
    st: &MatchingState,
    sub: &Sub,
) -> ServiceResult<HashMap<i64, score::Scored>> {
    let (Some(demand_id), Some(_)) = (sub.m.demand_id, sub.org.as_ref()) else {
        return Ok(HashMap::new());
    };
    let Some(d) = ttx_demands::store::find(&st.db, demand_id).await? else {
        return Ok(HashMap::new());
    };
    let status =
        ttx_demands::domain::effective_status(d.status, d.data.deadline, ttx_core::clock::today());
    use ttx_demands::domain::DemandStatus;
    if d.owner_org_id != sub.m.org_id || !matches!(status, DemandStatus::Draft | DemandStatus::Open)
    {
        return Ok(HashMap::new());
    }
    // As the firm sees it on `GET /v1/demands/{id}/matches`: never its own listings.
    let exclude: HashSet<i64> = [d.owner_org_id].into_iter().collect();
    let scored = suggest::listings_for_need(
        st,
        &d,
        &sub.filters,
        FOLLOW_LIMIT,
        &exclude,
        ttx_core::clock::now(),
    )
    .await?;
    Ok(scored.into_iter().map(|(s, l)| (l.id, s)).collect())
}

fn listing_json(listing_id: i64, it: &Item) -> serde_json::Value {
    json!({
        "id": listing_id,
        "title": it.title,
        "field": it.field,
        "region_code": it.region_code,
        "trl": it.trl,
        "org_name": it.org_name,
    })
}

/// Records one subscription's matches of a run in one transaction (the subscription row
/// locked, so two runs at once count the cap and the pairings one after the other).
/// Returns (sent, queued, capped).
async fn record(
    st: &MatchingState,
    sub: &subscription::Model,
    found: Vec<Found<Item>>,
    now: DateTime<Utc>,
) -> ServiceResult<(usize, usize, usize)> {
    let today = ttx_core::clock::beijing_date(now);
    let txn = ttx_notify::begin_write(&st.db).await?;
    let Some(sub) = subscription::Entity::find_by_id(sub.id)
        .lock_exclusive()
        .one(&txn)
        .await?
    else {
        txn.commit().await?;
        return Ok((0, 0, 0));
    };
    let ids: Vec<i64> = found.iter().map(|f| f.listing_id).collect();
    let mut already: HashSet<i64> = HashSet::new();
    for chunk in ids.chunks(500) {
        let got: Vec<i64> = subscription_push::Entity::find()
            .select_only()
            .column(subscription_push::Column::ListingId)
            .filter(subscription_push::Column::SubscriptionId.eq(sub.id))
            .filter(subscription_push::Column::ListingId.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(&txn)
            .await?;
        already.extend(got);
    }
    let used_today = subscription_push::Entity::find()
        .filter(subscription_push::Column::SubscriptionId.eq(sub.id))
        .filter(subscription_push::Column::Day.eq(today))
        .filter(subscription_push::Column::Status.ne(domain::CAPPED))
        .count(&txn)
        .await?;
    let plan = domain::plan(
        found,
        &already,
        st.cfg.push_threshold,
        u32::try_from(used_today).unwrap_or(u32::MAX),
        st.cfg.push_daily_cap,
    );
    let delivery = Delivery::from_code(&sub.delivery).unwrap_or_default();
    let status = match delivery {
        Delivery::Immediate => domain::SENT,
        Delivery::Daily => domain::QUEUED,
    };
    let row = |f: &Found<Item>, status: &str| subscription_push::ActiveModel {
        subscription_id: Set(sub.id),
        listing_id: Set(f.listing_id),
        day: Set(today),
        score: Set(f.score),
        reason_zh: Set(f.item.reason_zh.chars().take(300).collect()),
        reason_en: Set(f.item.reason_en.chars().take(300).collect()),
        status: Set(status.to_string()),
        created_at: Set(now),
        sent_at: Set((status == domain::SENT).then_some(now)),
        ..Default::default()
    };
    for f in &plan.deliver {
        subscription_push::Entity::insert(row(f, status))
            .exec_without_returning(&txn)
            .await?;
        if delivery == Delivery::Immediate {
            ttx_notify::emit(
                &txn,
                NewEvent {
                    kind: SUBSCRIPTION_MATCH,
                    org_id: sub.org_id,
                    subject_type: "listing",
                    subject_id: Some(f.listing_id),
                    data: json!({
                        "subscription_id": sub.id,
                        "subscription_name": sub.name,
                        "listing": listing_json(f.listing_id, &f.item),
                        "score": f.score,
                        "reason_zh": f.item.reason_zh,
                        "reason_en": f.item.reason_en,
                    }),
                    title_zh: format!("订阅「{}」有新匹配成果：{}", sub.name, f.item.title),
                    title_en: format!(
                        "New match for subscription “{}”: {}",
                        sub.name, f.item.title
                    ),
                },
            )
            .await?;
        }
    }
    for f in &plan.capped {
        subscription_push::Entity::insert(row(f, domain::CAPPED))
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    let n = plan.deliver.len();
    Ok(match delivery {
        Delivery::Immediate => (n, 0, plan.capped.len()),
        Delivery::Daily => (0, n, plan.capped.len()),
    })
}

/// Sends, per daily subscription, one digest of the pairings queued on earlier Beijing dates.
async fn send_digests(db: &DatabaseConnection, now: DateTime<Utc>) -> ServiceResult<usize> {
    let today = ttx_core::clock::beijing_date(now);
    let due: Vec<i64> = subscription_push::Entity::find()
        .select_only()
        .column(subscription_push::Column::SubscriptionId)
        .distinct()
        .filter(subscription_push::Column::Status.eq(domain::QUEUED))
        .filter(subscription_push::Column::Day.lt(today))
        .into_tuple()
        .all(db)
        .await?;
    let mut sent = 0;
    for id in due {
        if digest(db, id, today, now).await? {
            sent += 1;
        }
    }
    Ok(sent)
}

async fn digest(
    db: &DatabaseConnection,
    id: i64,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> ServiceResult<bool> {
    let txn = ttx_notify::begin_write(db).await?;
    let Some(sub) = subscription::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&txn)
        .await?
    else {
        txn.commit().await?;
        return Ok(false);
    };
    let rows = subscription_push::Entity::find()
        .filter(subscription_push::Column::SubscriptionId.eq(id))
        .filter(subscription_push::Column::Status.eq(domain::QUEUED))
        .filter(subscription_push::Column::Day.lt(today))
        .order_by_desc(subscription_push::Column::Score)
        .order_by_asc(subscription_push::Column::ListingId)
        .all(&txn)
        .await?;
    if rows.is_empty() {
        txn.commit().await?;
        return Ok(false);
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.listing_id).collect();
    let listings: HashMap<i64, listing::Model> = ttx_listings::store::by_ids(&txn, &ids)
        .await?
        .into_iter()
        .map(|l| (l.id, l))
        .collect();
    let items: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            let l = listings.get(&r.listing_id);
            json!({
                "listing": {
                    "id": r.listing_id,
                    "title": l.map(|l| l.title.clone()),
                    "field": l.map(|l| l.field.clone()),
                    "region_code": l.map(|l| l.region_code.clone()),
                    "trl": l.map(|l| l.trl),
                },
                "day": r.day,
                "score": r.score,
                "reason_zh": r.reason_zh,
                "reason_en": r.reason_en,
            })
        })
        .collect();
    let n = rows.len();
    ttx_notify::emit(
        &txn,
        NewEvent {
            kind: SUBSCRIPTION_DIGEST,
            org_id: sub.org_id,
            subject_type: "subscription",
            subject_id: Some(sub.id),
            data: json!({
                "subscription_id": sub.id,
                "subscription_name": sub.name,
                "items": items,
            }),
            title_zh: format!("订阅「{}」每日摘要：{n} 项新匹配成果", sub.name),
            title_en: format!(
                "Daily digest of “{}”: {n} new matching listing{}",
                sub.name,
                if n == 1 { "" } else { "s" }
            ),
        },
    )
    .await?;
    let done = subscription_push::Entity::update_many()
        .col_expr(
            subscription_push::Column::Status,
            sea_orm::sea_query::Expr::value(domain::DIGESTED),
        )
        .col_expr(
            subscription_push::Column::SentAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(subscription_push::Column::Id.is_in(rows.iter().map(|r| r.id)))
        .filter(subscription_push::Column::Status.eq(domain::QUEUED))
        .exec(&txn)
        .await?
        .rows_affected;
    if done != n as u64 {
        // Another run sent (part of) them meanwhile: send nothing twice.
        txn.rollback().await?;
        return Ok(false);
    }
    txn.commit().await?;
    Ok(true)
}

/// When the oldest listing change the search index has not applied yet was made.
async fn oldest_pending_listing_change(
    db: &DatabaseConnection,
) -> Result<Option<DateTime<Utc>>, sea_orm::DbErr> {
    use ttx_search::outbox::entity as outbox;
    Ok(outbox::Entity::find()
        .filter(outbox::Column::IndexName.eq(ttx_search::LISTINGS))
        .filter(outbox::Column::ProcessedAt.is_null())
        .order_by_asc(outbox::Column::Id)
        .one(db)
        .await?
        .map(|r| r.created_at))
}

async fn save_checkpoint(
    db: &DatabaseConnection,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    job_state::Entity::insert(job_state::ActiveModel {
        name: Set(JOB.to_string()),
        checkpoint: Set(at),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(job_state::Column::Name)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    // Forward only: a slower run that started earlier never moves it back.
    job_state::Entity::update_many()
        .col_expr(
            job_state::Column::Checkpoint,
            sea_orm::sea_query::Expr::value(at),
        )
        .col_expr(
            job_state::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(job_state::Column::Name.eq(JOB))
        .filter(job_state::Column::Checkpoint.lt(at))
        .exec(db)
        .await?;
    Ok(())
}
