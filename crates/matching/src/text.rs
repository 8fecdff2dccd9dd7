//! Text of either side of a pair, and an absolute similarity of two texts (for scoring one pair
//! without a ranked list, as subscriptions and events do).
use std::collections::HashMap;
use std::sync::Mutex;
use ttx_search::embedded::tokenizer::{analyzer, jieba, query_terms};

/// The text of one side of a pair, by part; parts that name the subject (title, keywords)
/// count more than the long description.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Text {
    pub title: String,
    pub keywords: Vec<String>,
    pub body: Vec<String>,
}

fn tokens(text: &str) -> Vec<String> {
    static ANALYZER: std::sync::OnceLock<Mutex<tantivy::tokenizer::TextAnalyzer>> =
        std::sync::OnceLock::new();
    let a = ANALYZER.get_or_init(|| Mutex::new(analyzer(jieba(), false)));
    let mut a = a.lock().unwrap_or_else(|p| p.into_inner()).clone();
    query_terms(&mut a, text)
}

/// Words too general to say what a text is about (a firm's "problem", "improve", "cost"...).
const GENERIC: &[&str] = &[
    "问题", "技术", "目前", "现在", "我们", "公司", "企业", "需要", "希望", "要求", "提高", "提升",
    "降低", "解决", "实现", "进行", "采用", "通过", "可以", "能够", "达到", "以上", "以下", "左右",
    "方面", "情况", "方法", "研究", "分析", "结果", "表明", "一种", "基于", "应用", "相关", "主要",
    "工作", "生产", "产品", "效果", "影响", "存在", "导致", "不能", "没有", "一个", "这个", "这些",
    "已经", "还是", "但是", "因为", "所以", "如果", "由于", "其中", "同时", "之间", "以及", "每年",
    "时候", "成本", "质量", "效率", "目标", "指标", "合作", "项目", "系统", "设备", "过程", "能力",
    "水平", "较大", "较高", "较低", "不断", "有效", "一定", "对于", "具有", "使用", "利用", "经过",
    "关键", "预期", "完成",
];

fn contentful(t: &str) -> bool {
    let chars = t.chars().count();
    let cjk = t.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
    let ok_len = if cjk { chars >= 2 } else { chars >= 3 };
    ok_len && !GENERIC.contains(&t) && !t.chars().all(|c| c.is_ascii_digit() || c == '.')
}

/// Weighted terms of a text: title and keyword terms weigh 3, body terms 1, repeated terms
/// add up; longer words weigh a little more (they are more specific).
pub fn weighted_terms(t: &Text) -> Vec<(String, f64)> {
    let mut w: HashMap<String, f64> = HashMap::new();
    let mut order: Vec<String> = vec![];
    let mut add = |text: &str, weight: f64| {
        for term in tokens(text) {
            if !contentful(&term) {
                continue;
            }
            let len_bonus = 1.0 + 0.15 * (term.chars().count().min(6) as f64 - 2.0).max(0.0);
            let e = w.entry(term.clone()).or_insert_with(|| {
                order.push(term.clone());
                0.0
            });
            *e += weight * len_bonus;
        }
    };
    add(&t.title, 3.0);
    for k in &t.keywords {
        add(k, 3.0);
    }
    for b in &t.body {
        add(b, 1.0);
    }
    let mut out: Vec<(String, f64)> = order
        .into_iter()
        .map(|k| {
            let v = w[&k];
            (k, v)
        })
        .collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    out
}

/// Cosine similarity of two texts' weighted terms, in `0..=1` (an absolute relevance, for
/// scoring one pair without a ranked list).
pub fn similarity(a: &Text, b: &Text) -> f64 {
    let wa: HashMap<String, f64> = weighted_terms(a).into_iter().collect();
    let wb: HashMap<String, f64> = weighted_terms(b).into_iter().collect();
    let dot: f64 = wa
        .iter()
        .filter_map(|(t, x)| wb.get(t).map(|y| x * y))
        .sum();
    let na: f64 = wa.values().map(|x| x * x).sum::<f64>().sqrt();
    let nb: f64 = wb.values().map(|x| x * x).sum::<f64>().sqrt();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        (dot / (na * nb)).clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(title: &str, kw: &[&str], body: &str) -> Text {
        Text {
            title: title.into(),
            keywords: kw.iter().map(|s| s.to_string()).collect(),
            body: vec![body.into()],
        }
    }

    #[test]
    fn title_and_keywords_weigh_most_and_generic_words_not_at_all() {
        let terms = weighted_terms(&t(
            "锂电池正极材料",
            &["磷酸铁锂"],
            "我们公司目前需要提高电池的循环寿命，降低成本",
        ));
        let top: Vec<&str> = terms.iter().take(3).map(|(w, _)| w.as_str()).collect();
        for w in &top {
            assert!("锂电池正极材料 磷酸铁锂".contains(w), "{top:?}");
        }
        assert!(!terms.iter().any(|(w, _)| w == "我们" || w == "成本"));
    }

    #[test]
    fn similarity_is_symmetric_and_bounded() {
        let a = t("锂电池正极材料", &["磷酸铁锂"], "循环寿命");
        let b = t("磷酸铁锂正极材料的制备", &["正极"], "");
        let c = t("水泥窑协同处置", &["水泥"], "");
        let ab = similarity(&a, &b);
        assert!((ab - similarity(&b, &a)).abs() < 1e-12);
        assert!(ab > similarity(&a, &c));
        assert!((similarity(&a, &a) - 1.0).abs() < 1e-9);
    }
}
