//! Amendments of registered contracts: what may change (amounts, parties other than the
//! seller, term, payment plan, documents; and, in a station's imported history, the
//! classification) and the contract that results.
use super::content::{ContractContent, Document, Instalment, Party};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use ttx_core::{ContractSubKind, Fen, IpKind, TechField};

/// Requested changes; `None` leaves a value as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmendmentChanges {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_amount: Option<Fen>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub non_technical_costs: Option<Fen>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_plan: Option<Vec<Instalment>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer: Option<Party>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub others: Option<Vec<Party>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub term_start: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub term_end: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documents: Option<Vec<Document>>,
    /// The declared sub-kind. The API's amendment requests do not change the classification;
    /// a station's imported history may (`ttx import amendments`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_kind: Option<ContractSubKind>,
    /// The sub-kind the station recognised, which the ledger books by. Not part of the
    /// content: [`AmendmentChanges::apply`] leaves it to the caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recognised_sub_kind: Option<ContractSubKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tech_field: Option<TechField>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_kind: Option<IpKind>,
}

impl AmendmentChanges {
    /// The contract after the changes.
    pub fn apply(&self, c: &ContractContent) -> ContractContent {
        let mut n = c.clone();
        if let Some(v) = self.contract_amount {
            n.contract_amount = v;
        }
        if let Some(v) = self.non_technical_costs {
            n.non_technical_costs = v;
        }
        if let Some(v) = &self.payment_plan {
            n.payment_plan = v.clone();
        }
        if let Some(v) = &self.buyer {
            n.buyer = v.clone();
        }
        if let Some(v) = &self.others {
            n.others = v.clone();
        }
        if let Some(v) = self.term_start {
            n.term_start = Some(v);
        }
        if let Some(v) = self.term_end {
            n.term_end = Some(v);
        }
        if let Some(v) = &self.documents {
            // An amendment adds its documents (the amendment agreement, new annexes) to the
            // contract's list; a document already listed (same SHA-256) is not listed twice.
            for d in v {
                if !n.documents.iter().any(|x| x.sha256 == d.sha256) {
                    n.documents.push(d.clone());
                }
            }
        }
        if let Some(v) = self.sub_kind {
            n.sub_kind = v;
        }
        if let Some(v) = self.tech_field {
            n.tech_field = v;
        }
        if let Some(v) = self.ip_kind {
            n.ip_kind = Some(v);
        }
        n
    }

    /// The values the changes replace, for the record (the recognised sub-kind is not in the
    /// content: the caller fills it in).
    pub fn before(&self, c: &ContractContent) -> AmendmentChanges {
        AmendmentChanges {
            contract_amount: self.contract_amount.map(|_| c.contract_amount),
            non_technical_costs: self.non_technical_costs.map(|_| c.non_technical_costs),
            payment_plan: self.payment_plan.as_ref().map(|_| c.payment_plan.clone()),
            buyer: self.buyer.as_ref().map(|_| c.buyer.clone()),
            others: self.others.as_ref().map(|_| c.others.clone()),
            term_start: self.term_start.and(c.term_start),
            term_end: self.term_end.and(c.term_end),
            documents: self.documents.as_ref().map(|_| c.documents.clone()),
            sub_kind: self.sub_kind.map(|_| c.sub_kind),
            recognised_sub_kind: None,
            tech_field: self.tech_field.map(|_| c.tech_field),
            ip_kind: self.ip_kind.and(c.ip_kind),
        }
    }

    /// Whether applying the changes leaves the contract as it is, given the sub-kind it is
    /// currently recognised as.
    pub fn changes_nothing(&self, c: &ContractContent, recognised: ContractSubKind) -> bool {
        self.apply(c) == *c && self.recognised_sub_kind.is_none_or(|r| r == recognised)
    }
}

