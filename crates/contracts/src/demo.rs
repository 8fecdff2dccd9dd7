//! Demo data for `ttx serve --demo`: a registration station per demo province (Beijing exists
//! already; Guangdong, Jiangsu and Hubei are added with a reviewer each), more seller
//! organisations, two years of registered contracts (so statistics show growth against the year
//! before) with varied kinds, fields, amounts and buyer
//! regions (some later amended or terminated, all booked in the ledger), and a review queue at
//! the Beijing station (one contract overdue).
use crate::domain::content::{review_due_on, ContractContent, Document, Links};
use crate::domain::{AmendmentChanges, AmendmentKind, ContractStatus, Party};
use crate::entity::contract;
use crate::service::history::{insert_registered, record_decided, DecidedChange, Registered};
use crate::store::{self, write_txn};
use anyhow::Context;
use chrono::{Duration, NaiveDate};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection};
use ttx_accounts::entity::{organization, station_jurisdiction};
use ttx_accounts::service::{self as accounts, NewOrg, NewUser};
use ttx_accounts::{AccountsConfig, AuditCtx};
use ttx_core::{
    ContractSubKind, CreditCode, EntityKind, Fen, IpKind, Labelled, OrgKind, RegionCode, Role,
    TechField,
};

/// The demo organisations the contracts build on (from the accounts seed).
#[derive(Debug, Clone, Default)]
pub struct DemoParties {
    pub university: i64,
    pub institute: i64,
    pub enterprise: i64,
    pub agency: i64,
    /// The Beijing station.
    pub station: i64,
}

/// A login created for the demo.
#[derive(Debug, Clone)]
pub struct DemoLogin {
    pub role: Role,
    pub org_id: i64,
    pub org_name: String,
    pub email: String,
    pub token: String,
}

#[derive(Debug, Clone, Default)]
pub struct DemoSummary {
    pub stations: Vec<i64>,
    pub registered: usize,
    pub amended: usize,
    pub terminated: usize,
    pub in_review: usize,
    pub logins: Vec<DemoLogin>,
}

const PASSWORD: &str = "ttx-demo-2026";

struct StationSpec {
    name: &'static str,
    region: &'static str,
    code17: &'static str,
    admin: &'static str,
    reviewer: &'static str,
}

const STATIONS: &[StationSpec] = &[
    StationSpec {
        name: "广东省技术合同登记站（演示）",
        region: "440000",
        code17: "12440000MB0000077",
        admin: "admin@station-gd.demo.ttx",
        reviewer: "reviewer@station-gd.demo.ttx",
    },
    StationSpec {
        name: "江苏省技术合同登记站（演示）",
        region: "320000",
        code17: "12320000MB0000088",
        admin: "admin@station-js.demo.ttx",
        reviewer: "reviewer@station-js.demo.ttx",
    },
    StationSpec {
        name: "湖北省技术合同登记站（演示）",
        region: "420000",
        code17: "12420000MB0000099",
        admin: "admin@station-hb.demo.ttx",
        reviewer: "reviewer@station-hb.demo.ttx",
    },
];

