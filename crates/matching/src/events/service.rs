//! Use cases of matchmaking events. The organiser organisation sees and changes everything
//! (its members with an organiser role); anyone else gets 404, except for the report of an
//! event that is over, which is public.
use super::command::{EntryTarget, NewEvent};
use super::domain::{self, Held, Outcome};
use super::dto::*;
use super::schedule::{self, Candidate};
use crate::entity::{
    matchmaking_entry as entry, matchmaking_event as event, matchmaking_pairing as pairing,
};
use crate::score;
use crate::suggest;
use crate::text;
use crate::MatchingConfig;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;
use std::collections::{BTreeSet, HashMap, HashSet};
use ttx_accounts::audit::{self, Target};
use ttx_accounts::Actor;
use ttx_demands::domain::{DemandStatus, Viewer};
use ttx_demands::store::Demand;
use ttx_listings::domain::ListingStatus;
use ttx_listings::store::Listing;
use ttx_web::{Cursor, ServiceError, ServiceResult};

pub const LISTING: &str = "listing";
pub const DEMAND: &str = "demand";

fn not_found() -> ServiceError {
    ServiceError::not_found("event")
}

fn today(now: DateTime<Utc>) -> NaiveDate {
    ttx_core::clock::beijing_date(now)
}

/// 403 unless the caller may organise events.
fn require_organiser(actor: &Actor) -> ServiceResult<()> {
    if domain::may_organise(actor.org_kind, actor.org_verified, actor.role) {
        return Ok(());
    }
    actor.require_verified()?;
    Err(ServiceError::forbidden(
        "events are organised by admins and brokers of verified agencies and admins and analysts of verified bureaus",
    ))
}

async fn org_ref<C: ConnectionTrait>(conn: &C, id: i64) -> Result<OrgRef, DbErr> {
    let name = ttx_listings::store::orgs(conn, [id])
        .await?
        .remove(&id)
        .map(|o| o.name)
        .unwrap_or_default();
    Ok(OrgRef { id, name })
}

/// The event, for a member of its organiser organisation (404 for anyone else).
async fn load_own<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: i64,
) -> ServiceResult<event::Model> {
    event::Entity::find_by_id(id)
        .one(conn)
        .await?
        .filter(|e| actor.belongs_to(e.organiser_org_id))
        .ok_or_else(not_found)
}

/// Creates an event organised by the caller's organisation.
pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    n: NewEvent,
) -> ServiceResult<EventView> {
    require_organiser(actor)?;
    let now = ttx_core::clock::now();
    let txn = ttx_notify::begin_write(db).await?;
    let m = event::ActiveModel {
        organiser_org_id: Set(actor.org_id),
        created_by: Set(actor.user_id),
        title: Set(n.title),
        description: Set(n.description),
        venue: Set(n.venue),
        event_date: Set(n.date),
        start_time: Set(n.start_time),
        slots: Set(n.slots),
        tables: Set(n.tables),
        slot_minutes: Set(n.slot_minutes),
        scheduled_at: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        &actor.audit(),
        "event.create",
        Target::new("event", m.id, Some(actor.org_id)),
        json!({"title": m.title, "date": m.event_date}),
    )
    .await?;
    let org = org_ref(&txn, actor.org_id).await?;
    txn.commit().await?;
    let mut v = EventView::build(m, org, today(now));
    v.entries = Some(vec![]);
    v.pairings = Some(vec![]);
    Ok(v)
}

