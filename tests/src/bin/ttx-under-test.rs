//! The `ttx` binary, built inside the test package so tests can start it as a real process
//! (e.g. to kill it with SIGKILL).

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    ttx_server::cli::run().await
}
