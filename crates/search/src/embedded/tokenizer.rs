//! Chinese + English analysis for the embedded engine.
//!
//! * Segmentation: [jieba](https://github.com/messense/jieba-rs) with its default dictionary
//!   plus the technical-term dictionary shipped in `data/terms.txt` (钙钛矿, 锂离子电池,
//!   碳化硅, ...), so that domain terms stay whole.
//! * Indexing uses jieba's *search mode*: a long word is indexed whole **and** as the 2- and
//!   3-character dictionary words inside it, so 电池 finds 锂离子电池, 芯片 finds 芯片设计 and
//!   疫苗 finds 新冠疫苗. A token mixing Latin letters and Han characters (mRNA疫苗) is also
//!   indexed as its Latin run (`mrna`).
//! * Queries use jieba's default (precise) mode, so a query word is looked up as the user
//!   typed it; see [`crate::embedded`] for the fallback when a query word is unknown.
//! * Tokens without any letter, digit or Han character (punctuation, spaces) are dropped;
//!   everything is lower-cased; English words are kept whole and Porter-stemmed
//!   (batteries → batteri ← battery).

use std::io::BufRead;
use std::sync::{Arc, OnceLock};

use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, Stemmer, TextAnalyzer, Token, TokenStream, Tokenizer,
};
use tantivy_jieba::jieba_rs::Jieba;

/// Name of the indexing analyzer registered in every embedded index.
pub const INDEX_ANALYZER: &str = "ttx_zh_index";
/// Name of the query analyzer registered in every embedded index.
pub const QUERY_ANALYZER: &str = "ttx_zh_query";
/// Name of the character-gram analyzer (see [`grams`]) registered in every embedded index.
pub const GRAM_ANALYZER: &str = "ttx_zh_grams";

/// Pairs of characters of one word are indexed up to this distance apart (钠离子电池 gives
/// 钠电: 3 apart).
pub const GRAM_WINDOW: usize = 4;

/// The technical-term user dictionary (one term per line, `#` comments).
const TERMS: &str = include_str!("../../data/terms.txt");

/// Longest token kept, in bytes (longer ones are noise such as base64 blobs).
const MAX_TOKEN_BYTES: usize = 64;

/// Words dropped from queries (when the query has other words): function words that would
/// otherwise make an AND query needlessly strict.
const QUERY_STOPWORDS: &[&str] = &[
    "的", "了", "和", "与", "及", "或", "在", "是", "对", "等", "之", "以及", "或者", "并且", "a",
    "an", "and", "or", "not", "the", "of", "for", "in", "on", "to", "with", "by", "at",
];

/// The shared jieba instance: default dictionary + `data/terms.txt`. Built once (~0.2 s).
pub fn jieba() -> Arc<Jieba> {
    static JIEBA: OnceLock<Arc<Jieba>> = OnceLock::new();
    JIEBA
        .get_or_init(|| {
            let mut j = Jieba::new();
            for line in TERMS.as_bytes().lines() {
                let Ok(line) = line else { continue };
                let term = line.split('#').next().unwrap_or("").trim();
                if term.is_empty() {
                    continue;
                }
                // Let jieba choose a frequency that keeps the term whole; add the case
                // variants of mixed terms since the dictionary lookup is case-sensitive.
                let mut variants = vec![term.to_string()];
                if term.bytes().any(|b| b.is_ascii_alphabetic()) {
                    variants.push(term.to_lowercase());
                    variants.push(term.to_uppercase());
                }
                for v in variants {
                    if !j.has_word(&v) {
                        j.add_word(&v, None, None);
                    } else {
                        let f = j.suggest_freq(&v);
                        j.add_word(&v, Some(f), None);
                    }
                }
            }
            Arc::new(j)
        })
        .clone()
}

/// The jieba tokenizer as a tantivy [`Tokenizer`] (before lower-casing and stemming).
#[derive(Clone)]
pub struct JiebaTokenizer {
    jieba: Arc<Jieba>,
    search_mode: bool,
}

impl JiebaTokenizer {
    /// `search_mode = true` for indexing (sub-words too), `false` for queries.
    pub fn new(jieba: Arc<Jieba>, search_mode: bool) -> Self {
        JiebaTokenizer { jieba, search_mode }
    }
}

fn is_wordish(s: &str) -> bool {
    s.chars().any(char::is_alphanumeric)
}

