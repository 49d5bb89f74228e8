//! Telemetry shared by every khlang binary.
//!
//! - [`init_logging`]: JSON logs, one object per line, with ECS field names
//!   (`@timestamp`, `log.level`, `message`, `service.name`, …) so that the
//!   ELK stack ingests them without mapping work. Fields of the enclosing
//!   spans are merged in, which is how a record's `correlation_id` reaches
//!   every line logged while it is processed.
//! - [`serve`]: the operational HTTP endpoints `/metrics` (Prometheus text
//!   format), `/health/live` and `/health/ready`.

mod ecs;
mod http;

pub use ecs::{init_logging, EcsFormat};
pub use http::{serve, Health};
