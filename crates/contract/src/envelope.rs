//! The envelope every command and event carries (`schemas/common/envelope.avsc`).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Who caused a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    /// A person signed in with a user account.
    User,
    /// An upstream system with a service account.
    Service,
    /// A warehouse scanner with device credentials.
    Device,
    /// khlang itself (a processor reacting to another message).
    System,
}

/// The actor of a message: id, kind and role at the time it acted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// User, service or device id; the component name for `System`.
    pub id: String,
    /// What kind of actor this is.
    pub kind: ActorKind,
    /// The actor's role when it acted.
    pub role: String,
}

impl Actor {
    /// The actor for messages a khlang component emits on its own behalf.
    #[must_use]
    pub fn system(component: &str) -> Self {
        Self {
            id: component.to_owned(),
            kind: ActorKind::System,
            role: "system".to_owned(),
        }
    }
}

/// Metadata of every command and event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// UUIDv7 of the message; for a command this is the command id.
    pub id: String,
    /// Message type, e.g. `RegisterUser` or `UserRegistered`.
    #[serde(rename = "type")]
    pub kind: String,
    /// When it happened, microseconds since the Unix epoch (UTC).
    pub occurred_at: i64,
    /// Who caused it.
    pub actor: Actor,
    /// Id shared by everything one request caused.
    pub correlation_id: String,
    /// Id of the message that caused this one.
    pub causation_id: Option<String>,
    /// The component that wrote it.
    pub source: String,
}

impl Envelope {
    /// A new envelope with a fresh UUIDv7 id and the current time.
    #[must_use]
    pub fn new(kind: &str, actor: Actor, correlation_id: &str, source: &str) -> Self {
        Self {
            id: Uuid::now_v7().to_string(),
            kind: kind.to_owned(),
            occurred_at: now_micros(),
            actor,
            correlation_id: correlation_id.to_owned(),
            causation_id: None,
            source: source.to_owned(),
        }
    }

    /// The envelope of a message caused by `self`: same correlation id and
    /// actor, causation id set to this message's id.
    #[must_use]
    pub fn caused(&self, kind: &str, source: &str) -> Self {
        Self {
            id: Uuid::now_v7().to_string(),
            kind: kind.to_owned(),
            occurred_at: now_micros(),
            actor: self.actor.clone(),
            correlation_id: self.correlation_id.clone(),
            causation_id: Some(self.id.clone()),
            source: source.to_owned(),
        }
    }
}

/// Microseconds since the Unix epoch.
#[must_use]
pub fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caused_envelope_keeps_correlation_and_points_at_its_cause() {
        let cause = Envelope::new("RegisterUser", Actor::system("test"), "corr-1", "ingress");
        let effect = cause.caused("UserRegistered", "users");
        assert_eq!(effect.correlation_id, "corr-1");
        assert_eq!(effect.causation_id.as_deref(), Some(cause.id.as_str()));
        assert_ne!(effect.id, cause.id);
        assert_eq!(
            Uuid::parse_str(&effect.id).map(|u| u.get_version_num()),
            Ok(7)
        );
    }
}