/// More sellers: (province, kind, name, region, first 17 characters of the credit code).
const SELLERS: &[(&str, OrgKind, &str, &str, &str)] = &[
    (
        "11",
        OrgKind::University,
        "京华医科大学",
        "110102",
        "12110102MB00001A1",
    ),
    (
        "11",
        OrgKind::ResearchInstitute,
        "中关村智能计算研究院",
        "110108",
        "12110108MB00001A2",
    ),
    (
        "11",
        OrgKind::Enterprise,
        "燕山精密仪器有限公司",
        "110114",
        "91110114MA00001A3",
    ),
    (
        "11",
        OrgKind::Enterprise,
        "北京未来网络科技有限公司",
        "110105",
        "91110105MA00001A4",
    ),
    (
        "44",
        OrgKind::University,
        "岭南理工大学",
        "440106",
        "12440106MB00001B1",
    ),
    (
        "44",
        OrgKind::Enterprise,
        "深圳鹏城半导体有限公司",
        "440305",
        "91440305MA00001B2",
    ),
    (
        "44",
        OrgKind::Enterprise,
        "东莞智造装备有限公司",
        "441900",
        "91441900MA00001B3",
    ),
    (
        "44",
        OrgKind::ResearchInstitute,
        "珠江生物医药研究所",
        "440104",
        "12440104MB00001B4",
    ),
    (
        "32",
        OrgKind::University,
        "金陵工业大学",
        "320102",
        "12320102MB00001C1",
    ),
    (
        "32",
        OrgKind::ResearchInstitute,
        "苏州纳米光电研究院",
        "320506",
        "12320506MB00001C2",
    ),
    (
        "32",
        OrgKind::Enterprise,
        "无锡物联传感有限公司",
        "320214",
        "91320214MA00001C3",
    ),
    (
        "32",
        OrgKind::Enterprise,
        "常州绿色化工有限公司",
        "320411",
        "91320411MA00001C4",
    ),
    (
        "42",
        OrgKind::University,
        "江城工业大学",
        "420111",
        "12420111MB00001D1",
    ),
    (
        "42",
        OrgKind::Enterprise,
        "武汉光谷激光技术有限公司",
        "420106",
        "91420106MA00001D2",
    ),
    (
        "42",
        OrgKind::ResearchInstitute,
        "华中农业科学研究院",
        "420102",
        "12420102MB00001D3",
    ),
    (
        "42",
        OrgKind::Enterprise,
        "襄阳汽车零部件有限公司",
        "420606",
        "91420606MA00001D4",
    ),
];

/// Outside buyers: (name, entity kind, region, first 17 characters of the credit code or "").
const BUYERS: &[(&str, EntityKind, &str, &str)] = &[
    (
        "杭州云栖数据科技有限公司",
        EntityKind::Enterprise,
        "330106",
        "91330106MA00002E1",
    ),
    (
        "上海浦江生物制药有限公司",
        EntityKind::Enterprise,
        "310115",
        "91310115MA00002E2",
    ),
    (
        "青岛海湾装备制造有限公司",
        EntityKind::Enterprise,
        "370212",
        "91370212MA00002E3",
    ),
    (
        "成都天府智能交通有限公司",
        EntityKind::Enterprise,
        "510107",
        "91510107MA00002E4",
    ),
    (
        "西安秦岭航空科技有限公司",
        EntityKind::Enterprise,
        "610113",
        "91610113MA00002E5",
    ),
    (
        "郑州中原新材料有限公司",
        EntityKind::Enterprise,
        "410105",
        "91410105MA00002E6",
    ),
    (
        "合肥庐州新能源有限公司",
        EntityKind::Enterprise,
        "340104",
        "91340104MA00002E7",
    ),
    (
        "长沙麓山环保科技有限公司",
        EntityKind::Enterprise,
        "430104",
        "91430104MA00002E8",
    ),
    (
        "厦门鹭岛电子有限公司",
        EntityKind::Enterprise,
        "350203",
        "91350203MA00002E9",
    ),
    (
        "天津滨海化工集团有限公司",
        EntityKind::Enterprise,
        "120116",
        "91120116MA00002EA",
    ),
    (
        "重庆两江汽车电子有限公司",
        EntityKind::Enterprise,
        "500112",
        "91500112MA00002EB",
    ),
    (
        "宁波港城精工有限公司",
        EntityKind::Enterprise,
        "330212",
        "91330212MA00002EC",
    ),
    (
        "佛山禅城陶瓷科技有限公司",
        EntityKind::Enterprise,
        "440604",
        "91440604MA00002ED",
    ),
    (
        "昆山精密电子有限公司",
        EntityKind::Enterprise,
        "320583",
        "91320583MA00002EE",
    ),
    (
        "宜昌三峡电力设备有限公司",
        EntityKind::Enterprise,
        "420502",
        "91420502MA00002EF",
    ),
    (
        "北京朝阳医院（演示）",
        EntityKind::Hospital,
        "110105",
        "12110105MB00002EG",
    ),
    (
        "广州天河中心医院（演示）",
        EntityKind::Hospital,
        "440106",
        "12440106MB00002EH",
    ),
    (
        "南京玄武智慧城市研究院",
        EntityKind::ResearchInstitute,
        "320102",
        "12320102MB00002EJ",
    ),
    (
        "武汉江岸市政设计院",
        EntityKind::Other,
        "420102",
        "12420102MB00002EK",
    ),
    (
        "深圳南山创新科技有限公司",
        EntityKind::Enterprise,
        "440305",
        "91440305MA00002EL",
    ),
    (
        "苏州吴中智能制造有限公司",
        EntityKind::Enterprise,
        "320506",
        "91320506MA00002EM",
    ),
    (
        "北京海淀软件有限公司",
        EntityKind::Enterprise,
        "110108",
        "91110108MA00002EN",
    ),
    ("李明", EntityKind::Individual, "110105", ""),
    ("王芳", EntityKind::Individual, "440106", ""),
];

