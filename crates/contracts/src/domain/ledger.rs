//! The turnover ledger's bookings (DESIGN.md section 4).
//!
//! Every statistic is a sum over ledger entries, and entries are only ever appended:
//! - registering books `+1` contract with its amounts on the registration date;
//! - an approved amendment books the difference on the approval date. When a dimension changes
//!   (say the buyer moves to another region) the old booking is reversed and the new one booked,
//!   so every breakdown stays right;
//! - a termination reverses the booking.
//!
//! Summing the deltas of a contract gives what it currently counts for: one contract with its
//! amounts while registered, nothing once terminated.
use ttx_core::{ContractKind, ContractSubKind, EntityKind, Fen, IpKind, RegionCode, TechField};

/// The dimensions statistics break turnover down by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerDims {
    pub station_id: i64,
    pub seller_org_id: Option<i64>,
    pub seller_region: RegionCode,
    pub seller_entity_kind: EntityKind,
    pub buyer_org_id: Option<i64>,
    pub buyer_region: RegionCode,
    pub buyer_entity_kind: EntityKind,
    pub kind: ContractKind,
    pub sub_kind: ContractSubKind,
    pub tech_field: TechField,
    pub ip_kind: Option<IpKind>,
    pub programme_source: Option<String>,
}

/// What a registered contract counts for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Booking {
    pub dims: LedgerDims,
    pub contract_amount: Fen,
    pub technology_amount: Fen,
}

/// Why an entry was booked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    Registration,
    Amendment,
    Termination,
    Import,
}

impl EntryKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            EntryKind::Registration => "registration",
            EntryKind::Amendment => "amendment",
            EntryKind::Termination => "termination",
            EntryKind::Import => "import",
        }
    }
}

/// One entry to append.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerDelta {
    pub kind: EntryKind,
    pub dims: LedgerDims,
    pub count: i32,
    pub contract_amount: Fen,
    pub technology_amount: Fen,
}

impl LedgerDelta {
    fn book(kind: EntryKind, b: &Booking) -> Self {
        LedgerDelta {
            kind,
            dims: b.dims.clone(),
            count: 1,
            contract_amount: b.contract_amount,
            technology_amount: b.technology_amount,
        }
    }
    fn reverse(kind: EntryKind, b: &Booking) -> Self {
        LedgerDelta {
            kind,
            dims: b.dims.clone(),
            count: -1,
            contract_amount: -b.contract_amount,
            technology_amount: -b.technology_amount,
        }
    }
}

/// Registration: the contract with its amounts.
pub fn on_register(b: &Booking) -> Vec<LedgerDelta> {
    vec![LedgerDelta::book(EntryKind::Registration, b)]
}

/// Import of a historically registered contract: as a registration, on its original date.
pub fn on_import(b: &Booking) -> Vec<LedgerDelta> {
    vec![LedgerDelta::book(EntryKind::Import, b)]
}

/// Approved amendment: the difference. Nothing when nothing counted changed (e.g. only the
/// term was extended).
pub fn on_amendment(before: &Booking, after: &Booking) -> Vec<LedgerDelta> {
    if before.dims == after.dims {
        let d = LedgerDelta {
            kind: EntryKind::Amendment,
            dims: after.dims.clone(),
            count: 0,
            contract_amount: after.contract_amount - before.contract_amount,
            technology_amount: after.technology_amount - before.technology_amount,
        };
        if d.contract_amount == Fen::ZERO && d.technology_amount == Fen::ZERO {
            vec![]
        } else {
            vec![d]
        }
    } else {
        vec![
            LedgerDelta::reverse(EntryKind::Amendment, before),
            LedgerDelta::book(EntryKind::Amendment, after),
        ]
    }
}

/// Approved termination: the reversal of what the contract counts for.
pub fn on_termination(current: &Booking) -> Vec<LedgerDelta> {
    vec![LedgerDelta::reverse(EntryKind::Termination, current)]
}

/// Net count and amounts of some deltas.
pub fn net<'a>(deltas: impl IntoIterator<Item = &'a LedgerDelta>) -> (i64, Fen, Fen) {
    deltas
        .into_iter()
        .fold((0, Fen::ZERO, Fen::ZERO), |acc, d| {
            (
                acc.0 + d.count as i64,
                acc.1 + d.contract_amount,
                acc.2 + d.technology_amount,
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn booking(amount: i64, tech: i64, buyer_region: &str) -> Booking {
        Booking {
            dims: LedgerDims {
                station_id: 1,
                seller_org_id: Some(10),
                seller_region: RegionCode::parse("110108").unwrap(),
                seller_entity_kind: EntityKind::University,
                buyer_org_id: None,
                buyer_region: RegionCode::parse(buyer_region).unwrap(),
                buyer_entity_kind: EntityKind::Enterprise,
                kind: ContractKind::Development,
                sub_kind: ContractSubKind::EntrustedDevelopment,
                tech_field: TechField::NewEnergy,
                ip_kind: None,
                programme_source: None,
            },
            contract_amount: Fen(amount),
            technology_amount: Fen(tech),
        }
    }

    #[test]
    fn registration_books_one_contract() {
        let b = booking(1000, 800, "320505");
        let d = on_register(&b);
        assert_eq!(net(&d), (1, Fen(1000), Fen(800)));
        assert_eq!(d[0].kind, EntryKind::Registration);
    }

    #[test]
    fn amendment_books_the_difference() {
        let a = booking(1000, 800, "320505");
        let b = booking(1500, 1200, "320505");
        let d = on_amendment(&a, &b);
        assert_eq!(d.len(), 1);
        assert_eq!(net(&d), (0, Fen(500), Fen(400)));
        // a reduction is negative
        assert_eq!(net(&on_amendment(&b, &a)), (0, Fen(-500), Fen(-400)));
        // nothing counted changed: nothing booked
        assert!(on_amendment(&a, &a.clone()).is_empty());
    }

    #[test]
    fn a_changed_dimension_moves_the_booking() {
        let a = booking(1000, 800, "320505");
        let b = booking(1200, 900, "440305");
        let d = on_amendment(&a, &b);
        assert_eq!(d.len(), 2);
        assert_eq!(
            (d[0].count, d[0].contract_amount, &d[0].dims.buyer_region),
            (-1, Fen(-1000), &a.dims.buyer_region)
        );
        assert_eq!(
            (d[1].count, d[1].contract_amount, &d[1].dims.buyer_region),
            (1, Fen(1200), &b.dims.buyer_region)
        );
        assert_eq!(net(&d), (0, Fen(200), Fen(100)));
    }

    #[test]
    fn the_whole_life_sums_to_what_is_live() {
        let a = booking(1000, 800, "320505");
        let b = booking(1500, 1200, "320505");
        let c = booking(1500, 1100, "440305");
        let mut all = on_register(&a);
        all.extend(on_amendment(&a, &b));
        assert_eq!(net(&all), (1, Fen(1500), Fen(1200)));
        all.extend(on_amendment(&b, &c));
        assert_eq!(net(&all), (1, Fen(1500), Fen(1100)));
        all.extend(on_termination(&c));
        assert_eq!(net(&all), (0, Fen::ZERO, Fen::ZERO));
        // per dimension too: nothing is left in the old buyer region
        let old_region = a.dims.buyer_region;
        let left = net(all.iter().filter(|d| d.dims.buyer_region == old_region));
        assert_eq!(left, (0, Fen::ZERO, Fen::ZERO));
    }
}
