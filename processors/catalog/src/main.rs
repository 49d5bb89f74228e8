//! `khlang-catalog`: runs the catalog processor (see the crate docs).

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    khlang_runtime::launch(khlang_catalog::Catalog).await?;
    Ok(())
}