fn topics(f: TechField) -> &'static [&'static str] {
    use TechField::*;
    match f {
        ElectronicInformation => &[
            "工业互联网边缘计算平台",
            "基于深度学习的工业视觉缺陷检测系统",
            "国产数据库迁移适配",
            "5G专网智能运维系统",
            "低功耗物联网传感终端",
        ],
        Aerospace => &[
            "无人机集群协同控制",
            "航空发动机叶片无损检测",
            "卫星遥感影像智能解译",
            "复合材料机翼结构优化",
        ],
        AdvancedManufacturing => &[
            "数控机床热误差补偿",
            "工业机器人视觉定位",
            "激光增材制造工艺",
            "精密减速器设计",
            "智能产线数字孪生",
        ],
        Biomedicine => &[
            "单克隆抗体纯化工艺",
            "高通量药物筛选平台",
            "医用可降解镁合金支架",
            "肿瘤早筛体外诊断试剂",
            "中药配方颗粒质量标准",
        ],
        NewMaterials => &[
            "高性能碳纤维复合材料",
            "石墨烯导热膜制备",
            "锂电池正极材料制备",
            "稀土永磁材料晶界扩散",
            "耐高温陶瓷涂层",
        ],
        NewEnergy => &[
            "钠离子电池电解液配方",
            "光伏组件智能清洗",
            "氢燃料电池电堆",
            "储能电站能量管理系统",
            "风电机组故障预测",
        ],
        Environment => &[
            "工业废水零排放处理",
            "垃圾焚烧飞灰资源化",
            "土壤重金属污染修复",
            "挥发性有机物催化燃烧",
            "市政污泥低温干化",
        ],
        Nuclear => &["核电站辐射在线监测", "放射性废物水泥固化", "医用同位素制备"],
        Agriculture => &[
            "智慧农业物联网平台",
            "水稻抗病新品种选育",
            "设施蔬菜水肥一体化",
            "生猪养殖环境智能调控",
            "茶叶精深加工",
        ],
        ModernTransport => &[
            "城市轨道交通信号系统",
            "新能源汽车电池管理系统",
            "智能网联汽车测试评价",
            "桥梁结构健康监测",
        ],
        UrbanSocial => &[
            "城市内涝预警系统",
            "装配式建筑节点设计",
            "智慧社区养老服务平台",
            "老旧小区节能改造",
        ],
    }
}

fn title(sub: ContractSubKind, topic: &str, rng: &mut StdRng) -> String {
    use ContractSubKind::*;
    let pick = |rng: &mut StdRng, xs: &[String]| xs[rng.gen_range(0..xs.len())].clone();
    match sub {
        EntrustedDevelopment => pick(
            rng,
            &[
                format!("{topic}技术开发"),
                format!("{topic}研发（委托开发）"),
                format!("{topic}关键技术研究与开发"),
            ],
        ),
        CooperativeDevelopment => pick(
            rng,
            &[format!("{topic}联合研发"), format!("{topic}合作开发")],
        ),
        PatentRightTransfer => format!("“{topic}”相关发明专利权转让"),
        PatentApplicationRightTransfer => format!("一种{topic}装置专利申请权转让"),
        TechnicalSecretTransfer => format!("{topic}工艺技术秘密转让"),
        OtherRightsTransfer => format!("{topic}计算机软件著作权转让"),
        PatentLicense => format!("{topic}专利实施许可"),
        TechnicalSecretLicense => format!("{topic}技术秘密使用许可"),
        OtherLicense => format!("{topic}软件使用许可"),
        Consulting => pick(
            rng,
            &[
                format!("{topic}可行性研究技术咨询"),
                format!("{topic}技术路线咨询"),
            ],
        ),
        GeneralService => pick(
            rng,
            &[
                format!("{topic}检测分析技术服务"),
                format!("{topic}工艺优化技术服务"),
                format!("{topic}系统集成技术服务"),
            ],
        ),
        Training => format!("{topic}技术培训"),
        Intermediary => format!("{topic}成果转化技术中介服务"),
    }
}

