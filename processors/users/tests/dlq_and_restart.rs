//! Poison records go to the DLQ and the partition keeps moving; a fixed
//! record replayed with `khlangctl dlq replay` is applied; a clean restart
//! reprocesses nothing.

#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use khlang_runtime::dlq_header_names as h;
use khlang_testkit::{eventually, read_committed, terminate, wait_until_applied};
use support::*;

const WAIT: Duration = Duration::from_secs(120);

fn khlangctl() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_BIN_EXE_khlang-users")).with_file_name("khlangctl");
    assert!(
        path.exists(),
        "{} is missing: build it first (`cargo build --workspace --bins`, as `make test` does)",
        path.display()
    );
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_records_go_to_the_dlq_and_a_fixed_record_replays() {
    let env = TestEnv::new(1).await;
    let mut processor = env.start();
    let before = uuid::Uuid::new_v4().to_string();
    env.send(
        &register(&before, "before@khlang.test", "before", "manager"),
        None,
    )
    .await;
    env.send_raw("garbage-key", b"\x13\x37 this is not avro")
        .await;
    // Confluent framing with a schema id no registry has.
    env.send_raw("unknown-schema", &[0, 0x7f, 0xff, 0xff, 0xf0, 2, 4, 6])
        .await;
    let after = uuid::Uuid::new_v4().to_string();
    env.send(
        &register(&after, "after@khlang.test", "after", "manager"),
        None,
    )
    .await;

    // The partition kept moving past the poison.
    env.wait_for_outcomes(2, WAIT).await;
    let dlq = eventually("two dlq records", WAIT, || async {
        let records = read_committed(&env.infra.brokers, env.dlq.as_str());
        (records.len() == 2).then_some(records)
    })
    .await;
    assert_eq!(dlq[0].key.as_deref(), Some(&b"garbage-key"[..]));
    assert_eq!(
        dlq[0].value.as_deref(),
        Some(&b"\x13\x37 this is not avro"[..])
    );
    assert_eq!(dlq[0].headers[h::ERROR_KIND], "decode");
    assert_eq!(dlq[0].headers[h::SOURCE_TOPIC], env.commands.as_str());
    assert_eq!(dlq[0].headers[h::SOURCE_PARTITION], "0");
    assert_eq!(dlq[0].headers[h::SOURCE_OFFSET], "1");
    assert!(
        dlq[0].headers[h::REASON].contains("wire format"),
        "{}",
        dlq[0].headers[h::REASON]
    );
    assert_eq!(dlq[1].headers[h::SOURCE_OFFSET], "2");
    assert!(!dlq[1].headers[h::REASON].is_empty());

    // An operator fixes the second record and replays it.
    let fixed_id = uuid::Uuid::new_v4().to_string();
    let fixed = register(&fixed_id, "fixed@khlang.test", "fixed", "warehouse_staff");
    let file = std::env::temp_dir().join(format!("{}-fixed.json", env.ns));
    std::fs::write(&file, serde_json::to_vec(&fixed).unwrap()).unwrap();
    // A topics file declaring this test's namespaced command topic, so that
    // khlangctl knows the target's schema exactly as it would in production.
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let topics_file = std::env::temp_dir().join(format!("{}-topics.yaml", env.ns));
    std::fs::write(
        &topics_file,
        format!(
            "managed_prefix: \"{ns}.\"\ndefaults:\n  replication_factor: 1\ntopics:\n  - name: {topic}\n    owner: users\n    partitions: 1\n    key: user_id\n    value_subject: {topic}-value\n    value_schema: {schema}\n",
            ns = env.ns,
            topic = env.commands.as_str(),
            schema = repo.join("schemas/users/user-command.avsc").display(),
        ),
    )
    .unwrap();
    let output = Command::new(khlangctl())
        .args([
            "--brokers",
            &env.infra.brokers,
            "--registry",
            &env.infra.registry_url,
        ])
        .arg("--topics-file")
        .arg(&topics_file)
        .arg("--schemas-dir")
        .arg(repo.join("schemas"))
        .args([
            "dlq",
            "replay",
            "--topic",
            env.dlq.as_str(),
            "--offset",
            &dlq[1].offset.to_string(),
        ])
        .arg("--value-json")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "replay failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    env.wait_for_outcomes(3, WAIT).await;
    assert_eq!(
        env.outcome(&fixed.envelope.id).await,
        Some(("accepted".into(), None))
    );
    terminate(&mut processor);
}

/// What the second start has consumed, from its telemetry endpoint.
async fn consumed_total(env: &TestEnv) -> Option<f64> {
    env.processor
        .metric(1, "khlang_runtime_records_consumed_total")
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_restart_reprocesses_nothing() {
    let env = TestEnv::new(3).await;
    let mut processor = env.start();
    let first: Vec<_> = (0..50)
        .map(|i| {
            register(
                &uuid::Uuid::new_v4().to_string(),
                &format!("r{i}@khlang.test"),
                &format!("r{i}"),
                "manager",
            )
        })
        .collect();
    for c in &first {
        env.send(c, None).await;
    }
    env.wait_for_outcomes(50, WAIT).await;
    terminate(&mut processor);

    let mut processor = env.start();
    let second: Vec<_> = (50..60)
        .map(|i| {
            register(
                &uuid::Uuid::new_v4().to_string(),
                &format!("r{i}@khlang.test"),
                &format!("r{i}"),
                "manager",
            )
        })
        .collect();
    for c in &second {
        env.send(c, None).await;
    }
    env.wait_for_outcomes(60, WAIT).await;
    // Everything sent is applied (the stored offsets are at the end of the
    // topic), so what the metric says now is final.
    wait_until_applied(&env.infra.brokers, &env.pool, env.commands.as_str(), WAIT).await;
    // The restarted consumer started at the stored offsets: it read only the
    // ten new commands, not the fifty it had already applied.
    let consumed = eventually("metrics of the restarted processor", WAIT, || async {
        consumed_total(&env).await
    })
    .await;
    assert_eq!(consumed, 10.0);
    terminate(&mut processor);

    // Nothing was applied twice: one outcome row per command.
    assert_eq!(env.outcome_count().await, 60);
}
