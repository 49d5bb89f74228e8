//! Request middleware, outermost first: keep-alive after early answers,
//! correlation id (and the request's log span), access history and
//! metrics, timeout, authentication.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{header, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::{Frame, SizeHint};
use khlang_contract::AccessRecord;
use tracing::Instrument as _;
use uuid::Uuid;

use crate::auth::Principal;
use crate::error::{ApiError, Code, ErrorCode};
use crate::metrics::{RequestLabels, RouteLabels};
use crate::state::AppState;

/// The correlation id header, accepted and returned.
pub const CORRELATION_HEADER: HeaderName = HeaderName::from_static("x-correlation-id");

tokio::task_local! {
    static CORRELATION: String;
}

/// The current request's correlation id (empty outside a request).
#[must_use]
pub fn correlation_id() -> String {
    CORRELATION.try_with(Clone::clone).unwrap_or_default()
}

/// The outcome of authentication, left in the request for handlers.
#[derive(Debug, Clone)]
pub enum Authn {
    /// No `Authorization` header.
    Anonymous,
    /// A valid token.
    Authenticated(Principal),
    /// A header that did not authenticate.
    Failed(ApiError),
}

/// The command a write request produced, left in the response for the
/// access log.
#[derive(Debug, Clone)]
pub struct CommandIdExt(pub String);

fn valid_correlation(value: &HeaderValue) -> Option<String> {
    let text = value.to_str().ok()?;
    (!text.is_empty()
        && text.len() <= 128
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':')))
    .then(|| text.to_owned())
}

/// The client address: the peer, or the first `X-Forwarded-For` hop when
/// configured to trust it.
fn client_address(state: &AppState, request: &Request) -> String {
    if state.config.auth.trust_forwarded_for {
        if let Some(first) = request
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
        {
            return first.trim().to_owned();
        }
    }
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string())
}

/// The client address of the request (set by [`observe`]).
#[derive(Debug, Clone)]
pub struct ClientAddress(pub String);

/// Correlation id, log span, access record and metrics of every request.
pub async fn observe(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let occurred_at = khlang_contract::envelope::now_micros();
    let correlation = request
        .headers()
        .get(&CORRELATION_HEADER)
        .and_then(valid_correlation)
        .unwrap_or_else(|| Uuid::now_v7().to_string());
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let address = client_address(&state, &request);
    let user_agent = request
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(256).collect::<String>());
    request
        .extensions_mut()
        .insert(ClientAddress(address.clone()));
    let span = tracing::info_span!("request", correlation_id = %correlation, %method, %route);
    let mut response = CORRELATION
        .scope(correlation.clone(), next.run(request))
        .instrument(span.clone())
        .await;
    let latency = started.elapsed();
    let status = response.status().as_u16();
    if let Ok(value) = HeaderValue::from_str(&correlation) {
        response.headers_mut().insert(CORRELATION_HEADER, value);
    }
    state
        .metrics
        .requests
        .get_or_create(&RequestLabels {
            route: route.clone(),
            method: method.clone(),
            status,
        })
        .inc();
    state
        .metrics
        .request_seconds
        .get_or_create(&RouteLabels {
            route: route.clone(),
        })
        .observe(latency.as_secs_f64());
    let principal = response.extensions().get::<Principal>();
    let record = AccessRecord {
        request_id: Uuid::now_v7().to_string(),
        occurred_at,
        correlation_id: correlation,
        actor_id: principal.map(|p| p.user_id.to_string()),
        actor_kind: principal.map(|p| crate::auth::tokens::kind_label(p.kind).to_owned()),
        role: principal.map(|p| p.role.as_str().to_owned()),
        method,
        route,
        command_id: response
            .extensions()
            .get::<CommandIdExt>()
            .map(|c| c.0.clone()),
        client_address: address,
        user_agent,
        status: i32::from(status),
        error_code: response
            .extensions()
            .get::<ErrorCode>()
            .map(|c| c.0.as_str().to_owned()),
        latency_us: i64::try_from(latency.as_micros()).unwrap_or(i64::MAX),
    };
    span.in_scope(|| {
        tracing::info!(
            status,
            latency_ms = latency.as_secs_f64() * 1000.0,
            "request answered"
        );
    });
    state.bus.record_access(record);
    response
}

