//! `khlangctl users create-admin` against the real Kafka, schema registry and
//! PostgreSQL (`make test`, or `scripts/infra/up.sh` and `source .khlang/env`).
//!
//! Each test has its own topic namespace (`t<random>.khlang.users.commands`)
//! and its own database. The users processor's part is played by the test:
//! it reads the command khlangctl produced, checks it (an argon2id hash, no
//! password), and records the outcome the way the stream runtime does, in
//! `khlang_runtime.command_outcomes` created by `khlangctl migrate` (the
//! runtime's own migration).
//! One test runs the real `khlang-users` binary instead (built by make test).

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordVerifier};
use argon2::Argon2;
use khlang_codec::Codec;
use khlang_contract::topics::{COMMAND_OUTCOMES, USERS_COMMANDS, USERS_COMMANDS_DLQ, USERS_EVENTS};
use khlang_contract::users::UserCommand;
use khlang_contract::ActorKind;
use khlang_testkit::{unique_suffix, Infra};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::OwnedMessage;
use rdkafka::{Message, Offset, TopicPartitionList};
use sqlx::PgPool;

const BIN: &str = env!("CARGO_BIN_EXE_khlangctl");
const PASSWORD: &str = "correct horse battery staple";

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("khlangctl-users-{}", unique_suffix()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        Self(dir)
    }

    fn file(&self, name: &str, content: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, content).expect("write file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// khlangctl with no connection settings from the environment.
fn ctl() -> Command {
    let mut command = Command::new(BIN);
    for var in [
        "KHLANG_KAFKA_BROKERS",
        "KHLANG_REGISTRY_URL",
        "KHLANG_DATABASE_URL",
        "KHLANG__TOPIC_NAMESPACE",
    ] {
        command.env_remove(var);
    }
    command
}

fn text(output: &Output) -> (i32, String, String) {
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Runs create-admin against endpoints that do not exist: only input
/// checks can answer.
fn offline(password_file: &Path, extra: &[&str]) -> (i32, String, String) {
    let output = ctl()
        .args(["--brokers", "127.0.0.1:1", "--timeout", "2"])
        .args(["--registry", "http://127.0.0.1:1"])
        .args(["users", "create-admin", "--email", "ops@example.com"])
        .arg("--password-file")
        .arg(password_file)
        .args(extra)
        .output()
        .expect("run khlangctl");
    text(&output)
}

#[test]
fn a_short_or_missing_password_is_refused_before_anything_is_sent() {
    let dir = TempDir::new();
    let db = ["--database-url", "postgres://nobody@127.0.0.1:1/none"];

    let short = dir.file("short", "elevenchars\n");
    let (code, stdout, stderr) = offline(&short, &db);
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("has 11 characters; at least 12 are required"),
        "{stderr}"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");

    let (code, _, stderr) = offline(&dir.0.join("absent"), &db);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("cannot read the password file"), "{stderr}");

    // Twelve characters plus the newline pass the check; then the missing
    // database is the error, still before anything reaches Kafka.
    let twelve = dir.file("twelve", "twelve chars\n");
    let (code, _, stderr) = offline(&twelve, &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("pass --database-url or set KHLANG_DATABASE_URL"),
        "{stderr}"
    );
    let (code, _, stderr) = offline(&twelve, &db);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("cannot connect to the database"),
        "{stderr}"
    );
    assert!(!stderr.contains("sent RegisterUser"), "{stderr}");
}

#[test]
fn the_help_explains_create_admin_and_hides_the_database_url() {
    let output = ctl()
        .env(
            "KHLANG_DATABASE_URL",
            "postgres://khlang:s3cret@127.0.0.1/khlang",
        )
        .args(["users", "create-admin", "--help"])
        .output()
        .expect("run khlangctl");
    let (code, stdout, _) = text(&output);
    assert_eq!(code, 0);
    for needle in [
        "--password-file <FILE>",
        "--wait-secs <SECS>",
        "--database-url",
        "argon2id",
        "accepted user_id=",
        "rejected reason=",
        "exits 3",
    ] {
        assert!(stdout.contains(needle), "help lacks {needle:?}\n{stdout}");
    }
    assert!(!stdout.contains("s3cret"), "{stdout}");

    let output = ctl().arg("--help").output().expect("run khlangctl");
    let (_, stdout, _) = text(&output);
    assert!(stdout.contains("users"), "{stdout}");
    assert!(stdout.contains("`users create-admin`"), "{stdout}");
}

