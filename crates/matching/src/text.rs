//! Text of either side of a pair, and an absolute similarity of two texts (for scoring one pair
//! without a ranked list, as subscriptions and events do).
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use ttx_search::embedded::tokenizer::{analyzer, is_han_word, is_stopword, jieba, query_tokens};
use ttx_search::DocFreqs;

/// The text of one side of a pair, by part; parts that name the subject (title, keywords)
/// count more than the long description.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Text {
    pub title: String,
    pub keywords: Vec<String>,
    pub body: Vec<String>,
}

/// A [`Text`] borrowed from its record (for work that reads it without keeping it).
#[derive(Clone, Debug)]
pub struct TextRef<'a> {
    pub title: &'a str,
    pub keywords: &'a [String],
    pub body: Vec<&'a str>,
}

impl<'a> TextRef<'a> {
    /// Its parts in [`Text`]'s order: title, keywords, body.
    pub fn parts(&self) -> Vec<&'a str> {
        std::iter::once(self.title)
            .chain(self.keywords.iter().map(String::as_str))
            .chain(self.body.iter().copied())
            .collect()
    }

    pub fn to_text(&self) -> Text {
        Text {
            title: self.title.to_string(),
            keywords: self.keywords.to_vec(),
            body: self.body.iter().map(|b| b.to_string()).collect(),
        }
    }
}

/// The units of a text as the engine reads a query: words, and runs of two or more adjacent
/// Chinese characters that the segmenter left single (a trade's 脱硫渣 or a firm's coinage),
/// which the engine looks up by their character pairs. Function words are left out.
fn tokens(text: &str) -> Vec<String> {
    static ANALYZER: std::sync::OnceLock<Mutex<tantivy::tokenizer::TextAnalyzer>> =
        std::sync::OnceLock::new();
    let a = ANALYZER.get_or_init(|| Mutex::new(analyzer(jieba(), false)));
    let mut a = a.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let toks = query_tokens(&mut a, text);
    let single = |k: usize| {
        let w = &toks[k].0;
        w.chars().count() == 1 && is_han_word(w) && !is_stopword(w)
    };
    let mut out: Vec<String> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut i = 0;
    while i < toks.len() {
        let mut j = i;
        while j < toks.len() && single(j) && (j == i || toks[j - 1].2 == toks[j].1) {
            j += 1;
        }
        let unit = if j - i >= 2 {
            toks[i..j].iter().map(|t| t.0.as_str()).collect::<String>()
        } else {
            j = i + 1;
            toks[i].0.clone()
        };
        if !is_stopword(&unit) && seen.insert(unit.clone()) {
            out.push(unit);
        }
        i = j;
    }
    out
}

/// Words too general to say what a text is about (a firm's "improve", "cost", "product"...),
/// besides the function words ([`FUNCTION`]): left out of a text's weighted terms, but sent to the
/// engine with a whole need (they are common in research results too, so they weigh little there).
const GENERIC: &[&str] = &[
    "技术", "公司", "企业", "要求", "提高", "提升", "降低", "解决", "实现", "采用", "通过", "达到",
    "方法", "研究", "分析", "结果", "表明", "基于", "应用", "相关", "工作", "生产", "产品", "效果",
    "影响", "存在", "导致", "之间", "以及", "每年", "成本", "质量", "效率", "目标", "指标", "合作",
    "项目", "系统", "设备", "过程", "能力", "水平", "较高", "较低", "不断", "有效", "一定", "对于",
    "具有", "使用", "利用", "经过", "关键", "预期", "完成",
];

