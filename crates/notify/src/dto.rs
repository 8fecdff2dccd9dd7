//! HTTP request/response types of notifications and their parsing.
use crate::entity::{attempt, event, notification, webhook};
use crate::events::{is_known, CATALOGUE};
use crate::service::{DeliveryRecord, InboxEntry, NewWebhook};
use crate::target::check_url;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ttx_core::FieldErrors;
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookCreate {
    /// `http` or `https` URL that receives the events as signed POSTs.
    pub url: String,
    /// Event kinds to receive (e.g. `proposal.submitted`); omitted or empty: all kinds.
    #[serde(default)]
    pub events: Vec<String>,
    pub description: Option<String>,
}

impl WebhookCreate {
    pub fn parse(self, allow_private: bool) -> Result<NewWebhook, FieldErrors> {
        let mut errs = FieldErrors::new();
        let url = match check_url(&self.url, allow_private) {
            Ok(u) => u,
            Err(e) => {
                errs.add("url", e.code(), e.to_string());
                String::new()
            }
        };
        let mut events: Vec<String> = vec![];
        for (i, k) in self.events.iter().enumerate() {
            let k = k.trim();
            if !is_known(k) {
                errs.add(
                    &format!("events[{i}]"),
                    "invalid_choice",
                    format!(
                        "must be one of: {}",
                        CATALOGUE
                            .iter()
                            .map(|(k, _, _)| *k)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            } else if !events.iter().any(|e| e == k) {
                events.push(k.to_string());
            }
        }
        let description = errs.opt_text("description", self.description.as_deref(), 200);
        errs.finish(NewWebhook {
            url,
            events,
            description,
        })
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WebhookView {
    pub id: i64,
    pub org_id: i64,
    pub url: String,
    /// Subscribed kinds; empty: all.
    pub events: Vec<String>,
    pub description: Option<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

impl From<webhook::Model> for WebhookView {
    fn from(h: webhook::Model) -> Self {
        WebhookView {
            id: h.id,
            org_id: h.org_id,
            url: h.url,
            events: serde_json::from_str(&h.events).unwrap_or_default(),
            description: h.description,
            active: h.active,
            created_at: h.created_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WebhookCreated {
    pub webhook: WebhookView,
    /// The signing secret. Shown once: keep it to verify `X-TTX-Signature`
    /// (`t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`).
    pub secret: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AttemptView {
    pub attempt: i32,
    pub attempted_at: DateTime<Utc>,
    /// HTTP status the receiver answered, if it answered.
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

impl From<attempt::Model> for AttemptView {
    fn from(a: attempt::Model) -> Self {
        AttemptView {
            attempt: a.attempt,
            attempted_at: a.attempted_at,
            status_code: a.status_code,
            error: a.error,
            duration_ms: a.duration_ms,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeliveryView {
    pub id: i64,
    /// The event id the receiver sees in `X-TTX-Event-Id`.
    pub event_id: String,
    pub event_type: String,
    /// pending | delivered | failed | cancelled
    pub status: String,
    pub attempts: i32,
    /// When the next attempt is due (pending deliveries).
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Every attempt, oldest first.
    pub log: Vec<AttemptView>,
}

impl From<DeliveryRecord> for DeliveryView {
    fn from(r: DeliveryRecord) -> Self {
        let d = r.delivery;
        let pending = d.status == crate::worker::PENDING;
        DeliveryView {
            id: d.id,
            event_id: r
                .event
                .as_ref()
                .map(|e| e.event_id.clone())
                .unwrap_or_default(),
            event_type: r.event.as_ref().map(|e| e.kind.clone()).unwrap_or_default(),
            status: d.status,
            attempts: d.attempts,
            next_attempt_at: pending.then_some(d.next_attempt_at),
            last_status_code: d.last_status_code,
            last_error: d.last_error,
            delivered_at: d.delivered_at,
            created_at: d.created_at,
            log: r.attempts.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PingResponse {
    pub event_id: String,
    pub delivery_id: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NotificationView {
    pub id: i64,
    /// Event kind, e.g. `proposal.accepted`.
    pub kind: String,
    pub title_zh: String,
    pub title_en: String,
    pub event_id: String,
    pub subject_type: String,
    pub subject_id: Option<i64>,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    pub read: bool,
    pub read_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<InboxEntry> for NotificationView {
    fn from(e: InboxEntry) -> Self {
        let n: notification::Model = e.notification;
        let ev: Option<event::Model> = e.event;
        NotificationView {
            id: n.id,
            kind: n.kind,
            title_zh: n.title_zh,
            title_en: n.title_en,
            event_id: ev.as_ref().map(|e| e.event_id.clone()).unwrap_or_default(),
            subject_type: ev
                .as_ref()
                .map(|e| e.subject_type.clone())
                .unwrap_or_default(),
            subject_id: ev.as_ref().and_then(|e| e.subject_id),
            data: ev
                .as_ref()
                .and_then(|e| serde_json::from_str(&e.payload).ok())
                .unwrap_or(serde_json::Value::Null),
            read: n.read_at.is_some(),
            read_at: n.read_at,
            created_at: n.created_at,
        }
    }
}

/// One page of the inbox.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct InboxPage {
    pub items: Vec<NotificationView>,
    pub next_cursor: Option<String>,
    /// Unread notifications in the whole inbox.
    pub unread_count: u64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReadAllResponse {
    /// Notifications marked read now.
    pub marked: u64,
}
