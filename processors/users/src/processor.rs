//! Applying user commands.

use async_trait::async_trait;
use khlang_contract::topics::USER_EVENT_SUBJECT;
use khlang_contract::users::{
    ChangeRole, RegisterUser, UpdateUser, UserCommand, UserCommandKind, UserEvent, UserState,
};
use khlang_contract::values::{DisplayName, Email, PasswordHash, Username, ValueError};
use khlang_contract::{Role, TopicName};
use khlang_runtime::{ApplyContext, ApplyError, CommandInfo, Decision, Processor};
use sqlx::PgPool;
use uuid::Uuid;

use crate::reasons;
use crate::store::{User, UserStore};
use crate::UserCache;

/// The users processor. Its effects are the ids of users whose state changed.
pub struct UsersProcessor {
    pool: PgPool,
    cache: Option<UserCache>,
    events: TopicName,
}

impl UsersProcessor {
    /// A processor writing through `pool`, emitting on `events` and
    /// refreshing `cache` after commits.
    #[must_use]
    pub fn new(pool: PgPool, cache: Option<UserCache>, events: TopicName) -> Self {
        Self {
            pool,
            cache,
            events,
        }
    }
}

type Applied = (Decision, Option<Uuid>);

fn rejected(code: &'static str, message: impl Into<String>) -> Result<Applied, ApplyError> {
    Ok((Decision::rejected(code, message), None))
}

/// The broken rule of `field` when `parsed` failed: the reason code and a
/// message for people.
fn broken<T>(
    reason: &'static str,
    field: &str,
    parsed: Result<T, ValueError>,
) -> Option<(&'static str, String)> {
    parsed
        .err()
        .map(|error| (reason, format!("{field} {}", error.message())))
}

/// The first rule a registration breaks, without IO. Each value's rule is
/// in [`khlang_contract::values`], shared with the ingress.
fn check_register(r: &RegisterUser) -> Option<(&'static str, String)> {
    broken(reasons::INVALID_EMAIL, "email", Email::parse(&r.email))
        .or_else(|| {
            broken(
                reasons::INVALID_USERNAME,
                "username",
                Username::parse(&r.username),
            )
        })
        .or_else(|| {
            broken(
                reasons::INVALID_DISPLAY_NAME,
                "display name",
                DisplayName::parse(&r.display_name),
            )
        })
        .or_else(|| {
            r.role
                .parse::<Role>()
                .is_err()
                .then(|| (reasons::INVALID_ROLE, format!("unknown role {:?}", r.role)))
        })
        .or_else(|| {
            broken(
                reasons::INVALID_PASSWORD_HASH,
                "password hash",
                PasswordHash::parse(&r.password_hash),
            )
        })
}

/// The first rule an update breaks, without IO.
fn check_update(u: &UpdateUser) -> Option<(&'static str, String)> {
    u.email
        .as_deref()
        .and_then(|email| broken(reasons::INVALID_EMAIL, "email", Email::parse(email)))
        .or_else(|| {
            u.display_name.as_deref().and_then(|name| {
                broken(
                    reasons::INVALID_DISPLAY_NAME,
                    "display name",
                    DisplayName::parse(name),
                )
            })
        })
        .or_else(|| {
            u.password_hash.as_deref().and_then(|hash| {
                broken(
                    reasons::INVALID_PASSWORD_HASH,
                    "password hash",
                    PasswordHash::parse(hash),
                )
            })
        })
}

async fn emit(
    ctx: &mut ApplyContext<'_>,
    topic: TopicName,
    command: &UserCommand,
    kind: &str,
    user: &User,
    changed: &[&str],
) -> Result<(), ApplyError> {
    let event = UserEvent {
        envelope: command.envelope.caused(kind, "users"),
        user_id: user.user_id.to_string(),
        version: user.version,
        user: UserState {
            email: user.email.clone(),
            username: user.username.clone(),
            display_name: user.display_name.clone(),
            role: user.role.clone(),
            active: user.active,
        },
        changed: changed.iter().map(|c| (*c).to_owned()).collect(),
    };
    ctx.emit(topic, USER_EVENT_SUBJECT, &event.user_id, &event)
        .await
}

