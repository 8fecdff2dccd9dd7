//! Demo data for `ttx serve --demo`: technical needs and challenges of the demo firm and of
//! the demo university and institute (as buyers), in the vocabulary of the demo listings
//! (same fields, same technologies), plus a few proposals to the challenges. Written for TTX.
use crate::challenge::{ChallengeTerms, Criterion, ProposalStatus};
use crate::completeness;
use crate::domain::{Budget, Contact, DemandData, DemandStatus, ResearchType};
use crate::entity::{challenge, demand, proposal};
use crate::store;
use chrono::Duration;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder,
};
use ttx_accounts::entity::user;
use ttx_core::{Fen, OrgKind, RegionCode, TechField, TransferMode, Trl};
use ttx_search::DEMANDS;

/// 万元 in fen.
const WAN: i64 = 1_000_000;

/// Who posts and answers in the demo.
#[derive(Debug, Clone, Copy, Default)]
pub struct DemoOrgs {
    pub enterprise: i64,
    pub university: i64,
    pub institute: i64,
}

/// What [`seed`] created.
#[derive(Debug, Clone, Default)]
pub struct DemoReport {
    pub needs: usize,
    pub challenges: usize,
    pub proposals: usize,
}

#[derive(Clone, Copy)]
enum Owner {
    Enterprise,
    University,
    Institute,
}

struct Terms {
    bounty_wan: i64,
    proposal_days: i64,
    kinds: &'static [OrgKind],
    regions: &'static [&'static str],
    criteria: &'static [(&'static str, u8)],
    max_winners: u32,
}

struct Need {
    owner: Owner,
    title: &'static str,
    problem: &'static str,
    key_points: &'static str,
    goals: &'static str,
    keywords: &'static [&'static str],
    field: TechField,
    research: ResearchType,
    modes: &'static [TransferMode],
    trl: (u8, u8),
    /// (min, max) in 万元; `None`: negotiable.
    budget_wan: Option<(i64, i64)>,
    deadline_days: i64,
    anonymous: bool,
    publish: bool,
    terms: Option<Terms>,
}

