//! `Idempotency-Key` on writes: a step of the write path
//! ([`crate::write`]), taken after the caller was authenticated and
//! authorized and before the body is parsed.
//!
//! The first request with a key runs and its answer is stored (per
//! principal, at least 24 hours). The same key with the same method, path
//! and body gets that answer again (`Idempotent-Replayed: true`); with a
//! different request, `422 idempotency_key_reused`. A repeat that arrives
//! while the first is still running waits for it (a few seconds) and then
//! gets the same answer, or `409 idempotency_key_in_flight` if it is still
//! running. Answers of 5xx are not kept: the client may retry them.

use std::time::Duration;

use axum::body::{to_bytes, Body};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest as _, Sha256};
use sqlx::Row as _;

use crate::auth::Principal;
use crate::error::{ApiError, Code};
use crate::state::AppState;
use crate::write::{WriteBody, WriteRequest};

/// The request header.
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// The header on replayed answers.
pub const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// How long a repeat waits for the first request to finish.
const WAIT_FOR_FIRST: Duration = Duration::from_secs(5);
/// A first request older than this without an answer died with its
/// instance; a repeat may take its place. Longer than any request can run.
const ABANDONED_AFTER_SECS: f64 = 60.0;
/// Response headers worth keeping.
const KEPT_HEADERS: [&str; 2] = ["location", "content-type"];

fn key_of(value: Option<&HeaderValue>) -> Result<Option<String>, ApiError> {
    let Some(value) = value else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= 255 && k.chars().all(|c| c.is_ascii_graphic()));
    key.map(|k| Some(k.to_owned())).ok_or_else(|| {
        ApiError::field(
            "Idempotency-Key",
            "length",
            "must be 1-255 visible ASCII characters",
        )
    })
}

/// Runs `write` once per `Idempotency-Key` of `principal` (see the module
/// documentation). The write path calls it after authorization, so a
/// caller without the right to an operation never learns anything about
/// its keys.
///
/// # Errors
/// `validation_failed` for a malformed key, `payload_too_large` for a body
/// that could not be read, `service_unavailable` when the keys cannot be
/// stored, and what `write` answers when there is no key.
pub(crate) async fn once(
    state: &AppState,
    principal: &Principal,
    request: WriteRequest,
    write: impl AsyncFnOnce(WriteBody) -> Result<Response, ApiError>,
) -> Result<Response, ApiError> {
    let key = key_of(request.idempotency_key.as_ref())?;
    let Some(key) = key else {
        return write(request.body).await;
    };
    // A body that could not be read is refused by `write` as it would be
    // without a key; there is nothing to remember.
    if request.body.bytes().is_err() {
        return write(request.body).await;
    }
    let bytes = request.body.bytes()?;
    let mut hasher = Sha256::new();
    hasher.update(request.method.as_str().as_bytes());
    hasher.update([0]);
    hasher.update(request.path.as_bytes());
    hasher.update([0]);
    hasher.update(bytes);
    let hash = hasher.finalize().to_vec();

    let principal = principal.user_id.to_string();
    if !claim(state, &principal, &key, &hash).await? {
        return Ok(repeat(state, &principal, &key, &hash).await);
    }
    let response = write(request.body)
        .await
        .unwrap_or_else(IntoResponse::into_response);
    Ok(remember(state, &principal, &key, response).await)
}