/// Segments `text` into `out`.
fn segment(jieba: &Jieba, search_mode: bool, text: &str, out: &mut Vec<Token>) {
    let words = if search_mode {
        jieba.cut_for_search(text, true)
    } else {
        jieba.cut(text, true)
    };
    let mut position = 0usize;
    for w in words {
        if !is_wordish(w.word) {
            continue;
        }
        out.push(Token {
            offset_from: w.byte_start,
            offset_to: w.byte_end,
            position,
            text: w.word.to_string(),
            position_length: 1,
        });
        // A mixed token (mRNA疫苗, 5G基站) is also findable by its Latin part.
        if search_mode && !w.word.is_ascii() && w.word.bytes().any(|b| b.is_ascii_alphanumeric()) {
            let bytes = w.word.as_bytes();
            let mut run_start: Option<usize> = None;
            for i in 0..=bytes.len() {
                let alnum = i < bytes.len() && bytes[i].is_ascii_alphanumeric();
                match (alnum, run_start) {
                    (true, None) => run_start = Some(i),
                    (false, Some(s)) => {
                        let part = &w.word[s..i];
                        if part.len() >= 2 && part.bytes().any(|b| b.is_ascii_alphabetic()) {
                            out.push(Token {
                                offset_from: w.byte_start + s,
                                offset_to: w.byte_start + i,
                                position,
                                text: part.to_string(),
                                position_length: 1,
                            });
                        }
                        run_start = None;
                    }
                    _ => {}
                }
            }
        }
        position += 1;
    }
}

/// A token stream owning its tokens (so that filters can rewrite them).
pub struct OwnedTokenStream {
    tokens: Vec<Token>,
    index: usize,
}

impl TokenStream for OwnedTokenStream {
    fn advance(&mut self) -> bool {
        self.index += 1;
        self.index <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.index - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.index - 1]
    }
}

impl Tokenizer for JiebaTokenizer {
    type TokenStream<'a> = OwnedTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> OwnedTokenStream {
        let mut tokens = Vec::with_capacity(text.len() / 3 + 4);
        segment(&self.jieba, self.search_mode, text, &mut tokens);
        OwnedTokenStream { tokens, index: 0 }
    }
}

/// Builds the analyzer: jieba → drop over-long tokens → lower-case → English stemmer.
pub fn analyzer(jieba: Arc<Jieba>, search_mode: bool) -> TextAnalyzer {
    TextAnalyzer::builder(JiebaTokenizer::new(jieba, search_mode))
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(Stemmer::new(Language::English))
        .build()
}

/// Search-mode analyzer without stemming, for [`subwords`].
pub fn subword_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(JiebaTokenizer::new(jieba(), true))
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .build()
}

/// The distinct Chinese (non-ASCII) search-mode words of `text`, space-separated: the
/// whole words *and* the dictionary words inside them (锂电池 → "锂电池 电池"). Engines
/// without search-mode segmentation (Meilisearch) index this beside the text so that 电池
/// also finds 锂电池.
pub fn subwords(analyzer: &mut TextAnalyzer, text: &str) -> String {
    let mut seen: Vec<String> = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while let Some(t) = stream.next() {
        if !t.text.is_ascii() && !seen.contains(&t.text) {
            seen.push(t.text.clone());
        }
    }
    seen.join(" ")
}

/// Registers the index, query and gram analyzers on a tantivy index.
pub fn register(index: &tantivy::Index) {
    let j = jieba();
    index
        .tokenizers()
        .register(INDEX_ANALYZER, analyzer(j.clone(), true));
    index
        .tokenizers()
        .register(QUERY_ANALYZER, analyzer(j, false));
    index
        .tokenizers()
        .register(GRAM_ANALYZER, TextAnalyzer::from(GramTokenizer));
}

/// Whether `c` is a Han (CJK ideograph) character.
pub fn is_han(c: char) -> bool {
    matches!(c,
        '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2FA1F}')
}

/// Whether `s` is made of Han characters only (and not empty).
pub fn is_han_word(s: &str) -> bool {
    !s.is_empty() && s.chars().all(is_han)
}

/// The character grams of `text`, for finding partial and abbreviated Chinese words
/// (`钙钛` in 钙钛矿, `钠电` in 钠离子电池), which jieba keeps whole.
///
/// For each word of jieba's precise segmentation: every Han character, and every ordered
/// pair of its Han characters at most [`GRAM_WINDOW`] apart (钠离子电池 → 钠, 离, …, 钠离,
/// 钠子, 钠电, 钠池, 离子, …); and the pair of characters either side of a word boundary
/// inside a run of Han text (钙钛矿|电池 → 矿电). Pairs are bounded by words so that 钠电 does
/// not match 含钠的电解液. A query made of such a fragment asks for its consecutive pairs
/// ([`query_grams`]).
pub fn grams(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let j = jieba();
    let mut prev: Option<(char, usize)> = None;
    for w in j.cut(text, true) {
        let chars: Vec<char> = w.word.chars().filter(|c| is_han(*c)).collect();
        if chars.is_empty() {
            prev = None;
            continue;
        }
        let first_is_han = w.word.chars().next().is_some_and(is_han);
        if let Some((c, end)) = prev {
            if end == w.byte_start && first_is_han {
                out.push([c, chars[0]].iter().collect());
            }
        }
        for i in 0..chars.len() {
            out.push(chars[i].to_string());
            for k in chars
                .iter()
                .take((i + GRAM_WINDOW + 1).min(chars.len()))
                .skip(i + 1)
            {
                out.push([chars[i], *k].iter().collect());
            }
        }
        prev = w
            .word
            .chars()
            .last()
            .filter(|c| is_han(*c))
            .map(|c| (c, w.byte_end));
    }
    out
}

