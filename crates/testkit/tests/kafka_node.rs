//! [`KafkaNode`] on the real Kafka distribution: a throwaway broker that a
//! test can stop, crash and start again without touching the shared one.
//! Needs only the Kafka jars in the cache (`scripts/infra/up.sh` downloads
//! them), not the running infrastructure.

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use khlang_testkit::{read_committed, KafkaNode};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::error::KafkaError;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::types::RDKafkaErrorCode;

const TOPIC: &str = "kafka-node-test";

fn producer(brokers: &str, message_timeout_ms: u32) -> FutureProducer {
    ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("message.timeout.ms", message_timeout_ms.to_string())
        .create()
        .expect("producer")
}

fn produce(rt: &tokio::runtime::Runtime, brokers: &str, value: &str) -> Result<i64, KafkaError> {
    let producer = producer(brokers, 30_000);
    send(rt, &producer, value)
}

fn send(
    rt: &tokio::runtime::Runtime,
    producer: &FutureProducer,
    value: &str,
) -> Result<i64, KafkaError> {
    rt.block_on(producer.send(
        FutureRecord::to(TOPIC).key("k").payload(value),
        Duration::from_secs(5),
    ))
    .map(|delivery| delivery.offset)
    .map_err(|(e, _)| e)
}

fn values(brokers: &str) -> Vec<String> {
    read_committed(brokers, TOPIC)
        .into_iter()
        .map(|r| String::from_utf8(r.value.expect("value")).expect("utf-8"))
        .collect()
}

fn assert_down(node: &KafkaNode, pid: u32) {
    assert_eq!(node.pid(), None);
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "process {pid} is gone"
    );
    let port: u16 = node
        .bootstrap()
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse().ok())
        .expect("port in bootstrap");
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    assert!(
        TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err(),
        "port {port} refuses connections"
    );
}

#[test]
fn a_stopped_node_refuses_records_and_serves_its_data_again_after_a_restart() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut node = KafkaNode::start();
    let brokers = node.bootstrap();
    assert!(brokers.starts_with("127.0.0.1:"), "{brokers}");
    assert_ne!(
        brokers,
        std::env::var("KHLANG_KAFKA_BROKERS").unwrap_or_default(),
        "not the shared broker"
    );

    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .create()
        .expect("admin");
    let created = rt
        .block_on(admin.create_topics(
            &[NewTopic::new(TOPIC, 1, TopicReplication::Fixed(1))],
            &AdminOptions::new(),
        ))
        .expect("create topics");
    for result in created {
        result.expect("topic created");
    }
    drop(admin);
    assert_eq!(produce(&rt, &brokers, "before").expect("delivered"), 0);

    // Clean stop: nothing listens any more, and a producer gives up.
    let pid = node.pid().expect("running");
    node.stop();
    assert_down(&node, pid);
    let impatient = producer(&brokers, 2_000);
    let error = send(&rt, &impatient, "lost").expect_err("no broker to deliver to");
    assert!(
        matches!(
            error,
            KafkaError::MessageProduction(RDKafkaErrorCode::MessageTimedOut)
        ),
        "{error:?}"
    );
    drop(impatient);

    node.start_again();
    assert_eq!(node.bootstrap(), brokers, "same port");
    assert_eq!(produce(&rt, &brokers, "after stop").expect("delivered"), 1);
    assert_eq!(values(&brokers), ["before", "after stop"]);

    // Crash: SIGKILL, then the same data comes back.
    let pid = node.pid().expect("running");
    node.kill();
    assert_down(&node, pid);
    node.start_again();
    assert_eq!(produce(&rt, &brokers, "after kill").expect("delivered"), 2);
    assert_eq!(values(&brokers), ["before", "after stop", "after kill"]);

    // Dropping the node kills it and removes its directory.
    let dir = node.dir().to_path_buf();
    assert!(dir.join("data").is_dir());
    let pid = node.pid().expect("running");
    drop(node);
    assert!(!dir.exists(), "{} removed", dir.display());
    assert!(!Path::new(&format!("/proc/{pid}")).exists());
}
