//! [`KafkaNode`]: a throwaway single-node KRaft broker for tests that must
//! stop Kafka without disturbing the shared one.
//!
//! It runs the same Kafka and Java as `scripts/infra/kafka.sh`: the jars in
//! `$KHLANG_CACHE/kafka-$KHLANG_KAFKA_VERSION/libs` (default
//! `~/.cache/khlang/kafka-4.1.1/libs`, downloaded by `scripts/infra/up.sh`)
//! and `$KHLANG_KAFKA_JAVA`, else the first Java ≥ 17 from `$JAVA_HOME`, the
//! `PATH` or `/usr/lib/jvm`. Each node has its own ports, picked at random in
//! 20000–31999 (below Linux's ephemeral range, so outgoing connections cannot
//! take them while the node is stopped), and its own directory
//! `target/tmp/kafka-node-<test pid>-<random>` holding the configuration, the
//! data and `kafka.log`.

use std::fs::{self, OpenOptions};
use std::io::Read as _;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use rdkafka::admin::AdminClient;
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;

/// JVM heap of a node (what `KAFKA_HEAP_OPTS` would say for the stock scripts).
const HEAP_OPTS: [&str; 2] = ["-Xmx384m", "-Xms128m"];
/// How long a start may take before the test fails.
const START_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a clean shutdown may take before the node is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(60);
/// Where ports are picked: below the ephemeral range (32768–60999).
const PORT_RANGE: (u16, u16) = (20_000, 32_000);
/// Directory name prefix under `target/tmp`.
const DIR_PREFIX: &str = "kafka-node-";

/// A single-node Kafka (KRaft, broker and controller in one JVM) owned by a
/// test. Stopping or killing it affects nobody else.
///
/// ```no_run
/// let mut node = khlang_testkit::KafkaNode::start();
/// let brokers = node.bootstrap(); // "127.0.0.1:<port>"
/// node.stop(); // clients now fail to reach it
/// node.start_again(); // same data, same ports
/// ```
///
/// The methods block (up to two minutes for a start); from an async test
/// call them on a multi-threaded runtime or through `spawn_blocking`.
///
/// Dropping the node kills the broker and deletes its directory (after
/// printing the end of its log when the test is panicking). A node left
/// behind by a test process that died without unwinding is killed and
/// deleted by the next [`KafkaNode::start`].
#[derive(Debug)]
pub struct KafkaNode {
    dir: PathBuf,
    port: u16,
    controller_port: u16,
    child: Option<Child>,
}

impl KafkaNode {
    /// Formats a fresh node in a new directory and starts it; returns once
    /// it answers a metadata request with a live broker.
    ///
    /// # Panics
    /// When the Kafka jars are not in the cache (run `scripts/infra/up.sh`
    /// once), no Java ≥ 17 is found, formatting fails, or the broker does
    /// not answer within two minutes. Failures include the end of its log.
    #[must_use]
    pub fn start() -> Self {
        let setup = setup();
        let root = crate::tmp_root();
        fs::create_dir_all(&root)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", root.display()));
        sweep_orphans(&root);
        let dir = root.join(format!(
            "{DIR_PREFIX}{}-{}",
            std::process::id(),
            crate::unique_suffix()
        ));
        fs::create_dir_all(dir.join("data"))
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        let (port, controller_port) = pick_ports();
        let mut node = Self {
            dir,
            port,
            controller_port,
            child: None,
        };
        node.write_config();
        node.format(setup);
        node.start_again();
        node
    }

    /// The bootstrap servers to give clients: `127.0.0.1:<port>`.
    #[must_use]
    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The node's directory (configuration, `data/`, `kafka.log`).
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The broker's log file.
    #[must_use]
    pub fn log_file(&self) -> PathBuf {
        self.dir.join("kafka.log")
    }

