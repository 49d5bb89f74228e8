//! `topics.yaml` and the typed constants in `khlang_contract::topics` must
//! name the same topics, subjects and schema files.

use std::collections::BTreeSet;
use std::path::Path;

use khlang_contract::topics::{ALL_SUBJECTS, ALL_TOPICS};
use khlang_topics::TopicsFile;

const TOPICS_YAML: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../topics.yaml");

fn load() -> TopicsFile {
    TopicsFile::load(Path::new(TOPICS_YAML)).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_topic_constant_is_declared_and_every_declared_topic_has_a_constant() {
    let file = load();
    let declared: BTreeSet<&str> = file.topics.iter().map(|t| t.name.as_str()).collect();
    let constants: BTreeSet<&str> = ALL_TOPICS.iter().map(|t| t.as_str()).collect();
    let missing_in_file: Vec<_> = constants.difference(&declared).collect();
    let missing_constants: Vec<_> = declared.difference(&constants).collect();
    assert!(
        missing_in_file.is_empty(),
        "constants not declared in topics.yaml: {missing_in_file:?}"
    );
    assert!(
        missing_constants.is_empty(),
        "topics.yaml topics without a constant in ALL_TOPICS: {missing_constants:?}"
    );
    assert_eq!(
        ALL_TOPICS.len(),
        constants.len(),
        "ALL_TOPICS holds a duplicate"
    );
}

#[test]
fn every_value_subject_matches_its_constant_and_schema_file() {
    let file = load();
    let mut used = BTreeSet::new();
    for topic in &file.topics {
        let (Some(subject), Some(schema)) = (&topic.value_subject, &topic.value_schema) else {
            continue;
        };
        let constant = ALL_SUBJECTS
            .iter()
            .find(|s| s.name == subject)
            .unwrap_or_else(|| panic!("{}: subject {subject} is not in ALL_SUBJECTS", topic.name));
        assert_eq!(
            schema,
            &format!("schemas/{}", constant.schema_path),
            "{}: value_schema and the constant's schema_path differ",
            topic.name
        );
        assert!(
            used.insert(constant.name),
            "subject {subject} is used by two topics"
        );
    }
    let unused: Vec<_> = ALL_SUBJECTS
        .iter()
        .map(|s| s.name)
        .filter(|n| !used.contains(n))
        .collect();
    assert!(
        unused.is_empty(),
        "ALL_SUBJECTS entries no topic in topics.yaml uses: {unused:?}"
    );
}

#[test]
fn the_repository_file_is_valid_and_manages_the_khlang_prefix() {
    let file = load();
    assert_eq!(file.managed_prefix, khlang_topics::DEFAULT_MANAGED_PREFIX);
    assert!(!file.desired().topics.is_empty());
}
