//! The tantivy schema of an embedded index and the `SearchDoc` → tantivy document mapping.

use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions, FAST,
    INDEXED, STRING,
};
use tantivy::TantivyDocument;

use super::tokenizer::{GRAM_ANALYZER, INDEX_ANALYZER};
use crate::SearchDoc;

/// Fast-field names read by the collector.
pub mod names {
    pub const ID: &str = "id";
    pub const FIELD: &str = "field";
    pub const MODES: &str = "modes";
    pub const IP_KINDS: &str = "ip_kinds";
    pub const STATUS: &str = "status";
    pub const PROVINCE: &str = "province";
    pub const TAGS: &str = "tags";
    pub const TRL: &str = "trl";
    pub const DUAL_USE: &str = "dual_use";
    pub const PUBLISHED_AT: &str = "published_at";
    pub const DEADLINE: &str = "deadline";
    pub const AMOUNT_SORT_LOW: &str = "amount_sort_low";
    pub const AMOUNT_SORT_HIGH: &str = "amount_sort_high";
    pub const AMOUNT_LO: &str = "amount_lo";
    pub const AMOUNT_HI: &str = "amount_hi";
    pub const NEGOTIABLE: &str = "negotiable";
}

/// Handles of every schema field.
#[derive(Clone, Debug)]
pub struct Fields {
    pub id: Field,
    pub title: Field,
    pub summary: Field,
    pub body: Field,
    pub keywords: Field,
    pub org_name: Field,
    pub field: Field,
    pub modes: Field,
    pub ip_kinds: Field,
    pub status: Field,
    pub province: Field,
    pub region_prefixes: Field,
    pub tags: Field,
    pub dual_use: Field,
    pub trl: Field,
    pub amount_lo: Field,
    pub amount_hi: Field,
    pub negotiable: Field,
    pub org_id: Field,
    pub published_at: Field,
    pub deadline: Field,
    pub amount_sort_low: Field,
    pub amount_sort_high: Field,
    /// Character grams of title and keywords, and of the summary (see
    /// [`super::tokenizer::grams`]); `None` in an index built before they existed (the
    /// partial-word fallback is then off until `ttx reindex`).
    pub grams_head: Option<Field>,
    pub grams_summary: Option<Field>,
    /// Every text field's words in one field (title and keywords twice): which documents
    /// contain a word anywhere, in one posting list instead of one per text field. Counts and
    /// facets read it, and long texts (a whole need) are ranked by it term at a time; the
    /// search box's ranking does not use it. `None` in an index built before it existed
    /// (counting then walks the scored query and long texts are ranked like typed words, as
    /// before; `ttx reindex` adds it).
    pub any_text: Option<Field>,
}

/// Text fields searched by queries with their boosts (title > keywords > summary > body).
pub fn text_fields(f: &Fields) -> [(Field, f32); 5] {
    [
        (f.title, 4.0),
        (f.keywords, 2.5),
        (f.summary, 1.6),
        (f.org_name, 1.2),
        (f.body, 1.0),
    ]
}

/// Gram fields searched for partial Chinese words, with their boosts.
pub fn gram_fields(f: &Fields) -> Vec<(Field, f32)> {
    let mut out = Vec::with_capacity(2);
    out.extend(f.grams_head.map(|g| (g, 2.0)));
    out.extend(f.grams_summary.map(|g| (g, 1.0)));
    out
}

/// Builds the schema and returns it with its field handles.
pub fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let indexing = TextFieldIndexing::default()
        .set_tokenizer(INDEX_ANALYZER)
        .set_index_option(IndexRecordOption::WithFreqs);
    let text_stored = TextOptions::default()
        .set_indexing_options(indexing.clone())
        .set_stored();
    let text = TextOptions::default().set_indexing_options(indexing);
    let grams = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(GRAM_ANALYZER)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let any_text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(INDEX_ANALYZER)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let num_fast = NumericOptions::default().set_indexed().set_fast();
    let keyword = STRING | FAST;

    let fields = Fields {
        id: b.add_i64_field(names::ID, num_fast.clone()),
        title: b.add_text_field("title", text_stored.clone()),
        summary: b.add_text_field("summary", text_stored),
        body: b.add_text_field("body", text.clone()),
        keywords: b.add_text_field("keywords", text.clone()),
        org_name: b.add_text_field("org_name", text),
        field: b.add_text_field(names::FIELD, keyword.clone()),
        modes: b.add_text_field(names::MODES, keyword.clone()),
        ip_kinds: b.add_text_field(names::IP_KINDS, keyword.clone()),
        status: b.add_text_field(names::STATUS, keyword.clone()),
        province: b.add_text_field(names::PROVINCE, keyword.clone()),
        region_prefixes: b.add_text_field("region_prefixes", STRING),
        tags: b.add_text_field(names::TAGS, keyword),
        dual_use: b.add_bool_field(names::DUAL_USE, INDEXED | FAST),
        trl: b.add_i64_field(names::TRL, num_fast.clone()),
        amount_lo: b.add_i64_field(names::AMOUNT_LO, num_fast.clone()),
        amount_hi: b.add_i64_field(names::AMOUNT_HI, num_fast.clone()),
        negotiable: b.add_bool_field(names::NEGOTIABLE, INDEXED | FAST),
        org_id: b.add_i64_field("org_id", INDEXED),
        published_at: b.add_i64_field(names::PUBLISHED_AT, num_fast.clone()),
        deadline: b.add_i64_field(names::DEADLINE, num_fast),
        amount_sort_low: b.add_i64_field(names::AMOUNT_SORT_LOW, FAST),
        amount_sort_high: b.add_i64_field(names::AMOUNT_SORT_HIGH, FAST),
        grams_head: Some(b.add_text_field("grams_head", grams.clone())),
        grams_summary: Some(b.add_text_field("grams_summary", grams)),
        any_text: Some(b.add_text_field("any_text", any_text)),
    };
    (b.build(), fields)
}

