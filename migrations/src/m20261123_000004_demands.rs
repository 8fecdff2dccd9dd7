//! Technical needs (技术需求), challenges (揭榜挂帅 / 技术难题招标) and their proposals.
//!
//! A challenge is a need with extra terms: its row in `challenges` shares the need's id.
//! List-valued columns (keywords, modes, eligibility, criteria) are JSON text: they are always
//! read and written with their row, and searching over them is the search index's job.
use crate::helpers::{fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("demands")
                .col(big_pk_auto("id"))
                .col(big_integer("owner_org_id"))
                .col(big_integer("created_by"))
                .col(string_len("title", 200))
                // 主要问题 / 技术关键 / 预期目标
                .col(text("problem"))
                .col(text("key_points"))
                .col(text("goals"))
                // JSON array of strings (at most 5)
                .col(text("keywords"))
                .col(string_len_null("field", 32))
                .col(string_len_null("research_type", 32))
                // JSON array of transfer mode codes
                .col(text("modes"))
                .col(small_integer_null("trl_min"))
                .col(small_integer_null("trl_max"))
                // unspecified | range | negotiable; amounts in fen
                .col(string_len("budget_kind", 16))
                .col(big_integer_null("budget_min"))
                .col(big_integer_null("budget_max"))
                // 需求时限: valid through this Beijing date
                .col(date_null("deadline"))
                .col(string_len("region_code", 6))
                .col(boolean("anonymous").default(false))
                .col(string_len_null("contact_name", 100))
                .col(string_len_null("contact_phone", 32))
                .col(string_len_null("contact_email", 254))
                .col(boolean("is_challenge").default(false))
                // draft | open | in_negotiation | resolved | closed | expired
                .col(string_len("status", 16))
                .col(text_null("close_reason"))
                .col(big_integer("version").default(1))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(timestamp_with_time_zone_null("published_at"))
                .col(timestamp_with_time_zone_null("closed_at"))
                .foreign_key(&mut fk(
                    "fk_demands_owner_org",
                    ("demands", "owner_org_id"),
                    ("organizations", "id"),
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_demands_owner_status",
            "demands",
            &["owner_org_id", "status", "id"],
            false,
        )
        .await?;
        // The expiry job.
        index(
            m,
            "ix_demands_status_deadline",
            "demands",
            &["status", "deadline"],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table("challenges")
                // The need's id.
                .col(big_integer("demand_id").primary_key())
                .col(big_integer("bounty"))
                .col(timestamp_with_time_zone("proposal_deadline"))
                // JSON arrays: organisation kinds, region prefixes (empty: no restriction)
                .col(text("eligible_org_kinds"))
                .col(text("eligible_regions"))
                // JSON array of {name, weight}
                .col(text("criteria"))
                .col(integer("max_winners"))
                // Updated atomically with a guard `accepted_count < max_winners`.
                .col(integer("accepted_count").default(0))
                .foreign_key(&mut fk(
                    "fk_challenges_demand",
                    ("challenges", "demand_id"),
                    ("demands", "id"),
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("proposals")
                .col(big_pk_auto("id"))
                .col(big_integer("challenge_id"))
                .col(big_integer("solver_org_id"))
                .col(big_integer("submitted_by"))
                .col(text("approach"))
                .col(text("team"))
                .col(text("timeline"))
                .col(big_integer("price"))
                // submitted | shortlisted | accepted | declined
                .col(string_len("status", 16))
                .col(text_null("decline_reason"))
                .col(big_integer_null("decided_by"))
                .col(timestamp_with_time_zone_null("decided_at"))
                // Set on acceptance: the parties of the contract that follows.
                .col(big_integer_null("seller_org_id"))
                .col(big_integer_null("buyer_org_id"))
                .col(big_integer_null("contract_amount"))
                .col(big_integer("version").default(1))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk(
                    "fk_proposals_challenge",
                    ("proposals", "challenge_id"),
                    ("challenges", "demand_id"),
                ))
                .foreign_key(&mut fk(
                    "fk_proposals_solver_org",
                    ("proposals", "solver_org_id"),
                    ("organizations", "id"),
                ))
                .to_owned(),
        )
        .await?;
        // One proposal per organisation and challenge.
        index(
            m,
            "ux_proposals_challenge_solver",
            "proposals",
            &["challenge_id", "solver_org_id"],
            true,
        )
        .await?;
        index(
            m,
            "ix_proposals_solver",
            "proposals",
            &["solver_org_id", "id"],
            false,
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("proposals").to_owned())
            .await?;
        m.drop_table(Table::drop().table("challenges").to_owned())
            .await?;
        m.drop_table(Table::drop().table("demands").to_owned())
            .await
    }
}