/// Refuses NUL characters in the path or query (`%00`): no text column
/// can store them, and no id or filter contains them.
fn has_nul(request: &Request) -> bool {
    let uri = request.uri();
    let contains = |text: &str| text.to_ascii_lowercase().contains("%00");
    contains(uri.path()) || uri.query().is_some_and(contains)
}

/// Bounds the time a request may take.
pub async fn timeout(State(state): State<AppState>, request: Request, next: Next) -> Response {
    // Load shedding: a request that cannot start now is refused now.
    let Ok(_permit) = state.in_flight.clone().try_acquire_owned() else {
        return ApiError::new(
            Code::ServiceUnavailable,
            "the ingress is at capacity; retry",
        )
        .retry_after(Duration::from_secs(1))
        .into_response();
    };
    if has_nul(&request) {
        return ApiError::new(
            Code::ValidationFailed,
            "NUL characters are not allowed in paths or query strings",
        )
        .into_response();
    }
    let limit = Duration::from_millis(state.config.http.request_timeout_ms);
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(Code::Timeout, "the request took too long").into_response(),
    }
}

/// Verifies a bearer token if there is one; handlers decide whether they
/// need it (see the [`Principal`] extractor). The principal is copied into
/// the response for the access log.
pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let authn = match request.headers().get(header::AUTHORIZATION) {
        None => Authn::Anonymous,
        Some(value) => authenticate_header(&state, value).await,
    };
    let principal = match &authn {
        Authn::Authenticated(p) => Some(p.clone()),
        _ => None,
    };
    request.extensions_mut().insert(authn);
    let mut response = next.run(request).await;
    if let Some(principal) = principal {
        response.extensions_mut().insert(principal);
    }
    response
}

async fn authenticate_header(state: &AppState, value: &HeaderValue) -> Authn {
    let token = value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let Some(token) = token else {
        state.metrics.auth_failed("malformed_header");
        return Authn::Failed(ApiError::new(
            Code::InvalidToken,
            "Authorization must be 'Bearer <access token>'",
        ));
    };
    let principal = match state.tokens.verify(token) {
        Ok(principal) => principal,
        Err(rejection) => {
            state.metrics.auth_failed(rejection.as_str());
            tracing::info!(reason = rejection.as_str(), "access token refused");
            return Authn::Failed(ApiError::new(
                Code::InvalidToken,
                "the access token is not valid",
            ));
        }
    };
    match state
        .sessions
        .check(principal.session_id, principal.user_id)
        .await
    {
        Ok(()) => Authn::Authenticated(principal),
        Err(error) => {
            state.metrics.auth_failed(error.code.as_str());
            Authn::Failed(error)
        }
    }
}

