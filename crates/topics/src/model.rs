//! The serde model of `topics.yaml` and its validation.
//!
//! The file is parsed strictly (unknown keys are refused, so a typo such as
//! `partiton: 3` is an error rather than a silently ignored line), then
//! checked as a whole so that every problem is reported in one go.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::TopicsError;

/// The managed prefix when the file does not set `managed_prefix`.
pub const DEFAULT_MANAGED_PREFIX: &str = "khlang.";

/// Kafka's limit on topic name length.
const MAX_TOPIC_NAME_LEN: usize = 249;

/// The whole `topics.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicsFile {
    /// Topics whose names start with this prefix belong to the file: a topic
    /// with the prefix that the file does not declare is a deletion
    /// candidate. Topics outside the prefix (and internal `__*` topics) are
    /// never touched. Defaults to [`DEFAULT_MANAGED_PREFIX`].
    #[serde(default = "default_managed_prefix")]
    pub managed_prefix: String,
    /// Values every topic inherits unless it sets its own.
    pub defaults: Defaults,
    /// The declared topics.
    #[serde(default)]
    pub topics: Vec<TopicSpec>,
    /// Directory of the file; `value_schema` paths are relative to it.
    #[serde(skip)]
    base_dir: PathBuf,
}

fn default_managed_prefix() -> String {
    DEFAULT_MANAGED_PREFIX.to_owned()
}

/// The `defaults` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// Replication factor of topics that do not set one.
    pub replication_factor: i32,
    /// Topic configs every topic gets; a topic's own `config` wins per key.
    #[serde(default)]
    pub config: BTreeMap<String, ConfigValue>,
}

/// One entry of `topics`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicSpec {
    /// The Kafka topic name; must start with the managed prefix.
    pub name: String,
    /// The component that writes the topic (documentation).
    pub owner: String,
    /// Partition count; can only grow once the topic exists.
    pub partitions: i32,
    /// Overrides `defaults.replication_factor`.
    #[serde(default)]
    pub replication_factor: Option<i32>,
    /// What the record key is (documentation).
    pub key: String,
    /// Registry subject of the value (`<name>-value`), or null for topics
    /// whose values are not Avro (a DLQ keeps the original bytes).
    #[serde(default)]
    pub value_subject: Option<String>,
    /// Path of the value's `.avsc`, relative to the topics file's directory
    /// (e.g. `schemas/users/user-event.avsc`). Given exactly when
    /// `value_subject` is.
    #[serde(default)]
    pub value_schema: Option<String>,
    /// Topic configs; merged over `defaults.config`.
    #[serde(default)]
    pub config: BTreeMap<String, ConfigValue>,
}

/// A topic config value. Kafka configs are strings; YAML numbers and
/// booleans are accepted too (`retention.ms: 604800000`) and kept as the
/// text Kafka will report back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigValue(pub String);

impl<'de> Deserialize<'de> for ConfigValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Scalar {
            Text(String),
            Int(i64),
            Bool(bool),
            Float(f64),
        }
        let text = match Scalar::deserialize(deserializer)? {
            Scalar::Text(s) => s,
            Scalar::Int(i) => i.to_string(),
            Scalar::Bool(b) => b.to_string(),
            Scalar::Float(f) => f.to_string(),
        };
        Ok(Self(text))
    }
}

impl fmt::Display for ConfigValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the file asks the cluster to look like, defaults merged in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredState {
    /// See [`TopicsFile::managed_prefix`].
    pub managed_prefix: String,
    /// Every declared topic.
    pub topics: Vec<DesiredTopic>,
}

/// One topic as it should be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredTopic {
    /// Topic name.
    pub name: String,
    /// Partition count.
    pub partitions: i32,
    /// Replication factor.
    pub replication_factor: i32,
    /// Every config key the file sets for this topic (defaults merged).
    pub config: BTreeMap<String, String>,
}

