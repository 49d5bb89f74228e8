//! `/v1/me`, `/v1/users` and `/v1/service-accounts`. Writes become users
//! commands (the password is hashed here, so it never reaches Kafka);
//! reads come from the users processor's state.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use khlang_contract::topics::USER_COMMAND_SUBJECT;
use khlang_contract::users::{ChangeRole, DeactivateUser, RegisterUser, UpdateUser, UserCommand};
use khlang_contract::{Envelope, Role};
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sqlx::Row as _;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::{Validate, ValidationError};

use super::commands::{submit, Submission};
use crate::auth::password::{self, MIN_PASSWORD_LEN};
use crate::auth::Principal;
use crate::error::{ApiError, Code};
use crate::extract::{LaterJson, QueryParams};
use crate::middleware::correlation_id;
use crate::scopes::Scope;
use crate::state::AppState;

/// An account as readers see it (never the password hash).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserView {
    /// Id.
    pub user_id: String,
    /// Email.
    pub email: String,
    /// Username.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Role.
    pub role: String,
    /// False once deactivated.
    pub active: bool,
    /// Scopes granted to a service or device account.
    pub scopes: Vec<String>,
    /// Version, incremented by every change.
    pub version: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl UserView {
    fn from_row(row: &sqlx::postgres::PgRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            user_id: row.try_get::<Uuid, _>("user_id")?.to_string(),
            email: row.try_get("email")?,
            username: row.try_get("username")?,
            display_name: row.try_get("display_name")?,
            role: row.try_get("role")?,
            active: row.try_get("active")?,
            scopes: row.try_get("scopes")?,
            version: row.try_get("version")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}

/// A page of accounts.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserPage {
    /// The accounts.
    pub items: Vec<UserView>,
    /// Pass as `page_token` for the next page; null on the last.
    pub next_page_token: Option<String>,
}

fn valid_username(value: &str) -> Result<(), ValidationError> {
    let ok = (3..=32).contains(&value.len())
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    ok.then_some(()).ok_or_else(|| {
        ValidationError::new("username").with_message("must be 3-32 of a-z 0-9 . _ -".into())
    })
}

fn valid_display_name(value: &str) -> Result<(), ValidationError> {
    let trimmed = value.trim();
    (!trimmed.is_empty() && trimmed.chars().count() <= 100)
        .then_some(())
        .ok_or_else(|| {
            ValidationError::new("length").with_message("must be 1-100 characters".into())
        })
}

fn valid_role(value: &str) -> Result<(), ValidationError> {
    value.parse::<Role>().map(|_| ()).map_err(|_| {
        ValidationError::new("role").with_message(
            format!("must be one of {}", Role::ALL.map(Role::as_str).join(", ")).into(),
        )
    })
}

fn valid_person_role(value: &str) -> Result<(), ValidationError> {
    valid_role(value)?;
    match value.parse::<Role>() {
        Ok(Role::Service | Role::Device) => Err(ValidationError::new("role").with_message(
            "service and device accounts are made with POST /v1/service-accounts".into(),
        )),
        _ => Ok(()),
    }
}

fn valid_password_rule(value: &str) -> Result<(), ValidationError> {
    (MIN_PASSWORD_LEN..=256)
        .contains(&value.chars().count())
        .then_some(())
        .ok_or_else(|| {
            ValidationError::new("length")
                .with_message(format!("must be {MIN_PASSWORD_LEN}-256 characters").into())
        })
}