/// Security headers on every response.
pub async fn security_headers(request: Request, next: Next) -> Response<Body> {
    let path = request.uri().path();
    let docs = path == "/docs" || path.starts_with("/docs/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000; includeSubDomains"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        if docs {
            HeaderValue::from_static(
                // Swagger UI: its scripts and styles from here (it sets
                // inline styles), SVG icons as data: URLs, and "Try it out"
                // calls to this same server
                "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                 img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
            )
        } else {
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'")
        },
    );
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// How long the server keeps reading an unread request body after it has
/// its answer (see [`keep_alive`]) before it gives up and closes instead.
const DRAIN_WITHIN: Duration = Duration::from_secs(5);

/// Keeps a keep-alive connection usable after an early answer.
///
/// A handler may answer before it reads the body (401 before the body is
/// looked at, 415 on the content type, 413 on `Content-Length`). hyper then
/// closes the connection once the answer is written, because the unread
/// body would be taken for the next request, and a pooled client that
/// reuses the connection loses its next request ("connection closed without
/// response"). So the body the handler left is read and discarded before
/// the answer goes out, up to `http.body_limit_bytes` and [`DRAIN_WITHIN`];
/// a body larger than that, or one that does not arrive, gets the answer
/// with `Connection: close`, so the client knows not to reuse it.
pub async fn keep_alive(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let shared = Arc::new(std::sync::Mutex::new(Some(body)));
    let request = Request::from_parts(parts, Body::new(SharedBody(shared.clone())));
    let mut response = next.run(request).await;
    // whatever the handler did not read (None: it read to the end)
    let rest = shared.lock().map(|mut body| body.take()).unwrap_or(None);
    if let Some(rest) = rest {
        if !drain(rest, state.config.http.body_limit_bytes).await {
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
    }
    response
}

/// Reads and discards `body` up to `budget` bytes; true if it ended.
async fn drain(mut body: Body, budget: usize) -> bool {
    if body.is_end_stream() {
        return true;
    }
    let budget = u64::try_from(budget).unwrap_or(u64::MAX);
    if body.size_hint().lower() > budget {
        return false;
    }
    let read_all = async {
        let mut read = 0u64;
        while let Some(frame) =
            std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await
        {
            let Ok(frame) = frame else {
                return false;
            };
            if let Some(data) = frame.data_ref() {
                read = read.saturating_add(u64::try_from(data.len()).unwrap_or(u64::MAX));
                if read > budget {
                    return false;
                }
            }
        }
        true
    };
    tokio::time::timeout(DRAIN_WITHIN, read_all)
        .await
        .unwrap_or(false)
}

/// The request body as the handler sees it, with what it leaves unread
/// still reachable by [`keep_alive`]. At the end of the stream the body is
/// taken out, which is how `keep_alive` knows it was read to the end.
struct SharedBody(Arc<std::sync::Mutex<Option<Body>>>);

impl HttpBody for SharedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let Ok(mut slot) = self.0.lock() else {
            return std::task::Poll::Ready(Some(Err(axum::Error::new(
                "request body lock poisoned",
            ))));
        };
        let Some(body) = slot.as_mut() else {
            return std::task::Poll::Ready(None);
        };
        let polled = std::pin::Pin::new(body).poll_frame(cx);
        if let std::task::Poll::Ready(None) = polled {
            *slot = None;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.0
            .lock()
            .map(|slot| slot.as_ref().is_none_or(HttpBody::is_end_stream))
            .unwrap_or(true)
    }

    fn size_hint(&self) -> SizeHint {
        self.0
            .lock()
            .ok()
            .and_then(|slot| slot.as_ref().map(HttpBody::size_hint))
            .unwrap_or_else(|| SizeHint::with_exact(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(sizes: &[usize]) -> Body {
        let frames: Vec<Result<Bytes, std::io::Error>> = sizes
            .iter()
            .map(|n| Ok(Bytes::from(vec![b'x'; *n])))
            .collect();
        Body::from_stream(futures::stream::iter(frames))
    }

    #[tokio::test]
    async fn a_body_within_the_budget_is_drained() {
        assert!(drain(Body::empty(), 10).await);
        assert!(drain(chunks(&[4, 4, 2]), 10).await);
    }

    #[tokio::test]
    async fn a_body_beyond_the_budget_is_not() {
        assert!(!drain(chunks(&[4, 4, 4]), 10).await);
        assert!(!drain(Body::from(vec![0u8; 11]), 10).await, "known length");
    }

    #[tokio::test]
    async fn the_shared_body_is_taken_out_once_read_to_the_end() {
        let shared = Arc::new(std::sync::Mutex::new(Some(chunks(&[3, 3]))));
        let body = Body::new(SharedBody(shared.clone()));
        let bytes = axum::body::to_bytes(body, 100).await.unwrap_or_default();
        assert_eq!(bytes.len(), 6);
        assert!(shared.lock().map(|b| b.is_none()).unwrap_or(false));
        // not read at all: still there for keep_alive to drain
        let shared = Arc::new(std::sync::Mutex::new(Some(chunks(&[3]))));
        drop(Body::new(SharedBody(shared.clone())));
        assert!(shared.lock().map(|b| b.is_some()).unwrap_or(false));
    }
}
