//! Conformance checks of language handling: partial Chinese words (钙钛 finds 钙钛矿, 钠电
//! finds 钠离子电池) and English queries finding Chinese documents through the term table
//! ([`crate::embedded::en_zh`]).

use std::collections::{BTreeMap, BTreeSet};

use super::{ids_of, set, Check, Ctx};
use crate::{FacetField, SearchDoc, SearchQuery};

/// The title, keywords and summary of a document (where partial words are looked for).
fn head(d: &SearchDoc) -> String {
    format!("{}\n{}\n{}", d.title, d.keywords.join("\n"), d.summary)
}

fn all_text(d: &SearchDoc) -> String {
    format!(
        "{}\n{}\n{}\n{}\n{}",
        d.title,
        d.summary,
        d.body,
        d.keywords.join("\n"),
        d.org_name.as_deref().unwrap_or("")
    )
    .to_lowercase()
}

impl Ctx {
    fn ids_where(&self, f: impl Fn(&SearchDoc) -> bool) -> BTreeSet<i64> {
        self.docs.iter().filter(|d| f(d)).map(|d| d.id).collect()
    }

    /// `text` finds every document in `must`, none in `never`, and every hit passes `plausible`.
    async fn check_finds(
        &self,
        text: &str,
        must: &BTreeSet<i64>,
        never: &BTreeSet<i64>,
        plausible: impl Fn(&SearchDoc) -> bool,
    ) -> Check {
        let q = SearchQuery {
            limit: 100,
            ..SearchQuery::text(text)
        };
        let (ids, _) = self.all_ids(&q).await?;
        let got = set(ids.iter().copied());
        if must.is_empty() {
            return Err(format!("{text:?}: the fixture has no document to find"));
        }
        let missing: Vec<&i64> = must.difference(&got).collect();
        if !missing.is_empty() {
            return Err(format!("{text:?}: missing {missing:?} (got {ids:?})"));
        }
        let wrong: Vec<&i64> = got.intersection(never).collect();
        if !wrong.is_empty() {
            return Err(format!("{text:?}: should not find {wrong:?}"));
        }
        for id in &ids {
            let d = self.docs.iter().find(|d| d.id == *id).ok_or("unknown id")?;
            if !plausible(d) {
                return Err(format!("{text:?}: implausible hit {id} {:?}", d.title));
            }
        }
        Ok(())
    }

    /// Like `check_set` for a query that is one English word or phrase: the documents having
    /// all `words`, and those having a Chinese term the table gives for it.
    pub(super) async fn check_set_translated(&self, text: &str, words: &[&str]) -> Check {
        let q = SearchQuery {
            limit: 100,
            ..SearchQuery::text(text)
        };
        let (ids, total) = self.all_ids(&q).await?;
        let zh = translations(text);
        let mut want = self.expected_ids(words, &crate::Filters::default());
        want.extend(self.ids_where(|d| {
            let t = all_text(d);
            zh.iter().any(|z| t.contains(z.as_str()))
        }));
        super::eq_sets("result set", &set(ids.iter().copied()), &want)?;
        if total != want.len() as u64 {
            return Err(format!("total {total}, want {}", want.len()));
        }
        Ok(())
    }

    /// The facets of an English query count the documents `check_set_translated` expects:
    /// those with all `words` and those with a Chinese term of the table.
    async fn check_facets_translated(&self, text: &str, words: &[&str]) -> Check {
        let q = SearchQuery {
            facets: FacetField::ALL.to_vec(),
            limit: 3,
            ..SearchQuery::text(text)
        };
        let r = self.search(&q).await?;
        let zh = translations(text);
        let mut want_ids = self.expected_ids(words, &crate::Filters::default());
        want_ids.extend(self.ids_where(|d| {
            let t = all_text(d);
            zh.iter().any(|z| t.contains(z.as_str()))
        }));
        if r.total != want_ids.len() as u64 {
            return Err(format!("total {}, want {}", r.total, want_ids.len()));
        }
        for f in FacetField::ALL {
            let mut want: BTreeMap<String, u64> = BTreeMap::new();
            for d in self.docs.iter().filter(|d| want_ids.contains(&d.id)) {
                for v in f.values(d) {
                    *want.entry(v).or_insert(0) += 1;
                }
            }
            let got: BTreeMap<String, u64> = r
                .facets
                .get(f.as_str())
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter(|(_, n)| *n > 0)
                .collect();
            if got != want {
                return Err(format!("facet {}: got {got:?}, want {want:?}", f.as_str()));
            }
        }
        Ok(())
    }

    /// The first hit of `text` is one of `firsts`.
    async fn check_first_in(&self, text: &str, firsts: &BTreeSet<i64>) -> Check {
        let r = self.search(&SearchQuery::text(text)).await?;
        match r.hits.first() {
            Some(h) if firsts.contains(&h.id) => Ok(()),
            _ => Err(format!(
                "{text:?}: first hit should be one of {firsts:?}, got {:?}",
                ids_of(&r)
            )),
        }
    }
}

