//! The database refuses status, kind and role values the code does not know.
//!
//! Each column below holds the code of a Rust enum (`ttx_core::OrgKind`, `ListingStatus`,
//! `ContractStatus`, ...). PostgreSQL gets a `CHECK (column IN (...))` constraint; SQLite, which
//! cannot add a constraint to an existing table, gets a `BEFORE INSERT` and a `BEFORE UPDATE OF`
//! trigger that abort with the same message. A NULL stays allowed where the column allows it.
//!
//! The lists are frozen here, as a migration must be: the values are the enums' code lists of
//! today, and a test of the server (`schema_checks_match_the_enums`) compares every list with its
//! enum's `ALL`, so a variant added to an enum without a migration that widens its check fails
//! the build's tests instead of failing inserts in production.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// One checked column and the values it accepts.
#[derive(Clone, Copy, Debug)]
pub struct Check {
    pub table: &'static str,
    pub column: &'static str,
    pub values: &'static [&'static str],
}

impl Check {
    /// The constraint's (and the triggers' stem) name.
    pub fn name(&self) -> String {
        format!("ck_{}_{}", self.table, self.column)
    }
}

/// `ttx_core::OrgKind`
pub const ORG_KINDS: &[&str] = &[
    "university",
    "research_institute",
    "enterprise",
    "agency",
    "station",
    "bureau",
    "operator",
];
/// `ttx_core::Role`
pub const ROLES: &[&str] = &[
    "org_admin",
    "member",
    "broker",
    "station_reviewer",
    "bureau_analyst",
    "operator",
];
/// `ttx_core::ContractKind`
pub const CONTRACT_KINDS: &[&str] = &[
    "development",
    "transfer",
    "license",
    "consulting",
    "service",
];
/// `ttx_core::ContractSubKind`
pub const CONTRACT_SUB_KINDS: &[&str] = &[
    "entrusted_development",
    "cooperative_development",
    "patent_right_transfer",
    "patent_application_right_transfer",
    "technical_secret_transfer",
    "other_rights_transfer",
    "patent_license",
    "technical_secret_license",
    "other_license",
    "consulting",
    "general_service",
    "training",
    "intermediary",
];
/// `ttx_core::EntityKind`
pub const ENTITY_KINDS: &[&str] = &[
    "enterprise",
    "university",
    "research_institute",
    "hospital",
    "individual",
    "other",
];
/// `ttx_core::IpKind`
pub const IP_KINDS: &[&str] = &[
    "invention_patent",
    "utility_model",
    "design",
    "software",
    "ic_layout",
    "plant_variety",
    "technical_secret",
    "other",
];
/// `ttx_listings::domain::ListingStatus`
pub const LISTING_STATUSES: &[&str] = &["draft", "published", "withdrawn", "expired", "transacted"];
/// `ttx_demands::domain::DemandStatus`
pub const DEMAND_STATUSES: &[&str] = &[
    "draft",
    "open",
    "in_negotiation",
    "resolved",
    "closed",
    "expired",
];
/// `ttx_demands::challenge::ProposalStatus`
pub const PROPOSAL_STATUSES: &[&str] = &[
    "submitted",
    "shortlisted",
    "accepted",
    "declined",
    "not_selected",
];
/// `ttx_contracts::domain::ContractStatus`
pub const CONTRACT_STATUSES: &[&str] = &[
    "draft",
    "submitted",
    "accepted",
    "returned",
    "registered",
    "refused",
    "terminated",
];
/// `ttx_contracts::domain::AmendmentKind`
pub const AMENDMENT_KINDS: &[&str] = &["amendment", "termination"];
/// `ttx_contracts::domain::AmendmentStatus`
pub const AMENDMENT_STATUSES: &[&str] = &["pending", "approved", "rejected"];
/// `ttx_contracts::domain::ledger::EntryKind`
pub const LEDGER_ENTRY_KINDS: &[&str] = &["registration", "amendment", "termination", "import"];
/// `ttx_matching::pipeline::domain::Stage`
pub const MATCH_STAGES: &[&str] = &["suggested", "introduced", "negotiating", "signed", "closed"];
/// `ttx_notify::worker::{PENDING, DELIVERED, FAILED, CANCELLED}`
pub const DELIVERY_STATUSES: &[&str] = &["pending", "delivered", "failed", "cancelled"];

const fn check(
    table: &'static str,
    column: &'static str,
    values: &'static [&'static str],
) -> Check {
    Check {
        table,
        column,
        values,
    }
}