/// Resolves the field handles of an existing index's schema.
pub fn fields_of(schema: &Schema) -> tantivy::Result<Fields> {
    let g = |n: &str| schema.get_field(n);
    Ok(Fields {
        id: g(names::ID)?,
        title: g("title")?,
        summary: g("summary")?,
        body: g("body")?,
        keywords: g("keywords")?,
        org_name: g("org_name")?,
        field: g(names::FIELD)?,
        modes: g(names::MODES)?,
        ip_kinds: g(names::IP_KINDS)?,
        status: g(names::STATUS)?,
        province: g(names::PROVINCE)?,
        region_prefixes: g("region_prefixes")?,
        tags: g(names::TAGS)?,
        dual_use: g(names::DUAL_USE)?,
        trl: g(names::TRL)?,
        amount_lo: g(names::AMOUNT_LO)?,
        amount_hi: g(names::AMOUNT_HI)?,
        negotiable: g(names::NEGOTIABLE)?,
        org_id: g("org_id")?,
        published_at: g(names::PUBLISHED_AT)?,
        deadline: g(names::DEADLINE)?,
        amount_sort_low: g(names::AMOUNT_SORT_LOW)?,
        amount_sort_high: g(names::AMOUNT_SORT_HIGH)?,
        grams_head: g("grams_head").ok(),
        grams_summary: g("grams_summary").ok(),
        any_text: g("any_text").ok(),
    })
}

fn distinct(values: &[String]) -> Vec<&str> {
    let mut v: Vec<&str> = values
        .iter()
        .map(String::as_str)
        .filter(|s| !s.is_empty())
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Converts a search document into a tantivy document.
pub fn to_tantivy(f: &Fields, d: &SearchDoc) -> TantivyDocument {
    let mut doc = TantivyDocument::new();
    doc.add_i64(f.id, d.id);
    doc.add_text(f.title, &d.title);
    doc.add_text(f.summary, &d.summary);
    doc.add_text(f.body, &d.body);
    for k in &d.keywords {
        doc.add_text(f.keywords, k);
    }
    if let Some(o) = &d.org_name {
        doc.add_text(f.org_name, o);
    }
    if let Some(g) = f.grams_head {
        doc.add_text(g, &d.title);
        for k in &d.keywords {
            doc.add_text(g, k);
        }
    }
    if let Some(g) = f.grams_summary {
        doc.add_text(g, &d.summary);
    }
    if let Some(a) = f.any_text {
        // The same texts as the text fields, each analysed on its own, so a word is in
        // `any_text` exactly when it is in one of them. Title and keywords count twice in a
        // word's frequency (they say what the document is about).
        for _ in 0..2 {
            doc.add_text(a, &d.title);
            for k in &d.keywords {
                doc.add_text(a, k);
            }
        }
        doc.add_text(a, &d.summary);
        doc.add_text(a, &d.body);
        if let Some(o) = &d.org_name {
            doc.add_text(a, o);
        }
    }
    if !d.field.is_empty() {
        doc.add_text(f.field, &d.field);
    }
    for m in distinct(&d.modes) {
        doc.add_text(f.modes, m);
    }
    for k in distinct(&d.ip_kinds) {
        doc.add_text(f.ip_kinds, k);
    }
    if !d.status.is_empty() {
        doc.add_text(f.status, &d.status);
    }
    if let Some(p) = d.province() {
        doc.add_text(f.province, p);
    }
    for p in distinct(&d.region_prefixes) {
        doc.add_text(f.region_prefixes, p);
    }
    for t in distinct(&d.tags) {
        doc.add_text(f.tags, t);
    }
    doc.add_bool(f.dual_use, d.dual_use);
    if let Some(t) = d.trl {
        doc.add_i64(f.trl, t);
    }
    if let Some((lo, hi)) = d.amount_range() {
        doc.add_i64(f.amount_lo, lo);
        doc.add_i64(f.amount_hi, hi);
    }
    doc.add_bool(f.negotiable, d.is_negotiable());
    if let Some(o) = d.org_id {
        doc.add_i64(f.org_id, o);
    }
    doc.add_i64(f.published_at, d.published_at);
    if let Some(dl) = d.deadline {
        doc.add_i64(f.deadline, dl);
    }
    if let Some(v) = d.amount_sort_low() {
        doc.add_i64(f.amount_sort_low, v);
    }
    if let Some(v) = d.amount_sort_high() {
        doc.add_i64(f.amount_sort_high, v);
    }
    doc
}
