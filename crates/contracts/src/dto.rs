//! HTTP request bodies and their parsing into domain values, gathering every field error.
pub use crate::domain::command::{AmendmentSpec, DraftSpec, PartyRef, PatchSpec, RegisterSpec};
use crate::domain::content::{normalize_sha256, MAX_BP};
use crate::domain::{Document, Instalment, Links, Party, RefusalGround};
use chrono::NaiveDate;
use serde::Deserialize;
use ttx_core::{
    ContractKind, ContractSubKind, CreditCode, EntityKind, Fen, FieldErrors, IpKind, RegionCode,
    TechField,
};
use utoipa::ToSchema;

/// A party: either `org_id` of a TTX organisation, or an outside party's details.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartyInput {
    /// A TTX organisation (its name, code, kind and region are taken from its profile).
    pub org_id: Option<i64>,
    /// Outside party: name.
    pub name: Option<String>,
    /// Outside party: unified social credit code (not needed for an individual).
    pub credit_code: Option<String>,
    /// Outside party: entity kind.
    pub entity_kind: Option<EntityKind>,
    /// Outside party: 6-digit region code.
    pub region_code: Option<String>,
}

impl PartyInput {
    pub fn parse(self, f: &str, errs: &mut FieldErrors) -> Option<PartyRef> {
        if let Some(id) = self.org_id {
            if self.name.is_some()
                || self.credit_code.is_some()
                || self.entity_kind.is_some()
                || self.region_code.is_some()
            {
                errs.add(
                    f,
                    "ambiguous",
                    "give either org_id or an outside party's details, not both",
                );
                return None;
            }
            if id <= 0 {
                errs.add(&format!("{f}.org_id"), "invalid", "must be positive");
                return None;
            }
            return Some(PartyRef::Org(id));
        }
        let before = errs.0.len();
        let name = errs.text(
            &format!("{f}.name"),
            self.name.as_deref().unwrap_or(""),
            2,
            200,
        );
        let entity_kind = self.entity_kind;
        if entity_kind.is_none() {
            errs.add(&format!("{f}.entity_kind"), "required", "must be given");
        }
        let region = match self.region_code.as_deref() {
            None => {
                errs.add(&format!("{f}.region_code"), "required", "must be given");
                None
            }
            Some(r) => errs.take(
                &format!("{f}.region_code"),
                "invalid_region",
                RegionCode::parse(r),
            ),
        };
        let credit_code = match self.credit_code.as_deref().map(str::trim) {
            None | Some("") => {
                if entity_kind.is_some() && entity_kind != Some(EntityKind::Individual) {
                    errs.add(
                        &format!("{f}.credit_code"),
                        "required",
                        "an organisation is identified by its unified social credit code",
                    );
                }
                None
            }
            Some(c) => errs.take(
                &format!("{f}.credit_code"),
                "invalid_credit_code",
                CreditCode::parse(c),
            ),
        };
        if errs.0.len() > before {
            return None;
        }
        Some(PartyRef::Outside(Party {
            org_id: None,
            name,
            credit_code,
            entity_kind: entity_kind?,
            region: region?,
        }))
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InstalmentInput {
    pub due_on: Option<NaiveDate>,
    /// E.g. "合同签订后 10 个工作日内".
    pub milestone: Option<String>,
    /// Fen; or give `amount_yuan`.
    pub amount: Option<i64>,
    /// The same in 元 as a decimal string (`"12.50"`: at most 2 decimals; no sign, exponent or
    /// grouping commas); with the fen form too, both must be the same amount.
    #[schema(example = "500000.00")]
    pub amount_yuan: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentInput {
    /// File name, e.g. "技术开发合同（签章版）.pdf".
    pub name: String,
    /// Hex SHA-256 of the file's content.
    pub sha256: String,
    pub size_bytes: Option<i64>,
}

/// An optional amount given in fen (`f`) or in 元 (`f_yuan`); see
/// [`ttx_core::money::fen_or_yuan`].
pub(crate) fn opt_amount(
    errs: &mut FieldErrors,
    f: &str,
    fen: Option<i64>,
    yuan: Option<&str>,
) -> Option<Fen> {
    ttx_core::money::fen_or_yuan(errs, f, fen, yuan)
}

pub(crate) fn parse_plan(
    errs: &mut FieldErrors,
    f: &str,
    plan: Vec<InstalmentInput>,
) -> Vec<Instalment> {
    if plan.len() > 100 {
        errs.add(f, "too_many", "at most 100 instalments");
    }
    plan.into_iter()
        .enumerate()
        .map(|(i, p)| Instalment {
            due_on: p.due_on,
            milestone: errs.opt_text(&format!("{f}[{i}].milestone"), p.milestone.as_deref(), 200),
            amount: ttx_core::money::required_fen_or_yuan(
                errs,
                &format!("{f}[{i}].amount"),
                p.amount,
                p.amount_yuan.as_deref(),
            )
            .unwrap_or_default(),
        })
        .collect()
}

pub(crate) fn parse_documents(
    errs: &mut FieldErrors,
    f: &str,
    docs: Vec<DocumentInput>,
) -> Vec<Document> {
    if docs.len() > 50 {
        errs.add(f, "too_many", "at most 50 documents");
    }
    docs.into_iter()
        .enumerate()
        .map(|(i, d)| {
            let name = errs.text(&format!("{f}[{i}].name"), &d.name, 1, 200);
            let sha256 = normalize_sha256(&d.sha256).unwrap_or_else(|| {
                errs.add(
                    &format!("{f}[{i}].sha256"),
                    "invalid_sha256",
                    "must be 64 hexadecimal characters",
                );
                String::new()
            });
            if d.size_bytes.is_some_and(|s| s < 0) {
                errs.add(
                    &format!("{f}[{i}].size_bytes"),
                    "invalid",
                    "must not be negative",
                );
            }
            Document {
                name,
                sha256,
                size_bytes: d.size_bytes,
            }
        })
        .collect()
}

pub(crate) fn parse_parties(
    errs: &mut FieldErrors,
    f: &str,
    parties: Vec<PartyInput>,
) -> Vec<PartyRef> {
    if parties.len() > 20 {
        errs.add(f, "too_many", "at most 20 other parties");
    }
    parties
        .into_iter()
        .enumerate()
        .filter_map(|(i, p)| p.parse(&format!("{f}[{i}]"), errs))
        .collect()
}

fn reward(errs: &mut FieldErrors, v: i64) -> Option<u16> {
    if (0..=MAX_BP as i64).contains(&v) {
        Some(v as u16)
    } else {
        errs.add(
            "researcher_reward_bp",
            "out_of_range",
            "a share is between 0 and 10000 basis points",
        );
        None
    }
}

fn link(errs: &mut FieldErrors, f: &str, v: Option<i64>) -> Option<i64> {
    if v.is_some_and(|v| v <= 0) {
        errs.add(f, "invalid", "must be positive");
    }
    v
}

/// A new contract (draft), written by the seller side.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContractInput {
    pub title: String,
    /// Optional; when given it must be the kind of `sub_kind`.
    pub kind: Option<ContractKind>,
    pub sub_kind: ContractSubKind,
    /// The seller is the caller's organisation; if given, `org_id` must name it.
    pub seller: Option<PartyInput>,
    pub buyer: PartyInput,
    #[serde(default)]
    pub others: Vec<PartyInput>,
    /// Fen; or give `contract_amount_yuan`.
    pub contract_amount: Option<i64>,
    /// The same in 元 as a decimal string (`"12.50"`: at most 2 decimals; no sign, exponent or
    /// grouping commas); with the fen form too, both must be the same amount.
    #[schema(example = "1000000.00")]
    pub contract_amount_yuan: Option<String>,
    /// Fen: equipment, instruments, parts, materials bought for the contract (default 0).
    pub non_technical_costs: Option<i64>,
    /// The same in 元 as a decimal string (`"12.50"`: at most 2 decimals; no sign, exponent or
    /// grouping commas); with the fen form too, both must be the same amount.
    pub non_technical_costs_yuan: Option<String>,
    /// When given, the instalments add up to the contract amount.
    #[serde(default)]
    pub payment_plan: Vec<InstalmentInput>,
    pub signed_on: NaiveDate,
    pub term_start: Option<NaiveDate>,
    pub term_end: Option<NaiveDate>,
    pub tech_field: TechField,
    pub ip_kind: Option<IpKind>,
    /// Programme the work came from, e.g. "国家重点研发计划".
    pub programme_source: Option<String>,
    /// The researchers' share of the income, in basis points (7000 = 70 %).
    pub researcher_reward_bp: Option<i64>,
    pub listing_id: Option<i64>,
    pub demand_id: Option<i64>,
    pub proposal_id: Option<i64>,
    pub match_id: Option<i64>,
    #[serde(default)]
    pub documents: Vec<DocumentInput>,
}

impl ContractInput {
    pub fn parse(self) -> Result<DraftSpec, FieldErrors> {
        let mut e = FieldErrors::new();
        let title = e.text("title", &self.title, 2, 200);
        if let Some(k) = self.kind {
            if k != self.sub_kind.kind() {
                e.add(
                    "kind",
                    "kind_mismatch",
                    format!(
                        "{} is a sub-kind of {}",
                        self.sub_kind.as_str(),
                        self.sub_kind.kind().as_str()
                    ),
                );
            }
        }
        let seller_org_id = match self.seller {
            None => None,
            Some(p) => match p.parse("seller", &mut e) {
                Some(PartyRef::Org(id)) => Some(id),
                Some(PartyRef::Outside(_)) => {
                    e.add(
                        "seller",
                        "not_an_organisation",
                        "the seller is the applicant's TTX organisation (give its org_id)",
                    );
                    None
                }
                None => None,
            },
        };
        let buyer = self.buyer.parse("buyer", &mut e);
        let others = parse_parties(&mut e, "others", self.others);
        let contract_amount = ttx_core::money::required_fen_or_yuan(
            &mut e,
            "contract_amount",
            self.contract_amount,
            self.contract_amount_yuan.as_deref(),
        );
        let non_technical_costs = opt_amount(
            &mut e,
            "non_technical_costs",
            self.non_technical_costs,
            self.non_technical_costs_yuan.as_deref(),
        )
        .or(Some(Fen::ZERO));
        let payment_plan = parse_plan(&mut e, "payment_plan", self.payment_plan);
        let programme_source =
            e.opt_text("programme_source", self.programme_source.as_deref(), 200);
        let researcher_reward_bp = self.researcher_reward_bp.and_then(|v| reward(&mut e, v));
        let links = Links {
            listing_id: link(&mut e, "listing_id", self.listing_id),
            demand_id: link(&mut e, "demand_id", self.demand_id),
            proposal_id: link(&mut e, "proposal_id", self.proposal_id),
            match_id: link(&mut e, "match_id", self.match_id),
        };
        let documents = parse_documents(&mut e, "documents", self.documents);
        e.into_result()?;
        Ok(DraftSpec {
            title,
            sub_kind: self.sub_kind,
            seller_org_id,
            buyer: buyer.expect("checked"),
            others,
            contract_amount: contract_amount.expect("checked"),
            non_technical_costs: non_technical_costs.expect("checked"),
            payment_plan,
            signed_on: self.signed_on,
            term_start: self.term_start,
            term_end: self.term_end,
            tech_field: self.tech_field,
            ip_kind: self.ip_kind,
            programme_source,
            researcher_reward_bp,
            links,
            documents,
        })
    }
}

/// Changes to a draft or a returned contract; absent fields stay, `null` clears an optional one.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContractPatch {
    pub title: Option<String>,
    pub sub_kind: Option<ContractSubKind>,
    pub buyer: Option<PartyInput>,
    pub others: Option<Vec<PartyInput>>,
    pub contract_amount: Option<i64>,
    /// The same in 元 as a decimal string (`"12.50"`: at most 2 decimals; no sign, exponent or
    /// grouping commas); with the fen form too, both must be the same amount.
    pub contract_amount_yuan: Option<String>,
    pub non_technical_costs: Option<i64>,
    /// The same in 元 as a decimal string (`"12.50"`: at most 2 decimals; no sign, exponent or
    /// grouping commas); with the fen form too, both must be the same amount.
    pub non_technical_costs_yuan: Option<String>,
    pub payment_plan: Option<Vec<InstalmentInput>>,
    pub signed_on: Option<NaiveDate>,
    #[serde(default, deserialize_with = "ttx_web::double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub term_start: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "ttx_web::double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub term_end: Option<Option<NaiveDate>>,
    pub tech_field: Option<TechField>,
    #[serde(default, deserialize_with = "ttx_web::double_option")]
    #[schema(value_type = Option<IpKind>)]
    pub ip_kind: Option<Option<IpKind>>,
    #[serde(default, deserialize_with = "ttx_web::double_option")]
    #[schema(value_type = Option<String>)]
    pub programme_source: Option<Option<String>>,
    #[serde(default, deserialize_with = "ttx_web::double_option")]
    #[schema(value_type = Option<i64>)]
    pub researcher_reward_bp: Option<Option<i64>>,
    #[serde(default, deserialize_with = "ttx_web::double_option")]
    #[schema(value_type = Option<i64>)]
    pub listing_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "ttx_web::double_option")]
    #[schema(value_type = Option<i64>)]
    pub demand_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "ttx_web::double_option")]
    #[schema(value_type = Option<i64>)]
    pub proposal_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "ttx_web::double_option")]
    #[schema(value_type = Option<i64>)]
    pub match_id: Option<Option<i64>>,
    pub documents: Option<Vec<DocumentInput>>,
}

