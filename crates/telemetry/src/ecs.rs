//! An ECS-compatible JSON event formatter for `tracing-subscriber`.

use std::fmt;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

/// Installs the global JSON logger for the binary `service`.
///
/// The level filter comes from `RUST_LOG` (default `info`). Calling it twice
/// is harmless: the second call does nothing.
pub fn init_logging(service: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .fmt_fields(JsonFields::new())
        .event_format(EcsFormat::new(service))
        .with_writer(std::io::stdout)
        .try_init();
}

/// Formats each event as one ECS JSON object.
#[derive(Debug, Clone)]
pub struct EcsFormat {
    service: String,
}

impl EcsFormat {
    /// A formatter stamping `service.name` with `service`.
    #[must_use]
    pub fn new(service: &str) -> Self {
        Self {
            service: service.to_owned(),
        }
    }
}

/// Renames a field to its ECS name; unknown fields keep theirs.
fn ecs_name(field: &str) -> &str {
    match field {
        "correlation_id" => "labels.correlation_id",
        "command_id" => "labels.command_id",
        "error" => "error.message",
        other => other,
    }
}

impl<S, N> FormatEvent<S, N> for EcsFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        let mut object = Map::new();
        object.insert(
            "@timestamp".into(),
            Value::String(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
        );
        object.insert(
            "log.level".into(),
            Value::String(meta.level().as_str().to_lowercase()),
        );
        object.insert("log.logger".into(), Value::String(meta.target().to_owned()));
        object.insert("service.name".into(), Value::String(self.service.clone()));
        object.insert("ecs.version".into(), Value::String("8.11.0".into()));
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                let extensions = span.extensions();
                let Some(fields) = extensions.get::<FormattedFields<N>>() else {
                    continue;
                };
                if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(fields) {
                    for (key, value) in map {
                        object.insert(ecs_name(&key).to_owned(), value);
                    }
                }
            }
        }
        event.record(&mut Visitor(&mut object));
        writeln!(writer, "{}", Value::Object(object))
    }
}

struct Visitor<'a>(&'a mut Map<String, Value>);

impl Visitor<'_> {
    fn put(&mut self, field: &Field, value: Value) {
        self.0.insert(ecs_name(field.name()).to_owned(), value);
    }
}

impl Visit for Visitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::String(value.to_owned()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::Bool(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, Value::from(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, Value::String(value.to_string()));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, Value::String(format!("{value:?}")));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::fmt::MakeWriter;

    use super::*;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| std::io::ErrorKind::Other)?
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buffer {
        type Writer = Buffer;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    #[test]
    fn lines_carry_ecs_fields_and_the_correlation_id_of_the_span() {
        let buffer = Buffer::default();
        let subscriber = tracing_subscriber::fmt()
            .fmt_fields(JsonFields::new())
            .event_format(EcsFormat::new("khlang-test"))
            .with_writer(buffer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("record", correlation_id = "corr-42");
            let _guard = span.enter();
            tracing::warn!(partition = 3, "record sent to dlq");
        });
        let text = String::from_utf8(buffer.0.lock().expect("lock").clone()).expect("utf8");
        let line: Value = serde_json::from_str(text.trim()).expect("one json line");
        assert_eq!(line["message"], "record sent to dlq");
        assert_eq!(line["log.level"], "warn");
        assert_eq!(line["service.name"], "khlang-test");
        assert_eq!(line["labels.correlation_id"], "corr-42");
        assert_eq!(line["partition"], 3);
        assert!(line["@timestamp"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')));
    }
}
