//! Builds tantivy queries from a [`SearchQuery`] — user text is tokenised, never parsed.
//!
//! * Each query word becomes a *group*: a disjunction-max over the text fields with boosts
//!   (title > keywords > summary > org name > body) so that a title match ranks first.
//! * A query word no document contains (e.g. a long compound jieba did not know) is replaced
//!   by the dictionary words inside it (锂电池组 → 锂电池, 电池) so recall does not depend on
//!   segmenting the query exactly like the documents.
//! * Chinese fragments jieba does not know as words (钙钛, 钠电: a run of single characters or
//!   of words no document contains) are looked up in the character-gram fields instead: the
//!   fragment's consecutive character pairs must all occur inside one word of the title,
//!   keywords or summary (see [`super::tokenizer::grams`]).
//! * English words and phrases found in the English → Chinese term table ([`crate::embedded::en_zh`])
//!   become one group: the English words, or any of the Chinese terms (`deep learning` finds
//!   documents saying deep learning or 深度学习).
//! * A word that matches nothing even in parts is ignored when other words remain.
//! * Groups are first combined with AND; if that matches nothing the engine retries with
//!   OR, where documents matching more words score higher (BM25 sums).
//! * Term filters (field, modes, IP kinds, status, region, organisation, tags) are typed
//!   term queries with zero score; numeric filters are applied by the collector.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, DisjunctionMaxQuery, Occur, Query,
    TermQuery, TermSetQuery,
};

use tantivy::postings::TermInfo;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{Searcher, Term};

use super::schema::{gram_fields, text_fields, Fields};
use super::tokenizer::{
    index_terms, is_han_word, is_stopword, query_grams, query_terms, query_tokens,
};
use crate::embedded::en_zh;
use crate::Filters;

/// Weight of a sub-word used in place of an unknown query word.
const SUBWORD_WEIGHT: f32 = 0.6;
/// Weight of a Chinese term standing for an English phrase (relative to the English words).
const TRANSLATION_WEIGHT: f32 = 1.5;
/// Tie breaker of the per-word disjunction-max over fields.
pub(crate) const TIE_BREAKER: f32 = 0.25;

/// Where an alternative's terms are looked up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// The jieba-analysed text fields (title, keywords, summary, organisation, body).
    Text,
    /// The character-gram fields.
    Grams,
}

/// One way a query word can match: all of `terms` (in `target`), scored with `weight`.
#[derive(Clone, Debug, PartialEq)]
pub struct Alt {
    pub terms: Vec<String>,
    pub target: Target,
    pub weight: f32,
}

/// One query word (or phrase, or fragment): documents match it by any of its alternatives.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    pub alts: Vec<Alt>,
    /// Text marked in highlights for this group.
    pub highlight: Vec<String>,
}

impl Group {
    /// A word standing for itself and, with their weights, other terms (sub-words).
    fn words(terms: Vec<(String, f32)>) -> Group {
        Group {
            highlight: terms.iter().map(|(t, _)| t.clone()).collect(),
            alts: terms
                .into_iter()
                .map(|(t, w)| Alt {
                    terms: vec![t],
                    target: Target::Text,
                    weight: w,
                })
                .collect(),
        }
    }

    fn key(&self) -> String {
        let mut k = String::new();
        for a in &self.alts {
            k.push_str(&a.terms.join("+"));
            k.push(if a.target == Target::Grams { '#' } else { '|' });
        }
        k
    }
}

/// A term's dictionary entry in each segment, in segment order (`None` where it is absent).
pub type SegmentInfos = Rc<[Option<TermInfo>]>;

/// Each term's dictionary entry in every segment of one searcher, looked up once per search:
/// a long text names the same word many times, and reading its groups and then ranking it
/// would otherwise search each segment's dictionary for it again and again.
pub struct TermInfos<'a> {
    searcher: &'a Searcher,
    memo: RefCell<HashMap<Term, SegmentInfos>>,
}

