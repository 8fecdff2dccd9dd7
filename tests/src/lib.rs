//! Test harness: starts the real application on a random port with a fresh database per test
//! (a temporary SQLite file, or a fresh PostgreSQL database when `TTX_TEST_DATABASE_URL` is set),
//! so tests run in parallel and never share state.
use reqwest::{header, Method, StatusCode};
use sea_orm::DatabaseConnection;
use serde_json::{json, Value};
use tokio::sync::oneshot;
use ttx_server::{App, Config};

pub mod fixtures;
pub mod process;

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

/// The rate limits (per token and per address, a minute) a [`TestApp`] runs with unless the test
/// sets its own: never reached by the suite, but the limiter still counts every request.
pub const TEST_RATE_LIMIT: u32 = 1_000_000;

/// A running application for one test.
pub struct TestApp {
    pub addr: std::net::SocketAddr,
    pub base: String,
    pub client: reqwest::Client,
    pub db: DatabaseConnection,
    pub config: Config,
    /// The application's clock: a manual one, so a test moves time (deadlines, expiry, review
    /// clocks) with `app.clock.advance(..)` instead of writing timestamps into the database.
    pub clock: ttx_core::Clock,
    pub dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    pg_cleanup: Option<(String, String)>,
}

/// With `TTX_TEST_MEILI_URL` set (and `TTX_TEST_MEILI_KEY`, the master key, if the server has
/// one), the app searches with Meilisearch instead of the embedded engine, in indexes of its own
/// (a fresh prefix per test), so the API suite's search tests run against a real Meilisearch.
pub fn meili_from_env(config: &mut Config) {
    let Some(url) = std::env::var("TTX_TEST_MEILI_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    else {
        return;
    };
    config.search.engine = "meilisearch".into();
    config.search.meili_url = Some(url);
    config.search.meili_api_key = std::env::var("TTX_TEST_MEILI_KEY")
        .ok()
        .filter(|k| !k.is_empty());
    config.search.meili_index_prefix = format!("t{}_", uuid::Uuid::new_v4().simple());
}

/// Whether the tests search with Meilisearch (`TTX_TEST_MEILI_URL`).
pub fn uses_meili() -> bool {
    std::env::var("TTX_TEST_MEILI_URL").is_ok_and(|u| !u.trim().is_empty())
}

