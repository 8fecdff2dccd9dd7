//! Events and the transactional outbox: [`emit`] writes an event, its inbox rows and its
//! webhook deliveries with the caller's connection, so they commit (or roll back) together
//! with the change that caused them. The delivery worker sends them afterwards.
use crate::entity::{delivery, event, notification, webhook};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter,
};
use serde::Serialize;
use std::sync::OnceLock;
use tokio::sync::Notify;
use ttx_accounts::entity::user;

/// Every event kind, with zh / en labels. Webhooks subscribe to kinds from this list.
pub const CATALOGUE: &[(&str, &str, &str)] = &[
    (DEMAND_PUBLISHED, "需求已发布", "Need published"),
    (DEMAND_EXPIRED, "需求已过期", "Need expired"),
    (DEMAND_CLOSED, "需求已关闭", "Need closed"),
    (PROPOSAL_SUBMITTED, "收到揭榜方案", "Proposal received"),
    (PROPOSAL_SHORTLISTED, "方案已入围", "Proposal shortlisted"),
    (PROPOSAL_ACCEPTED, "方案已被采纳", "Proposal accepted"),
    (PROPOSAL_DECLINED, "方案未被采纳", "Proposal declined"),
    (
        PROPOSAL_NOT_SELECTED,
        "方案未入选（已采纳其他方案）",
        "Proposal not selected (another was accepted)",
    ),
    (CONTRACT_SUBMITTED, "合同已提交登记", "Contract submitted"),
    (
        CONTRACT_ACCEPTED,
        "合同已受理",
        "Contract accepted for review",
    ),
    (
        CONTRACT_RETURNED,
        "合同被退回补正",
        "Contract returned for correction",
    ),
    (CONTRACT_REGISTERED, "合同已登记", "Contract registered"),
    (CONTRACT_REFUSED, "合同不予登记", "Contract refused"),
    (
        CONTRACT_AMENDMENT_DECIDED,
        "合同变更申请已审核",
        "Contract amendment decided",
    ),
    (
        CONTRACT_TERMINATION_DECIDED,
        "合同终止申请已审核",
        "Contract termination decided",
    ),
    (
        CONTRACT_REVIEW_DUE_SOON,
        "合同审核期限临近",
        "Contract review deadline near",
    ),
    (
        SUBSCRIPTION_MATCH,
        "订阅有新匹配",
        "New match for a subscription",
    ),
    (
        SUBSCRIPTION_DIGEST,
        "订阅每日摘要",
        "Daily digest of a subscription",
    ),
    (MATCH_INTRODUCED, "经纪人引荐对接", "Match introduced"),
    (MATCH_ACCEPTED, "对方接受引荐", "Introduction accepted"),
    (MATCH_DECLINED, "引荐未被接受", "Introduction declined"),
    (MATCH_NEGOTIATING, "对接进入洽谈", "Match in negotiation"),
    (MATCH_SIGNED, "对接已签约", "Match signed"),
    (MATCH_CLOSED, "对接已关闭", "Match closed"),
    (ENQUIRY_RECEIVED, "收到合作意向咨询", "Enquiry received"),
    (ENQUIRY_MESSAGE, "咨询有新留言", "New message on an enquiry"),
    (ENQUIRY_ACCEPTED, "咨询已被接受", "Enquiry accepted"),
    (ENQUIRY_DECLINED, "咨询已被婉拒", "Enquiry declined"),
    (ENQUIRY_CLOSED, "咨询已关闭", "Enquiry closed"),
    (
        ENQUIRY_NDA_ACCEPTED,
        "对方已签署保密协议",
        "NDA accepted by the enquirer",
    ),
    (
        ENQUIRY_ACCESS_GRANTED,
        "已获准查看保密信息",
        "Access to confidential details granted",
    ),
    (WEBHOOK_PING, "Webhook 测试", "Webhook test ping"),
];

