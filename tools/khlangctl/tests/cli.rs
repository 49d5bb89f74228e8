//! End-to-end tests of the `khlangctl` binary against the real Kafka and
//! schema registry (started by `make test`, or by `scripts/infra/up.sh`
//! followed by `source .khlang/env`).
//!
//! Each test works in its own [`Sandbox`]: a temporary directory with its
//! own `topics.yaml` whose `managed_prefix` is a random `khlang.test<id>.`,
//! so tests neither see nor touch each other's topics or the real ones.
//! The sandbox deletes its topics when dropped, with khlangctl itself.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, AlterConfig, ResourceSpecifier};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::message::{Header, Headers, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Message, Offset, TopicPartitionList};
use serde_json::{json, Value as Json};

const BIN: &str = env!("CARGO_BIN_EXE_khlangctl");
const REPO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
const TIMEOUT: Duration = Duration::from_secs(20);

const MISSING_INFRA: &str = "is not set: these tests need the real Kafka and schema registry. \
     Run `make test`, or start them with scripts/infra/up.sh and `source .khlang/env` first";

fn brokers() -> String {
    std::env::var("KHLANG_KAFKA_BROKERS")
        .unwrap_or_else(|_| panic!("KHLANG_KAFKA_BROKERS {MISSING_INFRA}"))
}

fn registry() -> String {
    std::env::var("KHLANG_REGISTRY_URL")
        .unwrap_or_else(|_| panic!("KHLANG_REGISTRY_URL {MISSING_INFRA}"))
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(future)
}

