//! The webhook delivery worker.
//!
//! Due deliveries (`pending`, `next_attempt_at` passed, no live lease) are claimed one by one
//! with a conditional `UPDATE` that sets a lease and counts the attempt, so two workers (two
//! server instances) never send the same delivery at once. The claimed delivery is POSTed with
//! a timeout; the attempt is logged and the delivery marked `delivered` on a 2xx answer, or
//! rescheduled with exponential backoff (`failed` after `max_attempts`). Since the event rows
//! were committed with the change that caused them, a crash before sending loses nothing; a
//! crash after the receiver answered but before the result was recorded makes the delivery
//! go out again after the lease — receivers drop such repeats by `X-TTX-Event-Id`.
use crate::config::NotifyConfig;
use crate::entity::{attempt, delivery, event, webhook};
use crate::events::{webhook_body, woken};
use crate::signature::{self, sign};
use crate::target::is_private;
use futures::StreamExt;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub const PENDING: &str = "pending";
pub const DELIVERED: &str = "delivered";
pub const FAILED: &str = "failed";
pub const CANCELLED: &str = "cancelled";

/// The result of one HTTP attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The receiver answered 2xx.
    Delivered(u16),
    /// The receiver answered something else.
    Rejected(u16),
    /// No answer: connection refused, timeout, address not allowed...
    Error(String),
}

/// What to do with a delivery after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    Delivered,
    Retry(Duration),
    GiveUp,
}

/// The rule: a 2xx delivers; otherwise retry with backoff until `max_attempts` were made.
pub fn next_step(cfg: &NotifyConfig, outcome: &Outcome, attempts_made: i32) -> Next {
    match outcome {
        Outcome::Delivered(_) => Next::Delivered,
        _ if attempts_made >= cfg.max_attempts => Next::GiveUp,
        _ => Next::Retry(cfg.backoff(attempts_made)),
    }
}

/// Sends due webhook deliveries. See the module docs.
pub struct DeliveryWorker {
    db: DatabaseConnection,
    cfg: NotifyConfig,
    client: reqwest::Client,
}

impl DeliveryWorker {
    pub fn new(db: DatabaseConnection, cfg: NotifyConfig) -> DeliveryWorker {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(cfg.timeout_ms.max(100)))
            .connect_timeout(Duration::from_millis(cfg.timeout_ms.clamp(100, 10_000)))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("TTX-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("HTTP client builds");
        DeliveryWorker { db, cfg, client }
    }

    /// Claims and sends one batch of due deliveries; returns how many were attempted.
    pub async fn run_once(&self) -> Result<usize, DbErr> {
        let now = ttx_core::clock::now();
        let batch = (self.cfg.concurrency.max(1) * 4) as u64;
        let candidates = delivery::Entity::find()
            .filter(delivery::Column::Status.eq(PENDING))
            .filter(delivery::Column::NextAttemptAt.lte(now))
            .filter(
                Condition::any()
                    .add(delivery::Column::LeaseUntil.is_null())
                    .add(delivery::Column::LeaseUntil.lt(now)),
            )
            .order_by_asc(delivery::Column::NextAttemptAt)
            .order_by_asc(delivery::Column::Id)
            .limit(batch)
            .all(&self.db)
            .await?;
        let mut claimed = Vec::with_capacity(candidates.len());
        for d in candidates {
            if let Some(d) = self.claim(d).await? {
                claimed.push(d);
            }
        }
        let n = claimed.len();
        futures::stream::iter(claimed)
            .for_each_concurrent(self.cfg.concurrency.max(1), |d| async move {
                if let Err(e) = self.attempt(d).await {
                    tracing::warn!(error = %e, "webhook delivery: recording the attempt failed");
                }
            })
            .await;
        Ok(n)
    }

    /// Takes the lease of a delivery if nobody holds it; counts the attempt.
    async fn claim(&self, d: delivery::Model) -> Result<Option<delivery::Model>, DbErr> {
        use sea_orm::sea_query::ExprTrait as _;
        let now = ttx_core::clock::now();
        let lease_secs = i64::try_from(self.cfg.lease_secs).unwrap_or(60);
        let lease = now + chrono::Duration::seconds(Ord::max(lease_secs, 1));
        let res = delivery::Entity::update_many()
            .col_expr(delivery::Column::LeaseUntil, Expr::value(lease))
            .col_expr(
                delivery::Column::Attempts,
                Expr::col(delivery::Column::Attempts).add(1),
            )
            .filter(delivery::Column::Id.eq(d.id))
            .filter(delivery::Column::Status.eq(PENDING))
            .filter(delivery::Column::Attempts.eq(d.attempts))
            .filter(
                Condition::any()
                    .add(delivery::Column::LeaseUntil.is_null())
                    .add(delivery::Column::LeaseUntil.lt(now)),
            )
            .exec(&self.db)
            .await?;
        if res.rows_affected != 1 {
            return Ok(None);
        }
        Ok(Some(delivery::Model {
            attempts: d.attempts + 1,
            lease_until: Some(lease),
            ..d
        }))
    }

