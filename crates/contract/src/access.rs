//! The access history record (`schemas/access/access-record.avsc`).

use serde::{Deserialize, Serialize};

/// One HTTP request the ingress answered, authenticated or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRecord {
    /// UUIDv7 of this record.
    pub request_id: String,
    /// When the request arrived, microseconds since the Unix epoch (UTC).
    pub occurred_at: i64,
    /// Correlation id of the request (given by the client or generated).
    pub correlation_id: String,
    /// User, service or device id; `None` when unauthenticated.
    pub actor_id: Option<String>,
    /// `user`, `service` or `device`.
    pub actor_kind: Option<String>,
    /// The actor's role.
    pub role: Option<String>,
    /// HTTP method.
    pub method: String,
    /// Route template (`/v1/users/{id}`), `unmatched` for unknown paths.
    pub route: String,
    /// The command a write request produced.
    pub command_id: Option<String>,
    /// Client address.
    pub client_address: String,
    /// `User-Agent` header.
    pub user_agent: Option<String>,
    /// HTTP status answered.
    pub status: i32,
    /// Stable error code when the request failed.
    pub error_code: Option<String>,
    /// Time to the response head, microseconds.
    pub latency_us: i64,
}