/// The grams a query fragment of Han characters must all have: its single character, or
/// its consecutive pairs (钠电池 → 钠电, 电池).
pub fn query_grams(fragment: &str) -> Vec<String> {
    let chars: Vec<char> = fragment.chars().filter(|c| is_han(*c)).collect();
    let mut out: Vec<String> = Vec::new();
    if chars.len() == 1 {
        out.push(chars[0].to_string());
    }
    for p in chars.windows(2) {
        let g: String = p.iter().collect();
        if !out.contains(&g) {
            out.push(g);
        }
    }
    out
}

/// [`grams`] as a tantivy tokenizer (positions are not meaningful).
#[derive(Clone)]
pub struct GramTokenizer;

impl Tokenizer for GramTokenizer {
    type TokenStream<'a> = OwnedTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> OwnedTokenStream {
        let tokens = grams(text)
            .into_iter()
            .enumerate()
            .map(|(position, text)| Token {
                offset_from: 0,
                offset_to: 0,
                position,
                text,
                position_length: 1,
            })
            .collect();
        OwnedTokenStream { tokens, index: 0 }
    }
}

/// Tokenises user query text into distinct terms (in order of first appearance); never
/// fails. Stop words are dropped unless nothing else remains.
pub fn query_terms(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut all: Vec<String> = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while let Some(t) = stream.next() {
        if !all.contains(&t.text) {
            all.push(t.text.clone());
        }
    }
    let content: Vec<String> = all
        .iter()
        .filter(|t| !QUERY_STOPWORDS.contains(&t.as_str()))
        .cloned()
        .collect();
    if content.is_empty() {
        all
    } else {
        content
    }
}

/// Whether a query word is a function word (dropped when the query has other words).
pub fn is_stopword(word: &str) -> bool {
    QUERY_STOPWORDS.contains(&word)
}

/// The analysed words of query text in order, with their byte ranges in `text`
/// (duplicates kept, stop words kept).
pub fn query_tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<(String, usize, usize)> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while let Some(t) = stream.next() {
        out.push((t.text.clone(), t.offset_from, t.offset_to));
    }
    out
}

/// All terms the index analyzer produces for `text` (used to expand unknown query words
/// into the dictionary words inside them).
pub fn index_terms(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while let Some(t) = stream.next() {
        if !out.contains(&t.text) {
            out.push(t.text.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(search: bool, text: &str) -> Vec<String> {
        let mut a = analyzer(jieba(), search);
        index_terms(&mut a, text)
    }

    #[test]
    fn search_mode_has_subwords() {
        let t = toks(true, "高能量密度锂离子电池");
        assert!(t.contains(&"锂离子电池".to_string()), "{t:?}");
        assert!(t.contains(&"电池".to_string()), "{t:?}");
        let t = toks(true, "面向AI的芯片设计平台");
        assert!(t.contains(&"芯片".to_string()), "{t:?}");
        assert!(t.contains(&"ai".to_string()), "{t:?}");
        let t = toks(true, "新冠疫苗佐剂");
        assert!(t.contains(&"疫苗".to_string()), "{t:?}");
        let t = toks(true, "mRNA疫苗递送系统");
        assert!(t.contains(&"mrna疫苗".to_string()), "{t:?}");
        assert!(t.contains(&"mrna".to_string()), "{t:?}");
        assert!(t.contains(&"疫苗".to_string()), "{t:?}");
    }

    #[test]
    fn query_mode_keeps_terms_whole() {
        assert_eq!(toks(false, "钙钛矿"), ["钙钛矿"]);
        assert_eq!(toks(false, "碳化硅"), ["碳化硅"]);
        assert_eq!(toks(false, "5G 基站 天线"), ["5g", "基站", "天线"]);
        assert_eq!(toks(false, "CRISPR 基因编辑"), ["crispr", "基因编辑"]);
        assert_eq!(toks(false, "Lithium Batteries"), ["lithium", "batteri"]);
        assert_eq!(toks(false, "battery"), ["batteri"]);
    }

    #[test]
    fn grams_find_fragments_inside_words() {
        let g = grams("高效钙钛矿太阳能电池");
        for want in ["钙钛", "钛矿", "钙", "矿"] {
            assert!(g.contains(&want.to_string()), "{want} in {g:?}");
        }
        let g = grams("钠离子电池正极材料");
        assert!(g.contains(&"钠电".to_string()), "{g:?}");
        // Not across unrelated words.
        let g = grams("含钠的电解液");
        assert!(!g.contains(&"钠电".to_string()), "{g:?}");
        assert_eq!(query_grams("钠电"), ["钠电"]);
        assert_eq!(query_grams("钛"), ["钛"]);
        assert_eq!(query_grams("钠电池"), ["钠电", "电池"]);
        assert!(query_grams("abc").is_empty());
    }

    #[test]
    fn punctuation_is_dropped() {
        let mut a = analyzer(jieba(), false);
        let t = query_terms(&mut a, r#""芯片" AND (OR) -- \\ " ' ！？，。"#);
        assert_eq!(t, ["芯片"]);
        assert!(query_terms(&mut a, r#"--- ((( ''' "#).is_empty());
    }
}
