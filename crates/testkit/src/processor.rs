//! Processor binaries run by integration tests as child processes: the real
//! `khlang-users`, `khlang-catalog`, `khlang-stock`… pointed at the test's
//! own database, topic namespace and Redis prefix, each start logging to a
//! file of its own, and the two ways a test ends them ([`kill9`] and
//! [`terminate`]).

use std::fs::{self, OpenOptions};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::Infra;

/// What a processor binary is pointed at: the shared infrastructure and the
/// test's own resources.
#[derive(Debug, Clone, Copy)]
pub struct ProcessorEnv<'a> {
    /// Kafka, registry and Redis endpoints.
    pub infra: &'a Infra,
    /// `KHLANG_DATABASE_URL`: the test's own database.
    pub database_url: &'a str,
    /// `KHLANG__TOPIC_NAMESPACE`: put in front of every topic name.
    pub topic_namespace: &'a str,
    /// `KHLANG__REDIS__PREFIX`: put in front of every Redis key.
    pub redis_prefix: &'a str,
    /// `KHLANG__SERVICE`: the component name the processor logs and names
    /// its relay with.
    pub service: &'a str,
}

/// A processor binary set up for one test. Every [`Processor::start`] runs
/// a new process with the same environment; the `n`th start (0-based)
/// writes its stdout and stderr to [`Processor::log`]`(n)`.
///
/// ```no_run
/// # async fn example() {
/// use khlang_testkit::{terminate, Infra, Processor, ProcessorEnv};
/// let infra = Infra::from_env();
/// let database = infra.test_database().await;
/// let users = Processor::new(
///     "target/debug/khlang-users",
///     ProcessorEnv {
///         infra: &infra,
///         database_url: database.url(),
///         topic_namespace: "t1234",
///         redis_prefix: "t1234:",
///         service: "users-1234",
///     },
/// );
/// let mut child = users.start(); // logs to users.log(0)
/// terminate(&mut child);
/// # }
/// ```
#[derive(Debug)]
pub struct Processor {
    binary: PathBuf,
    vars: Vec<(String, String)>,
    log_stem: String,
    starts: AtomicUsize,
}

impl Processor {
    /// `binary` with the standard environment: `KHLANG_KAFKA_BROKERS`,
    /// `KHLANG_REGISTRY_URL`, `KHLANG_DATABASE_URL`, `KHLANG_REDIS_URL`,
    /// `KHLANG__REDIS__PREFIX`, `KHLANG__TOPIC_NAMESPACE` and
    /// `KHLANG__SERVICE` from `env`, `KHLANG__TELEMETRY_LISTEN=127.0.0.1:0`
    /// (a free port, which the log names) and `RUST_LOG=info`.
    #[must_use]
    pub fn new(binary: impl Into<PathBuf>, env: ProcessorEnv<'_>) -> Self {
        let binary = binary.into();
        let name = binary
            .file_name()
            .map_or_else(|| "processor".into(), |n| n.to_string_lossy());
        let log_stem = format!("{name}-{}", env.topic_namespace);
        let vars = [
            ("KHLANG_KAFKA_BROKERS", env.infra.brokers.as_str()),
            ("KHLANG_REGISTRY_URL", &env.infra.registry_url),
            ("KHLANG_DATABASE_URL", env.database_url),
            ("KHLANG_REDIS_URL", &env.infra.redis_url),
            ("KHLANG__REDIS__PREFIX", env.redis_prefix),
            ("KHLANG__TOPIC_NAMESPACE", env.topic_namespace),
            ("KHLANG__SERVICE", env.service),
            ("KHLANG__TELEMETRY_LISTEN", "127.0.0.1:0"),
            ("RUST_LOG", "info"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        Self {
            binary,
            vars,
            log_stem,
            starts: AtomicUsize::new(0),
        }
    }

    /// Adds an environment variable (a later value for the same name wins).
    #[must_use]
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.vars.push((key.to_owned(), value.to_owned()));
        self
    }

    /// The log file of the `n`th start (0-based):
    /// `<target>/tmp/logs/<binary name>-<topic namespace>-<n>.log`.
    #[must_use]
    pub fn log(&self, n: usize) -> PathBuf {
        crate::tmp_root()
            .join("logs")
            .join(format!("{}-{n}.log", self.log_stem))
    }

    /// Starts a new process of the binary, logging to its own file.
    ///
    /// # Panics
    /// When the log file cannot be created or the binary cannot be started.
    #[must_use = "the process keeps running until it is ended"]
    pub fn start(&self) -> Child {
        let path = self.log(self.starts.fetch_add(1, Ordering::SeqCst));
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)
                .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        }
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
        let stderr = log
            .try_clone()
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
        Command::new(&self.binary)
            .envs(self.vars.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(stderr))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.binary.display()))
    }

    /// The value of the first sample of `metric` (the first line of the
    /// Prometheus text starting with that name) that the `n`th start serves
    /// on its telemetry endpoint, whose address it logs as
    /// `telemetry listening`. `None` while the process is not listening, or
    /// has no such metric yet.
    pub async fn metric(&self, n: usize, metric: &str) -> Option<f64> {
        let output = self.telemetry(n, "/metrics").await?;
        if !output.status.success() {
            return None;
        }
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .find(|l| l.starts_with(metric))
            .and_then(|l| l.split_whitespace().last()?.parse().ok())
    }

    /// Whether the `n`th start answers `/health/ready` with 200; `None`
    /// while it does not listen yet.
    pub async fn ready(&self, n: usize) -> Option<bool> {
        let output = self.telemetry(n, "/health/ready").await?;
        let body = String::from_utf8_lossy(&output.stdout);
        match body.trim() {
            "ready" => Some(true),
            _ if output.status.code() == Some(22) => Some(false),
            _ => None,
        }
    }

    /// `curl -sf` of `path` on the telemetry endpoint of the `n`th start.
    async fn telemetry(&self, n: usize, path: &str) -> Option<std::process::Output> {
        let log = fs::read_to_string(self.log(n)).ok()?;
        let addr = log
            .lines()
            .rev()
            .filter(|l| l.contains("telemetry listening"))
            .find_map(|l| {
                serde_json::from_str::<serde_json::Value>(l).ok()?["addr"]
                    .as_str()
                    .map(str::to_owned)
            })?;
        tokio::process::Command::new("curl")
            .args(["-sf", &format!("http://{addr}{path}")])
            .output()
            .await
            .ok()
    }
}

/// Crash: SIGKILL, then reaps the process.
///
/// # Panics
/// When the process cannot be signalled or waited for.
pub fn kill9(child: &mut Child) {
    child.kill().expect("kill -9 the processor");
    child.wait().expect("wait for the killed processor");
}

/// Clean shutdown: SIGTERM, then waits for the process to exit.
///
/// # Panics
/// When the process cannot be signalled, or does not exit successfully.
pub fn terminate(child: &mut Child) {
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .expect("run kill -TERM");
    assert!(status.success(), "kill -TERM {} failed", child.id());
    let status = child.wait().expect("wait for the processor");
    assert!(status.success(), "processor exited with {status}");
}