/// One runtime for the whole test binary: a pool made in one runtime dies
/// with it, so every call must share the same one.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("tokio runtime")
        })
        .block_on(future)
}

/// `khlangctl migrate` against `db_url`.
fn migrate(db_url: &str, extra: &[&str]) -> (i32, String, String) {
    let output = ctl()
        .args(["migrate", "--database-url", db_url])
        .args(extra)
        .output()
        .expect("run khlangctl");
    text(&output)
}

#[test]
fn migrate_creates_every_store_once_and_check_reports_what_is_pending() {
    let infra = Infra::from_env();
    let (db_url, pool) = block_on(infra.fresh_database());

    let (code, stdout, stderr) = migrate(&db_url, &["--check"]);
    assert_eq!(code, 2, "a fresh database is behind\n{stdout}{stderr}");
    for store in ["khlang_runtime", "users", "catalog", "stock"] {
        assert!(stdout.contains(&format!("{store}: pending ")), "{stdout}");
    }
    assert!(
        block_on(khlang_runtime::read::outcome_count(&pool))
            .is_err_and(|e| khlang_runtime::schema::is_not_migrated(&e)),
        "--check changed nothing"
    );

    let (code, stdout, stderr) = migrate(&db_url, &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("users: applied "), "{stdout}");
    assert_eq!(
        block_on(khlang_runtime::read::outcome_count(&pool)).ok(),
        Some(0)
    );
    assert_eq!(
        block_on(khlang_users::read::user_by_email(
            &pool,
            "nobody@example.com"
        ))
        .ok(),
        Some(None)
    );

    for extra in [&[][..], &["--check"][..]] {
        let (code, stdout, stderr) = migrate(&db_url, extra);
        assert_eq!(code, 0, "{stdout}{stderr}");
        assert_eq!(stdout.matches(": up to date").count(), 4, "{stdout}");
    }
}

/// A topic namespace with the users commands topic, and a database.
struct Env {
    infra: Infra,
    ns: String,
    db_url: String,
    pool: PgPool,
    dir: TempDir,
}

impl Env {
    fn new(topics: &[(&str, i32)]) -> Self {
        let infra = Infra::from_env();
        let ns = format!("t{}", unique_suffix());
        let (db_url, pool) = block_on(infra.fresh_database());
        let names: Vec<(String, i32)> = topics
            .iter()
            .map(|(t, p)| (format!("{ns}.{t}"), *p))
            .collect();
        let refs: Vec<(&str, i32)> = names.iter().map(|(t, p)| (t.as_str(), *p)).collect();
        block_on(infra.create_topics(&refs));
        Self {
            infra,
            ns,
            db_url,
            pool,
            dir: TempDir::new(),
        }
    }

    fn commands_topic(&self) -> String {
        USERS_COMMANDS.namespaced(&self.ns).as_str().to_owned()
    }

    /// `khlangctl migrate` on this environment's database.
    fn migrate(&self) {
        let (code, stdout, stderr) = migrate(&self.db_url, &[]);
        assert_eq!(code, 0, "{stdout}{stderr}");
    }

    /// Starts `users create-admin` in the background.
    fn create_admin(&self, email: &str, wait_secs: u64, extra: &[&str]) -> Child {
        let password = self.dir.file("password", &format!("{PASSWORD}\n"));
        ctl()
            .args(["--brokers", &self.infra.brokers])
            .args(["--registry", &self.infra.registry_url])
            .args(["users", "create-admin", "--email", email])
            .arg("--password-file")
            .arg(password)
            .args(["--wait-secs", &wait_secs.to_string()])
            .env("KHLANG_DATABASE_URL", &self.db_url)
            .env("KHLANG__TOPIC_NAMESPACE", &self.ns)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start khlangctl")
    }