/// A new person's account.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// Email, unique.
    #[schema(max_length = 254, format = "email")]
    #[validate(email(message = "must be an email address"), length(max = 254))]
    pub email: String,
    /// Username, unique: 3-32 of a-z 0-9 . _ -
    #[schema(min_length = 3, max_length = 32, pattern = "^[a-z0-9._-]{3,32}$")]
    #[validate(custom(function = "valid_username"))]
    pub username: String,
    /// Name to show, 1-100 characters.
    #[schema(min_length = 1, max_length = 100)]
    #[validate(custom(function = "valid_display_name"))]
    pub display_name: String,
    /// Password, 12-256 characters.
    #[schema(min_length = 12, max_length = 256)]
    #[validate(custom(function = "valid_password_rule"))]
    pub password: String,
    /// admin, manager, warehouse_staff or report_viewer.
    #[schema(pattern = "^(admin|manager|warehouse_staff|report_viewer)$")]
    #[validate(custom(function = "valid_person_role"))]
    pub role: String,
}

/// Changes to an account; at least one field.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    /// New email.
    #[schema(max_length = 254, format = "email")]
    #[validate(email(message = "must be an email address"), length(max = 254))]
    pub email: Option<String>,
    /// New display name.
    #[schema(min_length = 1, max_length = 100)]
    #[validate(custom(function = "valid_display_name"))]
    pub display_name: Option<String>,
    /// New password.
    #[schema(min_length = 12, max_length = 256)]
    #[validate(custom(function = "valid_password_rule"))]
    pub password: Option<String>,
}

/// A new role.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeRoleRequest {
    /// The role.
    #[schema(pattern = "^(admin|manager|warehouse_staff|report_viewer|service|device)$")]
    #[validate(custom(function = "valid_role"))]
    pub role: String,
}

/// Why an account is deactivated.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeactivateRequest {
    /// Reason, for the history.
    #[validate(length(max = 500))]
    pub reason: Option<String>,
}

/// A service (upstream system) or device (scanner) account.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateServiceAccount {
    /// Username it signs in with: 3-32 of a-z 0-9 . _ -
    #[schema(min_length = 3, max_length = 32, pattern = "^[a-z0-9._-]{3,32}$")]
    #[validate(custom(function = "valid_username"))]
    pub username: String,
    /// Name to show.
    #[schema(min_length = 1, max_length = 100)]
    #[validate(custom(function = "valid_display_name"))]
    pub display_name: String,
    /// `service` or `device`.
    #[schema(pattern = "^(service|device)$")]
    #[validate(custom(function = "valid_machine_kind"))]
    pub kind: String,
    /// Scopes to grant; each must be allowed for the kind.
    #[validate(length(min = 1, max = 16))]
    pub scopes: Vec<String>,
}

fn valid_machine_kind(value: &str) -> Result<(), ValidationError> {
    matches!(value, "service" | "device")
        .then_some(())
        .ok_or_else(|| {
            ValidationError::new("kind").with_message("must be service or device".into())
        })
}

/// Filters and paging of the account list.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only this role.
    #[validate(custom(function = "valid_role"))]
    pub role: Option<String>,
    /// Only active (true) or deactivated (false) accounts.
    pub active: Option<bool>,
    /// Text in the email, username or display name.
    #[validate(length(min = 1, max = 100))]
    pub q: Option<String>,
    /// Accounts per page, 1-100 (default 20).
    #[validate(range(min = 1, max = 100))]
    pub page_size: Option<i64>,
    /// `next_page_token` of the previous page.
    #[validate(length(max = 64))]
    pub page_token: Option<String>,
}

fn parse_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|_| ApiError::new(Code::UserNotFound, "no such user"))
}

async fn load(state: &AppState, user_id: Uuid) -> Result<UserView, ApiError> {
    let row = sqlx::query(include_str!("../queries/get_user_view.sql"))
        .bind(user_id)
        .fetch_optional(&state.pool)
        .await?
        .ok_or_else(|| ApiError::new(Code::UserNotFound, "no such user"))?;
    Ok(UserView::from_row(&row)?)
}

async fn send(
    state: &AppState,
    principal: &Principal,
    command: UserCommand,
    extra: impl FnOnce(&mut super::commands::CommandAccepted),
) -> Result<Response, ApiError> {
    let topic = state.topics.users_commands;
    let key = command.user_id.clone();
    let id = command.envelope.id.clone();
    let kind = command.envelope.kind.clone();
    submit(
        state,
        principal,
        Submission {
            topic,
            subject: USER_COMMAND_SUBJECT,
            key: &key,
            kind: &kind,
            command_id: &id,
            value: &command,
        },
        extra,
    )
    .await
}

