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

/// The `status` parameter: codes of `T`; without `mine` only `public` (the one status anyone
/// may search, e.g. published) is allowed, and it is the filter; `what` names the things
/// searched in the error message ("listings", "needs").
pub fn statuses<T: Labelled>(
    errs: &mut FieldErrors,
    raw: &[String],
    mine: bool,
    public: &str,
    what: &str,
) -> Vec<String> {
    let statuses = codes::<T>(errs, "status", raw);
    if mine {
        return statuses;
    }
    if statuses.iter().any(|s| s != public) {
        errs.add(
            "status",
            "requires_mine",
            format!(
                "only your own {what} can be searched by a status other than {public} (mine=true)"
            ),
        );
    }
    vec![public.to_string()]
}

/// An amount range in fen (`price_min`/`price_max`, `budget_min`/`budget_max`): neither bound
/// negative (`invalid_amount`), the lower not above the upper (`min_greater_than_max` on the
/// lower).
pub fn amount_range(
    errs: &mut FieldErrors,
    (min_name, min): (&str, Option<i64>),
    (max_name, max): (&str, Option<i64>),
) {
    for (name, v) in [(min_name, min), (max_name, max)] {
        if v.is_some_and(|p| p < 0) {
            errs.add(name, "invalid_amount", "amounts are not negative");
        }
    }
    if let (Some(a), Some(b)) = (min, max) {
        if a > b {
            errs.add(
                min_name,
                "min_greater_than_max",
                format!("{min_name} is above {max_name}"),
            );
        }
    }
}

/// The `sort` parameter: one of `choices` (name, order); absent or blank is relevance; anything
/// else is an `invalid_choice` error naming the choices.
pub fn sort(
    errs: &mut FieldErrors,
    raw: Option<&str>,
    choices: &[(&str, crate::SortOrder)],
) -> crate::SortOrder {
    let r = raw.map(str::trim).unwrap_or("");
    if r.is_empty() {
        return crate::SortOrder::Relevance;
    }
    if let Some((_, order)) = choices.iter().find(|(name, _)| *name == r) {
        return *order;
    }
    let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
    errs.add(
        "sort",
        "invalid_choice",
        format!("{r:?} is not one of: {}", names.join(", ")),
    );
    crate::SortOrder::Relevance
}
