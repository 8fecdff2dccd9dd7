//! Notifications: events (the transactional outbox), the per-user in-app inbox, webhooks per
//! organisation, their deliveries and the log of delivery attempts.
//!
//! An event, its inbox rows and its delivery rows are written in the same transaction as the
//! change that caused it; the delivery worker then claims due deliveries with a lease.
use crate::helpers::{fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("notify_events")
                .col(big_pk_auto("id"))
                // Public, globally unique id (UUID) sent as `X-TTX-Event-Id`.
                .col(string_len("event_id", 36))
                // e.g. proposal.submitted
                .col(string_len("kind", 64))
                // The organisation the event is addressed to.
                .col(big_integer("org_id"))
                .col(string_len("subject_type", 32))
                .col(big_integer_null("subject_id"))
                // JSON object
                .col(text("payload"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_notify_events_event_id",
            "notify_events",
            &["event_id"],
            true,
        )
        .await?;

        m.create_table(
            Table::create()
                .table("notifications")
                .col(big_pk_auto("id"))
                .col(big_integer("user_id"))
                .col(big_integer("org_id"))
                .col(big_integer("event_row_id"))
                .col(string_len("kind", 64))
                .col(string_len("title_zh", 300))
                .col(string_len("title_en", 300))
                .col(timestamp_with_time_zone_null("read_at"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk(
                    "fk_notifications_event",
                    ("notifications", "event_row_id"),
                    ("notify_events", "id"),
                ))
                .foreign_key(&mut fk(
                    "fk_notifications_user",
                    ("notifications", "user_id"),
                    ("users", "id"),
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_notifications_user",
            "notifications",
            &["user_id", "id"],
            false,
        )
        .await?;
        index(
            m,
            "ix_notifications_user_read",
            "notifications",
            &["user_id", "read_at"],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table("webhooks")
                .col(big_pk_auto("id"))
                .col(big_integer("org_id"))
                .col(string_len("url", 2000))
                // The signing secret. It must be readable to sign, so it is stored; it is
                // returned once, at creation.
                .col(string_len("secret", 100))
                // JSON array of event kinds; empty: every kind
                .col(text("events"))
                .col(string_len_null("description", 200))
                .col(boolean("active").default(true))
                .col(big_integer("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("deleted_at"))
                .foreign_key(&mut fk(
                    "fk_webhooks_org",
                    ("webhooks", "org_id"),
                    ("organizations", "id"),
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_webhooks_org",
            "webhooks",
            &["org_id", "active"],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table("webhook_deliveries")
                .col(big_pk_auto("id"))
                .col(big_integer("webhook_id"))
                .col(big_integer("event_row_id"))
                // pending | delivered | failed | cancelled
                .col(string_len("status", 16))
                .col(integer("attempts").default(0))
                .col(timestamp_with_time_zone("next_attempt_at"))
                // A worker owns the delivery until then (claimed with a conditional UPDATE).
                .col(timestamp_with_time_zone_null("lease_until"))
                .col(integer_null("last_status_code"))
                .col(text_null("last_error"))
                .col(timestamp_with_time_zone_null("delivered_at"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk(
                    "fk_webhook_deliveries_webhook",
                    ("webhook_deliveries", "webhook_id"),
                    ("webhooks", "id"),
                ))
                .foreign_key(&mut fk(
                    "fk_webhook_deliveries_event",
                    ("webhook_deliveries", "event_row_id"),
                    ("notify_events", "id"),
                ))
                .to_owned(),
        )
        .await?;
        // One delivery per webhook and event.
        index(
            m,
            "ux_webhook_deliveries_webhook_event",
            "webhook_deliveries",
            &["webhook_id", "event_row_id"],
            true,
        )
        .await?;
        index(
            m,
            "ix_webhook_deliveries_due",
            "webhook_deliveries",
            &["status", "next_attempt_at"],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table("webhook_attempts")
                .col(big_pk_auto("id"))
                .col(big_integer("delivery_id"))
                .col(integer("attempt"))
                .col(timestamp_with_time_zone("attempted_at"))
                .col(integer_null("status_code"))
                .col(text_null("error"))
                .col(big_integer("duration_ms"))
                .foreign_key(&mut fk(
                    "fk_webhook_attempts_delivery",
                    ("webhook_attempts", "delivery_id"),
                    ("webhook_deliveries", "id"),
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_webhook_attempts_delivery",
            "webhook_attempts",
            &["delivery_id", "id"],
            false,
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "webhook_attempts",
            "webhook_deliveries",
            "webhooks",
            "notifications",
            "notify_events",
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