    /// The first record of the commands topic, waiting for it.
    fn first_command(&self, child: &mut Child) -> OwnedMessage {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &self.infra.brokers)
            .set("group.id", "khlangctl-users-test-reader")
            .set("enable.auto.commit", "false")
            .create()
            .expect("consumer");
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(&self.commands_topic(), 0, Offset::Beginning)
            .expect("tpl");
        consumer.assign(&tpl).expect("assign");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(message) = consumer.poll(Duration::from_millis(200)) {
                return message.expect("message").detach();
            }
            if let Ok(Some(_)) = child.try_wait() {
                let mut stderr = String::new();
                if let Some(mut pipe) = child.stderr.take() {
                    let _ = pipe.read_to_string(&mut stderr);
                }
                panic!("khlangctl ended before sending anything\n{stderr}");
            }
            assert!(Instant::now() < deadline, "no command arrived");
        }
    }

    fn decode(&self, message: &OwnedMessage) -> UserCommand {
        let codec = Codec::new(&self.infra.registry_url).expect("codec");
        block_on(codec.decode::<UserCommand>(message.payload().expect("payload")))
            .expect("a UserCommand")
    }

    fn record_outcome(&self, command: &UserCommand, status: &str, reason: Option<&str>) {
        block_on(
            sqlx::query(
                "INSERT INTO khlang_runtime.command_outcomes (command_id, consumer_group, \
                 command_type, aggregate_id, status, reason_code, message, correlation_id, \
                 source_topic, source_partition, source_offset) \
                 VALUES ($1, 'khlang-users', 'RegisterUser', $2, $3, $4, $5, $6, $7, 0, 0)",
            )
            .bind(&command.envelope.id)
            .bind(&command.user_id)
            .bind(status)
            .bind(reason)
            .bind(reason.map(|r| format!("test says {r}")))
            .bind(&command.envelope.correlation_id)
            .bind(self.commands_topic())
            .execute(&self.pool),
        )
        .expect("insert outcome");
    }
}

fn finish(child: Child) -> (i32, String, String) {
    text(&child.wait_with_output().expect("khlangctl output"))
}

#[test]
fn an_accepted_registration_carries_only_an_argon2id_hash_and_prints_the_user_id() {
    let env = Env::new(&[(USERS_COMMANDS.as_str(), 1)]);
    env.migrate();
    let mut child = env.create_admin(
        "Ops@Example.com",
        60,
        &["--username", "ops", "--display-name", "ฝ่ายปฏิบัติการ"],
    );
    let message = env.first_command(&mut child);
    let payload = message.payload().expect("payload");
    assert!(
        !payload
            .windows(PASSWORD.len())
            .any(|w| w == PASSWORD.as_bytes()),
        "the password itself must never be sent"
    );
    let command = env.decode(&message);
    assert_eq!(message.key(), Some(command.user_id.as_bytes()));
    let user_id = uuid::Uuid::parse_str(&command.user_id).expect("uuid");
    assert_eq!(user_id.get_version_num(), 7);
    assert_eq!(command.envelope.kind, "RegisterUser");
    assert_eq!(command.envelope.actor.id, "khlangctl");
    assert_eq!(command.envelope.actor.kind, ActorKind::System);
    assert_eq!(command.envelope.source, "khlangctl");
    let register = command.register.as_ref().expect("a RegisterUser payload");
    assert_eq!(register.email, "Ops@Example.com");
    assert_eq!(register.username, "ops");
    assert_eq!(register.display_name, "ฝ่ายปฏิบัติการ");
    assert_eq!(register.role, "admin");
    assert_eq!(register.scopes, None);
    let hash = &register.password_hash;
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    let parsed = PasswordHash::new(hash).expect("PHC string");
    Argon2::default()
        .verify_password(PASSWORD.as_bytes(), &parsed)
        .expect("the hash is of the password without its newline");

    env.record_outcome(&command, "accepted", None);
    let (code, stdout, stderr) = finish(child);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(stdout, format!("accepted user_id={}\n", command.user_id));
    assert!(
        stderr.contains(&format!("command_id={}", command.envelope.id)),
        "{stderr}"
    );
}

