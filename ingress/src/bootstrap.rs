//! The first admin, from configuration: `bootstrap_admin.email` and a file
//! holding the password. If no active admin has that email, a
//! `RegisterUser` command is published with a user id derived from the
//! email, so that restarts (or several instances) publishing it again end
//! in `user_exists`, never in a second admin.

use anyhow::Context as _;
use khlang_contract::users::{RegisterUser, UserCommand};
use khlang_contract::Role;
use uuid::Uuid;

use crate::auth::password::{self, MIN_PASSWORD_LEN};
use crate::state::AppState;
use crate::write;

/// Namespace of bootstrap admin ids (UUIDv5 of the lowercased email).
const ADMIN_NAMESPACE: Uuid = Uuid::from_u128(0x6b68_6c61_6e67_4000_8000_0000_0000_0001);

pub(crate) async fn first_admin(state: &AppState) -> anyhow::Result<()> {
    let settings = &state.config.bootstrap_admin;
    let Some(email) = settings.email.as_deref().filter(|e| !e.is_empty()) else {
        return Ok(());
    };
    let file = settings
        .password_file
        .as_ref()
        .context("bootstrap_admin.email is set but bootstrap_admin.password_file is not")?;
    let password = std::fs::read_to_string(file)
        .with_context(|| format!("reading {}", file.display()))?
        .trim_end_matches(['\r', '\n'])
        .to_owned();
    if password.chars().count() < MIN_PASSWORD_LEN {
        anyhow::bail!(
            "the bootstrap admin password must have at least {MIN_PASSWORD_LEN} characters"
        );
    }
    let exists: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM users.users WHERE lower(email) = lower($1) AND role = 'admin' AND active)",
    )
    .bind(email)
    .fetch_one(&state.pool)
    .await?;
    if exists {
        return Ok(());
    }
    let user_id = Uuid::new_v5(&ADMIN_NAMESPACE, email.to_lowercase().as_bytes()).to_string();
    let username = email
        .split('@')
        .next()
        .unwrap_or("admin")
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .take(32)
        .collect::<String>();
    let mut command = UserCommand::empty(write::system_envelope("RegisterUser"), user_id.clone());
    command.register = Some(RegisterUser {
        email: email.to_owned(),
        username: if username.len() >= 3 {
            username
        } else {
            "admin".into()
        },
        display_name: "Administrator".into(),
        password_hash: password::hash(password)
            .await
            .map_err(|e| anyhow::anyhow!(e.message))?,
        role: Role::Admin.as_str().to_owned(),
        scopes: None,
    });
    write::publish_system(state, &command)
        .await
        .map_err(|e| anyhow::anyhow!(e.message))
        .context("publishing the bootstrap admin")?;
    tracing::info!(%user_id, "bootstrap admin requested");
    Ok(())
}
