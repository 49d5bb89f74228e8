//! The runtime's guarantees, proved on the real infrastructure with the real
//! `khlang-users` binary: one outcome per command, effectively-once state and
//! events across `kill -9`, poison records to the DLQ and back, and no
//! reprocessing across a clean restart.

#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use khlang_contract::users::{UserCommand, UserEvent};
use khlang_contract::{CommandOutcome, OutcomeStatus};
use khlang_testkit::{eventually, kill9, read_committed, terminate, wait_until_applied};
use khlang_users::{reasons, UserCache, UserStore};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use support::*;

const WAIT: Duration = Duration::from_secs(240);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_ends_in_one_outcome_and_the_redis_copy_follows() {
    let env = TestEnv::new(3).await;
    let mut processor = env.start();
    let alice = uuid::Uuid::new_v4().to_string();
    let bob = uuid::Uuid::new_v4().to_string();
    let commands = vec![
        register(&alice, "Alice@Khlang.test", "alice", "manager"),
        register(&bob, "alice@khlang.test", "bob", "manager"), // same email, other case
        register(&bob, "bob@khlang.test", "alice", "manager"), // same username
        register(&bob, "bob@khlang.test", "bob", "root"),
        rename(&alice, "อลิซ วงศ์ดี"),
        change_role(&alice, "report_viewer"),
        change_role(&alice, "superuser"),
        deactivate(&alice),
        rename(&alice, "too late"),
        rename(&bob, "nobody"),
    ];
    // One partition, so that the order across the two users is the order sent.
    for c in &commands {
        env.send(c, Some(0)).await;
    }
    // The same command delivered twice must not get a second outcome.
    env.send(&commands[4], Some(0)).await;
    env.wait_for_outcomes(commands.len() as i64, WAIT).await;

    let expected: [(&str, Option<&str>); 10] = [
        ("accepted", None),
        ("rejected", Some(reasons::EMAIL_TAKEN)),
        ("rejected", Some(reasons::USERNAME_TAKEN)),
        ("rejected", Some(reasons::INVALID_ROLE)),
        ("accepted", None),
        ("accepted", None),
        ("rejected", Some(reasons::INVALID_ROLE)),
        ("accepted", None),
        ("rejected", Some(reasons::USER_INACTIVE)),
        ("rejected", Some(reasons::USER_NOT_FOUND)),
    ];
    for (command, (status, reason)) in commands.iter().zip(expected) {
        let outcome = env.outcome(&command.envelope.id).await.unwrap();
        assert_eq!(
            (outcome.0.as_str(), outcome.1.as_deref()),
            (status, reason),
            "{}",
            command.envelope.kind
        );
    }
    terminate(&mut processor);
    assert_eq!(env.outcome_count().await, commands.len() as i64);

    let mut conn = env.pool.acquire().await.unwrap();
    let stored = UserStore::get(&mut conn, alice.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.display_name, "อลิซ วงศ์ดี");
    assert_eq!(stored.role, "report_viewer");
    assert!(!stored.active);
    assert_eq!(stored.version, 4);

    let cache = UserCache::connect(&env.infra.redis_url, &env.redis_prefix)
        .await
        .unwrap();
    let cached = cache.get(alice.parse().unwrap()).await.unwrap();
    assert_eq!(cached.get("active").map(String::as_str), Some("0"));
    assert_eq!(
        cached.get("role").map(String::as_str),
        Some("report_viewer")
    );
    assert_eq!(
        cache.id_by_email("ALICE@khlang.test").await.unwrap(),
        Some(alice.clone())
    );

    // Events carry state but never the password hash.
    let events = read_committed(&env.infra.brokers, env.events.as_str());
    assert_eq!(events.len(), 4);
    for record in &events {
        assert!(!String::from_utf8_lossy(record.value.as_deref().unwrap()).contains("argon2"));
    }
}

/// One user's expected state.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Expected {
    email: String,
    username: String,
    display_name: String,
    role: String,
    active: bool,
    version: i64,
}