/// BM25 statistics as the searcher's (documents and tokens counted with deletions), the terms'
/// document frequencies from the entries looked up once per search.
impl tantivy::query::Bm25StatisticsProvider for TermInfos<'_> {
    fn total_num_tokens(&self, field: Field) -> tantivy::Result<u64> {
        tantivy::query::Bm25StatisticsProvider::total_num_tokens(self.searcher, field)
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        tantivy::query::Bm25StatisticsProvider::total_num_docs(self.searcher)
    }

    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        TermInfos::doc_freq(self, term)
    }
}

/// Documents having a term, deleted ones included, from its entry in each segment.
pub fn doc_freq_of(infos: &[Option<TermInfo>]) -> u64 {
    infos.iter().flatten().map(|i| u64::from(i.doc_freq)).sum()
}

impl<'a> TermInfos<'a> {
    pub fn new(searcher: &'a Searcher) -> Self {
        TermInfos {
            searcher,
            memo: RefCell::default(),
        }
    }

    pub fn searcher(&self) -> &'a Searcher {
        self.searcher
    }

    /// The term's entry in each segment (in segment order; `None` where it is absent).
    pub fn get(&self, term: &Term) -> tantivy::Result<SegmentInfos> {
        if let Some(v) = self.memo.borrow().get(term) {
            return Ok(v.clone());
        }
        let infos = self
            .searcher
            .segment_readers()
            .iter()
            .map(|r| Ok(r.inverted_index(term.field())?.get_term_info(term)?))
            .collect::<tantivy::Result<SegmentInfos>>()?;
        self.memo.borrow_mut().insert(term.clone(), infos.clone());
        Ok(infos)
    }

    /// Documents having the term, deleted ones included (as [`Searcher::doc_freq`]).
    pub fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        Ok(doc_freq_of(&self.get(term)?))
    }
}

struct Lookup<'a> {
    fields: &'a Fields,
    infos: &'a TermInfos<'a>,
}

