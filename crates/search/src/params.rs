//! Parsing of the query-string parameters every search endpoint shares (repeated vocabulary
//! codes, facet lists, region prefixes, page size), so that listings and needs validate them
//! the same way and report problems as field errors.

use crate::{FacetField, DEFAULT_LIMIT, MAX_LIMIT};
use ttx_core::{FieldErrors, Labelled};

/// Codes of `T` from repeated and/or comma-separated values, sorted and deduplicated; an
/// unknown code is an `invalid_choice` error on `field` naming the allowed codes.
pub fn codes<T: Labelled>(errs: &mut FieldErrors, field: &str, raw: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for r in raw.iter().flat_map(|r| r.split(',')) {
        let r = r.trim();
        if r.is_empty() {
            continue;
        }
        match T::from_code(r) {
            Some(v) => out.push(v.code().to_string()),
            None => errs.add(
                field,
                "invalid_choice",
                format!(
                    "{r:?} is not one of: {}",
                    T::ALL
                        .iter()
                        .map(|v| v.code())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The comma-separated `facets` parameter, each facet once in the order given; `facet` maps
/// a name to the index's facet, `allowed` lists the names for the error message.
pub fn facets(
    errs: &mut FieldErrors,
    raw: Option<&str>,
    facet: impl Fn(&str) -> Option<FacetField>,
    allowed: &str,
) -> Vec<FacetField> {
    let mut out = Vec::new();
    for name in raw.unwrap_or("").split(',') {
        let name = name.trim();
        if name.is_empty() {
            continue;
        }
        match facet(name) {
            Some(f) if !out.contains(&f) => out.push(f),
            Some(_) => {}
            None => errs.add(
                "facets",
                "invalid_choice",
                format!("{name:?} is not one of: {allowed}"),
            ),
        }
    }
    out
}

/// The `region` parameter as a region-code prefix (blank means none); an invalid one is an
/// `invalid_region` error.
pub fn region_prefix(errs: &mut FieldErrors, raw: Option<&str>) -> Option<String> {
    let r = raw.map(str::trim).filter(|r| !r.is_empty())?;
    errs.take(
        "region",
        "invalid_region",
        ttx_core::region::parse_region_prefix(r),
    )
}

/// The page size: the default when absent, clamped to 1..=[`MAX_LIMIT`].
pub fn limit(raw: Option<u64>) -> usize {
    raw.unwrap_or(DEFAULT_LIMIT as u64)
        .clamp(1, MAX_LIMIT as u64) as usize
}
