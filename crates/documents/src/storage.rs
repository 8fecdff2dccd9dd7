//! Where the bytes live: a directory (by default `<data_dir>/documents`) or S3-compatible object
//! storage, both through `object_store`. Objects are named by their SHA-256
//! (`sha256/ab/abcdef…`), so the same file uploaded twice is stored once and a stored object
//! never changes.
use crate::config::DocumentsConfig;
use anyhow::Context;
use axum::body::Bytes;
use object_store::path::Path as ObjPath;
use object_store::{ObjectStore, PutPayload};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The configured storage.
#[derive(Clone)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    /// The directory of the local backend (to make writes durable with fsync).
    local_dir: Option<PathBuf>,
    /// `local` or `s3`, for logs and readiness.
    pub backend: &'static str,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Storage")
            .field("backend", &self.backend)
            .finish()
    }
}

/// The object name of a SHA-256.
pub fn key(sha: &str) -> String {
    format!("sha256/{}/{sha}", &sha[..2.min(sha.len())])
}

impl Storage {
    /// The storage `cfg` describes (`data_dir` holds the local backend's default directory).
    pub fn from_config(cfg: &DocumentsConfig, data_dir: &Path) -> anyhow::Result<Storage> {
        match cfg.backend.as_str() {
            "local" | "" => {
                let dir = cfg
                    .dir
                    .clone()
                    .unwrap_or_else(|| data_dir.join("documents"));
                Storage::local(&dir)
            }
            "s3" => {
                let url = cfg
                    .s3_url
                    .as_deref()
                    .context("documents.backend = s3 needs documents.s3_url (s3://bucket)")?;
                let mut b = object_store::aws::AmazonS3Builder::from_env()
                    .with_url(url)
                    .with_allow_http(cfg.s3_allow_http);
                if let Some(e) = &cfg.s3_endpoint {
                    b = b.with_endpoint(e);
                }
                if let Some(r) = &cfg.s3_region {
                    b = b.with_region(r);
                }
                if let Some(k) = &cfg.s3_access_key_id {
                    b = b.with_access_key_id(k);
                }
                if let Some(s) = &cfg.s3_secret_access_key {
                    b = b.with_secret_access_key(s);
                }
                let s3 = b.build().context("configuring the S3 document storage")?;
                // A prefix in the URL (s3://bucket/prefix) keeps TTX's objects apart.
                let prefix = url
                    .trim_start_matches("s3://")
                    .split_once('/')
                    .map(|(_, p)| p.trim_matches('/').to_string())
                    .unwrap_or_default();
                let store: Arc<dyn ObjectStore> = if prefix.is_empty() {
                    Arc::new(s3)
                } else {
                    Arc::new(object_store::prefix::PrefixStore::new(s3, prefix))
                };
                Ok(Storage {
                    store,
                    local_dir: None,
                    backend: "s3",
                })
            }
            other => anyhow::bail!("documents.backend must be local or s3, not {other:?}"),
        }
    }

    /// A directory on this machine.
    pub fn local(dir: &Path) -> anyhow::Result<Storage> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the document directory {}", dir.display()))?;
        let fs = object_store::local::LocalFileSystem::new_with_prefix(dir)
            .with_context(|| format!("opening the document directory {}", dir.display()))?;
        Ok(Storage {
            store: Arc::new(fs),
            local_dir: Some(dir.to_path_buf()),
            backend: "local",
        })
    }

    /// Stores the bytes under their SHA-256 (`sha`, computed by the caller); a stored object is
    /// not written again. On the local backend the file and its directory are synced before
    /// this returns, so an acknowledged upload survives a crash.
    pub async fn put(&self, sha: &str, bytes: Bytes) -> Result<(), object_store::Error> {
        let path = ObjPath::from(key(sha));
        match self.store.head(&path).await {
            Ok(meta) if meta.size as usize == bytes.len() => return Ok(()),
            Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
        self.store.put(&path, PutPayload::from(bytes)).await?;
        if let Some(dir) = &self.local_dir {
            let file = dir.join(key(sha));
            let sync = move || -> std::io::Result<()> {
                std::fs::File::open(&file)?.sync_all()?;
                if let Some(parent) = file.parent() {
                    std::fs::File::open(parent)?.sync_all()?;
                }
                Ok(())
            };
            sync().map_err(|e| object_store::Error::Generic {
                store: "local",
                source: Box::new(e),
            })?;
        }
        Ok(())
    }

    /// The bytes stored under `sha` (`None` if absent).
    pub async fn get(&self, sha: &str) -> Result<Option<Bytes>, object_store::Error> {
        match self.store.get(&ObjPath::from(key(sha))).await {
            Ok(r) => Ok(Some(r.bytes().await?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::sha256_hex;

    async fn round_trip(s: &Storage) {
        let body = Bytes::from(format!("%PDF-1.7 测试 {}", std::process::id()).into_bytes());
        let sha = sha256_hex(&body);
        s.put(&sha, body.clone()).await.unwrap();
        s.put(&sha, body.clone()).await.unwrap();
        assert_eq!(s.get(&sha).await.unwrap(), Some(body));
        assert_eq!(s.get(&"0".repeat(64)).await.unwrap(), None);
    }

    #[tokio::test]
    async fn local_backend_stores_by_hash() {
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::local(dir.path()).unwrap();
        round_trip(&s).await;
        let sha = sha256_hex(b"%PDF-x");
        s.put(&sha, Bytes::from_static(b"%PDF-x")).await.unwrap();
        assert!(dir.path().join(key(&sha)).is_file());
        // A new Storage on the same directory (a restart) reads it.
        let again = Storage::local(dir.path()).unwrap();
        assert_eq!(
            again.get(&sha).await.unwrap().as_deref(),
            Some(&b"%PDF-x"[..])
        );
    }

    /// Runs against an S3-compatible endpoint when `TTX_TEST_S3_URL` (s3://bucket[/prefix]) is
    /// set, with `TTX_TEST_S3_ENDPOINT`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`.
    #[tokio::test]
    async fn s3_backend_when_configured() {
        let Ok(url) = std::env::var("TTX_TEST_S3_URL") else {
            eprintln!("SKIP s3_backend_when_configured: TTX_TEST_S3_URL is not set (no S3-compatible endpoint configured)");
            return;
        };
        let cfg = DocumentsConfig {
            backend: "s3".into(),
            s3_url: Some(url),
            s3_endpoint: std::env::var("TTX_TEST_S3_ENDPOINT").ok(),
            s3_region: Some(std::env::var("TTX_TEST_S3_REGION").unwrap_or("us-east-1".into())),
            s3_allow_http: true,
            ..Default::default()
        };
        let s = Storage::from_config(&cfg, Path::new("/nonexistent")).unwrap();
        round_trip(&s).await;
    }

    #[test]
    fn bad_backends_are_refused() {
        let cfg = DocumentsConfig {
            backend: "ftp".into(),
            ..Default::default()
        };
        assert!(Storage::from_config(&cfg, Path::new("/tmp")).is_err());
        let cfg = DocumentsConfig {
            backend: "s3".into(),
            ..Default::default()
        };
        assert!(Storage::from_config(&cfg, Path::new("/tmp")).is_err());
    }
}
