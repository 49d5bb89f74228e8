//! Effectively once under crashes: the real `khlang-stock` is killed with
//! SIGKILL at random moments while a stream of movements flows, and
//! restarted each time. An oracle then decides every command from the
//! command stream alone, with the pure rules, in each item's order:
//!
//! - every command's recorded outcome is the oracle's (no command lost,
//!   none applied twice, none decided against a stale state);
//! - the ledger holds exactly one row per accepted movement, with the
//!   levels before and after that the oracle computed, and nothing else;
//! - every item's final levels are the oracle's;
//! - the events topic holds exactly one event per accepted movement.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use khlang_contract::stock::{StockCommand, StockCommandKind, StockEvent};
use khlang_contract::topics::STOCK_EVENTS;
use khlang_stock::rules::{self, Item};
use khlang_testkit::{kill9, read_committed, terminate};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::Row as _;
use support::{adjust, commit, issue, receive, release, reserve, StockEnv};

const SKUS: [&str; 4] = ["CRASH-A", "CRASH-B", "CRASH-C", "CRASH-D"];
const WAREHOUSES: [&str; 2] = ["W1", "W2"];

/// A random stream of movements over 8 items, with releases and commits of
/// reservations made earlier in the stream (accepted or not).
fn commands(rng: &mut StdRng, n: usize) -> Vec<StockCommand> {
    let mut reservations: HashMap<(usize, usize), Vec<String>> = HashMap::new();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let (s, w) = (rng.gen_range(0..SKUS.len()), rng.gen_range(0..2));
        let (sku, wh) = (SKUS[s], WAREHOUSES[w]);
        let roll = rng.gen_range(0..100);
        let command = match roll {
            0..30 => receive(sku, wh, rng.gen_range(1..20)),
            30..45 => issue(sku, wh, rng.gen_range(1..15)),
            45..55 => {
                let delta = rng.gen_range(1..10);
                adjust(sku, wh, if rng.gen_bool(0.5) { delta } else { -delta })
            }
            55..80 => {
                let id = format!("r{i}");
                reservations.entry((s, w)).or_default().push(id.clone());
                reserve(sku, wh, &id, rng.gen_range(1..10))
            }
            _ => {
                let known = reservations.get(&(s, w)).cloned().unwrap_or_default();
                let id = if known.is_empty() {
                    "none".to_owned()
                } else {
                    known[rng.gen_range(0..known.len())].clone()
                };
                if roll < 90 {
                    release(sku, wh, &id)
                } else {
                    commit(sku, wh, &id)
                }
            }
        };
        out.push(command);
    }
    out
}

/// What the oracle decided for one command.
struct Decided {
    accepted: bool,
    before: Item,
    after: Item,
}

type Reservations = HashMap<String, ((String, String), i64, bool)>;

/// Ends the active reservation `id` of `key` with `f`; `None` when there is
/// no such active reservation there.
fn end(
    reservations: &mut Reservations,
    id: &str,
    key: &(String, String),
    before: Item,
    f: fn(Item, i64) -> Item,
) -> Option<Item> {
    let r = reservations.get_mut(id)?;
    if &r.0 != key || !r.2 {
        return None;
    }
    r.2 = false;
    Some(f(before, r.1))
}