pub const DEMAND_PUBLISHED: &str = "demand.published";
pub const DEMAND_EXPIRED: &str = "demand.expired";
pub const DEMAND_CLOSED: &str = "demand.closed";
pub const PROPOSAL_SUBMITTED: &str = "proposal.submitted";
pub const PROPOSAL_SHORTLISTED: &str = "proposal.shortlisted";
pub const PROPOSAL_ACCEPTED: &str = "proposal.accepted";
pub const PROPOSAL_DECLINED: &str = "proposal.declined";
/// To a solver: another proposal to the same challenge was accepted; this one leaves `submitted`
/// / `shortlisted` for `not_selected`.
pub const PROPOSAL_NOT_SELECTED: &str = "proposal.not_selected";
/// Contracts (to the seller organisation and the registering station): submitted for registration.
pub const CONTRACT_SUBMITTED: &str = "contract.submitted";
/// Contracts: the station accepted the contract for review (the review deadline starts).
pub const CONTRACT_ACCEPTED: &str = "contract.accepted";
/// Contracts: returned for correction, with the reasons.
pub const CONTRACT_RETURNED: &str = "contract.returned";
/// Contracts: registered, with the registration number.
pub const CONTRACT_REGISTERED: &str = "contract.registered";
/// Contracts: refused, with the ground.
pub const CONTRACT_REFUSED: &str = "contract.refused";
/// Contracts: the station approved or rejected an amendment request.
pub const CONTRACT_AMENDMENT_DECIDED: &str = "contract.amendment_decided";
/// Contracts: the station approved or rejected a termination request.
pub const CONTRACT_TERMINATION_DECIDED: &str = "contract.termination_decided";
/// Contracts: the review deadline of an accepted contract is near (once per review round).
pub const CONTRACT_REVIEW_DUE_SOON: &str = "contract.review_due_soon";
/// A listing matching a saved search or a followed need (immediate delivery).
pub const SUBSCRIPTION_MATCH: &str = "subscription.match";
/// The day's matches of a subscription with daily delivery.
pub const SUBSCRIPTION_DIGEST: &str = "subscription.digest";
/// Broker pipeline (`ttx-matching`): a broker introduced a listing and a need to each other.
pub const MATCH_INTRODUCED: &str = "match.introduced";
/// Broker pipeline: one party accepted the introduction (to the other party and the agency).
pub const MATCH_ACCEPTED: &str = "match.accepted";
/// Broker pipeline: a party declined the introduction; the match is closed.
pub const MATCH_DECLINED: &str = "match.declined";
/// Broker pipeline: both parties accepted; the match is in negotiation.
pub const MATCH_NEGOTIATING: &str = "match.negotiating";
/// Broker pipeline: the match is signed, linked to a registered contract.
pub const MATCH_SIGNED: &str = "match.signed";
/// Broker pipeline: the match was closed with a reason.
pub const MATCH_CLOSED: &str = "match.closed";
/// Enquiries (`ttx-enquiries`), to the owner of the listing or need: an enquiry arrived.
pub const ENQUIRY_RECEIVED: &str = "enquiry.received";
/// Enquiries, to the other side: a message was posted in the thread.
pub const ENQUIRY_MESSAGE: &str = "enquiry.message";
/// Enquiries, to the sender: the owner accepted; the contact details are revealed to it.
pub const ENQUIRY_ACCEPTED: &str = "enquiry.accepted";
/// Enquiries, to the sender: the owner declined, with its reason.
pub const ENQUIRY_DECLINED: &str = "enquiry.declined";
/// Enquiries, to the other side: the enquiry was closed.
pub const ENQUIRY_CLOSED: &str = "enquiry.closed";
/// Enquiries, to the owner: the sender accepted the listing's NDA (a version of it).
pub const ENQUIRY_NDA_ACCEPTED: &str = "enquiry.nda_accepted";
/// Enquiries, to the sender: it may read the listing's confidential details.
pub const ENQUIRY_ACCESS_GRANTED: &str = "enquiry.access_granted";
/// A test event sent to one webhook only (never to the inbox).
pub const WEBHOOK_PING: &str = "webhook.ping";

