//! Generators of valid test inputs.
use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: AtomicU64 = AtomicU64::new(1);

/// A process-unique number (with the process id, so parallel test processes never collide).
pub fn next() -> u64 {
    std::process::id() as u64 * 100_000 + COUNTER.fetch_add(1, Ordering::Relaxed)
}

/// A valid unified social credit code for `region` (6 digits), unique per `n`.
pub fn credit_code(region: &str, n: u64) -> String {
    // 9 = registered with market regulation, 1 = enterprise; then the region; then a 9-character
    // organisation code from `n`.
    let org = format!("{:09}", n % 1_000_000_000);
    let first17 = format!("91{region}{org}");
    ttx_core::CreditCode::complete(&first17)
        .expect("valid")
        .to_string()
}

/// Percent-encodes `s` for a query string (RFC 3986 unreserved characters stay as they are).
pub fn query_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The Beijing date `n` days from today, as `YYYY-MM-DD` (on the system clock: for bodies built
/// before a test moves its application's clock; after that, use [`crate::TestApp::day`]).
pub fn day(n: i64) -> String {
    (ttx_core::clock::today() + chrono::Duration::days(n)).to_string()
}

/// 万元 (ten thousand yuan) in fen.
pub const WAN: i64 = 1_000_000;

/// A valid Chinese patent application number (`CN` + 12 digits + check character) from 12 digits.
pub fn patent(digits12: &str) -> String {
    format!(
        "CN{}",
        ttx_listings::patent::PatentNumber::complete(digits12).expect("12 digits")
    )
}

/// `v` with the top-level fields of `patch` put in (added or replaced): a valid body adjusted
/// for one test.
pub fn merged(mut v: serde_json::Value, patch: serde_json::Value) -> serde_json::Value {
    if let (Some(o), Some(p)) = (v.as_object_mut(), patch.as_object()) {
        for (k, val) in p {
            o.insert(k.clone(), val.clone());
        }
    }
    v
}

/// A valid published listing body for the matching tests: one granted invention patent,
/// licensed, price negotiable.
pub fn listing_body(
    title: &str,
    description: &str,
    keywords: &[&str],
    field: &str,
) -> serde_json::Value {
    serde_json::json!({
        "title": title,
        "summary": format!("{title}：成果简介"),
        "description": description,
        "keywords": keywords,
        "field": field,
        "trl": 6,
        "ip_items": [{"kind": "invention_patent", "status": "granted", "number": patent("202310123456")}],
        "transfer_modes": ["license"],
        "price": {"kind": "negotiable"},
        "publish": true
    })
}

/// An open need (published at once) about desulphurisation gypsum, with its contact; for the
/// tests of enquiries and the broker pipeline.
pub fn need_body(title: &str, anonymous: bool) -> serde_json::Value {
    serde_json::json!({
        "title": title,
        "problem": format!("{title}：电厂烟气脱硫产生的脱硫石膏渣堆存量大，杂质多、白度低，现有工艺无法稳定制成合格的建材石膏，占地和环保压力大。"),
        "key_points": "脱硫石膏渣除杂提纯；高强石膏转晶工艺；产品强度与白度稳定控制。",
        "goals": "脱硫石膏渣综合利用率达到90%以上，制成的高强石膏强度达标，完成连续三个月的产线验证。",
        "keywords": ["脱硫石膏", "资源化利用", "高强石膏"],
        "field": "environment",
        "research_type": "applied",
        "modes": ["license"],
        "trl_min": 5,
        "trl_max": 8,
        "budget": {"kind": "range", "min": 50 * WAN, "max": 200 * WAN},
        "deadline": day(60),
        "anonymous": anonymous,
        "contact": {"name": "需求对接人", "phone": "13812345678", "email": "needs@firm.test"},
        "publish": true
    })
}

/// A complete technology development contract (委托开发) drafted by the seller for `buyer_org`,
/// signed 2026-03-01, a fifth of the amount non-technical, with its signed copy as document; for
/// the contract tests, the crash suite and the scale-out test.
pub fn contract_body(title: &str, buyer_org: i64, amount: i64) -> serde_json::Value {
    serde_json::json!({
        "title": title,
        "sub_kind": "entrusted_development",
        "buyer": {"org_id": buyer_org},
        "contract_amount": amount,
        "non_technical_costs": amount / 5,
        "signed_on": "2026-03-01",
        "term_start": "2026-03-01",
        "term_end": "2027-02-28",
        "tech_field": "new_energy",
        "programme_source": "国家重点研发计划",
        "researcher_reward_bp": 7000,
        "documents": [{"name": "技术开发合同（签章版）.pdf", "sha256": format!("{:064x}", 1), "size_bytes": 120034}]
    })
}
