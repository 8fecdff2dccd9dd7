//! Platform tables: organisations, users, tokens, station jurisdictions, the audit log and
//! idempotency keys.
use crate::helpers::{fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("organizations")
                .col(big_pk_auto("id"))
                .col(string_len("kind", 32))
                .col(string_len("name", 200))
                .col(string_len_null("credit_code", 18))
                .col(string_len("region_code", 6))
                .col(text_null("description"))
                .col(string_len_null("website", 300))
                .col(string_len_null("contact_name", 100))
                .col(string_len_null("contact_email", 254))
                .col(string_len_null("contact_phone", 32))
                .col(boolean("verified").default(false))
                .col(timestamp_with_time_zone_null("verified_at"))
                .col(big_integer_null("verified_by"))
                .col(big_integer("version").default(1))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_organizations_credit_code",
            "organizations",
            &["credit_code"],
            true,
        )
        .await?;
        index(
            m,
            "ix_organizations_kind_region",
            "organizations",
            &["kind", "region_code"],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table("users")
                .col(big_pk_auto("id"))
                .col(big_integer("org_id"))
                .col(string_len("email", 254))
                .col(string_len("display_name", 100))
                .col(string_len("password_hash", 200))
                .col(string_len("role", 32))
                .col(boolean("active").default(true))
                .col(big_integer("version").default(1))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk(
                    "fk_users_org",
                    ("users", "org_id"),
                    ("organizations", "id"),
                ))
                .to_owned(),
        )
        .await?;
        index(m, "ux_users_email", "users", &["email"], true).await?;
        index(m, "ix_users_org", "users", &["org_id"], false).await?;

        m.create_table(
            Table::create()
                .table("api_tokens")
                .col(big_pk_auto("id"))
                .col(big_integer("user_id"))
                .col(string_len("name", 100))
                .col(string_len("token_hash", 64))
                .col(string_len("prefix", 16))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(timestamp_with_time_zone_null("last_used_at"))
                .col(timestamp_with_time_zone_null("revoked_at"))
                .foreign_key(&mut fk(
                    "fk_tokens_user",
                    ("api_tokens", "user_id"),
                    ("users", "id"),
                ))
                .to_owned(),
        )
        .await?;
        index(m, "ux_api_tokens_hash", "api_tokens", &["token_hash"], true).await?;
        index(m, "ix_api_tokens_user", "api_tokens", &["user_id"], false).await?;

        m.create_table(
            Table::create()
                .table("station_jurisdictions")
                .col(big_pk_auto("id"))
                .col(big_integer("org_id"))
                .col(string_len("region_code", 6))
                .foreign_key(&mut fk(
                    "fk_jurisdictions_org",
                    ("station_jurisdictions", "org_id"),
                    ("organizations", "id"),
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_station_jurisdictions",
            "station_jurisdictions",
            &["org_id", "region_code"],
            true,
        )
        .await?;

        m.create_table(
            Table::create()
                .table("audit_log")
                .col(big_pk_auto("id"))
                .col(timestamp_with_time_zone("at"))
                .col(big_integer_null("actor_user_id"))
                .col(big_integer_null("actor_org_id"))
                .col(string_len("action", 64))
                .col(string_len("target_type", 32))
                .col(string_len("target_id", 64))
                .col(big_integer_null("target_org_id"))
                .col(string_len("request_id", 64))
                .col(text_null("detail"))
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("ix_audit_actor_org", "actor_org_id"),
            ("ix_audit_target_org", "target_org_id"),
        ] {
            index(m, name, "audit_log", &[col, "id"], false).await?;
        }

        m.create_table(
            Table::create()
                .table("idempotency_keys")
                .col(big_pk_auto("id"))
                .col(string_len("scope", 64))
                .col(string_len("key", 255))
                .col(string_len("fingerprint", 64))
                .col(integer_null("status_code"))
                .col(text_null("response_headers"))
                .col(blob_null("response_body"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_idempotency_scope_key",
            "idempotency_keys",
            &["scope", "key"],
            true,
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "idempotency_keys",
            "audit_log",
            "station_jurisdictions",
            "api_tokens",
            "users",
            "organizations",
        ] {
            m.drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
