//! The contract between every khlang component.
//!
//! This crate sits at the bottom of the crate graph and depends on no other
//! khlang crate. It holds the Rust mirror of the Avro schemas in `schemas/`
//! (envelope, commands, events, outcomes), the roles, and the typed names of
//! topics and schema subjects declared in `topics.yaml`, and the domain
//! values with rules ([`values`]) that the ingress and the processors both
//! parse.

pub mod access;
pub mod catalog;
pub mod envelope;
pub mod outcome;
pub mod role;
pub mod stock;
pub mod topics;
pub mod users;
pub mod values;

pub use access::AccessRecord;
pub use envelope::{Actor, ActorKind, Envelope};
pub use outcome::{CommandOutcome, OutcomeStatus};
pub use role::Role;
pub use topics::{Subject, TopicName};