impl TopicsFile {
    /// Reads, parses and validates the file at `path`.
    ///
    /// # Errors
    /// [`TopicsError::Read`] when the file cannot be read,
    /// [`TopicsError::Parse`] for bad YAML or unknown keys,
    /// [`TopicsError::Invalid`] listing every rule the file breaks.
    pub fn load(path: &Path) -> Result<Self, TopicsError> {
        let text = std::fs::read_to_string(path).map_err(|source| TopicsError::Read {
            path: path.to_owned(),
            source,
        })?;
        let base_dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
            _ => PathBuf::from("."),
        };
        let file = Self::parse(&text, path, &base_dir)?;
        file.validate(path)?;
        Ok(file)
    }

    /// Parses `text` without validating it; `path` only names the file in
    /// errors, and `value_schema` paths resolve against `base_dir`.
    ///
    /// # Errors
    /// [`TopicsError::Parse`] for bad YAML or keys the model does not know.
    pub fn parse(text: &str, path: &Path, base_dir: &Path) -> Result<Self, TopicsError> {
        let mut file: Self = serde_norway::from_str(text).map_err(|e| TopicsError::Parse {
            path: path.to_owned(),
            detail: e.to_string(),
        })?;
        base_dir.clone_into(&mut file.base_dir);
        Ok(file)
    }

    /// Checks every rule and reports all broken ones together; `path` only
    /// names the file in the error.
    ///
    /// # Errors
    /// [`TopicsError::Invalid`] with one line per problem.
    pub fn validate(&self, path: &Path) -> Result<(), TopicsError> {
        let problems = self.problems();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(TopicsError::Invalid {
                path: path.to_owned(),
                problems,
            })
        }
    }

    /// The directory `value_schema` paths are relative to.
    #[must_use]
    pub fn base_dir(&self) -> &Path {
        &self.base_dir
    }

    /// The declared topic called `name`.
    #[must_use]
    pub fn topic(&self, name: &str) -> Option<&TopicSpec> {
        self.topics.iter().find(|t| t.name == name)
    }

    /// Where the value schema of `topic` lives on disk, if it has one.
    #[must_use]
    pub fn schema_file(&self, topic: &TopicSpec) -> Option<PathBuf> {
        topic.value_schema.as_ref().map(|p| self.base_dir.join(p))
    }

    /// Every topic with defaults merged in.
    #[must_use]
    pub fn desired(&self) -> DesiredState {
        let topics = self
            .topics
            .iter()
            .map(|t| {
                let mut config: BTreeMap<String, String> = self
                    .defaults
                    .config
                    .iter()
                    .map(|(k, v)| (k.clone(), v.0.clone()))
                    .collect();
                config.extend(t.config.iter().map(|(k, v)| (k.clone(), v.0.clone())));
                DesiredTopic {
                    name: t.name.clone(),
                    partitions: t.partitions,
                    replication_factor: t
                        .replication_factor
                        .unwrap_or(self.defaults.replication_factor),
                    config,
                }
            })
            .collect();
        DesiredState {
            managed_prefix: self.managed_prefix.clone(),
            topics,
        }
    }

    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let prefix = &self.managed_prefix;
        if prefix.is_empty() {
            problems.push("managed_prefix must not be empty (it would put every topic of the cluster under this file)".into());
        } else if let Some(why) = name_problem(prefix) {
            problems.push(format!("managed_prefix {prefix:?} {why}"));
        }
        if self.defaults.replication_factor < 1 {
            problems.push(format!(
                "defaults.replication_factor must be at least 1, not {}",
                self.defaults.replication_factor
            ));
        }
        check_config("defaults.config", &self.defaults.config, &mut problems);

        let mut seen: HashMap<&str, usize> = HashMap::new();
        // Kafka refuses topics whose names differ only by '.' versus '_'
        // because they collide in metric names.
        let mut metric_names: HashMap<String, &str> = HashMap::new();
        for (index, topic) in self.topics.iter().enumerate() {
            let name = topic.name.as_str();
            let at = if name.is_empty() {
                format!("topics[{index}]")
            } else {
                format!("topic {name}")
            };
            if let Some(first) = seen.insert(name, index) {
                problems.push(format!(
                    "{at}: declared twice (topics[{first}] and topics[{index}])"
                ));
                continue;
            }
            if let Some(why) = name_problem(name) {
                problems.push(format!("{at}: name {why}"));
            } else if !prefix.is_empty() && !name.starts_with(prefix.as_str()) {
                problems.push(format!(
                    "{at}: name does not start with managed_prefix {prefix:?}"
                ));
            }
            if let Some(other) = metric_names.insert(name.replace('.', "_"), name) {
                if other != name {
                    problems.push(format!("{at}: collides with {other} (kafka treats '.' and '_' alike in metric names)"));
                }
            }
            if topic.owner.trim().is_empty() {
                problems.push(format!("{at}: owner must not be empty"));
            }
            if topic.partitions < 1 {
                problems.push(format!(
                    "{at}: partitions must be at least 1, not {}",
                    topic.partitions
                ));
            }
            if let Some(rf) = topic.replication_factor {
                if rf < 1 {
                    problems.push(format!(
                        "{at}: replication_factor must be at least 1, not {rf}"
                    ));
                }
            }
            check_config(&format!("{at}: config"), &topic.config, &mut problems);
            match (&topic.value_subject, &topic.value_schema) {
                (None, None) => {}
                (Some(_), None) => problems.push(format!(
                    "{at}: value_subject is set but value_schema is not"
                )),
                (None, Some(_)) => problems.push(format!(
                    "{at}: value_schema is set but value_subject is null"
                )),
                (Some(subject), Some(schema)) => {
                    let expected = format!("{name}-value");
                    if *subject != expected {
                        // The codec uses the topic name strategy, so any other
                        // subject would never be the one producers register.
                        problems.push(format!("{at}: value_subject must be {expected:?} (topic name strategy), not {subject:?}"));
                    }
                    let file = self.base_dir.join(schema);
                    if !file.is_file() {
                        problems.push(format!(
                            "{at}: value_schema {} does not exist",
                            file.display()
                        ));
                    }
                }
            }
        }
        problems
    }
}