impl UsersProcessor {
    async fn register(
        &self,
        ctx: &mut ApplyContext<'_>,
        command: &UserCommand,
        user_id: Uuid,
        r: &RegisterUser,
    ) -> Result<Applied, ApplyError> {
        if let Some((code, message)) = check_register(r) {
            return rejected(code, message);
        }
        let user = User {
            user_id,
            email: r.email.clone(),
            username: r.username.clone(),
            display_name: r.display_name.trim().to_owned(),
            password_hash: r.password_hash.clone(),
            role: r.role.clone(),
            active: true,
            version: 1,
            scopes: r.scopes.clone().unwrap_or_default(),
        };
        // ON CONFLICT DO NOTHING waits for a concurrent insert of the same
        // email on another partition to commit, so exactly one wins.
        if !UserStore::insert(ctx.tx, &user).await? {
            if UserStore::get(ctx.tx, user_id).await?.is_some() {
                return rejected(reasons::USER_EXISTS, "a user with this id exists");
            }
            if UserStore::email_taken(ctx.tx, &r.email, user_id).await? {
                return rejected(reasons::EMAIL_TAKEN, "email is taken");
            }
            if UserStore::username_taken(ctx.tx, &r.username, user_id).await? {
                return rejected(reasons::USERNAME_TAKEN, "username is taken");
            }
            // The conflicting row was rolled back after all: try again.
            return Err(ApplyError::Transient(
                "registration conflict vanished".into(),
            ));
        }
        emit(
            ctx,
            self.events,
            command,
            "UserRegistered",
            &user,
            &["email", "username", "display_name", "role", "active"],
        )
        .await?;
        Ok((Decision::Accepted, Some(user_id)))
    }

    async fn update(
        &self,
        ctx: &mut ApplyContext<'_>,
        command: &UserCommand,
        mut user: User,
        u: &UpdateUser,
    ) -> Result<Applied, ApplyError> {
        if let Some((code, message)) = check_update(u) {
            return rejected(code, message);
        }
        let mut changed = Vec::new();
        if let Some(email) = &u.email {
            if email != &user.email {
                if UserStore::email_taken(ctx.tx, email, user.user_id).await? {
                    return rejected(reasons::EMAIL_TAKEN, "email is taken");
                }
                user.email = email.clone();
                changed.push("email");
            }
        }
        if let Some(name) = &u.display_name {
            if name.trim() != user.display_name {
                user.display_name = name.trim().to_owned();
                changed.push("display_name");
            }
        }
        if let Some(hash) = &u.password_hash {
            user.password_hash = hash.clone();
            changed.push("password");
        }
        if changed.is_empty() {
            return Ok((Decision::Accepted, None));
        }
        user.version = UserStore::update(ctx.tx, &user).await?;
        emit(ctx, self.events, command, "UserUpdated", &user, &changed).await?;
        Ok((Decision::Accepted, Some(user.user_id)))
    }

    async fn change_role(
        &self,
        ctx: &mut ApplyContext<'_>,
        command: &UserCommand,
        mut user: User,
        c: &ChangeRole,
    ) -> Result<Applied, ApplyError> {
        if c.role.parse::<Role>().is_err() {
            return rejected(reasons::INVALID_ROLE, format!("unknown role {:?}", c.role));
        }
        if c.role == user.role {
            return Ok((Decision::Accepted, None));
        }
        user.role = c.role.clone();
        user.version = UserStore::update(ctx.tx, &user).await?;
        emit(
            ctx,
            self.events,
            command,
            "UserRoleChanged",
            &user,
            &["role"],
        )
        .await?;
        Ok((Decision::Accepted, Some(user.user_id)))
    }

    async fn deactivate(
        &self,
        ctx: &mut ApplyContext<'_>,
        command: &UserCommand,
        mut user: User,
    ) -> Result<Applied, ApplyError> {
        user.active = false;
        user.version = UserStore::update(ctx.tx, &user).await?;
        emit(
            ctx,
            self.events,
            command,
            "UserDeactivated",
            &user,
            &["active"],
        )
        .await?;
        Ok((Decision::Accepted, Some(user.user_id)))
    }
}