    /// The process id of the running broker; `None` while it is stopped.
    #[must_use]
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Clean shutdown: SIGTERM, then waits until the process has exited
    /// (SIGKILL after a minute) and the port refuses connections. Does
    /// nothing when the node is already stopped.
    ///
    /// # Panics
    /// When the process cannot be signalled or the port stays open.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let signalled = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status()
            .is_ok_and(|s| s.success());
        let deadline = Instant::now() + STOP_TIMEOUT;
        loop {
            match child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if signalled && Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                _ => {
                    eprintln!(
                        "KafkaNode {}: no clean exit, sending SIGKILL",
                        self.bootstrap()
                    );
                    kill_and_reap(&mut child);
                    break;
                }
            }
        }
        self.wait_port_closed();
    }

    /// Crash: SIGKILL, then waits until the process is gone and the port
    /// refuses connections. Does nothing when the node is already stopped.
    ///
    /// The next [`KafkaNode::start_again`] takes about ten seconds longer
    /// than after [`KafkaNode::stop`]: the controller waits for the dead
    /// incarnation's broker session to expire before it unfences the new one.
    ///
    /// # Panics
    /// When the port stays open.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill_and_reap(&mut child);
            self.wait_port_closed();
        }
    }

    /// Starts the stopped node again on the same directory and ports, and
    /// waits until it answers a metadata request with a live broker.
    ///
    /// # Panics
    /// When the node is running, the JVM cannot be started, or it does not
    /// answer within two minutes.
    pub fn start_again(&mut self) {
        assert!(
            self.child.is_none(),
            "KafkaNode {} is running; stop() or kill() it first",
            self.bootstrap()
        );
        let setup = setup();
        let log = self.open_log();
        let stderr = log
            .try_clone()
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", self.log_file().display()));
        let child = Command::new(&setup.java)
            .args(HEAP_OPTS)
            .args([
                "-server",
                "-XX:+UseG1GC",
                "-XX:MaxGCPauseMillis=20",
                "-XX:InitiatingHeapOccupancyPercent=35",
                "-XX:+ExplicitGCInvokesConcurrent",
                "-Djava.awt.headless=true",
            ])
            .arg(format!("-Dkafka.logs.dir={}", self.dir.display()))
            .args(self.class_path_args(setup))
            .arg("kafka.Kafka")
            .arg(self.dir.join("server.properties"))
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(stderr))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", setup.java.display()));
        fs::write(self.dir.join("kafka.pid"), child.id().to_string())
            .unwrap_or_else(|e| panic!("cannot write the pid file: {e}"));
        self.child = Some(child);
        self.wait_ready();
    }

    fn class_path_args(&self, setup: &Setup) -> [String; 3] {
        [
            "-cp".to_owned(),
            format!("{}/*", setup.libs.display()),
            format!(
                "-Dlog4j2.configurationFile={}",
                self.dir.join("log4j2.properties").display()
            ),
        ]
    }

    fn open_log(&self) -> fs::File {
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_file())
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", self.log_file().display()))
    }

    fn write_config(&self) {
        let (port, controller) = (self.port, self.controller_port);
        let data = self.dir.join("data");
        let config = format!(
            "# Written by khlang_testkit::KafkaNode (same settings as scripts/infra/kafka.sh,
# sized for tests).
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:{controller}
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}
advertised.listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs={data}

num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
share.coordinator.state.topic.num.partitions=1

auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
delete.topic.enable=true

# Small: a test node needs little memory and few threads.
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
log.cleaner.threads=1
log.cleaner.dedupe.buffer.size=16777216
",
            data = data.display()
        );
        let log4j = "status = warn
