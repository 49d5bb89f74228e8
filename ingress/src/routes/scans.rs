//! `POST /v1/scans`: a scanner's batch of scans as NDJSON, one JSON object
//! per line. Each line is validated on its own and answered in a per-line
//! result; valid lines become stock commands, published together; a bad
//! line never sinks the batch or loses the good ones. A line with a
//! `scan_id` gets a command id derived from the device and the scan id, so
//! a batch sent again (after a lost answer) applies each scan once.

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use khlang_contract::stock::{Count, Issue, Receive, StockCommand, TransferOut};
use khlang_contract::topics::STOCK_COMMAND_SUBJECT;
use khlang_contract::Envelope;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::stock::{valid_sku, valid_warehouse};
use crate::auth::Principal;
use crate::error::{ApiError, Code, FieldError};
use crate::middleware::{correlation_id, CommandIdExt};
use crate::scopes::Scope;
use crate::state::AppState;

/// Most lines in one batch.
pub const MAX_LINES: usize = 10_000;

/// Namespace of scan command ids (UUIDv5 of device id and scan id).
const SCAN_NAMESPACE: Uuid = Uuid::from_u128(0x6b68_6c61_6e67_4000_8000_0000_0000_0003);

fn valid_scan_id(value: &str) -> Result<(), validator::ValidationError> {
    // a move's transfer id is `scan:<scan_id>`, and ids are at most 64
    let ok = (1..=59).contains(&value.len())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    ok.then_some(()).ok_or_else(|| {
        validator::ValidationError::new("scan_id")
            .with_message("must be 1-59 of A-Z a-z 0-9 - _ . :".into())
    })
}

/// What a scan records.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ScanType {
    /// Goods received (→ Receive).
    Receive,
    /// Goods picked (→ Issue).
    Pick,
    /// A shelf counted (→ Count).
    Count,
    /// Goods moved to another warehouse (→ TransferOut).
    Move,
}

/// One line of a batch.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanLine {
    /// The device's id for this scan (1-59 of A-Z a-z 0-9 - _ . :); makes
    /// the line idempotent.
    #[validate(custom(function = "valid_scan_id"))]
    pub scan_id: Option<String>,
    /// What was scanned.
    #[serde(rename = "type")]
    pub kind: ScanType,
    /// SKU.
    #[validate(custom(function = "valid_sku"))]
    pub sku: String,
    /// Warehouse.
    #[validate(custom(function = "valid_warehouse"))]
    pub warehouse: String,
    /// Units (receive, pick, move).
    #[validate(range(min = 1, max = 1_000_000_000))]
    pub quantity: Option<i64>,
    /// Units counted (count).
    #[validate(range(min = 0, max = 1_000_000_000))]
    pub counted: Option<i64>,
    /// Destination (move).
    #[validate(custom(function = "valid_warehouse"))]
    pub to_warehouse: Option<String>,
    /// Reference.
    #[validate(length(max = 100))]
    pub reference: Option<String>,
}

/// The answer to one line.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LineResult {
    /// Line number, from 1.
    pub line: usize,
    /// `accepted` (a command is on Kafka), `invalid` (nothing was sent)
    /// or `unavailable` (Kafka did not take it; send the line again).
    pub status: String,
    /// The command, when accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command_id: Option<String>,
    /// What is wrong, when not accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<FieldError>,
}

/// The answer to a batch.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BatchResult {
    /// Lines whose command is on Kafka.
    pub accepted: usize,
    /// Lines that were not sent.
    pub rejected: usize,
    /// One result per non-empty line.
    pub lines: Vec<LineResult>,
}

fn invalid(line: usize, field: &str, code: &str, message: impl Into<String>) -> LineResult {
    LineResult {
        line,
        status: "invalid".into(),
        command_id: None,
        error: Some(FieldError {
            field: field.to_owned(),
            code: code.to_owned(),
            message: message.into(),
        }),
    }
}

fn command_for(principal: &Principal, scan: ScanLine) -> Result<StockCommand, (String, String)> {
    let missing = |field: &str| {
        (
            field.to_owned(),
            format!("{field} is required for this type"),
        )
    };
    let kind = match scan.kind {
        ScanType::Receive => "Receive",
        ScanType::Pick => "Issue",
        ScanType::Count => "Count",
        ScanType::Move => "TransferOut",
    };
    let mut envelope = Envelope::new(kind, principal.actor(), &correlation_id(), "ingress");
    if let Some(scan_id) = &scan.scan_id {
        envelope.id = Uuid::new_v5(
            &SCAN_NAMESPACE,
            format!("{}:{scan_id}", principal.user_id).as_bytes(),
        )
        .to_string();
    }
    let mut c = StockCommand::empty(envelope, &scan.sku, &scan.warehouse);
    match scan.kind {
        ScanType::Receive => {
            c.receive = Some(Receive {
                quantity: scan.quantity.ok_or_else(|| missing("quantity"))?,
                reference: scan.reference,
            });
        }
        ScanType::Pick => {
            c.issue = Some(Issue {
                quantity: scan.quantity.ok_or_else(|| missing("quantity"))?,
                reference: scan.reference,
            });
        }
        ScanType::Count => {
            c.count = Some(Count {
                counted: scan.counted.ok_or_else(|| missing("counted"))?,
                note: scan.reference,
            });
        }
        ScanType::Move => {
            let to = scan.to_warehouse.ok_or_else(|| missing("to_warehouse"))?;
            let transfer_id = scan
                .scan_id
                .map_or_else(|| c.envelope.id.clone(), |id| format!("scan:{id}"));
            c.transfer_out = Some(TransferOut {
                transfer_id,
                to_warehouse: to,
                quantity: scan.quantity.ok_or_else(|| missing("quantity"))?,
            });
        }
    }
    Ok(c)
}

