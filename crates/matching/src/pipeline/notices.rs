//! The notification events of the pipeline (`ttx-notify`), emitted in the transaction of the
//! step. Each carries only what its addressee may see: the listing's side learns an anonymous
//! firm's name only once the firm accepted the introduction.
use super::domain::{self, MatchAction, Side};
use super::view::Names;
use crate::entity::matches;
use serde_json::json;
use ttx_notify::events::{
    MATCH_ACCEPTED, MATCH_CLOSED, MATCH_DECLINED, MATCH_INTRODUCED, MATCH_NEGOTIATING, MATCH_SIGNED,
};
use ttx_notify::NewEvent;

/// Who an event is addressed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Addressee {
    Party(Side),
    Agency,
}

/// The event kind of a step.
pub fn kind_of(action: MatchAction, negotiating: bool) -> &'static str {
    match action {
        MatchAction::Introduce => MATCH_INTRODUCED,
        MatchAction::Accept if negotiating => MATCH_NEGOTIATING,
        MatchAction::Accept => MATCH_ACCEPTED,
        MatchAction::Decline => MATCH_DECLINED,
        MatchAction::Sign => MATCH_SIGNED,
        MatchAction::Negotiate => MATCH_NEGOTIATING,
        MatchAction::Close | MatchAction::Open => MATCH_CLOSED,
    }
}

fn titles(kind: &str, to: Addressee, listing: &str, demand: &str) -> (String, String) {
    let pair_zh = format!("成果「{listing}」与需求「{demand}」");
    let pair_en = format!("listing “{listing}” and need “{demand}”");
    match (kind, to) {
        (MATCH_INTRODUCED, Addressee::Party(Side::Listing)) => (
            format!("技术经纪人为您的成果「{listing}」引荐了需求「{demand}」，请答复"),
            format!("A broker introduced the need “{demand}” to your listing “{listing}”: please answer"),
        ),
        (MATCH_INTRODUCED, _) => (
            format!("技术经纪人为您的需求「{demand}」引荐了成果「{listing}」，请答复"),
            format!("A broker introduced the listing “{listing}” to your need “{demand}”: please answer"),
        ),
        (MATCH_ACCEPTED, _) => (
            format!("对方已接受引荐：{pair_zh}"),
            format!("The other party accepted the introduction of {pair_en}"),
        ),
        (MATCH_DECLINED, _) => (
            format!("引荐未被接受，对接已关闭：{pair_zh}"),
            format!("The introduction of {pair_en} was declined; the match is closed"),
        ),
        (MATCH_NEGOTIATING, _) => (
            format!("双方已接受引荐，进入洽谈：{pair_zh}"),
            format!("Both parties accepted: {pair_en} are in negotiation"),
        ),
        (MATCH_SIGNED, _) => (
            format!("对接已签约：{pair_zh}"),
            format!("The match of {pair_en} is signed"),
        ),
        _ => (
            format!("对接已关闭：{pair_zh}"),
            format!("The match of {pair_en} was closed"),
        ),
    }
}

/// The event of a step for one addressee; `m` is the match after the step.
pub fn event(
    kind: &'static str,
    to: Addressee,
    m: &matches::Model,
    names: &Names,
    actor_side: &str,
) -> NewEvent {
    let listing_title = names.listing_title(m.listing_id);
    let demand = names.demand(m.demand_id);
    let firm_named = match to {
        Addressee::Party(Side::Listing) => domain::firm_named_to_listing_side(
            demand.anonymous,
            m.demand_response
                .parse()
                .unwrap_or(domain::Response::Pending),
        ),
        _ => true,
    };
    let org = |id: i64| {
        let o = names.org(id);
        json!({"id": o.id, "name": o.name, "kind": o.kind})
    };
    let mut data = json!({
        "match_id": m.id,
        "stage": m.stage,
        "by": actor_side,
        "responses": {"listing": m.listing_response, "demand": m.demand_response},
        "listing": {"id": m.listing_id, "title": listing_title, "org": org(m.listing_org_id)},
        "demand": {
            "id": m.demand_id,
            "title": demand.title,
            "anonymous": demand.anonymous,
            "org": if firm_named { org(m.demand_org_id) } else { serde_json::Value::Null },
        },
        "broker": {
            "user_id": m.broker_user_id,
            "name": names.users.get(&m.broker_user_id).cloned().unwrap_or_default(),
            "agency": org(m.agency_org_id),
        },
    });
    if let Some(r) = &m.close_reason {
        data["close_reason"] = json!(r);
    }
    if let Some(c) = m.contract_id {
        data["contract_id"] = json!(c);
    }
    let org_id = match to {
        Addressee::Party(Side::Listing) => m.listing_org_id,
        Addressee::Party(Side::Demand) => m.demand_org_id,
        Addressee::Agency => m.agency_org_id,
    };
    let (title_zh, title_en) = titles(kind, to, &listing_title, &demand.title);
    NewEvent {
        kind,
        org_id,
        subject_type: "match",
        subject_id: Some(m.id),
        data,
        title_zh,
        title_en,
    }
}
