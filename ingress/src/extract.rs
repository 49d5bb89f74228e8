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
use crate::error::{ApiError, Code, FieldError};
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
/// A whole number written with a fraction of zero (`716.0`, `7.16e2`) is
/// taken as the integer it is, as JSON Schema does (`type: integer` holds
/// every number whose fraction is zero), so generated clients and languages
/// without an integer type (JavaScript) are understood. A wrong type is
/// refused with the field's path in `fields`.
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
    let value: T = from_json_slice(bytes)?;
    value.validate()?;
    Ok(value)
}

/// For the optional fields of a PATCH body: a field left out is `None`
/// (unchanged), an explicit `null` is refused as the wrong type (the OpenAPI
/// document says these fields are not nullable), so that a client never
/// learns that the server read `null` as "unchanged". Use with
/// `#[serde(default, deserialize_with = "crate::extract::present")]`.
///
/// # Errors
/// The field's own deserialization error, for `null` too.
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// Deserializes JSON text, with whole numbers written as `716.0` taken as
/// integers and errors that name the field (see [`parse_json`]); used for
/// request bodies and for each line of an NDJSON batch.
///
/// # Errors
/// `malformed_body` (or `validation_failed` with `required` for a missing
/// field), naming the field.
pub fn from_json_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut json = serde_json::Deserializer::from_slice(bytes);
    let error = match serde_path_to_error::deserialize(&mut json) {
        // nothing but whitespace may follow the value, as serde_json::from_slice
        Ok(value) => return json.end().map(|()| value).map_err(|e| body_error(".", &e)),
        Err(error) => error,
    };
    // Only a float where an integer belongs costs the second pass: the
    // common case stays one parse.
    if error
        .inner()
        .to_string()
        .starts_with("invalid type: floating point")
    {
        if let Ok(mut json) = serde_json::from_slice::<serde_json::Value>(bytes) {
            whole_numbers_as_integers(&mut json);
            return serde_path_to_error::deserialize(json)
                .map_err(|e| body_error(&e.path().to_string(), e.inner()));
        }
    }
    Err(body_error(&error.path().to_string(), error.inner()))
}

/// The answer for a body serde refused, naming the field at `path`.
fn body_error(path: &str, error: &serde_json::Error) -> ApiError {
    let text = error.to_string();
    // serde names the missing field, relative to the object it is missing
    // from; keep it machine-readable too
    if let Some(field) = text
        .strip_prefix("missing field `")
        .and_then(|r| r.split('`').next())
    {
        let field = if path.is_empty() || path == "." {
            field.to_owned()
        } else {
            format!("{path}.{field}")
        };
        return ApiError::field(&field, "required", "is required");
    }
    let located = path != "." && !path.is_empty();
    if text.starts_with("invalid type: floating point") && located {
        let mut error = ApiError::new(
            Code::MalformedBody,
            format!("{path}: must be a whole number (no fraction): {text}"),
        );
        error.fields.push(FieldError {
            field: path.to_owned(),
            code: "integer".into(),
            message: "must be a whole number".into(),
        });
        return error;
    }
    let mut answer = ApiError::new(Code::MalformedBody, format!("body is not valid: {text}"));
    if located && error.is_data() {
        answer.message = format!("body is not valid: {path}: {text}");
        let code = if text.starts_with("unknown field") {
            "unknown"
        } else if text.starts_with("invalid type") {
            "type"
        } else {
            "value"
        };
        answer.fields.push(FieldError {
            field: path.to_owned(),
            code: code.into(),
            message: text,
        });
    }
    answer
}

/// Rewrites every number with a zero fraction that an `f64` holds exactly
/// as an integer (beyond 2^53 a float is not an exact whole number).
fn whole_numbers_as_integers(json: &mut serde_json::Value) {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    match json {
        serde_json::Value::Number(number) if number.is_f64() => {
            if let Some(float) = number.as_f64() {
                if float.fract() == 0.0 && float.abs() <= EXACT {
                    #[allow(clippy::cast_possible_truncation)]
                    let whole = float as i64;
                    *number = serde_json::Number::from(whole);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(whole_numbers_as_integers),
        serde_json::Value::Object(fields) => {
            fields.values_mut().for_each(whole_numbers_as_integers)
        }
        _ => {}
    }
}

/// True if the request's `Content-Type` is one of `accepted` (or, with
/// `json_suffix`, any `+json` type). Media types are case-insensitive
/// (RFC 9110 §8.3.1): `Application/JSON; charset=utf-8` is
/// `application/json`.
#[must_use]
pub fn content_type_is(headers: &HeaderMap, accepted: &[&str], json_suffix: bool) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            let mime = v
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            accepted.iter().any(|a| mime.eq_ignore_ascii_case(a))
                || (json_suffix && mime.ends_with("+json"))
        })
}

