//! `ttx-web`: the HTTP conventions every TTX route follows.
//!
//! - [`db`]: [`begin_write`], the write transaction every service opens;
//! - [`error`]: one table of stable error codes and `application/problem+json` responses;
//! - [`extract`]: JSON, query and path extractors whose rejections are problems, never 500s;
//! - [`pagination`]: opaque cursors and capped page sizes;
//! - [`etag`]: `ETag` on reads, `If-Match` on updates;
//! - [`idempotency`]: `Idempotency-Key` on creating POSTs;
//! - [`ratelimit`]: per-token and per-address rate limits (429 with `Retry-After`);
//! - [`read_cache`]: the read-through cache of public views by id.

pub mod db;
pub mod error;
pub mod etag;
pub mod extract;
pub mod idempotency;
pub mod pagination;
pub mod ratelimit;
pub mod read_cache;
pub mod serde_msg;

pub use db::begin_write;
pub use error::{ApiError, ApiResult, ErrorCode, Registered, ServiceError, ServiceResult};
pub use etag::{IfMatch, Versioned};
pub use extract::{double_option, ApiJson, ApiPath, ApiQuery, OptionalJson, RequestId};
pub use pagination::{Cursor, Page, PageQuery};
