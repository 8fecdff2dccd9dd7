//! A contract draft prefilled from an accepted proposal (揭榜挂帅): the solver is the seller
//! (the developer), the challenger the buyer, the title the challenge's, the amount the bid,
//! and the links name the challenge and the proposal. The facts are read from the demands
//! tables (read-only, by column name); the rule is [`draft_from`].
use super::draft;
use crate::domain::command::{DraftSpec, PartyRef};
use crate::domain::Links;
use crate::entity::contract;
use crate::error::ContractError;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};
use ttx_accounts::Actor;
use ttx_core::{ContractSubKind, Fen, FieldErrors, TechField};
use ttx_web::{ErrorCode, ServiceError};

/// What an accepted proposal says about the contract that follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedProposal {
    pub id: i64,
    pub status: String,
    pub solver_org_id: i64,
    pub challenger_org_id: i64,
    pub challenge_id: i64,
    pub challenge_title: String,
    pub challenge_field: Option<String>,
    /// Recorded on acceptance: seller, buyer, amount.
    pub seller_org_id: Option<i64>,
    pub buyer_org_id: Option<i64>,
    pub contract_amount: Option<i64>,
}

/// What the caller may still choose (everything else comes from the proposal).
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftChoices {
    /// Default `entrusted_development` (a challenge commissions development).
    pub sub_kind: Option<ContractSubKind>,
    /// Default: the challenge's technology field.
    pub tech_field: Option<TechField>,
    /// Default: today.
    pub signed_on: Option<chrono::NaiveDate>,
}

/// The rule (pure): the draft of `p` for the seller `org`, or why not.
pub fn draft_from(
    p: &AcceptedProposal,
    org: i64,
    choices: &DraftChoices,
    today: chrono::NaiveDate,
) -> Result<DraftSpec, ServiceError> {
    if p.status != "accepted" {
        return Err(ServiceError::invalid_state(format!(
            "the proposal is {}: a contract follows an accepted proposal",
            p.status
        )));
    }
    let seller = p.seller_org_id.unwrap_or(p.solver_org_id);
    if seller != org {
        return Err(ServiceError::new(ContractError::NotSellerSide)
            .detail("the solver organisation (the seller) drafts the contract"));
    }
    let mut e = FieldErrors::new();
    let tech_field = choices.tech_field.or_else(|| {
        p.challenge_field
            .as_deref()
            .and_then(|f| f.parse::<TechField>().ok())
    });
    if tech_field.is_none() {
        e.add(
            "tech_field",
            "required",
            "the challenge names no technology field: choose one",
        );
    }
    e.into_result()?;
    let title: String = p.challenge_title.chars().take(200).collect();
    Ok(DraftSpec {
        title,
        sub_kind: choices
            .sub_kind
            .unwrap_or(ContractSubKind::EntrustedDevelopment),
        seller_org_id: Some(seller),
        buyer: PartyRef::Org(p.buyer_org_id.unwrap_or(p.challenger_org_id)),
        others: vec![],
        contract_amount: Fen(p.contract_amount.unwrap_or(0)),
        non_technical_costs: Fen(0),
        payment_plan: vec![],
        signed_on: choices.signed_on.unwrap_or(today),
        term_start: None,
        term_end: None,
        tech_field: tech_field.expect("checked"),
        ip_kind: None,
        programme_source: None,
        researcher_reward_bp: None,
        links: Links {
            demand_id: Some(p.challenge_id),
            proposal_id: Some(p.id),
            ..Default::default()
        },
        documents: vec![],
    })
}

fn t(name: &str) -> Alias {
    Alias::new(name)
}

