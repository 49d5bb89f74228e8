//! The one outcome every command ends in (`schemas/commands/command-outcome.avsc`).

use serde::{Deserialize, Serialize};

use crate::Envelope;

/// Whether a command was accepted or rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeStatus {
    /// The command changed state and produced its events.
    Accepted,
    /// The command was refused; `reason_code` says why.
    Rejected,
}

impl OutcomeStatus {
    /// The lowercase name used on the wire and in storage.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Rejected => "rejected",
        }
    }
}

/// The outcome event published on `khlang.commands.outcomes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandOutcome {
    /// Envelope of the outcome itself (caused by the command).
    pub envelope: Envelope,
    /// The command this is the outcome of.
    pub command_id: String,
    /// The command's type, e.g. `RegisterUser`.
    pub command_type: String,
    /// The aggregate the command addressed.
    pub aggregate_id: String,
    /// Accepted or rejected.
    pub status: OutcomeStatus,
    /// Stable machine-readable reason when rejected.
    pub reason_code: Option<String>,
    /// Human-readable explanation.
    pub message: Option<String>,
}
