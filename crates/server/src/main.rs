//! `ttx`: the TTX server and its operator commands.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    ttx_server::cli::run().await
}
