//! The seller side: drafts, edits, submission to the competent station.
use super::{audit, lock, org_party, resolve, resolve_all, today, SELLER_KINDS};
use crate::access;
use crate::domain::command::{DraftSpec, PatchSpec};
use crate::domain::content::choose_station;
use crate::domain::{Action, ContractContent, ContractStatus};
use crate::entity::contract;
use crate::error::ContractError;
use crate::events::{self, ContractEvent};
use crate::store::{self, write_txn};
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter,
};
use serde_json::json;
use ttx_accounts::entity::{organization, station_jurisdiction as sj};
use ttx_accounts::Actor;
use ttx_core::{FieldErrors, OrgKind, RegionCode};
use ttx_web::{IfMatch, ServiceError};

/// Creates a draft written by the caller's organisation as seller.
pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    spec: DraftSpec,
) -> Result<contract::Model, ServiceError> {
    actor.require_org_kind(SELLER_KINDS)?;
    // An agency acts only once an operator verified it.
    actor.require_verified()?;
    let mut errs = FieldErrors::new();
    if spec.seller_org_id.is_some_and(|id| id != actor.org_id) {
        errs.add(
            "seller.org_id",
            "not_your_org",
            "the seller is the applicant: your own organisation",
        );
    }
    let seller_org = organization::Entity::find_by_id(actor.org_id)
        .one(db)
        .await?
        .ok_or_else(|| ServiceError::not_found("organisation"))?;
    let seller = org_party(&seller_org)?;
    let buyer = resolve(db, spec.buyer, "buyer", &mut errs).await?;
    let others = resolve_all(db, spec.others, "others", &mut errs).await?;
    let buyer_org = buyer.as_ref().and_then(|b| b.org_id);
    super::links::check(db, &spec.links, actor.org_id, buyer_org, &mut errs).await?;
    errs.into_result()?;
    let content = ContractContent {
        title: spec.title,
        sub_kind: spec.sub_kind,
        seller,
        buyer: buyer.expect("resolved"),
        others,
        contract_amount: spec.contract_amount,
        non_technical_costs: spec.non_technical_costs,
        payment_plan: spec.payment_plan,
        signed_on: spec.signed_on,
        term_start: spec.term_start,
        term_end: spec.term_end,
        tech_field: spec.tech_field,
        ip_kind: spec.ip_kind,
        programme_source: spec.programme_source,
        researcher_reward_bp: spec.researcher_reward_bp,
        links: spec.links,
        documents: spec.documents,
    };
    content.check(today()).into_result()?;

    let now = ttx_core::clock::now();
    let mut am = contract::ActiveModel {
        status: Set(ContractStatus::Draft.as_str().to_string()),
        round: Set(0),
        imported: Set(false),
        created_by: Set(actor.user_id),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    store::set_content(&mut am, &content);
    let txn = write_txn(db).await?;
    let m = am.insert(&txn).await?;
    audit(
        &txn,
        actor,
        "contract.create",
        &m,
        json!({"title": m.title, "sub_kind": m.sub_kind}),
    )
    .await?;
    txn.commit().await?;
    Ok(m)
}

/// Edits a draft or a contract returned for correction (`If-Match` version).
pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    if_match: IfMatch,
    p: PatchSpec,
) -> Result<contract::Model, ServiceError> {
    let mut errs = FieldErrors::new();
    let buyer = match p.buyer {
        Some(b) => resolve(db, b, "buyer", &mut errs).await?,
        None => None,
    };
    let others = match p.others {
        Some(o) => Some(resolve_all(db, o, "others", &mut errs).await?),
        None => None,
    };

    let txn = write_txn(db).await?;
    let m = lock(&txn, id).await?;
    access::require_seller(actor, &m)?;
    store::status_of(&m)?
        .apply(Action::Edit)
        .map_err(|e| ServiceError::invalid_state(e.to_string()))?;
    if_match.check(m.version)?;
    errs.into_result()?;

    let mut c = store::content_of(&m)?;
    let mut changed: Vec<&str> = vec![];
    macro_rules! set {
        ($field:ident, $value:expr) => {
            if let Some(v) = $value {
                c.$field = v;
                changed.push(stringify!($field));
            }
        };
    }
    set!(title, p.title);
    set!(sub_kind, p.sub_kind);
    set!(buyer, buyer);
    set!(others, others);
    set!(contract_amount, p.contract_amount);
    set!(non_technical_costs, p.non_technical_costs);
    set!(payment_plan, p.payment_plan);
    set!(signed_on, p.signed_on);
    set!(term_start, p.term_start);
    set!(term_end, p.term_end);
    set!(tech_field, p.tech_field);
    set!(ip_kind, p.ip_kind);
    set!(programme_source, p.programme_source);
    set!(researcher_reward_bp, p.researcher_reward_bp);
    set!(documents, p.documents);
    if let Some(v) = p.listing_id {
        c.links.listing_id = v;
        changed.push("listing_id");
    }
    if let Some(v) = p.demand_id {
        c.links.demand_id = v;
        changed.push("demand_id");
    }
    if let Some(v) = p.proposal_id {
        c.links.proposal_id = v;
        changed.push("proposal_id");
    }
    if let Some(v) = p.match_id {
        c.links.match_id = v;
        changed.push("match_id");
    }
    let mut errs = c.check(today());
    if changed.iter().any(|f| f.ends_with("_id")) || changed.contains(&"buyer") {
        let seller = m.seller_org_id.unwrap_or(actor.org_id);
        super::links::check(&txn, &c.links, seller, c.buyer.org_id, &mut errs).await?;
    }
    errs.into_result()?;

    let mut am: contract::ActiveModel = m.clone().into();
    store::set_content(&mut am, &c);
    am.version = Set(m.version + 1);
    am.updated_at = Set(ttx_core::clock::now());
    let updated = am.update(&txn).await?;
    audit(
        &txn,
        actor,
        "contract.update",
        &updated,
        json!({"fields": changed}),
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}

/// Verified stations whose jurisdiction covers `region`: `(station id, jurisdiction region)`.
pub(crate) async fn covering_stations<C: ConnectionTrait>(
    conn: &C,
    region: RegionCode,
) -> Result<Vec<(i64, RegionCode)>, ServiceError> {
    let codes: Vec<String> = region
        .ancestors_and_self()
        .iter()
        .map(|r| r.as_string())
        .collect();
    let verified_stations = Query::select()
        .column(organization::Column::Id)
        .from(organization::Entity)
        .and_where(organization::Column::Kind.eq(OrgKind::Station.as_str()))
        .and_where(organization::Column::Verified.eq(true))
        .to_owned();
    Ok(sj::Entity::find()
        .filter(sj::Column::RegionCode.is_in(codes))
        .filter(sj::Column::OrgId.in_subquery(verified_stations))
        .all(conn)
        .await?
        .into_iter()
        .filter_map(|j| {
            RegionCode::parse(&j.region_code)
                .ok()
                .map(|r| (j.org_id, r))
        })
        .collect())
}

/// Submits (or resubmits after a return) to the competent station.
pub async fn submit(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    station_choice: Option<i64>,
) -> Result<contract::Model, ServiceError> {
    let txn = write_txn(db).await?;
    let m = lock(&txn, id).await?;
    access::require_seller(actor, &m)?;
    let to = store::status_of(&m)?
        .apply(Action::Submit)
        .map_err(|e| ServiceError::invalid_state(e.to_string()))?;
    let content = store::content_of(&m)?;
    let mut gaps = content.submission_gaps();
    gaps.0.extend(content.check(today()).0);
    if !gaps.is_empty() {
        let mut e = ServiceError::new(ContractError::IncompleteForSubmission).detail(
            gaps.0
                .iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join("; "),
        );
        e.errors = gaps.0;
        return Err(e);
    }
    let region = content.seller.region;
    let candidates = covering_stations(&txn, region).await?;
    let station = match station_choice {
        Some(s) if candidates.iter().any(|(id, _)| *id == s) => s,
        Some(s) => {
            return Err(
                ServiceError::new(ContractError::StationOutsideJurisdiction).detail(format!(
                    "station {s} is not a verified station whose jurisdiction covers {} ({})",
                    region.as_string(),
                    region.full_name()
                )),
            )
        }
        None => match m.station_id {
            Some(prev) if candidates.iter().any(|(id, _)| *id == prev) => prev,
            _ => choose_station(region, &candidates).ok_or_else(|| {
                ServiceError::new(ContractError::NoStationForRegion).detail(format!(
                    "no verified registration station covers {} ({})",
                    region.as_string(),
                    region.full_name()
                ))
            })?,
        },
    };
    let now = ttx_core::clock::now();
    let mut am: contract::ActiveModel = m.clone().into();
    am.status = Set(to.as_str().to_string());
    am.station_id = Set(Some(station));
    am.round = Set(m.round + 1);
    am.submitted_at = Set(Some(now));
    am.submitted_by = Set(Some(actor.user_id));
    am.accepted_at = Set(None);
    am.accepted_by = Set(None);
    am.review_due_on = Set(None);
    am.decided_at = Set(None);
    am.decided_by = Set(None);
    am.return_reasons = Set(None);
    am.version = Set(m.version + 1);
    am.updated_at = Set(now);
    let updated = am.update(&txn).await?;
    audit(
        &txn,
        actor,
        "contract.submit",
        &updated,
        json!({"station_id": station, "round": updated.round}),
    )
    .await?;
    events::emit(&txn, &updated, ContractEvent::Submitted).await?;
    txn.commit().await?;
    ttx_notify::wake();
    Ok(updated)
}