/// A termination takes effect on or after the day the contract was signed.
pub fn check_termination_date(
    signed_on: NaiveDate,
    effective_on: Option<NaiveDate>,
) -> Result<(), ttx_core::FieldError> {
    match effective_on {
        Some(d) if d < signed_on => Err(ttx_core::FieldError::new(
            "effective_on",
            "before_signing",
            "a contract cannot end before it was signed",
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod termination_tests {
    use super::*;

    #[test]
    fn a_contract_cannot_end_before_it_was_signed() {
        let signed: NaiveDate = "2026-03-01".parse().unwrap();
        assert!(check_termination_date(signed, None).is_ok());
        assert!(check_termination_date(signed, Some(signed)).is_ok());
        let e = check_termination_date(signed, Some(signed.pred_opt().unwrap())).unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.code.as_str()),
            ("effective_on", "before_signing")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::content::tests::{d, party, sample};
    use super::*;

    #[test]
    fn an_amendment_adds_documents_to_the_list() {
        let c = crate::domain::content::tests::sample();
        let doc = |n: &str, h: char| crate::domain::Document {
            name: n.into(),
            sha256: h.to_string().repeat(64),
            size_bytes: Some(10),
        };
        let ch = AmendmentChanges {
            documents: Some(vec![doc("变更协议.pdf", 'b'), doc("合同文本.pdf", 'a')]),
            ..Default::default()
        };
        let n = ch.apply(&c);
        let names: Vec<&str> = n.documents.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, vec!["合同文本.pdf", "变更协议.pdf"]);
    }

    #[test]
    fn apply_changes_only_what_is_named() {
        let c = sample();
        let ch = AmendmentChanges {
            contract_amount: Some(Fen(150_000_000)),
            term_end: Some(d("2027-12-31")),
            ..Default::default()
        };
        let n = ch.apply(&c);
        assert_eq!(n.contract_amount, Fen(150_000_000));
        assert_eq!(n.term_end, Some(d("2027-12-31")));
        assert_eq!(n.title, c.title);
        assert_eq!(n.technology_amount(), Some(Fen(130_000_000)));
        let before = ch.before(&c);
        assert_eq!(before.contract_amount, Some(c.contract_amount));
        assert_eq!(before.term_end, c.term_end);
        assert_eq!(before.buyer, None);
    }

    #[test]
    fn a_change_to_the_same_values_is_nothing() {
        let c = sample();
        let ch = AmendmentChanges {
            contract_amount: Some(c.contract_amount),
            ..Default::default()
        };
        let r = c.sub_kind;
        assert!(ch.changes_nothing(&c, r));
        assert!(AmendmentChanges::default().changes_nothing(&c, r));
        let ch = AmendmentChanges {
            buyer: Some(party(None, "新买方有限公司", "440305")),
            ..Default::default()
        };
        assert!(!ch.changes_nothing(&c, r));
        // a new recognised sub-kind is a change although the content stays the same
        let ch = AmendmentChanges {
            recognised_sub_kind: Some(ContractSubKind::CooperativeDevelopment),
            ..Default::default()
        };
        assert!(ch.apply(&c) == c && !ch.changes_nothing(&c, r));
        assert!(ch.changes_nothing(&c, ContractSubKind::CooperativeDevelopment));
    }

    #[test]
    fn classification_changes_apply_and_record_what_they_replace() {
        let c = sample();
        let ch = AmendmentChanges {
            sub_kind: Some(ContractSubKind::Consulting),
            tech_field: Some(TechField::Biomedicine),
            ip_kind: Some(IpKind::TechnicalSecret),
            ..Default::default()
        };
        let n = ch.apply(&c);
        assert_eq!(n.sub_kind, ContractSubKind::Consulting);
        assert_eq!(n.tech_field, TechField::Biomedicine);
        assert_eq!(n.ip_kind, Some(IpKind::TechnicalSecret));
        let b = ch.before(&c);
        assert_eq!(b.sub_kind, Some(c.sub_kind));
        assert_eq!(b.tech_field, Some(c.tech_field));
        // the old IP kind was none: nothing to record
        assert_eq!(b.ip_kind, None);
        // what the API stored before these fields existed still reads
        let old: AmendmentChanges = serde_json::from_str(r#"{"contract_amount": 100}"#).unwrap();
        assert_eq!(old.sub_kind, None);
        assert_eq!(
            serde_json::to_string(&old).unwrap(),
            r#"{"contract_amount":100}"#
        );
    }
}
