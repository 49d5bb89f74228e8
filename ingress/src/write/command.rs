//! What makes a value a command the write path can publish: its topic,
//! subject, envelope and key. Implemented for each domain's command.

use khlang_contract::catalog::CatalogCommand;
use khlang_contract::stock::StockCommand;
use khlang_contract::topics::{
    CATALOG_COMMAND_SUBJECT, STOCK_COMMAND_SUBJECT, USER_COMMAND_SUBJECT,
};
use khlang_contract::users::UserCommand;
use khlang_contract::{Envelope, Subject, TopicName};
use serde::Serialize;

use crate::state::Topics;

/// A command the ingress publishes: where it goes and under which key.
pub trait Command: Serialize + Sync {
    /// The value subject in the schema registry.
    const SUBJECT: Subject;
    /// The topic of this kind of command.
    fn topic(topics: &Topics) -> TopicName;
    /// The command's envelope (its id is the command id).
    fn envelope(&self) -> &Envelope;
    /// The Kafka key: the aggregate the command addresses.
    fn record_key(&self) -> String;
}

impl Command for UserCommand {
    const SUBJECT: Subject = USER_COMMAND_SUBJECT;
    fn topic(topics: &Topics) -> TopicName {
        topics.users_commands
    }
    fn envelope(&self) -> &Envelope {
        &self.envelope
    }
    fn record_key(&self) -> String {
        self.user_id.clone()
    }
}

impl Command for CatalogCommand {
    const SUBJECT: Subject = CATALOG_COMMAND_SUBJECT;
    fn topic(topics: &Topics) -> TopicName {
        topics.catalog_commands
    }
    fn envelope(&self) -> &Envelope {
        &self.envelope
    }
    fn record_key(&self) -> String {
        self.aggregate_id.clone()
    }
}

impl Command for StockCommand {
    const SUBJECT: Subject = STOCK_COMMAND_SUBJECT;
    fn topic(topics: &Topics) -> TopicName {
        topics.stock_commands
    }
    fn envelope(&self) -> &Envelope {
        &self.envelope
    }
    fn record_key(&self) -> String {
        self.key()
    }
}