const ROLES: [&str; 6] = [
    "admin",
    "manager",
    "warehouse_staff",
    "report_viewer",
    "service",
    "device",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_random_moments_changes_nothing_about_the_result() {
    const USERS: usize = 7000;
    const RACES: usize = 150;
    let env = TestEnv::new(6).await;
    let seed: u64 = rand::random();
    println!("crash test seed {seed}");
    let mut rng = StdRng::seed_from_u64(seed);

    // Per-user command sequences and the oracle computed from them.
    let mut sequences: Vec<Vec<UserCommand>> = Vec::new();
    let mut oracle: HashMap<String, Expected> = HashMap::new();
    let mut expected_outcome: HashMap<String, (&str, Option<&str>)> = HashMap::new();
    let mut expected_events = 0usize;
    for i in 0..USERS {
        let id = uuid::Uuid::new_v4().to_string();
        let role = ROLES[rng.gen_range(0..ROLES.len())];
        let reg = register(
            &id,
            &format!("user{i}@khlang.test"),
            &format!("user{i}"),
            role,
        );
        let mut state = Expected {
            email: format!("user{i}@khlang.test"),
            username: format!("user{i}"),
            display_name: format!("ผู้ใช้ user{i}"),
            role: role.into(),
            active: true,
            version: 1,
        };
        expected_outcome.insert(reg.envelope.id.clone(), ("accepted", None));
        expected_events += 1;
        let mut seq = vec![reg];
        for k in 0..rng.gen_range(0..5) {
            let command = match rng.gen_range(0..10) {
                0..=3 => {
                    let name = format!("ชื่อ {i}-{k}");
                    if state.active {
                        state.display_name = name.clone();
                        state.version += 1;
                        expected_events += 1;
                    }
                    rename(&id, &name)
                }
                4..=6 => {
                    let new_role = ROLES[rng.gen_range(0..ROLES.len())];
                    if state.active && new_role != state.role {
                        state.role = new_role.into();
                        state.version += 1;
                        expected_events += 1;
                    }
                    change_role(&id, new_role)
                }
                7 => change_role(&id, "root"),
                _ => {
                    if state.active {
                        state.active = false;
                        state.version += 1;
                        expected_events += 1;
                    }
                    deactivate(&id)
                }
            };
            seq.push(command);
        }
        oracle.insert(id, state);
        sequences.push(seq);
    }
    // Recompute expected outcomes per command by replaying each sequence.
    for seq in &sequences {
        let mut active = true;
        for command in seq.iter().skip(1) {
            let outcome = if !active {
                ("rejected", Some(reasons::USER_INACTIVE))
            } else if command
                .change_role
                .as_ref()
                .is_some_and(|c| c.role == "root")
            {
                ("rejected", Some(reasons::INVALID_ROLE))
            } else {
                if command.deactivate.is_some() {
                    active = false;
                }
                ("accepted", None)
            };
            expected_outcome.insert(command.envelope.id.clone(), outcome);
        }
    }
    // Registrations of one email with different ids, on different partitions.
    let mut races: Vec<Vec<(UserCommand, i32)>> = Vec::new();
    for g in 0..RACES {
        let group = (0..3)
            .map(|j| {
                let id = uuid::Uuid::new_v4().to_string();
                let p = ((g + j) % env.partitions as usize) as i32;
                (
                    register(
                        &id,
                        &format!("race{g}@khlang.test"),
                        &format!("race{g}-{j}"),
                        "device",
                    ),
                    p,
                )
            })
            .collect();
        races.push(group);
    }
    expected_events += RACES;
    let unique_commands = expected_outcome.len() + RACES * 3;
    // Some commands are delivered twice (a producer retrying after a timeout).
    let duplicates: Vec<UserCommand> = sequences
        .iter()
        .flatten()
        .filter(|_| rng.gen_bool(0.05))
        .cloned()
        .collect();
    println!(
        "crash test: {unique_commands} commands, {} duplicates, {expected_events} events expected",
        duplicates.len()
    );

    let mut processor = env.start();
    let env = std::sync::Arc::new(env);
    let producing = {
        let env = env.clone();
        let races = races.clone();
        tokio::spawn(async move {
            let mut round = 0;
            loop {
                let mut batch: Vec<(UserCommand, Option<i32>)> = Vec::new();
                if round == 0 {
                    for group in &races {
                        batch.extend(group.iter().map(|(c, p)| (c.clone(), Some(*p))));
                    }
                }
                batch.extend(
                    sequences
                        .iter()
                        .filter_map(|s| s.get(round))
                        .map(|c| (c.clone(), None)),
                );
                if batch.is_empty() {
                    break;
                }
                for chunk in batch.chunks(1000) {
                    futures_join(&env, chunk).await;
                    // Spread production over the kills.
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
                round += 1;
            }
            let dups: Vec<(UserCommand, Option<i32>)> =
                duplicates.into_iter().map(|c| (c, None)).collect();
            futures_join(&env, &dups).await;
        })
    };
    let mut kills = 0;
    while kills < 5 {
        // Kill while this instance is applying: once it has recorded some
        // outcomes of its own, then after a random few more.
        let before = env.outcome_count().await;
        let more = rand::thread_rng().gen_range(100..3000);
        eventually("the processor applying commands", WAIT, || async {
            (env.outcome_count().await >= before + more || producing.is_finished()).then_some(())
        })
        .await;
        kill9(&mut processor);
        kills += 1;
        processor = env.start();
    }
    producing.await.unwrap();
    env.wait_for_outcomes(unique_commands as i64, WAIT).await;
    // Every record (duplicates included) is applied: the stored offsets are
    // at the end of the topic, so the counts below are final.
    wait_until_applied(&env.infra.brokers, &env.pool, env.commands.as_str(), WAIT).await;
    terminate(&mut processor);
    println!("crash test: killed the processor {kills} times");

    // Exactly one outcome per command, and the one the oracle says.
    assert_eq!(env.outcome_count().await, unique_commands as i64);
    for (id, (status, reason)) in &expected_outcome {
        let got = env.outcome(id).await.unwrap();
        assert_eq!(
            (got.0.as_str(), got.1.as_deref()),
            (*status, *reason),
            "command {id}"
        );
    }
    // Users table equals the oracle; each race has exactly one winner.
    let users: HashMap<String, khlang_users::User> = UserStore::all(&env.pool)
        .await
        .unwrap()
        .into_iter()
        .map(|u| (u.user_id.to_string(), u))
        .collect();
    for (id, want) in &oracle {
        let got = users.get(id).unwrap_or_else(|| panic!("user {id} missing"));
        let got = Expected {
            email: got.email.clone(),
            username: got.username.clone(),
            display_name: got.display_name.clone(),
            role: got.role.clone(),
            active: got.active,
            version: got.version,
        };
        assert_eq!(&got, want, "user {id}");
    }
    for group in &races {
        let winners: Vec<_> = group
            .iter()
            .filter(|(c, _)| users.contains_key(&c.user_id))
            .collect();
        assert_eq!(
            winners.len(),
            1,
            "race for {} must have one winner",
            group[0].0.register.as_ref().unwrap().email
        );
        for (command, _) in group {
            let (status, reason) = env.outcome(&command.envelope.id).await.unwrap();
            if users.contains_key(&command.user_id) {
                assert_eq!(status, "accepted");
            } else {
                assert_eq!(
                    (status.as_str(), reason.as_deref()),
                    ("rejected", Some(reasons::EMAIL_TAKEN))
                );
            }
        }
    }
    assert_eq!(users.len(), USERS + RACES);

    // read_committed consumers see every outcome and event exactly once.
    let outcomes = read_committed(&env.infra.brokers, env.outcomes.as_str());
    let mut seen = HashSet::new();
    for record in &outcomes {
        let outcome: CommandOutcome = env
            .codec
            .decode(record.value.as_deref().unwrap())
            .await
            .unwrap();
        assert!(
            seen.insert(outcome.command_id.clone()),
            "outcome of {} published twice",
            outcome.command_id
        );
        if let Some((status, _)) = expected_outcome.get(&outcome.command_id) {
            assert_eq!(
                outcome.status == OutcomeStatus::Accepted,
                *status == "accepted"
            );
        }
    }
    assert_eq!(seen.len(), unique_commands);
    let events = read_committed(&env.infra.brokers, env.events.as_str());
    let mut event_ids = HashSet::new();
    for record in &events {
        let event: UserEvent = env
            .codec
            .decode(record.value.as_deref().unwrap())
            .await
            .unwrap();
        assert!(
            event_ids.insert(event.envelope.id.clone()),
            "event {} published twice",
            event.envelope.id
        );
        assert_eq!(record.key.as_deref(), Some(event.user_id.as_bytes()));
    }
    assert_eq!(event_ids.len(), expected_events);
}

async fn futures_join(env: &TestEnv, commands: &[(UserCommand, Option<i32>)]) {
    let sends = commands.iter().map(|(c, p)| env.send(c, *p));
    futures::future::join_all(sends).await;
}
