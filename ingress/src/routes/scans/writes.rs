//! The batch handler of `/v1/scans`: each valid line becomes a stock
//! command, and the batch goes through the write path
//! ([`crate::write::Writer::submit_all`]) in one registration.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use khlang_contract::stock::{Count, Issue, Receive, StockCommand, TransferOut};
use uuid::Uuid;
use validator::Validate;

use super::requests::{invalid, BatchResult, LineResult, ScanLine, ScanType, MAX_LINES};
use crate::auth::Principal;
use crate::error::{ApiError, Code, FieldError};
use crate::middleware::CommandIdExt;
use crate::scopes::Scope;
use crate::state::AppState;
use crate::write::{WriteBody, WriteRequest, Writer};

/// Namespace of scan command ids (UUIDv5 of device id and scan id).
const SCAN_NAMESPACE: Uuid = Uuid::from_u128(0x6b68_6c61_6e67_4000_8000_0000_0000_0003);

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
    request: WriteRequest,
) -> Result<Response, ApiError> {
    let writer = Writer::authorize(&state, &principal, Scope::ScansWrite)?;
    writer
        .once(request, async |body| {
            let mut batch = batch_of(&writer, &body)?;
            publish(&writer, &mut batch).await?;
            Ok(answer(batch))
        })
        .await
}

/// A batch: a result per line, and the commands of the valid ones.
struct Batch {
    results: Vec<LineResult>,
    commands: Vec<StockCommand>,
    /// For each command, the index of its line's result.
    result_of: Vec<usize>,
}

fn batch_of(writer: &Writer<'_>, body: &WriteBody) -> Result<Batch, ApiError> {
    let bytes = body.bytes()?;
    let ndjson = body.content_type().is_some_and(|v| {
        // media types are case-insensitive (RFC 9110 §8.3.1)
        let mime = v.split(';').next().unwrap_or("").trim();
        mime.eq_ignore_ascii_case("application/x-ndjson")
            || mime.eq_ignore_ascii_case("application/jsonl")
    });
    if !ndjson {
        return Err(ApiError::new(
            Code::UnsupportedMediaType,
            "send scans as application/x-ndjson, one JSON object per line",
        ));
    }
    let text = std::str::from_utf8(bytes)
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
    let mut commands = Vec::new();
    let mut result_of = Vec::new();
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
        match command_for(writer, scan) {
            Ok(command) => {
                results.push(LineResult {
                    line: number,
                    status: "pending".into(),
                    command_id: Some(command.envelope.id.clone()),
                    error: None,
                });
                result_of.push(results.len() - 1);
                commands.push(command);
            }
            Err((field, message)) => results.push(invalid(number, &field, "required", message)),
        }
    }
    Ok(Batch {
        results,
        commands,
        result_of,
    })
}

fn command_for(writer: &Writer<'_>, scan: ScanLine) -> Result<StockCommand, (String, String)> {
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
    let mut envelope = writer.envelope(kind);
    if let Some(scan_id) = &scan.scan_id {
        envelope.id = Uuid::new_v5(
            &SCAN_NAMESPACE,
            format!("{}:{scan_id}", writer.principal().user_id).as_bytes(),
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

/// Submits the batch's commands and marks each line `accepted` or
/// `unavailable`.
async fn publish(writer: &Writer<'_>, batch: &mut Batch) -> Result<(), ApiError> {
    let outcomes = writer.submit_all(&batch.commands).await?;
    for (index, outcome) in batch.result_of.iter().zip(outcomes) {
        let result = &mut batch.results[*index];
        match outcome {
            Ok(()) => result.status = "accepted".into(),
            Err(error) => {
                result.status = "unavailable".into();
                result.error = Some(FieldError {
                    field: "line".into(),
                    code: error.code.as_str().to_owned(),
                    message: error.message,
                });
            }
        }
    }
    Ok(())
}

fn answer(batch: Batch) -> Response {
    let results = batch.results;
    let accepted = results.iter().filter(|r| r.status == "accepted").count();
    let answer = BatchResult {
        accepted,
        rejected: results.len() - accepted,
        lines: results,
    };
    let mut response = Json(answer).into_response();
    if let Some(first) = batch.commands.first() {
        response
            .extensions_mut()
            .insert(CommandIdExt(first.envelope.id.clone()));
    }
    response
}
