//! `users create-admin`: the first admin account, through the users
//! processor like every other account.
//!
//! khlangctl never writes the users table. It reads the password from a
//! file, hashes it with argon2id (`khlang_users::password`, as the ingress
//! and `khlang-seed-demo` do), produces a `RegisterUser` command with role `admin` to the users
//! commands topic (key: the new user id, a UUIDv7), and waits for the
//! command's outcome in `khlang_runtime.command_outcomes`, the table where
//! the stream runtime records exactly one outcome per command id.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use khlang_codec::Codec;
use khlang_contract::topics::{USERS_COMMANDS, USER_COMMAND_SUBJECT};
use khlang_contract::users::{RegisterUser, UserCommand};
use khlang_contract::values::Password;
use khlang_contract::{Actor, Envelope, Role};
use rdkafka::producer::FutureRecord;
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgPool, Row as _};

use crate::cli::CreateAdminArgs;
use crate::{kafka, Context, Status};

/// The component named in the command's envelope.
const COMPONENT: &str = "khlangctl";
/// How often the outcome table is read.
const POLL: Duration = Duration::from_millis(250);

/// The password in `path`, without its trailing newline.
///
/// # Errors
/// When the file cannot be read, is not UTF-8, or the password breaks the
/// rule of [`Password`] (12-256 characters).
pub fn read_password(path: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("cannot read the password file {}", path.display()))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| anyhow::anyhow!("the password file {} is not UTF-8", path.display()))?;
    let password = text.trim_end_matches(['\n', '\r']);
    let chars = password.chars().count();
    if chars < Password::MIN_CHARS {
        bail!(
            "the password in {} has {chars} characters; at least {} are required",
            path.display(),
            Password::MIN_CHARS
        );
    }
    Password::parse(password)
        .map(|p| p.expose().to_owned())
        .map_err(|e| anyhow::anyhow!("the password in {} {e}", path.display()))
}

/// An argon2id PHC string with khlang's parameters
/// ([`khlang_users::password`]).
///
/// # Errors
/// When hashing fails.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    khlang_users::password::hash(password)
        .map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))
}

/// The default username: the email's local part, lowercased.
fn default_username(email: &str) -> String {
    email
        .split_once('@')
        .map_or(email, |(local, _)| local)
        .to_lowercase()
}

/// `users create-admin`.
///
/// # Errors
/// Bad input (password, email, missing database URL), an unreachable
/// database, registry or cluster. A rejection or a timeout is a [`Status`].
pub async fn create_admin(ctx: &Context, args: CreateAdminArgs) -> anyhow::Result<Status> {
    let email = args.email.trim().to_owned();
    if email.is_empty() {
        bail!("--email is empty");
    }
    let password = read_password(&args.password_file)?;
    let username = args
        .username
        .map(|u| u.trim().to_owned())
        .unwrap_or_else(|| default_username(&email));
    let display_name = args.display_name.unwrap_or_else(|| username.clone());
    let Some(database_url) = args.database_url.filter(|u| !u.trim().is_empty()) else {
        bail!(
            "no database to read the outcome from: pass --database-url or set KHLANG_DATABASE_URL \
             (the users processor's database)"
        );
    };
    // Everything that can fail before the command is sent, fails first: a
    // command sent that nobody can watch would be registered silently.
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(ctx.timeout)
        .connect(&database_url)
        .await
        .context("cannot connect to the database (--database-url)")?;
    let codec = Codec::new(ctx.registry()?).context("cannot create the registry client")?;
    let producer = kafka::producer(&ctx.brokers)?;
    let topic = USERS_COMMANDS.namespaced(&args.topic_namespace);

    let password_hash = hash_password(&password)?;
    drop(password);
    let user_id = uuid::Uuid::now_v7().to_string();
    let envelope = Envelope::new(
        "RegisterUser",
        Actor::system(COMPONENT),
        &uuid::Uuid::now_v7().to_string(),
        COMPONENT,
    );
    let command_id = envelope.id.clone();
    let mut command = UserCommand::empty(envelope, user_id.clone());
    command.register = Some(RegisterUser {
        email,
        username,
        display_name,
        password_hash,
        role: Role::Admin.as_str().to_owned(),
        scopes: None,
    });
    let payload = codec
        .encode(topic, USER_COMMAND_SUBJECT, &command)
        .await
        .context("cannot encode the RegisterUser command")?;
    let delivery = producer
        .send(
            FutureRecord::to(topic.as_str())
                .key(&user_id)
                .payload(&payload),
            ctx.timeout,
        )
        .await
        .map_err(|(e, _)| e)
        .with_context(|| format!("cannot send the RegisterUser command to {topic}"))?;
    eprintln!(
        "sent RegisterUser command_id={command_id} user_id={user_id} to {topic} \
         (partition {}, offset {}); waiting up to {}s for the users processor",
        delivery.partition, delivery.offset, args.wait_secs
    );

    let deadline = Instant::now() + Duration::from_secs(args.wait_secs);
    loop {
        if let Some(outcome) = outcome(&pool, &command_id).await? {
            return Ok(match outcome {
                Outcome::Accepted => {
                    println!("accepted user_id={user_id}");
                    Status::Success
                }
                Outcome::Rejected { reason, message } => {
                    match message.filter(|m| !m.is_empty()) {
                        Some(message) => println!("rejected reason={reason} message={message}"),
                        None => println!("rejected reason={reason}"),
                    }
                    Status::Rejected
                }
            });
        }
        if Instant::now() >= deadline {
            eprintln!(
                "error: no outcome for command {command_id} after {}s: is the users processor \
                 running against this database? The command stays in {topic} and is handled \
                 when it runs; rerunning would send a second registration",
                args.wait_secs
            );
            return Ok(Status::TimedOut);
        }
        tokio::time::sleep(POLL).await;
    }
}

