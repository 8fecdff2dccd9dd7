//! Issue 12 (parties reach each other), the seller's side of contracts and documents:
//!
//! * `documents`: real files of listings, proposals and contracts. The bytes live in the
//!   configured storage (a directory under the data dir, or S3-compatible object storage),
//!   addressed by their SHA-256; a row says which thing a file belongs to, under which name
//!   and type, and (contracts) which amendment added it.
//! * `contracts.review_reminded_round`: the review round whose "deadline near" reminder was
//!   sent, so the reminder job sends it once per round.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("documents")
                .col(big_pk_auto("id"))
                // listing | proposal | contract
                .col(string_len("owner_type", 16))
                .col(big_integer("owner_id"))
                // The organisation that uploaded it.
                .col(big_integer("org_id"))
                .col(string_len("name", 200))
                .col(string_len("content_type", 100))
                // Lower-case hex SHA-256 of the bytes: the storage key.
                .col(string_len("sha256", 64))
                .col(big_integer("size_bytes"))
                // An amendment of a contract that brought this document.
                .col(big_integer_null("amendment_id"))
                .col(big_integer("uploaded_by"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_documents_owner_sha")
                .table("documents")
                .col("owner_type")
                .col("owner_id")
                .col("sha256")
                .unique()
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("contracts")
                .add_column(integer_null("review_reminded_round"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("contracts")
                .drop_column("review_reminded_round")
                .to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table("documents").to_owned())
            .await
    }
}