fn sub_kind(rng: &mut StdRng, seller: OrgKind) -> ContractSubKind {
    use ContractSubKind::*;
    if seller == OrgKind::Agency {
        return if rng.gen_bool(0.7) {
            Intermediary
        } else {
            Consulting
        };
    }
    let r = rng.gen_range(0..100);
    match r {
        0..=24 => EntrustedDevelopment,
        25..=34 => CooperativeDevelopment,
        35..=39 => PatentRightTransfer,
        40..=41 => PatentApplicationRightTransfer,
        42..=44 => TechnicalSecretTransfer,
        45 => OtherRightsTransfer,
        46..=51 => PatentLicense,
        52..=53 => TechnicalSecretLicense,
        54 => OtherLicense,
        55..=66 => Consulting,
        67..=92 => GeneralService,
        93..=96 => Training,
        _ => Intermediary,
    }
}

fn ip_kind(rng: &mut StdRng, sub: ContractSubKind) -> Option<IpKind> {
    use ContractSubKind::*;
    match sub {
        PatentRightTransfer | PatentApplicationRightTransfer | PatentLicense => {
            Some(if rng.gen_bool(0.75) {
                IpKind::InventionPatent
            } else {
                IpKind::UtilityModel
            })
        }
        TechnicalSecretTransfer | TechnicalSecretLicense => Some(IpKind::TechnicalSecret),
        OtherRightsTransfer | OtherLicense => Some(IpKind::Software),
        EntrustedDevelopment | CooperativeDevelopment if rng.gen_bool(0.3) => {
            Some(IpKind::InventionPatent)
        }
        _ => None,
    }
}

/// A log-uniform amount in fen between `lo` and `hi` 元, rounded to 100 元.
fn amount(rng: &mut StdRng, lo: f64, hi: f64) -> Fen {
    let yuan = (lo.ln() + rng.gen::<f64>() * (hi.ln() - lo.ln())).exp();
    Fen(((yuan / 100.0).round() as i64).max(1) * 10_000)
}

fn credit(code17: &str) -> anyhow::Result<CreditCode> {
    CreditCode::complete(code17).map_err(|e| anyhow::anyhow!("demo credit code {code17}: {e}"))
}

async fn insert_user(
    db: &DatabaseConnection,
    cfg: &AccountsConfig,
    org: &organization::Model,
    email: &str,
    role: Role,
) -> anyhow::Result<DemoLogin> {
    let user = NewUser {
        email: email.into(),
        display_name: format!("{}（演示）", ttx_core::Labelled::zh(&role)),
        password: PASSWORD.into(),
        role,
    };
    let ctx = AuditCtx::system("seed --demo");
    let (_, token) = accounts::create_user_with_token(db, cfg, org.id, user, "demo", &ctx)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(DemoLogin {
        role,
        org_id: org.id,
        org_name: org.name.clone(),
        email: email.into(),
        token,
    })
}

