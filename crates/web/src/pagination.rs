//! Cursor pagination with a bounded page size (1 to 100).
use crate::error::{ApiError, ErrorCode};
use base64::Engine;
use serde::{Deserialize, Serialize};

pub const DEFAULT_LIMIT: u64 = 20;
pub const MAX_LIMIT: u64 = 100;

/// `?limit=&cursor=`; `limit` is 1 to 100, anything else is a 400 `invalid_query`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1 to 100 (default 20); any other value is a 400 `invalid_query` naming `limit`.
    #[param(minimum = 1, maximum = 100)]
    #[serde(default, deserialize_with = "page_limit")]
    pub limit: Option<u64>,
    /// Opaque cursor from the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

impl PageQuery {
    pub fn limit(&self) -> u64 {
        self.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT)
    }
    /// The decoded cursor, if any.
    pub fn cursor(&self) -> Result<Option<Cursor>, ApiError> {
        self.cursor.as_deref().map(Cursor::decode).transpose()
    }
}

/// `deserialize_with` for every `limit` query parameter documented as 1 to 100: anything else
/// (`0`, `-1`, `2^63`, `ten`) is refused, so the query is a 400 `invalid_query` naming `limit`
/// instead of a silently clamped page.
pub fn page_limit<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        N(u64),
        I(i64),
        S(String),
    }
    let bad =
        || serde::de::Error::custom(format!("limit: must be an integer from 1 to {MAX_LIMIT}"));
    let n = match Option::<Raw>::deserialize(d).map_err(|_| bad())? {
        None => return Ok(None),
        Some(Raw::N(n)) => n.into(),
        Some(Raw::I(n)) => n.into(),
        Some(Raw::S(s)) => s.trim().parse::<i128>().map_err(|_| bad())?,
    };
    if (1..=MAX_LIMIT as i128).contains(&n) {
        Ok(Some(n as u64))
    } else {
        Err(bad())
    }
}

/// A position in a keyset-ordered list: the sort key of the last item and its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// Secondary sort key as text, when the order is not by id alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k: Option<String>,
    pub id: i64,
}

impl Cursor {
    pub fn after_id(id: i64) -> Self {
        Cursor { k: None, id }
    }
    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).expect("cursor serializes");
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }
    pub fn decode(s: &str) -> Result<Self, ApiError> {
        let bad = || ApiError::new(ErrorCode::InvalidCursor);
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s.trim())
            .map_err(|_| bad())?;
        serde_json::from_slice(&bytes).map_err(|_| bad())
    }
}

/// One page of results.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from `limit + 1` fetched rows: the extra row only signals a next page.
    pub fn from_rows<R>(
        mut rows: Vec<R>,
        limit: u64,
        cursor_of: impl Fn(&R) -> Cursor,
        map: impl FnMut(R) -> T,
    ) -> Self {
        let more = rows.len() as u64 > limit;
        rows.truncate(limit as usize);
        let next_cursor = if more {
            rows.last().map(|r| cursor_of(r).encode())
        } else {
            None
        };
        Page {
            items: rows.into_iter().map(map).collect(),
            next_cursor,
        }
    }
}

/// A page of search results. Every search route answers this one shape: the listings search
/// (`hits[].listing`) and the needs search (`hits[].demand`), each hit carrying its card with
/// `score` and `highlights`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SearchPage<H> {
    /// Number of matches (may be an estimate with Meilisearch).
    pub total: u64,
    /// This page of hits, best first (or in the order asked for).
    pub hits: Vec<H>,
    /// Facet → value → count, over all matches, for the facets asked for.
    pub facets: std::collections::BTreeMap<String, std::collections::BTreeMap<String, u64>>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trip_and_garbage() {
        let c = Cursor {
            k: Some("2026-01-01".into()),
            id: 42,
        };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        assert_eq!(Cursor::decode("!!!").unwrap_err().code, "invalid_cursor");
        assert_eq!(Cursor::decode("e30").unwrap_err().code, "invalid_cursor");
    }

    #[test]
    fn limit_is_capped() {
        let q = PageQuery {
            limit: Some(10_000),
            cursor: None,
        };
        assert_eq!(q.limit(), MAX_LIMIT);
        let q = PageQuery {
            limit: Some(0),
            cursor: None,
        };
        assert_eq!(q.limit(), 1);
        assert_eq!(PageQuery::default().limit(), DEFAULT_LIMIT);
    }

    #[test]
    fn page_from_rows() {
        let p: Page<i64> = Page::from_rows(vec![1, 2, 3], 2, |r| Cursor::after_id(*r), |r| r);
        assert_eq!(p.items, vec![1, 2]);
        assert_eq!(Cursor::decode(&p.next_cursor.unwrap()).unwrap().id, 2);
        let p: Page<i64> = Page::from_rows(vec![1, 2], 2, |r| Cursor::after_id(*r), |r| r);
        assert!(p.next_cursor.is_none());
    }
}
