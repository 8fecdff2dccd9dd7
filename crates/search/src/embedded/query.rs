//! Builds tantivy queries from a [`SearchQuery`] — user text is tokenised, never parsed.
//!
//! * Each query word becomes a *group*: a disjunction-max over the text fields with boosts
//!   (title > keywords > summary > org name > body) so that a title match ranks first.
//! * A query word no document contains (e.g. a long compound jieba did not know) is replaced
//!   by the dictionary words inside it (锂电池组 → 锂电池, 电池) so recall does not depend on
//!   segmenting the query exactly like the documents.
//! * A word that matches nothing even in parts is ignored when other words remain.
//! * Groups are first combined with AND; if that matches nothing the engine retries with
//!   OR, where documents matching more words score higher (BM25 sums).
//! * Term filters (field, modes, IP kinds, status, region, organisation, tags) are typed
//!   term queries with zero score; numeric filters are applied by the collector.

use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, DisjunctionMaxQuery, Occur, Query,
    TermQuery, TermSetQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{Searcher, Term};

use super::schema::{text_fields, Fields};
use super::tokenizer::{index_terms, query_terms};
use crate::Filters;

/// Weight of a sub-word used in place of an unknown query word.
const SUBWORD_WEIGHT: f32 = 0.6;
/// Tie breaker of the per-word disjunction-max over fields.
const TIE_BREAKER: f32 = 0.25;

/// One query word: the terms that stand for it, with weights.
#[derive(Clone, Debug)]
pub struct Group {
    pub terms: Vec<(String, f32)>,
}

/// Tokenises `text` into groups, expanding words absent from the index.
pub fn text_groups(
    fields: &Fields,
    searcher: &Searcher,
    query_analyzer: &mut TextAnalyzer,
    index_analyzer: &mut TextAnalyzer,
    text: &str,
) -> tantivy::Result<Vec<Group>> {
    let words = query_terms(query_analyzer, text);
    let mut groups = Vec::with_capacity(words.len());
    let mut dead = Vec::new();
    for w in words {
        if doc_freq_any(fields, searcher, &w)? > 0 {
            groups.push(Group {
                terms: vec![(w, 1.0)],
            });
            continue;
        }
        let mut terms = vec![(w.clone(), 1.0)];
        for sub in index_terms(index_analyzer, &w) {
            if sub != w
                && !terms.iter().any(|(t, _)| *t == sub)
                && doc_freq_any(fields, searcher, &sub)? > 0
            {
                terms.push((sub, SUBWORD_WEIGHT));
            }
        }
        if terms.len() > 1 {
            groups.push(Group { terms });
        } else {
            dead.push(Group { terms });
        }
    }
    // A word no document contains, even in parts, cannot match: ignore it rather than
    // fail the whole AND query (unless nothing else is left).
    if groups.is_empty() {
        groups = dead;
    }
    Ok(groups)
}

fn doc_freq_any(fields: &Fields, searcher: &Searcher, term: &str) -> tantivy::Result<u64> {
    let mut n = 0;
    for (f, _) in text_fields(fields) {
        n += searcher.doc_freq(&Term::from_field_text(f, term))?;
        if n > 0 {
            break;
        }
    }
    Ok(n)
}

fn group_query(fields: &Fields, g: &Group) -> Box<dyn Query> {
    let mut parts: Vec<Box<dyn Query>> = Vec::new();
    for (field, boost) in text_fields(fields) {
        for (t, w) in &g.terms {
            let tq = TermQuery::new(
                Term::from_field_text(field, t),
                IndexRecordOption::WithFreqs,
            );
            parts.push(Box::new(BoostQuery::new(Box::new(tq), boost * w)));
        }
    }
    Box::new(DisjunctionMaxQuery::with_tie_breaker(parts, TIE_BREAKER))
}

/// The terms to highlight for the groups.
pub fn highlight_terms(groups: &[Group]) -> Vec<(String, f32)> {
    groups
        .iter()
        .flat_map(|g| g.terms.iter().cloned())
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
    out.extend(any_of_strings(f.status, &flt.statuses));
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
