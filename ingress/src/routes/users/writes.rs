//! The users write handlers: each authorizes, then hands a users command
//! to the write path ([`crate::write`]). Passwords and client secrets are
//! hashed here, so they never reach Kafka.

use axum::extract::{Path, State};
use axum::response::Response;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use khlang_contract::users::{ChangeRole, DeactivateUser, RegisterUser, UpdateUser, UserCommand};
use khlang_contract::values::DisplayName;
use khlang_contract::Role;
use rand::RngCore as _;
use uuid::Uuid;

use super::reads::{load, parse_id};
use super::requests::{
    ChangeRoleRequest, CreateServiceAccount, CreateUser, DeactivateRequest, UpdateUserRequest,
};
use crate::auth::password;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::routes::rules::text;
use crate::scopes::Scope;
use crate::state::AppState;
use crate::write::{WriteRequest, Writer};

/// Create a person's account (admin).
#[utoipa::path(
    post, path = "/v1/users", tag = "users",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    request_body = CreateUser,
    responses((status = 202, description = "Command accepted", body = crate::write::CommandAccepted,
        headers(("Location" = String, description = "The command's outcome"))))
)]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    request: WriteRequest,
) -> Result<Response, ApiError> {
    let writer = Writer::authorize(&state, &principal, Scope::UsersWrite)?;
    writer
        .once(request, async |body| {
            let command = register(&writer, body.json()?).await?;
            let user_id = command.user_id.clone();
            writer
                .submit(command, |body| body.user_id = Some(user_id))
                .await
        })
        .await
}

async fn register(writer: &Writer<'_>, request: CreateUser) -> Result<UserCommand, ApiError> {
    let password_hash = password::hash(request.password).await?;
    let user_id = Uuid::now_v7().to_string();
    let mut command = UserCommand::empty(writer.envelope("RegisterUser"), user_id);
    command.register = Some(RegisterUser {
        email: request.email,
        username: request.username,
        display_name: text("display_name", DisplayName::parse(&request.display_name))?,
        password_hash,
        role: request.role,
        scopes: None,
    });
    Ok(command)
}

/// Create a service or device account (admin). Its client secret is in
/// the answer, once.
#[utoipa::path(
    post, path = "/v1/service-accounts", tag = "users",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    request_body = CreateServiceAccount,
    responses((status = 202, description = "Command accepted", body = crate::write::CommandAccepted,
        headers(("Location" = String, description = "The command's outcome"))))
)]
pub async fn create_service_account(
    State(state): State<AppState>,
    principal: Principal,
    request: WriteRequest,
) -> Result<Response, ApiError> {
    let writer = Writer::authorize(&state, &principal, Scope::UsersWrite)?;
    writer
        .once(request, async |body| {
            let (command, secret) = register_machine(&writer, body.json()?).await?;
            let user_id = command.user_id.clone();
            writer
                .submit(command, |body| {
                    body.user_id = Some(user_id);
                    body.client_secret = Some(secret);
                })
                .await
        })
        .await
}

