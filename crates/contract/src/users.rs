//! User commands and events (`schemas/users/*.avsc`).

use serde::{Deserialize, Serialize};

use crate::Envelope;

/// A command for the users processor; exactly one payload is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserCommand {
    /// Envelope; `envelope.kind` names the payload.
    pub envelope: Envelope,
    /// The user this command is about (the Kafka key).
    pub user_id: String,
    /// `RegisterUser`.
    pub register: Option<RegisterUser>,
    /// `UpdateUser`.
    pub update: Option<UpdateUser>,
    /// `ChangeRole`.
    pub change_role: Option<ChangeRole>,
    /// `DeactivateUser`.
    pub deactivate: Option<DeactivateUser>,
}

/// Register a new user. Carries an argon2id hash, never a password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterUser {
    /// Email, unique case-insensitively.
    pub email: String,
    /// Username, unique case-insensitively.
    pub username: String,
    /// Name to show.
    pub display_name: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Role name (see [`crate::Role`]).
    pub role: String,
    /// Scopes granted to a service or device account; `None` for people,
    /// whose role decides what they may do.
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
}

/// Change some of a user's details.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateUser {
    /// New email.
    pub email: Option<String>,
    /// New display name.
    pub display_name: Option<String>,
    /// New argon2id PHC string.
    pub password_hash: Option<String>,
}

/// Give a user another role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeRole {
    /// Role name.
    pub role: String,
}

/// Deactivate a user: their tokens stop working and they cannot sign in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeactivateUser {
    /// Why, for the history.
    pub reason: Option<String>,
}

/// The payload of a [`UserCommand`], borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserCommandKind<'a> {
    /// See [`RegisterUser`].
    Register(&'a RegisterUser),
    /// See [`UpdateUser`].
    Update(&'a UpdateUser),
    /// See [`ChangeRole`].
    ChangeRole(&'a ChangeRole),
    /// See [`DeactivateUser`].
    Deactivate(&'a DeactivateUser),
}

impl UserCommand {
    /// The single payload, or `None` when zero or several are set.
    #[must_use]
    pub fn kind(&self) -> Option<UserCommandKind<'_>> {
        let set = [
            self.register.as_ref().map(UserCommandKind::Register),
            self.update.as_ref().map(UserCommandKind::Update),
            self.change_role.as_ref().map(UserCommandKind::ChangeRole),
            self.deactivate.as_ref().map(UserCommandKind::Deactivate),
        ];
        let mut present = set.into_iter().flatten();
        match (present.next(), present.next()) {
            (Some(kind), None) => Some(kind),
            _ => None,
        }
    }

    /// A command with only the envelope and user id set; fill in one payload.
    #[must_use]
    pub fn empty(envelope: Envelope, user_id: String) -> Self {
        Self {
            envelope,
            user_id,
            register: None,
            update: None,
            change_role: None,
            deactivate: None,
        }
    }
}

/// A user's visible state (never the password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserState {
    /// Email.
    pub email: String,
    /// Username.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Role name.
    pub role: String,
    /// False once deactivated.
    pub active: bool,
}

/// A fact about a user: `UserRegistered`, `UserUpdated`, `UserRoleChanged`
/// or `UserDeactivated` (in `envelope.kind`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserEvent {
    /// Envelope, caused by the command.
    pub envelope: Envelope,
    /// The user.
    pub user_id: String,
    /// Per-user version after this event.
    pub version: i64,
    /// State after the change.
    pub user: UserState,
    /// Fields this event changed.
    pub changed: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Actor;

    #[test]
    fn a_command_has_exactly_one_kind() {
        let env = Envelope::new("DeactivateUser", Actor::system("t"), "c", "t");
        let mut cmd = UserCommand::empty(env, "u".into());
        assert_eq!(cmd.kind(), None);
        cmd.deactivate = Some(DeactivateUser::default());
        assert!(matches!(cmd.kind(), Some(UserCommandKind::Deactivate(_))));
        cmd.change_role = Some(ChangeRole {
            role: "admin".into(),
        });
        assert_eq!(cmd.kind(), None);
    }
}
