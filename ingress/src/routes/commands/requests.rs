//! What `GET /v1/commands/{id}` takes and answers.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

/// `?wait=` on a command.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WaitQuery {
    /// Seconds to wait for the outcome (0-10); 0 answers at once.
    #[param(minimum = 0, maximum = 10)]
    #[validate(range(min = 0, max = 10))]
    pub wait: Option<u64>,
}

/// A command's state.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CommandStatus {
    /// The command id.
    pub command_id: String,
    /// Its type.
    pub command_type: String,
    /// The aggregate it addressed.
    pub aggregate_id: String,
    /// `pending`, `accepted` or `rejected`.
    pub status: String,
    /// Stable reason code when rejected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<String>,
    /// Explanation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}
