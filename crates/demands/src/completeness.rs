//! How completely a need is stated — the commonest complaint of brokers is a need they cannot
//! act on. A pure function scores a need out of 100 and says, in Chinese and English, what
//! to add; publishing requires `demands.min_publish_score` (60 by default).
//!
//! | part            | points | full marks                        | partial                      |
//! |-----------------|-------:|-----------------------------------|------------------------------|
//! | problem 主要问题 |     25 | at least 50 characters            | 15–49 characters: 12         |
//! | key points 技术关键 | 15 | at least 30 characters            | 10–29 characters: 7          |
//! | goals 预期目标    |     15 | at least 30 characters            | 10–29 characters: 7          |
//! | budget 预算      |     15 | a range                           | negotiable (面议): 8          |
//! | deadline 需求时限 |     10 | set                               |                              |
//! | keywords 关键词   |     10 | at least 3                        | 1–2: 5                       |
//! | field 技术领域    |     10 | set                               |                              |
//!
//! Characters are counted as Unicode scalar values after trimming, so 50 characters is about
//! two sentences in Chinese.
use crate::domain::{Budget, DemandData};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const PROBLEM_FULL: usize = 50;
pub const PROBLEM_PARTIAL: usize = 15;
pub const DETAIL_FULL: usize = 30;
pub const DETAIL_PARTIAL: usize = 10;
pub const KEYWORDS_FULL: usize = 3;

/// One scored part of a need.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PartScore {
    /// problem | key_points | goals | budget | deadline | keywords | field
    pub part: String,
    pub points: u8,
    pub max: u8,
}

/// What to add to score higher.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Hint {
    /// Stable code, e.g. `problem_too_short`.
    pub code: String,
    /// The input field to improve.
    pub field: String,
    /// Points gained by fixing it.
    pub points: u8,
    pub zh: String,
    pub en: String,
}

/// The score of a need with its parts and hints.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Completeness {
    /// 0 to 100.
    pub score: u8,
    pub parts: Vec<PartScore>,
    /// Most valuable first.
    pub hints: Vec<Hint>,
}

struct Scorer {
    parts: Vec<PartScore>,
    hints: Vec<Hint>,
}

impl Scorer {
    fn part(&mut self, part: &str, points: u8, max: u8, hint: Option<(&str, &str, &str)>) {
        self.parts.push(PartScore {
            part: part.into(),
            points,
            max,
        });
        if let Some((code, zh, en)) = hint.filter(|_| points < max) {
            self.hints.push(Hint {
                code: code.into(),
                field: part.into(),
                points: max - points,
                zh: zh.into(),
                en: en.into(),
            });
        }
    }

    fn text(
        &mut self,
        part: &str,
        text: &str,
        max: u8,
        full: usize,
        partial: usize,
        what: [&str; 4],
    ) {
        let n = text.trim().chars().count();
        let [missing_zh, missing_en, short_zh, short_en] = what;
        let (points, code, zh, en) = if n >= full {
            (max, "", "", "")
        } else if n >= partial {
            (max / 2, "too_short", short_zh, short_en)
        } else if n == 0 {
            (0, "missing", missing_zh, missing_en)
        } else {
            (0, "too_short", short_zh, short_en)
        };
        let code = format!("{part}_{code}");
        self.part(part, points, max, Some((&code, zh, en)));
    }
}

