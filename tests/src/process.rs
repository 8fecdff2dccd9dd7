//! The real `ttx` binary as a child process, for tests that kill it (SIGKILL mid-write) and
//! start it again on the same database.
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A `ttx serve` child process on a free port; killed when dropped.
pub struct ChildServer {
    pub child: std::process::Child,
    /// `http://127.0.0.1:<port>`
    pub base: String,
}

/// A free local address (`127.0.0.1:<port>`).
pub fn free_addr() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("its address").to_string()
}

impl ChildServer {
    /// Starts `bin serve` (the test package's `ttx-under-test`, i.e.
    /// `env!("CARGO_BIN_EXE_ttx-under-test")`) on `db_url` with data directory `dir`, the test
    /// settings (cheap password hashing, warnings only) and `env` (`TTX_*` settings), and waits
    /// until `/healthz` answers (60 s at most). Its log goes to `dir/server.log`.
    pub async fn start(bin: &str, dir: &Path, db_url: &str, env: &[(&str, &str)]) -> ChildServer {
        let addr = free_addr();
        let log_path: PathBuf = dir.join("server.log");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .expect("open the server log");
        let mut cmd = std::process::Command::new(bin);
        cmd.arg("serve")
            .env("TTX_DATA_DIR", dir)
            .env("TTX_DATABASE__URL", db_url)
            .env("TTX_SERVER__BIND", &addr)
            .env("TTX_LOG__LEVEL", "warn")
            .env("TTX_ACCOUNTS__PASSWORD_COST__MEMORY_KIB", "4096")
            .env("TTX_ACCOUNTS__PASSWORD_COST__ITERATIONS", "1")
            .env(
                "TTX_SERVER__RATE_LIMIT__PER_TOKEN_PER_MINUTE",
                crate::TEST_RATE_LIMIT.to_string(),
            )
            .env(
                "TTX_SERVER__RATE_LIMIT__PER_ADDRESS_PER_MINUTE",
                crate::TEST_RATE_LIMIT.to_string(),
            );
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start the ttx binary");
        let base = format!("http://{addr}");
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = client.get(format!("{base}/healthz")).send().await {
                if r.status().is_success() {
                    break;
                }
            }
            assert!(
                Instant::now() < deadline,
                "server did not start; see {}",
                log_path.display()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        ChildServer { child, base }
    }

    /// Kills the process (SIGKILL: no graceful shutdown) and waits for it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs the `ttx` binary `bin` with `args` (a one-off command: `import`, `stats check`, …) on
/// `app`'s database and data directory, and returns what it printed and its exit status.
pub async fn run_cli(bin: &str, app: &crate::TestApp, args: &[&str]) -> std::process::Output {
    tokio::process::Command::new(bin)
        .args(args)
        .env("TTX_DATA_DIR", app.dir.path())
        .env("TTX_DATABASE__URL", &app.config.database.url)
        .env("TTX_LOG__LEVEL", "warn")
        .output()
        .await
        .expect("run the ttx binary")
}

/// Signs up an organisation of `kind` in `region` through the server at `base` (a child
/// process): its id and its admin's token.
pub async fn signup(base: &str, kind: &str, region: &str) -> (i64, String) {
    let n = crate::fixtures::next();
    let r = reqwest::Client::new()
        .post(format!("{base}/v1/signup"))
        .json(&serde_json::json!({
            "org": {"kind": kind, "name": format!("进程测试机构{n}"),
                    "credit_code": crate::fixtures::credit_code(region, n), "region_code": region,
                    "contact_email": format!("contact{n}@org.test"), "contact_phone": "13800138000"},
            "admin": {"email": format!("process{n}@org.test"), "display_name": "管理员", "password": "correct-horse-42"}
        }))
        .send()
        .await
        .expect("signup answers");
    let status = r.status();
    let v: serde_json::Value = r.json().await.unwrap_or_default();
    assert_eq!(status, 201, "signup: {v}");
    (
        v["org"]["id"].as_i64().unwrap(),
        v["token"].as_str().unwrap().to_string(),
    )
}

/// An operator's token, created in the database at `db_url` as `ttx admin create-operator`
/// does (cheap password hashing).
pub async fn operator_token(db_url: &str) -> String {
    let db = sea_orm::Database::connect(db_url)
        .await
        .expect("connect to the database");
    let mut cfg = ttx_server::Config::default().accounts;
    cfg.password_cost.memory_kib = 4096;
    cfg.password_cost.iterations = 1;
    let email = format!("op-{}@ttx.test", crate::fixtures::next());
    let token =
        ttx_server::admin::create_operator(&db, &cfg, &email, "Operator", "operator-pass-123")
            .await
            .expect("operator")
            .1;
    db.close().await.ok();
    token
}