async fn stations(
    db: &DatabaseConnection,
    cfg: &AccountsConfig,
    summary: &mut DemoSummary,
) -> anyhow::Result<Vec<(String, i64)>> {
    let ctx = AuditCtx::system("seed --demo");
    let mut out = vec![];
    for s in STATIONS {
        let org = NewOrg {
            kind: OrgKind::Station,
            name: s.name.into(),
            credit_code: Some(credit(s.code17)?),
            region: RegionCode::parse(s.region)?,
            description: Some(format!("{}（演示数据）", s.name)),
            website: None,
            contact_name: Some("登记窗口".into()),
            contact_email: Some(s.admin.into()),
            contact_phone: Some("020-87654321".into()),
        };
        let admin = NewUser {
            email: s.admin.into(),
            display_name: format!("{} 管理员", s.name),
            password: PASSWORD.into(),
            role: Role::OrgAdmin,
        };
        let (o, _, token) = accounts::create_org_with_user(db, cfg, org, admin, true, &ctx)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        station_jurisdiction::ActiveModel {
            org_id: Set(o.id),
            region_code: Set(s.region.into()),
            ..Default::default()
        }
        .insert(db)
        .await?;
        summary.logins.push(DemoLogin {
            role: Role::OrgAdmin,
            org_id: o.id,
            org_name: o.name.clone(),
            email: s.admin.into(),
            token,
        });
        summary
            .logins
            .push(insert_user(db, cfg, &o, s.reviewer, Role::StationReviewer).await?);
        out.push((s.region[..2].to_string(), o.id));
    }
    Ok(out)
}

async fn sellers(
    db: &DatabaseConnection,
    p: &DemoParties,
) -> anyhow::Result<Vec<(String, OrgKind, Party)>> {
    let mut out = vec![];
    for id in [p.university, p.institute, p.enterprise, p.agency] {
        let o = accounts::get_org(db, id)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let kind: OrgKind = o.kind.parse()?;
        out.push((
            o.region_code[..2].to_string(),
            kind,
            crate::service::org_party(&o).map_err(|e| anyhow::anyhow!("{e}"))?,
        ));
    }
    let ctx = AuditCtx::system("seed --demo");
    for (prov, kind, name, region, code17) in SELLERS {
        let org = NewOrg {
            kind: *kind,
            name: (*name).into(),
            credit_code: Some(credit(code17)?),
            region: RegionCode::parse(region)?,
            description: Some(format!("{name}（演示数据）")),
            website: None,
            contact_name: None,
            contact_email: None,
            contact_phone: None,
        };
        let o = accounts::create_org(db, &org, &ctx)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        out.push((
            prov.to_string(),
            *kind,
            crate::service::org_party(&o).map_err(|e| anyhow::anyhow!("{e}"))?,
        ));
    }
    Ok(out)
}

fn outside_buyers() -> anyhow::Result<Vec<Party>> {
    BUYERS
        .iter()
        .map(|(name, kind, region, code17)| {
            Ok(Party {
                org_id: None,
                name: (*name).into(),
                credit_code: if code17.is_empty() {
                    None
                } else {
                    Some(credit(code17)?)
                },
                entity_kind: *kind,
                region: RegionCode::parse(region)?,
            })
        })
        .collect()
}

fn document(rng: &mut StdRng, title: &str) -> Document {
    Document {
        name: format!("{title}（签章版）.pdf"),
        sha256: (0..4)
            .map(|_| format!("{:016x}", rng.gen::<u64>()))
            .collect(),
        size_bytes: Some(rng.gen_range(200_000..3_000_000)),
    }
}