impl ContractPatch {
    pub fn parse(self) -> Result<PatchSpec, FieldErrors> {
        let mut e = FieldErrors::new();
        let spec = PatchSpec {
            title: self.title.map(|t| e.text("title", &t, 2, 200)),
            sub_kind: self.sub_kind,
            buyer: self.buyer.and_then(|b| b.parse("buyer", &mut e)),
            others: self.others.map(|o| parse_parties(&mut e, "others", o)),
            contract_amount: opt_amount(
                &mut e,
                "contract_amount",
                self.contract_amount,
                self.contract_amount_yuan.as_deref(),
            ),
            non_technical_costs: opt_amount(
                &mut e,
                "non_technical_costs",
                self.non_technical_costs,
                self.non_technical_costs_yuan.as_deref(),
            ),
            payment_plan: self
                .payment_plan
                .map(|p| parse_plan(&mut e, "payment_plan", p)),
            signed_on: self.signed_on,
            term_start: self.term_start,
            term_end: self.term_end,
            tech_field: self.tech_field,
            ip_kind: self.ip_kind,
            programme_source: self
                .programme_source
                .map(|p| e.opt_text("programme_source", p.as_deref(), 200)),
            researcher_reward_bp: self
                .researcher_reward_bp
                .map(|v| v.and_then(|v| reward(&mut e, v))),
            listing_id: self.listing_id.map(|v| link(&mut e, "listing_id", v)),
            demand_id: self.demand_id.map(|v| link(&mut e, "demand_id", v)),
            proposal_id: self.proposal_id.map(|v| link(&mut e, "proposal_id", v)),
            match_id: self.match_id.map(|v| link(&mut e, "match_id", v)),
            documents: self
                .documents
                .map(|d| parse_documents(&mut e, "documents", d)),
        };
        e.finish(spec)
    }
}