const NEEDS: &[Need] = &[
    Need {
        owner: Owner::Enterprise,
        title: "动力电池包4C快充热管理技术攻关",
        problem: "公司新一代动力电池包在4C快充工况下电芯温升过快，模组内最大温差超过8℃，导致电芯一致性下降、循环寿命缩短；现有风冷与常规液冷板方案已无法满足整车厂对快充时间和安全性的要求。",
        key_points: "液冷板流道拓扑优化设计；电芯间高导热绝缘界面材料选型与验证；基于电化学-热耦合模型的热管理控制策略及BMS集成。",
        goals: "4C快充条件下电芯最高温度不超过45℃，模组内温差不超过3℃，热管理系统能耗增加不超过5%，完成样件台架验证并形成可量产的设计方案。",
        keywords: &["动力电池", "热管理", "快充", "液冷板"],
        field: TechField::NewEnergy,
        research: ResearchType::ExperimentalDevelopment,
        modes: &[TransferMode::CoDevelopment, TransferMode::Service],
        trl: (5, 7),
        budget_wan: Some((150, 300)),
        deadline_days: 150,
        anonymous: false,
        publish: true,
        terms: Some(Terms {
            bounty_wan: 200,
            proposal_days: 60,
            kinds: &[OrgKind::University, OrgKind::ResearchInstitute],
            regions: &[],
            criteria: &[
                ("技术方案先进性与可行性", 40),
                ("团队研发能力与前期基础", 30),
                ("进度安排与成本", 20),
                ("知识产权与成果转化安排", 10),
            ],
            max_winners: 1,
        }),
    },
    Need {
        owner: Owner::Enterprise,
        title: "退役动力电池快速检测与智能分选技术",
        problem: "公司每年回收退役动力电池约两千吨，目前依靠人工拆解和逐只充放电测试评估剩余容量，检测周期长达数小时、分选一致性差，梯次利用储能产品的返修率偏高。",
        key_points: "基于电化学阻抗谱的快速健康状态（SOH）估计；多参数聚类分选算法；自动化检测分选产线集成。",
        goals: "单只电芯检测时间缩短至5分钟以内，SOH估计误差不超过3%，分选后电池组容量一致性提高30%，形成年处理一千吨的示范线。",
        keywords: &["梯次利用", "电池回收", "健康状态估计", "智能分选"],
        field: TechField::Environment,
        research: ResearchType::ExperimentalDevelopment,
        modes: &[TransferMode::Transfer, TransferMode::License],
        trl: (6, 8),
        budget_wan: Some((30, 80)),
        deadline_days: 120,
        anonymous: false,
        publish: true,
        terms: None,
    },
    Need {
        owner: Owner::Enterprise,
        title: "钙钛矿光伏组件封装可靠性提升",
        problem: "钙钛矿/晶硅叠层光伏组件中试样品在湿热老化试验（85℃/85%RH）一千小时后效率衰减超过15%，封装材料水汽阻隔不足和界面离子迁移是主要原因，制约了产品认证和量产。",
        key_points: "高阻隔封装胶膜与边缘密封材料；钙钛矿层界面钝化工艺；加速老化试验方法与失效分析。",
        goals: "组件通过IEC 61215湿热一千小时测试，效率衰减不超过5%，封装成本增加不超过每瓦0.05元。",
        keywords: &["钙钛矿", "光伏组件", "封装", "可靠性"],
        field: TechField::NewEnergy,
        research: ResearchType::Applied,
        modes: &[TransferMode::CoDevelopment],
        trl: (4, 6),
        budget_wan: None,
        deadline_days: 200,
        anonymous: true,
        publish: true,
        terms: None,
    },
    Need {
        owner: Owner::Enterprise,
        title: "储能变流器碳化硅功率模块应用开发",
        problem: "公司储能变流器（PCS）现采用硅基IGBT模块，转换效率约97.5%，开关频率受限导致滤波器体积大、整机功率密度偏低，难以满足工商业储能柜小型化需求。",
        key_points: "碳化硅MOSFET模块驱动与保护电路设计；高频磁性元件优化；系统级热设计与电磁兼容。",
        goals: "PCS最高转换效率达到99%以上，功率密度提高40%，通过并网认证测试。",
        keywords: &["储能变流器", "碳化硅", "功率模块", "电力电子"],
        field: TechField::ElectronicInformation,
        research: ResearchType::ExperimentalDevelopment,
        modes: &[TransferMode::License, TransferMode::Transfer],
        trl: (6, 8),
        budget_wan: Some((100, 300)),
        deadline_days: 90,
        anonymous: false,
        publish: true,
        terms: None,
    },
    Need {
        owner: Owner::Enterprise,
        title: "氢燃料电池金属双极板防腐导电涂层",
        problem: "公司自研燃料电池电堆采用不锈钢金属双极板，在酸性湿热环境下运行两千小时后出现涂层点蚀和接触电阻上升，电堆性能衰减明显，现有进口涂层成本高、供货周期长。",
        key_points: "低成本碳基或金属氮化物复合涂层体系设计；大面积均匀沉积工艺；耐久性加速测试方法。",
        goals: "涂层接触电阻不超过10毫欧·平方厘米，腐蚀电流密度不超过1微安每平方厘米，耐久性达到五千小时，单片涂层成本降低50%。",
        keywords: &["燃料电池", "双极板", "涂层", "防腐"],
        field: TechField::NewMaterials,
        research: ResearchType::Applied,
        modes: &[TransferMode::CoDevelopment, TransferMode::License],
        trl: (4, 7),
        budget_wan: Some((300, 600)),
        deadline_days: 180,
        anonymous: false,
        publish: true,
        terms: Some(Terms {
            bounty_wan: 500,
            proposal_days: 75,
            kinds: &[],
            regions: &[],
            criteria: &[
                ("涂层性能指标", 50),
                ("工艺成熟度与成本", 30),
                ("团队与条件", 20),
            ],
            max_winners: 2,
        }),
    },
    Need {
        owner: Owner::Enterprise,
        title: "光伏电站无人机智能巡检缺陷识别算法",
        problem: "公司运维的分布式光伏电站超过两百座，人工巡检效率低，热斑、隐裂和遮挡等缺陷发现不及时，发电量损失难以量化。",
        key_points: "红外与可见光图像融合的组件缺陷识别模型；航线自动规划；缺陷定位与工单系统对接。",
        goals: "缺陷识别准确率不低于95%，单座电站巡检时间缩短70%，与现有运维平台完成对接。",
        keywords: &["无人机巡检", "缺陷识别", "深度学习"],
        field: TechField::ElectronicInformation,
        research: ResearchType::Applied,
        modes: &[TransferMode::Service],
        trl: (6, 8),
        budget_wan: Some((20, 50)),
        deadline_days: 100,
        anonymous: false,
        publish: true,
        terms: None,
    },
    Need {
        owner: Owner::Enterprise,
        title: "电池管理系统SOC估算精度提升",
        problem: "低温下SOC估算误差大。",
        key_points: "",
        goals: "",
        keywords: &["BMS"],
        field: TechField::NewEnergy,
        research: ResearchType::Applied,
        modes: &[],
        trl: (5, 7),
        budget_wan: None,
        deadline_days: 0,
        anonymous: false,
        publish: false,
        terms: None,
    },
    Need {
        owner: Owner::University,
        title: "高通量材料表征平台关键部件国产化",
        problem: "学校新材料研发平台的高通量X射线衍射与自动样品台依赖进口，维护周期长、备件价格高，影响科研进度，拟采购国产化技术或委托开发关键部件。",
        key_points: "高精度自动样品台运动控制；面探测器数据采集与处理软件；与现有实验室信息系统的接口。",
        goals: "样品台定位精度优于5微米，单日表征通量提高3倍，关键部件国产化率达到80%以上。",
        keywords: &["高通量", "材料表征", "国产化", "精密运动控制"],
        field: TechField::AdvancedManufacturing,
        research: ResearchType::ExperimentalDevelopment,
        modes: &[TransferMode::Transfer, TransferMode::CoDevelopment],
        trl: (5, 8),
        budget_wan: Some((200, 400)),
        deadline_days: 120,
        anonymous: false,
        publish: true,
        terms: None,
    },
    Need {
        owner: Owner::Institute,
        title: "碳纤维复合材料回收再利用中试工艺包",
        problem: "研究院已完成热固性碳纤维复合材料热解回收的小试研究，但缺少连续化中试装备和工艺包，回收纤维表面残炭多、强度保留率不稳定，难以对接下游应用企业。",
        key_points: "连续式热解-氧化回收装备设计；回收纤维表面处理与上浆；再生短切纤维增强热塑性复合材料配方。",
        goals: "回收纤维单丝强度保留率不低于90%，中试线年处理能力达到五百吨，形成完整工艺包。",
        keywords: &["碳纤维", "复合材料", "回收", "中试"],
        field: TechField::NewMaterials,
        research: ResearchType::ExperimentalDevelopment,
        modes: &[TransferMode::License, TransferMode::Equity],
        trl: (4, 6),
        budget_wan: None,
        deadline_days: 240,
        anonymous: true,
        publish: true,
        terms: None,
    },
];

