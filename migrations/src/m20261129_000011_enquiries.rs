//! Enquiries (`ttx-enquiries`): an organisation asks about another's listing or need, the
//! owner answers, accepts (contact revealed) or declines; the thread of messages; a daily quota
//! row per sending organisation; the confidential parts of listings behind a versioned NDA;
//! every acceptance of an NDA; and the disclosure log (reveals and reads of contact details and
//! confidential parts by anyone outside the owner organisation).
//!
//! An enquiry's `open_key` is `subject_type:subject_id:sender_org_id` while the enquiry is live
//! (open, answered or accepted) and NULL once declined or closed: its unique index keeps one live
//! enquiry per organisation and item (NULLs never collide, on SQLite as on PostgreSQL).
//!
//! `subject_id` / `offer_id` name a listing or a need (by `*_type`), so they carry no foreign key;
//! `listing_confidential.listing_id` neither, so deleting a draft listing is never blocked.
use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::{fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("enquiries")
                .col(big_pk_auto("id"))
                // listing | demand
                .col(string_len("subject_type", 8))
                .col(big_integer("subject_id"))
                // The organisation owning the item when the enquiry was sent.
                .col(big_integer("owner_org_id"))
                .col(big_integer("sender_org_id"))
                .col(big_integer("sender_user_id"))
                // license | transfer | co_development | more_data
                .col(string_len("purpose", 16))
                .col(text("message"))
                // The sender's own listing or need it offers, if any.
                .col(string_len_null("offer_type", 8))
                .col(big_integer_null("offer_id"))
                // open | answered | accepted | declined | closed
                .col(string_len("status", 16))
                .col(text_null("decline_reason"))
                .col(text_null("close_reason"))
                .col(string_len_null("open_key", 64))
                // The NDA version the sender accepted last, by whom and when.
                .col(integer_null("nda_version"))
                .col(big_integer_null("nda_accepted_by"))
                .col(timestamp_with_time_zone_null("nda_accepted_at"))
                // Access to the confidential parts: owner | auto, when, by whom (owner grants).
                .col(string_len_null("access_grant", 8))
                .col(big_integer_null("access_granted_by"))
                .col(timestamp_with_time_zone_null("access_granted_at"))
                .col(timestamp_with_time_zone_null("answered_at"))
                .col(timestamp_with_time_zone_null("accepted_at"))
                .col(timestamp_with_time_zone_null("decided_at"))
                .col(big_integer("version").default(1))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk(
                    "fk_enquiries_owner_org",
                    ("enquiries", "owner_org_id"),
                    ("organizations", "id"),
                ))
                .foreign_key(&mut fk(
                    "fk_enquiries_sender_org",
                    ("enquiries", "sender_org_id"),
                    ("organizations", "id"),
                ))
                .foreign_key(&mut fk(
                    "fk_enquiries_sender_user",
                    ("enquiries", "sender_user_id"),
                    ("users", "id"),
                ))
                .to_owned(),
        )
        .await?;
        index(m, "ux_enquiries_open_key", "enquiries", &["open_key"], true).await?;
        index(
            m,
            "ix_enquiries_owner",
            "enquiries",
            &["owner_org_id", "id"],
            false,
        )
        .await?;
        index(
            m,
            "ix_enquiries_sender",
            "enquiries",
            &["sender_org_id", "id"],
            false,
        )
        .await?;
        index(
            m,
            "ix_enquiries_subject",
            "enquiries",
            &["subject_type", "subject_id", "sender_org_id"],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table("enquiry_messages")
                .col(big_pk_auto("id"))
                .col(big_integer("enquiry_id"))
                .col(big_integer("author_user_id"))
                .col(big_integer("author_org_id"))
                // sender | owner
                .col(string_len("side", 8))
                .col(text("body"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk(
                    "fk_enquiry_messages_enquiry",
                    ("enquiry_messages", "enquiry_id"),
                    ("enquiries", "id"),
                ))
                .foreign_key(&mut fk(
                    "fk_enquiry_messages_author",
                    ("enquiry_messages", "author_user_id"),
                    ("users", "id"),
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_enquiry_messages_enquiry",
            "enquiry_messages",
            &["enquiry_id", "id"],
            false,
        )
        .await?;

        // Enquiries an organisation sent on a Beijing day, counted with an atomic conditional
        // UPDATE so concurrent sends never pass the cap.
        m.create_table(
            Table::create()
                .table("enquiry_quota")
                .col(big_pk_auto("id"))
                .col(big_integer("org_id"))
                .col(date("day"))
                .col(integer("used"))
                .foreign_key(&mut fk(
                    "fk_enquiry_quota_org",
                    ("enquiry_quota", "org_id"),
                    ("organizations", "id"),
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_enquiry_quota_org_day",
            "enquiry_quota",
            &["org_id", "day"],
            true,
        )
        .await?;

        m.create_table(
            Table::create()
                .table("listing_confidential")
                .col(big_pk_auto("id"))
                .col(big_integer("listing_id"))
                .col(big_integer("owner_org_id"))
                .col(text_null("description"))
                .col(text_null("ip_details"))
                .col(text_null("data_sheet_notes"))
                // The current NDA version (rows of listing_nda_versions).
                .col(integer("nda_version"))
                // Access is granted as soon as an enquirer accepts the current NDA.
                .col(boolean("auto_grant"))
                .col(big_integer("updated_by"))
                .col(big_integer("version").default(1))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk(
                    "fk_listing_confidential_org",
                    ("listing_confidential", "owner_org_id"),
                    ("organizations", "id"),
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_listing_confidential_listing",
            "listing_confidential",
            &["listing_id"],
            true,
        )
        .await?;

        m.create_table(
            Table::create()
                .table("listing_nda_versions")
                .col(big_pk_auto("id"))
                .col(big_integer("listing_id"))
                .col(integer("nda_version"))
                .col(text("text"))
                .col(big_integer("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_listing_nda_versions",
            "listing_nda_versions",
            &["listing_id", "nda_version"],
            true,
        )
        .await?;

        m.create_table(
            Table::create()
                .table("nda_acceptances")
                .col(big_pk_auto("id"))
                .col(big_integer("enquiry_id"))
                .col(big_integer("listing_id"))
                .col(big_integer("org_id"))
                .col(big_integer("user_id"))
                .col(integer("nda_version"))
                .col(timestamp_with_time_zone("accepted_at"))
                .foreign_key(&mut fk(
                    "fk_nda_acceptances_enquiry",
                    ("nda_acceptances", "enquiry_id"),
                    ("enquiries", "id"),
                ))
                .foreign_key(&mut fk(
                    "fk_nda_acceptances_user",
                    ("nda_acceptances", "user_id"),
                    ("users", "id"),
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_nda_acceptances_enquiry",
            "nda_acceptances",
            &["enquiry_id", "id"],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table("disclosure_log")
                .col(big_pk_auto("id"))
                .col(big_integer("owner_org_id"))
                .col(string_len("subject_type", 8))
                .col(big_integer("subject_id"))
                .col(big_integer_null("enquiry_id"))
                .col(big_integer("reader_org_id"))
                .col(big_integer_null("reader_user_id"))
                // contact_revealed | contact_read | access_granted | confidential_read
                .col(string_len("what", 24))
                .col(integer_null("nda_version"))
                .col(timestamp_with_time_zone("at"))
                .foreign_key(&mut fk(
                    "fk_disclosure_log_owner",
                    ("disclosure_log", "owner_org_id"),
                    ("organizations", "id"),
                ))
                .foreign_key(&mut fk(
                    "fk_disclosure_log_reader",
                    ("disclosure_log", "reader_org_id"),
                    ("organizations", "id"),
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_disclosure_log_subject",
            "disclosure_log",
            &["subject_type", "subject_id", "id"],
            false,
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "disclosure_log",
            "nda_acceptances",
            "listing_nda_versions",
            "listing_confidential",
            "enquiry_quota",
            "enquiry_messages",
            "enquiries",
        ] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned())
                .await?;
        }
        Ok(())
    }
}