/// Submission to a station.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitRequest {
    /// A station to submit to; by default the most specific verified station whose jurisdiction
    /// covers the seller's region (on a resubmission: the station of the previous round).
    pub station_id: Option<i64>,
}

/// Acceptance for review: starts the review deadline.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptRequest {
    pub note: Option<String>,
}

/// Registration: the station's recognition of the contract.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// The sub-kind the station recognises (default: as claimed).
    pub recognised_sub_kind: Option<ContractSubKind>,
    /// The non-technical costs the station deducts, in fen (default: as declared). The
    /// technology transaction amount is the contract amount less these.
    pub non_technical_costs: Option<i64>,
    /// The same in 元 as a decimal string (`"12.50"`: at most 2 decimals; no sign, exponent or
    /// grouping commas); with the fen form too, both must be the same amount.
    pub non_technical_costs_yuan: Option<String>,
    pub note: Option<String>,
}

impl RegisterRequest {
    pub fn parse(self) -> Result<RegisterSpec, FieldErrors> {
        let mut e = FieldErrors::new();
        let spec = RegisterSpec {
            recognised_sub_kind: self.recognised_sub_kind,
            non_technical_costs: opt_amount(
                &mut e,
                "non_technical_costs",
                self.non_technical_costs,
                self.non_technical_costs_yuan.as_deref(),
            ),
            note: e.opt_text("note", self.note.as_deref(), 2000),
        };
        e.finish(spec)
    }
}

