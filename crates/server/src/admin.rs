//! Operator bootstrap and administration from the command line.
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use ttx_accounts::entity::organization;
use ttx_accounts::service::{self, NewOrg, NewUser};
use ttx_accounts::{AccountsConfig, AuditCtx};
use ttx_core::{OrgKind, RegionCode, Role};

pub const OPERATOR_ORG_NAME: &str = "TTX 平台运营中心";

/// Creates an operator user (and the operator organisation on first use); returns its token.
pub async fn create_operator(
    db: &DatabaseConnection,
    cfg: &AccountsConfig,
    email: &str,
    display_name: &str,
    password: &str,
) -> anyhow::Result<(i64, String)> {
    let existing = organization::Entity::find()
        .filter(organization::Column::Kind.eq(OrgKind::Operator.as_str()))
        .one(db)
        .await?;
    let new_user = NewUser {
        email: email.to_string(),
        display_name: display_name.to_string(),
        password: password.to_string(),
        role: Role::Operator,
    };
    let ctx = AuditCtx::system("admin create-operator");
    match existing {
        Some(org) => {
            let (u, token) =
                service::create_user_with_token(db, cfg, org.id, new_user, "admin-cli", &ctx)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            Ok((u.id, token))
        }
        None => {
            let org = NewOrg {
                kind: OrgKind::Operator,
                name: OPERATOR_ORG_NAME.to_string(),
                credit_code: None,
                region: RegionCode::parse("110000").expect("Beijing exists"),
                description: Some("运营 TTX 平台".into()),
                website: None,
                contact_name: None,
                contact_email: None,
                contact_phone: None,
            };
            let (_, u, token) = service::create_org_with_user(db, cfg, org, new_user, true, &ctx)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            Ok((u.id, token))
        }
    }
}

/// A random password for generated accounts.
pub fn random_password() -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut r = rand::thread_rng();
    (0..20)
        .map(|_| CHARS[r.gen_range(0..CHARS.len())] as char)
        .collect()
}

/// `ttx admin verify-org`: verification from the CLI, audited as the system.
pub async fn verify_org_cli(
    db: &DatabaseConnection,
    id: i64,
    jurisdiction: &[String],
) -> anyhow::Result<()> {
    let regions = jurisdiction
        .iter()
        .map(|r| RegionCode::parse(r).map_err(|e| anyhow::anyhow!("{r}: {e}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let org = organization::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("organisation {id} not found"))?;
    let system = ttx_accounts::Actor {
        user_id: 0,
        org_id: 0,
        org_kind: OrgKind::Operator,
        org_verified: true,
        org_region: org.region_code.clone(),
        role: Role::Operator,
        token_id: 0,
        request_id: "cli:admin verify-org".into(),
    };
    service::verify_org(db, &system, id, (!regions.is_empty()).then_some(regions))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}
