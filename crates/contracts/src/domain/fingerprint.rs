//! Duplicate detection. A contract may be registered once only.
//!
//! - The *fingerprint* hashes the parties, the signing date, the contract amount and the
//!   normalised title. Two contracts with equal fingerprints are the same contract: the second
//!   cannot be registered (it is refused with the `duplicate` ground).
//! - The *party key* hashes the seller and buyer only. Contracts sharing it are compared field by
//!   field and *near duplicates* (e.g. the same contract with a typo in the amount or a
//!   re-worded title) are shown to the reviewer, who decides.
use super::content::{ContractContent, Party};
use chrono::NaiveDate;
use sha2::{Digest, Sha256};
use ttx_core::Fen;

/// A title reduced to what identifies it: lower case, full-width forms folded to ASCII,
/// whitespace and punctuation removed.
pub fn normalize_title(t: &str) -> String {
    t.chars()
        .map(|c| match c as u32 {
            // Full-width ASCII variants (！ to ～) to their ASCII forms.
            0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .filter(|c| c.is_alphanumeric())
        .flat_map(|c| c.to_lowercase())
        .collect()
}

fn party_identity(p: &Party) -> String {
    match &p.credit_code {
        Some(c) => format!("c:{}", c.as_str()),
        None => format!("n:{}", normalize_title(&p.name)),
    }
}

fn hash(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Hash of seller and buyer.
pub fn party_key(seller: &Party, buyer: &Party) -> String {
    hash(&["party-v1", &party_identity(seller), &party_identity(buyer)])
}

/// Hash of parties, signing date, amount and normalised title.
pub fn fingerprint(c: &ContractContent) -> String {
    let mut others: Vec<String> = c.others.iter().map(party_identity).collect();
    others.sort();
    hash(&[
        "contract-v1",
        &party_identity(&c.seller),
        &party_identity(&c.buyer),
        &others.join("|"),
        &c.signed_on.to_string(),
        &c.contract_amount.0.to_string(),
        &normalize_title(&c.title),
    ])
}

/// What near-duplicate detection compares.
#[derive(Clone, Debug)]
pub struct DupFacts {
    pub party_key: String,
    pub title: String,
    pub signed_on: NaiveDate,
    pub amount: Fen,
}

/// Why two contracts of the same parties look alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Likeness {
    /// Normalised titles equal, or nearly (character-bigram similarity ≥ 0.8).
    SimilarTitle,
    /// Amounts within 10 % of each other.
    CloseAmount,
    /// Signed within 31 days of each other.
    CloseSigningDate,
}

/// Dice coefficient of the character bigrams of two normalised titles (1.0 = same).
pub fn title_similarity(a: &str, b: &str) -> f64 {
    let (a, b) = (normalize_title(a), normalize_title(b));
    if a == b {
        return 1.0;
    }
    let grams = |s: &str| -> Vec<(char, char)> {
        let cs: Vec<char> = s.chars().collect();
        cs.windows(2).map(|w| (w[0], w[1])).collect()
    };
    let (ga, mut gb) = (grams(&a), grams(&b));
    if ga.is_empty() || gb.is_empty() {
        return 0.0;
    }
    let total = ga.len() + gb.len();
    let mut common = 0;
    for g in ga {
        if let Some(i) = gb.iter().position(|x| *x == g) {
            gb.swap_remove(i);
            common += 1;
        }
    }
    2.0 * common as f64 / total as f64
}

/// Ways in which `b` resembles `a`; two contracts of the same parties that resemble each other
/// in at least two ways are near duplicates. Contracts of other parties never are.
pub fn near_duplicate(a: &DupFacts, b: &DupFacts) -> Option<Vec<Likeness>> {
    if a.party_key != b.party_key {
        return None;
    }
    let mut why = vec![];
    if title_similarity(&a.title, &b.title) >= 0.8 {
        why.push(Likeness::SimilarTitle);
    }
    let (x, y) = (a.amount.0.max(0) as i128, b.amount.0.max(0) as i128);
    if (x - y).abs() * 10 <= x.max(y) {
        why.push(Likeness::CloseAmount);
    }
    if (a.signed_on - b.signed_on).num_days().abs() <= 31 {
        why.push(Likeness::CloseSigningDate);
    }
    (why.len() >= 2).then_some(why)
}

#[cfg(test)]
mod tests {
    use super::super::content::tests::{d, sample};
    use super::*;

    #[test]
    fn titles_normalise() {
        assert_eq!(
            normalize_title(" 锂电池 正极材料（第二期）Ｐｈａｓｅ２ "),
            "锂电池正极材料第二期phase2"
        );
        assert_eq!(normalize_title("《AI 检测》、系统。"), "ai检测系统");
    }

    #[test]
    fn fingerprint_ignores_cosmetics_but_not_substance() {
        let a = sample();
        let mut b = sample();
        b.title = format!(" {} ", a.title.replace("技术", "技术 "));
        b.documents.clear();
        b.non_technical_costs = Fen(0);
        assert_eq!(fingerprint(&a), fingerprint(&b));
        let mut c = sample();
        c.contract_amount = Fen(a.contract_amount.0 + 1);
        assert_ne!(fingerprint(&a), fingerprint(&c));
        let mut c = sample();
        c.signed_on = d("2026-03-02");
        assert_ne!(fingerprint(&a), fingerprint(&c));
        let mut c = sample();
        c.buyer.name = "另一家公司".into();
        assert_ne!(fingerprint(&a), fingerprint(&c));
        assert_eq!(fingerprint(&a).len(), 64);
    }

    #[test]
    fn party_key_depends_on_parties_only() {
        let a = sample();
        let mut b = sample();
        b.title = "完全不同的题目".into();
        assert_eq!(
            party_key(&a.seller, &a.buyer),
            party_key(&b.seller, &b.buyer)
        );
        assert_ne!(
            party_key(&a.seller, &a.buyer),
            party_key(&a.buyer, &a.seller)
        );
    }

    fn facts(title: &str, amount: i64, signed: &str) -> DupFacts {
        DupFacts {
            party_key: "k".into(),
            title: title.into(),
            signed_on: d(signed),
            amount: Fen(amount),
        }
    }

    #[test]
    fn near_duplicates() {
        let a = facts("锂电池正极材料制备技术开发", 1_000_000, "2026-03-01");
        // a typo in the amount
        let b = facts("锂电池正极材料制备技术开发", 1_000_500, "2026-03-01");
        assert_eq!(
            near_duplicate(&a, &b),
            Some(vec![
                Likeness::SimilarTitle,
                Likeness::CloseAmount,
                Likeness::CloseSigningDate
            ])
        );
        // a re-worded title, same money, same time
        let c = facts("锂电池正极材料的制备工艺技术开发", 1_000_000, "2026-03-05");
        assert!(near_duplicate(&a, &c).is_some());
        // the same parties doing other business later
        let e = facts("钠离子电池电解液配方技术服务", 300_000, "2026-09-01");
        assert_eq!(near_duplicate(&a, &e), None);
        // other parties never
        let mut f = b.clone();
        f.party_key = "other".into();
        assert_eq!(near_duplicate(&a, &f), None);
    }

    #[test]
    fn similarity_bounds() {
        assert_eq!(title_similarity("abc", "abc"), 1.0);
        assert_eq!(title_similarity("ab", "cd"), 0.0);
        assert_eq!(title_similarity("a", "b"), 0.0);
        let s = title_similarity("锂电池正极材料制备技术开发", "锂电池正极材料制备技术服务");
        assert!(s > 0.8 && s < 1.0, "{s}");
    }
}
