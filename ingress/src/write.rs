//! The one write path of the ingress. Every write of every domain (users,
//! catalog, stock, scans) goes through it, in this order:
//!
//! 1. **authenticate**: the [`Principal`] extractor (401);
//! 2. **authorize**: [`Writer::authorize`] (403). Nothing below runs for a
//!    caller without the right, so such a caller learns nothing about the
//!    operation (not its validation rules, not its Idempotency-Keys);
//! 3. **once per `Idempotency-Key`**: [`Writer::once`] (see
//!    [`crate::idempotency`]): a repeat gets the first answer;
//! 4. **parse and validate** the body: [`WriteBody::json`] (415, 400, 422);
//! 5. **build the command** with its envelope: [`Writer::envelope`] (actor
//!    from the token, the request's correlation id, no causation: a
//!    request is the first cause);
//! 6. **record, publish, answer**: [`Writer::submit`] records it in
//!    `ingress.commands` (a group commit, [`crate::command_log`]), publishes
//!    it and waits for Kafka's acknowledgement ([`crate::bus`]), then answers
//!    `202` with a `Location`; [`Writer::submit_all`] does the same for a
//!    scanner batch;
//! 7. **its outcome**: [`outcome`] waits (bounded) until the processor has
//!    written it (`GET /v1/commands/{id}?wait=`).
//!
//! A route handler only parses, authorizes, and hands its command to this
//! module; no route builds an envelope or talks to Kafka itself.

use std::collections::HashSet;
use std::convert::Infallible;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use khlang_contract::catalog::CatalogCommand;
use khlang_contract::stock::StockCommand;
use khlang_contract::topics::{
    CATALOG_COMMAND_SUBJECT, STOCK_COMMAND_SUBJECT, USER_COMMAND_SUBJECT,
};
use khlang_contract::users::UserCommand;
use khlang_contract::{Envelope, Subject, TopicName};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sqlx::Row as _;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::auth::Principal;
use crate::command_log::CommandRow;
use crate::error::ApiError;
use crate::extract::{body_bytes, parse_json, require_json};
use crate::idempotency::{self, IDEMPOTENCY_KEY};
use crate::middleware::{correlation_id, CommandIdExt};
use crate::scopes::Scope;
use crate::state::{AppState, Topics};

/// The `source` of every envelope the ingress writes.
const SOURCE: &str = "ingress";

/// A command the ingress publishes: where it goes and under which key.
pub trait Command: Serialize + Sync {
    /// The value subject in the schema registry.
    const SUBJECT: Subject;
    /// The topic of this kind of command.
    fn topic(topics: &Topics) -> TopicName;
    /// The command's envelope (its id is the command id).
    fn envelope(&self) -> &Envelope;
    /// The Kafka key: the aggregate the command addresses.
    fn record_key(&self) -> String;
}

impl Command for UserCommand {
    const SUBJECT: Subject = USER_COMMAND_SUBJECT;
    fn topic(topics: &Topics) -> TopicName {
        topics.users_commands
    }
    fn envelope(&self) -> &Envelope {
        &self.envelope
    }
    fn record_key(&self) -> String {
        self.user_id.clone()
    }
}

impl Command for CatalogCommand {
    const SUBJECT: Subject = CATALOG_COMMAND_SUBJECT;
    fn topic(topics: &Topics) -> TopicName {
        topics.catalog_commands
    }
    fn envelope(&self) -> &Envelope {
        &self.envelope
    }
    fn record_key(&self) -> String {
        self.aggregate_id.clone()
    }
}

impl Command for StockCommand {
    const SUBJECT: Subject = STOCK_COMMAND_SUBJECT;
    fn topic(topics: &Topics) -> TopicName {
        topics.stock_commands
    }
    fn envelope(&self) -> &Envelope {
        &self.envelope
    }
    fn record_key(&self) -> String {
        self.key()
    }
}

/// The answer to a write: the command is on Kafka; its outcome will follow.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CommandAccepted {
    /// The command id.
    pub command_id: String,
    /// Always `pending` here.
    pub status: String,
    /// Where to read the outcome.
    pub location: String,
    /// The id of the account a create made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The transfer a transfer request started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer_id: Option<String>,
    /// The reservation a reservation request made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reservation_id: Option<String>,
    /// A service or device account's secret, shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

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