impl Lookup<'_> {
    /// Documents having `term` in some text field (at least 1 when there are any, else 0).
    fn text_df(&self, term: &str) -> tantivy::Result<u64> {
        if let Some(a) = self.fields.any_text {
            return doc_freq_in(self.infos, [a], term);
        }
        doc_freq_in(self.infos, text_fields(self.fields).map(|(f, _)| f), term)
    }

    /// Whether every gram of the fragment occurs in the gram fields.
    fn grams_live(&self, grams: &[String]) -> tantivy::Result<bool> {
        let fields: Vec<Field> = gram_fields(self.fields)
            .into_iter()
            .map(|(f, _)| f)
            .collect();
        if fields.is_empty() || grams.is_empty() {
            return Ok(false);
        }
        for g in grams {
            if doc_freq_in(self.infos, fields.iter().copied(), g)? == 0 {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// A query word: itself when some document has it, else the dictionary words inside
    /// it; `Err` holds the word when nothing matches.
    fn word(
        &self,
        index_analyzer: &mut TextAnalyzer,
        w: &str,
    ) -> tantivy::Result<Result<Group, Group>> {
        if self.text_df(w)? > 0 {
            return Ok(Ok(Group::words(vec![(w.to_string(), 1.0)])));
        }
        let mut terms = vec![(w.to_string(), 1.0)];
        for sub in index_terms(index_analyzer, w) {
            if sub != w && !terms.iter().any(|(t, _)| *t == sub) && self.text_df(&sub)? > 0 {
                terms.push((sub, SUBWORD_WEIGHT));
            }
        }
        let g = Group::words(terms);
        Ok(if g.alts.len() > 1 { Ok(g) } else { Err(g) })
    }

    /// A Chinese fragment looked up by its character grams (and, for one character, as a
    /// word too).
    fn fragment(&self, fragment: &str) -> tantivy::Result<Option<Group>> {
        let grams = query_grams(fragment);
        if !self.grams_live(&grams)? {
            return Ok(None);
        }
        let mut alts = vec![Alt {
            terms: grams,
            target: Target::Grams,
            weight: 1.0,
        }];
        if fragment.chars().count() == 1 && self.text_df(fragment)? > 0 {
            alts.insert(
                0,
                Alt {
                    terms: vec![fragment.to_string()],
                    target: Target::Text,
                    weight: 1.0,
                },
            );
        }
        Ok(Some(Group {
            alts,
            highlight: vec![fragment.to_string()],
        }))
    }

    /// An English phrase of the term table: its words, or any of its Chinese terms.
    fn phrase(
        &self,
        query_analyzer: &mut TextAnalyzer,
        words: &[String],
        zh: &[String],
    ) -> tantivy::Result<Result<Group, Group>> {
        let mut alts = Vec::new();
        let mut highlight = Vec::new();
        let mut live = true;
        for w in words {
            if self.text_df(w)? == 0 {
                live = false;
            }
        }
        let english = Alt {
            terms: words.to_vec(),
            target: Target::Text,
            weight: 1.0,
        };
        if live {
            alts.push(english.clone());
            highlight.extend(words.iter().cloned());
        }
        for t in zh {
            let parts = query_terms(query_analyzer, t);
            if parts.is_empty() {
                continue;
            }
            let mut ok = true;
            for p in &parts {
                if self.text_df(p)? == 0 {
                    ok = false;
                    break;
                }
            }
            if ok {
                alts.push(Alt {
                    terms: parts,
                    target: Target::Text,
                    weight: TRANSLATION_WEIGHT,
                });
                highlight.push(t.clone());
            }
        }
        if alts.is_empty() {
            return Ok(Err(Group {
                alts: vec![english],
                highlight: words.to_vec(),
            }));
        }
        Ok(Ok(Group { alts, highlight }))
    }
}

fn doc_freq_in(
    infos: &TermInfos<'_>,
    fields: impl IntoIterator<Item = Field>,
    term: &str,
) -> tantivy::Result<u64> {
    let mut n = 0;
    for f in fields {
        n += infos.doc_freq(&Term::from_field_text(f, term))?;
        if n > 0 {
            break;
        }
    }
    Ok(n)
}

/// Tokenises `text` into groups: English phrases of the term table, Chinese fragments
/// looked up by grams, words absent from the index expanded into the words inside them.
pub fn text_groups(
    fields: &Fields,
    infos: &TermInfos<'_>,
    query_analyzer: &mut TextAnalyzer,
    index_analyzer: &mut TextAnalyzer,
    text: &str,
) -> tantivy::Result<Vec<Group>> {
    let lk = Lookup { fields, infos };
    let toks = query_tokens(query_analyzer, text);
    let only_stopwords = toks.iter().all(|(t, _, _)| is_stopword(t));
    let ascii: Vec<Option<&str>> = toks
        .iter()
        .map(|(t, _, _)| t.is_ascii().then_some(t.as_str()))
        .collect();
    let dict = en_zh::dict();
    let mut live: Vec<Group> = Vec::new();
    let mut dead: Vec<Group> = Vec::new();
    let mut keys: HashSet<String> = HashSet::new();
    let mut push = |r: Result<Group, Group>, live: &mut Vec<Group>| match r {
        Ok(g) => {
            if keys.insert(g.key()) {
                live.push(g);
            }
        }
        Err(g) => dead.push(g),
    };
    let mut i = 0;
    while i < toks.len() {
        let (t, _, _) = &toks[i];
        if is_stopword(t) && !only_stopwords {
            i += 1;
            continue;
        }
        if t.is_ascii() {
            if let Some((n, zh)) = dict.longest_at(&ascii, i) {
                let words: Vec<String> = toks[i..i + n].iter().map(|x| x.0.clone()).collect();
                let r = lk.phrase(query_analyzer, &words, zh)?;
                push(r, &mut live);
                i += n;
                continue;
            }
            let r = lk.word(index_analyzer, t)?;
            push(r, &mut live);
            i += 1;
            continue;
        }
        // A run of adjacent Chinese tokens jieba could not make into known words: single
        // characters, or words no document has.
        let mut j = i;
        while j < toks.len() {
            let (w, from, _) = &toks[j];
            let adjacent = j == i || toks[j - 1].2 == *from;
            let weak = is_han_word(w)
                && !is_stopword(w)
                && (w.chars().count() == 1 || lk.text_df(w)? == 0);
            if !adjacent || !weak {
                break;
            }
            j += 1;
        }
        if j > i {
            let fragment: String = toks[i..j].iter().map(|x| x.0.as_str()).collect();
            if let Some(g) = lk.fragment(&fragment)? {
                push(Ok(g), &mut live);
                i = j;
                continue;
            }
        }
        // Not a fragment: word by word as before.
        let end = j.max(i + 1);
        for (w, _, _) in &toks[i..end] {
            if is_stopword(w) && !only_stopwords {
                continue;
            }
            let r = lk.word(index_analyzer, w)?;
            push(r, &mut live);
        }
        i = end;
    }
    // A word no document contains, even in parts, cannot match: ignore it rather than
    // fail the whole AND query (unless nothing else is left).
    if live.is_empty() {
        let mut seen = Vec::new();
        dead.retain(|g| {
            let k = g.key();
            let new = !seen.contains(&k);
            seen.push(k);
            new
        });
        return Ok(dead);
    }
    Ok(live)
}

fn term_query(fields: &Fields, target: Target, term: &str, weight: f32) -> Box<dyn Query> {
    let fs: Vec<(Field, f32)> = match target {
        Target::Text => text_fields(fields).to_vec(),
        Target::Grams => gram_fields(fields),
    };
    let parts: Vec<Box<dyn Query>> = fs
        .into_iter()
        .map(|(field, boost)| {
            let tq = TermQuery::new(
                Term::from_field_text(field, term),
                IndexRecordOption::WithFreqs,
            );
            Box::new(BoostQuery::new(Box::new(tq), boost * weight)) as Box<dyn Query>
        })
        .collect();
    Box::new(DisjunctionMaxQuery::with_tie_breaker(parts, TIE_BREAKER))
}

fn group_query(fields: &Fields, g: &Group) -> Box<dyn Query> {
    let simple = g
        .alts
        .iter()
        .all(|a| a.terms.len() == 1 && a.target == Target::Text);
    if simple {
        // One disjunction-max over every (field, term): a word and its sub-words.
        let mut parts: Vec<Box<dyn Query>> = Vec::new();
        for (field, boost) in text_fields(fields) {
            for a in &g.alts {
                let tq = TermQuery::new(
                    Term::from_field_text(field, &a.terms[0]),
                    IndexRecordOption::WithFreqs,
                );
                parts.push(Box::new(BoostQuery::new(Box::new(tq), boost * a.weight)));
            }
        }
        return Box::new(DisjunctionMaxQuery::with_tie_breaker(parts, TIE_BREAKER));
    }
    let mut alts: Vec<Box<dyn Query>> = g
        .alts
        .iter()
        .map(|a| {
            if a.terms.len() == 1 {
                term_query(fields, a.target, &a.terms[0], a.weight)
            } else {
                let must = a
                    .terms
                    .iter()
                    .map(|t| (Occur::Must, term_query(fields, a.target, t, a.weight)))
                    .collect();
                Box::new(BooleanQuery::new(must)) as Box<dyn Query>
            }
        })
        .collect();
    if alts.len() == 1 {
        return alts.pop().expect("one alternative");
    }
    Box::new(DisjunctionMaxQuery::with_tie_breaker(alts, TIE_BREAKER))
}

/// Every (term, boost) the query of `groups` scores with. Each group's score is a
/// disjunction-max (at most the sum of its parts) or a sum of such, and filters score zero,
/// so a document's score is at most the sum of these terms' scores: a disjunction of them
/// bounds the score from above, which is what block-max WAND needs to skip documents that
/// cannot reach the top k (see `collector::top_by_score`).
pub fn bound_terms(fields: &Fields, groups: &[Group]) -> Vec<(Term, f32)> {
    let mut out = Vec::new();
    for g in groups {
        for a in &g.alts {
            let fs: Vec<(Field, f32)> = match a.target {
                Target::Text => text_fields(fields).to_vec(),
                Target::Grams => gram_fields(fields),
            };
            for t in &a.terms {
                for (field, boost) in &fs {
                    out.push((Term::from_field_text(*field, t), boost * a.weight));
                }
            }
        }
    }
    out
}

/// The score of [`combine`]'s query as a tree of boosted terms, to score chosen documents
/// exactly (see `collector::top_by_score`) without building the query's union scorers, which
/// refill a window of 4,096 documents on every far seek.
#[derive(Clone, Debug)]
pub enum Plan {
    /// One term's BM25 times the boost.
    Term(Term, f32),
    /// Disjunction-max with [`TIE_BREAKER`]: matches when a child does.
    Max(Vec<Plan>),
    /// Sum: matches only when every child does.
    All(Vec<Plan>),
    /// Sum: matches when any child does.
    Any(Vec<Plan>),
}

/// [`Plan`] of the query `combine(fields, groups, any_word, _)` builds (filters score zero and
/// are checked apart). Mirrors [`group_query`] and [`term_query`] child for child, so that the
/// scores are the same.
pub fn exact_plan(fields: &Fields, groups: &[Group], any_word: bool) -> Plan {
    let term_plan = |target: Target, term: &str, weight: f32| -> Plan {
        let fs: Vec<(Field, f32)> = match target {
            Target::Text => text_fields(fields).to_vec(),
            Target::Grams => gram_fields(fields),
        };
        Plan::Max(
            fs.into_iter()
                .map(|(f, boost)| Plan::Term(Term::from_field_text(f, term), boost * weight))
                .collect(),
        )
    };
    let group_plan = |g: &Group| -> Plan {
        let simple = g
            .alts
            .iter()
            .all(|a| a.terms.len() == 1 && a.target == Target::Text);
        if simple {
            let mut parts = Vec::new();
            for (field, boost) in text_fields(fields) {
                for a in &g.alts {
                    parts.push(Plan::Term(
                        Term::from_field_text(field, &a.terms[0]),
                        boost * a.weight,
                    ));
                }
            }
            return Plan::Max(parts);
        }
        let mut alts: Vec<Plan> = g
            .alts
            .iter()
            .map(|a| {
                if a.terms.len() == 1 {
                    term_plan(a.target, &a.terms[0], a.weight)
                } else {
                    Plan::All(
                        a.terms
                            .iter()
                            .map(|t| term_plan(a.target, t, a.weight))
                            .collect(),
                    )
                }
            })
            .collect();
        if alts.len() == 1 {
            return alts.pop().expect("one alternative");
        }
        Plan::Max(alts)
    };
    let parts: Vec<Plan> = groups.iter().map(group_plan).collect();
    if any_word && groups.len() > 1 {
        Plan::Any(parts)
    } else {
        Plan::All(parts)
    }
}

/// The disjunction (sum) of boosted term queries built from [`bound_terms`].
pub fn bound_query(terms: Vec<(Term, f32)>) -> Box<dyn Query> {
    let should = terms
        .into_iter()
        .map(|(t, boost)| {
            let tq = TermQuery::new(t, IndexRecordOption::WithFreqs);
            (
                Occur::Should,
                Box::new(BoostQuery::new(Box::new(tq), boost)) as Box<dyn Query>,
            )
        })
        .collect();
    Box::new(BooleanQuery::new(should))
}

/// The one query of `qs`, or their disjunction.
fn any_of(mut qs: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    if qs.len() == 1 {
        return qs.pop().expect("one query");
    }
    Box::new(BooleanQuery::new(
        qs.into_iter().map(|q| (Occur::Should, q)).collect(),
    ))
}

/// The terms whose postings, united, are exactly the documents the text part of
/// [`match_query`] matches, when that part is a plain union: one word (or any of the words),
/// each of its alternatives a single term. `None` when an alternative needs several terms
/// together, when every one of several words is required, or without `any_text`.
pub fn union_terms(fields: &Fields, groups: &[Group], any_word: bool) -> Option<Vec<Term>> {
    let any_text = fields.any_text?;
    if groups.is_empty() || (groups.len() > 1 && !any_word) {
        return None;
    }
    let mut out = Vec::new();
    for a in groups.iter().flat_map(|g| &g.alts) {
        let [t] = a.terms.as_slice() else {
            return None;
        };
        match a.target {
            Target::Text => out.push(Term::from_field_text(any_text, t)),
            Target::Grams => out.extend(
                gram_fields(fields)
                    .into_iter()
                    .map(|(f, _)| Term::from_field_text(f, t)),
            ),
        }
    }
    out.sort();
    out.dedup();
    Some(out)
}

/// A query matching exactly the documents `combine(fields, groups, any_word, filters)` matches,
/// for counting and faceting without scores: a text term is looked up once in `any_text` (every
/// text field's words) instead of in each text field. `None` when the index has no `any_text`.
pub fn match_query(
    fields: &Fields,
    groups: &[Group],
    any_word: bool,
    filters: Vec<Box<dyn Query>>,
) -> Option<Box<dyn Query>> {
    let any_text = fields.any_text?;
    let term = |target: Target, t: &str| -> Box<dyn Query> {
        let fs: Vec<Field> = match target {
            Target::Text => vec![any_text],
            Target::Grams => gram_fields(fields).into_iter().map(|(f, _)| f).collect(),
        };
        let qs: Vec<Box<dyn Query>> = fs
            .into_iter()
            .map(|f| {
                Box::new(TermQuery::new(
                    Term::from_field_text(f, t),
                    IndexRecordOption::Basic,
                )) as Box<dyn Query>
            })
            .collect();
        any_of(qs)
    };
    let group = |g: &Group| -> Box<dyn Query> {
        let alts: Vec<Box<dyn Query>> = g
            .alts
            .iter()
            .map(|a| {
                if a.terms.len() == 1 {
                    term(a.target, &a.terms[0])
                } else {
                    Box::new(BooleanQuery::new(
                        a.terms
                            .iter()
                            .map(|t| (Occur::Must, term(a.target, t)))
                            .collect(),
                    )) as Box<dyn Query>
                }
            })
            .collect();
        any_of(alts)
    };
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    if !groups.is_empty() {
        if any_word && groups.len() > 1 {
            let should = groups.iter().map(|g| (Occur::Should, group(g))).collect();
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(should))));
        } else {
            for g in groups {
                clauses.push((Occur::Must, group(g)));
            }
        }
    }
    for f in filters {
        clauses.push((Occur::Must, f));
    }
    if clauses.is_empty() {
        return Some(Box::new(AllQuery));
    }
    Some(Box::new(BooleanQuery::new(clauses)))
}