/// Every checked column.
pub const CHECKS: &[Check] = &[
    check("organizations", "kind", ORG_KINDS),
    check("users", "role", ROLES),
    check("listings", "status", LISTING_STATUSES),
    check("demands", "status", DEMAND_STATUSES),
    check("proposals", "status", PROPOSAL_STATUSES),
    check("contracts", "status", CONTRACT_STATUSES),
    check("contracts", "kind", CONTRACT_KINDS),
    check("contracts", "sub_kind", CONTRACT_SUB_KINDS),
    check("contracts", "seller_entity_kind", ENTITY_KINDS),
    check("contracts", "buyer_entity_kind", ENTITY_KINDS),
    check("contracts", "ip_kind", IP_KINDS),
    check("contracts", "recognised_kind", CONTRACT_KINDS),
    check("contracts", "recognised_sub_kind", CONTRACT_SUB_KINDS),
    check("contract_amendments", "kind", AMENDMENT_KINDS),
    check("contract_amendments", "status", AMENDMENT_STATUSES),
    check("ledger_entries", "entry_kind", LEDGER_ENTRY_KINDS),
    check("ledger_entries", "kind", CONTRACT_KINDS),
    check("ledger_entries", "sub_kind", CONTRACT_SUB_KINDS),
    check("ledger_entries", "seller_entity_kind", ENTITY_KINDS),
    check("ledger_entries", "buyer_entity_kind", ENTITY_KINDS),
    check("ledger_entries", "ip_kind", IP_KINDS),
    check("matches", "stage", MATCH_STAGES),
    check("match_events", "to_stage", MATCH_STAGES),
    check("match_events", "from_stage", MATCH_STAGES),
    check("match_feedback", "role", ROLES),
    check("match_feedback", "org_kind", ORG_KINDS),
    check("webhook_deliveries", "status", DELIVERY_STATUSES),
];

/// `'a', 'b', ...`: the values are code constants of the form `[a-z0-9_]+` (asserted), never input.
fn in_list(values: &[&str]) -> String {
    values
        .iter()
        .map(|v| {
            assert!(
                !v.is_empty()
                    && v.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "check value {v:?}"
            );
            format!("'{v}'")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The statements that add `c` on `backend`.
pub fn add_statements(backend: DatabaseBackend, c: &Check) -> Vec<String> {
    let (t, col, name, list) = (c.table, c.column, c.name(), in_list(c.values));
    match backend {
        DatabaseBackend::Sqlite => {
            let abort = format!(
                "BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: {name} ({t}.{col} must be one of {})'); END",
                c.values.join(", ")
            );
            vec![
                format!(
                    "CREATE TRIGGER \"{name}_insert\" BEFORE INSERT ON \"{t}\" FOR EACH ROW \
                     WHEN NEW.\"{col}\" NOT IN ({list}) {abort}"
                ),
                format!(
                    "CREATE TRIGGER \"{name}_update\" BEFORE UPDATE OF \"{col}\" ON \"{t}\" FOR EACH ROW \
                     WHEN NEW.\"{col}\" NOT IN ({list}) {abort}"
                ),
            ]
        }
        _ => vec![format!(
            "ALTER TABLE \"{t}\" ADD CONSTRAINT \"{name}\" CHECK (\"{col}\" IN ({list}))"
        )],
    }
}

/// The statements that drop `c` on `backend`.
pub fn drop_statements(backend: DatabaseBackend, c: &Check) -> Vec<String> {
    let name = c.name();
    match backend {
        DatabaseBackend::Sqlite => vec![
            format!("DROP TRIGGER IF EXISTS \"{name}_insert\""),
            format!("DROP TRIGGER IF EXISTS \"{name}_update\""),
        ],
        _ => vec![format!(
            "ALTER TABLE \"{}\" DROP CONSTRAINT IF EXISTS \"{name}\"",
            c.table
        )],
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let backend = m.get_database_backend();
        let db = m.get_connection();
        for c in CHECKS {
            for sql in add_statements(backend, c) {
                db.execute_unprepared(&sql).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let backend = m.get_database_backend();
        let db = m.get_connection();
        for c in CHECKS.iter().rev() {
            for sql in drop_statements(backend, c) {
                db.execute_unprepared(&sql).await?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_column_is_checked_once_with_safe_values() {
        let mut seen = std::collections::HashSet::new();
        for c in CHECKS {
            assert!(seen.insert((c.table, c.column)), "{}", c.name());
            assert!(!in_list(c.values).is_empty());
            for b in [DatabaseBackend::Sqlite, DatabaseBackend::Postgres] {
                assert!(!add_statements(b, c).is_empty());
            }
        }
        assert!(CHECKS.len() >= 13);
    }

    #[test]
    fn statements_name_the_column_and_its_values() {
        let c = check("listings", "status", LISTING_STATUSES);
        let pg = add_statements(DatabaseBackend::Postgres, &c);
        assert_eq!(
            pg[0],
            "ALTER TABLE \"listings\" ADD CONSTRAINT \"ck_listings_status\" CHECK (\"status\" IN \
             ('draft', 'published', 'withdrawn', 'expired', 'transacted'))"
        );
        let lite = add_statements(DatabaseBackend::Sqlite, &c);
        assert!(lite[0].contains("BEFORE INSERT ON \"listings\""));
        assert!(lite[1].contains("BEFORE UPDATE OF \"status\" ON \"listings\""));
        assert!(lite[1].contains("NOT IN ('draft', 'published'"));
    }
}