/// (challenge index in [`NEEDS`], answering owner, status, price in 万元, approach)
const PROPOSALS: &[(usize, Owner, ProposalStatus, i64, &str)] = &[
    (
        0,
        Owner::University,
        ProposalStatus::Submitted,
        180,
        "采用仿生分形流道液冷板与相变材料复合热管理方案，结合课题组已有的电化学-热耦合模型开发预测控制策略，已在2C快充样件上验证温差小于4℃。",
    ),
    (
        0,
        Owner::Institute,
        ProposalStatus::Shortlisted,
        195,
        "基于研究院自主开发的氮化硼高导热绝缘界面材料与一体化压铸液冷板，配合多目标拓扑优化设计流道，提供从仿真、样件到台架验证的完整服务。",
    ),
    (
        4,
        Owner::Institute,
        ProposalStatus::Submitted,
        420,
        "采用磁控溅射制备碳/氮化铬多层复合涂层，研究院已建成卷对卷沉积中试线，可实现大面积均匀沉积，实验室样品耐久性测试已超过三千小时。",
    ),
];

fn org_of(orgs: &DemoOrgs, o: Owner) -> i64 {
    match o {
        Owner::Enterprise => orgs.enterprise,
        Owner::University => orgs.university,
        Owner::Institute => orgs.institute,
    }
}

async fn first_admin(db: &DatabaseConnection, org: i64) -> Result<Option<i64>, DbErr> {
    Ok(user::Entity::find()
        .filter(user::Column::OrgId.eq(org))
        .order_by_asc(user::Column::Id)
        .one(db)
        .await?
        .map(|u| u.id))
}

fn data_of(n: &Need, today: chrono::NaiveDate) -> DemandData {
    DemandData {
        title: n.title.into(),
        problem: n.problem.into(),
        key_points: n.key_points.into(),
        goals: n.goals.into(),
        keywords: n.keywords.iter().map(|k| k.to_string()).collect(),
        field: Some(n.field),
        research_type: Some(n.research),
        modes: n.modes.to_vec(),
        trl_min: Trl::new(n.trl.0).ok(),
        trl_max: Trl::new(n.trl.1).ok(),
        budget: Some(match n.budget_wan {
            Some((a, b)) => Budget::Range {
                min: Fen(a * WAN),
                max: Fen(b * WAN),
            },
            None => Budget::Negotiable,
        }),
        deadline: (n.deadline_days > 0).then(|| today + Duration::days(n.deadline_days)),
        region: None,
        anonymous: n.anonymous,
        contact: Contact {
            name: Some("需求联系人".into()),
            phone: Some("0512-62880000".into()),
            email: Some("needs@demo.ttx".into()),
        },
    }
}

