//! The khlang ingress: the authenticated REST front door.
//!
//! It authenticates (EdDSA access tokens, rotating refresh tokens),
//! authorises (roles and scopes), validates, and turns each write into an
//! Avro command on Kafka, answering `202 Accepted` once Kafka has
//! acknowledged it. Reads come from the state the processors materialise.
//! It never writes domain state itself; its own tables hold sessions,
//! idempotency keys and which commands it published for whom. Every request
//! leaves an access record on `khlang.access.log`.
//!
//! It reads the processors' tables only through their read APIs
//! (`khlang_users::read`, `khlang_catalog::read`, `khlang_stock::read`,
//! `khlang_runtime::read`) and never creates them: until they exist it is
//! not ready (see [`readiness`]).

pub mod access;
pub mod auth;
pub mod bus;
pub mod command_log;
pub mod config;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod outcome_signal;
pub mod readiness;
pub mod routes;
pub mod scopes;
pub mod state;
pub mod write;

mod bootstrap;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method};
use axum::response::IntoResponse as _;
use axum::routing::get;
use axum::Router;
use khlang_contract::topics::{
    ACCESS_LOG, ACCESS_RECORD_SUBJECT, CATALOG_COMMANDS, CATALOG_COMMAND_SUBJECT, USERS_COMMANDS,
    USER_COMMAND_SUBJECT,
};
use khlang_telemetry::Health;
use sqlx::postgres::PgPoolOptions;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tower_http::cors::{AllowOrigin, CorsLayer};

pub use config::Config;

use crate::auth::{KeySet, Sessions, Throttle, Tokens};
use crate::bus::Bus;
use crate::command_log::CommandLog;
use crate::error::{ApiError, Code};
use crate::metrics::Metrics;
use crate::outcome_signal::OutcomeSignal;
use crate::state::{AppState, Shared, Topics};

/// Builds the router over `state`.
pub fn router(state: AppState) -> Router {
    let cors = cors(&state.config.http.cors_origins);
    Router::new()
        .merge(routes::auth::routes())
        .merge(routes::users::routes())
        .merge(routes::catalog::routes())
        .merge(routes::stock::routes())
        .merge(routes::scans::routes(
            state.config.http.scan_body_limit_bytes,
        ))
        .merge(routes::commands::routes())
        .route("/openapi.json", get(routes::docs::openapi))
        .route("/docs", get(routes::docs::page))
        .route("/docs/{asset}", get(routes::docs::asset))
        .fallback(|| async { ApiError::new(Code::NotFound, "no such route").into_response() })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                Code::MethodNotAllowed,
                "this route does not take that method",
            )
            .into_response()
        })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::authenticate,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::timeout,
        ))
        .layer(DefaultBodyLimit::max(state.config.http.body_limit_bytes))
        .layer(axum::middleware::from_fn(middleware::security_headers))
        .layer(cors)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::observe,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::keep_alive,
        ))
        .with_state(state)
}

fn cors(origins: &[String]) -> CorsLayer {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::PUT])
        .allow_headers([
            axum::http::header::AUTHORIZATION,
            axum::http::header::CONTENT_TYPE,
            idempotency::IDEMPOTENCY_KEY,
            middleware::CORRELATION_HEADER,
        ])
        .expose_headers([
            axum::http::header::LOCATION,
            axum::http::header::RETRY_AFTER,
            middleware::CORRELATION_HEADER,
            HeaderName::from_static("idempotent-replayed"),
        ])
        .max_age(Duration::from_secs(600))
}

/// A running ingress.
#[derive(Debug)]
pub struct Running {
    /// Where the API listens.
    pub addr: SocketAddr,
    /// Where `/metrics` and `/health/*` listen.
    pub telemetry_addr: SocketAddr,
    /// Resolves when the server has stopped (after `cancel`).
    pub task: JoinHandle<anyhow::Result<()>>,
}

