//! The broker pipeline (`ttx-matching`): matches a broker opens between a listing and a need,
//! the history of every step (who and when), and feedback on suggestions.
//!
//! A match's `open_key` is `listing:demand:agency` while the match is under way and NULL once it
//! is signed or closed: its unique index keeps one live match per pair and agency (NULLs never
//! collide, on SQLite as on PostgreSQL).
use crate::helpers::{fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("matches")
                .col(big_pk_auto("id"))
                .col(big_integer("listing_id"))
                .col(big_integer("demand_id"))
                // The owners of the listing (seller side) and of the need (buyer side) when the
                // match was opened: the two parties.
                .col(big_integer("listing_org_id"))
                .col(big_integer("demand_org_id"))
                .col(big_integer("broker_user_id"))
                .col(big_integer("agency_org_id"))
                // suggested | introduced | negotiating | signed | closed
                .col(string_len("stage", 16))
                // Each party's answer to the introduction: pending | accepted | declined
                .col(string_len("listing_response", 16))
                .col(string_len("demand_response", 16))
                // The broker's note when opening (seen by the broker's agency and operators).
                .col(text_null("note"))
                // no_fit | price | timing | other | declined (an introduction declined)
                .col(string_len_null("close_reason", 16))
                .col(text_null("close_note"))
                // The registered contract of a signed match.
                .col(big_integer_null("contract_id"))
                .col(string_len_null("open_key", 64))
                .col(timestamp_with_time_zone_null("introduced_at"))
                .col(timestamp_with_time_zone("stage_changed_at"))
                .col(big_integer("version").default(1))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk(
                    "fk_matches_listing",
                    ("matches", "listing_id"),
                    ("listings", "id"),
                ))
                .foreign_key(&mut fk(
                    "fk_matches_demand",
                    ("matches", "demand_id"),
                    ("demands", "id"),
                ))
                .foreign_key(&mut fk(
                    "fk_matches_listing_org",
                    ("matches", "listing_org_id"),
                    ("organizations", "id"),
                ))
                .foreign_key(&mut fk(
                    "fk_matches_demand_org",
                    ("matches", "demand_org_id"),
                    ("organizations", "id"),
                ))
                .foreign_key(&mut fk(
                    "fk_matches_broker",
                    ("matches", "broker_user_id"),
                    ("users", "id"),
                ))
                .foreign_key(&mut fk(
                    "fk_matches_agency",
                    ("matches", "agency_org_id"),
                    ("organizations", "id"),
                ))
                .foreign_key(&mut fk(
                    "fk_matches_contract",
                    ("matches", "contract_id"),
                    ("contracts", "id"),
                ))
                .to_owned(),
        )
        .await?;
        index(m, "ux_matches_open_key", "matches", &["open_key"], true).await?;
        for (name, col) in [
            ("ix_matches_broker", "broker_user_id"),
            ("ix_matches_agency", "agency_org_id"),
            ("ix_matches_listing_org", "listing_org_id"),
            ("ix_matches_demand_org", "demand_org_id"),
        ] {
            index(m, name, "matches", &[col, "id"], false).await?;
        }
        index(
            m,
            "ix_matches_pair",
            "matches",
            &["demand_id", "listing_id"],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table("match_events")
                .col(big_pk_auto("id"))
                .col(big_integer("match_id"))
                // open | introduce | accept | decline | negotiate | sign | close
                .col(string_len("action", 16))
                // Who acted: broker | listing | demand (a party) | system
                .col(string_len("side", 16))
                .col(string_len_null("from_stage", 16))
                .col(string_len("to_stage", 16))
                .col(big_integer_null("actor_user_id"))
                .col(big_integer_null("actor_org_id"))
                .col(string_len_null("reason", 16))
                .col(text_null("note"))
                .col(big_integer_null("contract_id"))
                .col(timestamp_with_time_zone("at"))
                .foreign_key(&mut fk(
                    "fk_match_events_match",
                    ("match_events", "match_id"),
                    ("matches", "id"),
                ))
                .foreign_key(&mut fk(
                    "fk_match_events_actor",
                    ("match_events", "actor_user_id"),
                    ("users", "id"),
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_match_events_match",
            "match_events",
            &["match_id", "id"],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table("match_feedback")
                .col(big_pk_auto("id"))
                .col(big_integer("demand_id"))
                .col(big_integer("listing_id"))
                .col(big_integer("user_id"))
                .col(big_integer("org_id"))
                // The user's role and organisation kind when answering, and the side it
                // answered from: listing | demand | broker
                .col(string_len("role", 32))
                .col(string_len("org_kind", 32))
                .col(string_len("side", 16))
                .col(boolean("relevant"))
                .col(text_null("note"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk(
                    "fk_match_feedback_demand",
                    ("match_feedback", "demand_id"),
                    ("demands", "id"),
                ))
                .foreign_key(&mut fk(
                    "fk_match_feedback_listing",
                    ("match_feedback", "listing_id"),
                    ("listings", "id"),
                ))
                .foreign_key(&mut fk(
                    "fk_match_feedback_user",
                    ("match_feedback", "user_id"),
                    ("users", "id"),
                ))
                .to_owned(),
        )
        .await?;
        // One answer per user and pair; a new answer replaces the old one.
        index(
            m,
            "ux_match_feedback_user_pair",
            "match_feedback",
            &["user_id", "demand_id", "listing_id"],
            true,
        )
        .await?;

        // The funnel reads the contracts of a set of matches.
        index(m, "ix_contracts_match", "contracts", &["match_id"], false).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_contracts_match")
                .table(Alias::new("contracts"))
                .to_owned(),
        )
        .await?;
        for t in ["match_feedback", "match_events", "matches"] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned())
                .await?;
        }
        Ok(())
    }
}
