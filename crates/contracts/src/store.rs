//! Between rows and domain values: reading a contract row as [`ContractContent`], writing
//! content into a row, and the booking a registered contract counts for.
use crate::domain::ledger::{Booking, LedgerDims};
use crate::domain::{fingerprint, ContractContent, ContractStatus, Links, Party};
use crate::entity::contract;
use sea_orm::{ActiveValue::Set, DbErr, SqlErr};
use std::str::FromStr;
use ttx_core::{ContractSubKind, CreditCode, EntityKind, Fen, RegionCode};
use ttx_web::ServiceError;

/// A transaction that writes: [`ttx_web::begin_write`] under the name this crate's callers use.
pub use ttx_web::begin_write as write_txn;

/// Whether an error is a unique violation of the index over `column`.
pub fn unique_violation_on(e: &DbErr, column: &str) -> bool {
    match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(msg)) => msg.contains(column),
        _ => false,
    }
}

fn corrupt(what: &str, id: i64) -> ServiceError {
    ServiceError::internal(format!("contract {id}: stored {what} does not parse"))
}

fn parse<T: FromStr>(s: &str, what: &str, id: i64) -> Result<T, ServiceError> {
    s.parse().map_err(|_| corrupt(what, id))
}

fn json<T: serde::de::DeserializeOwned>(s: &str, what: &str, id: i64) -> Result<T, ServiceError> {
    serde_json::from_str(s).map_err(|_| corrupt(what, id))
}

pub fn to_json<T: serde::Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).expect("domain values serialize")
}

pub fn status_of(m: &contract::Model) -> Result<ContractStatus, ServiceError> {
    parse(&m.status, "status", m.id)
}

fn credit(s: &Option<String>, id: i64) -> Result<Option<CreditCode>, ServiceError> {
    s.as_deref()
        .map(|c| CreditCode::parse(c).map_err(|_| corrupt("credit code", id)))
        .transpose()
}

pub fn seller_of(m: &contract::Model) -> Result<Party, ServiceError> {
    Ok(Party {
        org_id: m.seller_org_id,
        name: m.seller_name.clone(),
        credit_code: credit(&m.seller_credit_code, m.id)?,
        entity_kind: parse(&m.seller_entity_kind, "seller entity kind", m.id)?,
        region: parse(&m.seller_region, "seller region", m.id)?,
    })
}

pub fn buyer_of(m: &contract::Model) -> Result<Party, ServiceError> {
    Ok(Party {
        org_id: m.buyer_org_id,
        name: m.buyer_name.clone(),
        credit_code: credit(&m.buyer_credit_code, m.id)?,
        entity_kind: parse(&m.buyer_entity_kind, "buyer entity kind", m.id)?,
        region: parse(&m.buyer_region, "buyer region", m.id)?,
    })
}

/// The content of a stored contract.
pub fn content_of(m: &contract::Model) -> Result<ContractContent, ServiceError> {
    Ok(ContractContent {
        title: m.title.clone(),
        sub_kind: parse(&m.sub_kind, "sub-kind", m.id)?,
        seller: seller_of(m)?,
        buyer: buyer_of(m)?,
        others: json(&m.other_parties, "other parties", m.id)?,
        contract_amount: Fen(m.contract_amount),
        non_technical_costs: Fen(m.non_technical_costs),
        payment_plan: json(&m.payment_plan, "payment plan", m.id)?,
        signed_on: m.signed_on,
        term_start: m.term_start,
        term_end: m.term_end,
        tech_field: parse(&m.tech_field, "technology field", m.id)?,
        ip_kind: m
            .ip_kind
            .as_deref()
            .map(|k| parse(k, "IP kind", m.id))
            .transpose()?,
        programme_source: m.programme_source.clone(),
        researcher_reward_bp: m
            .researcher_reward_bp
            .map(|b| b.clamp(0, u16::MAX as i32) as u16),
        links: Links {
            listing_id: m.listing_id,
            demand_id: m.demand_id,
            proposal_id: m.proposal_id,
            match_id: m.match_id,
        },
        documents: json(&m.documents, "documents", m.id)?,
    })
}

