//! The schema registry going away is an outage, not poison: records wait for
//! it and keep their order, nothing goes to the DLQ. And every instance of a
//! processor is ready, not only the one whose relay leads.

#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::time::Duration;

use khlang_testkit::{eventually, read_committed, terminate, Link, Processor, ProcessorEnv};
use support::*;

const WAIT: Duration = Duration::from_secs(120);

/// Whether any start's log has a line containing `text`.
fn logged(processor: &Processor, starts: usize, text: &str) -> bool {
    (0..starts)
        .any(|n| std::fs::read_to_string(processor.log(n)).is_ok_and(|log| log.contains(text)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_outage_delays_records_without_dead_lettering_them() {
    let env = TestEnv::new(2).await;
    // The processors reach the real registry through a link the test can
    // cut; everyone else keeps using it directly.
    let (host, path) = env
        .infra
        .registry_url
        .trim_start_matches("http://")
        .split_once('/')
        .map(|(host, path)| (host.to_owned(), format!("/{path}")))
        .unwrap();
    let link = Link::to(&host).await;
    let users = Processor::new(
        env!("CARGO_BIN_EXE_khlang-users"),
        ProcessorEnv {
            infra: &env.infra,
            database_url: env.database_url(),
            topic_namespace: &env.ns,
            redis_prefix: &env.redis_prefix,
            service: &format!("users-{}", env.ns),
        },
    )
    .env("KHLANG_REGISTRY_URL", &link.url(&path));
    let mut first = users.start();
    let mut second = users.start();

    // Both instances are ready: one leads the relay, the other stands by.
    for n in 0..2 {
        eventually(&format!("instance {n} ready"), WAIT, || async {
            (users.ready(n).await == Some(true)).then_some(())
        })
        .await;
    }

    // Decoding: no record has been decoded yet, so the command's schema id
    // must be fetched, and the registry is unreachable.
    link.cut();
    let ghost = uuid::Uuid::new_v4().to_string();
    let rename_ghost = rename(&ghost, "nobody");
    env.send(&rename_ghost, Some(0)).await;
    eventually("decoding waits for the registry", WAIT, || async {
        logged(&users, 2, "schema registry unavailable, decoding waits").then_some(())
    })
    .await;
    assert_eq!(
        env.outcome_count().await,
        0,
        "nothing applied during the outage"
    );
    link.restore();
    env.wait_for_outcomes(1, WAIT).await;
    assert_eq!(
        env.outcome(&rename_ghost.envelope.id).await,
        Some(("rejected".into(), Some("user_not_found".into())))
    );

    // Encoding: the command schema is known now, but the first
    // UserRegistered event needs the registry for the events subject.
    link.cut();
    let user = uuid::Uuid::new_v4().to_string();
    let registration = register(&user, "outage@khlang.test", "outage", "manager");
    // the same partition as the first command, so the instance that
    // decoded it (and cached the schema) applies this one too
    env.send(&registration, Some(0)).await;
    eventually("applying waits for the registry", WAIT, || async {
        logged(&users, 2, "a dependency is unavailable, the record waits").then_some(())
    })
    .await;
    assert_eq!(
        env.outcome_count().await,
        1,
        "nothing applied during the outage"
    );
    link.restore();
    env.wait_for_outcomes(2, WAIT).await;
    assert_eq!(
        env.outcome(&registration.envelope.id).await,
        Some(("accepted".into(), None))
    );

    // Nothing was dead-lettered, and the event went out once.
    assert!(read_committed(&env.infra.brokers, env.dlq.as_str()).is_empty());
    let events = eventually("the registration event", WAIT, || async {
        let events = read_committed(&env.infra.brokers, env.events.as_str());
        (!events.is_empty()).then_some(events)
    })
    .await;
    assert_eq!(events.len(), 1);
    terminate(&mut first);
    terminate(&mut second);
}
