//! Keeps the public read cache ([`ttx_web::read_cache`]) fresh across processes.
//!
//! A write in this process drops its cached view at once. A write made by *another* process on
//! the same database (the scale-out setup, a `ttx import` run) is seen here by following what
//! every such write already leaves behind in the database:
//!
//! - each change to a listing or need commits a row to `search_outbox` (the search index's change
//!   log, kept a day after it is applied). The follower reads the rows past the last id it saw and
//!   drops the views they name;
//! - each change to an organisation bumps its `version`. Every view names its owner, so when the
//!   count or the sum of the versions moves, the follower drops every view.
//!
//! It polls every `read_cache.follow_ms` (1 s by default). A writer that takes longer than that
//! to commit leaves a gap in the ids: ids below the highest seen but not yet visible are asked for
//! again on each poll for [`GAP_WINDOW`], so a late commit is still followed. The cache's TTL stays
//! the bound for what this cannot see (a transaction open longer than the window, a follower that
//! cannot reach the database).
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use tokio::sync::watch;
use ttx_search::outbox::entity as outbox;

use crate::app::PublicReads;

/// How long an id below the highest one seen is waited for (a transaction still open).
pub const GAP_WINDOW: Duration = Duration::from_secs(30);
/// Gaps tracked at most; beyond (a burst of rolled-back writes), every view is dropped instead.
const MAX_GAPS: usize = 10_000;
/// Change-log rows read per query.
const BATCH: u64 = 5_000;

/// What one poll did (for tests and logs).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Followed {
    /// Views dropped one by one.
    pub dropped: usize,
    /// Every view was dropped (an organisation changed, or too many gaps).
    pub cleared: bool,
}

/// Follows the change log of one database for one process's caches.
pub struct Follower {
    db: DatabaseConnection,
    reads: PublicReads,
    /// The highest change-log id seen.
    last_id: i64,
    /// Ids below `last_id` not seen yet, with when they were first missed.
    gaps: BTreeMap<i64, Instant>,
    /// Organisations: (count, sum of versions) at the last poll.
    orgs: (i64, i64),
}

impl Follower {
    /// Starts following from now: what is already committed is what the caches will read.
    pub async fn start(db: DatabaseConnection, reads: PublicReads) -> Result<Follower, DbErr> {
        let last_id = outbox::Entity::find()
            .select_only()
            .column_as(Expr::col(outbox::Column::Id).max(), "m")
            .into_tuple::<Option<i64>>()
            .one(&db)
            .await?
            .flatten()
            .unwrap_or(0);
        let orgs = org_mark(&db).await?;
        Ok(Follower {
            db,
            reads,
            last_id,
            gaps: BTreeMap::new(),
            orgs,
        })
    }

    /// One poll: drops the views changed since the last one.
    pub async fn poll(&mut self) -> Result<Followed, DbErr> {
        let mut done = Followed::default();
        let orgs = org_mark(&self.db).await?;
        if orgs != self.orgs {
            self.orgs = orgs;
            self.reads.organisations_changed();
            done.cleared = true;
        }
        let now = Instant::now();
        self.gaps
            .retain(|_, since| now.duration_since(*since) < GAP_WINDOW);
        loop {
            let mut cond = Condition::any().add(outbox::Column::Id.gt(self.last_id));
            if !self.gaps.is_empty() {
                cond = cond.add(outbox::Column::Id.is_in(self.gaps.keys().copied()));
            }
            let rows: Vec<(i64, String, i64)> = outbox::Entity::find()
                .select_only()
                .column(outbox::Column::Id)
                .column(outbox::Column::IndexName)
                .column(outbox::Column::DocId)
                .filter(cond)
                .order_by_asc(outbox::Column::Id)
                .limit(BATCH)
                .into_tuple()
                .all(&self.db)
                .await?;
            let full = rows.len() as u64 == BATCH;
            for (id, index, doc) in rows {
                if id > self.last_id {
                    if id > self.last_id + 1 {
                        self.missed(self.last_id + 1..id, now, &mut done);
                    }
                    self.last_id = id;
                } else {
                    self.gaps.remove(&id);
                }
                if self.reads.changed(&index, doc) {
                    done.dropped += 1;
                }
            }
            if !full {
                return Ok(done);
            }
        }
    }

    /// Ids in `range` are not visible yet: a transaction still open, or one rolled back.
    fn missed(&mut self, range: std::ops::Range<i64>, now: Instant, done: &mut Followed) {
        let n = usize::try_from(range.end - range.start).unwrap_or(usize::MAX);
        if self.gaps.len().saturating_add(n) > MAX_GAPS {
            // Too many to wait for one by one: start afresh from here.
            self.gaps.clear();
            self.reads.organisations_changed();
            done.cleared = true;
            return;
        }
        for id in range {
            self.gaps.insert(id, now);
        }
    }
}

/// The organisations' (count, sum of versions): any committed change moves it.
async fn org_mark(db: &DatabaseConnection) -> Result<(i64, i64), DbErr> {
    use ttx_accounts::entity::organization as org;
    let (n, sum) = org::Entity::find()
        .select_only()
        .column_as(Expr::col(org::Column::Id).count(), "n")
        .column_as(Expr::col(org::Column::Version).sum().cast_as("bigint"), "v")
        .into_tuple::<(i64, Option<i64>)>()
        .one(db)
        .await?
        .unwrap_or((0, None));
    Ok((n, sum.unwrap_or(0)))
}

/// Polls every `every` until `stop`; a failed poll is logged and retried at the next tick.
pub async fn follow_loop(
    db: DatabaseConnection,
    reads: PublicReads,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut follower = loop {
        match Follower::start(db.clone(), reads.clone()).await {
            Ok(f) => break f,
            Err(e) => {
                tracing::warn!(error = %e, "read cache follower: cannot start; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(every.max(Duration::from_secs(1))) => {}
                    r = stop.changed() => if r.is_err() || *stop.borrow() { return },
                }
            }
        }
    };
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            r = stop.changed() => if r.is_err() || *stop.borrow() { return },
        }
        match follower.poll().await {
            Ok(f) if f.dropped > 0 || f.cleared => {
                tracing::debug!(
                    dropped = f.dropped,
                    cleared = f.cleared,
                    "read cache follower"
                )
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "read cache follower: poll failed"),
        }
    }
}