/// Seeds the demo needs, challenges and proposals; queues the open ones for indexing.
/// Organisations with id 0 are skipped.
pub async fn seed(db: &DatabaseConnection, orgs: DemoOrgs) -> Result<DemoReport, DbErr> {
    let now = ttx_core::clock::now();
    let today = ttx_core::clock::beijing_date(now);
    let mut report = DemoReport::default();
    let mut ids: Vec<Option<i64>> = Vec::with_capacity(NEEDS.len());
    let txn = ttx_notify::begin_write(db).await?;
    for n in NEEDS {
        let org = org_of(&orgs, n.owner);
        let Some(by) = (if org > 0 {
            first_admin(db, org).await?
        } else {
            None
        }) else {
            ids.push(None);
            continue;
        };
        let region = ttx_accounts::entity::organization::Entity::find_by_id(org)
            .one(db)
            .await?
            .and_then(|o| RegionCode::parse(&o.region_code).ok())
            .ok_or_else(|| DbErr::Custom(format!("demo organisation {org} missing")))?;
        let data = data_of(n, today);
        let publish = n.publish && completeness::assess(&data).score >= 60;
        let status = if publish {
            DemandStatus::Open
        } else {
            DemandStatus::Draft
        };
        let mut am = demand::ActiveModel {
            owner_org_id: Set(org),
            created_by: Set(by),
            is_challenge: Set(n.terms.is_some()),
            status: Set(status.as_str().into()),
            close_reason: Set(None),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            published_at: Set(publish.then_some(now)),
            closed_at: Set(None),
            ..Default::default()
        };
        store::set_data(&mut am, &data, region);
        let row = am.insert(&txn).await?;
        if let Some(t) = &n.terms {
            let terms = ChallengeTerms {
                bounty: Fen(t.bounty_wan * WAN),
                proposal_deadline: now + Duration::days(t.proposal_days),
                eligible_kinds: t.kinds.to_vec(),
                eligible_regions: t.regions.iter().map(|r| r.to_string()).collect(),
                criteria: t
                    .criteria
                    .iter()
                    .map(|(name, weight)| Criterion {
                        name: name.to_string(),
                        weight: *weight,
                    })
                    .collect(),
                max_winners: t.max_winners,
            };
            let mut cam = challenge::ActiveModel {
                demand_id: Set(row.id),
                accepted_count: Set(0),
                ..Default::default()
            };
            store::set_terms(&mut cam, &terms);
            challenge::Entity::insert(cam)
                .exec_without_returning(&txn)
                .await?;
            report.challenges += 1;
        }
        ttx_search::enqueue(&txn, DEMANDS, row.id).await?;
        report.needs += 1;
        ids.push(Some(row.id));
    }
    for (i, owner, status, price_wan, approach) in PROPOSALS {
        let (Some(Some(challenge_id)), org) = (ids.get(*i), org_of(&orgs, *owner)) else {
            continue;
        };
        let Some(by) = (if org > 0 {
            first_admin(db, org).await?
        } else {
            None
        }) else {
            continue;
        };
        proposal::ActiveModel {
            challenge_id: Set(*challenge_id),
            solver_org_id: Set(org),
            submitted_by: Set(by),
            approach: Set(approach.to_string()),
            team: Set("项目负责人（教授/研究员）1名，副高级职称3名，博士后及研究生6名".into()),
            timeline: Set(
                "第1-3月方案设计与仿真；第4-8月样件制备与测试；第9-12月台架验证与交付".into(),
            ),
            price: Set(price_wan * WAN),
            status: Set(status.as_str().into()),
            decline_reason: Set(None),
            decided_by: Set(None),
            decided_at: Set(None),
            seller_org_id: Set(None),
            buyer_org_id: Set(None),
            contract_amount: Set(None),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        report.proposals += 1;
    }
    txn.commit().await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain;

    #[test]
    fn demo_needs_are_valid_and_published_ones_complete() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        for n in NEEDS {
            let d = data_of(n, today);
            let mut errs = ttx_core::FieldErrors::new();
            assert!(d.title.chars().count() >= domain::TITLE_MIN);
            domain::normalize_keywords(&mut errs, "keywords", &d.keywords);
            domain::validate_trl_range(&mut errs, d.trl_min, d.trl_max);
            assert!(errs.is_empty(), "{}: {errs:?}", n.title);
            let score = completeness::assess(&d).score;
            if n.publish {
                assert!(score >= 60, "{} scores {score}", n.title);
            } else {
                assert!(score < 60, "the demo draft shows hints");
            }
        }
        for (i, _, _, _, _) in PROPOSALS {
            assert!(NEEDS[*i].terms.is_some());
        }
    }
}