/// A write by an authorized principal: the only way to publish a command.
#[derive(Debug, Clone, Copy)]
pub struct Writer<'a> {
    state: &'a AppState,
    principal: &'a Principal,
}

impl<'a> Writer<'a> {
    /// Starts a write when `principal` holds `scope`.
    ///
    /// # Errors
    /// `forbidden`.
    pub fn authorize(
        state: &'a AppState,
        principal: &'a Principal,
        scope: Scope,
    ) -> Result<Self, ApiError> {
        principal.require(scope)?;
        Ok(Self { state, principal })
    }

    /// Starts a write on `account`: an account may change itself; another
    /// one needs `scope` (as does an id that names no account).
    ///
    /// # Errors
    /// `forbidden`.
    pub fn authorize_self_or(
        state: &'a AppState,
        principal: &'a Principal,
        account: &str,
        scope: Scope,
    ) -> Result<Self, ApiError> {
        if Uuid::parse_str(account).ok() != Some(principal.user_id) {
            principal.require(scope)?;
        }
        Ok(Self { state, principal })
    }

    /// The shared state (for the reads a write needs first).
    #[must_use]
    pub fn state(&self) -> &'a AppState {
        self.state
    }

    /// Who writes.
    #[must_use]
    pub fn principal(&self) -> &'a Principal {
        self.principal
    }

    /// Runs `write` with the request's body, once per `Idempotency-Key` (see
    /// [`crate::idempotency`]); without a key, simply runs it.
    ///
    /// # Errors
    /// `validation_failed` for a malformed key, `idempotency_key_reused`,
    /// `idempotency_key_in_flight`, and whatever `write` answers.
    pub async fn once(
        &self,
        request: WriteRequest,
        write: impl AsyncFnOnce(WriteBody) -> Result<Response, ApiError>,
    ) -> Result<Response, ApiError> {
        idempotency::once(self.state, self.principal, request, write).await
    }

    /// A new envelope for a command of `kind`: a fresh id, the principal as
    /// actor, the request's correlation id, no causation.
    #[must_use]
    pub fn envelope(&self, kind: &str) -> Envelope {
        Envelope::new(kind, self.principal.actor(), &correlation_id(), SOURCE)
    }

    fn row(&self, command: &impl Command) -> CommandRow {
        CommandRow {
            command_id: command.envelope().id.clone(),
            principal: self.principal.user_id.to_string(),
            command_type: command.envelope().kind.clone(),
            aggregate_id: command.record_key(),
            correlation_id: correlation_id(),
        }
    }

    /// Records `command`, publishes it, waits for Kafka's acknowledgement
    /// and answers 202 with its `Location`; `extra` fills in what the
    /// answer says besides the command id (a new account's id, …).
    ///
    /// # Errors
    /// `service_unavailable` when the database, the registry or Kafka
    /// cannot take it.
    pub async fn submit<C: Command>(
        &self,
        command: C,
        extra: impl FnOnce(&mut CommandAccepted),
    ) -> Result<Response, ApiError> {
        let envelope = command.envelope();
        let key = command.record_key();
        // Recorded before publishing, so that a command on Kafka is always
        // known here; a command Kafka refused is forgotten again.
        self.state.commands.record(self.row(&command)).await?;
        let topic = C::topic(&self.state.topics);
        if let Err(error) = self
            .state
            .bus
            .publish(topic, C::SUBJECT, &key, &command)
            .await
        {
            self.state
                .commands
                .forget(std::slice::from_ref(&envelope.id))
                .await;
            return Err(error);
        }
        tracing::info!(
            command_id = envelope.id,
            kind = envelope.kind,
            "command published"
        );
        Ok(accepted(&envelope.id, extra))
    }

    /// Records `commands` in one registration, hands them to the producer
    /// in order (commands with the same key keep their order on the
    /// partition) and waits for every acknowledgement: one result per
    /// command. A command recorded before (a scan sent again, with the same
    /// derived id) is published again and keeps its record if Kafka refuses
    /// it this time.
    ///
    /// # Errors
    /// `service_unavailable` when the database or the registry cannot take
    /// them (then none was published).
    pub async fn submit_all<C: Command>(
        &self,
        commands: &[C],
    ) -> Result<Vec<Result<(), ApiError>>, ApiError> {
        if commands.is_empty() {
            return Ok(Vec::new());
        }
        let rows = commands.iter().map(|c| self.row(c)).collect();
        let recorded: HashSet<String> = self
            .state
            .commands
            .record_all(rows)
            .await?
            .into_iter()
            .collect();
        let items: Vec<(String, &C)> = commands.iter().map(|c| (c.record_key(), c)).collect();
        let topic = C::topic(&self.state.topics);
        let results = match self.state.bus.publish_many(topic, C::SUBJECT, &items).await {
            Ok(results) => results,
            Err(error) => {
                let all: Vec<String> = recorded.into_iter().collect();
                self.state.commands.forget(&all).await;
                return Err(error);
            }
        };
        // only forget what this request recorded: a resent scan whose first
        // copy got through keeps its record
        let failed: Vec<String> = commands
            .iter()
            .zip(&results)
            .filter(|(c, result)| result.is_err() && recorded.contains(&c.envelope().id))
            .map(|(c, _)| c.envelope().id.clone())
            .collect();
        self.state.commands.forget(&failed).await;
        tracing::info!(
            commands = commands.len(),
            published = results.iter().filter(|r| r.is_ok()).count(),
            "commands published"
        );
        Ok(results)
    }
}

