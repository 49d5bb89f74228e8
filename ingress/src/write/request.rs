//! The request side of a write: [`WriteRequest`] takes the request as it
//! arrived (its body read, nothing looked at), and [`WriteBody`] parses
//! the body once the caller was authorized.

use std::convert::Infallible;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, HeaderValue, Method};
use serde::de::DeserializeOwned;
use validator::Validate;

use crate::error::ApiError;
use crate::extract::{body_bytes, parse_json, require_json};
use crate::idempotency::IDEMPOTENCY_KEY;

/// A write request as it arrived, not looked at yet: its body is read (so
/// the connection stays usable whatever the answer) but parsed only after
/// the caller was authorized.
#[derive(Debug)]
pub struct WriteRequest {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) idempotency_key: Option<HeaderValue>,
    pub(crate) body: WriteBody,
}

impl<S: Send + Sync> FromRequest<S> for WriteRequest {
    type Rejection = Infallible;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let method = request.method().clone();
        let path = request.uri().path().to_owned();
        let headers = request.headers().clone();
        let idempotency_key = headers.get(&IDEMPOTENCY_KEY).cloned();
        let bytes = body_bytes(request, state).await;
        Ok(Self {
            method,
            path,
            idempotency_key,
            body: WriteBody { headers, bytes },
        })
    }
}

/// The body of a write, with the headers that say how to read it.
#[derive(Debug)]
pub struct WriteBody {
    headers: HeaderMap,
    bytes: Result<Bytes, ApiError>,
}

impl WriteBody {
    /// The body as JSON, parsed and validated.
    ///
    /// # Errors
    /// `unsupported_media_type` unless it is sent as JSON,
    /// `payload_too_large` or `malformed_body` when it could not be read,
    /// then as [`parse_json`].
    pub fn json<T: DeserializeOwned + Validate>(&self) -> Result<T, ApiError> {
        require_json(&self.headers)?;
        parse_json(self.bytes()?)
    }

    /// The raw body.
    ///
    /// # Errors
    /// `payload_too_large` or `malformed_body` when it could not be read.
    pub fn bytes(&self) -> Result<&Bytes, ApiError> {
        self.bytes.as_ref().map_err(Clone::clone)
    }

    /// The request's `Content-Type`, if it is text.
    #[must_use]
    pub fn content_type(&self) -> Option<&str> {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
    }
}