/// Why `name` is not a legal Kafka topic name, if it is not.
fn name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("must not be empty".into());
    }
    if name == "." || name == ".." {
        return Some(format!("{name:?} is reserved"));
    }
    if name.len() > MAX_TOPIC_NAME_LEN {
        return Some(format!("is longer than {MAX_TOPIC_NAME_LEN} characters"));
    }
    if name.starts_with("__") {
        return Some("must not start with \"__\" (reserved for internal topics)".into());
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Some(format!(
            "contains {bad:?}; only ASCII letters, digits, '.', '_' and '-' are allowed"
        ));
    }
    None
}

fn check_config(at: &str, config: &BTreeMap<String, ConfigValue>, problems: &mut Vec<String>) {
    for (key, value) in config {
        if key.trim().is_empty() {
            problems.push(format!("{at}: empty config key"));
        }
        if value.0.trim().is_empty() {
            problems.push(format!("{at}: {key} has an empty value"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
defaults:
  replication_factor: 1
  config:
    min.insync.replicas: "1"
    retention.ms: 1000
topics:
  - name: khlang.a
    owner: a
    partitions: 3
    key: id
    value_subject: null
    config:
      retention.ms: "2000"
  - name: khlang.b
    owner: b
    partitions: 1
    replication_factor: 3
    key: id
    config:
      cleanup.policy: compact
"#;

    fn parse(text: &str) -> Result<TopicsFile, TopicsError> {
        TopicsFile::parse(text, Path::new("topics.yaml"), Path::new("."))
    }

    fn problems(text: &str) -> Vec<String> {
        match parse(text).and_then(|f| f.validate(Path::new("topics.yaml"))) {
            Err(TopicsError::Invalid { problems, .. }) => problems,
            other => panic!("expected invalid, got {other:?}"),
        }
    }

    #[test]
    fn defaults_are_merged_and_topics_win() {
        let file = parse(GOOD).expect("parses");
        file.validate(Path::new("topics.yaml")).expect("valid");
        assert_eq!(file.managed_prefix, DEFAULT_MANAGED_PREFIX);
        let desired = file.desired();
        let a = &desired.topics[0];
        assert_eq!(a.replication_factor, 1);
        assert_eq!(a.config["retention.ms"], "2000");
        assert_eq!(a.config["min.insync.replicas"], "1");
        let b = &desired.topics[1];
        assert_eq!(b.replication_factor, 3);
        assert_eq!(
            b.config["retention.ms"], "1000",
            "yaml numbers become kafka strings"
        );
        assert_eq!(b.config["cleanup.policy"], "compact");
    }

    #[test]
    fn unknown_keys_are_refused() {
        let text = GOOD.replace("partitions: 3", "partitions: 3\n    partiton: 4");
        let err = parse(&text).expect_err("unknown key");
        assert!(err.to_string().contains("partiton"), "{err}");
        let text = GOOD.replace("defaults:", "defaults:\n  retention: 1");
        assert!(parse(&text).is_err());
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let text = r#"
defaults: {replication_factor: 0}
topics:
  - {name: khlang.a, owner: a, partitions: 0, key: k}
  - {name: khlang.a, owner: a, partitions: 1, key: k}
  - {name: "khlang.b c", owner: a, partitions: 1, key: k}
  - {name: other.c, owner: a, partitions: 1, key: k}
  - {name: khlang.d, owner: "", partitions: 1, replication_factor: -1, key: k}
"#;
        let found = problems(text);
        let expect = [
            "defaults.replication_factor must be at least 1",
            "topic khlang.a: partitions must be at least 1",
            "topic khlang.a: declared twice",
            "contains ' '",
            "topic other.c: name does not start with managed_prefix",
            "topic khlang.d: owner must not be empty",
            "topic khlang.d: replication_factor must be at least 1",
        ];
        for e in expect {
            assert!(
                found.iter().any(|p| p.contains(e)),
                "missing {e:?} in {found:#?}"
            );
        }
        assert_eq!(found.len(), expect.len(), "{found:#?}");
    }

    #[test]
    fn names_follow_kafka_rules() {
        assert!(name_problem("khlang.users-events_v2").is_none());
        assert!(name_problem("").is_some());
        assert!(name_problem("..").is_some());
        assert!(name_problem("__consumer_offsets").is_some());
        assert!(name_problem("a/b").is_some());
        assert!(name_problem("ก").is_some());
        assert!(name_problem(&"a".repeat(250)).is_some());
        let text = r#"
defaults: {replication_factor: 1}
topics:
  - {name: khlang.a.b, owner: a, partitions: 1, key: k}
  - {name: khlang.a_b, owner: a, partitions: 1, key: k}
"#;
        assert!(problems(text)[0].contains("collides with khlang.a.b"));
    }

    #[test]
    fn schema_and_subject_go_together_and_follow_the_topic_name() {
        let text = r#"
managed_prefix: t.
defaults: {replication_factor: 1}
topics:
  - {name: t.a, owner: a, partitions: 1, key: k, value_subject: t.a-value}
  - {name: t.b, owner: a, partitions: 1, key: k, value_schema: b.avsc}
  - {name: t.c, owner: a, partitions: 1, key: k, value_subject: other-value, value_schema: missing.avsc}
"#;
        let found = problems(text);
        assert!(
            found[0].contains("t.a: value_subject is set but value_schema is not"),
            "{found:?}"
        );
        assert!(
            found[1].contains("t.b: value_schema is set but value_subject is null"),
            "{found:?}"
        );
        assert!(found[2].contains("must be \"t.c-value\""), "{found:?}");
        assert!(
            found[3].contains("missing.avsc does not exist"),
            "{found:?}"
        );
    }

    #[test]
    fn managed_prefix_must_be_a_legal_non_empty_name_prefix() {
        let found = problems("managed_prefix: \"\"\ndefaults: {replication_factor: 1}\n");
        assert!(found[0].contains("must not be empty"));
        let found = problems("managed_prefix: \"a b\"\ndefaults: {replication_factor: 1}\n");
        assert!(found[0].contains("managed_prefix"));
    }
}
