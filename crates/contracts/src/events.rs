//! The notification events of contracts (`ttx-notify`), built here and emitted in the
//! transaction of the change (the outbox): each goes to the seller organisation's members and
//! webhooks, and to the registering station's. Both may read the whole contract, so both get
//! the same data.
use crate::entity::{amendment, contract};
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};
use ttx_core::labels::Labelled;
use ttx_notify::events::{
    CONTRACT_ACCEPTED, CONTRACT_AMENDMENT_DECIDED, CONTRACT_REFUSED, CONTRACT_REGISTERED,
    CONTRACT_RETURNED, CONTRACT_REVIEW_DUE_SOON, CONTRACT_SUBMITTED, CONTRACT_TERMINATION_DECIDED,
};
use ttx_notify::NewEvent;
use ttx_web::ServiceError;

/// What happened to a contract.
#[derive(Debug, Clone)]
pub enum ContractEvent<'a> {
    Submitted,
    Accepted,
    Returned {
        reasons: &'a [String],
    },
    Registered,
    Refused {
        ground: &'a str,
        text: Option<&'a str>,
    },
    AmendmentDecided {
        a: &'a amendment::Model,
        approved: bool,
    },
    ReviewDueSoon,
}

fn base(m: &contract::Model) -> Value {
    json!({
        "contract_id": m.id,
        "title": m.title,
        "status": m.status,
        "round": m.round,
        "seller_org_id": m.seller_org_id,
        "station_id": m.station_id,
    })
}

/// The kind, data and inbox lines of an event (pure).
pub fn describe(m: &contract::Model, ev: &ContractEvent) -> (&'static str, Value, String, String) {
    let mut data = base(m);
    let t = &m.title;
    match ev {
        ContractEvent::Submitted => (
            CONTRACT_SUBMITTED,
            data,
            format!("合同「{t}」已提交登记（第 {} 轮）", m.round),
            format!(
                "Contract “{t}” was submitted for registration (round {})",
                m.round
            ),
        ),
        ContractEvent::Accepted => {
            data["review_due_on"] = json!(m.review_due_on);
            (
                CONTRACT_ACCEPTED,
                data,
                format!("合同「{t}」已受理"),
                format!("Contract “{t}” was accepted for review"),
            )
        }
        ContractEvent::Returned { reasons } => {
            data["reasons"] = json!(reasons);
            (
                CONTRACT_RETURNED,
                data,
                format!("合同「{t}」被退回补正：{}", reasons.join("；")),
                format!(
                    "Contract “{t}” was returned for correction: {}",
                    reasons.join("; ")
                ),
            )
        }
        ContractEvent::Registered => {
            let n = m.registration_number.clone().unwrap_or_default();
            data["registration_number"] = json!(n);
            data["registered_on"] = json!(m.registered_on);
            data["technology_amount"] = json!(m.technology_amount);
            (
                CONTRACT_REGISTERED,
                data,
                format!("合同「{t}」已登记，登记编号 {n}"),
                format!("Contract “{t}” was registered as {n}"),
            )
        }
        ContractEvent::Refused { ground, text } => {
            data["refusal_ground"] = json!(ground);
            data["refusal_text"] = json!(text);
            let label: (&str, &str) = ground
                .parse::<crate::domain::RefusalGround>()
                .map(|g| (g.zh(), g.en()))
                .unwrap_or((ground, ground));
            (
                CONTRACT_REFUSED,
                data,
                format!("合同「{t}」不予登记：{}", label.0),
                format!("Contract “{t}” was refused: {}", label.1),
            )
        }
        ContractEvent::AmendmentDecided { a, approved } => {
            data["amendment_id"] = json!(a.id);
            data["approved"] = json!(approved);
            data["decision_note"] = json!(a.decision_note);
            let termination = a.kind == "termination";
            let (kind, zh, en) = if termination {
                (
                    CONTRACT_TERMINATION_DECIDED,
                    "终止申请",
                    "termination request",
                )
            } else {
                (CONTRACT_AMENDMENT_DECIDED, "变更申请", "amendment request")
            };
            let (vzh, ven) = if *approved {
                ("已核准", "was approved")
            } else {
                ("已驳回", "was rejected")
            };
            (
                kind,
                data,
                format!("合同「{t}」的{zh}{vzh}"),
                format!("The {en} of contract “{t}” {ven}"),
            )
        }
        ContractEvent::ReviewDueSoon => {
            data["review_due_on"] = json!(m.review_due_on);
            let due = m.review_due_on.map(|d| d.to_string()).unwrap_or_default();
            (
                CONTRACT_REVIEW_DUE_SOON,
                data,
                format!("合同「{t}」的审核期限 {due} 临近"),
                format!("The review of contract “{t}” is due on {due}"),
            )
        }
    }
}

