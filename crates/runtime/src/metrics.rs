//! The runtime's Prometheus metrics. Labels are few and bounded: topic,
//! partition and outcome, never keys or ids.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// Labels of per-partition metrics.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PartitionLabels {
    /// Topic name.
    pub topic: String,
    /// Partition number.
    pub partition: i32,
}

/// Labels of the applied-records counter.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// `accepted`, `rejected`, `duplicate` (already applied) or `dlq`.
    pub outcome: String,
}

/// Labels of a join's metrics.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct JoinLabels {
    /// The join's name (fixed by the code, e.g. `catalog`).
    pub join: String,
}

/// Labels of a join's catch-up waits.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CatchUpLabels {
    /// The join's name.
    pub join: String,
    /// `caught_up`, `timed_out` or `failed`.
    pub outcome: String,
}

/// Labels of a timer's metrics.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TimerLabels {
    /// The timer's name (fixed by the code, e.g. `reservation-expiry`).
    pub timer: String,
}

/// Every metric the runtime records.
#[derive(Debug, Clone)]
pub struct RuntimeMetrics {
    /// Records received from Kafka.
    pub records_consumed: Counter,
    /// Records applied, by outcome.
    pub records_applied: Family<OutcomeLabels, Counter>,
    /// Seconds to apply and commit one batch.
    pub batch_seconds: Histogram,
    /// Records per committed batch.
    pub batch_size: Histogram,
    /// High watermark minus the next offset to apply.
    pub consumer_lag: Family<PartitionLabels, Gauge>,
    /// Rows waiting in the outbox.
    pub outbox_backlog: Gauge,
    /// Messages the relay published.
    pub relay_published: Counter,
    /// Records sent to the dead-letter topic.
    pub dlq_records: Counter,
    /// Batches that failed and were retried.
    pub apply_retries: Counter,
    /// Records a join applied to its table.
    pub join_records: Family<JoinLabels, Counter>,
    /// Catch-up waits of a join (a lookup miss brings the table up to the
    /// source's end offsets), by how they ended.
    pub join_catch_ups: Family<CatchUpLabels, Counter>,
    /// Seconds a catch-up wait took.
    pub join_catch_up_seconds: Histogram,
    /// Commands a timer sent (a resend after a restart counts again; the
    /// deterministic command id makes it apply once).
    pub timer_fired: Family<TimerLabels, Counter>,
}

impl RuntimeMetrics {
    /// Creates the metrics and registers them under `khlang_runtime_*`.
    pub fn register(registry: &mut Registry) -> Self {
        let metrics = Self {
            records_consumed: Counter::default(),
            records_applied: Family::default(),
            batch_seconds: Histogram::new(exponential_buckets(0.0005, 2.0, 16)),
            batch_size: Histogram::new(exponential_buckets(1.0, 2.0, 12)),
            consumer_lag: Family::default(),
            outbox_backlog: Gauge::default(),
            relay_published: Counter::default(),
            dlq_records: Counter::default(),
            apply_retries: Counter::default(),
            join_records: Family::default(),
            join_catch_ups: Family::default(),
            join_catch_up_seconds: Histogram::new(exponential_buckets(0.0005, 2.0, 16)),
            timer_fired: Family::default(),
        };
        let sub = registry.sub_registry_with_prefix("khlang_runtime");
        sub.register(
            "records_consumed",
            "Records received from Kafka",
            metrics.records_consumed.clone(),
        );
        sub.register(
            "records_applied",
            "Records applied, by outcome",
            metrics.records_applied.clone(),
        );
        sub.register(
            "batch_seconds",
            "Seconds to apply and commit one batch",
            metrics.batch_seconds.clone(),
        );
        sub.register(
            "batch_size",
            "Records per committed batch",
            metrics.batch_size.clone(),
        );
        sub.register(
            "consumer_lag",
            "High watermark minus next offset to apply",
            metrics.consumer_lag.clone(),
        );
        sub.register(
            "outbox_backlog",
            "Rows waiting in the outbox",
            metrics.outbox_backlog.clone(),
        );
        sub.register(
            "relay_published",
            "Messages published by the outbox relay",
            metrics.relay_published.clone(),
        );
        sub.register(
            "dlq_records",
            "Records sent to the dead-letter topic",
            metrics.dlq_records.clone(),
        );
        sub.register(
            "apply_retries",
            "Batches that failed and were retried",
            metrics.apply_retries.clone(),
        );
        sub.register(
            "join_records",
            "Records a join applied to its table",
            metrics.join_records.clone(),
        );
        sub.register(
            "join_catch_ups",
            "Catch-up waits of a join, by outcome",
            metrics.join_catch_ups.clone(),
        );
        sub.register(
            "join_catch_up_seconds",
            "Seconds a join catch-up wait took",
            metrics.join_catch_up_seconds.clone(),
        );
        sub.register(
            "timer_fired",
            "Commands a timer sent",
            metrics.timer_fired.clone(),
        );
        metrics
    }

    pub(crate) fn applied_n(&self, outcome: &str, n: u64) {
        if n > 0 {
            self.records_applied
                .get_or_create(&OutcomeLabels {
                    outcome: outcome.to_owned(),
                })
                .inc_by(n);
        }
    }
}
