//! Amendments of registered contracts: what may change (amounts, parties other than the
//! seller, term, payment plan, documents) and the contract that results.
use super::content::{ContractContent, Document, Instalment, Party};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use ttx_core::Fen;

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
            n.documents = v.clone();
        }
        n
    }

    /// The values the changes replace, for the record.
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
        }
    }

    /// Whether applying the changes leaves the contract as it is.
    pub fn changes_nothing(&self, c: &ContractContent) -> bool {
        self.apply(c) == *c
    }
}

#[cfg(test)]
mod tests {
    use super::super::content::tests::{d, party, sample};
    use super::*;

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
        assert!(ch.changes_nothing(&c));
        assert!(AmendmentChanges::default().changes_nothing(&c));
        let ch = AmendmentChanges {
            buyer: Some(party(None, "新买方有限公司", "440305")),
            ..Default::default()
        };
        assert!(!ch.changes_nothing(&c));
    }
}
