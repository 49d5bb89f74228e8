//! `/metrics`, `/health/live` and `/health/ready`.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Readiness of a component, shared between its workers and `/health/ready`.
#[derive(Debug, Clone, Default)]
pub struct Health {
    ready: Arc<AtomicBool>,
    /// Why the component is not ready, when it says (shown by
    /// `/health/ready`).
    reason: Arc<Mutex<Option<String>>>,
}

impl Health {
    /// Marks the component ready (or not) to do its work.
    pub fn set_ready(&self, ready: bool) {
        if ready {
            self.set_reason(None);
        }
        self.ready.store(ready, Ordering::Release);
    }

    /// Marks the component not ready, saying why (`/health/ready` answers
    /// 503 with `not ready: {reason}`).
    pub fn set_not_ready(&self, reason: impl Into<String>) {
        self.set_reason(Some(reason.into()));
        self.ready.store(false, Ordering::Release);
    }

    /// Whether the component is ready.
    #[must_use]
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// Why the component is not ready, if it said.
    #[must_use]
    pub fn reason(&self) -> Option<String> {
        self.reason.lock().ok().and_then(|r| r.clone())
    }

    fn set_reason(&self, reason: Option<String>) {
        if let Ok(mut current) = self.reason.lock() {
            *current = reason;
        }
    }
}

#[derive(Clone)]
struct AppState {
    registry: Arc<Mutex<Registry>>,
    health: Health,
}

/// Serves the operational endpoints on `addr` (port 0 picks a free port).
/// Returns the bound address and the server task.
///
/// # Errors
/// When `addr` cannot be bound.
pub async fn serve(
    addr: SocketAddr,
    registry: Arc<Mutex<Registry>>,
    health: Health,
) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let app = Router::new()
        .route("/metrics", get(metrics))
        .route("/health/live", get(|| async { "ok" }))
        .route("/health/ready", get(ready))
        .with_state(AppState { registry, health });
    let task = tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, "telemetry server stopped");
        }
    });
    Ok((bound, task))
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let mut body = String::new();
    let encoded = match state.registry.lock() {
        Ok(registry) => prometheus_client::encoding::text::encode(&mut body, &registry).is_ok(),
        Err(_) => false,
    };
    if encoded {
        (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            body,
        )
    } else {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "text/plain")],
            String::new(),
        )
    }
}

async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    if state.health.is_ready() {
        (StatusCode::OK, "ready".to_owned())
    } else {
        match state.health.reason() {
            Some(reason) => (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("not ready: {reason}"),
            ),
            None => (StatusCode::SERVICE_UNAVAILABLE, "not ready".to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Health;

    #[test]
    fn a_reason_lasts_until_ready() {
        let health = Health::default();
        assert!(!health.is_ready());
        assert_eq!(health.reason(), None);
        health.set_not_ready("waiting for the users tables");
        assert!(!health.is_ready());
        assert_eq!(
            health.reason().as_deref(),
            Some("waiting for the users tables")
        );
        health.set_ready(true);
        assert!(health.is_ready());
        assert_eq!(health.reason(), None);
    }
}