/// Words of everyday writing that say nothing about a subject: pronouns, adverbs,
/// conjunctions, vague quantities and the words every need uses (问题, 希望). A firm writes them
/// in every need, papers seldom do, so they are rare in an index of research results and,
/// left in a need's query, rank the few results written in everyday words above those about
/// the firm's subject.
const FUNCTION: &[&str] = &[
    "我们",
    "你们",
    "他们",
    "它们",
    "自己",
    "大家",
    "这个",
    "那个",
    "这些",
    "那些",
    "这样",
    "那样",
    "这种",
    "那种",
    "什么",
    "怎么",
    "怎样",
    "如何",
    "为什么",
    "哪些",
    "多少",
    "一些",
    "有些",
    "有的",
    "很多",
    "许多",
    "不少",
    "很大",
    "较大",
    "比较",
    "非常",
    "特别",
    "十分",
    "一直",
    "总是",
    "经常",
    "老是",
    "往往",
    "已经",
    "现在",
    "目前",
    "现有",
    "之前",
    "以前",
    "之后",
    "以后",
    "期间",
    "时候",
    "每次",
    "每天",
    "还是",
    "但是",
    "可是",
    "不过",
    "而且",
    "并且",
    "或者",
    "因为",
    "所以",
    "如果",
    "虽然",
    "由于",
    "因此",
    "然后",
    "同时",
    "另外",
    "其中",
    "就是",
    "还有",
    "只是",
    "只能",
    "只有",
    "必须",
    "需要",
    "希望",
    "想要",
    "能不能",
    "是否",
    "可以",
    "能够",
    "没有",
    "不能",
    "不是",
    "一个",
    "一种",
    "问题",
    "情况",
    "方面",
    "左右",
    "以上",
    "以下",
    "大概",
    "差不多",
    "基本",
    "主要",
    "一般",
    "通常",
    "进行",
];

fn function_word(t: &str) -> bool {
    static SET: std::sync::LazyLock<HashSet<&'static str>> =
        std::sync::LazyLock::new(|| FUNCTION.iter().copied().collect());
    SET.contains(t)
}

/// The text as sent to the engine whole: its words in order (title, keywords, body), each once
/// (the engine reads a repeated word once anyway), function words ([`FUNCTION`]) left out.
pub fn query_text(t: &Text) -> String {
    let mut seen: HashSet<String> = HashSet::new();
    let mut out = String::new();
    for part in parts(t) {
        for u in tokens(part) {
            if !function_word(&u) && seen.insert(u.clone()) {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(&u);
            }
        }
    }
    out
}

/// The character pairs of a need or listing as a query: [`char_pairs`] without the pairs
/// of function words ([`FUNCTION`]).
pub fn query_pairs(t: &Text) -> Pairs {
    static SKIP: std::sync::LazyLock<HashSet<u64, PairBuild>> = std::sync::LazyLock::new(|| {
        let mut s = HashSet::default();
        for w in FUNCTION {
            each_pair(w, |p| {
                s.insert(p);
            });
        }
        s
    });
    let mut p = char_pairs(t);
    p.0.retain(|x| !SKIP.contains(x));
    p
}

fn contentful(t: &str) -> bool {
    static GENERIC_SET: std::sync::LazyLock<HashSet<&'static str>> =
        std::sync::LazyLock::new(|| GENERIC.iter().copied().collect());
    let chars = t.chars().count();
    let cjk = t.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
    let ok_len = if cjk { chars >= 2 } else { chars >= 3 };
    ok_len
        && !GENERIC_SET.contains(t)
        && !function_word(t)
        && !t.chars().all(|c| c.is_ascii_digit() || c == '.')
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

/// The weighted terms of one text ([`weighted_terms`]) and their total weight: what
/// pseudo-relevance feedback reads of each feedback text.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightedTerms {
    pub terms: Vec<(String, f64)>,
    pub total: f64,
}

impl WeightedTerms {
    pub fn of(t: &Text) -> WeightedTerms {
        let terms = weighted_terms(t);
        let total = terms.iter().map(|(_, w)| w).sum();
        WeightedTerms { terms, total }
    }

    /// About the memory it holds, in bytes.
    pub fn bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self
                .terms
                .iter()
                .map(|(w, _)| std::mem::size_of::<(String, f64)>() + w.capacity())
                .sum::<usize>()
    }
}

/// BM25's inverse document frequency of a word in `df` of `docs` documents (≥ 0).
pub fn idf(df: u64, docs: u64) -> f64 {
    let (n, d) = (docs as f64, df as f64);
    (1.0 + (n - d + 0.5).max(0.0) / (d + 0.5)).ln()
}