/// Decides every command in order, per item, with the pure rules.
fn oracle(
    commands: &[StockCommand],
) -> (HashMap<String, Decided>, HashMap<(String, String), Item>) {
    let mut items: HashMap<(String, String), Item> = HashMap::new();
    // reservation id → (item, quantity, active)
    let mut reservations: Reservations = HashMap::new();
    let mut decided = HashMap::new();
    for command in commands {
        let key = (command.sku.clone(), command.warehouse.clone());
        let before = items.get(&key).copied().unwrap_or_default();
        let after = match command.kind().unwrap() {
            StockCommandKind::Receive(r) => rules::receive(before, r.quantity).ok(),
            StockCommandKind::Issue(r) => rules::issue(before, r.quantity).ok(),
            StockCommandKind::Adjust(a) => rules::adjust(before, a.delta).ok(),
            StockCommandKind::Reserve(r) => {
                let next = rules::reserve(before, r.quantity).ok();
                if next.is_some() {
                    reservations.insert(r.reservation_id.clone(), (key.clone(), r.quantity, true));
                }
                next
            }
            StockCommandKind::Release(r) => end(
                &mut reservations,
                &r.reservation_id,
                &key,
                before,
                rules::unreserve,
            ),
            StockCommandKind::Commit(r) => end(
                &mut reservations,
                &r.reservation_id,
                &key,
                before,
                rules::commit,
            ),
            other => panic!("the stream holds no {other:?}"),
        };
        if let Some(after) = after {
            items.insert(key, after);
        }
        decided.insert(
            command.envelope.id.clone(),
            Decided {
                accepted: after.is_some(),
                before,
                after: after.unwrap_or(before),
            },
        );
    }
    (decided, items)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_at_random_moments_loses_and_doubles_nothing() {
    let env = StockEnv::new(6).await;
    for sku in SKUS {
        env.publish_product(sku, 0, true, 1).await;
    }
    for code in WAREHOUSES {
        env.publish_warehouse(code, true, 1).await;
    }
    let seed: u64 = rand::thread_rng().gen();
    eprintln!("crash test seed {seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    let stream = commands(&mut rng, 1500);
    let kills: Vec<u64> = (0..5).map(|_| rng.gen_range(200..1500)).collect();

    let mut child = env.stock.start();
    let sender = async {
        for command in &stream {
            env.send(command).await;
        }
    };
    let killer = async {
        for pause in &kills {
            tokio::time::sleep(Duration::from_millis(*pause)).await;
            kill9(&mut child);
            child = env.stock.start();
        }
    };
    tokio::join!(sender, killer);
    let ids: Vec<String> = stream.iter().map(|c| c.envelope.id.clone()).collect();
    let outcomes = env.wait_outcomes(&ids).await;
    terminate(&mut child);

    let (decided, items) = oracle(&stream);
    let mut accepted = HashSet::new();
    for command in &stream {
        let id = &command.envelope.id;
        let want = &decided[id];
        let (status, reason) = &outcomes[id];
        assert_eq!(
            status == "accepted",
            want.accepted,
            "{} {id} was {status} ({reason:?}); the oracle says accepted={}",
            command.envelope.kind,
            want.accepted
        );
        if want.accepted {
            accepted.insert(id.clone());
        }
    }
    eprintln!(
        "{} commands, {} accepted, {} kills",
        stream.len(),
        accepted.len(),
        kills.len()
    );

    // the ledger: one row per accepted movement, with the oracle's levels
    let rows = sqlx::query(
        "SELECT command_id, on_hand_before, reserved_before, on_hand_after, reserved_after \
         FROM stock.ledger",
    )
    .fetch_all(&env.pool)
    .await
    .unwrap();
    let mut in_ledger = HashSet::new();
    for row in &rows {
        let id: String = row.get(0);
        let want = decided
            .get(&id)
            .expect("a ledger row for a command never sent");
        assert_eq!(
            (row.get::<i64, _>(1), row.get::<i64, _>(2)),
            (want.before.on_hand, want.before.reserved),
            "levels before {id}"
        );
        assert_eq!(
            (row.get::<i64, _>(3), row.get::<i64, _>(4)),
            (want.after.on_hand, want.after.reserved),
            "levels after {id}"
        );
        assert!(in_ledger.insert(id.clone()), "{id} twice in the ledger");
    }
    assert_eq!(in_ledger, accepted, "ledger rows == accepted movements");

    // the final levels
    let levels = env.levels().await;
    let want: BTreeMap<_, _> = items
        .iter()
        .map(|(k, i)| (k.clone(), (i.on_hand, i.reserved, i.in_transit)))
        .collect();
    let got: BTreeMap<_, _> = levels.into_iter().collect();
    assert_eq!(got, want);

    // one event per accepted movement (no minimum, so no LowStock)
    let events = read_committed(
        &env.infra.brokers,
        STOCK_EVENTS.namespaced(&env.ns).as_str(),
    );
    let mut caused = HashSet::new();
    for record in events {
        let event: StockEvent = env
            .codec
            .decode(record.value.as_deref().unwrap())
            .await
            .unwrap();
        let cause = event.envelope.causation_id.clone().unwrap_or_default();
        assert!(caused.insert(cause.clone()), "two events caused by {cause}");
    }
    assert_eq!(caused, accepted, "events == accepted movements");
}
