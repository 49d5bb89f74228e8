//! `khlang-stock`: runs the stock processor (see the crate docs and
//! `docs/stock.md`).

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    khlang_runtime::launch(khlang_stock::Stock).await?;
    Ok(())
}
