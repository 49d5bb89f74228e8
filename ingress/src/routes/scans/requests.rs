//! What a scanner sends to `/v1/scans` (one [`ScanLine`] per line) and
//! what it gets back (a [`LineResult`] per line).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::error::FieldError;
use crate::routes::rules::{valid_level, valid_quantity, valid_sku, valid_warehouse};

/// Most lines in one batch.
pub const MAX_LINES: usize = 10_000;

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
    #[validate(custom(function = "valid_quantity"))]
    pub quantity: Option<i64>,
    /// Units counted (count).
    #[validate(custom(function = "valid_level"))]
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

/// The answer to a line that was not sent.
pub(super) fn invalid(
    line: usize,
    field: &str,
    code: &str,
    message: impl Into<String>,
) -> LineResult {
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
