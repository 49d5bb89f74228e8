//! `khlang-ingress`: see the crate docs and `docs/ingress.md`.

use anyhow::Context as _;
use khlang_ingress::Config;
use tokio_util::sync::CancellationToken;

// glibc's malloc showed up at ~12% of the ingress's CPU under load, and its
// per-thread arenas kept memory that argon2 and request bursts had used.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    khlang_telemetry::init_logging("khlang-ingress");
    let config = Config::load().context("invalid configuration")?;
    let cancel = CancellationToken::new();
    let running = khlang_ingress::start(config, None, cancel.clone()).await?;
    khlang_runtime::shutdown_signal(cancel).await;
    running.task.await.context("ingress task")??;
    Ok(())
}