/// The 202 answer for `command_id`.
fn accepted(command_id: &str, extra: impl FnOnce(&mut CommandAccepted)) -> Response {
    let location = format!("/v1/commands/{command_id}");
    let mut body = CommandAccepted {
        command_id: command_id.to_owned(),
        status: "pending".into(),
        location: location.clone(),
        user_id: None,
        transfer_id: None,
        reservation_id: None,
        client_secret: None,
    };
    extra(&mut body);
    let mut response = (StatusCode::ACCEPTED, Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
        .extensions_mut()
        .insert(CommandIdExt(command_id.to_owned()));
    response
}

/// A command's outcome, as its processor wrote it.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// `accepted` or `rejected`.
    pub status: String,
    /// Stable reason code when rejected.
    pub reason_code: Option<String>,
    /// Explanation.
    pub message: Option<String>,
}

/// The outcome of `command_id`, waiting up to `wait` for it; `None` while
/// it is pending. Woken when a processor signals an outcome (see
/// [`crate::outcome_signal`]), with a poll as the fallback for a listening
/// connection that is down.
///
/// # Errors
/// When the outcomes cannot be read.
pub async fn outcome(
    state: &AppState,
    command_id: &str,
    wait: Duration,
) -> Result<Option<Outcome>, ApiError> {
    let deadline = tokio::time::Instant::now() + wait;
    // subscribed before the first look, so an outcome written between the
    // look and the wait still wakes this request
    let mut signals = state.outcome_signal.subscribe();
    let mut pause = Duration::from_millis(50);
    loop {
        if let Some(outcome) = read_outcome(&state.pool, command_id).await? {
            return Ok(Some(outcome));
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Ok(None);
        }
        let poll = tokio::time::sleep_until((now + pause).min(deadline));
        tokio::pin!(poll);
        tokio::select! {
            changed = signals.changed() => {
                if changed.is_err() {
                    (&mut poll).await;
                }
            }
            () = &mut poll => pause = (pause * 2).min(Duration::from_secs(1)),
        }
    }
}

async fn read_outcome(pool: &sqlx::PgPool, command_id: &str) -> Result<Option<Outcome>, ApiError> {
    let row = sqlx::query(
        "SELECT status, reason_code, message FROM khlang_runtime.command_outcomes WHERE command_id = $1",
    )
    .bind(command_id)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(Outcome {
        status: row.try_get("status")?,
        reason_code: row.try_get("reason_code")?,
        message: row.try_get("message")?,
    }))
}
