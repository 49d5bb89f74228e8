//! The ingress's Prometheus metrics. Labels are bounded: route templates,
//! methods, status codes and reasons; never ids, never raw paths.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// Labels of request metrics.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// Route template, `unmatched` for unknown paths.
    pub route: String,
    /// HTTP method.
    pub method: String,
    /// HTTP status.
    pub status: u16,
}

/// Labels of the latency histogram.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// Route template.
    pub route: String,
}

/// Labels of the auth-failure counter.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    /// Why authentication failed.
    pub reason: String,
}

/// Every metric the ingress records.
#[derive(Debug, Clone)]
pub struct Metrics {
    /// Requests answered.
    pub requests: Family<RequestLabels, Counter>,
    /// Seconds to answer, by route.
    pub request_seconds: Family<RouteLabels, Histogram>,
    /// Seconds from handing a command to Kafka to its acknowledgement.
    pub produce_seconds: Histogram,
    /// Commands Kafka did not acknowledge in time (answered 503).
    pub produce_failures: Counter,
    /// Failed authentications, by reason.
    pub auth_failures: Family<ReasonLabels, Counter>,
    /// Access records that could not be published.
    pub access_records_dropped: Counter,
    /// Signals from PostgreSQL that processors recorded outcomes.
    pub outcome_signals: Counter,
}

fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.000_5, 2.0, 16))
}

impl Metrics {
    /// Creates the metrics and registers them in `registry`.
    pub fn register(registry: &mut Registry) -> Self {
        let metrics = Self {
            requests: Family::default(),
            request_seconds: Family::new_with_constructor(latency_histogram),
            produce_seconds: latency_histogram(),
            produce_failures: Counter::default(),
            auth_failures: Family::default(),
            access_records_dropped: Counter::default(),
            outcome_signals: Counter::default(),
        };
        let ingress = registry.sub_registry_with_prefix("khlang_ingress");
        ingress.register(
            "http_requests",
            "HTTP requests answered",
            metrics.requests.clone(),
        );
        ingress.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request",
            metrics.request_seconds.clone(),
        );
        ingress.register(
            "produce_duration_seconds",
            "Time from handing a command to Kafka to its acknowledgement",
            metrics.produce_seconds.clone(),
        );
        ingress.register(
            "produce_failures",
            "Commands Kafka did not acknowledge in time",
            metrics.produce_failures.clone(),
        );
        ingress.register(
            "auth_failures",
            "Failed authentications by reason",
            metrics.auth_failures.clone(),
        );
        ingress.register(
            "access_records_dropped",
            "Access records that could not be published",
            metrics.access_records_dropped.clone(),
        );
        ingress.register(
            "outcome_signals",
            "Notifications from PostgreSQL that outcomes were recorded",
            metrics.outcome_signals.clone(),
        );
        metrics
    }

    /// Counts a failed authentication.
    pub fn auth_failed(&self, reason: &str) {
        self.auth_failures
            .get_or_create(&ReasonLabels {
                reason: reason.to_owned(),
            })
            .inc();
    }
}