/// Scores a need. Pure; the weights are in the module documentation.
pub fn assess(d: &DemandData) -> Completeness {
    let mut s = Scorer {
        parts: vec![],
        hints: vec![],
    };
    s.text(
        "problem",
        &d.problem,
        25,
        PROBLEM_FULL,
        PROBLEM_PARTIAL,
        [
            "请描述企业面临的主要问题：现状、瓶颈和影响（至少 50 字）",
            "Describe the main problem: the current situation, the bottleneck and its impact (at least 50 characters)",
            "主要问题描述过短，请补充现状、瓶颈和影响（至少 50 字）",
            "The problem statement is short: add the current situation, the bottleneck and its impact (at least 50 characters)",
        ],
    );
    s.text(
        "key_points",
        &d.key_points,
        15,
        DETAIL_FULL,
        DETAIL_PARTIAL,
        [
            "请写明需要突破的技术关键（至少 30 字）",
            "State the technical key points to solve (at least 30 characters)",
            "技术关键描述过短，请写明具体的技术难点和约束（至少 30 字）",
            "The technical key points are short: name the concrete difficulties and constraints (at least 30 characters)",
        ],
    );
    s.text(
        "goals",
        &d.goals,
        15,
        DETAIL_FULL,
        DETAIL_PARTIAL,
        [
            "请写明预期目标和可量化的验收指标（至少 30 字）",
            "State the expected goals with measurable acceptance indicators (at least 30 characters)",
            "预期目标过短，请补充可量化的验收指标（至少 30 字）",
            "The goals are short: add measurable acceptance indicators (at least 30 characters)",
        ],
    );
    match d.budget {
        Some(Budget::Range { .. }) => s.part("budget", 15, 15, None),
        Some(Budget::Negotiable) => s.part(
            "budget",
            8,
            15,
            Some((
                "budget_negotiable",
                "预算为面议；给出预算区间能让技术经纪人更快匹配（以分为单位）",
                "The budget is negotiable; a budget range (in fen) lets brokers match faster",
            )),
        ),
        None => s.part(
            "budget",
            0,
            15,
            Some((
                "budget_missing",
                "请给出预算区间，或明确标注为面议",
                "Give a budget range, or state that it is negotiable",
            )),
        ),
    }
    s.part(
        "deadline",
        if d.deadline.is_some() { 10 } else { 0 },
        10,
        Some((
            "deadline_missing",
            "请设定需求时限（截止日期）",
            "Set a deadline for the need",
        )),
    );
    let k = d.keywords.len();
    s.part(
        "keywords",
        if k >= KEYWORDS_FULL {
            10
        } else if k > 0 {
            5
        } else {
            0
        },
        10,
        Some((
            if k == 0 {
                "keywords_missing"
            } else {
                "keywords_few"
            },
            "请填写 3 到 5 个关键词，便于检索和匹配",
            "Add 3 to 5 keywords so the need can be found and matched",
        )),
    );
    s.part(
        "field",
        if d.field.is_some() { 10 } else { 0 },
        10,
        Some((
            "field_missing",
            "请选择技术领域",
            "Choose the technology field",
        )),
    );
    let score: u32 = s.parts.iter().map(|p| u32::from(p.points)).sum();
    s.hints.sort_by_key(|h| std::cmp::Reverse(h.points));
    Completeness {
        score: score.min(100) as u8,
        parts: s.parts,
        hints: s.hints,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Contact;
    use ttx_core::{Fen, TechField};

    fn empty() -> DemandData {
        DemandData {
            title: "电池热管理".into(),
            problem: String::new(),
            key_points: String::new(),
            goals: String::new(),
            keywords: vec![],
            field: None,
            research_type: None,
            modes: vec![],
            trl_min: None,
            trl_max: None,
            budget: None,
            deadline: None,
            region: None,
            anonymous: false,
            contact: Contact::default(),
        }
    }

    fn full() -> DemandData {
        DemandData {
            problem: "动力电池包在高倍率快充时温升过快，局部温差超过8℃，导致电芯一致性下降、循环寿命缩短，现有风冷方案已无法满足新一代产品的快充要求。".into(),
            key_points: "液冷板流道优化设计、电芯间导热界面材料选型、基于模型的热管理控制策略。".into(),
            goals: "4C快充条件下电芯最高温度不超过45℃，模组内温差不超过3℃，系统能耗增加不超过5%。".into(),
            keywords: vec!["热管理".into(), "液冷".into(), "快充".into()],
            field: Some(TechField::NewEnergy),
            budget: Some(Budget::Range {
                min: Fen(50_000_000),
                max: Fen(100_000_000),
            }),
            deadline: chrono::NaiveDate::from_ymd_opt(2027, 6, 30),
            ..empty()
        }
    }

    #[test]
    fn weights_add_up_to_100() {
        let c = assess(&full());
        assert_eq!(c.parts.iter().map(|p| u32::from(p.max)).sum::<u32>(), 100);
        assert_eq!(c.score, 100);
        assert!(c.hints.is_empty());
    }

    #[test]
    fn empty_need_scores_zero_with_a_hint_per_part() {
        let c = assess(&empty());
        assert_eq!(c.score, 0);
        assert_eq!(c.hints.len(), 7);
        assert_eq!(c.hints[0].code, "problem_missing");
        assert_eq!(c.hints[0].points, 25);
        for h in &c.hints {
            assert!(!h.zh.is_empty() && !h.en.is_empty());
            assert!(h
                .zh
                .chars()
                .any(|ch| ('\u{4e00}'..='\u{9fff}').contains(&ch)));
        }
    }

    #[test]
    fn partial_credit() {
        let mut d = full();
        d.problem = "快充温升过快，电芯一致性下降明显。".into(); // 17 chars
        d.budget = Some(Budget::Negotiable);
        d.keywords.truncate(1);
        let c = assess(&d);
        assert_eq!(c.score, 100 - 13 - 7 - 5);
        let codes: Vec<&str> = c.hints.iter().map(|h| h.code.as_str()).collect();
        assert_eq!(
            codes,
            vec!["problem_too_short", "budget_negotiable", "keywords_few"]
        );
        assert_eq!(c.hints[0].field, "problem");
    }

    #[test]
    fn very_short_text_scores_nothing() {
        let mut d = full();
        d.goals = "降温".into();
        let c = assess(&d);
        assert_eq!(c.score, 85);
        assert_eq!(c.hints[0].code, "goals_too_short");
    }

    #[test]
    fn default_threshold_needs_the_core_of_a_need() {
        // Title, field and keywords alone are not enough to publish at 60.
        let mut d = empty();
        d.field = Some(TechField::NewEnergy);
        d.keywords = vec!["a".into(), "b".into(), "c".into()];
        d.deadline = chrono::NaiveDate::from_ymd_opt(2027, 6, 30);
        d.budget = Some(Budget::Negotiable);
        assert_eq!(assess(&d).score, 38);
        d.problem = full().problem;
        d.key_points = full().key_points;
        assert_eq!(assess(&d).score, 78);
    }
}
