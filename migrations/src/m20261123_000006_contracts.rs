//! Technology contracts: the contracts with their review rounds, amendments and terminations,
//! per-station registration number counters and the append-only turnover ledger.
use crate::helpers::{fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("contracts")
                .col(big_pk_auto("id"))
                .col(string_len("title", 200))
                .col(string_len("kind", 32))
                .col(string_len("sub_kind", 48))
                .col(string_len("status", 16))
                // Parties: the seller (applicant) is a TTX organisation (an outside party only in
                // imported historical registers); the buyer may be either. Snapshots, so later profile edits do not rewrite them.
                .col(big_integer_null("seller_org_id"))
                .col(string_len("seller_name", 200))
                .col(string_len_null("seller_credit_code", 18))
                .col(string_len("seller_region", 6))
                .col(string_len("seller_entity_kind", 32))
                .col(big_integer_null("buyer_org_id"))
                .col(string_len("buyer_name", 200))
                .col(string_len_null("buyer_credit_code", 18))
                .col(string_len("buyer_region", 6))
                .col(string_len("buyer_entity_kind", 32))
                .col(text("other_parties"))
                // Money in fen.
                .col(big_integer("contract_amount"))
                .col(big_integer("non_technical_costs"))
                .col(big_integer("technology_amount"))
                .col(text("payment_plan"))
                .col(date("signed_on"))
                .col(date_null("term_start"))
                .col(date_null("term_end"))
                .col(string_len("tech_field", 48))
                .col(string_len_null("ip_kind", 32))
                .col(string_len_null("programme_source", 200))
                .col(integer_null("researcher_reward_bp"))
                .col(big_integer_null("listing_id"))
                .col(big_integer_null("demand_id"))
                .col(big_integer_null("proposal_id"))
                .col(big_integer_null("match_id"))
                .col(text("documents"))
                .col(string_len("fingerprint", 64))
                .col(string_len("party_key", 64))
                // Set only while registered: the unique index makes a second registration of
                // the same contract impossible, even under concurrency.
                .col(string_len_null("registered_fingerprint", 64))
                .col(big_integer_null("station_id"))
                .col(integer("round").default(0))
                .col(timestamp_with_time_zone_null("submitted_at"))
                .col(big_integer_null("submitted_by"))
                .col(timestamp_with_time_zone_null("accepted_at"))
                .col(big_integer_null("accepted_by"))
                .col(date_null("review_due_on"))
                .col(timestamp_with_time_zone_null("decided_at"))
                .col(big_integer_null("decided_by"))
                .col(string_len_null("registration_number", 32))
                .col(date_null("registered_on"))
                .col(string_len_null("recognised_kind", 32))
                .col(string_len_null("recognised_sub_kind", 48))
                .col(string_len_null("refusal_ground", 32))
                .col(text_null("refusal_text"))
                .col(text_null("return_reasons"))
                .col(date_null("terminated_on"))
                .col(boolean("imported").default(false))
                .col(big_integer("created_by"))
                .col(big_integer("version").default(1))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk(
                    "fk_contracts_seller",
                    ("contracts", "seller_org_id"),
                    ("organizations", "id"),
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_contracts_registration_number",
            "contracts",
            &["registration_number"],
            true,
        )
        .await?;
        index(
            m,
            "ux_contracts_registered_fingerprint",
            "contracts",
            &["registered_fingerprint"],
            true,
        )
        .await?;
        index(
            m,
            "ix_contracts_seller",
            "contracts",
            &["seller_org_id", "id"],
            false,
        )
        .await?;
        index(
            m,
            "ix_contracts_buyer",
            "contracts",
            &["buyer_org_id", "id"],
            false,
        )
        .await?;
        index(
            m,
            "ix_contracts_station",
            "contracts",
            &["station_id", "status", "id"],
            false,
        )
        .await?;
        index(
            m,
            "ix_contracts_party_key",
            "contracts",
            &["party_key"],
            false,
        )
        .await?;
        index(
            m,
            "ix_contracts_seller_region",
            "contracts",
            &["seller_region"],
            false,
        )
        .await?;
        index(
            m,
            "ix_contracts_buyer_region",
            "contracts",
            &["buyer_region"],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table("contract_rounds")
                .col(big_pk_auto("id"))
                .col(big_integer("contract_id"))
                .col(integer("round"))
                .col(big_integer("station_id"))
                .col(timestamp_with_time_zone("submitted_at"))
                .col(big_integer("submitted_by"))
                .col(timestamp_with_time_zone_null("accepted_at"))
                .col(big_integer_null("accepted_by"))
                .col(string_len("outcome", 16))
                .col(timestamp_with_time_zone("decided_at"))
                .col(big_integer("decided_by"))
                .col(text_null("reasons"))
                .col(string_len_null("ground", 32))
                .col(text_null("note"))
                .col(text("snapshot"))
                .foreign_key(&mut fk(
                    "fk_contract_rounds_contract",
                    ("contract_rounds", "contract_id"),
                    ("contracts", "id"),
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_contract_rounds",
            "contract_rounds",
            &["contract_id", "round"],
            true,
        )
        .await?;

        m.create_table(
            Table::create()
                .table("contract_amendments")
                .col(big_pk_auto("id"))
                .col(big_integer("contract_id"))
                .col(string_len("kind", 16))
                .col(string_len("status", 16))
                .col(text("reason"))
                .col(text_null("changes"))
                .col(text_null("before"))
                .col(big_integer("station_id"))
                .col(big_integer("submitted_by"))
                .col(timestamp_with_time_zone("submitted_at"))
                .col(big_integer_null("decided_by"))
                .col(timestamp_with_time_zone_null("decided_at"))
                .col(date_null("effective_on"))
                .col(text_null("decision_note"))
                .foreign_key(&mut fk(
                    "fk_contract_amendments_contract",
                    ("contract_amendments", "contract_id"),
                    ("contracts", "id"),
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_contract_amendments_contract",
            "contract_amendments",
            &["contract_id", "id"],
            false,
        )
        .await?;
        index(
            m,
            "ix_contract_amendments_station",
            "contract_amendments",
            &["station_id", "status"],
            false,
        )
        .await?;

        // A station's code in registration numbers: its region code and an ordinal among
        // stations sharing that region code.
        m.create_table(
            Table::create()
                .table("station_codes")
                .col(big_pk_auto("id"))
                .col(big_integer("station_id"))
                .col(string_len("code", 8))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_station_codes_station",
            "station_codes",
            &["station_id"],
            true,
        )
        .await?;
        index(m, "ux_station_codes_code", "station_codes", &["code"], true).await?;

        // One row per (station, year): the last sequence number issued, updated in the
        // registering transaction.
        m.create_table(
            Table::create()
                .table("registration_counters")
                .col(big_pk_auto("id"))
                .col(big_integer("station_id"))
                .col(integer("year"))
                .col(string_len("station_code", 8))
                .col(big_integer("last_seq").default(0))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_registration_counters",
            "registration_counters",
            &["station_id", "year"],
            true,
        )
        .await?;

        m.create_table(
            Table::create()
                .table("ledger_entries")
                .col(big_pk_auto("id"))
                .col(big_integer("contract_id"))
                .col(big_integer_null("amendment_id"))
                .col(string_len("entry_kind", 16))
                .col(date("booked_on"))
                .col(integer("count_delta"))
                .col(big_integer("contract_amount_delta"))
                .col(big_integer("technology_amount_delta"))
                .col(big_integer("station_id"))
                .col(big_integer_null("seller_org_id"))
                .col(string_len("seller_region", 6))
                .col(string_len("seller_entity_kind", 32))
                .col(big_integer_null("buyer_org_id"))
                .col(string_len("buyer_region", 6))
                .col(string_len("buyer_entity_kind", 32))
                .col(string_len("kind", 32))
                .col(string_len("sub_kind", 48))
                .col(string_len("tech_field", 48))
                .col(string_len_null("ip_kind", 32))
                .col(string_len_null("programme_source", 200))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk(
                    "fk_ledger_entries_contract",
                    ("ledger_entries", "contract_id"),
                    ("contracts", "id"),
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_ledger_booked_on",
            "ledger_entries",
            &["booked_on"],
            false,
        )
        .await?;
        index(
            m,
            "ix_ledger_seller_org",
            "ledger_entries",
            &["seller_org_id", "booked_on"],
            false,
        )
        .await?;
        index(
            m,
            "ix_ledger_station",
            "ledger_entries",
            &["station_id", "booked_on"],
            false,
        )
        .await?;
        index(
            m,
            "ix_ledger_contract",
            "ledger_entries",
            &["contract_id", "id"],
            false,
        )
        .await?;

        // The ledger is append-only: the database refuses to change or remove an entry.
        let db = m.get_connection();
        match m.get_database_backend() {
            sea_orm_migration::sea_orm::DatabaseBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE FUNCTION ledger_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ \
                     BEGIN RAISE EXCEPTION 'ledger entries are append-only'; END $$",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries \
                     FOR EACH ROW EXECUTE FUNCTION ledger_entries_append_only()",
                )
                .await?;
            }
            _ => {
                for op in ["UPDATE", "DELETE"] {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER ledger_entries_no_{} BEFORE {op} ON ledger_entries \
                         BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END",
                        op.to_lowercase()
                    ))
                    .await?;
                }
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "ledger_entries",
            "registration_counters",
            "station_codes",
            "contract_amendments",
            "contract_rounds",
            "contracts",
        ] {
            m.drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        if m.get_database_backend() == sea_orm_migration::sea_orm::DatabaseBackend::Postgres {
            m.get_connection()
                .execute_unprepared("DROP FUNCTION IF EXISTS ledger_entries_append_only()")
                .await?;
        }
        Ok(())
    }
}
