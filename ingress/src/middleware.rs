//! Request middleware, outermost first: correlation id (and the request's
//! log span), access history and metrics, timeout, authentication.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{header, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
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