/// Reads the proposal as its solver or challenger sees it (404 for anyone else).
async fn load<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: i64,
) -> Result<AcceptedProposal, ServiceError> {
    let nf = || ServiceError::not_found("proposal");
    let q = Query::select()
        .columns([
            t("status"),
            t("solver_org_id"),
            t("challenge_id"),
            t("seller_org_id"),
            t("buyer_org_id"),
            t("contract_amount"),
        ])
        .from(t("proposals"))
        .and_where(Expr::col(t("id")).eq(id))
        .to_owned();
    let r = conn.query_one(&q).await?.ok_or_else(nf)?;
    let get_i = |c: &str| r.try_get::<i64>("", c).map_err(ServiceError::internal);
    let get_o = |c: &str| {
        r.try_get::<Option<i64>>("", c)
            .map_err(ServiceError::internal)
    };
    let challenge_id = get_i("challenge_id")?;
    let q = Query::select()
        .columns([t("owner_org_id"), t("title"), t("field")])
        .from(t("demands"))
        .and_where(Expr::col(t("id")).eq(challenge_id))
        .to_owned();
    let d = conn.query_one(&q).await?.ok_or_else(nf)?;
    let p = AcceptedProposal {
        id,
        status: r.try_get("", "status").map_err(ServiceError::internal)?,
        solver_org_id: get_i("solver_org_id")?,
        challenger_org_id: d
            .try_get("", "owner_org_id")
            .map_err(ServiceError::internal)?,
        challenge_id,
        challenge_title: d.try_get("", "title").map_err(ServiceError::internal)?,
        challenge_field: d.try_get("", "field").map_err(ServiceError::internal)?,
        seller_org_id: get_o("seller_org_id")?,
        buyer_org_id: get_o("buyer_org_id")?,
        contract_amount: get_o("contract_amount")?,
    };
    if actor.org_id != p.solver_org_id && actor.org_id != p.challenger_org_id {
        return Err(nf());
    }
    Ok(p)
}

/// Creates the prefilled draft of accepted proposal `id` for the caller's organisation (its
/// solver). A second draft of the same proposal is 409 naming the first.
pub async fn create_from_proposal(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    choices: DraftChoices,
) -> Result<contract::Model, ServiceError> {
    let p = load(db, actor, id).await?;
    let spec = draft_from(&p, actor.org_id, &choices, super::today())?;
    if let Some(c) = contract::Entity::find()
        .filter(contract::Column::ProposalId.eq(id))
        .filter(contract::Column::SellerOrgId.eq(actor.org_id))
        .one(db)
        .await?
    {
        return Err(ServiceError::new(ErrorCode::AlreadyExists)
            .detail(format!("contract {} was drafted from this proposal", c.id))
            .with_context(serde_json::json!({"contract_id": c.id})));
    }
    draft::create(db, actor, spec).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepted() -> AcceptedProposal {
        AcceptedProposal {
            id: 9,
            status: "accepted".into(),
            solver_org_id: 1,
            challenger_org_id: 2,
            challenge_id: 5,
            challenge_title: "储能变流器碳化硅模块揭榜".into(),
            challenge_field: Some("new_energy".into()),
            seller_org_id: Some(1),
            buyer_org_id: Some(2),
            contract_amount: Some(180_000_000),
        }
    }

    #[test]
    fn the_draft_comes_from_the_bid() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        let s = draft_from(&accepted(), 1, &DraftChoices::default(), today).unwrap();
        assert_eq!(s.title, "储能变流器碳化硅模块揭榜");
        assert_eq!(s.contract_amount, Fen(180_000_000));
        assert!(matches!(s.buyer, PartyRef::Org(2)));
        assert_eq!(s.links.proposal_id, Some(9));
        assert_eq!(s.links.demand_id, Some(5));
        assert_eq!(s.signed_on, today);
        assert_eq!(s.sub_kind, ContractSubKind::EntrustedDevelopment);
        // Only the solver drafts; only an accepted proposal.
        assert!(draft_from(&accepted(), 2, &DraftChoices::default(), today).is_err());
        let mut p = accepted();
        p.status = "submitted".into();
        assert_eq!(
            draft_from(&p, 1, &DraftChoices::default(), today)
                .unwrap_err()
                .code,
            "invalid_state"
        );
        // No field on the challenge: the caller must choose.
        let mut p = accepted();
        p.challenge_field = None;
        let e = draft_from(&p, 1, &DraftChoices::default(), today).unwrap_err();
        assert_eq!(e.errors[0].field, "tech_field");
    }
}