/// The (term, weight) list a long text is ranked by term at a time (see
/// [`super::collector::top_by_terms`]): each word in `any_text`, a fragment's character grams
/// in the gram fields; an alternative of several terms (a phrase, a fragment) shares its weight
/// among them. A term named by several words adds up their weights. `None` when the index has
/// no `any_text`.
pub fn long_text_terms(fields: &Fields, groups: &[Group]) -> Option<Vec<(Term, f32)>> {
    let any_text = fields.any_text?;
    let grams = gram_fields(fields);
    let gram_total: f32 = grams.iter().map(|(_, b)| *b).sum();
    let mut out: Vec<(Term, f32)> = Vec::new();
    let mut at: std::collections::HashMap<Term, usize> = std::collections::HashMap::new();
    let mut add = |term: Term, w: f32| match at.get(&term) {
        Some(&i) => out[i].1 += w,
        None => {
            at.insert(term.clone(), out.len());
            out.push((term, w));
        }
    };
    for g in groups {
        for a in &g.alts {
            let share = a.weight / a.terms.len().max(1) as f32;
            for t in &a.terms {
                match a.target {
                    Target::Text => add(Term::from_field_text(any_text, t), share),
                    Target::Grams => {
                        for (f, boost) in &grams {
                            add(Term::from_field_text(*f, t), share * boost / gram_total);
                        }
                    }
                }
            }
        }
    }
    Some(out)
}