/// `unsupported_media_type` unless the body is sent as JSON.
///
/// # Errors
/// `unsupported_media_type`.
pub fn require_json(headers: &HeaderMap) -> Result<(), ApiError> {
    let json = content_type_is(headers, &["application/json"], true);
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use axum::http::HeaderValue;
    use serde::Deserialize;
    use validator::Validate;

    use super::*;

    #[derive(Debug, Deserialize, Validate)]
    #[serde(deny_unknown_fields)]
    struct Line {
        quantity: u32,
        delta: i64,
    }

    #[derive(Debug, Deserialize, Validate)]
    struct Order {
        lines: Vec<Line>,
        note: Option<String>,
    }

    #[test]
    fn whole_numbers_with_a_zero_fraction_are_integers() {
        let order: Order = parse_json(
            br#"{"lines":[{"quantity":716.0,"delta":-3.0},{"quantity":7.16e2,"delta":0}]}"#,
        )
        .unwrap();
        assert_eq!(order.lines[0].quantity, 716);
        assert_eq!(order.lines[0].delta, -3);
        assert_eq!(order.lines[1].quantity, 716);
        assert!(order.note.is_none());
    }

    #[test]
    fn a_fraction_where_an_integer_belongs_names_the_field() {
        let error = parse_json::<Order>(
            br#"{"lines":[{"quantity":1,"delta":0},{"quantity":716.5,"delta":0}]}"#,
        )
        .unwrap_err();
        assert_eq!(error.code, Code::MalformedBody);
        assert_eq!(error.fields[0].field, "lines[1].quantity");
        assert_eq!(error.fields[0].code, "integer");
        assert!(
            error.message.contains("lines[1].quantity"),
            "{}",
            error.message
        );
        // beyond 2^53 a float is no exact whole number
        let error =
            parse_json::<Order>(br#"{"lines":[{"quantity":1,"delta":1e300}]}"#).unwrap_err();
        assert_eq!(error.fields[0].field, "lines[0].delta");
    }

    #[test]
    fn other_body_errors_keep_their_codes_and_name_the_field() {
        let error =
            parse_json::<Order>(br#"{"lines":[{"quantity":"many","delta":0}]}"#).unwrap_err();
        assert_eq!(error.code, Code::MalformedBody);
        assert_eq!(error.fields[0].field, "lines[0].quantity");
        assert_eq!(error.fields[0].code, "type");
        let error = parse_json::<Order>(br#"{"lines":[{"quantity":1}]}"#).unwrap_err();
        assert_eq!(error.code, Code::ValidationFailed);
        assert_eq!(error.fields[0].field, "lines[0].delta");
        assert_eq!(error.fields[0].code, "required");
        let error = parse_json::<Line>(br#"{"delta":1}"#).unwrap_err();
        assert_eq!(error.fields[0].field, "quantity");
        let error = parse_json::<Line>(br#"{"quantity":1,"delta":1,"extra":2}"#).unwrap_err();
        assert_eq!(error.code, Code::MalformedBody);
        let error = parse_json::<Line>(br#"{"quantity":1,"delta":1} trailing"#).unwrap_err();
        assert_eq!(error.code, Code::MalformedBody);
        let error = parse_json::<Line>(b"{not json").unwrap_err();
        assert_eq!(error.code, Code::MalformedBody);
        assert!(error.fields.is_empty());
    }

    #[test]
    fn media_types_are_case_insensitive() {
        let mut headers = HeaderMap::new();
        for (value, json) in [
            ("application/json", true),
            ("Application/JSON", true),
            ("APPLICATION/JSON; charset=utf-8", true),
            ("application/merge-patch+JSON", true),
            ("text/json", false),
            ("application/jsonx", false),
        ] {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(value));
            assert_eq!(
                content_type_is(&headers, &["application/json"], true),
                json,
                "{value}"
            );
        }
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("Application/X-NDJSON"),
        );
        assert!(content_type_is(&headers, &["application/x-ndjson"], false));
        headers.remove(header::CONTENT_TYPE);
        assert!(!content_type_is(&headers, &["application/json"], true));
    }

    #[derive(Debug, Deserialize, Validate)]
    #[serde(deny_unknown_fields)]
    struct Patch {
        #[serde(default, deserialize_with = "present")]
        unit: Option<String>,
    }

    #[test]
    fn a_patch_field_may_be_left_out_but_not_null() {
        let patch: Patch = parse_json(br#"{}"#).unwrap();
        assert!(patch.unit.is_none());
        let patch: Patch = parse_json(br#"{"unit":"box"}"#).unwrap();
        assert_eq!(patch.unit.as_deref(), Some("box"));
        let error = parse_json::<Patch>(br#"{"unit":null}"#).unwrap_err();
        assert_eq!(error.code, Code::MalformedBody);
        assert_eq!(error.fields[0].field, "unit");
        assert_eq!(error.fields[0].code, "type");
    }
}