fn contract_content(
    rng: &mut StdRng,
    seller: &Party,
    seller_kind: OrgKind,
    buyer: Party,
    signed_on: NaiveDate,
) -> ContractContent {
    let sub = sub_kind(rng, seller_kind);
    let fields = <TechField as Labelled>::ALL;
    let field = fields[rng.gen_range(0..fields.len())];
    let ts = topics(field);
    let topic = ts[rng.gen_range(0..ts.len())];
    let t = title(sub, topic, rng);
    let (lo, hi) = match sub.kind() {
        ttx_core::ContractKind::Development => (100_000.0, 30_000_000.0),
        ttx_core::ContractKind::Transfer | ttx_core::ContractKind::License => {
            (50_000.0, 20_000_000.0)
        }
        ttx_core::ContractKind::Consulting => (20_000.0, 2_000_000.0),
        ttx_core::ContractKind::Service => (20_000.0, 8_000_000.0),
    };
    let amount = amount(rng, lo, hi);
    let costs = if matches!(
        sub.kind(),
        ttx_core::ContractKind::Development | ttx_core::ContractKind::Service
    ) && rng.gen_bool(0.4)
    {
        Fen(amount.0 / 100 * rng.gen_range(5..30) / 100 * 100)
    } else {
        Fen::ZERO
    };
    let term_days = rng.gen_range(90..1095);
    ContractContent {
        documents: vec![document(rng, &t)],
        title: t,
        sub_kind: sub,
        seller: seller.clone(),
        buyer,
        others: vec![],
        contract_amount: amount,
        non_technical_costs: costs,
        payment_plan: vec![],
        signed_on,
        term_start: Some(signed_on),
        term_end: Some(signed_on + Duration::days(term_days)),
        tech_field: field,
        ip_kind: ip_kind(rng, sub),
        programme_source: if rng.gen_bool(0.3) {
            Some(
                [
                    "国家重点研发计划",
                    "国家自然科学基金",
                    "省级科技计划项目",
                    "企业横向合作",
                    "高校自主科研",
                ][rng.gen_range(0..5)]
                .into(),
            )
        } else {
            None
        },
        researcher_reward_bp: matches!(
            seller_kind,
            OrgKind::University | OrgKind::ResearchInstitute
        )
        .then(|| [5000u16, 7000, 8000, 9000][rng.gen_range(0..4)]),
        links: Links::default(),
    }
}

