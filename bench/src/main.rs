//! `khlang-bench`: measures the running platform from the outside, as a
//! client would, and prints a table. Figures are for this machine and this
//! run only; compare them as ratios against the ceilings measured in the
//! same run, never against numbers from elsewhere.
//!
//! `khlang-bench ingress` measures sign-in latency (argon2id dominates it)
//! and the latency of `202 Accepted` for commands at a fixed offered rate.
//!
//! The other subcommands are the steps of `make bench` (`scripts/bench.sh`,
//! `docs/benchmark.md`): set-up (`db-create`, `topics`, `seed`, `prefill`),
//! measurements (`apply-wait`, `ingress-load`, `scans-load`, `e2e`, and
//! `cpu` snapshots around each), the table (`report`) and the tear-down
//! (`cleanup`, `db-drop`). Each
//! measurement writes a JSON file that `report` reads.

mod common;
mod cpu;
mod infra;
mod load;
mod report;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use common::login;
use serde_json::{json, Value};

#[derive(Parser)]
#[command(about = "Measures khlang from the outside")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Sign-in latency and command 202 latency of the ingress.
    Ingress {
        /// The ingress.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        base: String,
        /// Admin login.
        #[arg(long, env = "KHLANG_ADMIN_LOGIN")]
        login: String,
        /// Admin password.
        #[arg(long, env = "KHLANG_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
        /// Sign-ins to time (sequential).
        #[arg(long, default_value_t = 20)]
        logins: usize,
        /// Commands to send.
        #[arg(long, default_value_t = 3000)]
        commands: usize,
        /// Offered rate, commands per second.
        #[arg(long, default_value_t = 200)]
        rate: u64,
    },
    /// Creates a database next to the one KHLANG_DATABASE_URL names; prints its URL.
    DbCreate {
        /// Admin connection (any database of the cluster).
        #[arg(long, env = "KHLANG_DATABASE_URL", hide_env_values = true)]
        database_url: String,
        /// The new database (khlang_bench_*).
        #[arg(long)]
        name: String,
    },
    /// Drops a bench database.
    DbDrop {
        /// Admin connection (another database of the cluster).
        #[arg(long, env = "KHLANG_DATABASE_URL", hide_env_values = true)]
        database_url: String,
        /// The database (khlang_bench_*).
        #[arg(long)]
        name: String,
    },
    /// Creates every topic of topics.yaml under a namespace.
    Topics {
        #[command(flatten)]
        kafka: KafkaArgs,
        /// topics.yaml.
        #[arg(long, default_value = "topics.yaml")]
        topics_yaml: PathBuf,
        /// More topics, `name:partitions` (namespaced as well).
        #[arg(long)]
        extra: Vec<String>,
    },
    /// Deletes the namespace's topics and the Redis keys under a prefix.
    Cleanup {
        #[command(flatten)]
        kafka: KafkaArgs,
        /// Redis.
        #[arg(long, env = "KHLANG_REDIS_URL", hide_env_values = true)]
        redis_url: String,
        /// Key prefix to delete.
        #[arg(long)]
        redis_prefix: String,
    },
    /// Warehouses, products and a scanner device through the ingress.
    Seed {
        #[command(flatten)]
        admin: AdminArgs,
        #[command(flatten)]
        grid: Grid,
        /// Where to write the device's login and secret.
        #[arg(long)]
        device_out: PathBuf,
    },
    /// Produces encoded stock commands straight to the namespace's topic.
    Prefill {
        #[command(flatten)]
        kafka: KafkaArgs,
        /// Schema registry (Confluent API).
        #[arg(long, env = "KHLANG_REGISTRY_URL")]
        registry_url: String,
        /// Commands.
        #[arg(long, default_value_t = 50_000)]
        records: usize,
        #[command(flatten)]
        grid: Grid,
        /// Result file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Waits until a processor has applied N records (its /metrics).
    ApplyWait {
        /// The processor's metrics URL.
        #[arg(long)]
        metrics: String,
        /// Records to wait for.
        #[arg(long)]
        expect: u64,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 300)]
        timeout_secs: u64,
        /// The processor's pid: give up at once if it exits.
        #[arg(long)]
        pid: Option<u32>,
        /// Result file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Closed loop of single stock commands (POST /v1/stock/receipts).
    IngressLoad {
        #[command(flatten)]
        admin: AdminArgs,
        #[command(flatten)]
        grid: Grid,
        /// Concurrent connections.
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// Warm-up seconds, not counted.
        #[arg(long, default_value_t = 2.0)]
        warmup: f64,
        /// Measured seconds.
        #[arg(long, default_value_t = 20.0)]
        seconds: f64,
        /// Result file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Closed loop of scanner batches (POST /v1/scans).
    ScansLoad {
        /// The ingress.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        base: String,
        /// File with the device's login and secret (two lines).
        #[arg(long)]
        device_file: PathBuf,
        #[command(flatten)]
        grid: Grid,
        /// Lines per batch.
        #[arg(long, default_value_t = 1000)]
        batch: usize,
        /// Batches in flight.
        #[arg(long, default_value_t = 4)]
        concurrency: usize,
        /// Warm-up seconds, not counted.
        #[arg(long, default_value_t = 2.0)]
        warmup: f64,
        /// Measured seconds.
        #[arg(long, default_value_t = 15.0)]
        seconds: f64,
        /// Result file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Open loop at a fixed rate; latency from 202 to the level in Redis.
    E2e {
        #[command(flatten)]
        admin: AdminArgs,
        #[command(flatten)]
        grid: Grid,
        /// Redis.
        #[arg(long, env = "KHLANG_REDIS_URL", hide_env_values = true)]
        redis_url: String,
        /// The stock processor's key prefix.
        #[arg(long)]
        redis_prefix: String,
        /// Offered commands per second.
        #[arg(long, default_value_t = 1000)]
        rate: u64,
        /// Seconds of offered load.
        #[arg(long, default_value_t = 15.0)]
        seconds: f64,
        /// Items the commands go to (the first N of the grid).
        #[arg(long, default_value_t = 200)]
        items: usize,
        /// Redis poll interval, microseconds.
        #[arg(long, default_value_t = 1000)]
        poll_us: u64,
        /// Result file.
        #[arg(long)]
        out: PathBuf,
        /// CSV of every command's latencies, in send order.
        #[arg(long)]
        samples: Option<PathBuf>,
    },
    /// Writes the CPU time of every process, grouped, to a JSON file.
    Cpu {
        /// `name=pid` of processes to name (repeat).
        #[arg(long)]
        pid: Vec<String>,
        /// The bench database (its PostgreSQL backends are grouped apart).
        #[arg(long, default_value = "")]
        database: String,
        /// Snapshot file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Prints the Markdown table of a run directory and saves it.
    Report {
        /// The run's directory (the JSON and tool outputs).
        #[arg(long)]
        dir: PathBuf,
        /// Where to save the table.
        #[arg(long)]
        out: PathBuf,
    },
}

/// Kafka and the bench's namespace.
#[derive(clap::Args)]
struct KafkaArgs {
    /// Bootstrap servers.
    #[arg(long, env = "KHLANG_KAFKA_BROKERS")]
    brokers: String,
    /// Topic namespace (`{namespace}.khlang.*`); never empty.
    #[arg(long)]
    namespace: String,
}

/// The ingress and the admin who signs in.
#[derive(clap::Args)]
struct AdminArgs {
    /// The ingress.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    base: String,
    /// Admin login.
    #[arg(long, env = "KHLANG_ADMIN_LOGIN")]
    login: String,
    /// File holding the admin's password.
    #[arg(long)]
    password_file: PathBuf,
}

/// The items: products × warehouses.
#[derive(clap::Args, Clone, Copy)]
struct Grid {
    /// Products (BENCH-0000…).
    #[arg(long, default_value_t = 200)]
    products: usize,
    /// Warehouses (BW00…).
    #[arg(long, default_value_t = 5)]
    warehouses: usize,
}

/// Latency percentiles of a sample, milliseconds.
fn percentiles4(mut sample: Vec<Duration>) -> (f64, f64, f64, f64) {
    sample.sort_unstable();
    let at = |q: f64| {
        let i = ((sample.len() as f64 - 1.0) * q).round() as usize;
        sample[i].as_secs_f64() * 1000.0
    };
    (at(0.5), at(0.9), at(0.99), at(1.0))
}

async fn ingress(
    base: String,
    admin: String,
    password: String,
    logins: usize,
    commands: usize,
    rate: u64,
) -> anyhow::Result<()> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    let mut login_times = Vec::new();
    for _ in 0..logins {
        let started = Instant::now();
        login(&http, &base, &admin, &password).await?;
        login_times.push(started.elapsed());
    }
    let token = login(&http, &base, &admin, &password).await?;

    // Commands: display-name changes of one account, so the figure is the
    // command path (authenticate, read, record, Kafka acks=all) without
    // argon2 in it.
    let me: Value = http
        .get(format!("{base}/v1/me"))
        .bearer_auth(&token)
        .send()
        .await?
        .json()
        .await?;
    let id = me["user_id"].as_str().context("no user_id")?.to_owned();
    let interval = Duration::from_secs_f64(1.0 / rate.max(1) as f64);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(commands);
    for i in 0..commands {
        let due = started + interval * u32::try_from(i).unwrap_or(u32::MAX);
        tokio::time::sleep_until(due.into()).await;
        let (http, base, token, id) = (http.clone(), base.clone(), token.clone(), id.clone());
        tasks.push(tokio::spawn(async move {
            let sent = Instant::now();
            let status = http
                .patch(format!("{base}/v1/users/{id}"))
                .bearer_auth(&token)
                .json(&json!({ "display_name": format!("Administrator {}", i % 100) }))
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0);
            (status, sent.elapsed())
        }));
    }
    let mut accepted = Vec::new();
    let mut other = 0usize;
    for task in tasks {
        let (status, took) = task.await?;
        if status == 202 {
            accepted.push(took);
        } else {
            other += 1;
        }
    }
    let wall = started.elapsed();
    let (l50, l90, l99, lmax) = percentiles4(login_times);
    println!("| measurement | n | p50 ms | p90 ms | p99 ms | max ms |");
    println!("|---|---:|---:|---:|---:|---:|");
    println!("| sign-in (argon2id m=19MiB t=2 p=1) | {logins} | {l50:.1} | {l90:.1} | {l99:.1} | {lmax:.1} |");
    let n = accepted.len();
    if n > 0 {
        let (c50, c90, c99, cmax) = percentiles4(accepted);
        println!("| command 202 at {rate}/s offered | {n} | {c50:.1} | {c90:.1} | {c99:.1} | {cmax:.1} |");
    }
    println!();
    println!(
        "commands: {n} answered 202, {other} other, {:.0}/s achieved over {:.1} s",
        n as f64 / wall.as_secs_f64(),
        wall.as_secs_f64()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Ingress {
            base,
            login,
            password,
            logins,
            commands,
            rate,
        } => ingress(base, login, password, logins, commands, rate).await,
        Command::DbCreate { database_url, name } => {
            infra::create_database(&database_url, &name).await
        }
        Command::DbDrop { database_url, name } => infra::drop_database(&database_url, &name).await,
        Command::Topics {
            kafka,
            topics_yaml,
            extra,
        } => infra::create_topics(&kafka.brokers, &kafka.namespace, &topics_yaml, &extra).await,
        Command::Cleanup {
            kafka,
            redis_url,
            redis_prefix,
        } => infra::cleanup(&kafka.brokers, &kafka.namespace, &redis_url, &redis_prefix).await,
        Command::Seed {
            admin,
            grid,
            device_out,
        } => {
            let password = common::read_secret(&admin.password_file)?;
            load::seed(
                &admin.base,
                &admin.login,
                &password,
                grid.products,
                grid.warehouses,
                &device_out,
            )
            .await
        }
        Command::Prefill {
            kafka,
            registry_url,
            records,
            grid,
            out,
        } => {
            infra::prefill(
                &kafka.brokers,
                &registry_url,
                &kafka.namespace,
                records,
                grid.products,
                grid.warehouses,
                &out,
            )
            .await
        }
        Command::ApplyWait {
            metrics,
            expect,
            timeout_secs,
            pid,
            out,
        } => {
            infra::apply_wait(
                &metrics,
                expect,
                Duration::from_secs(timeout_secs),
                pid,
                &out,
            )
            .await
        }
        Command::IngressLoad {
            admin,
            grid,
            concurrency,
            warmup,
            seconds,
            out,
        } => {
            let password = common::read_secret(&admin.password_file)?;
            load::ingress_load(
                &admin.base,
                &admin.login,
                &password,
                concurrency,
                Duration::from_secs_f64(warmup),
                Duration::from_secs_f64(seconds),
                grid.products,
                grid.warehouses,
                &out,
            )
            .await
        }
        Command::ScansLoad {
            base,
            device_file,
            grid,
            batch,
            concurrency,
            warmup,
            seconds,
            out,
        } => {
            let text = common::read_secret(&device_file)?;
            let (device, secret) = text
                .split_once('\n')
                .context("the device file holds the login, then the secret")?;
            load::scans_load(
                &base,
                device.trim(),
                secret.trim(),
                batch,
                concurrency,
                Duration::from_secs_f64(warmup),
                Duration::from_secs_f64(seconds),
                grid.products,
                grid.warehouses,
                &out,
            )
            .await
        }
        Command::E2e {
            admin,
            grid,
            redis_url,
            redis_prefix,
            rate,
            seconds,
            items,
            poll_us,
            out,
            samples,
        } => {
            let password = common::read_secret(&admin.password_file)?;
            load::e2e(
                &admin.base,
                &admin.login,
                &password,
                &redis_url,
                &redis_prefix,
                rate,
                seconds,
                items,
                grid.products,
                grid.warehouses,
                Duration::from_micros(poll_us),
                &out,
                samples.as_deref(),
            )
            .await
        }
        Command::Cpu { pid, database, out } => cpu::write_snapshot(&pid, &database, &out),
        Command::Report { dir, out } => report::report(&dir, &out),
    }
}