/// All `filters` as one query (`None` without filters).
pub fn all_of(filters: Vec<Box<dyn Query>>) -> Option<Box<dyn Query>> {
    if filters.is_empty() {
        return None;
    }
    Some(Box::new(BooleanQuery::new(
        filters.into_iter().map(|f| (Occur::Must, f)).collect(),
    )))
}

/// The terms to highlight for the groups.
pub fn highlight_terms(groups: &[Group]) -> Vec<(String, f32)> {
    groups
        .iter()
        .flat_map(|g| g.highlight.iter().map(|t| (t.clone(), 1.0)))
        .collect()
}

/// Combines text groups (AND or OR) and filters into the final query.
pub fn combine(
    fields: &Fields,
    groups: &[Group],
    any_word: bool,
    filters: Vec<Box<dyn Query>>,
) -> Box<dyn Query> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    if !groups.is_empty() {
        if any_word && groups.len() > 1 {
            let should = groups
                .iter()
                .map(|g| (Occur::Should, group_query(fields, g)))
                .collect();
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(should))));
        } else {
            for g in groups {
                clauses.push((Occur::Must, group_query(fields, g)));
            }
        }
    }
    for f in filters {
        clauses.push((Occur::Must, Box::new(ConstScoreQuery::new(f, 0.0))));
    }
    if clauses.is_empty() {
        return Box::new(AllQuery);
    }
    Box::new(BooleanQuery::new(clauses))
}