/// Seeds the contracts demo on top of the accounts demo.
pub async fn seed(
    db: &DatabaseConnection,
    cfg: &AccountsConfig,
    parties: &DemoParties,
) -> anyhow::Result<DemoSummary> {
    let mut summary = DemoSummary::default();
    let mut rng = StdRng::seed_from_u64(20_261_123);
    let mut by_province: Vec<(String, i64)> = vec![("11".into(), parties.station)];
    by_province.extend(
        stations(db, cfg, &mut summary)
            .await
            .context("demo stations")?,
    );
    summary.stations = by_province.iter().map(|(_, id)| *id).collect();
    let sellers = sellers(db, parties).await.context("demo sellers")?;
    let outside = outside_buyers()?;
    let ttx_buyers: Vec<Party> = sellers
        .iter()
        .filter(|(_, k, _)| *k == OrgKind::Enterprise)
        .map(|(_, _, p)| p.clone())
        .collect();
    let today = ttx_core::clock::today();

    // Two years of registrations, in date order so numbers follow dates.
    let mut planned = vec![];
    for _ in 0..840 {
        let (prov, kind, seller) = &sellers[rng.gen_range(0..sellers.len())];
        let station = by_province
            .iter()
            .find(|(p, _)| p == prov)
            .map(|(_, id)| *id)
            .context("a station per province")?;
        let buyer = loop {
            let b = if rng.gen_bool(0.25) {
                ttx_buyers[rng.gen_range(0..ttx_buyers.len())].clone()
            } else {
                outside[rng.gen_range(0..outside.len())].clone()
            };
            if b.org_id.is_none() || b.org_id != seller.org_id {
                break b;
            }
        };
        let registered_on = today - Duration::days(rng.gen_range(0..730));
        let signed_on = registered_on - Duration::days(rng.gen_range(3..60));
        let content = contract_content(&mut rng, seller, *kind, buyer, signed_on);
        // Now and then the station recognises another kind than the one claimed.
        let recognised =
            if content.sub_kind == ContractSubKind::EntrustedDevelopment && rng.gen_bool(0.05) {
                ContractSubKind::GeneralService
            } else {
                content.sub_kind
            };
        planned.push((station, registered_on, content, recognised));
    }
    planned.sort_by_key(|(_, d, _, _)| *d);
    let mut registered = vec![];
    for chunk in planned.chunks(100) {
        let txn = write_txn(db).await?;
        for (station, on, content, recognised) in chunk {
            let r = Registered {
                content: content.clone(),
                recognised: *recognised,
                registered_on: *on,
                number: None,
                imported: false,
            };
            let m = insert_registered(&txn, *station, &r)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            registered.push(m);
        }
        txn.commit().await?;
    }
    summary.registered = registered.len();

    // Some are amended (amount changes) or terminated later on.
    let txn = write_txn(db).await?;
    for m in &registered {
        let reg_on = m.registered_on.unwrap_or(today);
        let roll = rng.gen_range(0..100);
        if roll >= 9 || (today - reg_on).num_days() < 20 {
            continue;
        }
        let on = reg_on + Duration::days(rng.gen_range(10..(today - reg_on).num_days().max(11)));
        let on = on.min(today);
        let (kind, changes, reason) = if roll < 6 {
            let pct = [80i64, 90, 110, 120, 150][rng.gen_range(0..5)];
            let amount = Fen(m.contract_amount / 100 * pct / 100 * 100);
            let changes = AmendmentChanges {
                contract_amount: Some(amount),
                non_technical_costs: Some(Fen(m.non_technical_costs.min(amount.0))),
                ..Default::default()
            };
            (
                AmendmentKind::Amendment,
                Some(changes),
                if pct > 100 {
                    "增加研发内容，追加合同金额"
                } else {
                    "调整研发范围，核减合同金额"
                },
            )
        } else {
            (AmendmentKind::Termination, None, "双方协商一致解除合同")
        };
        let change = DecidedChange {
            kind,
            changes,
            reason: reason.into(),
            decided_on: on,
            effective_on: Some(on),
            note: Some("演示数据".into()),
        };
        record_decided(&txn, m, &change)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        match kind {
            AmendmentKind::Amendment => summary.amended += 1,
            AmendmentKind::Termination => summary.terminated += 1,
        }
    }
    txn.commit().await?;

    // The Beijing station's queue: submitted and accepted contracts of the demo university,
    // one of them past its deadline.
    let uni = sellers
        .iter()
        .find(|(_, _, p)| p.org_id == Some(parties.university))
        .map(|(_, k, p)| (*k, p.clone()))
        .context("demo university")?;
    let txn = write_txn(db).await?;
    for i in 0..6 {
        let signed_on = today - Duration::days(rng.gen_range(5..40));
        let buyer = outside[rng.gen_range(0..outside.len())].clone();
        let content = contract_content(&mut rng, &uni.1, uni.0, buyer, signed_on);
        let now = ttx_core::clock::now();
        let (status, accepted_days_ago) = match i {
            0 | 1 => (ContractStatus::Submitted, None),
            2 => (ContractStatus::Accepted, Some(40)),
            _ => (ContractStatus::Accepted, Some(rng.gen_range(1..20))),
        };
        let mut am = contract::ActiveModel {
            status: Set(status.as_str().into()),
            round: Set(1),
            imported: Set(false),
            created_by: Set(0),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            station_id: Set(Some(parties.station)),
            submitted_at: Set(Some(
                now - Duration::days(accepted_days_ago.unwrap_or(1) + 2),
            )),
            ..Default::default()
        };
        if let Some(d) = accepted_days_ago {
            am.accepted_at = Set(Some(now - Duration::days(d)));
            am.review_due_on = Set(Some(review_due_on(today - Duration::days(d), 30)));
        }
        store::set_content(&mut am, &content);
        am.insert(&txn).await?;
        summary.in_review += 1;
    }
    txn.commit().await?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_contracts_pass_the_rules() {
        let mut rng = StdRng::seed_from_u64(1);
        let seller = Party {
            org_id: Some(1),
            name: "北辰理工大学".into(),
            credit_code: None,
            entity_kind: EntityKind::University,
            region: RegionCode::parse("110108").unwrap(),
        };
        let buyers = outside_buyers().unwrap();
        let today: NaiveDate = "2026-11-23".parse().unwrap();
        for i in 0..500 {
            let c = contract_content(
                &mut rng,
                &seller,
                OrgKind::University,
                buyers[i % buyers.len()].clone(),
                today - Duration::days(30),
            );
            assert!(c.check(today).is_empty(), "{c:?}: {:?}", c.check(today));
            assert!(c.submission_gaps().is_empty(), "{:?}", c.submission_gaps());
            assert!(c.contract_amount.0 >= 2_000_000, "{}", c.contract_amount.0);
        }
        for (_, _, _, _, code) in SELLERS {
            credit(code).unwrap();
        }
    }
}