/// A fresh database URL: a SQLite file under `dir`, or a new PostgreSQL database.
/// (`ttx_testdb::from_env`; drop a PostgreSQL one with `ttx_testdb::DropDatabase`.)
///
/// A PostgreSQL one is a copy of a template database that the migrations were applied to once
/// ([`pg_template`]): copying takes a tenth of the time of migrating each test's database.
pub async fn fresh_database(dir: &std::path::Path) -> (String, Option<(String, String)>) {
    let admin = std::env::var(ttx_testdb::TEST_DATABASE_URL)
        .ok()
        .filter(|u| u.starts_with("postgres"));
    let Some(admin) = admin else {
        let db = ttx_testdb::from_env(dir, "ttx_t")
            .await
            .expect("a fresh test database");
        return (db.url, db.pg);
    };
    let template = pg_template(&admin)
        .await
        .expect("a migrated template database (TTX_TEST_DATABASE_URL reachable?)");
    let name = format!("ttx_t_{}", uuid::Uuid::new_v4().simple());
    let conn = sea_orm::Database::connect(admin.as_str())
        .await
        .expect("TTX_TEST_DATABASE_URL reachable");
    use sea_orm::ConnectionTrait as _;
    conn.execute_unprepared(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
        .await
        .expect("copying the template database");
    conn.close().await.ok();
    let server = ttx_testdb::server_url(&admin);
    (format!("{server}/{name}"), Some((admin.clone(), name)))
}

/// The PostgreSQL template database with every migration applied, named after the migrations'
/// source (`TTX_MIGRATIONS_HASH`, from build.rs), made once per server: by the first test that
/// needs it, under an advisory lock so that concurrent tests and test binaries wait for it.
pub async fn pg_template(admin_url: &str) -> Result<String, sea_orm::DbErr> {
    use sea_orm::{ConnectOptions, ConnectionTrait, Database, Statement};
    static MADE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    if let Some(t) = MADE.get() {
        return Ok(t.clone());
    }
    let name = format!("ttx_tpl_{}", env!("TTX_MIGRATIONS_HASH"));
    // One session: the advisory lock belongs to it.
    let mut opts = ConnectOptions::new(admin_url.to_string());
    opts.max_connections(1).min_connections(1);
    let admin = Database::connect(opts).await?;
    admin
        .execute_unprepared("SELECT pg_advisory_lock(7271900001)")
        .await?;
    let exists = admin
        .query_one_raw(Statement::from_sql_and_values(
            admin.get_database_backend(),
            "SELECT 1 FROM pg_database WHERE datname = $1",
            [name.clone().into()],
        ))
        .await?
        .is_some();
    let made = if exists {
        Ok(())
    } else {
        // Built under another name and renamed when complete: a run killed half-way leaves no
        // half-migrated template behind under the real name.
        let building = format!("{name}_building");
        async {
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
                .await?;
            admin
                .execute_unprepared(&format!("CREATE DATABASE {building}"))
                .await?;
            let server = ttx_testdb::server_url(admin_url);
            let db = Database::connect(format!("{server}/{building}")).await?;
            let migrated = ttx_server::db::migrate(&db).await;
            db.close().await.ok();
            migrated?;
            admin
                .execute_unprepared(&format!("ALTER DATABASE {building} RENAME TO {name}"))
                .await
                .map(|_| ())
        }
        .await
    };
    let _ = admin
        .execute_unprepared("SELECT pg_advisory_unlock(7271900001)")
        .await;
    admin.close().await.ok();
    made?;
    Ok(MADE.get_or_init(|| name).clone())
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// Spawns with a config adjusted by `f` (after the test defaults are set).
    pub async fn spawn_with(f: impl FnOnce(&mut Config)) -> TestApp {
        Self::spawn_with_routes(f, None).await
    }

    /// Spawns with a config adjusted by `f` and `routes` merged into the real HTTP stack (routes
    /// that stall, panic or count their calls, to test the middleware around every handler).
    pub async fn spawn_with_routes(
        f: impl FnOnce(&mut Config),
        routes: Option<axum::Router<ttx_server::AppState>>,
    ) -> TestApp {
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
        // The suite sends many requests from one address and token: limits far above what a
        // test sends (a test of the limits sets its own).
        config.server.rate_limit.per_token_per_minute = TEST_RATE_LIMIT;
        config.server.rate_limit.per_address_per_minute = TEST_RATE_LIMIT;
        meili_from_env(&mut config);
        f(&mut config);
        let clock = ttx_core::Clock::manual();
        let mut app = App::build_with_clock(config.clone(), clock.clone())
            .await
            .expect("app builds");
        if let Some(routes) = routes {
            app = app.with_routes(routes);
        }
        TestApp::serve(app, config, clock, dir, pg_cleanup).await
    }

    /// Serves `app` on a random local port until the returned `TestApp` stops it.
    async fn serve(
        app: App,
        config: Config,
        clock: ttx_core::Clock,
        dir: tempfile::TempDir,
        pg_cleanup: Option<(String, String)>,
    ) -> TestApp {
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
            clock,
            dir,
            stop: Some(tx),
            pg_cleanup,
        }
    }

    /// The Beijing date `n` days from the application's today (its clock may have been moved),
    /// as `YYYY-MM-DD`.
    pub fn day(&self, n: i64) -> String {
        (self.clock.today() + chrono::Duration::days(n)).to_string()
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
    /// POSTs raw `body` bytes (malformed JSON, another media type, an oversized body) with
    /// `content_type` when given.
    pub async fn post_raw(
        &self,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> Resp {
        let mut rb = self.client.post(self.url(path)).body(body);
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        if let Some(ct) = content_type {
            rb = rb.header(header::CONTENT_TYPE, ct);
        }
        into_resp(rb.send().await.expect("request sent")).await
    }

    /// POSTs `body` to `path` as `token`, asserts a 201 and returns the new resource's `id`.
    pub async fn create(&self, path: &str, token: &str, body: &Value) -> i64 {
        let r = self.post(path, Some(token), body).await;
        r.assert_status(201);
        r.body["id"].as_i64().expect("the created resource's id")
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
        // Best effort: the per-test PostgreSQL database goes.
        drop(ttx_testdb::DropDatabase(self.pg_cleanup.take()));
    }
}

impl TestApp {
    /// Stops this server and starts a new one on the same data directory and database (a
    /// restart: what was committed, stored files included, must still be there).
    pub async fn restart(mut self) -> TestApp {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        // The old server drains; give it a moment to let go of its listener and tasks.
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let config = self.config.clone();
        let clock = self.clock.clone();
        let app = App::build_with_clock(config.clone(), clock.clone())
            .await
            .expect("app rebuilds");
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().expect("tempdir"));
        let pg_cleanup = self.pg_cleanup.take();
        TestApp::serve(app, config, clock, dir, pg_cleanup).await
    }

    /// Sends raw bytes (an upload) with a `Content-Type`.
    pub async fn upload(
        &self,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Resp {
        let mut rb = self
            .client
            .post(self.url(path))
            .header(header::CONTENT_TYPE, content_type)
            .body(bytes);
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        into_resp(rb.send().await.expect("request sent")).await
    }

    /// Downloads raw bytes: status, content type and body.
    pub async fn download(&self, path: &str, token: Option<&str>) -> (u16, String, Vec<u8>) {
        let mut rb = self.client.get(self.url(path));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        let r = rb.send().await.expect("request sent");
        let status = r.status().as_u16();
        let ct = r
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        (status, ct, r.bytes().await.unwrap_or_default().to_vec())
    }
}
