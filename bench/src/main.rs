//! `khlang-bench`: measures the running platform from the outside, as a
//! client would, and prints a table. Figures are for this machine and this
//! run only; compare them as ratios against the ceilings measured in the
//! same run, never against numbers from elsewhere.
//!
//! `khlang-bench ingress` measures sign-in latency (argon2id dominates it)
//! and the latency of `202 Accepted` for commands at a fixed offered rate.

use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use clap::{Parser, Subcommand};
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
}

/// Latency percentiles of a sample, milliseconds.
fn percentiles(mut sample: Vec<Duration>) -> (f64, f64, f64, f64) {
    sample.sort_unstable();
    let at = |q: f64| {
        let i = ((sample.len() as f64 - 1.0) * q).round() as usize;
        sample[i].as_secs_f64() * 1000.0
    };
    (at(0.5), at(0.9), at(0.99), at(1.0))
}

async fn login(
    http: &reqwest::Client,
    base: &str,
    login: &str,
    password: &str,
) -> anyhow::Result<String> {
    let response = http
        .post(format!("{base}/v1/auth/login"))
        .json(&json!({ "login": login, "password": password }))
        .send()
        .await?;
    if !response.status().is_success() {
        bail!("login as {login}: {}", response.status());
    }
    let body: Value = response.json().await?;
    body["access_token"]
        .as_str()
        .map(str::to_owned)
        .context("no access_token")
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
    let (l50, l90, l99, lmax) = percentiles(login_times);
    println!("| measurement | n | p50 ms | p90 ms | p99 ms | max ms |");
    println!("|---|---:|---:|---:|---:|---:|");
    println!("| sign-in (argon2id m=19MiB t=2 p=1) | {logins} | {l50:.1} | {l90:.1} | {l99:.1} | {lmax:.1} |");
    let n = accepted.len();
    if n > 0 {
        let (c50, c90, c99, cmax) = percentiles(accepted);
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
    }
}
