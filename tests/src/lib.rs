//! Test harness: starts the real application on a random port with a fresh database per test
//! (a temporary SQLite file, or a fresh PostgreSQL database when `TTX_TEST_DATABASE_URL` is set),
//! so tests run in parallel and never share state.
use reqwest::{header, Method, StatusCode};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{json, Value};
use tokio::sync::oneshot;
use ttx_server::{App, Config};

pub mod fixtures;

/// A response: status, headers and JSON body (Null when empty or not JSON).
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    pub fn etag(&self) -> String {
        self.header("etag")
            .expect("response has an ETag")
            .to_string()
    }
    /// Asserts a problem+json response with this status and code.
    pub fn assert_problem(&self, status: u16, code: &str) -> &Self {
        assert_eq!(self.status.as_u16(), status, "status; body: {}", self.text);
        assert!(
            self.header("content-type")
                .unwrap_or("")
                .starts_with("application/problem+json"),
            "content-type of {}: {:?}",
            self.text,
            self.header("content-type")
        );
        assert_eq!(self.body["code"], code, "code; body: {}", self.text);
        assert_eq!(self.body["status"], status);
        self
    }
    pub fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        self
    }
    /// Field names in a validation problem.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| e["field"].as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A running application for one test.
pub struct TestApp {
    pub addr: std::net::SocketAddr,
    pub base: String,
    pub client: reqwest::Client,
    pub db: DatabaseConnection,
    pub config: Config,
    pub dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    pg_cleanup: Option<(String, String)>,
}