/// Writes content (and what derives from it) into an active model. The content must have passed
/// [`ContractContent::check`], so its technology amount exists.
pub fn set_content(am: &mut contract::ActiveModel, c: &ContractContent) {
    am.title = Set(c.title.clone());
    am.kind = Set(c.kind().as_str().to_string());
    am.sub_kind = Set(c.sub_kind.as_str().to_string());
    am.seller_org_id = Set(c.seller.org_id);
    am.seller_name = Set(c.seller.name.clone());
    am.seller_credit_code = Set(c.seller.credit_code.as_ref().map(|x| x.to_string()));
    am.seller_region = Set(c.seller.region.as_string());
    am.seller_entity_kind = Set(c.seller.entity_kind.as_str().to_string());
    am.buyer_org_id = Set(c.buyer.org_id);
    am.buyer_name = Set(c.buyer.name.clone());
    am.buyer_credit_code = Set(c.buyer.credit_code.as_ref().map(|x| x.to_string()));
    am.buyer_region = Set(c.buyer.region.as_string());
    am.buyer_entity_kind = Set(c.buyer.entity_kind.as_str().to_string());
    am.other_parties = Set(to_json(&c.others));
    am.contract_amount = Set(c.contract_amount.0);
    am.non_technical_costs = Set(c.non_technical_costs.0);
    am.technology_amount = Set(c.technology_amount().unwrap_or(Fen::ZERO).0);
    am.payment_plan = Set(to_json(&c.payment_plan));
    am.signed_on = Set(c.signed_on);
    am.term_start = Set(c.term_start);
    am.term_end = Set(c.term_end);
    am.tech_field = Set(c.tech_field.as_str().to_string());
    am.ip_kind = Set(c.ip_kind.map(|k| k.as_str().to_string()));
    am.programme_source = Set(c.programme_source.clone());
    am.researcher_reward_bp = Set(c.researcher_reward_bp.map(i32::from));
    am.listing_id = Set(c.links.listing_id);
    am.demand_id = Set(c.links.demand_id);
    am.proposal_id = Set(c.links.proposal_id);
    am.match_id = Set(c.links.match_id);
    am.documents = Set(to_json(&c.documents));
    am.fingerprint = Set(fingerprint::fingerprint(c));
    am.party_key = Set(fingerprint::party_key(&c.seller, &c.buyer));
}

/// The booking of `content` registered at `station_id` as `recognised`.
pub fn booking(content: &ContractContent, station_id: i64, recognised: ContractSubKind) -> Booking {
    Booking {
        dims: LedgerDims {
            station_id,
            seller_org_id: content.seller.org_id,
            seller_region: content.seller.region,
            seller_entity_kind: content.seller.entity_kind,
            buyer_org_id: content.buyer.org_id,
            buyer_region: content.buyer.region,
            buyer_entity_kind: content.buyer.entity_kind,
            kind: recognised.kind(),
            sub_kind: recognised,
            tech_field: content.tech_field,
            ip_kind: content.ip_kind,
            programme_source: content.programme_source.clone(),
        },
        contract_amount: content.contract_amount,
        technology_amount: content.technology_amount().unwrap_or(Fen::ZERO),
    }
}

/// What a registered contract currently counts for.
pub fn booking_of(m: &contract::Model) -> Result<Booking, ServiceError> {
    let content = content_of(m)?;
    let station = m.station_id.ok_or_else(|| corrupt("station", m.id))?;
    let recognised: ContractSubKind = match &m.recognised_sub_kind {
        Some(s) => parse(s, "recognised sub-kind", m.id)?,
        None => content.sub_kind,
    };
    let mut b = booking(&content, station, recognised);
    b.technology_amount = Fen(m.technology_amount);
    Ok(b)
}

pub fn region(s: &str) -> Option<RegionCode> {
    RegionCode::parse(s).ok()
}

pub fn entity_kind(s: &str) -> EntityKind {
    s.parse().unwrap_or(EntityKind::Other)
}