/// The command registering a service or device account, and its secret.
async fn register_machine(
    writer: &Writer<'_>,
    request: CreateServiceAccount,
) -> Result<(UserCommand, String), ApiError> {
    let role = if request.kind == "device" {
        Role::Device
    } else {
        Role::Service
    };
    let allowed = Scope::allowed_for(role);
    for scope in &request.scopes {
        if !scope.parse::<Scope>().is_ok_and(|s| allowed.contains(&s)) {
            return Err(ApiError::field(
                "scopes",
                "scope",
                format!(
                    "{scope:?} cannot be granted to a {role}; allowed: {}",
                    allowed
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let secret = URL_SAFE_NO_PAD.encode(secret);
    let password_hash = password::hash(secret.clone()).await?;
    let user_id = Uuid::now_v7().to_string();
    let mut command = UserCommand::empty(writer.envelope("RegisterUser"), user_id);
    command.register = Some(RegisterUser {
        // accounts need an email; `.invalid` is reserved and never delivers
        email: format!("{}@{}.khlang.invalid", request.username, role),
        username: request.username,
        display_name: text("display_name", DisplayName::parse(&request.display_name))?,
        password_hash,
        role: role.as_str().to_owned(),
        scopes: Some(request.scopes),
    });
    Ok((command, secret))
}

/// Change an account's email, display name or password (admin, or the
/// account itself).
#[utoipa::path(
    patch, path = "/v1/users/{id}", tag = "users",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "User id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    request_body = UpdateUserRequest,
    responses((status = 202, description = "Command accepted", body = crate::write::CommandAccepted,
        headers(("Location" = String, description = "The command's outcome"))))
)]
pub async fn update(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    request: WriteRequest,
) -> Result<Response, ApiError> {
    let writer = Writer::authorize_self_or(&state, &principal, &id, Scope::UsersWrite)?;
    writer
        .once(request, async |body| {
            let user_id = parse_id(&id)?;
            let command = change(&writer, user_id, body.json()?).await?;
            writer.submit(command, |_| {}).await
        })
        .await
}

async fn change(
    writer: &Writer<'_>,
    user_id: Uuid,
    request: UpdateUserRequest,
) -> Result<UserCommand, ApiError> {
    if request.email.is_none() && request.display_name.is_none() && request.password.is_none() {
        return Err(ApiError::field(
            "body",
            "required",
            "give at least one of email, display_name, password",
        ));
    }
    load(writer.state(), user_id).await?;
    let password_hash = match request.password {
        Some(password) => Some(password::hash(password).await?),
        None => None,
    };
    let mut command = UserCommand::empty(writer.envelope("UpdateUser"), user_id.to_string());
    command.update = Some(UpdateUser {
        email: request.email,
        display_name: request
            .display_name
            .as_deref()
            .map(|d| text("display_name", DisplayName::parse(d)))
            .transpose()?,
        password_hash,
    });
    Ok(command)
}

/// Give an account another role (admin).
#[utoipa::path(
    post, path = "/v1/users/{id}/role", tag = "users",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "User id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    request_body = ChangeRoleRequest,
    responses((status = 202, description = "Command accepted", body = crate::write::CommandAccepted,
        headers(("Location" = String, description = "The command's outcome"))))
)]
pub async fn change_role(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    request: WriteRequest,
) -> Result<Response, ApiError> {
    let writer = Writer::authorize(&state, &principal, Scope::UsersWrite)?;
    writer
        .once(request, async |body| {
            let request: ChangeRoleRequest = body.json()?;
            let user_id = parse_id(&id)?;
            load(&state, user_id).await?;
            let mut command =
                UserCommand::empty(writer.envelope("ChangeRole"), user_id.to_string());
            command.change_role = Some(ChangeRole { role: request.role });
            writer.submit(command, |_| {}).await
        })
        .await
}

/// Deactivate an account (admin): it cannot sign in, and its tokens stop
/// working as soon as the users processor has applied the command.
#[utoipa::path(
    post, path = "/v1/users/{id}/deactivate", tag = "users",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "User id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    request_body = DeactivateRequest,
    responses((status = 202, description = "Command accepted", body = crate::write::CommandAccepted,
        headers(("Location" = String, description = "The command's outcome"))))
)]
pub async fn deactivate(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    request: WriteRequest,
) -> Result<Response, ApiError> {
    let writer = Writer::authorize(&state, &principal, Scope::UsersWrite)?;
    writer
        .once(request, async |body| {
            let request: DeactivateRequest = body.json()?;
            let user_id = parse_id(&id)?;
            load(&state, user_id).await?;
            let mut command =
                UserCommand::empty(writer.envelope("DeactivateUser"), user_id.to_string());
            command.deactivate = Some(DeactivateUser {
                reason: request.reason,
            });
            writer.submit(command, |_| {}).await
        })
        .await
}