/// A fresh database URL: a SQLite file under `dir`, or a new PostgreSQL database.
pub async fn fresh_database(dir: &std::path::Path) -> (String, Option<(String, String)>) {
    match std::env::var("TTX_TEST_DATABASE_URL") {
        Ok(admin_url) if !admin_url.trim().is_empty() => {
            let name = format!("ttx_t_{}", uuid::Uuid::new_v4().simple());
            let admin = Database::connect(&admin_url)
                .await
                .expect("connect to TTX_TEST_DATABASE_URL");
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create test database");
            admin.close().await.ok();
            let base = match admin_url.rfind('/') {
                Some(i) if admin_url[..i].ends_with(|c: char| c != '/') => {
                    admin_url[..i].to_string()
                }
                _ => admin_url.trim_end_matches('/').to_string(),
            };
            let base = base.split('?').next().unwrap_or(&base).to_string();
            (format!("{base}/{name}"), Some((admin_url, name)))
        }
        _ => (
            format!("sqlite://{}?mode=rwc", dir.join("ttx.db").display()),
            None,
        ),
    }
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// Spawns with a config adjusted by `f` (after the test defaults are set).
    pub async fn spawn_with(f: impl FnOnce(&mut Config)) -> TestApp {
        ttx_server::telemetry::init_logs("text", "warn");
        let dir = tempfile::tempdir().expect("tempdir");
        let (url, pg_cleanup) = fresh_database(dir.path()).await;
        let mut config = Config {
            data_dir: dir.path().to_path_buf(),
            ..Default::default()
        };
        config.database.url = url;
        config.database.max_connections = 8;
        // Cheaper password hashing keeps the suite fast; the algorithm is the same.
        config.accounts.password_cost.memory_kib = 4096;
        config.accounts.password_cost.iterations = 1;
        f(&mut config);
        let app = App::build(config.clone()).await.expect("app builds");
        let db = app.state.db.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = app
                .serve_until(listener, async move {
                    let _ = rx.await;
                })
                .await;
        });
        TestApp {
            addr,
            base: format!("http://{addr}"),
            client: reqwest::Client::builder().build().unwrap(),
            db,
            config,
            dir,
            stop: Some(tx),
            pg_cleanup,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Sends a request; `body` is sent as JSON when present.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut rb = self.client.request(method, self.url(path));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        if let Some(b) = body {
            rb = rb.json(b);
        }
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        let r = rb.send().await.expect("request sent");
        into_resp(r).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.send(Method::GET, path, token, None, &[]).await
    }

    /// Polls `GET path` until `pred` holds (index updates, events and deliveries are applied
    /// asynchronously); fails the test after 30 s, naming `what` and the last answer.
    pub async fn wait_until(
        &self,
        path: &str,
        token: Option<&str>,
        what: &str,
        pred: impl Fn(&Resp) -> bool,
    ) -> Resp {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let r = self.get(path, token).await;
            if pred(&r) {
                return r;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "timed out waiting for {what}: GET {path} -> {} {}",
                r.status,
                r.text
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Resp {
        self.send(Method::POST, path, token, Some(body), &[]).await
    }
    pub async fn patch(&self, path: &str, token: Option<&str>, etag: &str, body: &Value) -> Resp {
        self.send(
            Method::PATCH,
            path,
            token,
            Some(body),
            &[("if-match", etag)],
        )
        .await
    }
    pub async fn delete(&self, path: &str, token: Option<&str>) -> Resp {
        self.send(Method::DELETE, path, token, None, &[]).await
    }

    /// A new operator's token.
    pub async fn operator(&self) -> String {
        let email = format!("op-{}@ttx.test", uuid::Uuid::new_v4().simple());
        ttx_server::admin::create_operator(
            &self.db,
            &self.config.accounts,
            &email,
            "Operator",
            "operator-pass-123",
        )
        .await
        .expect("operator")
        .1
    }

    /// Signs up an organisation of `kind` in `region`; verifies it when `verify` is set (needs an
    /// operator; stations get `region` as jurisdiction).
    pub async fn org(&self, kind: &str, region: &str, verify: bool) -> Org {
        let n = fixtures::next();
        let body = json!({
            "org": {
                "kind": kind,
                "name": format!("测试机构{n}"),
                "credit_code": fixtures::credit_code(region, n),
                "region_code": region,
                "contact_email": format!("contact{n}@org.test"),
                "contact_phone": "13800138000"
            },
            "admin": {"email": format!("admin{n}@org.test"), "display_name": "管理员", "password": "correct-horse-42"}
        });
        let r = self.post("/v1/signup", None, &body).await;
        r.assert_status(201);
        let org = Org {
            id: r.body["org"]["id"].as_i64().unwrap(),
            admin_token: r.body["token"].as_str().unwrap().to_string(),
            admin_id: r.body["user"]["id"].as_i64().unwrap(),
            admin_email: format!("admin{n}@org.test"),
        };
        if verify {
            let op = self.operator().await;
            let vb = if kind == "station" {
                json!({"jurisdiction": [region]})
            } else {
                json!({})
            };
            self.post(&format!("/v1/orgs/{}/verify", org.id), Some(&op), &vb)
                .await
                .assert_status(200);
        }
        org
    }

    /// Adds a member with `role` to `org` and returns the member's token.
    pub async fn member(&self, org: &Org, role: &str) -> String {
        let n = fixtures::next();
        let email = format!("m{n}@org.test");
        self.post(
            &format!("/v1/orgs/{}/members", org.id),
            Some(&org.admin_token),
            &json!({"email": email, "display_name": "成员", "password": "correct-horse-42", "role": role}),
        )
        .await
        .assert_status(201);
        let r = self
            .post(
                "/v1/tokens",
                None,
                &json!({"email": email, "password": "correct-horse-42"}),
            )
            .await;
        r.assert_status(201);
        r.body["token"].as_str().unwrap().to_string()
    }
}

/// A signed-up organisation.
#[derive(Debug, Clone)]
pub struct Org {
    pub id: i64,
    pub admin_token: String,
    pub admin_id: i64,
    pub admin_email: String,
}

pub async fn into_resp(r: reqwest::Response) -> Resp {
    let status = r.status();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp {
        status,
        headers,
        body,
        text,
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some((admin_url, name)) = self.pg_cleanup.take() {
            // Best effort: drop the per-test database from a separate runtime.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async move {
                    if let Ok(admin) = Database::connect(&admin_url).await {
                        let _ = admin
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            ))
                            .await;
                        admin.close().await.ok();
                    }
                });
            })
            .join();
        }
    }
}