/// Return for correction.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnRequest {
    /// What the applicant must correct (1 to 20 reasons).
    pub reasons: Vec<String>,
}

impl ReturnRequest {
    pub fn parse(self) -> Result<Vec<String>, FieldErrors> {
        let mut e = FieldErrors::new();
        if self.reasons.is_empty() {
            e.add("reasons", "required", "give at least one reason");
        } else if self.reasons.len() > 20 {
            e.add("reasons", "too_many", "at most 20 reasons");
        }
        let reasons = self
            .reasons
            .iter()
            .enumerate()
            .map(|(i, r)| e.text(&format!("reasons[{i}]"), r, 2, 500))
            .collect();
        e.finish(reasons)
    }
}

/// Refusal.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefuseRequest {
    pub ground: RefusalGround,
    /// Explanation; required for the ground `other`.
    pub text: Option<String>,
}

impl RefuseRequest {
    pub fn parse(self) -> Result<(RefusalGround, Option<String>), FieldErrors> {
        let mut e = FieldErrors::new();
        let text = e.opt_text("text", self.text.as_deref(), 2000);
        if self.ground.needs_text() && text.is_none() {
            e.add("text", "required", "explain the refusal");
        }
        e.finish((self.ground, text))
    }
}

/// An amendment of a registered contract: the values that change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AmendmentRequest {
    pub reason: String,
    /// Fen.
    pub contract_amount: Option<i64>,
    /// The same in 元 as a decimal string (`"12.50"`: at most 2 decimals; no sign, exponent or
    /// grouping commas); with the fen form too, both must be the same amount.
    pub contract_amount_yuan: Option<String>,
    /// Fen.
    pub non_technical_costs: Option<i64>,
    /// The same in 元 as a decimal string (`"12.50"`: at most 2 decimals; no sign, exponent or
    /// grouping commas); with the fen form too, both must be the same amount.
    pub non_technical_costs_yuan: Option<String>,
    pub payment_plan: Option<Vec<InstalmentInput>>,
    pub buyer: Option<PartyInput>,
    pub others: Option<Vec<PartyInput>>,
    pub term_start: Option<NaiveDate>,
    pub term_end: Option<NaiveDate>,
    pub documents: Option<Vec<DocumentInput>>,
}