fn any_of_strings(field: Field, values: &[String]) -> Option<Box<dyn Query>> {
    let terms: Vec<Term> = values
        .iter()
        .map(|v| Term::from_field_text(field, v))
        .collect();
    match terms.len() {
        0 => None,
        1 => Some(Box::new(TermQuery::new(
            terms.into_iter().next().expect("one term"),
            IndexRecordOption::Basic,
        ))),
        _ => Some(Box::new(TermSetQuery::new(terms))),
    }
}

/// Typed filter queries (each one a required clause).
pub fn filter_queries(f: &Fields, flt: &Filters) -> Vec<Box<dyn Query>> {
    let mut out: Vec<Box<dyn Query>> = Vec::new();
    out.extend(any_of_strings(f.field, &flt.fields));
    out.extend(any_of_strings(f.modes, &flt.modes));
    out.extend(any_of_strings(f.ip_kinds, &flt.ip_kinds));
    // The status is checked per document by the collectors (`NumericFilter`).
    if let Some(p) = &flt.region_prefix {
        out.push(Box::new(TermQuery::new(
            Term::from_field_text(f.region_prefixes, p.trim()),
            IndexRecordOption::Basic,
        )));
    }
    // TRL, amount, deadline and dual-use are checked in the collector (NumericFilter).
    if let Some(o) = flt.org_id {
        out.push(Box::new(TermQuery::new(
            Term::from_field_i64(f.org_id, o),
            IndexRecordOption::Basic,
        )));
    }
    for t in &flt.tags {
        out.push(Box::new(TermQuery::new(
            Term::from_field_text(f.tags, t),
            IndexRecordOption::Basic,
        )));
    }
    out
}
