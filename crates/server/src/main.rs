//! `ttx`: the TTX server and its operator commands.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    ttx_server::cli::run().await
}