/// Whether `kind` is in the [`CATALOGUE`].
pub fn is_known(kind: &str) -> bool {
    CATALOGUE.iter().any(|(k, _, _)| *k == kind)
}

/// An event to record.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// A kind from the [`CATALOGUE`].
    pub kind: &'static str,
    /// The organisation the event is addressed to: its members get an inbox entry, its
    /// webhooks a delivery.
    pub org_id: i64,
    pub subject_type: &'static str,
    pub subject_id: Option<i64>,
    /// The event's data, sent in the webhook body as `data`. Only what the addressee may see.
    pub data: serde_json::Value,
    /// Inbox line in Chinese and English.
    pub title_zh: String,
    pub title_en: String,
}

/// What [`emit`] recorded.
#[derive(Debug, Clone)]
pub struct Emitted {
    pub row_id: i64,
    /// The public event id (UUID).
    pub event_id: String,
    pub inbox_entries: usize,
    pub deliveries: usize,
}

fn wakeup() -> &'static Notify {
    static N: OnceLock<Notify> = OnceLock::new();
    N.get_or_init(Notify::new)
}

/// Wakes the delivery worker(s) of this process; call after committing a transaction that
/// emitted events (otherwise they go out at the next poll).
pub fn wake() {
    wakeup().notify_waiters();
}

pub(crate) async fn woken() {
    wakeup().notified().await
}

/// Whether a webhook subscribed to `kind` (an empty list means every kind).
pub fn subscribed(events_json: &str, kind: &str) -> bool {
    let kinds: Vec<String> = serde_json::from_str(events_json).unwrap_or_default();
    kinds.is_empty() || kinds.iter().any(|k| k == kind || k == "*")
}