/// Post a batch of scans (NDJSON, one scan per line). Answers 200 with a
/// result per line; a bad line never sinks the batch.
#[utoipa::path(
    post, path = "/v1/scans", tag = "scans",
    security(("bearer" = [])),
    request_body(content = String, content_type = "application/x-ndjson",
        description = "One ScanLine JSON object per line"),
    responses((status = 200, description = "A result per line", body = BatchResult))
)]
pub async fn post_scans(
    State(state): State<AppState>,
    principal: Principal,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    principal.require(Scope::ScansWrite)?;
    let ndjson = crate::extract::content_type_is(
        &headers,
        &["application/x-ndjson", "application/jsonl"],
        false,
    );
    if !ndjson {
        return Err(ApiError::new(
            Code::UnsupportedMediaType,
            "send scans as application/x-ndjson, one JSON object per line",
        ));
    }
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::new(Code::MalformedBody, "the body is not UTF-8"))?;
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty())
        .collect();
    if lines.is_empty() {
        return Err(ApiError::field(
            "body",
            "required",
            "the batch has no lines",
        ));
    }
    if lines.len() > MAX_LINES {
        return Err(ApiError::field(
            "body",
            "length",
            format!("at most {MAX_LINES} lines per batch"),
        ));
    }
    let mut results: Vec<LineResult> = Vec::with_capacity(lines.len());
    let mut commands: Vec<(usize, StockCommand)> = Vec::new();
    for (number, line) in lines {
        if line.to_ascii_lowercase().contains("\\u0000") {
            results.push(invalid(
                number,
                "line",
                "malformed",
                "NUL characters are not allowed",
            ));
            continue;
        }
        let scan: ScanLine = match crate::extract::from_json_slice(line.as_bytes()) {
            Ok(scan) => scan,
            Err(e) => {
                results.push(invalid(
                    number,
                    "line",
                    "malformed",
                    format!("not a valid scan: {}", e.message),
                ));
                continue;
            }
        };
        if let Err(errors) = scan.validate() {
            let error = ApiError::from(errors);
            let first = error.fields.into_iter().next();
            results.push(LineResult {
                line: number,
                status: "invalid".into(),
                command_id: None,
                error: first,
            });
            continue;
        }
        match command_for(&principal, scan) {
            Ok(command) => {
                results.push(LineResult {
                    line: number,
                    status: "pending".into(),
                    command_id: Some(command.envelope.id.clone()),
                    error: None,
                });
                commands.push((results.len() - 1, command));
            }
            Err((field, message)) => results.push(invalid(number, &field, "required", message)),
        }
    }
    publish_all(&state, &principal, &commands, &mut results).await?;
    let accepted = results.iter().filter(|r| r.status == "accepted").count();
    let answer = BatchResult {
        accepted,
        rejected: results.len() - accepted,
        lines: results,
    };
    let mut response = Json(answer).into_response();
    if let Some((_, first)) = commands.first() {
        response
            .extensions_mut()
            .insert(CommandIdExt(first.envelope.id.clone()));
    }
    Ok(response)
}

async fn publish_all(
    state: &AppState,
    principal: &Principal,
    commands: &[(usize, StockCommand)],
    results: &mut [LineResult],
) -> Result<(), ApiError> {
    if commands.is_empty() {
        return Ok(());
    }
    // recorded first, in one statement, so GET /v1/commands/{id} knows them
    let ids: Vec<String> = commands
        .iter()
        .map(|(_, c)| c.envelope.id.clone())
        .collect();
    let kinds: Vec<String> = commands
        .iter()
        .map(|(_, c)| c.envelope.kind.clone())
        .collect();
    let keys: Vec<String> = commands.iter().map(|(_, c)| c.key()).collect();
    let recorded: Vec<String> = sqlx::query_scalar(
        "INSERT INTO ingress.commands (command_id, principal, command_type, aggregate_id, correlation_id) \
         SELECT id, $2, kind, key, $5 FROM unnest($1::text[], $3::text[], $4::text[]) AS t(id, kind, key) \
         ON CONFLICT DO NOTHING RETURNING command_id",
    )
    .bind(&ids)
    .bind(principal.user_id.to_string())
    .bind(&kinds)
    .bind(&keys)
    .bind(correlation_id())
    .fetch_all(&state.pool)
    .await?;
    let items: Vec<(String, &StockCommand)> = commands
        .iter()
        .map(|(_, command)| (command.key(), command))
        .collect();
    let outcomes = state
        .bus
        .publish_many(state.topics.stock_commands, STOCK_COMMAND_SUBJECT, &items)
        .await?;
    let mut failed = Vec::new();
    for ((index, command), outcome) in commands.iter().zip(outcomes) {
        let result = &mut results[*index];
        match outcome {
            Ok(()) => result.status = "accepted".into(),
            Err(error) => {
                // only forget what this request recorded: a resent scan
                // whose first copy got through keeps its record
                if recorded.contains(&command.envelope.id) {
                    failed.push(command.envelope.id.clone());
                }
                result.status = "unavailable".into();
                result.error = Some(FieldError {
                    field: "line".into(),
                    code: error.code.as_str().to_owned(),
                    message: error.message,
                });
            }
        }
    }
    if !failed.is_empty() {
        sqlx::query("DELETE FROM ingress.commands WHERE command_id = ANY($1)")
            .bind(&failed)
            .execute(&state.pool)
            .await
            .inspect_err(|e| tracing::warn!(error = %e, "unpublished scans not forgotten"))
            .ok();
    }
    Ok(())
}