#[test]
fn a_rejection_prints_the_reason_and_exits_1() {
    let env = Env::new(&[(USERS_COMMANDS.as_str(), 1)]);
    env.migrate();
    let mut child = env.create_admin("Taken.Name@example.com", 60, &[]);
    let command = env.decode(&env.first_command(&mut child));
    let register = command.register.as_ref().expect("register");
    assert_eq!(register.username, "taken.name", "default username");
    assert_eq!(register.display_name, "taken.name", "default display name");

    env.record_outcome(&command, "rejected", Some("email_taken"));
    let (code, stdout, stderr) = finish(child);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert_eq!(
        stdout,
        "rejected reason=email_taken message=test says email_taken\n"
    );
}

#[test]
fn without_an_outcome_it_exits_3_after_the_wait() {
    // No runtime tables at all: a processor that never ran here.
    let env = Env::new(&[(USERS_COMMANDS.as_str(), 1)]);
    let child = env.create_admin("late@example.com", 2, &[]);
    let (code, stdout, stderr) = finish(child);
    assert_eq!(code, 3, "{stdout}{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("no outcome for command"), "{stderr}");
    assert!(
        stderr.contains("is the users processor running"),
        "{stderr}"
    );
}

/// The real processor (`make test` builds it before the tests run).
#[test]
fn with_the_real_users_processor_the_first_admin_is_accepted_and_a_second_rejected() {
    let processor_bin = Path::new(BIN).with_file_name("khlang-users");
    assert!(
        processor_bin.is_file(),
        "{} is missing: run cargo build --bins first (make test does)",
        processor_bin.display()
    );
    let env = Env::new(&[
        (USERS_COMMANDS.as_str(), 2),
        (USERS_EVENTS.as_str(), 2),
        (COMMAND_OUTCOMES.as_str(), 2),
        (USERS_COMMANDS_DLQ.as_str(), 1),
    ]);
    let log = std::fs::File::create(env.dir.0.join("khlang-users.log")).expect("log");
    let mut processor = Command::new(&processor_bin)
        .env("KHLANG_KAFKA_BROKERS", &env.infra.brokers)
        .env("KHLANG_REGISTRY_URL", &env.infra.registry_url)
        .env("KHLANG_DATABASE_URL", &env.db_url)
        .env("KHLANG_REDIS_URL", &env.infra.redis_url)
        .env("KHLANG__REDIS__PREFIX", format!("{}:", env.ns))
        .env("KHLANG__TOPIC_NAMESPACE", &env.ns)
        .env("KHLANG__SERVICE", format!("users-{}", env.ns))
        .env("KHLANG__TELEMETRY_LISTEN", "127.0.0.1:0")
        .stdout(Stdio::from(log.try_clone().expect("log")))
        .stderr(Stdio::from(log))
        .spawn()
        .expect("start khlang-users");

    let first = finish(env.create_admin("first.admin@example.com", 120, &[]));
    let second = finish(env.create_admin("First.Admin@example.com", 120, &["--username", "other"]));
    let _ = processor.kill();
    let _ = processor.wait();
    let log = std::fs::read_to_string(env.dir.0.join("khlang-users.log")).unwrap_or_default();

    assert_eq!(first.0, 0, "{first:?}\n{log}");
    assert!(first.1.starts_with("accepted user_id="), "{first:?}");
    assert_eq!(second.0, 1, "{second:?}\n{log}");
    assert!(
        second.1.starts_with("rejected reason=email_taken"),
        "{second:?}"
    );
}
