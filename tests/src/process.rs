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