#[async_trait]
impl Processor for UsersProcessor {
    type Command = UserCommand;
    type Effect = Option<Uuid>;
    type Batch = ();

    fn describe(command: &UserCommand) -> CommandInfo<'_> {
        CommandInfo {
            envelope: &command.envelope,
            aggregate_id: &command.user_id,
        }
    }

    async fn apply(
        &self,
        ctx: &mut ApplyContext<'_>,
        _batch: &mut (),
        command: &UserCommand,
    ) -> Result<Applied, ApplyError> {
        let Ok(user_id) = Uuid::parse_str(&command.user_id) else {
            return rejected(reasons::INVALID_COMMAND, "user id is not a uuid");
        };
        let Some(kind) = command.kind() else {
            return rejected(
                reasons::INVALID_COMMAND,
                "a command carries exactly one payload",
            );
        };
        if let UserCommandKind::Register(r) = kind {
            return self.register(ctx, command, user_id, r).await;
        }
        let Some(user) = UserStore::get(ctx.tx, user_id).await? else {
            return rejected(reasons::USER_NOT_FOUND, "no such user");
        };
        if !user.active {
            return rejected(reasons::USER_INACTIVE, "user is deactivated");
        }
        match kind {
            UserCommandKind::Register(_) => {
                rejected(reasons::USER_EXISTS, "a user with this id exists")
            }
            UserCommandKind::Update(u) => self.update(ctx, command, user, u).await,
            UserCommandKind::ChangeRole(c) => self.change_role(ctx, command, user, c).await,
            UserCommandKind::Deactivate(_) => self.deactivate(ctx, command, user).await,
        }
    }

    async fn after_commit(&self, effects: Vec<Option<Uuid>>) {
        let Some(cache) = &self.cache else { return };
        let mut ids: Vec<Uuid> = effects.into_iter().flatten().collect();
        ids.sort_unstable();
        ids.dedup();
        if let Err(error) = cache.refresh(&self.pool, &ids).await {
            // The database is the truth; the copy is rebuilt at the next start.
            tracing::warn!(%error, users = ids.len(), "redis copy not refreshed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registration() -> RegisterUser {
        RegisterUser {
            email: "somchai@example.co.th".into(),
            username: "somchai".into(),
            display_name: "สมชาย ใจดี".into(),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            role: "warehouse_staff".into(),
            scopes: None,
        }
    }

    #[test]
    fn a_valid_registration_passes() {
        assert_eq!(check_register(&registration()), None);
    }

    #[test]
    fn each_broken_rule_has_its_reason_code() {
        type Breaks = fn(&mut RegisterUser);
        let cases: [(Breaks, &str); 6] = [
            (|r| r.email = "not-an-email".into(), reasons::INVALID_EMAIL),
            (|r| r.email = "a@b@c.th".into(), reasons::INVALID_EMAIL),
            (
                |r| r.username = "Somchai!".into(),
                reasons::INVALID_USERNAME,
            ),
            (
                |r| r.display_name = "  ".into(),
                reasons::INVALID_DISPLAY_NAME,
            ),
            (|r| r.role = "root".into(), reasons::INVALID_ROLE),
            (
                |r| r.password_hash = "hunter2".into(),
                reasons::INVALID_PASSWORD_HASH,
            ),
        ];
        for (breaks, code) in cases {
            let mut r = registration();
            breaks(&mut r);
            assert_eq!(check_register(&r).map(|(c, _)| c), Some(code));
        }
    }

    #[test]
    fn updates_are_checked_field_by_field() {
        let update = UpdateUser {
            email: Some("x".into()),
            ..UpdateUser::default()
        };
        assert_eq!(
            check_update(&update).map(|(c, _)| c),
            Some(reasons::INVALID_EMAIL)
        );
        assert_eq!(check_update(&UpdateUser::default()), None);
    }
}