/// Starts the ingress with `config` (and `keys`, or the ones in
/// `auth.keys_dir`), until `cancel` fires.
///
/// # Errors
/// When a dependency cannot be reached or the configuration is unusable;
/// the message names what to fix.
pub async fn start(
    config: Config,
    keys: Option<KeySet>,
    cancel: CancellationToken,
) -> anyhow::Result<Running> {
    if config.database.url.expose().is_empty() {
        anyhow::bail!("database.url is not set: set KHLANG_DATABASE_URL or KHLANG__DATABASE__URL");
    }
    if config.redis.url.expose().is_empty() {
        anyhow::bail!("redis.url is not set: set KHLANG_REDIS_URL or KHLANG__REDIS__URL");
    }
    let first_admin = bootstrap::FirstAdmin::from_config(&config).context("bootstrap_admin")?;
    let keys = match (keys, &config.auth.keys_dir) {
        (Some(keys), _) => keys,
        (None, Some(dir)) => KeySet::load_dir(dir).context("auth.keys_dir")?,
        (None, None) => {
            tracing::warn!(
                "auth.keys_dir is not set: signing with a key that dies with this process"
            );
            KeySet::ephemeral()
        }
    };
    // Bound first: a second instance on the same port stops here, before
    // it publishes anything.
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {} (listen)", config.listen))?;
    let addr = listener.local_addr()?;
    let pool = PgPoolOptions::new()
        .max_connections(config.database.max_connections)
        .acquire_timeout(Duration::from_secs(3))
        .connect(config.database.url.expose())
        .await
        .context("cannot connect to PostgreSQL (database.url)")?;
    // Only its own tables: the processors' belong to them (see `readiness`).
    migrate(&pool).await.context("ingress migrations failed")?;

    let redis = redis::Client::open(config.redis.url.expose()).context("redis.url")?;
    let redis = redis::aio::ConnectionManager::new(redis)
        .await
        .context("cannot connect to Redis (redis.url)")?;

    let ns = config.topic_namespace.as_str();
    let topics = Topics {
        users_commands: USERS_COMMANDS.namespaced(ns),
        catalog_commands: CATALOG_COMMANDS.namespaced(ns),
        stock_commands: khlang_contract::topics::STOCK_COMMANDS.namespaced(ns),
    };
    let access_topic = ACCESS_LOG.namespaced(ns);
    let codec = khlang_runtime::register_schemas(
        &config.registry.url,
        &[
            (topics.users_commands, USER_COMMAND_SUBJECT),
            (topics.catalog_commands, CATALOG_COMMAND_SUBJECT),
            (
                topics.stock_commands,
                khlang_contract::topics::STOCK_COMMAND_SUBJECT,
            ),
            (access_topic, ACCESS_RECORD_SUBJECT),
        ],
    )
    .await?;

    let mut registry = prometheus_client::registry::Registry::default();
    let metrics = Metrics::register(&mut registry);
    let bus = Bus::new(
        &config.kafka,
        codec,
        metrics.clone(),
        access_topic,
        ACCESS_RECORD_SUBJECT,
    )
    .context("kafka producer")?;
    let keys = Arc::new(keys);
    let tokens = Tokens::new(
        keys,
        &config.auth.issuer,
        &config.auth.audience,
        config.auth.access_ttl_secs,
    );
    let sessions = Sessions::new(
        pool.clone(),
        redis.clone(),
        &config.redis.prefix,
        config.auth.refresh_ttl_secs,
        config.auth.access_ttl_secs,
    );
    let throttle = Throttle::new(redis, &config.redis.prefix, &config.auth);
    tokio::task::spawn_blocking(auth::password::warm_up)
        .await
        .context("warming up the password hasher")?;
    let config = Arc::new(config);
    let commands = CommandLog::start(pool.clone());
    let outcome_signal = OutcomeSignal::start(pool.clone(), metrics.clone());
    let state = AppState::new(Shared {
        config: config.clone(),
        pool,
        tokens,
        sessions,
        throttle,
        bus: bus.clone(),
        commands,
        outcome_signal,
        metrics,
        topics,
        in_flight: Arc::new(tokio::sync::Semaphore::new(
            config.http.max_in_flight.max(1),
        )),
    });
    let health = Health::default();
    let not_ready = readiness::missing(&state.pool)
        .await
        .context("cannot read which migrations are applied (database.url)")?;
    match &not_ready {
        None => {
            if let Some(admin) = &first_admin {
                bootstrap::first_admin(&state, admin)
                    .await
                    .context("bootstrap_admin")?;
            }
        }
        Some(reason) => {
            tracing::warn!(%reason, "not ready");
            health.set_not_ready(reason.clone());
        }
    }
    let (telemetry_addr, _telemetry) = khlang_telemetry::serve(
        config.telemetry_listen,
        Arc::new(Mutex::new(registry)),
        health.clone(),
    )
    .await
    .with_context(|| {
        format!(
            "cannot listen on {} (telemetry_listen)",
            config.telemetry_listen
        )
    })?;
    tokio::spawn(idempotency::prune(
        state.clone(),
        Duration::from_secs(25 * 3600),
        Duration::from_secs(600),
    ));
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    if not_ready.is_none() {
        health.set_ready(true);
    } else {
        tokio::spawn(become_ready(
            state,
            first_admin,
            health.clone(),
            cancel.clone(),
        ));
    }
    tracing::info!(%addr, %telemetry_addr, "ingress listening");
    let task = tokio::spawn(async move {
        let stop = cancel.clone();
        axum::serve(listener, app)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await
            .context("http server")?;
        health.set_ready(false);
        bus.flush(Duration::from_secs(5));
        tracing::info!("ingress stopped");
        Ok(())
    });
    Ok(Running {
        addr,
        telemetry_addr,
        task,
    })
}

/// Looks again every [`readiness::RECHECK`] until the tables the ingress
/// reads exist, then registers the first admin and marks the ingress ready.
async fn become_ready(
    state: AppState,
    first_admin: Option<bootstrap::FirstAdmin>,
    health: Health,
    cancel: CancellationToken,
) {
    let mut reported = None;
    loop {
        let reason = match readiness::missing(&state.pool).await {
            Ok(None) => match &first_admin {
                None => break,
                Some(admin) => match bootstrap::first_admin(&state, admin).await {
                    Ok(()) => break,
                    Err(error) => format!("the bootstrap admin cannot be registered: {error:#}"),
                },
            },
            Ok(Some(reason)) => reason,
            Err(error) => format!("cannot read which migrations are applied: {error}"),
        };
        if reported.as_ref() != Some(&reason) {
            tracing::warn!(%reason, "not ready");
            reported = Some(reason.clone());
        }
        health.set_not_ready(reason);
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(readiness::RECHECK) => {}
        }
    }
    if !cancel.is_cancelled() {
        tracing::info!("the tables the ingress reads exist: ready");
        health.set_ready(true);
    }
}

/// Applies the ingress's migrations (schema `ingress`).
///
/// # Errors
/// When a migration fails.
pub async fn migrate(pool: &sqlx::PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    let mut migrator = sqlx::migrate!("./migrations");
    migrator.set_ignore_missing(true);
    migrator.run(pool).await
}