/// The events to record: one for the seller organisation (when it is on TTX) and one for the
/// registering station (when there is one).
pub fn events_for(m: &contract::Model, ev: &ContractEvent) -> Vec<NewEvent> {
    let (kind, data, zh, en) = describe(m, ev);
    let mut orgs: Vec<i64> = m.seller_org_id.into_iter().collect();
    if let Some(s) = m.station_id.filter(|s| Some(*s) != m.seller_org_id) {
        orgs.push(s);
    }
    orgs.into_iter()
        .map(|org_id| NewEvent {
            kind,
            org_id,
            subject_type: "contract",
            subject_id: Some(m.id),
            data: data.clone(),
            title_zh: zh.clone(),
            title_en: en.clone(),
        })
        .collect()
}

/// Records the events of `ev` with the caller's transaction.
pub async fn emit<C: ConnectionTrait>(
    conn: &C,
    m: &contract::Model,
    ev: ContractEvent<'_>,
) -> Result<(), ServiceError> {
    for e in events_for(m, &ev) {
        ttx_notify::emit(conn, e).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> contract::Model {
        let now = ttx_core::clock::now();
        contract::Model {
            id: 7,
            title: "锂电池技术开发".into(),
            kind: "development".into(),
            sub_kind: "entrusted_development".into(),
            status: "registered".into(),
            seller_org_id: Some(3),
            seller_name: "大学".into(),
            seller_credit_code: None,
            seller_region: "110108".into(),
            seller_entity_kind: "university".into(),
            buyer_org_id: Some(4),
            buyer_name: "企业".into(),
            buyer_credit_code: None,
            buyer_region: "320505".into(),
            buyer_entity_kind: "enterprise".into(),
            other_parties: "[]".into(),
            contract_amount: 100,
            non_technical_costs: 0,
            technology_amount: 100,
            payment_plan: "[]".into(),
            signed_on: chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
            term_start: None,
            term_end: None,
            tech_field: "new_energy".into(),
            ip_kind: None,
            programme_source: None,
            researcher_reward_bp: None,
            listing_id: None,
            demand_id: None,
            proposal_id: None,
            match_id: None,
            documents: "[]".into(),
            fingerprint: String::new(),
            party_key: String::new(),
            registered_fingerprint: None,
            station_id: Some(9),
            round: 1,
            submitted_at: None,
            submitted_by: None,
            accepted_at: None,
            accepted_by: None,
            review_due_on: None,
            decided_at: None,
            decided_by: None,
            registration_number: Some("110000202600000001".into()),
            registered_on: None,
            recognised_kind: None,
            recognised_sub_kind: None,
            refusal_ground: None,
            refusal_text: None,
            return_reasons: None,
            terminated_on: None,
            imported: false,
            created_by: 1,
            version: 1,
            created_at: now,
            updated_at: now,
            review_reminded_round: None,
        }
    }

    #[test]
    fn seller_and_station_each_get_one() {
        let m = model();
        let evs = events_for(&m, &ContractEvent::Registered);
        assert_eq!(evs.iter().map(|e| e.org_id).collect::<Vec<_>>(), vec![3, 9]);
        assert!(evs.iter().all(|e| e.kind == CONTRACT_REGISTERED));
        assert_eq!(evs[0].data["registration_number"], "110000202600000001");
        assert!(evs[0].title_zh.contains("110000202600000001"));
        // An outside seller (imported history) only notifies the station.
        let outside = contract::Model {
            seller_org_id: None,
            ..model()
        };
        assert_eq!(events_for(&outside, &ContractEvent::Submitted).len(), 1);
    }

    #[test]
    fn reasons_and_grounds_are_carried() {
        let m = model();
        let reasons = vec!["缺少附件".to_string(), "金额不符".to_string()];
        let (kind, data, zh, _) = describe(&m, &ContractEvent::Returned { reasons: &reasons });
        assert_eq!(kind, CONTRACT_RETURNED);
        assert_eq!(data["reasons"][1], "金额不符");
        assert!(zh.contains("缺少附件"));
        let (kind, data, zh, _) = describe(
            &m,
            &ContractEvent::Refused {
                ground: "duplicate",
                text: None,
            },
        );
        assert_eq!(kind, CONTRACT_REFUSED);
        assert_eq!(data["refusal_ground"], "duplicate");
        assert!(zh.contains("重复登记"));
        for k in [
            CONTRACT_SUBMITTED,
            CONTRACT_ACCEPTED,
            CONTRACT_AMENDMENT_DECIDED,
            CONTRACT_TERMINATION_DECIDED,
            CONTRACT_REVIEW_DUE_SOON,
        ] {
            assert!(ttx_notify::events::is_known(k));
        }
    }
}
