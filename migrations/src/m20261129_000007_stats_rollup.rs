//! Turnover statistics: a monthly roll-up of the ledger at city level, kept in the same
//! transaction as every ledger append (`ttx_contracts::rollup`), and indexes that let reports
//! read the ledger itself by region and date (county detail, partial months).
use crate::helpers::index;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("stats_monthly")
                .col(big_pk_auto("id"))
                // First day of the month the entries were booked in.
                .col(date("month"))
                // `o` technology output (by seller region), `a` absorption (by buyer region),
                // `f` flows (region = seller city, value = buyer city).
                .col(string_len("side", 1))
                // The side's city: the first four digits of the region code, then `00`.
                .col(string_len("region", 6))
                // `total`, `kind`, `sub_kind`, `field`, `seller_entity_kind`,
                // `buyer_entity_kind`, `ip_kind`, `programme`, or `flow`.
                .col(string_len("dim", 24))
                // The dimension's value ('' for `total` and for an absent ip kind / programme).
                .col(string_len("value", 200))
                .col(big_integer("count"))
                .col(big_integer("contract_amount"))
                .col(big_integer("technology_amount"))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_stats_monthly",
            "stats_monthly",
            &["side", "dim", "month", "region", "value"],
            true,
        )
        .await?;
        for (name, cols) in [
            ("ix_ledger_seller_region", ["seller_region", "booked_on"]),
            ("ix_ledger_buyer_region", ["buyer_region", "booked_on"]),
        ] {
            index(m, name, "ledger_entries", &cols, false).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for name in ["ix_ledger_seller_region", "ix_ledger_buyer_region"] {
            m.drop_index(Index::drop().name(name).table("ledger_entries").to_owned())
                .await?;
        }
        m.drop_table(Table::drop().table("stats_monthly").if_exists().to_owned())
            .await
    }
}