async fn insert_event<C: ConnectionTrait>(
    conn: &C,
    ev: &NewEvent,
    now: DateTime<Utc>,
) -> Result<event::Model, DbErr> {
    event::ActiveModel {
        event_id: Set(uuid::Uuid::new_v4().to_string()),
        kind: Set(ev.kind.to_string()),
        org_id: Set(ev.org_id),
        subject_type: Set(ev.subject_type.to_string()),
        subject_id: Set(ev.subject_id),
        payload: Set(ev.data.to_string()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await
}

pub(crate) async fn insert_delivery<C: ConnectionTrait>(
    conn: &C,
    webhook_id: i64,
    event_row_id: i64,
    now: DateTime<Utc>,
) -> Result<delivery::Model, DbErr> {
    delivery::ActiveModel {
        webhook_id: Set(webhook_id),
        event_row_id: Set(event_row_id),
        status: Set(crate::worker::PENDING.into()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        lease_until: Set(None),
        last_status_code: Set(None),
        last_error: Set(None),
        delivered_at: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await
}

/// Records an event with the caller's connection (pass the transaction of the change):
/// the event row, an inbox entry for each active member of the addressed organisation, and a
/// pending delivery for each of its active webhooks subscribed to the kind.
pub async fn emit<C: ConnectionTrait>(conn: &C, ev: NewEvent) -> Result<Emitted, DbErr> {
    debug_assert!(is_known(ev.kind), "unknown event kind {}", ev.kind);
    let now = ttx_core::clock::now();
    let row = insert_event(conn, &ev, now).await?;
    let users = user::Entity::find()
        .filter(user::Column::OrgId.eq(ev.org_id))
        .filter(user::Column::Active.eq(true))
        .all(conn)
        .await?;
    let title_zh: String = ev.title_zh.chars().take(300).collect();
    let title_en: String = ev.title_en.chars().take(300).collect();
    if !users.is_empty() {
        let rows = users.iter().map(|u| notification::ActiveModel {
            user_id: Set(u.id),
            org_id: Set(ev.org_id),
            event_row_id: Set(row.id),
            kind: Set(ev.kind.to_string()),
            title_zh: Set(title_zh.clone()),
            title_en: Set(title_en.clone()),
            read_at: Set(None),
            created_at: Set(now),
            ..Default::default()
        });
        notification::Entity::insert_many(rows)
            .exec_without_returning(conn)
            .await?;
    }
    let hooks = webhook::Entity::find()
        .filter(webhook::Column::OrgId.eq(ev.org_id))
        .filter(webhook::Column::Active.eq(true))
        .all(conn)
        .await?;
    let mut deliveries = 0;
    for h in hooks.iter().filter(|h| subscribed(&h.events, ev.kind)) {
        insert_delivery(conn, h.id, row.id, now).await?;
        deliveries += 1;
    }
    metrics::counter!("ttx_notify_events_total", "kind" => ev.kind).increment(1);
    Ok(Emitted {
        row_id: row.id,
        event_id: row.event_id,
        inbox_entries: users.len(),
        deliveries,
    })
}

/// Records a `webhook.ping` event for one webhook (no inbox entries).
pub(crate) async fn emit_ping<C: ConnectionTrait>(
    conn: &C,
    hook: &webhook::Model,
    by_user: i64,
) -> Result<(event::Model, delivery::Model), DbErr> {
    let now = ttx_core::clock::now();
    let ev = NewEvent {
        kind: WEBHOOK_PING,
        org_id: hook.org_id,
        subject_type: "webhook",
        subject_id: Some(hook.id),
        data: serde_json::json!({"webhook_id": hook.id, "requested_by": by_user}),
        title_zh: String::new(),
        title_en: String::new(),
    };
    let row = insert_event(conn, &ev, now).await?;
    let d = insert_delivery(conn, hook.id, row.id, now).await?;
    Ok((row, d))
}

/// The JSON body a webhook receives for an event (the same bytes on every attempt).
#[derive(Debug, Serialize)]
pub struct WebhookBody<'a> {
    /// The event id (also in `X-TTX-Event-Id`).
    pub id: &'a str,
    #[serde(rename = "type")]
    pub kind: &'a str,
    pub created_at: String,
    pub org_id: i64,
    pub subject: Subject<'a>,
    pub data: serde_json::Value,
}

#[derive(Debug, Serialize)]
pub struct Subject<'a> {
    #[serde(rename = "type")]
    pub kind: &'a str,
    pub id: Option<i64>,
}

/// Serialises the webhook body of an event row.
pub fn webhook_body(ev: &event::Model) -> Vec<u8> {
    let body = WebhookBody {
        id: &ev.event_id,
        kind: &ev.kind,
        created_at: ev
            .created_at
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        org_id: ev.org_id,
        subject: Subject {
            kind: &ev.subject_type,
            id: ev.subject_id,
        },
        data: serde_json::from_str(&ev.payload).unwrap_or(serde_json::Value::Null),
    };
    serde_json::to_vec(&body).expect("webhook body serialises")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_and_subscriptions() {
        let mut seen = std::collections::HashSet::new();
        for (k, zh, en) in CATALOGUE {
            assert!(seen.insert(*k));
            assert!(!zh.is_empty() && !en.is_empty());
        }
        assert!(is_known("proposal.accepted"));
        assert!(!is_known("proposal.eaten"));
        assert!(subscribed("[]", "demand.published"));
        assert!(subscribed("[\"demand.published\"]", "demand.published"));
        assert!(!subscribed("[\"demand.published\"]", "proposal.accepted"));
    }

    #[test]
    fn body_is_stable() {
        let ev = event::Model {
            id: 1,
            event_id: "e-1".into(),
            kind: "proposal.accepted".into(),
            org_id: 7,
            subject_type: "proposal".into(),
            subject_id: Some(3),
            payload: "{\"b\":1,\"a\":2}".into(),
            created_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
        };
        let a = webhook_body(&ev);
        assert_eq!(a, webhook_body(&ev));
        let v: serde_json::Value = serde_json::from_slice(&a).unwrap();
        assert_eq!(v["id"], "e-1");
        assert_eq!(v["type"], "proposal.accepted");
        assert_eq!(v["subject"]["id"], 3);
        assert_eq!(v["data"]["a"], 2);
        assert_eq!(v["created_at"], "2023-11-14T22:13:20.000Z");
    }
}
