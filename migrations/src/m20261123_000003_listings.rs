//! Technology listings (科技成果).
//!
//! Lists (keywords, transfer modes, IP items) are stored as JSON text: they are always read and
//! written with their listing, and searching over them is the search index's job.
use crate::helpers::{fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("listings")
                .col(big_pk_auto("id"))
                .col(big_integer("owner_org_id"))
                .col(big_integer_null("created_by"))
                .col(string_len("title", 200))
                .col(text("summary"))
                .col(text("description"))
                // JSON array of strings
                .col(text("keywords"))
                .col(string_len("field", 32))
                .col(small_integer("trl"))
                // JSON array of {kind, number, status, title}
                .col(text("ip_items"))
                // JSON array of transfer mode codes
                .col(text("transfer_modes"))
                // fixed | range | negotiable; amounts in fen
                .col(string_len("price_kind", 16))
                .col(big_integer_null("price_min"))
                .col(big_integer_null("price_max"))
                .col(string_len("region_code", 6))
                .col(string_len_null("registration_no", 64))
                .col(boolean("dual_use").default(false))
                .col(date_null("expires_on"))
                .col(string_len_null("contact_name", 100))
                .col(string_len_null("contact_phone", 32))
                .col(string_len_null("contact_email", 254))
                // draft | published | withdrawn | expired | transacted
                .col(string_len("status", 16))
                .col(string_len_null("external_id", 128))
                .col(big_integer("version").default(1))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(timestamp_with_time_zone_null("published_at"))
                .col(timestamp_with_time_zone_null("closed_at"))
                .foreign_key(&mut fk(
                    "fk_listings_owner_org",
                    ("listings", "owner_org_id"),
                    ("organizations", "id"),
                ))
                .to_owned(),
        )
        .await?;
        // Re-import by external id updates instead of duplicating; NULLs do not collide.
        index(
            m,
            "ux_listings_owner_external",
            "listings",
            &["owner_org_id", "external_id"],
            true,
        )
        .await?;
        index(
            m,
            "ix_listings_owner_status",
            "listings",
            &["owner_org_id", "status", "id"],
            false,
        )
        .await?;
        // The expiry job and the reindex scan.
        index(
            m,
            "ix_listings_status_expires",
            "listings",
            &["status", "expires_on"],
            false,
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("listings").to_owned())
            .await
    }
}
