//! Settings of documents (`[documents]` in `ttx.toml`, `TTX_DOCUMENTS__*` in the environment).
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct DocumentsConfig {
    /// `local` (a directory, by default `documents/` under the data dir) or `s3`.
    pub backend: String,
    /// The directory of the local backend (default: `<data_dir>/documents`).
    pub dir: Option<PathBuf>,
    /// The bucket of the S3 backend, as `s3://bucket` or `s3://bucket/prefix`.
    pub s3_url: Option<String>,
    /// An S3-compatible endpoint (MinIO, Ceph, OSS...), e.g. `http://127.0.0.1:9000`.
    pub s3_endpoint: Option<String>,
    pub s3_region: Option<String>,
    pub s3_access_key_id: Option<String>,
    pub s3_secret_access_key: Option<String>,
    /// Allow a plain-HTTP endpoint (tests, a local MinIO).
    pub s3_allow_http: bool,
    /// The largest file taken, in bytes (413 above).
    pub max_bytes: usize,
}

impl Default for DocumentsConfig {
    fn default() -> Self {
        DocumentsConfig {
            backend: "local".into(),
            dir: None,
            s3_url: None,
            s3_endpoint: None,
            s3_region: None,
            s3_access_key_id: None,
            s3_secret_access_key: None,
            s3_allow_http: false,
            max_bytes: 20 * 1024 * 1024,
        }
    }
}
