//! `khlang-seed-demo`: registers demo accounts through Kafka, the same way
//! the ingress will: a RegisterUser command with an argon2id hash, never a
//! password. Passwords are generated on this machine and written to a file
//! readable only by its owner. Running it again changes nothing (the ids are
//! derived from the usernames, so repeated registrations are rejected).

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use khlang_codec::Codec;
use khlang_contract::topics::{USERS_COMMANDS, USER_COMMAND_SUBJECT};
use khlang_contract::users::{RegisterUser, UserCommand};
use khlang_contract::{Actor, Envelope};
use khlang_users::password;
use rand::distributions::{Alphanumeric, DistString};
use rdkafka::config::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};

#[derive(Parser)]
struct Args {
    /// Kafka bootstrap servers.
    #[arg(long, env = "KHLANG_KAFKA_BROKERS", default_value = "127.0.0.1:9092")]
    brokers: String,
    /// Schema registry (Confluent API base).
    #[arg(long, env = "KHLANG_REGISTRY_URL")]
    registry: String,
    /// Where the generated credentials are written (mode 600).
    #[arg(long)]
    out: PathBuf,
}

const DEMO: [(&str, &str, &str); 6] = [
    ("admin", "ผู้ดูแลระบบ (เดโม)", "admin"),
    ("manager", "ผู้จัดการคลัง (เดโม)", "manager"),
    ("staff", "พนักงานคลัง (เดโม)", "warehouse_staff"),
    ("viewer", "ผู้ดูรายงาน (เดโม)", "report_viewer"),
    ("erp", "ระบบ ERP (เดโม)", "service"),
    ("scanner01", "เครื่องสแกน 01 (เดโม)", "device"),
];

/// An argon2id PHC string with khlang's parameters ([`password`]).
fn hash(password: &str) -> anyhow::Result<String> {
    password::hash(password).map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.out.exists() {
        println!(
            "demo accounts already seeded; credentials in {}",
            args.out.display()
        );
        return Ok(());
    }
    let codec = Codec::new(&args.registry)?;
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &args.brokers)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("partitioner", "murmur2_random")
        .create()
        .context("kafka producer")?;
    let mut lines =
        String::from("# khlang demo accounts (generated on this machine; do not commit)\n");
    for (username, name, role) in DEMO {
        let password = Alphanumeric.sample_string(&mut rand::thread_rng(), 20);
        let user_id = uuid::Uuid::new_v5(
            &uuid::Uuid::NAMESPACE_OID,
            format!("khlang-demo-{username}").as_bytes(),
        );
        let envelope = Envelope::new(
            "RegisterUser",
            Actor::system("seed-demo"),
            &uuid::Uuid::now_v7().to_string(),
            "seed-demo",
        );
        let mut command = UserCommand::empty(envelope, user_id.to_string());
        command.register = Some(RegisterUser {
            email: format!("{username}@demo.khlang.local"),
            username: username.to_owned(),
            display_name: name.to_owned(),
            password_hash: hash(&password)?,
            role: role.to_owned(),
            scopes: None,
        });
        let payload = codec
            .encode(USERS_COMMANDS, USER_COMMAND_SUBJECT, &command)
            .await?;
        producer
            .send(
                FutureRecord::to(USERS_COMMANDS.as_str())
                    .key(&command.user_id)
                    .payload(&payload),
                Duration::from_secs(30),
            )
            .await
            .map_err(|(e, _)| e)
            .context("producing RegisterUser")?;
        lines.push_str(&format!(
            "{username}@demo.khlang.local\t{role}\t{password}\n"
        ));
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&args.out)
        .with_context(|| format!("writing {}", args.out.display()))?;
    file.write_all(lines.as_bytes())?;
    println!(
        "seeded {} demo accounts; credentials in {}",
        DEMO.len(),
        args.out.display()
    );
    Ok(())
}
