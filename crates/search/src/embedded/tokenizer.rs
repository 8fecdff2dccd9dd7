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

/// Registers the index and query analyzers on a tantivy index.
pub fn register(index: &tantivy::Index) {
    let j = jieba();
    index
        .tokenizers()
        .register(INDEX_ANALYZER, analyzer(j.clone(), true));
    index
        .tokenizers()
        .register(QUERY_ANALYZER, analyzer(j, false));
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
    fn punctuation_is_dropped() {
        let mut a = analyzer(jieba(), false);
        let t = query_terms(&mut a, r#""芯片" AND (OR) -- \\ " ' ！？，。"#);
        assert_eq!(t, ["芯片"]);
        assert!(query_terms(&mut a, r#"--- ((( ''' "#).is_empty());
    }
}