name = khlang-kafka-node
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = STDOUT
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.request.additivity = false
logger.request.appenderRef.out.ref = STDOUT
";
        for (name, text) in [
            ("server.properties", config.as_str()),
            ("log4j2.properties", log4j),
        ] {
            let path = self.dir.join(name);
            fs::write(&path, text)
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        }
    }

    /// `kafka-storage.sh format --standalone` with a random cluster id.
    fn format(&self, setup: &Setup) {
        let log = self.open_log();
        let stderr = log
            .try_clone()
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", self.log_file().display()));
        let status = Command::new(&setup.java)
            .arg("-Xmx256m")
            .args(self.class_path_args(setup))
            .args(["kafka.tools.StorageTool", "format", "--standalone", "-t"])
            .arg(cluster_id())
            .arg("-c")
            .arg(self.dir.join("server.properties"))
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(stderr))
            .status()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", setup.java.display()));
        assert!(
            status.success(),
            "formatting the KRaft storage of KafkaNode {} failed ({status})\n{}",
            self.bootstrap(),
            self.log_tail()
        );
    }

    fn wait_ready(&mut self) {
        let bootstrap = self.bootstrap();
        let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
            .set("bootstrap.servers", &bootstrap)
            .set("client.id", "khlang-testkit-kafka-node")
            .set("reconnect.backoff.ms", "100")
            .set("reconnect.backoff.max.ms", "500")
            .create()
            .expect("kafka admin client");
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    self.child = None;
                    panic!(
                        "KafkaNode {bootstrap} exited during startup ({status})\n{}",
                        self.log_tail()
                    );
                }
            }
            let ready = admin
                .inner()
                .fetch_metadata(None, Duration::from_secs(2))
                .is_ok_and(|m| !m.brokers().is_empty());
            if ready {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "KafkaNode {bootstrap} did not answer within {}s\n{}",
                START_TIMEOUT.as_secs(),
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn wait_port_closed(&self) {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok() {
            assert!(
                Instant::now() < deadline,
                "port {} still accepts connections after KafkaNode stopped",
                self.port
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The last lines of the log, for failure messages.
    fn log_tail(&self) -> String {
        let mut text = String::new();
        let _ = fs::File::open(self.log_file()).and_then(|mut f| f.read_to_string(&mut text));
        let lines: Vec<&str> = text.lines().collect();
        let start = lines.len().saturating_sub(40);
        format!(
            "--- last lines of {}\n{}",
            self.log_file().display(),
            lines[start..].join("\n")
        )
    }
}

impl Drop for KafkaNode {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill_and_reap(&mut child);
        }
        if std::thread::panicking() {
            eprintln!("KafkaNode {}:\n{}", self.bootstrap(), self.log_tail());
        }
        release_ports(&[self.port, self.controller_port]);
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn kill_and_reap(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// The Java binary and the Kafka jars, found once per process.
#[derive(Debug)]
struct Setup {
    java: PathBuf,
    libs: PathBuf,
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| Setup {
        libs: kafka_libs(),
        java: kafka_java(),
    })
}

fn env_nonempty(var: &str) -> Option<String> {
    std::env::var(var).ok().filter(|v| !v.is_empty())
}

/// `$KHLANG_CACHE/kafka-$KHLANG_KAFKA_VERSION/libs`, as the scripts lay it out.
fn kafka_libs() -> PathBuf {
    let cache = env_nonempty("KHLANG_CACHE").map_or_else(
        || {
            PathBuf::from(env_nonempty("HOME").unwrap_or_else(|| "/root".to_owned()))
                .join(".cache/khlang")
        },
        PathBuf::from,
    );
    let version = env_nonempty("KHLANG_KAFKA_VERSION").unwrap_or_else(|| "4.1.1".to_owned());
    let dist = cache.join(format!("kafka-{version}"));
    assert!(
        dist.join(".complete").is_file() && dist.join("libs").is_dir(),
        "Kafka {version} is not in {}: run scripts/infra/up.sh (or scripts/infra/kafka.sh fetch) \
         once to download it",
        dist.display()
    );
    dist.join("libs")
}

/// `$KHLANG_KAFKA_JAVA`, else a Java ≥ 17 found as `scripts/infra/lib.sh`
/// `find_java` does: `$JAVA_HOME`, the `PATH`, then the newest under
/// `/usr/lib/jvm`.
fn kafka_java() -> PathBuf {
    if let Some(java) = env_nonempty("KHLANG_KAFKA_JAVA") {
        return PathBuf::from(java);
    }
    let mut first = Vec::new();
    if let Some(home) = env_nonempty("JAVA_HOME") {
        first.push(PathBuf::from(home).join("bin/java"));
    }
    if let Some(path) = std::env::var_os("PATH") {
        if let Some(java) = std::env::split_paths(&path)
            .map(|dir| dir.join("java"))
            .find(|java| java.is_file())
        {
            first.push(java);
        }
    }
    for java in first {
        if java_major(&java).is_some_and(|v| v >= 17) {
            return java;
        }
    }
    let mut best: Option<(u32, PathBuf)> = None;
    if let Ok(entries) = fs::read_dir("/usr/lib/jvm") {
        for entry in entries.flatten() {
            let java = entry.path().join("bin/java");
            if let Some(v) = java_major(&java).filter(|v| *v >= 17) {
                if best.as_ref().is_none_or(|(b, _)| v > *b) {
                    best = Some((v, java));
                }
            }
        }
    }
    best.map(|(_, java)| java).unwrap_or_else(|| {
        panic!(
            "no Java >= 17 found for KafkaNode (install openjdk-17-jre-headless or set \
             KHLANG_KAFKA_JAVA); run scripts/infra/up.sh to check the setup"
        )
    })
}

/// The feature version (17, 21…) of a Java binary.
fn java_major(java: &Path) -> Option<u32> {
    if !java.is_file() {
        return None;
    }
    let output = Command::new(java)
        .args(["-XshowSettings:properties", "-version"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stderr);
    let version = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("java.specification.version = "))?;
    version.trim().trim_start_matches("1.").parse().ok()
}

/// Kills and deletes nodes whose test process is gone (it died without
/// unwinding, so [`Drop`] never ran). The directory name carries the pid of
/// the test process; the broker is only killed when its command line names
/// that directory.
fn sweep_orphans(root: &Path) {
    let Ok(entries) = fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(owner) = name
            .strip_prefix(DIR_PREFIX)
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if owner == std::process::id() || Path::new(&format!("/proc/{owner}")).exists() {
            continue;
        }
        let dir = entry.path();
        if let Some(pid) = fs::read_to_string(dir.join("kafka.pid"))
            .ok()
            .and_then(|p| p.trim().parse::<u32>().ok())
        {
            let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let marker = dir.join("server.properties");
            if String::from_utf8_lossy(&cmdline).contains(&*marker.to_string_lossy()) {
                eprintln!(
                    "KafkaNode: killing pid {pid} left behind in {}",
                    dir.display()
                );
                let _ = Command::new("kill")
                    .arg("-KILL")
                    .arg(pid.to_string())
                    .status();
            }
        }
        let _ = fs::remove_dir_all(&dir);
    }
}

/// Ports handed out to live nodes of this process.
static PORTS: Mutex<Vec<u16>> = Mutex::new(Vec::new());

/// Two free ports (broker, controller) in [`PORT_RANGE`].
fn pick_ports() -> (u16, u16) {
    let mut taken = PORTS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let pick = |taken: &mut Vec<u16>| {
        for _ in 0..1000 {
            let bytes = uuid::Uuid::new_v4().into_bytes();
            let port = PORT_RANGE.0
                + u16::from_be_bytes([bytes[0], bytes[1]]) % (PORT_RANGE.1 - PORT_RANGE.0);
            if !taken.contains(&port) && TcpListener::bind(("127.0.0.1", port)).is_ok() {
                taken.push(port);
                return port;
            }
        }
        panic!("no free port found for KafkaNode in {PORT_RANGE:?}");
    };
    let broker = pick(&mut taken);
    let controller = pick(&mut taken);
    (broker, controller)
}

fn release_ports(ports: &[u16]) {
    PORTS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .retain(|p| !ports.contains(p));
}

/// A Kafka cluster id: 16 random bytes in URL-safe base64 without padding,
/// not starting with `-` (it would read as an option).
fn cluster_id() -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    loop {
        let bytes = uuid::Uuid::new_v4().into_bytes();
        let mut bits: u32 = 0;
        let mut count = 0;
        let mut id = String::with_capacity(22);
        for byte in bytes {
            bits = (bits << 8) | u32::from(byte);
            count += 8;
            while count >= 6 {
                count -= 6;
                id.push(char::from(ALPHABET[((bits >> count) & 63) as usize]));
            }
        }
        if count > 0 {
            id.push(char::from(ALPHABET[((bits << (6 - count)) & 63) as usize]));
        }
        if !id.starts_with('-') {
            return id;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_ids_are_22_url_safe_base64_characters() {
        for _ in 0..200 {
            let id = cluster_id();
            assert_eq!(id.len(), 22, "{id}");
            assert!(!id.starts_with('-'), "{id}");
            assert!(
                id.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
                "{id}"
            );
        }
    }

    #[test]
    fn ports_are_distinct_and_in_range() {
        let (a, b) = pick_ports();
        assert_ne!(a, b);
        for p in [a, b] {
            assert!((PORT_RANGE.0..PORT_RANGE.1).contains(&p), "{p}");
        }
        release_ports(&[a, b]);
    }
}