/// Partial Chinese words: a fragment of a longer word finds the documents with that word.
pub(super) async fn partial_words(cx: &mut Ctx) {
    let none = BTreeSet::new();
    // 钙钛 is the start of 钙钛矿.
    let must = cx.ids_where(|d| head(d).contains("钙钛矿"));
    let r = cx
        .check_finds("钙钛", &must, &none, |d| all_text(d).contains("钙钛"))
        .await;
    cx.record("partial word 钙钛 finds 钙钛矿", r);
    let titled = cx.ids_where(|d| d.title.contains("钙钛矿"));
    let r = cx.check_first_in("钙钛", &titled).await;
    cx.record("partial word 钙钛 ranks a title match first", r);

    // 钠电 abbreviates 钠离子电池; 含钠废水的电解 has both characters in different words. Both
    // engines look the fragment up by its character pairs inside one word (the embedded
    // engine in its gram fields, Meilisearch by the gram tokens of `meili::fragment_query`).
    let must = cx.ids_where(|d| head(d).contains("钠离子电池"));
    let never = cx.ids_where(|d| !all_text(d).contains("钠离子") && all_text(d).contains('钠'));
    let r = cx
        .check_finds("钠电", &must, &never, |d| {
            let t = all_text(d);
            t.contains('钠') && t.contains('电')
        })
        .await;
    cx.record("abbreviation 钠电 finds 钠离子电池, not 含钠…电解", r);

    // A fragment beside a whole word: both must match.
    let must = cx.ids_where(|d| head(d).contains("钙钛矿") && all_text(d).contains("封装"));
    let r = cx
        .check_finds("钙钛 封装", &must, &none, |d| {
            let t = all_text(d);
            t.contains("钙钛") && t.contains("封装")
        })
        .await;
    cx.record("partial word with a whole word (钙钛 封装)", r);
}

/// English queries find Chinese documents through the term table.
pub(super) async fn english_finds_chinese(cx: &mut Ctx) {
    let none = BTreeSet::new();
    for (q, zh, en) in [
        ("deep learning", vec!["深度学习"], "deep learning"),
        ("neural network", vec!["神经网络"], "neural network"),
        ("lithium battery", vec!["锂电池", "锂离子电池"], "lithium"),
        ("chip", vec!["芯片"], "chip"),
        ("AI", vec!["人工智能"], "ai"),
    ] {
        let must = cx.ids_where(|d| {
            let t = all_text(d);
            zh.iter().any(|z| t.contains(z))
        });
        let plausible = |d: &SearchDoc| {
            let t = all_text(d);
            t.replace('-', " ").contains(en) || zh.iter().any(|z| t.contains(z))
        };
        let r = cx.check_finds(q, &must, &none, plausible).await;
        cx.record(&format!("english {q:?} finds {}", zh.join("/")), r);
    }
    // Documents in English still match their own words.
    let must = cx.ids_where(|d| all_text(d).contains("neural network"));
    let r = cx
        .check_finds("neural network", &must, &none, |_| true)
        .await;
    cx.record(
        "english \"neural network\" still finds English documents",
        r,
    );
    // Totals and facets of an English query count its Chinese documents once each
    // (Meilisearch: over the union of its federated queries).
    for (q, words) in [
        ("chip", vec!["chip"]),
        ("machine learning", vec!["machine", "learning"]),
    ] {
        let r = cx.check_facets_translated(q, &words).await;
        cx.record(
            &format!("english {q:?}: facets count the Chinese documents"),
            r,
        );
    }
    // 机器学习 before 机器视觉 (which shares 机器 and sits beside 深度学习).
    // Both engines weigh the Chinese term above the English words (the embedded engine in
    // the phrase's group, Meilisearch in a federated search with the Chinese rendering of
    // the query weighted higher: `meili::translated_queries`).
    let firsts = cx.ids_where(|d| d.title.contains("机器学习"));
    let r = cx.check_first_in("machine learning", &firsts).await;
    cx.record("english \"machine learning\" ranks 机器学习 first", r);
    let r = async {
        let res = cx.search(&SearchQuery::text("machine learning")).await?;
        let ids = ids_of(&res);
        let pos = |f: &dyn Fn(&SearchDoc) -> bool| {
            ids.iter()
                .position(|id| cx.docs.iter().any(|d| d.id == *id && f(d)))
        };
        let learning = pos(&|d| all_text(d).contains("机器学习"));
        let vision =
            pos(&|d| all_text(d).contains("机器视觉") && !all_text(d).contains("机器学习"));
        match (learning, vision) {
            (Some(l), Some(v)) if l > v => {
                Err(format!("机器视觉 at {v} before 机器学习 at {l}: {ids:?}"))
            }
            (None, _) => Err(format!("机器学习 not found: {ids:?}")),
            _ => Ok(()),
        }
    }
    .await;
    cx.record(
        "english \"machine learning\": 机器视觉 ranks below 机器学习",
        r,
    );
}

/// The Chinese terms the table gives an English query (for the expected sets of the plain
/// English cases, which now also find their Chinese equivalents).
pub(super) fn translations(text: &str) -> Vec<String> {
    crate::embedded::en_zh::expansions(text)
        .into_iter()
        .flat_map(|(_, zh)| zh)
        .collect()
}