/// A recorded outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Accepted,
    Rejected {
        reason: String,
        message: Option<String>,
    },
}

/// The outcome of `command_id`, if recorded. A database whose runtime tables
/// do not exist yet (the processor has not started once) has none.
async fn outcome(pool: &PgPool, command_id: &str) -> anyhow::Result<Option<Outcome>> {
    let row = sqlx::query(
        "SELECT status, reason_code, message FROM khlang_runtime.command_outcomes \
         WHERE command_id = $1",
    )
    .bind(command_id)
    .fetch_optional(pool)
    .await;
    let row = match row {
        Ok(row) => row,
        Err(sqlx::Error::Database(e)) if matches!(e.code().as_deref(), Some("42P01" | "3F000")) => {
            return Ok(None); // undefined table / schema: not migrated yet
        }
        Err(e) => return Err(e).context("cannot read khlang_runtime.command_outcomes"),
    };
    let Some(row) = row else {
        return Ok(None);
    };
    let status: String = row.try_get("status")?;
    Ok(Some(match status.as_str() {
        "accepted" => Outcome::Accepted,
        _ => Outcome::Rejected {
            reason: row
                .try_get::<Option<String>, _>("reason_code")?
                .unwrap_or_else(|| status.clone()),
            message: row.try_get("message")?,
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, content: &str) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!(
            "khlangctl-pw-{name}-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::write(&path, content).expect("write");
        path
    }

    #[test]
    fn the_trailing_newline_is_dropped_and_short_passwords_are_refused() {
        let ok = file("ok", "correct horse\r\n");
        assert_eq!(read_password(&ok).expect("long enough"), "correct horse");
        let short = file("short", "elevenchars\n");
        let error = read_password(&short).expect_err("11 characters");
        assert!(error.to_string().contains("at least 12"), "{error}");
        // Characters, not bytes: 12 Thai characters are 36 bytes.
        let thai = file("thai", "รหัสผ่านยาวพอ\n");
        assert!(read_password(&thai).is_ok());
        for path in [ok, short, thai] {
            let _ = std::fs::remove_file(path);
        }
    }

    #[test]
    fn the_default_username_is_the_lowercased_local_part() {
        assert_eq!(default_username("Ops.Admin@Example.com"), "ops.admin");
        assert_eq!(default_username("noatsign"), "noatsign");
    }
}