/// The caller's organisation's events, oldest first, `limit + 1` rows.
pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    cursor: Option<Cursor>,
    limit: u64,
) -> ServiceResult<Vec<EventView>> {
    let mut q = event::Entity::find().filter(event::Column::OrganiserOrgId.eq(actor.org_id));
    if let Some(c) = cursor {
        q = q.filter(event::Column::Id.gt(c.id));
    }
    let rows = q
        .order_by_asc(event::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?;
    let org = org_ref(db, actor.org_id).await?;
    let t = today(ttx_core::clock::now());
    Ok(rows
        .into_iter()
        .map(|m| EventView::build(m, org.clone(), t))
        .collect())
}

/// Listings and needs by id (any state), for views and scheduling.
struct Items {
    listings: HashMap<i64, Listing>,
    demands: HashMap<i64, Demand>,
    orgs: HashMap<i64, String>,
}

async fn items<C: ConnectionTrait>(
    conn: &C,
    listing_ids: &[i64],
    demand_ids: &[i64],
) -> ServiceResult<Items> {
    let mut listings = HashMap::new();
    for r in ttx_listings::store::by_ids(conn, listing_ids).await? {
        let l = ttx_listings::store::decode(&r)?;
        listings.insert(l.id, l);
    }
    let mut demands = HashMap::new();
    for chunk in demand_ids.chunks(500) {
        use ttx_demands::entity::demand;
        for r in demand::Entity::find()
            .filter(demand::Column::Id.is_in(chunk.iter().copied()))
            .all(conn)
            .await?
        {
            let d = ttx_demands::store::decode(&r).map_err(ServiceError::internal)?;
            demands.insert(d.id, d);
        }
    }
    let org_ids: Vec<i64> = listings
        .values()
        .map(|l| l.owner_org_id)
        .chain(demands.values().map(|d| d.owner_org_id))
        .collect();
    let orgs = ttx_listings::store::orgs(conn, org_ids)
        .await?
        .into_iter()
        .map(|(id, o)| (id, o.name))
        .collect();
    Ok(Items {
        listings,
        demands,
        orgs,
    })
}

impl Items {
    fn org(&self, id: i64) -> Option<OrgRef> {
        self.orgs.get(&id).map(|n| OrgRef {
            id,
            name: n.clone(),
        })
    }

    fn listing_side(&self, id: i64) -> PairSide {
        let l = self.listings.get(&id);
        PairSide {
            id,
            title: l.map(|l| l.data.title.clone()),
            org: l.and_then(|l| self.org(l.owner_org_id)),
        }
    }

    /// A need's side; an anonymous firm stays anonymous to whoever may not see it.
    fn demand_side(&self, id: i64, viewer: &Viewer) -> PairSide {
        let d = self.demands.get(&id);
        PairSide {
            id,
            title: d.map(|d| d.data.title.clone()),
            org: d
                .filter(|d| {
                    ttx_demands::domain::shows_identity(d.data.anonymous, d.owner_org_id, viewer)
                })
                .and_then(|d| self.org(d.owner_org_id)),
        }
    }

    fn entry_view(&self, e: entry::Model, viewer: &Viewer, today: NaiveDate) -> EntryView {
        let (side, status, listing_id, demand_id) = if e.side == LISTING {
            let s = self.listings.get(&e.item_id).map(|l| {
                ttx_listings::domain::effective_status(l.status, l.data.expires_on, today)
                    .as_str()
                    .to_string()
            });
            (self.listing_side(e.item_id), s, Some(e.item_id), None)
        } else {
            let s = self.demands.get(&e.item_id).map(|d| {
                ttx_demands::domain::effective_status(d.status, d.data.deadline, today)
                    .as_str()
                    .to_string()
            });
            (
                self.demand_side(e.item_id, viewer),
                s,
                None,
                Some(e.item_id),
            )
        };
        EntryView {
            id: e.id,
            side: e.side,
            listing_id,
            demand_id,
            title: side.title,
            org: side.org,
            status,
            created_at: e.created_at,
        }
    }
}

async fn entries_of<C: ConnectionTrait>(
    conn: &C,
    event_id: i64,
) -> Result<Vec<entry::Model>, DbErr> {
    entry::Entity::find()
        .filter(entry::Column::EventId.eq(event_id))
        .order_by_asc(entry::Column::Id)
        .all(conn)
        .await
}

async fn pairings_of<C: ConnectionTrait>(
    conn: &C,
    event_id: i64,
) -> Result<Vec<pairing::Model>, DbErr> {
    pairing::Entity::find()
        .filter(pairing::Column::EventId.eq(event_id))
        .order_by_asc(pairing::Column::Slot)
        .order_by_asc(pairing::Column::TableNo)
        .all(conn)
        .await
}

fn pairing_views(
    e: &event::Model,
    rows: Vec<pairing::Model>,
    it: &Items,
    viewer: &Viewer,
) -> Vec<PairingView> {
    rows.into_iter()
        .map(|p| {
            let l = it.listing_side(p.listing_id);
            let d = it.demand_side(p.demand_id, viewer);
            PairingView::build(e, p, l, d)
        })
        .collect()
}

/// An event with its entries and schedule (its organiser organisation only).
pub async fn detail(db: &DatabaseConnection, actor: &Actor, id: i64) -> ServiceResult<EventView> {
    let e = load_own(db, actor, id).await?;
    let entries = entries_of(db, id).await?;
    let pairings = pairings_of(db, id).await?;
    let (lids, dids) = item_ids(&entries, &pairings);
    let it = items(db, &lids, &dids).await?;
    let viewer = ttx_demands::service::viewer_of(Some(actor));
    let t = today(ttx_core::clock::now());
    let org = org_ref(db, e.organiser_org_id).await?;
    let mut v = EventView::build(e.clone(), org, t);
    v.entries = Some(
        entries
            .into_iter()
            .map(|x| it.entry_view(x, &viewer, t))
            .collect(),
    );
    v.pairings = Some(pairing_views(&e, pairings, &it, &viewer));
    Ok(v)
}

fn item_ids(entries: &[entry::Model], pairings: &[pairing::Model]) -> (Vec<i64>, Vec<i64>) {
    let mut l: BTreeSet<i64> = pairings.iter().map(|p| p.listing_id).collect();
    let mut d: BTreeSet<i64> = pairings.iter().map(|p| p.demand_id).collect();
    for e in entries {
        if e.side == LISTING {
            l.insert(e.item_id);
        } else {
            d.insert(e.item_id);
        }
    }
    (l.into_iter().collect(), d.into_iter().collect())
}

/// Registers a published listing or an open need.
pub async fn add_entry(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    target: EntryTarget,
) -> ServiceResult<EntryView> {
    let now = ttx_core::clock::now();
    let t = today(now);
    let txn = ttx_notify::begin_write(db).await?;
    let e = load_own(&txn, actor, id).await?;
    require_organiser(actor)?;
    let (side, item_id, org_id) = match target {
        EntryTarget::Listing(lid) => {
            let l = ttx_listings::store::by_ids(&txn, &[lid])
                .await?
                .into_iter()
                .next()
                .map(|r| ttx_listings::store::decode(&r))
                .transpose()?
                .filter(|l| {
                    ttx_listings::domain::effective_status(l.status, l.data.expires_on, t)
                        == ListingStatus::Published
                })
                .ok_or_else(|| {
                    ServiceError::field(
                        "listing_id",
                        "not_published",
                        "no published listing has this id",
                    )
                })?;
            (LISTING, l.id, l.owner_org_id)
        }
        EntryTarget::Demand(did) => {
            let d = ttx_demands::store::find(&txn, did)
                .await?
                .filter(|d| {
                    ttx_demands::domain::effective_status(d.status, d.data.deadline, t)
                        == DemandStatus::Open
                })
                .ok_or_else(|| {
                    ServiceError::field("demand_id", "not_open", "no open need has this id")
                })?;
            (DEMAND, d.id, d.owner_org_id)
        }
    };
    let exists = entry::Entity::find()
        .filter(entry::Column::EventId.eq(e.id))
        .filter(entry::Column::Side.eq(side))
        .filter(entry::Column::ItemId.eq(item_id))
        .one(&txn)
        .await?
        .is_some();
    if exists {
        return Err(ServiceError::new(ttx_web::ErrorCode::AlreadyExists)
            .detail(format!("this {side} is already registered for the event")));
    }
    let m = entry::ActiveModel {
        event_id: Set(e.id),
        side: Set(side.to_string()),
        item_id: Set(item_id),
        org_id: Set(org_id),
        created_by: Set(actor.user_id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        &actor.audit(),
        "event.entry",
        Target::new("event", e.id, Some(e.organiser_org_id)),
        json!({"side": side, "item_id": item_id}),
    )
    .await?;
    let (l, d) = match target {
        EntryTarget::Listing(x) => (vec![x], vec![]),
        EntryTarget::Demand(x) => (vec![], vec![x]),
    };
    let it = items(&txn, &l, &d).await?;
    txn.commit().await?;
    let viewer = ttx_demands::service::viewer_of(Some(actor));
    Ok(it.entry_view(m, &viewer, t))
}

/// The candidates of an event: every registered listing still published with every
/// registered need still open of another organisation, scored with [`score::score`] (text
/// relevance: [`text::similarity`] of the two texts), at or above `min_score`.
fn candidates(
    it: &Items,
    entries: &[entry::Model],
    cfg: &MatchingConfig,
    now: DateTime<Utc>,
    min_score: f64,
) -> Vec<(Candidate, score::Scored)> {
    let t = today(now);
    let listings: Vec<&Listing> = entries
        .iter()
        .filter(|e| e.side == LISTING)
        .filter_map(|e| it.listings.get(&e.item_id))
        .filter(|l| {
            ttx_listings::domain::effective_status(l.status, l.data.expires_on, t)
                == ListingStatus::Published
        })
        .collect();
    let demands: Vec<&Demand> = entries
        .iter()
        .filter(|e| e.side == DEMAND)
        .filter_map(|e| it.demands.get(&e.item_id))
        .filter(|d| {
            ttx_demands::domain::effective_status(d.status, d.data.deadline, t)
                == DemandStatus::Open
        })
        .collect();
    let ltexts: Vec<_> = listings.iter().map(|l| suggest::listing_text(l)).collect();
    let lprofiles: Vec<_> = listings
        .iter()
        .map(|l| suggest::listing_profile(l))
        .collect();
    let mut out = vec![];
    for d in demands {
        let dt = suggest::demand_text(d);
        let need = suggest::need_profile(d);
        for (i, l) in listings.iter().enumerate() {
            if l.owner_org_id == d.owner_org_id {
                continue;
            }
            let rel = text::similarity(&dt, &ltexts[i]);
            let s = score::score(&need, &lprofiles[i], rel, now.timestamp(), &cfg.weights);
            if s.score < min_score {
                continue;
            }
            out.push((
                Candidate {
                    listing_id: l.id,
                    demand_id: d.id,
                    listing_org: l.owner_org_id,
                    demand_org: d.owner_org_id,
                    score: s.score,
                },
                s,
            ));
        }
    }
    out
}

/// Proposes (and stores) the pairing schedule; replaces an earlier proposal unless outcomes
/// were recorded against it.
pub async fn schedule(
    db: &DatabaseConnection,
    cfg: &MatchingConfig,
    actor: &Actor,
    id: i64,
    min_score: f64,
) -> ServiceResult<ScheduleView> {
    let now = ttx_core::clock::now();
    let txn = ttx_notify::begin_write(db).await?;
    let e = event::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .filter(|e| actor.belongs_to(e.organiser_org_id))
        .ok_or_else(not_found)?;
    require_organiser(actor)?;
    let old = pairings_of(&txn, id).await?;
    if old.iter().any(|p| p.outcome.is_some()) {
        return Err(ServiceError::invalid_state(
            "outcomes are recorded against the current schedule; it can no longer be replaced",
        ));
    }
    let entries = entries_of(&txn, id).await?;
    let (lids, dids) = item_ids(&entries, &[]);
    let it = items(&txn, &lids, &dids).await?;
    let cands = candidates(&it, &entries, cfg, now, min_score);
    let plain: Vec<Candidate> = cands.iter().map(|(c, _)| c.clone()).collect();
    let placed = schedule::assign(&plain, e.slots.max(0) as u32, e.tables.max(0) as u32);
    pairing::Entity::delete_many()
        .filter(pairing::Column::EventId.eq(id))
        .exec(&txn)
        .await?;
    let rows: Vec<pairing::ActiveModel> = placed
        .iter()
        .map(|(i, seat)| {
            let (c, s) = &cands[*i];
            pairing::ActiveModel {
                event_id: Set(id),
                slot: Set(seat.slot as i32),
                table_no: Set(seat.table as i32),
                listing_id: Set(c.listing_id),
                demand_id: Set(c.demand_id),
                listing_org_id: Set(c.listing_org),
                demand_org_id: Set(c.demand_org),
                score: Set(s.score),
                parts: Set(serde_json::to_string(&s.parts).expect("parts serialise")),
                reason_zh: Set(s.reason_zh.chars().take(300).collect()),
                reason_en: Set(s.reason_en.chars().take(300).collect()),
                outcome: Set(None),
                contract_id: Set(None),
                outcome_by: Set(None),
                outcome_at: Set(None),
                created_at: Set(now),
                ..Default::default()
            }
        })
        .collect();
    if !rows.is_empty() {
        pairing::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await?;
    }
    let mut am: event::ActiveModel = e.clone().into();
    am.scheduled_at = Set(Some(now));
    let e = am.update(&txn).await?;
    audit::record(
        &txn,
        &actor.audit(),
        "event.schedule",
        Target::new("event", id, Some(e.organiser_org_id)),
        json!({"candidates": cands.len(), "pairings": placed.len(), "min_score": min_score}),
    )
    .await?;
    let stored = pairings_of(&txn, id).await?;
    txn.commit().await?;
    let viewer = ttx_demands::service::viewer_of(Some(actor));
    Ok(ScheduleView {
        event_id: id,
        scheduled_at: now,
        candidates: cands.len() as u64,
        left_out: (cands.len() - placed.len()) as u64,
        pairings: pairing_views(&e, stored, &it, &viewer),
    })
}

/// Records what came of a pairing (met, intent, or signed with a contract of one of its two
/// organisations); a later call corrects it.
pub async fn record_outcome(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    pid: i64,
    outcome: Outcome,
    contract_id: Option<i64>,
) -> ServiceResult<PairingView> {
    let now = ttx_core::clock::now();
    let txn = ttx_notify::begin_write(db).await?;
    let e = load_own(&txn, actor, id).await?;
    require_organiser(actor)?;
    let p = pairing::Entity::find_by_id(pid)
        .lock_exclusive()
        .one(&txn)
        .await?
        .filter(|p| p.event_id == id)
        .ok_or_else(|| ServiceError::not_found("pairing"))?;
    if let Some(cid) = contract_id {
        use ttx_contracts::entity::contract;
        let c = contract::Entity::find_by_id(cid)
            .one(&txn)
            .await?
            .ok_or_else(|| {
                ServiceError::field("contract_id", "not_found", "no contract has this id")
            })?;
        let parties = [p.listing_org_id, p.demand_org_id];
        let involved = [c.seller_org_id, c.buyer_org_id]
            .iter()
            .flatten()
            .any(|o| parties.contains(o));
        if !involved {
            return Err(ServiceError::field(
                "contract_id",
                "not_a_party",
                "the contract's seller or buyer must be one of the pairing's organisations",
            ));
        }
    }
    let mut am: pairing::ActiveModel = p.clone().into();
    am.outcome = Set(Some(outcome.as_str().to_string()));
    am.contract_id = Set(contract_id);
    am.outcome_by = Set(Some(actor.user_id));
    am.outcome_at = Set(Some(now));
    let p = am.update(&txn).await?;
    audit::record(
        &txn,
        &actor.audit(),
        "event.outcome",
        Target::new("event", id, Some(e.organiser_org_id)),
        json!({"pairing_id": pid, "outcome": outcome.as_str(), "contract_id": contract_id}),
    )
    .await?;
    let it = items(&txn, &[p.listing_id], &[p.demand_id]).await?;
    txn.commit().await?;
    let viewer = ttx_demands::service::viewer_of(Some(actor));
    Ok(pairing_views(&e, vec![p], &it, &viewer).remove(0))
}

/// The event's figures: for its organiser at any time, for everybody once it is over.
pub async fn report(
    db: &DatabaseConnection,
    actor: Option<&Actor>,
    id: i64,
) -> ServiceResult<ReportView> {
    let e = event::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let organiser = actor.is_some_and(|a| a.belongs_to(e.organiser_org_id));
    let over = domain::is_over(e.event_date, today(ttx_core::clock::now()));
    if !domain::report_visible(organiser, over) {
        return Err(not_found());
    }
    let entries = entries_of(db, id).await?;
    let pairings = pairings_of(db, id).await?;
    let held: Vec<Held> = pairings
        .iter()
        .map(|p| Held {
            listing_id: p.listing_id,
            outcome: p.outcome.as_deref().and_then(Outcome::from_code),
            contract_id: p.contract_id,
        })
        .collect();
    let (tally, contracts) = domain::tally(&held);
    let figures = ledger_figures(db, &contracts).await?;
    let orgs: HashSet<i64> = entries.iter().map(|e| e.org_id).collect();
    Ok(ReportView {
        event_id: e.id,
        title: e.title,
        date: e.event_date,
        venue: e.venue,
        over,
        listings_registered: entries.iter().filter(|x| x.side == LISTING).count() as u64,
        needs_registered: entries.iter().filter(|x| x.side == DEMAND).count() as u64,
        organisations: orgs.len() as u64,
        tally,
        signed_contracts: contracts.len() as u64,
        registered_contracts: figures.iter().filter(|f| f.registered).count() as u64,
        contract_amount: figures.iter().map(|f| f.contract_amount).sum(),
        technology_amount: figures.iter().map(|f| f.technology_amount).sum(),
        contracts: organiser.then_some(figures),
    })
}

/// What the ledger holds for each contract: the sums of its entries' deltas.
async fn ledger_figures(
    db: &DatabaseConnection,
    contracts: &BTreeSet<i64>,
) -> ServiceResult<Vec<ContractFigure>> {
    use ttx_contracts::entity::ledger_entry as ledger;
    let mut by: HashMap<i64, ContractFigure> = contracts
        .iter()
        .map(|&c| {
            (
                c,
                ContractFigure {
                    contract_id: c,
                    registered: false,
                    contract_amount: 0,
                    technology_amount: 0,
                },
            )
        })
        .collect();
    let ids: Vec<i64> = contracts.iter().copied().collect();
    for chunk in ids.chunks(500) {
        for en in ledger::Entity::find()
            .filter(ledger::Column::ContractId.is_in(chunk.iter().copied()))
            .all(db)
            .await?
        {
            if let Some(f) = by.get_mut(&en.contract_id) {
                f.registered = true;
                f.contract_amount += en.contract_amount_delta;
                f.technology_amount += en.technology_amount_delta;
            }
        }
    }
    let mut out: Vec<ContractFigure> = by.into_values().collect();
    out.sort_by_key(|f| f.contract_id);
    Ok(out)
}
