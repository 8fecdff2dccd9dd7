//! The notification events of needs and proposals (`ttx-notify`), built here and emitted in
//! the transaction of the change. Each carries only what its addressee may see.
use crate::challenge::Decision;
use crate::store::{Demand, Proposal};
use serde_json::json;
use ttx_notify::events::{
    DEMAND_CLOSED, DEMAND_EXPIRED, DEMAND_PUBLISHED, PROPOSAL_ACCEPTED, PROPOSAL_DECLINED,
    PROPOSAL_SHORTLISTED, PROPOSAL_SUBMITTED,
};
use ttx_notify::NewEvent;

fn demand_data(d: &Demand) -> serde_json::Value {
    json!({
        "demand_id": d.id,
        "title": d.data.title,
        "is_challenge": d.is_challenge,
        "deadline": d.data.deadline,
    })
}

/// To the owner organisation: the need is open.
pub fn published(d: &Demand) -> NewEvent {
    NewEvent {
        kind: DEMAND_PUBLISHED,
        org_id: d.owner_org_id,
        subject_type: "demand",
        subject_id: Some(d.id),
        data: demand_data(d),
        title_zh: format!("需求「{}」已发布", d.data.title),
        title_en: format!("Need “{}” was published", d.data.title),
    }
}

/// To the owner organisation: the deadline passed.
pub fn expired(d: &Demand) -> NewEvent {
    NewEvent {
        kind: DEMAND_EXPIRED,
        org_id: d.owner_org_id,
        subject_type: "demand",
        subject_id: Some(d.id),
        data: demand_data(d),
        title_zh: format!("需求「{}」已过期", d.data.title),
        title_en: format!("Need “{}” has expired", d.data.title),
    }
}

/// To the owner organisation: the need was resolved or closed.
pub fn closed(d: &Demand, outcome: &str) -> NewEvent {
    let mut data = demand_data(d);
    data["outcome"] = json!(outcome);
    NewEvent {
        kind: DEMAND_CLOSED,
        org_id: d.owner_org_id,
        subject_type: "demand",
        subject_id: Some(d.id),
        data,
        title_zh: format!(
            "需求「{}」已{}",
            d.data.title,
            if outcome == "resolved" {
                "解决"
            } else {
                "关闭"
            }
        ),
        title_en: format!("Need “{}” was {outcome}", d.data.title),
    }
}

/// To the challenger: a proposal arrived.
pub fn proposal_submitted(d: &Demand, p: &Proposal, solver_name: &str) -> NewEvent {
    NewEvent {
        kind: PROPOSAL_SUBMITTED,
        org_id: d.owner_org_id,
        subject_type: "proposal",
        subject_id: Some(p.id),
        data: json!({
            "proposal_id": p.id,
            "challenge_id": d.id,
            "challenge_title": d.data.title,
            "solver_org_id": p.solver_org_id,
            "solver_name": solver_name,
            "price": p.price,
        }),
        title_zh: format!("揭榜挂帅「{}」收到{}的方案", d.data.title, solver_name),
        title_en: format!(
            "Challenge “{}” received a proposal from {solver_name}",
            d.data.title
        ),
    }
}

/// To a solver: the challenge has all its winners; this proposal was not selected.
pub fn proposal_not_selected(d: &Demand, p: &Proposal) -> NewEvent {
    NewEvent {
        kind: ttx_notify::events::PROPOSAL_NOT_SELECTED,
        org_id: p.solver_org_id,
        subject_type: "proposal",
        subject_id: Some(p.id),
        data: json!({
            "proposal_id": p.id,
            "challenge_id": d.id,
            "challenge_title": d.data.title,
            "status": p.status.as_str(),
        }),
        title_zh: format!("您对「{}」的揭榜方案未入选（已采纳其他方案）", d.data.title),
        title_en: format!(
            "Your proposal for “{}” was not selected (another was accepted)",
            d.data.title
        ),
    }
}

/// To the solver: the challenger shortlisted, accepted or declined its proposal.
pub fn proposal_decided(
    d: &Demand,
    p: &Proposal,
    decision: Decision,
    reason: Option<&str>,
) -> NewEvent {
    let (kind, zh, en) = match decision {
        Decision::Shortlist => (PROPOSAL_SHORTLISTED, "已入围", "was shortlisted"),
        Decision::Accept => (PROPOSAL_ACCEPTED, "已被采纳", "was accepted"),
        Decision::Decline => (PROPOSAL_DECLINED, "未被采纳", "was declined"),
    };
    let mut data = json!({
        "proposal_id": p.id,
        "challenge_id": d.id,
        "challenge_title": d.data.title,
        "status": p.status.as_str(),
    });
    if let Some(r) = reason {
        data["reason"] = json!(r);
    }
    if let Some(c) = p.contract {
        // The parties must know each other to sign, anonymous or not.
        data["contract"] = json!({
            "seller_org_id": c.seller_org_id,
            "buyer_org_id": c.buyer_org_id,
            "amount": c.amount,
        });
    }
    NewEvent {
        kind,
        org_id: p.solver_org_id,
        subject_type: "proposal",
        subject_id: Some(p.id),
        data,
        title_zh: format!("您对「{}」的揭榜方案{zh}", d.data.title),
        title_en: format!("Your proposal for “{}” {en}", d.data.title),
    }
}