fn envelope(kind: &str, principal: &Principal) -> Envelope {
    Envelope::new(kind, principal.actor(), &correlation_id(), "ingress")
}

/// The signed-in account.
#[utoipa::path(
    get, path = "/v1/me", tag = "users",
    security(("bearer" = [])),
    responses((status = 200, description = "The account", body = UserView))
)]
pub async fn me(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<UserView>, ApiError> {
    load(&state, principal.user_id).await.map(Json)
}

/// Create a person's account (admin).
#[utoipa::path(
    post, path = "/v1/users", tag = "users",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    request_body = CreateUser,
    responses((status = 202, description = "Command accepted", body = super::commands::CommandAccepted,
        headers(("Location" = String, description = "The command's outcome"))))
)]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    body: LaterJson,
) -> Result<Response, ApiError> {
    principal.require(Scope::UsersWrite)?;
    let request: CreateUser = body.parse()?;
    let password_hash = password::hash(request.password).await?;
    let user_id = Uuid::now_v7().to_string();
    let mut command = UserCommand::empty(envelope("RegisterUser", &principal), user_id.clone());
    command.register = Some(RegisterUser {
        email: request.email,
        username: request.username,
        display_name: request.display_name.trim().to_owned(),
        password_hash,
        role: request.role,
        scopes: None,
    });
    send(&state, &principal, command, |body| {
        body.user_id = Some(user_id.clone());
    })
    .await
}

/// Create a service or device account (admin). Its client secret is in
/// the answer, once.
#[utoipa::path(
    post, path = "/v1/service-accounts", tag = "users",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    request_body = CreateServiceAccount,
    responses((status = 202, description = "Command accepted", body = super::commands::CommandAccepted,
        headers(("Location" = String, description = "The command's outcome"))))
)]
pub async fn create_service_account(
    State(state): State<AppState>,
    principal: Principal,
    body: LaterJson,
) -> Result<Response, ApiError> {
    principal.require(Scope::UsersWrite)?;
    let request: CreateServiceAccount = body.parse()?;
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
    let mut command = UserCommand::empty(envelope("RegisterUser", &principal), user_id.clone());
    command.register = Some(RegisterUser {
        // accounts need an email; `.invalid` is reserved and never delivers
        email: format!("{}@{}.khlang.invalid", request.username, role),
        username: request.username,
        display_name: request.display_name.trim().to_owned(),
        password_hash,
        role: role.as_str().to_owned(),
        scopes: Some(request.scopes),
    });
    send(&state, &principal, command, |body| {
        body.user_id = Some(user_id.clone());
        body.client_secret = Some(secret);
    })
    .await
}

/// List accounts (admin, manager).
#[utoipa::path(
    get, path = "/v1/users", tag = "users",
    security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, description = "A page of accounts", body = UserPage))
)]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Json<UserPage>, ApiError> {
    principal.require(Scope::UsersRead)?;
    let after = match &query.page_token {
        None => None,
        Some(token) => Some(
            URL_SAFE_NO_PAD
                .decode(token)
                .ok()
                .and_then(|b| Uuid::from_slice(&b).ok())
                .ok_or_else(|| {
                    ApiError::field("page_token", "page_token", "is not a page token")
                })?,
        ),
    };
    let size = query.page_size.unwrap_or(20);
    let rows = sqlx::query(include_str!("../queries/list_users.sql"))
        .bind(&query.role)
        .bind(query.active)
        .bind(query.q.as_deref().map(escape_like))
        .bind(after)
        .bind(size + 1)
        .fetch_all(&state.pool)
        .await?;
    let mut items = rows
        .iter()
        .map(UserView::from_row)
        .collect::<Result<Vec<_>, _>>()?;
    let more = items.len() > usize::try_from(size).unwrap_or(usize::MAX);
    items.truncate(usize::try_from(size).unwrap_or(0));
    let next_page_token = if more {
        items
            .last()
            .and_then(|u| Uuid::parse_str(&u.user_id).ok())
            .map(|id| URL_SAFE_NO_PAD.encode(id.as_bytes()))
    } else {
        None
    };
    Ok(Json(UserPage {
        items,
        next_page_token,
    }))
}

fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// One account (admin, manager, or the account itself).
#[utoipa::path(
    get, path = "/v1/users/{id}", tag = "users",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses((status = 200, description = "The account", body = UserView))
)]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<UserView>, ApiError> {
    let user_id = parse_id(&id)?;
    if user_id != principal.user_id {
        principal.require(Scope::UsersRead)?;
    }
    load(&state, user_id).await.map(Json)
}

/// Change an account's email, display name or password (admin, or the
/// account itself).
#[utoipa::path(
    patch, path = "/v1/users/{id}", tag = "users",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "User id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    request_body = UpdateUserRequest,
    responses((status = 202, description = "Command accepted", body = super::commands::CommandAccepted,
        headers(("Location" = String, description = "The command's outcome"))))
)]
pub async fn update(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    body: LaterJson,
) -> Result<Response, ApiError> {
    let user_id = parse_id(&id)?;
    if user_id != principal.user_id {
        principal.require(Scope::UsersWrite)?;
    }
    let request: UpdateUserRequest = body.parse()?;
    if request.email.is_none() && request.display_name.is_none() && request.password.is_none() {
        return Err(ApiError::field(
            "body",
            "required",
            "give at least one of email, display_name, password",
        ));
    }
    load(&state, user_id).await?;
    let password_hash = match request.password {
        Some(password) => Some(password::hash(password).await?),
        None => None,
    };
    let mut command = UserCommand::empty(envelope("UpdateUser", &principal), user_id.to_string());
    command.update = Some(UpdateUser {
        email: request.email,
        display_name: request.display_name.map(|d| d.trim().to_owned()),
        password_hash,
    });
    send(&state, &principal, command, |_| {}).await
}

/// Give an account another role (admin).
#[utoipa::path(
    post, path = "/v1/users/{id}/role", tag = "users",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "User id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    request_body = ChangeRoleRequest,
    responses((status = 202, description = "Command accepted", body = super::commands::CommandAccepted,
        headers(("Location" = String, description = "The command's outcome"))))
)]
pub async fn change_role(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    body: LaterJson,
) -> Result<Response, ApiError> {
    principal.require(Scope::UsersWrite)?;
    let request: ChangeRoleRequest = body.parse()?;
    let user_id = parse_id(&id)?;
    load(&state, user_id).await?;
    let mut command = UserCommand::empty(envelope("ChangeRole", &principal), user_id.to_string());
    command.change_role = Some(ChangeRole { role: request.role });
    send(&state, &principal, command, |_| {}).await
}

/// Deactivate an account (admin): it cannot sign in, and its tokens stop
/// working as soon as the users processor has applied the command.
#[utoipa::path(
    post, path = "/v1/users/{id}/deactivate", tag = "users",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "User id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    request_body = DeactivateRequest,
    responses((status = 202, description = "Command accepted", body = super::commands::CommandAccepted,
        headers(("Location" = String, description = "The command's outcome"))))
)]
pub async fn deactivate(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    body: LaterJson,
) -> Result<Response, ApiError> {
    principal.require(Scope::UsersWrite)?;
    let request: DeactivateRequest = body.parse()?;
    let user_id = parse_id(&id)?;
    load(&state, user_id).await?;
    let mut command =
        UserCommand::empty(envelope("DeactivateUser", &principal), user_id.to_string());
    command.deactivate = Some(DeactivateUser {
        reason: request.reason,
    });
    send(&state, &principal, command, |_| {}).await
}
