//! `ttx-documents`: real files for listings (data sheets, images), proposals and contracts
//! (the signed contract and its annexes, which the reviewer must read).
//!
//! - uploads go through the API (`POST /v1/{listings|proposals|contracts}/{id}/documents`,
//!   the raw bytes as the body) with a size limit (413) and a list of types (415; bytes that
//!   are not what the type says: 422);
//! - the content is addressed by its SHA-256: a declared `sha256` (the hash a contract already
//!   records) must match the bytes (422 `hash_mismatch`);
//! - the bytes live in the configured [`storage::Storage`]: a directory under the data dir by
//!   default, or S3-compatible object storage (`object_store`);
//! - downloads obey the visibility of the owning thing (another organisation's private thing
//!   is 404), and a contract's uploads follow [`ttx_contracts::service::documents`]: an
//!   amendment's documents are added to the contract's list.
pub mod config;
pub mod domain;
pub mod entity;
pub mod error;
pub mod routes;
pub mod storage;

pub use config::DocumentsConfig;
pub use error::ERROR_CODES;
pub use routes::{router, DocumentsState};
pub use storage::Storage;
