//! Issue 12, smaller items of the listings walk:
//!
//! * `listings.withdrawal_reason`: why a listing was withdrawn (the owner's words, or the
//!   operator's when moderating); cleared when the listing is published again.
//! * `listings.licences_granted`: how many non-exclusive licences (普通许可) were recorded on a
//!   listing that stays open for further licensees, and `listings.last_transacted_at`, when the
//!   last deal (of any kind) was recorded.
//!
//! SQLite adds one column per `ALTER TABLE`, so each column is its own statement.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for col in [
            text_null("withdrawal_reason"),
            integer("licences_granted").default(0).to_owned(),
            timestamp_with_time_zone_null("last_transacted_at"),
        ] {
            let mut col = col;
            m.alter_table(
                Table::alter()
                    .table("listings")
                    .add_column(&mut col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for col in [
            "last_transacted_at",
            "licences_granted",
            "withdrawal_reason",
        ] {
            m.alter_table(Table::alter().table("listings").drop_column(col).to_owned())
                .await?;
        }
        Ok(())
    }
}