    async fn attempt(&self, d: delivery::Model) -> Result<(), DbErr> {
        let hook = webhook::Entity::find_by_id(d.webhook_id)
            .one(&self.db)
            .await?;
        let ev = event::Entity::find_by_id(d.event_row_id)
            .one(&self.db)
            .await?;
        let (Some(hook), Some(ev)) = (hook.filter(|h| h.active), ev) else {
            let mut am: delivery::ActiveModel = d.into();
            am.status = Set(CANCELLED.into());
            am.lease_until = Set(None);
            am.update(&self.db).await?;
            return Ok(());
        };
        let started = Instant::now();
        let outcome = self.send(&hook, &ev, &d).await;
        let elapsed = started.elapsed().as_millis() as i64;
        let step = next_step(&self.cfg, &outcome, d.attempts);
        let (code, error) = match &outcome {
            Outcome::Delivered(c) | Outcome::Rejected(c) => (Some(i32::from(*c)), None),
            Outcome::Error(e) => (None, Some(e.clone())),
        };
        let error = error.or_else(|| match &outcome {
            Outcome::Rejected(c) => Some(format!("receiver answered {c}")),
            _ => None,
        });
        metrics::counter!("ttx_webhook_attempts_total", "result" => match step {
            Next::Delivered => "delivered",
            Next::Retry(_) => "retry",
            Next::GiveUp => "failed",
        })
        .increment(1);
        let now = ttx_core::clock::now();
        let txn = crate::begin_write(&self.db).await?;
        attempt::ActiveModel {
            delivery_id: Set(d.id),
            attempt: Set(d.attempts),
            attempted_at: Set(now),
            status_code: Set(code),
            error: Set(error.clone()),
            duration_ms: Set(elapsed),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let mut am: delivery::ActiveModel = d.clone().into();
        am.lease_until = Set(None);
        am.last_status_code = Set(code);
        am.last_error = Set(error);
        match step {
            Next::Delivered => {
                am.status = Set(DELIVERED.into());
                am.delivered_at = Set(Some(now));
            }
            Next::Retry(after) => {
                am.next_attempt_at =
                    Set(now + chrono::Duration::from_std(after).unwrap_or_default());
            }
            Next::GiveUp => {
                am.status = Set(FAILED.into());
                tracing::warn!(
                    delivery = d.id,
                    webhook = hook.id,
                    "webhook delivery given up"
                );
            }
        }
        am.update(&txn).await?;
        txn.commit().await
    }

    async fn send(&self, hook: &webhook::Model, ev: &event::Model, d: &delivery::Model) -> Outcome {
        if !self.cfg.allow_private_urls {
            if let Err(e) = self.check_resolved(&hook.url).await {
                return Outcome::Error(e);
            }
        }
        let body = webhook_body(ev);
        let t = ttx_core::clock::now().timestamp();
        let res = self
            .client
            .post(&hook.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(signature::SIGNATURE_HEADER, sign(&hook.secret, t, &body))
            .header(signature::EVENT_ID_HEADER, &ev.event_id)
            .header(signature::EVENT_KIND_HEADER, &ev.kind)
            .header(signature::DELIVERY_HEADER, d.id.to_string())
            .header(signature::ATTEMPT_HEADER, d.attempts.to_string())
            .body(body)
            .send()
            .await;
        match res {
            Ok(r) if r.status().is_success() => Outcome::Delivered(r.status().as_u16()),
            Ok(r) => Outcome::Rejected(r.status().as_u16()),
            Err(e) if e.is_timeout() => Outcome::Error("timed out".into()),
            Err(e) if e.is_connect() => Outcome::Error("connection failed".into()),
            Err(e) => Outcome::Error(e.to_string().chars().take(500).collect()),
        }
    }

    /// Refuses hosts that resolve to loopback / private addresses (checked again at send time,
    /// since DNS may change after the webhook was registered).
    async fn check_resolved(&self, url: &str) -> Result<(), String> {
        let u = reqwest::Url::parse(url).map_err(|_| "invalid URL".to_string())?;
        let host = u.host_str().ok_or("no host")?.to_string();
        let port = u.port_or_known_default().unwrap_or(443);
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let addrs = tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|_| "the host does not resolve".to_string())?;
        for a in addrs {
            if is_private(a.ip()) {
                return Err("the host resolves to a private address".into());
            }
        }
        Ok(())
    }

    /// Runs until `shutdown` becomes true (or its sender is dropped).
    pub fn spawn(self, mut shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
        ttx_core::clock::spawn(async move {
            let poll = Duration::from_millis(self.cfg.poll_interval_ms.max(10));
            loop {
                if *shutdown.borrow() {
                    break;
                }
                match self.run_once().await {
                    Ok(n) if n > 0 => continue,
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "webhook delivery: batch failed"),
                }
                tokio::select! {
                    _ = woken() => {}
                    _ = tokio::time::sleep(poll) => {}
                    changed = shutdown.changed() => {
                        if changed.is_err() {
                            break;
                        }
                    }
                }
            }
            tracing::debug!("webhook delivery worker stopped");
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps() {
        let cfg = NotifyConfig {
            max_attempts: 3,
            retry_base_ms: 1000,
            ..Default::default()
        };
        assert_eq!(
            next_step(&cfg, &Outcome::Delivered(204), 3),
            Next::Delivered
        );
        assert_eq!(
            next_step(&cfg, &Outcome::Rejected(500), 1),
            Next::Retry(Duration::from_secs(1))
        );
        assert_eq!(
            next_step(&cfg, &Outcome::Error("x".into()), 2),
            Next::Retry(Duration::from_secs(2))
        );
        assert_eq!(next_step(&cfg, &Outcome::Rejected(410), 3), Next::GiveUp);
    }
}
