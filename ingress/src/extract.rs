//! Extractors: the authenticated principal, JSON bodies and query
//! parameters validated at the edge with every failure in the one error
//! shape. Write bodies are read by [`crate::write::WriteRequest`].

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
use validator::Validate;

use crate::auth::Principal;
use crate::error::{ApiError, Code};
use crate::middleware::Authn;
use crate::scopes::Scope;

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Authn>() {
            Some(Authn::Authenticated(principal)) => Ok(principal.clone()),
            Some(Authn::Failed(error)) => Err(error.clone()),
            Some(Authn::Anonymous) | None => Err(ApiError::new(
                Code::Unauthenticated,
                "sign in first: send 'Authorization: Bearer <access token>'",
            )),
        }
    }
}

impl Principal {
    /// `forbidden` unless the token holds `scope`.
    ///
    /// # Errors
    /// `forbidden`.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.has(scope) {
            Ok(())
        } else {
            Err(ApiError::new(
                Code::Forbidden,
                format!("this needs the {scope} scope"),
            ))
        }
    }
}

/// A JSON body, parsed and validated.
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

/// Parses and validates a JSON body from bytes.
///
/// # Errors
/// `malformed_body` for bad JSON or wrong types, `validation_failed` for
/// values the rules refuse.
pub fn parse_json<T: DeserializeOwned + Validate>(bytes: &[u8]) -> Result<T, ApiError> {
    // a JSON string may spell NUL as \u0000, which no text column stores
    if bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000")) {
        return Err(ApiError::new(
            Code::ValidationFailed,
            "NUL characters are not allowed in text",
        ));
    }
    let value: T = serde_json::from_slice(bytes).map_err(|e| {
        let mut error = ApiError::new(Code::MalformedBody, format!("body is not valid: {e}"));
        // serde names the missing field; keep it machine-readable too
        if let Some(field) = e
            .to_string()
            .strip_prefix("missing field `")
            .and_then(|r| r.split('`').next())
        {
            error = ApiError::field(field, "required", "is required");
        }
        error
    })?;
    value.validate()?;
    Ok(value)
}

/// `unsupported_media_type` unless the body is sent as JSON.
///
/// # Errors
/// `unsupported_media_type`.
pub fn require_json(headers: &HeaderMap) -> Result<(), ApiError> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            let mime = v.split(';').next().unwrap_or("").trim();
            mime == "application/json" || mime.ends_with("+json")
        });
    if json {
        Ok(())
    } else {
        Err(ApiError::new(
            Code::UnsupportedMediaType,
            "send the body as application/json",
        ))
    }
}

/// Reads the whole body, within the route's body limit.
///
/// # Errors
/// `payload_too_large` beyond the limit, `malformed_body` when it cannot
/// be read.
pub async fn body_bytes<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(request, state)
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(Code::PayloadTooLarge, "the body is too large")
            } else {
                ApiError::new(Code::MalformedBody, "the body could not be read")
            }
        })
}

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Validate,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        require_json(request.headers())?;
        let bytes = body_bytes(request, state).await?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// Query parameters not parsed yet, so that a handler authorises before it
/// looks at them (a caller without the right gets 403, not 422).
#[derive(Debug, Clone)]
pub struct LaterQuery(Option<String>);

impl LaterQuery {
    /// Parses and validates the query parameters.
    ///
    /// # Errors
    /// `validation_failed` for unknown parameters or values the rules
    /// refuse.
    pub fn parse<T: DeserializeOwned + Validate>(&self) -> Result<T, ApiError> {
        let value: T = serde_urlencoded_from_str(self.0.as_deref().unwrap_or_default())?;
        value.validate()?;
        Ok(value)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for LaterQuery {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.uri.query().map(str::to_owned)))
    }
}

fn serde_urlencoded_from_str<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    axum::extract::Query::<T>::try_from_uri(
        &format!("/?{query}")
            .parse()
            .map_err(|_| ApiError::new(Code::ValidationFailed, "the query string is not valid"))?,
    )
    .map(|q| q.0)
    .map_err(|e| {
        let text = e.body_text();
        ApiError::new(
            Code::ValidationFailed,
            format!("the query string is not valid: {text}"),
        )
    })
}
