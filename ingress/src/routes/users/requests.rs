//! What clients send to `/v1/users` and `/v1/service-accounts`: bodies and
//! query parameters, their validation and their OpenAPI schemas.

use khlang_contract::Role;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use validator::{Validate, ValidationError};

use crate::routes::rules::{valid_display_name, valid_email, valid_password, valid_username};

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

/// A new person's account.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "email": "somchai@example.co.th", "username": "somchai", "display_name": "สมชาย ใจดี",
    "password": "correct-horse-battery", "role": "warehouse_staff"
}))]
pub struct CreateUser {
    /// Email, unique.
    #[schema(max_length = 254, format = "email")]
    #[validate(custom(function = "valid_email"))]
    pub email: String,
    /// Username, unique: 3-32 of a-z 0-9 . _ -
    #[schema(min_length = 3, max_length = 32, pattern = "^[a-z0-9._-]{3,32}$")]
    #[validate(custom(function = "valid_username"))]
    pub username: String,
    /// Name to show, 1-100 characters, not only spaces.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
    #[validate(custom(function = "valid_display_name"))]
    pub display_name: String,
    /// Password, 12-256 characters.
    #[schema(min_length = 12, max_length = 256)]
    #[validate(custom(function = "valid_password"))]
    pub password: String,
    /// admin, manager, warehouse_staff or report_viewer.
    #[schema(pattern = "^(admin|manager|warehouse_staff|report_viewer)$")]
    #[validate(custom(function = "valid_person_role"))]
    pub role: String,
}

/// Changes to an account; at least one field.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"display_name": "สมชาย ใจดี (กะเช้า)"}))]
pub struct UpdateUserRequest {
    /// New email.
    #[schema(max_length = 254, format = "email", nullable = false)]
    #[validate(custom(function = "valid_email"))]
    #[serde(default, deserialize_with = "crate::extract::present")]
    pub email: Option<String>,
    /// New display name, 1-100 characters, not only spaces.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$",
        nullable = false
    )]
    #[validate(custom(function = "valid_display_name"))]
    #[serde(default, deserialize_with = "crate::extract::present")]
    pub display_name: Option<String>,
    /// New password.
    #[schema(min_length = 12, max_length = 256, nullable = false)]
    #[validate(custom(function = "valid_password"))]
    #[serde(default, deserialize_with = "crate::extract::present")]
    pub password: Option<String>,
}

/// A new role.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"role": "manager"}))]
pub struct ChangeRoleRequest {
    /// The role.
    #[schema(pattern = "^(admin|manager|warehouse_staff|report_viewer|service|device)$")]
    #[validate(custom(function = "valid_role"))]
    pub role: String,
}

/// Why an account is deactivated.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "ลาออก"}))]
pub struct DeactivateRequest {
    /// Reason, for the history.
    #[schema(max_length = 500)]
    #[validate(length(max = 500))]
    pub reason: Option<String>,
}

/// A service (upstream system) or device (scanner) account.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "username": "erp-sync", "display_name": "ERP ส่งข้อมูลสต็อก", "kind": "service",
    "scopes": ["stock:read", "stock:write"]
}))]
pub struct CreateServiceAccount {
    /// Username it signs in with: 3-32 of a-z 0-9 . _ -
    #[schema(min_length = 3, max_length = 32, pattern = "^[a-z0-9._-]{3,32}$")]
    #[validate(custom(function = "valid_username"))]
    pub username: String,
    /// Name to show, 1-100 characters, not only spaces.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
    #[validate(custom(function = "valid_display_name"))]
    pub display_name: String,
    /// `service` or `device`.
    #[schema(pattern = "^(service|device)$")]
    #[validate(custom(function = "valid_machine_kind"))]
    pub kind: String,
    /// Scopes to grant (1-16); each must be one the kind may hold: a
    /// `service` catalog:read, catalog:write, stock:read, stock:write or
    /// reports:read; a `device` catalog:read, stock:read or scans:write.
    #[schema(min_items = 1, max_items = 16, inline, value_type = Vec<ScopeName>)]
    #[validate(length(min = 1, max = 16))]
    pub scopes: Vec<String>,
}

/// A scope a service or device account may be granted (the kind narrows
/// it further).
pub struct ScopeName;

impl utoipa::PartialSchema for ScopeName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some([
                "catalog:read",
                "catalog:write",
                "stock:read",
                "stock:write",
                "scans:write",
                "reports:read",
            ]))
            .into()
    }
}

impl utoipa::ToSchema for ScopeName {}

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
    #[param(pattern = "^(admin|manager|warehouse_staff|report_viewer|service|device)$")]
    #[validate(custom(function = "valid_role"))]
    pub role: Option<String>,
    /// Only active (true) or deactivated (false) accounts.
    pub active: Option<bool>,
    /// Text in the email, username or display name.
    #[param(min_length = 1, max_length = 100)]
    #[validate(length(min = 1, max = 100))]
    pub q: Option<String>,
    /// Accounts per page, 1-100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    #[validate(range(min = 1, max = 100))]
    pub page_size: Option<i64>,
    /// `next_page_token` of the previous page.
    #[param(max_length = 64)]
    #[validate(length(max = 64))]
    pub page_token: Option<String>,
}
