//! Demo data: organisations of every kind and one user per role, so a newcomer can try every
//! role at once. Domain crates add their demo data on top (`DemoOrgs` names the organisations).
use crate::admin;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use ttx_accounts::entity::user;
use ttx_accounts::service::{self, NewOrg, NewUser};
use ttx_accounts::{AccountsConfig, AuditCtx};
use ttx_core::{CreditCode, OrgKind, RegionCode, Role};

/// The password of every demo user.
pub const DEMO_PASSWORD: &str = "ttx-demo-2026";

/// One demo login.
#[derive(Debug, Clone)]
pub struct DemoLogin {
    pub role: Role,
    pub org_name: String,
    pub org_id: i64,
    pub email: String,
    pub token: String,
}

/// Ids of the demo organisations, for domain seeds.
#[derive(Debug, Clone, Default)]
pub struct DemoOrgs {
    pub operator: i64,
    pub university: i64,
    pub institute: i64,
    pub enterprise: i64,
    pub agency: i64,
    pub station: i64,
    pub bureau: i64,
}

#[derive(Debug, Clone, Default)]
pub struct DemoReport {
    pub orgs: DemoOrgs,
    pub logins: Vec<DemoLogin>,
}

struct Spec {
    kind: OrgKind,
    name: &'static str,
    region: &'static str,
    code17: &'static str,
    admin_email: &'static str,
    extra: Option<(Role, &'static str)>,
    jurisdiction: &'static [&'static str],
}

const SPECS: &[Spec] = &[
    Spec {
        kind: OrgKind::University,
        name: "北辰理工大学",
        region: "110108",
        code17: "12110108MB0000011",
        admin_email: "admin@bcut.demo.ttx",
        extra: Some((Role::Member, "researcher@bcut.demo.ttx")),
        jurisdiction: &[],
    },
    Spec {
        kind: OrgKind::ResearchInstitute,
        name: "华南先进材料研究院",
        region: "440305",
        code17: "12440305MB0000022",
        admin_email: "admin@scami.demo.ttx",
        extra: None,
        jurisdiction: &[],
    },
    Spec {
        kind: OrgKind::Enterprise,
        name: "星河新能源科技有限公司",
        region: "320505",
        code17: "91320505MA0000033",
        admin_email: "admin@xinghe.demo.ttx",
        extra: None,
        jurisdiction: &[],
    },
    Spec {
        kind: OrgKind::Agency,
        name: "长江技术转移中心",
        region: "420111",
        code17: "91420111MA0000044",
        admin_email: "admin@cjtt.demo.ttx",
        extra: Some((Role::Broker, "broker@cjtt.demo.ttx")),
        jurisdiction: &[],
    },
    Spec {
        kind: OrgKind::Station,
        name: "北京市技术合同登记站（演示）",
        region: "110000",
        code17: "12110000MB0000055",
        admin_email: "admin@station-bj.demo.ttx",
        extra: Some((Role::StationReviewer, "reviewer@station-bj.demo.ttx")),
        jurisdiction: &["110000"],
    },
    Spec {
        kind: OrgKind::Bureau,
        name: "北京市科学技术局（演示）",
        region: "110000",
        code17: "11110000MB0000066",
        admin_email: "admin@bureau-bj.demo.ttx",
        extra: Some((Role::BureauAnalyst, "analyst@bureau-bj.demo.ttx")),
        jurisdiction: &[],
    },
];

pub const OPERATOR_EMAIL: &str = "operator@demo.ttx";

/// Whether the demo accounts are already there.
pub async fn already_seeded(db: &DatabaseConnection) -> anyhow::Result<bool> {
    Ok(user::Entity::find()
        .filter(user::Column::Email.eq(OPERATOR_EMAIL))
        .one(db)
        .await?
        .is_some())
}