/// What one run of the binary did.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    #[track_caller]
    fn ok(self) -> Self {
        assert_eq!(self.code, 0, "expected success\n{self}");
        self
    }

    #[track_caller]
    fn code(self, code: i32) -> Self {
        assert_eq!(self.code, code, "expected exit code {code}\n{self}");
        self
    }

    #[track_caller]
    fn stdout_has(self, text: &str) -> Self {
        assert!(self.stdout.contains(text), "stdout lacks {text:?}\n{self}");
        self
    }

    #[track_caller]
    fn stderr_has(self, text: &str) -> Self {
        assert!(self.stderr.contains(text), "stderr lacks {text:?}\n{self}");
        self
    }

    fn json(&self) -> Json {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not json: {e}\n{self}"))
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// A temporary topics file, schemas directory and topic prefix.
struct Sandbox {
    dir: PathBuf,
    prefix: String,
    brokers: String,
}

impl Sandbox {
    fn new() -> Self {
        let brokers = brokers();
        let id = uuid::Uuid::new_v4().simple().to_string();
        let prefix = format!("khlang.test{}.", &id[..12]);
        let dir = std::env::temp_dir().join(format!("khlangctl-test-{}", &id[..12]));
        std::fs::create_dir_all(dir.join("schemas/common")).expect("sandbox dir");
        std::fs::copy(
            Path::new(REPO).join("schemas/common/envelope.avsc"),
            dir.join("schemas/common/envelope.avsc"),
        )
        .expect("copy envelope");
        let sandbox = Self {
            dir,
            prefix,
            brokers,
        };
        sandbox.write_topics("");
        sandbox
    }

    /// `name` under the sandbox prefix.
    fn topic(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// Writes `topics.yaml` with `topics` as the body of the `topics:` list;
    /// `{p}` stands for the prefix.
    fn write_topics(&self, topics: &str) {
        let text = format!(
            "managed_prefix: {p}\ndefaults:\n  replication_factor: 1\n  config:\n    min.insync.replicas: \"1\"\ntopics:{}\n",
            if topics.trim().is_empty() { " []".to_owned() } else { topics.replace("{p}", &self.prefix) },
            p = self.prefix,
        );
        std::fs::write(self.dir.join("topics.yaml"), text).expect("write topics.yaml");
    }

    fn write_file(&self, path: &str, text: &str) -> PathBuf {
        let path = self.dir.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, text).expect("write file");
        path
    }

    fn ctl(&self, args: &[&str]) -> Run {
        let mut command = Command::new(BIN);
        command
            .env_remove("KHLANG_KAFKA_BROKERS")
            .env_remove("KHLANG_REGISTRY_URL")
            .arg("--brokers")
            .arg(&self.brokers)
            .arg("--topics-file")
            .arg(self.dir.join("topics.yaml"))
            .arg("--schemas-dir")
            .arg(self.dir.join("schemas"))
            .args(["--timeout", "20"]);
        if let Ok(url) = std::env::var("KHLANG_REGISTRY_URL") {
            command.arg("--registry").arg(url);
        }
        let output = command.args(args).output().expect("run khlangctl");
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    fn config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.brokers);
        config
    }

    fn partitions(&self, topic: &str) -> Option<usize> {
        let consumer: BaseConsumer = self.config().create().expect("consumer");
        let metadata = consumer.fetch_metadata(None, TIMEOUT).expect("metadata");
        metadata
            .topics()
            .iter()
            .find(|t| t.name() == topic)
            .map(|t| t.partitions().len())
    }

    fn describe(&self, topic: &str) -> BTreeMap<String, String> {
        let admin: AdminClient<DefaultClientContext> = self.config().create().expect("admin");
        let results = block_on(
            admin.describe_configs(&[ResourceSpecifier::Topic(topic)], &AdminOptions::new()),
        )
        .expect("describe");
        let resource = results
            .into_iter()
            .next()
            .expect("one result")
            .expect("described");
        resource
            .entries
            .into_iter()
            .filter_map(|e| e.value.map(|v| (e.name, v)))
            .collect()
    }

    fn produce(
        &self,
        topic: &str,
        partition: Option<i32>,
        key: &[u8],
        value: &[u8],
        headers: &[(&str, &str)],
    ) -> i64 {
        let producer: FutureProducer = self.config().create().expect("producer");
        let mut hs = OwnedHeaders::new();
        for (k, v) in headers {
            hs = hs.insert(Header {
                key: k,
                value: Some(*v),
            });
        }
        let mut record = FutureRecord::to(topic).key(key).payload(value).headers(hs);
        if let Some(p) = partition {
            record = record.partition(p);
        }
        block_on(producer.send(record, TIMEOUT))
            .map_err(|(e, _)| e)
            .expect("delivered")
            .offset
    }

    fn read_at(&self, topic: &str, partition: i32, offset: i64) -> OwnedMessage {
        // assign needs a group id; with auto commit off it is never created.
        let consumer: BaseConsumer = self
            .config()
            .set("group.id", "khlangctl-test-reader")
            .set("enable.auto.commit", "false")
            .create()
            .expect("consumer");
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(topic, partition, Offset::Offset(offset))
            .expect("tpl");
        consumer.assign(&tpl).expect("assign");
        let deadline = Instant::now() + TIMEOUT;
        while Instant::now() < deadline {
            if let Some(message) = consumer.poll(Duration::from_millis(200)) {
                let message = message.expect("message");
                if message.offset() == offset {
                    return message.detach();
                }
            }
        }
        panic!("no record at {topic}/{partition}/{offset}");
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        // Everything under the prefix goes: an empty file plus --allow-delete.
        self.write_topics("");
        let run = self.ctl(&["topics", "apply", "--allow-delete", "--yes"]);
        if run.code != 0 {
            eprintln!("cleanup of {} failed\n{run}", self.prefix);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn headers_of(message: &OwnedMessage) -> BTreeMap<String, String> {
    message
        .headers()
        .map(|hs| {
            hs.iter()
                .map(|h| {
                    (
                        h.key.to_owned(),
                        String::from_utf8_lossy(h.value.unwrap_or_default()).into_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

const TWO_TOPICS: &str = r#"
  - name: {p}orders
    owner: test
    partitions: 3
    key: order id
    config:
      retention.ms: "3600000"
  - name: {p}ledger
    owner: test
    partitions: 1
    key: sku
    config:
      cleanup.policy: compact
"#;

#[test]
fn plan_shows_drift_apply_fixes_it_and_a_second_apply_does_nothing() {
    let sb = Sandbox::new();
    sb.write_topics(TWO_TOPICS);
    let (orders, ledger) = (sb.topic("orders"), sb.topic("ledger"));

    let plan = sb
        .ctl(&["topics", "plan"])
        .ok()
        .stdout_has(&orders)
        .stdout_has(&ledger);
    assert_eq!(plan.stdout.matches("create").count(), 2, "{plan}");
    sb.ctl(&["topics", "plan", "--check"]).code(2);

    sb.ctl(&["topics", "apply", "--yes"])
        .ok()
        .stdout_has(&format!("done: create {orders}"))
        .stdout_has("the cluster matches");
    sb.ctl(&["topics", "plan", "--check"])
        .ok()
        .stdout_has("no changes");
    let again = sb
        .ctl(&["topics", "apply", "--yes"])
        .ok()
        .stdout_has("no changes");
    assert!(!again.stdout.contains("done:"), "{again}");

    assert_eq!(sb.partitions(&orders), Some(3));
    assert_eq!(sb.describe(&orders)["retention.ms"], "3600000");
    assert_eq!(sb.describe(&ledger)["cleanup.policy"], "compact");
    assert_eq!(sb.describe(&ledger)["min.insync.replicas"], "1");
}

#[test]
fn partitions_grow_but_a_decrease_is_refused_and_changes_nothing() {
    let sb = Sandbox::new();
    let topic = sb.topic("grow");
    let file =
        |n: u32| format!("\n  - {{name: {{p}}grow, owner: test, partitions: {n}, key: k}}\n");
    sb.write_topics(&file(2));
    sb.ctl(&["topics", "apply", "--yes"]).ok();

    sb.write_topics(&file(4));
    sb.ctl(&["topics", "plan"])
        .ok()
        .stdout_has("add partitions")
        .stdout_has("partitions 2 -> 4");
    sb.ctl(&["topics", "apply", "--yes"])
        .ok()
        .stdout_has("done: add partitions");
    assert_eq!(sb.partitions(&topic), Some(4));
    sb.ctl(&["topics", "plan", "--check"]).ok();

    sb.write_topics(&file(1));
    sb.ctl(&["topics", "plan", "--check"])
        .code(2)
        .stdout_has("decrease partitions");
    sb.ctl(&["topics", "apply", "--yes"])
        .code(3)
        .stderr_has("kafka cannot remove partitions")
        .stderr_has("nothing applied");
    sb.ctl(&[
        "topics",
        "apply",
        "--yes",
        "--allow-delete",
        "--allow-replication-change",
    ])
    .code(3);
    assert_eq!(sb.partitions(&topic), Some(4));
}

#[test]
fn config_changes_keep_overrides_the_file_does_not_declare() {
    let sb = Sandbox::new();
    let topic = sb.topic("conf");
    let file = |retention: &str| {
        format!("\n  - {{name: {{p}}conf, owner: test, partitions: 1, key: k, config: {{retention.ms: \"{retention}\"}}}}\n")
    };
    sb.write_topics(&file("3600000"));
    sb.ctl(&["topics", "apply", "--yes"]).ok();

    // An override set by hand on a key the file does not mention.
    let admin: AdminClient<DefaultClientContext> = sb.config().create().expect("admin");
    let by_hand = AlterConfig::new(ResourceSpecifier::Topic(&topic))
        .set("retention.ms", "3600000")
        .set("min.insync.replicas", "1")
        .set("max.message.bytes", "200000");
    let results = block_on(admin.alter_configs(&[by_hand], &AdminOptions::new())).expect("alter");
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    sb.ctl(&["topics", "plan", "--check"]).ok();

    sb.write_topics(&file("7200000"));
    let plan = sb
        .ctl(&["topics", "plan"])
        .ok()
        .stdout_has("retention.ms 3600000 -> 7200000");
    assert!(!plan.stdout.contains("max.message.bytes"), "{plan}");
    sb.ctl(&["topics", "apply", "--yes"])
        .ok()
        .stdout_has("done: alter config");
    let config = sb.describe(&topic);
    assert_eq!(config["retention.ms"], "7200000");
    assert_eq!(
        config["max.message.bytes"], "200000",
        "the hand-set override survived"
    );
    sb.ctl(&["topics", "plan", "--check"]).ok();
}

#[test]
fn deleting_a_topic_needs_allow_delete() {
    let sb = Sandbox::new();
    sb.write_topics(TWO_TOPICS);
    sb.ctl(&["topics", "apply", "--yes"]).ok();
    let ledger = sb.topic("ledger");

    sb.write_topics("\n  - {name: \"{p}orders\", owner: test, partitions: 3, key: k, config: {retention.ms: \"3600000\"}}\n");
    sb.ctl(&["topics", "plan", "--check"])
        .code(2)
        .stdout_has("delete")
        .stdout_has("needs --allow-delete");
    sb.ctl(&["topics", "apply", "--yes"])
        .code(3)
        .stderr_has("--allow-delete")
        .stderr_has("nothing applied");
    assert_eq!(sb.partitions(&ledger), Some(1), "still there");

    sb.ctl(&["topics", "apply", "--yes", "--allow-delete"])
        .ok()
        .stdout_has(&format!("done: delete {ledger}"));
    assert_eq!(sb.partitions(&ledger), None);
    sb.ctl(&["topics", "plan", "--check"]).ok();
}

#[test]
fn a_replication_change_is_refused_unless_allowed_and_then_left_as_a_manual_step() {
    let sb = Sandbox::new();
    let topic = sb.topic("repl");
    sb.write_topics("\n  - {name: \"{p}repl\", owner: test, partitions: 1, key: k}\n");
    sb.ctl(&["topics", "apply", "--yes"]).ok();

    sb.write_topics(
        "\n  - {name: \"{p}repl\", owner: test, partitions: 2, replication_factor: 3, key: k}\n",
    );
    sb.ctl(&["topics", "apply", "--yes"])
        .code(3)
        .stderr_has("kafka-reassign-partitions");
    assert_eq!(sb.partitions(&topic), Some(1));

    sb.ctl(&["topics", "apply", "--yes", "--allow-replication-change"])
        .ok()
        .stdout_has("done: add partitions")
        .stdout_has("manual step: change replication")
        .stdout_has("except for 1 manual step");
    assert_eq!(sb.partitions(&topic), Some(2));
    sb.ctl(&["topics", "plan", "--check"])
        .code(2)
        .stdout_has("replication 1 -> 3");
}

#[test]
fn an_invalid_topics_file_is_a_one_line_error() {
    let dir = std::env::temp_dir().join(format!(
        "khlangctl-test-bad-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        dir.join("topics.yaml"),
        "defaults: {replication_factor: 1}\ntopics:\n  - {name: khlang.x, owner: o, partitions: 0, key: k, partiton: 2}\n",
    )
    .expect("write");
    let output = Command::new(BIN)
        .args(["--brokers", "127.0.0.1:1", "--topics-file"])
        .arg(dir.join("topics.yaml"))
        .args(["topics", "plan"])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.starts_with("error: cannot parse"), "{stderr}");
    assert!(stderr.contains("unknown field `partiton`"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn an_unreachable_cluster_is_a_clear_error() {
    let dir = std::env::temp_dir().join(format!(
        "khlangctl-test-down-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        dir.join("topics.yaml"),
        "defaults: {replication_factor: 1}\ntopics: []\n",
    )
    .expect("write");
    let output = Command::new(BIN)
        .args([
            "--brokers",
            "127.0.0.1:1",
            "--timeout",
            "2",
            "--topics-file",
        ])
        .arg(dir.join("topics.yaml"))
        .args(["topics", "plan"])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot read the cluster at 127.0.0.1:1"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

const THING_V1: &str = r#"{"type": "record", "name": "Thing", "namespace": "th.khlang.test", "fields": [
    {"name": "envelope", "type": "th.khlang.Envelope"},
    {"name": "name", "type": "string"}]}"#;
const THING_V2: &str = r#"{"type": "record", "name": "Thing", "namespace": "th.khlang.test", "fields": [
    {"name": "envelope", "type": "th.khlang.Envelope"},
    {"name": "name", "type": "string"},
    {"name": "note", "type": ["null", "string"], "default": null}]}"#;
const THING_BREAKING: &str = r#"{"type": "record", "name": "Thing", "namespace": "th.khlang.test", "fields": [
    {"name": "envelope", "type": "th.khlang.Envelope"},
    {"name": "name", "type": "string"},
    {"name": "note", "type": ["null", "string"], "default": null},
    {"name": "quantity", "type": "int"}]}"#;
const THINGS_TOPIC: &str = r#"
  - name: {p}things
    owner: test
    partitions: 2
    key: thing id
    value_subject: {p}things-value
    value_schema: schemas/test/thing.avsc
"#;

#[test]
fn schemas_check_and_register_follow_the_registry_compatibility() {
    let sb = Sandbox::new();
    registry();
    let subject = format!("{}things-value", sb.prefix);
    sb.write_topics(THINGS_TOPIC);

    sb.write_file("schemas/test/thing.avsc", THING_V1);
    sb.ctl(&["schemas", "check"])
        .ok()
        .stdout_has(&subject)
        .stdout_has("new subject");
    let first = sb
        .ctl(&["schemas", "register"])
        .ok()
        .stdout_has(&format!("registered {subject} -> id "));
    sb.ctl(&["schemas", "check"]).ok().stdout_has("compatible");
    let again = sb.ctl(&["schemas", "register"]).ok();
    assert_eq!(
        first.stdout.lines().last(),
        again.stdout.lines().last(),
        "same schema, same id"
    );

    sb.write_file("schemas/test/thing.avsc", THING_V2);
    sb.ctl(&["schemas", "check"]).ok().stdout_has("compatible");
    let second = sb.ctl(&["schemas", "register"]).ok();
    assert_ne!(
        first.stdout.lines().last(),
        second.stdout.lines().last(),
        "a new version gets a new id"
    );

    sb.write_file("schemas/test/thing.avsc", THING_BREAKING);
    sb.ctl(&["schemas", "check"])
        .code(3)
        .stdout_has("INCOMPATIBLE");
    sb.ctl(&["schemas", "register"])
        .code(3)
        .stderr_has("nothing registered");

    sb.write_file("schemas/test/thing.avsc", "{not json");
    sb.ctl(&["schemas", "check"]).code(3).stdout_has("INVALID");
}

#[test]
fn lag_shows_committed_offset_high_watermark_and_lag() {
    let sb = Sandbox::new();
    let topic = sb.topic("events");
    let group = format!("{}group", sb.prefix);
    sb.write_topics("\n  - {name: \"{p}events\", owner: test, partitions: 2, key: k}\n");
    sb.ctl(&["topics", "apply", "--yes"]).ok();
    for i in 0..5 {
        sb.produce(&topic, Some(0), b"k", format!("v{i}").as_bytes(), &[]);
    }
    for i in 0..3 {
        sb.produce(&topic, Some(1), b"k", format!("v{i}").as_bytes(), &[]);
    }
    let consumer: BaseConsumer = sb
        .config()
        .set("group.id", &group)
        .create()
        .expect("consumer");
    let mut offsets = TopicPartitionList::new();
    offsets
        .add_partition_offset(&topic, 0, Offset::Offset(2))
        .expect("tpl");
    offsets
        .add_partition_offset(&topic, 1, Offset::Offset(3))
        .expect("tpl");
    consumer.commit(&offsets, CommitMode::Sync).expect("commit");

    let run = sb.ctl(&["lag", "--group", &group, "--json"]).ok();
    let report = run.json();
    assert_eq!(report.as_array().map(Vec::len), Some(1), "{run}");
    let g = &report[0];
    assert_eq!(g["group"], json!(group));
    assert_eq!(g["total_lag"], json!(3), "{run}");
    let partitions = g["partitions"].as_array().expect("partitions");
    assert_eq!(partitions.len(), 2, "{run}");
    assert_eq!(
        partitions[0],
        json!({"topic": topic, "partition": 0, "committed": 2, "high_watermark": 5, "lag": 3})
    );
    assert_eq!(
        partitions[1],
        json!({"topic": topic, "partition": 1, "committed": 3, "high_watermark": 3, "lag": 0})
    );

    // Without --group, every khlang* group is listed, ours included.
    let all = sb
        .ctl(&["lag"])
        .ok()
        .stdout_has(&group)
        .stdout_has("HIGH WATERMARK");
    assert!(
        all.stdout
            .lines()
            .any(|l| l.starts_with(&group) && l.contains(&topic) && l.trim_end().ends_with('3')),
        "{all}"
    );

    drop(consumer);
    let admin: AdminClient<DefaultClientContext> = sb.config().create().expect("admin");
    block_on(admin.delete_groups(&[&group], &AdminOptions::new())).expect("delete group");
}

fn dlq_headers<'a>(source: &'a str, offset: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("khlang.dlq.reason", "cannot decode: not wire format"),
        ("khlang.dlq.error.kind", "decode"),
        ("khlang.dlq.source.topic", source),
        ("khlang.dlq.source.partition", "1"),
        ("khlang.dlq.source.offset", offset),
        ("khlang.dlq.failed_at", "2026-01-02T03:04:05.678Z"),
        ("trace", "abc"),
    ]
}

#[test]
fn dlq_inspect_lists_records_and_replay_resends_the_original_bytes() {
    let sb = Sandbox::new();
    let (source, dlq) = (sb.topic("commands"), sb.topic("commands.dlq"));
    sb.write_topics(
        "\n  - {name: \"{p}commands\", owner: test, partitions: 2, key: k}\n  - {name: \"{p}commands.dlq\", owner: test, partitions: 1, key: k}\n",
    );
    sb.ctl(&["topics", "apply", "--yes"]).ok();
    let raw: &[u8] = b"\x01\x02not avro\xff";
    sb.produce(&dlq, None, b"user-1", raw, &dlq_headers(&source, "41"));
    sb.produce(
        &dlq,
        None,
        b"user-2",
        b"{\"hello\": 1}",
        &dlq_headers(&source, "42"),
    );

    let run = sb.ctl(&["dlq", "inspect", "--topic", &dlq, "--json"]).ok();
    let records = run.json();
    assert_eq!(records.as_array().map(Vec::len), Some(2), "{run}");
    let first = &records[0];
    assert_eq!(first["offset"], json!(0));
    assert_eq!(first["key"], json!("user-1"));
    assert_eq!(first["headers"]["khlang.dlq.error.kind"], json!("decode"));
    assert_eq!(first["headers"]["khlang.dlq.source.topic"], json!(source));
    assert_eq!(first["value_size"], json!(raw.len()));
    assert_eq!(
        first["value_preview"],
        json!("hex 01 02 6e 6f 74 20 61 76 72 6f ff")
    );
    assert_eq!(records[1]["value_preview"], json!("\"{\\\"hello\\\": 1}\""));

    sb.ctl(&["dlq", "inspect", "--topic", &dlq])
        .ok()
        .stdout_has(&format!("{dlq}/0/1"))
        .stdout_has(
            "failed   decode error at 2026-01-02T03:04:05.678Z: cannot decode: not wire format",
        )
        .stdout_has(&format!("source   {source}/1/42"));
    let limited = sb
        .ctl(&["dlq", "inspect", "--topic", &dlq, "--limit", "1", "--json"])
        .ok()
        .json();
    assert_eq!(limited.as_array().map(Vec::len), Some(1));
    let later = sb
        .ctl(&[
            "dlq",
            "inspect",
            "--topic",
            &dlq,
            "--from-offset",
            "1",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(later[0]["offset"], json!(1));
    assert_eq!(later.as_array().map(Vec::len), Some(1));

    let run = sb
        .ctl(&["dlq", "replay", "--topic", &dlq, "--offset", "0"])
        .ok();
    let (partition, offset) = replayed_to(&run, &source);
    let message = sb.read_at(&source, partition, offset);
    assert_eq!(message.key(), Some(&b"user-1"[..]));
    assert_eq!(message.payload(), Some(raw));
    let headers = headers_of(&message);
    assert_eq!(
        headers.get("khlang.replayed_from"),
        Some(&format!("{dlq}/0/0"))
    );
    assert_eq!(
        headers.get("trace").map(String::as_str),
        Some("abc"),
        "other headers are kept"
    );
    assert!(
        !headers.keys().any(|k| k.starts_with("khlang.dlq.")),
        "{headers:?}"
    );

    sb.ctl(&["dlq", "replay", "--topic", &dlq, "--offset", "7"])
        .code(1)
        .stderr_has("no record at");
    sb.ctl(&["dlq", "inspect", "--topic", &sb.topic("nope")])
        .code(1)
        .stderr_has("does not exist");
}

/// The target partition and offset from replay's output.
fn replayed_to(run: &Run, target: &str) -> (i32, i64) {
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("replayed "))
        .unwrap_or_else(|| panic!("{run}"));
    let rest = line
        .split_once(&format!(" to {target} partition "))
        .unwrap_or_else(|| panic!("{run}"))
        .1;
    let (partition, offset) = rest
        .split_once(" offset ")
        .unwrap_or_else(|| panic!("{run}"));
    (
        partition.parse().expect("partition"),
        offset.parse().expect("offset"),
    )
}

#[test]
fn dlq_replay_with_value_json_lands_decodable_avro() {
    let sb = Sandbox::new();
    let registry = registry();
    let (source, dlq) = (sb.topic("things"), sb.topic("things.dlq"));
    sb.write_file("schemas/test/thing.avsc", THING_V2);
    sb.write_topics(&format!(
        "{THINGS_TOPIC}\n  - {{name: \"{{p}}things.dlq\", owner: test, partitions: 1, key: k}}\n"
    ));
    sb.ctl(&["topics", "apply", "--yes"]).ok();
    sb.produce(
        &dlq,
        None,
        b"thing-1",
        b"garbage",
        &dlq_headers(&source, "0"),
    );

    let value = json!({
        "envelope": {
            "id": "01890a5d-ac96-774b-bcce-b302099a8057",
            "type": "Thing",
            "occurred_at": 1_700_000_000_000_000_i64,
            "actor": {"id": "u1", "kind": "user", "role": "admin"},
            "correlation_id": "c1",
            "causation_id": null,
            "source": "khlangctl-test"
        },
        "name": "widget",
        "note": "fixed by hand"
    });
    let file = sb.write_file("fixed.json", &value.to_string());
    let file = file.to_str().expect("utf-8 path");
    let run = sb
        .ctl(&[
            "dlq",
            "replay",
            "--topic",
            &dlq,
            "--offset",
            "0",
            "--value-json",
            file,
        ])
        .ok();
    let (partition, offset) = replayed_to(&run, &source);
    let message = sb.read_at(&source, partition, offset);
    assert_eq!(message.key(), Some(&b"thing-1"[..]));
    let codec = khlang_codec::Codec::new(&registry).expect("codec");
    let decoded =
        block_on(codec.decode_value(message.payload().expect("payload"))).expect("decodable avro");
    assert_eq!(Json::try_from(decoded).expect("json"), value);

    let bad = sb.write_file("bad.json", r#"{"name": "no envelope"}"#);
    sb.ctl(&[
        "dlq",
        "replay",
        "--topic",
        &dlq,
        "--offset",
        "0",
        "--value-json",
        bad.to_str().expect("path"),
    ])
    .code(1)
    .stderr_has("does not fit the schema");
}