/// Claims the key; false when another request holds it.
async fn claim(
    state: &AppState,
    principal: &str,
    key: &str,
    hash: &[u8],
) -> Result<bool, ApiError> {
    let inserted = sqlx::query(
        "INSERT INTO ingress.idempotency_keys (principal, idempotency_key, request_hash) \
         VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(principal)
    .bind(key)
    .bind(hash)
    .execute(&state.pool)
    .await?
    .rows_affected();
    if inserted == 1 {
        return Ok(true);
    }
    // take over a claim whose request died with its instance
    let taken = sqlx::query(
        "UPDATE ingress.idempotency_keys SET created_at = now(), request_hash = $3 \
         WHERE principal = $1 AND idempotency_key = $2 AND response_status IS NULL \
         AND request_hash = $3 AND created_at < now() - make_interval(secs => $4)",
    )
    .bind(principal)
    .bind(key)
    .bind(hash)
    .bind(ABANDONED_AFTER_SECS)
    .execute(&state.pool)
    .await?
    .rows_affected();
    Ok(taken == 1)
}

async fn repeat(state: &AppState, principal: &str, key: &str, hash: &[u8]) -> Response {
    let deadline = tokio::time::Instant::now() + WAIT_FOR_FIRST;
    let mut pause = Duration::from_millis(10);
    loop {
        let row = sqlx::query(
            "SELECT request_hash, response_status, response_headers, response_body \
             FROM ingress.idempotency_keys WHERE principal = $1 AND idempotency_key = $2",
        )
        .bind(principal)
        .bind(key)
        .fetch_optional(&state.pool)
        .await;
        let row = match row {
            Ok(Some(row)) => row,
            // the first request failed with 5xx and let the key go: this
            // repeat is told to retry rather than run concurrently with a
            // third one
            Ok(None) => {
                return ApiError::new(
                    Code::IdempotencyKeyInFlight,
                    "a request with this Idempotency-Key just failed; retry",
                )
                .into_response()
            }
            Err(error) => return ApiError::from(error).into_response(),
        };
        let stored_hash: Vec<u8> = row.try_get("request_hash").unwrap_or_default();
        if stored_hash != hash {
            return ApiError::new(
                Code::IdempotencyKeyReused,
                "this Idempotency-Key was used for a different request",
            )
            .into_response();
        }
        if let Ok(Some(status)) = row.try_get::<Option<i32>, _>("response_status") {
            return replay(&row, status);
        }
        if tokio::time::Instant::now() >= deadline {
            return ApiError::new(
                Code::IdempotencyKeyInFlight,
                "the first request with this Idempotency-Key is still running",
            )
            .retry_after(Duration::from_secs(1))
            .into_response();
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(200));
    }
}

fn replay(row: &sqlx::postgres::PgRow, status: i32) -> Response {
    let body: Vec<u8> = row.try_get("response_body").unwrap_or_default();
    let headers: serde_json::Value = row
        .try_get::<Option<serde_json::Value>, _>("response_headers")
        .ok()
        .flatten()
        .unwrap_or_default();
    let status = u16::try_from(status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    if let Some(map) = headers.as_object() {
        for (name, value) in map {
            if let (Ok(name), Some(Ok(value))) = (
                HeaderName::try_from(name.as_str()),
                value.as_str().map(HeaderValue::from_str),
            ) {
                response.headers_mut().insert(name, value);
            }
        }
    }
    response
        .headers_mut()
        .insert(REPLAYED, HeaderValue::from_static("true"));
    response
}

async fn remember(state: &AppState, principal: &str, key: &str, response: Response) -> Response {
    let status = response.status();
    let forget = status.is_server_error();
    if forget {
        if let Err(error) = sqlx::query(
            "DELETE FROM ingress.idempotency_keys WHERE principal = $1 AND idempotency_key = $2",
        )
        .bind(principal)
        .bind(key)
        .execute(&state.pool)
        .await
        {
            tracing::warn!(%error, "idempotency key not released");
        }
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, 1024 * 1024).await else {
        return ApiError::internal("response body unreadable").into_response();
    };
    let headers: serde_json::Map<String, serde_json::Value> = KEPT_HEADERS
        .iter()
        .filter_map(|name| {
            parts
                .headers
                .get(*name)
                .and_then(|v| v.to_str().ok())
                .map(|v| ((*name).to_owned(), serde_json::Value::from(v)))
        })
        .collect();
    let kept = redact(&bytes);
    let stored = sqlx::query(
        "UPDATE ingress.idempotency_keys SET response_status = $3, response_headers = $4, \
         response_body = $5 WHERE principal = $1 AND idempotency_key = $2",
    )
    .bind(principal)
    .bind(key)
    .bind(i32::from(status.as_u16()))
    .bind(serde_json::Value::Object(headers))
    .bind(kept)
    .execute(&state.pool)
    .await;
    if let Err(error) = stored {
        // The command is on Kafka already; a repeat will wait and then be
        // told the key is in flight rather than publish a second command.
        tracing::error!(%error, "idempotent answer not stored");
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The body to keep: secrets shown once (a service account's
/// `client_secret`) are not kept, so a replay answers without them.
fn redact(body: &[u8]) -> Vec<u8> {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(mut map)) if map.contains_key("client_secret") => {
            map.remove("client_secret");
            serde_json::to_vec(&map).unwrap_or_default()
        }
        _ => body.to_vec(),
    }
}

/// Deletes keys older than `keep` (at least 24 hours), every `every`.
pub async fn prune(state: AppState, keep: Duration, every: Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        let done = sqlx::query(
            "DELETE FROM ingress.idempotency_keys WHERE created_at < now() - make_interval(secs => $1)",
        )
        .bind(keep.as_secs_f64())
        .execute(&state.pool)
        .await;
        match done {
            Ok(done) if done.rows_affected() > 0 => {
                tracing::info!(deleted = done.rows_affected(), "idempotency keys pruned");
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "idempotency keys not pruned"),
        }
    }
}