impl AmendmentRequest {
    pub fn parse(self) -> Result<AmendmentSpec, FieldErrors> {
        let mut e = FieldErrors::new();
        let spec = AmendmentSpec {
            reason: e.text("reason", &self.reason, 2, 2000),
            contract_amount: opt_amount(
                &mut e,
                "contract_amount",
                self.contract_amount,
                self.contract_amount_yuan.as_deref(),
            ),
            non_technical_costs: opt_amount(
                &mut e,
                "non_technical_costs",
                self.non_technical_costs,
                self.non_technical_costs_yuan.as_deref(),
            ),
            payment_plan: self
                .payment_plan
                .map(|p| parse_plan(&mut e, "payment_plan", p)),
            buyer: self.buyer.and_then(|b| b.parse("buyer", &mut e)),
            others: self.others.map(|o| parse_parties(&mut e, "others", o)),
            term_start: self.term_start,
            term_end: self.term_end,
            documents: self
                .documents
                .map(|d| parse_documents(&mut e, "documents", d)),
        };
        e.finish(spec)
    }
}

/// Termination of a registered contract.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TerminateRequest {
    pub reason: String,
    /// The date the parties ended the contract, for the record (the ledger books the reversal
    /// on the approval date).
    pub effective_on: Option<NaiveDate>,
}

/// A station's decision on an amendment or termination.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// Required when rejecting.
    pub note: Option<String>,
    /// Approving an amendment: the non-technical costs the station deducts (fen), if it fixes
    /// them anew.
    pub non_technical_costs: Option<i64>,
    /// The same in 元 as a decimal string (`"12.50"`: at most 2 decimals; no sign, exponent or
    /// grouping commas); with the fen form too, both must be the same amount.
    pub non_technical_costs_yuan: Option<String>,
}