/// The share of the documents a word no document has as such is treated as having: the engine
/// looks such a word up by the words inside it (a firm's 脱硫石膏渣 finds 石膏), so it is worth
/// a middling rarity, not the highest.
const UNKNOWN_WORD_SHARE: f64 = 0.005;

/// A word in at most this many documents is never too common to ask for, whatever its share:
/// in a small index every word is in a large share of the documents, and leaving the known
/// words out would leave only words no document has.
const COMMON_MIN_DOCS: f64 = 20.0;

/// The telling words of a text for the engine, most telling first: each word's weight
/// ([`weighted_terms`]: title and keywords weigh most) times its rarity in the index (`docs` and,
/// per word, `freqs`; a word no document has as such counts as rare but not the rarest, since
/// the engine looks it up by the words inside it). At most `max` words: the words in at most
/// `max_share` of the documents first, then the commoner ones (they say little, but in a small
/// index most words are common). Without frequencies (`None`), the heaviest words.
pub fn select_terms(
    weighted: &[(String, f64)],
    df: Option<&DocFreqs>,
    max: usize,
    max_share: f64,
) -> Vec<(String, f64)> {
    let mut out: Vec<(u8, String, f64)> = match df {
        Some(df) if df.freqs.len() == weighted.len() && df.docs > 0 => {
            let docs = df.docs;
            weighted
                .iter()
                .zip(&df.freqs)
                .map(|((w, x), f)| {
                    let f = *f;
                    let tier =
                        u8::from((f as f64) > (max_share * docs as f64).max(COMMON_MIN_DOCS));
                    let f = if f == 0 {
                        ((docs as f64) * UNKNOWN_WORD_SHARE).ceil() as u64
                    } else {
                        f
                    };
                    (tier, w.clone(), x * idf(f, docs))
                })
                .collect()
        }
        _ => weighted.iter().map(|(w, x)| (0, w.clone(), *x)).collect(),
    };
    out.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| b.2.total_cmp(&a.2))
            .then_with(|| a.1.cmp(&b.1))
    });
    out.truncate(max);
    out.into_iter().map(|(_, w, x)| (w, x)).collect()
}

/// Pseudo-relevance feedback, first step: the words of the best first-pass matches that the
/// query does not have, each with its weight `Σ relevance × share of the document's weighted
/// words` (a relevance model of the feedback texts) and the number of feedback texts having it.
/// Heaviest first. The words of `query` are left out.
pub fn feedback_terms<W: std::borrow::Borrow<WeightedTerms>>(
    feedback: &[(f64, W)],
    query: &HashSet<String>,
) -> Vec<(String, f64, usize)> {
    let mut acc: HashMap<&str, (f64, usize)> = HashMap::new();
    for (rel, t) in feedback {
        let t = t.borrow();
        if t.total <= 0.0 || *rel <= 0.0 {
            continue;
        }
        for (w, x) in &t.terms {
            if query.contains(w) {
                continue;
            }
            let e = acc.entry(w.as_str()).or_insert((0.0, 0));
            e.0 += rel * x / t.total;
            e.1 += 1;
        }
    }
    let mut out: Vec<(String, f64, usize)> = acc
        .into_iter()
        .map(|(w, (x, n))| (w.to_string(), x, n))
        .collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}

/// Pseudo-relevance feedback, second step: of the feedback words ([`feedback_terms`]), the
/// `max` most discriminative (weight × rarity) that can find other documents: words in at least
/// two documents and at most `max_share` of them, found in at least `min_docs` feedback texts.
/// Without frequencies, the heaviest such words.
pub fn pick_expansion(
    cands: &[(String, f64, usize)],
    df: Option<&DocFreqs>,
    max: usize,
    max_share: f64,
    min_docs: usize,
) -> Vec<(String, f64)> {
    let known = df.filter(|d| d.freqs.len() == cands.len() && d.docs > 0);
    let mut out: Vec<(String, f64)> = cands
        .iter()
        .enumerate()
        .filter(|(_, c)| c.2 >= min_docs)
        .filter_map(|(i, (w, x, _))| match known {
            Some(d) => {
                let f = d.freqs[i];
                (f >= 2 && (f as f64) <= max_share * d.docs as f64)
                    .then(|| (w.clone(), x * idf(f, d.docs)))
            }
            None => Some((w.clone(), *x)),
        })
        .collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out.truncate(max);
    out
}

