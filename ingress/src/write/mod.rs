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

mod command;
mod outcome;
mod request;

use std::collections::HashSet;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use khlang_contract::{Actor, Envelope};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

pub use self::command::Command;
pub use self::outcome::{outcome, Outcome};
pub use self::request::{WriteBody, WriteRequest};
use crate::auth::Principal;
use crate::command_log::CommandRow;
use crate::error::ApiError;
use crate::idempotency;
use crate::middleware::{correlation_id, CommandIdExt};
use crate::scopes::Scope;
use crate::state::AppState;

/// The `source` of every envelope the ingress writes.
const SOURCE: &str = "ingress";

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

/// An envelope for a command the ingress makes on its own behalf (the
/// first admin at start-up): the system as actor, a correlation id of its
/// own.
#[must_use]
pub fn system_envelope(kind: &str) -> Envelope {
    Envelope::new(
        kind,
        Actor::system(SOURCE),
        &Uuid::now_v7().to_string(),
        SOURCE,
    )
}

/// Publishes a command the ingress makes on its own behalf and waits for
/// Kafka's acknowledgement. There is no principal to read its outcome, so
/// it is not recorded for `GET /v1/commands/{id}`.
///
/// # Errors
/// `service_unavailable` when the registry or Kafka cannot take it.
pub async fn publish_system<C: Command>(state: &AppState, command: &C) -> Result<(), ApiError> {
    let topic = C::topic(&state.topics);
    state
        .bus
        .publish(topic, C::SUBJECT, &command.record_key(), command)
        .await
}
