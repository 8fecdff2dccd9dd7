//! Matching: saved searches and followed needs that push new listings (subscriptions), and
//! matchmaking events (科技对接活动) with their registered listings and needs, the pairing
//! schedule and the outcome of each pairing.
//!
//! A pairing of a subscription and a listing is pushed at most once: `subscription_pushes`
//! has a unique (subscription_id, listing_id), and the push job writes the row and the
//! notification event in one transaction. The job's position in the stream of listing
//! changes is one row of `subscription_job_state`.
use crate::helpers::{fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("match_subscriptions")
                .col(big_pk_auto("id"))
                // The subscriber: its members' inbox and its webhooks get the pushes.
                .col(big_integer("org_id"))
                .col(big_integer("created_by"))
                // search | demand
                .col(string_len("kind", 16))
                .col(string_len("name", 200))
                // The saved search's text (kind = search).
                .col(text_null("query"))
                // The followed need (kind = demand).
                .col(big_integer_null("demand_id"))
                // JSON object: ttx_search::Filters
                .col(text("filters"))
                // immediate | daily
                .col(string_len("delivery", 16))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk(
                    "fk_match_subscriptions_org",
                    ("match_subscriptions", "org_id"),
                    ("organizations", "id"),
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_match_subscriptions_org",
            "match_subscriptions",
            &["org_id", "id"],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table("subscription_pushes")
                .col(big_pk_auto("id"))
                .col(big_integer("subscription_id"))
                .col(big_integer("listing_id"))
                // The Beijing date the match was found (the daily cap counts per date).
                .col(date("day"))
                .col(double("score"))
                .col(string_len("reason_zh", 300))
                .col(string_len("reason_en", 300))
                // sent (immediate) | queued (for the daily digest) | digested | capped (over
                // the daily cap: recorded, never sent)
                .col(string_len("status", 16))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("sent_at"))
                .foreign_key(&mut fk(
                    "fk_subscription_pushes_subscription",
                    ("subscription_pushes", "subscription_id"),
                    ("match_subscriptions", "id"),
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_subscription_pushes_pair",
            "subscription_pushes",
            &["subscription_id", "listing_id"],
            true,
        )
        .await?;
        index(
            m,
            "ix_subscription_pushes_day",
            "subscription_pushes",
            &["subscription_id", "day"],
            false,
        )
        .await?;
        index(
            m,
            "ix_subscription_pushes_status",
            "subscription_pushes",
            &["status", "subscription_id"],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table("subscription_job_state")
                .col(string_len("name", 32).primary_key())
                // Listings changed after this instant (less a small overlap) are still to be
                // looked at.
                .col(timestamp_with_time_zone("checkpoint"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("matchmaking_events")
                .col(big_pk_auto("id"))
                .col(big_integer("organiser_org_id"))
                .col(big_integer("created_by"))
                .col(string_len("title", 200))
                .col(text("description"))
                .col(string_len("venue", 200))
                // Beijing date of the event; it is over the day after.
                .col(date("event_date"))
                // HH:MM, start of the first slot
                .col(string_len("start_time", 5))
                .col(integer("slots"))
                .col(integer("tables"))
                .col(integer("slot_minutes"))
                .col(timestamp_with_time_zone_null("scheduled_at"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk(
                    "fk_matchmaking_events_org",
                    ("matchmaking_events", "organiser_org_id"),
                    ("organizations", "id"),
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_matchmaking_events_org",
            "matchmaking_events",
            &["organiser_org_id", "id"],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table("matchmaking_entries")
                .col(big_pk_auto("id"))
                .col(big_integer("event_id"))
                // listing | demand
                .col(string_len("side", 16))
                .col(big_integer("item_id"))
                // The organisation owning the listing or need.
                .col(big_integer("org_id"))
                .col(big_integer("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk(
                    "fk_matchmaking_entries_event",
                    ("matchmaking_entries", "event_id"),
                    ("matchmaking_events", "id"),
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_matchmaking_entries_item",
            "matchmaking_entries",
            &["event_id", "side", "item_id"],
            true,
        )
        .await?;

        m.create_table(
            Table::create()
                .table("matchmaking_pairings")
                .col(big_pk_auto("id"))
                .col(big_integer("event_id"))
                // 0-based time slot and table
                .col(integer("slot"))
                .col(integer("table_no"))
                .col(big_integer("listing_id"))
                .col(big_integer("demand_id"))
                .col(big_integer("listing_org_id"))
                .col(big_integer("demand_org_id"))
                .col(double("score"))
                // JSON array of score parts
                .col(text("parts"))
                .col(string_len("reason_zh", 300))
                .col(string_len("reason_en", 300))
                // met | intent | signed
                .col(string_len_null("outcome", 16))
                .col(big_integer_null("contract_id"))
                .col(big_integer_null("outcome_by"))
                .col(timestamp_with_time_zone_null("outcome_at"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk(
                    "fk_matchmaking_pairings_event",
                    ("matchmaking_pairings", "event_id"),
                    ("matchmaking_events", "id"),
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_matchmaking_pairings_seat",
            "matchmaking_pairings",
            &["event_id", "slot", "table_no"],
            true,
        )
        .await?;
        index(
            m,
            "ux_matchmaking_pairings_pair",
            "matchmaking_pairings",
            &["event_id", "listing_id", "demand_id"],
            true,
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "matchmaking_pairings",
            "matchmaking_entries",
            "matchmaking_events",
            "subscription_job_state",
            "subscription_pushes",
            "match_subscriptions",
        ] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned())
                .await?;
        }
        Ok(())
    }
}
