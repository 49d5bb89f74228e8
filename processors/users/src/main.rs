//! `khlang-users`: runs the users processor (see the crate docs).

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    khlang_runtime::launch(khlang_users::Users).await?;
    Ok(())
}