/// The character pairs of a text, each once, sorted: see [`char_pairs`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pairs(Vec<u64>);

impl Pairs {
    /// Whether the pair `a`, `b` occurs (letters lower-cased).
    pub fn contains(&self, pair: &[char; 2]) -> bool {
        self.0.binary_search(&pack(pair[0], pair[1])).is_ok()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn pack(a: char, b: char) -> u64 {
    (u64::from(u32::from(a)) << 32) | u64::from(u32::from(b))
}

/// Calls `f` with each character pair of `s`, in order, repeats included: consecutive Han
/// characters, letters and digits (Latin letters lower-cased). See [`char_pairs`].
fn each_pair(s: &str, mut f: impl FnMut(u64)) {
    let mut prev: Option<char> = None;
    // one character (already lower-cased): a pair with the one before if both count
    let mut step = |c: char, ok: bool| {
        if let (Some(p), true) = (prev, ok) {
            f(pack(p, c));
        }
        prev = ok.then_some(c);
    };
    for c in s.chars() {
        if c.is_ascii() {
            step(c.to_ascii_lowercase(), c.is_ascii_alphanumeric());
        } else if ('\u{4E00}'..='\u{9FFF}').contains(&c) {
            // CJK unified ideographs (the common case, checked first): no case
            step(c, true);
        } else {
            for l in c.to_lowercase() {
                step(l, l.is_alphanumeric());
            }
        }
    }
}

/// The parts of a text, each read on its own (a pair never spans two parts).
fn parts(t: &Text) -> impl Iterator<Item = &str> {
    std::iter::once(t.title.as_str())
        .chain(t.keywords.iter().map(String::as_str))
        .chain(t.body.iter().map(String::as_str))
}

/// The character pairs of a text (Han characters, letters and digits; Latin letters
/// lower-cased), each once: they match a firm's 副产石膏 with a paper's 脱硫石膏 through 石膏
/// however the words were segmented.
pub fn char_pairs(t: &Text) -> Pairs {
    let mut out: Vec<u64> = Vec::new();
    for s in parts(t) {
        each_pair(s, |p| out.push(p));
    }
    out.sort_unstable();
    out.dedup();
    Pairs(out)
}

/// A multiplicative hash for packed character pairs (std's SipHash costs more than the rest
/// of the work per pair; the keys are not chosen by an adversary who could exploit that).
#[derive(Default, Clone, Copy)]
struct PairHasher(u64);

impl std::hash::Hasher for PairHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (n ^ (n >> 29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type PairBuild = std::hash::BuildHasherDefault<PairHasher>;

/// What one text shares with a query: how many distinct pairs it has, and the positions in
/// the query of the pairs both have.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shared {
    pub pairs: usize,
    pub hits: Vec<usize>,
}

/// The pairs each text shares with `query`, in one pass over each text's characters (no
/// sorting; one set reused for all texts). Candidates of every match request go through here.
pub fn shared_pairs<'a, T>(query: &Pairs, texts: impl IntoIterator<Item = T>) -> Vec<Shared>
where
    T: IntoIterator<Item = &'a str>,
{
    let at: HashMap<u64, usize, PairBuild> =
        query.0.iter().enumerate().map(|(i, p)| (*p, i)).collect();
    let mut seen: HashSet<u64, PairBuild> = HashSet::default();
    texts
        .into_iter()
        .map(|t| {
            seen.clear();
            let mut hits = Vec::new();
            for s in t {
                each_pair(s, |p| {
                    if seen.insert(p) {
                        if let Some(&i) = at.get(&p) {
                            hits.push(i);
                        }
                    }
                });
            }
            hits.sort_unstable();
            Shared {
                pairs: seen.len(),
                hits,
            }
        })
        .collect()
}

/// Similarity of a query's character pairs to each of some texts' (cosine of binary vectors,
/// each pair weighted by its rarity among these texts, so pairs they all share count little),
/// from what each text shares with a query of `query_pairs` pairs ([`shared_pairs`]): a
/// re-ranking signal among candidates that is independent of word segmentation.
pub fn similarities(query_pairs: usize, shared: &[Shared]) -> Vec<f64> {
    let n = shared.len() as f64;
    // for each query pair, how many texts share it
    let mut df = vec![0u32; query_pairs];
    for s in shared {
        for &i in &s.hits {
            df[i] += 1;
        }
    }
    let w2: Vec<f64> = df
        .iter()
        .map(|&d| (1.0 + n / (1.0 + f64::from(d))).ln().powi(2))
        .collect();
    let qn: f64 = w2.iter().sum::<f64>().sqrt();
    shared
        .iter()
        .map(|s| {
            let dot: f64 = s.hits.iter().map(|&i| w2[i]).sum();
            let tn = (s.pairs as f64).sqrt() * (1.0 + n).ln();
            if qn == 0.0 || tn == 0.0 {
                0.0
            } else {
                (dot / (qn * tn)).clamp(0.0, 1.0)
            }
        })
        .collect()
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
    fn a_query_keeps_its_subject_words_in_order_once_and_drops_function_words() {
        let need = t(
            "蟹塘回捕率低",
            &["河蟹"],
            "我们的蟹塘没有发现多少伤亡，但是回捕率一直很低，现有办法是多放苗。",
        );
        let q = query_text(&need);
        let words: Vec<&str> = q.split(' ').collect();
        for w in ["我们", "没有", "多少", "但是", "一直", "现有"] {
            assert!(!words.contains(&w), "{w} left in {q:?}");
        }
        for w in ["河蟹", "伤亡", "回捕"] {
            assert!(words.contains(&w), "{w} missing from {q:?}");
        }
        // each word once: the body's 蟹塘 repeats the title's
        assert_eq!(words.iter().filter(|w| **w == "蟹塘").count(), 1, "{q:?}");
        // title first, then keywords, then the body
        let at = |w: &str| words.iter().position(|x| *x == w).unwrap();
        assert!(at("河蟹") < at("伤亡"));
    }

    #[test]
    fn query_pairs_leave_out_the_pairs_of_function_words_only() {
        let need = t("我们需要石膏砌块", &[], "目前没有办法");
        let all = char_pairs(&need);
        let q = query_pairs(&need);
        for p in [['我', '们'], ['没', '有'], ['需', '要'], ['目', '前']] {
            assert!(all.contains(&p) && !q.contains(&p), "{p:?}");
        }
        for p in [['石', '膏'], ['砌', '块'], ['办', '法']] {
            assert!(q.contains(&p), "{p:?}");
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

    fn w(v: &[(&str, f64)]) -> Vec<(String, f64)> {
        v.iter().map(|(a, b)| (a.to_string(), *b)).collect()
    }

    #[test]
    fn rarity_is_bm25s_idf() {
        assert!(idf(1, 1000) > idf(10, 1000));
        assert!(idf(10, 1000) > idf(500, 1000));
        assert!(idf(1000, 1000) >= 0.0);
    }

    #[test]
    fn selected_words_are_the_rare_heavy_ones_and_at_most_max() {
        let weighted = w(&[
            ("石膏", 3.0),
            ("电厂", 3.0),
            ("砌块", 1.0),
            ("保温", 1.0),
            ("墙体", 1.0),
        ]);
        let df = DocFreqs {
            docs: 10_000,
            // 电厂 is in 30% of the documents: after the rarer words at a 20% share.
            freqs: vec![12, 3_000, 40, 900, 0],
        };
        let got = select_terms(&weighted, Some(&df), 3, 0.2);
        let words: Vec<&str> = got.iter().map(|(w, _)| w.as_str()).collect();
        assert_eq!(words.len(), 3);
        assert_eq!(words[0], "石膏", "{got:?}");
        assert!(!words.contains(&"电厂"), "{got:?}");
        // A word no document has (looked up by its parts) ranks below an equally heavy rare
        // known word, above a common one.
        assert!(
            words.contains(&"墙体") && words.contains(&"砌块"),
            "{got:?}"
        );
        assert!(!words.contains(&"保温"), "{got:?}");
        // Common words fill the places rarer words leave.
        let all = select_terms(&weighted, Some(&df), 5, 0.2);
        assert_eq!(all.last().map(|(w, _)| w.as_str()), Some("电厂"), "{all:?}");
        // Without frequencies: the heaviest words, in order.
        let plain = select_terms(&weighted, None, 2, 0.2);
        assert_eq!(plain, w(&[("电厂", 3.0), ("石膏", 3.0)]));
        // In a small index no word is too common: the heavy known words come first, not the
        // words no document has.
        let small = DocFreqs {
            docs: 5,
            freqs: vec![3, 2, 1, 1, 0],
        };
        let words: Vec<String> = select_terms(&weighted, Some(&small), 2, 0.2)
            .into_iter()
            .map(|(w, _)| w)
            .collect();
        assert_eq!(words, ["电厂", "石膏"], "{words:?}");
        // Frequencies that do not fit the words are ignored rather than misapplied.
        let short = DocFreqs {
            docs: 10,
            freqs: vec![1],
        };
        assert_eq!(select_terms(&weighted, Some(&short), 2, 0.2), plain);
    }

    #[test]
    fn feedback_words_leave_out_the_query_and_favour_shared_words_of_relevant_texts() {
        let fb = vec![
            (
                1.0,
                t("工业副产石膏制备轻质砌块", &["副产石膏", "砌块"], ""),
            ),
            (0.9, t("副产石膏改性及建材利用", &["副产石膏", "改性"], "")),
            (0.1, t("陶瓷釉料配方", &["釉料"], "")),
        ];
        let query: HashSet<String> = ["砌块".to_string()].into_iter().collect();
        let fb: Vec<(f64, WeightedTerms)> = fb
            .into_iter()
            .map(|(r, t)| (r, WeightedTerms::of(&t)))
            .collect();
        let got = feedback_terms(&fb, &query);
        assert!(!got.iter().any(|(w, _, _)| w == "砌块"), "{got:?}");
        let top = &got[0];
        assert_eq!(
            top.2, 2,
            "the top word is shared by two feedback texts: {got:?}"
        );
        assert!(top.0.contains("石膏") || top.0.contains("副产"), "{got:?}");
        let glaze = got.iter().find(|(w, _, _)| w == "陶瓷").expect("陶瓷");
        assert!(
            glaze.1 < top.1 / 3.0,
            "a weakly relevant text adds little: {got:?}"
        );
    }

    #[test]
    fn expansion_words_can_find_other_documents_and_are_discriminative() {
        let cands = vec![
            ("副产石膏".to_string(), 0.30, 2),
            ("改性".to_string(), 0.35, 2),
            ("孤词".to_string(), 0.50, 1),
            ("磷石膏".to_string(), 0.05, 1),
        ];
        let df = DocFreqs {
            docs: 10_000,
            // 改性 is common; 孤词 is in one document only (the feedback text itself).
            freqs: vec![8, 1_500, 1, 5],
        };
        let got = pick_expansion(&cands, Some(&df), 2, 0.2, 1);
        let words: Vec<&str> = got.iter().map(|(w, _)| w.as_str()).collect();
        assert_eq!(words, vec!["副产石膏", "改性"]);
        let rare_first = pick_expansion(&cands, Some(&df), 2, 0.1, 1);
        let words: Vec<&str> = rare_first.iter().map(|(w, _)| w.as_str()).collect();
        assert_eq!(
            words,
            vec!["副产石膏", "磷石膏"],
            "改性 is above a 10% share"
        );
        let shared = pick_expansion(&cands, Some(&df), 5, 0.2, 2);
        assert!(shared.iter().all(|(w, _)| w != "磷石膏" && w != "孤词"));
        assert_eq!(pick_expansion(&cands, None, 1, 0.2, 1), w(&[("孤词", 0.5)]));
    }

    /// The reference for [`shared_pairs`]: what each text's sorted pairs share with the query's (a merge of two sorted lists).
    fn shared_sorted(query: &Pairs, texts: &[Pairs]) -> Vec<Shared> {
        let q = &query.0;
        texts
            .iter()
            .map(|t| {
                let mut hits = Vec::new();
                let (mut i, mut j) = (0, 0);
                while i < q.len() && j < t.0.len() {
                    match q[i].cmp(&t.0[j]) {
                        std::cmp::Ordering::Less => i += 1,
                        std::cmp::Ordering::Greater => j += 1,
                        std::cmp::Ordering::Equal => {
                            hits.push(i);
                            i += 1;
                            j += 1;
                        }
                    }
                }
                Shared {
                    pairs: t.len(),
                    hits,
                }
            })
            .collect()
    }

    /// [`similarities`] from sorted pairs: the plain way, which [`shared_pairs`] must equal.
    fn pair_similarities(query: &Pairs, texts: &[Pairs]) -> Vec<f64> {
        similarities(query.len(), &shared_sorted(query, texts))
    }

    /// The definition, written plainly: every lower-cased alphanumeric character after another.
    fn pairs_by_definition(t: &Text) -> Vec<[char; 2]> {
        let mut out = std::collections::BTreeSet::new();
        for s in std::iter::once(&t.title).chain(&t.keywords).chain(&t.body) {
            let mut prev: Option<char> = None;
            for c in s.chars().flat_map(char::to_lowercase) {
                let ok = c.is_alphanumeric();
                if let (Some(p), true) = (prev, ok) {
                    out.insert([p, c]);
                }
                prev = ok.then_some(c);
            }
        }
        out.into_iter().collect()
    }

    proptest::proptest! {
        #[test]
        fn character_pairs_follow_their_definition(
            title in "[a-zA-Z0-9 石膏砌块脱硫副产ÉßİΣσ１２\\-，。]{0,24}",
            body in "\\PC{0,40}",
        ) {
            let text = t(&title, &["Ab", "锂电"], &body);
            let pairs = char_pairs(&text);
            let want = pairs_by_definition(&text);
            proptest::prop_assert_eq!(pairs.len(), want.len());
            for p in &want {
                proptest::prop_assert!(pairs.contains(p), "{:?}", p);
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn shared_pairs_in_one_pass_equal_the_merge_of_sorted_pairs(
            query in "[a-zA-Z0-9 石膏砌块脱硫副产锂电Σσ，]{0,30}",
            texts in proptest::collection::vec(
                ("[a-zA-Z0-9 石膏砌块脱硫副产锂电Σσ，]{0,30}", "\\PC{0,30}"), 0..6),
        ) {
            let q = char_pairs(&t(&query, &[], ""));
            let texts: Vec<Text> = texts.iter().map(|(a, b)| t(a, &["副产"], b)).collect();
            let sorted: Vec<Pairs> = texts.iter().map(char_pairs).collect();
            let one_pass = shared_pairs(&q, texts.iter().map(parts));
            proptest::prop_assert_eq!(&one_pass, &shared_sorted(&q, &sorted));
            proptest::prop_assert_eq!(
                similarities(q.len(), &one_pass),
                pair_similarities(&q, &sorted)
            );
        }
    }

    #[test]
    fn character_pairs_bridge_segmentation_and_rare_shared_pairs_count_most() {
        let need = char_pairs(&t("电厂副产石膏做砌块", &[], ""));
        assert!(need.contains(&['石', '膏']) && need.contains(&['副', '产']));
        assert!(!char_pairs(&t("A-B", &[], "")).contains(&['-', 'b']));
        let texts = vec![
            char_pairs(&t("脱硫石膏制备砌块", &[], "")),
            char_pairs(&t("水泥砌块强度", &[], "")),
            char_pairs(&t("锂电池正极材料", &[], "")),
        ];
        let sims = pair_similarities(&need, &texts);
        assert_eq!(sims.len(), 3);
        assert!(sims.iter().all(|s| (0.0..=1.0).contains(s)), "{sims:?}");
        assert!(sims[0] > sims[1] && sims[1] > sims[2], "{sims:?}");
        assert_eq!(sims[2], 0.0);
        assert!(pair_similarities(&Pairs::default(), &texts)
            .iter()
            .all(|s| *s == 0.0));
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
