//! The one error shape of the API and the catalogue of its codes.
//!
//! Every non-2xx answer is an [`ErrorBody`]: HTTP status, a stable
//! machine-readable [`Code`], a message for people, field errors, and the
//! request's correlation id. `docs/errors.md` lists every code; a test keeps
//! [`Code::ALL`] and that page in step.

use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

macro_rules! codes {
    ($($variant:ident => ($name:literal, $status:ident),)*) => {
        /// A stable error code. Clients branch on these, never on messages.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant,
            )*
        }

        impl Code {
            /// Every code the ingress can answer with.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The code on the wire.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $name,)* }
            }

            /// The HTTP status that goes with the code.
            #[must_use]
            pub fn status(self) -> StatusCode {
                match self { $(Code::$variant => StatusCode::$status,)* }
            }
        }
    };
}

codes! {
    Unauthenticated => ("unauthenticated", UNAUTHORIZED),
    InvalidToken => ("invalid_token", UNAUTHORIZED),
    SessionRevoked => ("session_revoked", UNAUTHORIZED),
    AccountInactive => ("account_inactive", FORBIDDEN),
    InvalidCredentials => ("invalid_credentials", UNAUTHORIZED),
    RefreshTokenInvalid => ("refresh_token_invalid", UNAUTHORIZED),
    RefreshTokenReused => ("refresh_token_reused", UNAUTHORIZED),
    Forbidden => ("forbidden", FORBIDDEN),
    NotFound => ("not_found", NOT_FOUND),
    MethodNotAllowed => ("method_not_allowed", METHOD_NOT_ALLOWED),
    MalformedBody => ("malformed_body", BAD_REQUEST),
    UnsupportedMediaType => ("unsupported_media_type", UNSUPPORTED_MEDIA_TYPE),
    PayloadTooLarge => ("payload_too_large", PAYLOAD_TOO_LARGE),
    ValidationFailed => ("validation_failed", UNPROCESSABLE_ENTITY),
    UserNotFound => ("user_not_found", NOT_FOUND),
    CommandNotFound => ("command_not_found", NOT_FOUND),
    ProductNotFound => ("product_not_found", NOT_FOUND),
    WarehouseNotFound => ("warehouse_not_found", NOT_FOUND),
    TransferNotFound => ("transfer_not_found", NOT_FOUND),
    ReservationNotFound => ("reservation_not_found", NOT_FOUND),
    IdempotencyKeyReused => ("idempotency_key_reused", UNPROCESSABLE_ENTITY),
    IdempotencyKeyInFlight => ("idempotency_key_in_flight", CONFLICT),
    TooManyAttempts => ("too_many_attempts", TOO_MANY_REQUESTS),
    ServiceUnavailable => ("service_unavailable", SERVICE_UNAVAILABLE),
    Timeout => ("timeout", GATEWAY_TIMEOUT),
    Internal => ("internal", INTERNAL_SERVER_ERROR),
}

/// One field that failed validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    /// The field (JSON name, or a header name such as `Idempotency-Key`).
    pub field: String,
    /// What is wrong, machine-readable (`required`, `email`, `length`, …).
    pub code: String,
    /// What is wrong, for people.
    pub message: String,
}

/// The body of every error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// HTTP status, repeated for clients that lose it.
    pub status: u16,
    /// Stable code (see `docs/errors.md`).
    pub code: String,
    /// What happened, for people.
    pub message: String,
    /// Field errors (empty unless `validation_failed`).
    pub fields: Vec<FieldError>,
    /// The request's correlation id.
    pub correlation_id: String,
}

/// An error answer. The correlation id is filled in by the middleware that
/// knows it, so handlers only say what went wrong.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The code.
    pub code: Code,
    /// The message.
    pub message: String,
    /// Field errors.
    pub fields: Vec<FieldError>,
    /// `Retry-After` for 429 and 503.
    pub retry_after: Option<Duration>,
}

impl ApiError {
    /// An error with a code and message.
    #[must_use]
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            fields: Vec::new(),
            retry_after: None,
        }
    }

    /// `validation_failed` with one field error.
    #[must_use]
    pub fn field(field: &str, code: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self {
            code: Code::ValidationFailed,
            message: format!("{field}: {message}"),
            fields: vec![FieldError {
                field: field.to_owned(),
                code: code.to_owned(),
                message,
            }],
            retry_after: None,
        }
    }

    /// Adds `Retry-After`.
    #[must_use]
    pub fn retry_after(mut self, after: Duration) -> Self {
        self.retry_after = Some(after);
        self
    }

    /// `internal`, logging the cause (which is never shown to the client).
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(Code::Internal, "internal error")
    }

    /// `service_unavailable` with `Retry-After`, logging the cause.
    pub fn unavailable(what: &str, cause: impl std::fmt::Display) -> Self {
        tracing::warn!(error = %cause, what, "dependency unavailable");
        Self::new(
            Code::ServiceUnavailable,
            format!("{what} is unavailable; retry later"),
        )
        .retry_after(Duration::from_secs(2))
    }
}

impl From<validator::ValidationErrors> for ApiError {
    fn from(errors: validator::ValidationErrors) -> Self {
        let mut fields: Vec<FieldError> = errors
            .field_errors()
            .into_iter()
            .flat_map(|(field, list)| {
                list.iter().map(move |e| FieldError {
                    field: field.to_string(),
                    code: e.code.to_string(),
                    message: e
                        .message
                        .as_ref()
                        .map_or_else(|| format!("invalid {field}"), ToString::to_string),
                })
            })
            .collect();
        fields.sort_by(|a, b| a.field.cmp(&b.field));
        let message = fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; ");
        Self {
            code: Code::ValidationFailed,
            message,
            fields,
            retry_after: None,
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                Self::unavailable("the database", error)
            }
            // a processor has not created the tables it owns yet (the
            // ingress reports itself not ready meanwhile)
            other if khlang_runtime::schema::is_not_migrated(&other) => {
                Self::unavailable("the processors' tables", other)
            }
            other => Self::internal(other),
        }
    }
}

impl From<redis::RedisError> for ApiError {
    fn from(error: redis::RedisError) -> Self {
        Self::unavailable("redis", error)
    }
}

/// The error's code, left in the response extensions for the access log
/// and metrics.
#[derive(Debug, Clone, Copy)]
pub struct ErrorCode(pub Code);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.code.status();
        let body = ErrorBody {
            status: status.as_u16(),
            code: self.code.as_str().to_owned(),
            message: self.message,
            fields: self.fields,
            correlation_id: crate::middleware::correlation_id(),
        };
        let mut response = (status, axum::Json(body)).into_response();
        if let Some(after) = self.retry_after {
            let secs = after.as_secs().max(1).to_string();
            if let Ok(value) = HeaderValue::from_str(&secs) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response.extensions_mut().insert(ErrorCode(self.code));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            assert!(seen.insert(code.as_str()), "{} twice", code.as_str());
            assert!(code
                .as_str()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '_'));
            assert!(code.status().is_client_error() || code.status().is_server_error());
        }
    }

    #[test]
    fn every_code_is_in_the_catalogue() {
        let page = include_str!("../../docs/errors.md");
        let documented: std::collections::HashSet<&str> = page
            .lines()
            .filter_map(|line| line.strip_prefix("| `"))
            .filter_map(|rest| rest.split('`').next())
            .collect();
        for code in Code::ALL {
            assert!(
                documented.contains(code.as_str()),
                "docs/errors.md has no row for `{}`",
                code.as_str()
            );
        }
    }
}