/// Seeds demo accounts; fails if they exist already.
pub async fn demo_accounts(
    db: &DatabaseConnection,
    cfg: &AccountsConfig,
) -> anyhow::Result<DemoReport> {
    let mut report = DemoReport::default();
    let (op_user, op_token) =
        admin::create_operator(db, cfg, OPERATOR_EMAIL, "平台运营（演示）", DEMO_PASSWORD).await?;
    let op = user::Entity::find_by_id(op_user)
        .one(db)
        .await?
        .expect("just created");
    report.orgs.operator = op.org_id;
    report.logins.push(DemoLogin {
        role: Role::Operator,
        org_name: admin::OPERATOR_ORG_NAME.into(),
        org_id: op.org_id,
        email: OPERATOR_EMAIL.into(),
        token: op_token,
    });
    let ctx = AuditCtx::system("seed --demo");
    for s in SPECS {
        let org = NewOrg {
            kind: s.kind,
            name: s.name.into(),
            credit_code: Some(CreditCode::complete(s.code17)?),
            region: RegionCode::parse(s.region)?,
            description: Some(format!("{}（演示数据）", s.name)),
            website: None,
            contact_name: Some("联系人".into()),
            contact_email: Some(s.admin_email.into()),
            contact_phone: Some("010-62780000".into()),
        };
        let admin_user = NewUser {
            email: s.admin_email.into(),
            display_name: format!("{} 管理员", s.name),
            password: DEMO_PASSWORD.into(),
            role: Role::OrgAdmin,
        };
        let (o, _, token) = service::create_org_with_user(db, cfg, org, admin_user, true, &ctx)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if !s.jurisdiction.is_empty() {
            use sea_orm::{ActiveModelTrait, ActiveValue::Set};
            for r in s.jurisdiction {
                ttx_accounts::entity::station_jurisdiction::ActiveModel {
                    org_id: Set(o.id),
                    region_code: Set(r.to_string()),
                    ..Default::default()
                }
                .insert(db)
                .await?;
            }
        }
        match s.kind {
            OrgKind::University => report.orgs.university = o.id,
            OrgKind::ResearchInstitute => report.orgs.institute = o.id,
            OrgKind::Enterprise => report.orgs.enterprise = o.id,
            OrgKind::Agency => report.orgs.agency = o.id,
            OrgKind::Station => report.orgs.station = o.id,
            OrgKind::Bureau => report.orgs.bureau = o.id,
            OrgKind::Operator => {}
        }
        report.logins.push(DemoLogin {
            role: Role::OrgAdmin,
            org_name: o.name.clone(),
            org_id: o.id,
            email: s.admin_email.into(),
            token,
        });
        if let Some((role, email)) = s.extra {
            let user = NewUser {
                email: email.into(),
                display_name: format!("{}（演示）", ttx_core::Labelled::zh(&role)),
                password: DEMO_PASSWORD.into(),
                role,
            };
            let (_, token) = service::create_user_with_token(db, cfg, o.id, user, "demo", &ctx)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            report.logins.push(DemoLogin {
                role,
                org_name: o.name.clone(),
                org_id: o.id,
                email: email.into(),
                token,
            });
        }
    }
    Ok(report)
}

/// The whole demo data set: accounts, then each domain's demo data.
pub async fn demo(db: &DatabaseConnection, cfg: &crate::Config) -> anyhow::Result<DemoReport> {
    let mut report = demo_accounts(db, &cfg.accounts).await?;
    // Domain seeds (listings, demands, contracts) are added here.
    let listings = ttx_listings::demo::seed(
        db,
        None,
        &[report.orgs.university, report.orgs.institute],
        ttx_listings::demo::DEMO_COUNT,
        2026,
    )
    .await?;
    println!(
        "demo listings: {} created ({} published, indexed in the background)",
        listings.created, listings.published
    );
    let needs = ttx_demands::demo::seed(
        db,
        ttx_demands::demo::DemoOrgs {
            enterprise: report.orgs.enterprise,
            university: report.orgs.university,
            institute: report.orgs.institute,
        },
    )
    .await?;
    println!(
        "demo needs: {} created ({} challenges, {} proposals)",
        needs.needs, needs.challenges, needs.proposals
    );
    let contracts = ttx_contracts::demo::seed(
        db,
        &cfg.accounts,
        &ttx_contracts::demo::DemoParties {
            university: report.orgs.university,
            institute: report.orgs.institute,
            enterprise: report.orgs.enterprise,
            agency: report.orgs.agency,
            station: report.orgs.station,
        },
    )
    .await?;
    println!(
        "demo contracts: {} registered at {} stations ({} amended, {} terminated), {} in review",
        contracts.registered,
        contracts.stations.len(),
        contracts.amended,
        contracts.terminated,
        contracts.in_review
    );
    report
        .logins
        .extend(contracts.logins.into_iter().map(|l| DemoLogin {
            role: l.role,
            org_name: l.org_name,
            org_id: l.org_id,
            email: l.email,
            token: l.token,
        }));
    Ok(report)
}

/// Prints the demo logins as a table.
pub fn print_logins(report: &DemoReport) {
    println!("\nDemo accounts (password for all: {DEMO_PASSWORD}):");
    println!(
        "{:<18} {:<34} {:<32} token",
        "role", "organisation", "email"
    );
    for l in &report.logins {
        println!(
            "{:<18} {:<30} {:<32} {}",
            l.role.as_str(),
            l.org_name,
            l.email,
            l.token
        );
    }
    println!();
}
