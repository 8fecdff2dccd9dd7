//! The search outbox: one row per "document changed" note, written in the same transaction
//! as the change and applied to the search engine by the outbox worker (ttx-search).
//!
//! `big_pk_auto` renders as `"id" integer NOT NULL PRIMARY KEY AUTOINCREMENT` on SQLite (a
//! rowid alias, 64-bit) and `"id" bigserial NOT NULL PRIMARY KEY` on PostgreSQL.
use crate::helpers::index;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("search_outbox")
                .col(big_pk_auto("id"))
                .col(string_len("index_name", 64))
                .col(big_integer("doc_id"))
                .col(timestamp_with_time_zone("created_at"))
                .col(integer("attempts").default(0))
                .col(timestamp_with_time_zone_null("next_attempt_at"))
                .col(text_null("last_error"))
                .col(timestamp_with_time_zone_null("processed_at"))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_search_outbox_processed_id",
            "search_outbox",
            &["processed_at", "id"],
            false,
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("search_outbox").to_owned())
            .await
    }
}