impl DecisionRequest {
    pub fn parse(self, rejecting: bool) -> Result<(Option<String>, Option<Fen>), FieldErrors> {
        let mut e = FieldErrors::new();
        let note = e.opt_text("note", self.note.as_deref(), 2000);
        if rejecting && note.is_none() {
            e.add("note", "required", "say why the request is rejected");
        }
        if rejecting
            && (self.non_technical_costs.is_some() || self.non_technical_costs_yuan.is_some())
        {
            e.add(
                "non_technical_costs",
                "not_allowed",
                "only an approval fixes amounts",
            );
        }
        let costs = opt_amount(
            &mut e,
            "non_technical_costs",
            self.non_technical_costs,
            self.non_technical_costs_yuan.as_deref(),
        );
        e.finish((note, costs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(v: serde_json::Value) -> ContractInput {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn parses_a_contract_and_gathers_all_errors() {
        let ok = body(serde_json::json!({
            "title": "锂电池正极材料制备技术开发",
            "sub_kind": "entrusted_development",
            "buyer": {"name": "星河新能源科技有限公司", "credit_code": "91320505MA0000033X",
                      "entity_kind": "enterprise", "region_code": "320505"},
            "contract_amount": 100000000,
            "signed_on": "2026-03-01",
            "tech_field": "new_energy"
        }));
        // the credit code above has a wrong check character
        let e = ok.parse().unwrap_err();
        assert_eq!(e.0[0].field, "buyer.credit_code");

        let bad = body(serde_json::json!({
            "title": "x",
            "kind": "transfer",
            "sub_kind": "entrusted_development",
            "buyer": {"org_id": 3, "name": "also a name"},
            "others": [{"name": "某人", "entity_kind": "individual", "region_code": "999999"}],
            "contract_amount": -5,
            "researcher_reward_bp": 20000,
            "documents": [{"name": "", "sha256": "xyz"}],
            "signed_on": "2026-03-01",
            "tech_field": "new_energy"
        }));
        let fields: Vec<_> = bad
            .parse()
            .unwrap_err()
            .0
            .into_iter()
            .map(|f| (f.field, f.code))
            .collect();
        for want in [
            ("title", "too_short"),
            ("kind", "kind_mismatch"),
            ("buyer", "ambiguous"),
            ("others[0].region_code", "invalid_region"),
            ("contract_amount", "invalid_amount"),
            ("researcher_reward_bp", "out_of_range"),
            ("documents[0].name", "required"),
            ("documents[0].sha256", "invalid_sha256"),
        ] {
            assert!(
                fields.contains(&(want.0.to_string(), want.1.to_string())),
                "missing {want:?} in {fields:?}"
            );
        }
    }

    #[test]
    fn outside_parties_need_a_credit_code_unless_individuals() {
        let mut e = FieldErrors::new();
        let p = PartyInput {
            org_id: None,
            name: Some("张三".into()),
            credit_code: None,
            entity_kind: Some(EntityKind::Individual),
            region_code: Some("110108".into()),
        };
        assert!(matches!(
            p.parse("buyer", &mut e),
            Some(PartyRef::Outside(_))
        ));
        assert!(e.is_empty());
        let p = PartyInput {
            org_id: None,
            name: Some("某公司".into()),
            credit_code: None,
            entity_kind: Some(EntityKind::Enterprise),
            region_code: Some("110108".into()),
        };
        assert!(p.parse("buyer", &mut e).is_none());
        assert_eq!(e.0[0].field, "buyer.credit_code");
    }

    #[test]
    fn refusal_other_needs_text() {
        let r = RefuseRequest {
            ground: RefusalGround::Other,
            text: None,
        };
        assert_eq!(r.parse().unwrap_err().0[0].field, "text");
        let r = RefuseRequest {
            ground: RefusalGround::NotTechnologyContract,
            text: None,
        };
        assert!(r.parse().is_ok());
        assert!(ReturnRequest { reasons: vec![] }.parse().is_err());
    }
}
