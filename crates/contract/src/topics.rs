//! Typed names of the topics and schema subjects declared in `topics.yaml`.
//!
//! Code never spells a topic name as a string literal; it uses these
//! constants. `khlang-topics` has a test that every constant here is declared
//! in `topics.yaml` with the same subject and schema file, and the other way
//! round.

use std::fmt;

/// A Kafka topic name from `topics.yaml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TopicName(&'static str);

impl TopicName {
    /// The topic's name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        self.0
    }

    /// The same topic inside `namespace` (`{namespace}.{name}`); an empty
    /// namespace returns the topic itself. Used to give every integration
    /// test its own topics; the name is leaked, so call it at startup only.
    #[must_use]
    pub fn namespaced(self, namespace: &str) -> TopicName {
        if namespace.is_empty() {
            self
        } else {
            TopicName(Box::leak(
                format!("{namespace}.{}", self.0).into_boxed_str(),
            ))
        }
    }

    /// The value subject of this topic under the topic name strategy.
    #[must_use]
    pub fn value_subject(self) -> String {
        format!("{}-value", self.0)
    }
}

impl fmt::Display for TopicName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// A schema subject with the path of its schema under `schemas/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Subject {
    /// Subject name in the registry (topic name strategy: `<topic>-value`).
    pub name: &'static str,
    /// Path of the `.avsc` file relative to `schemas/`.
    pub schema_path: &'static str,
    /// The `.avsc` text compiled into the binary (before the shared envelope
    /// is inlined; see `khlang_codec::compose`).
    pub schema: &'static str,
}

/// The shared envelope schema every subject refers to as `th.khlang.Envelope`.
pub const ENVELOPE_SCHEMA: &str = include_str!("../../../schemas/common/envelope.avsc");

/// Commands for the users processor, keyed by user id.
pub const USERS_COMMANDS: TopicName = TopicName("khlang.users.commands");
/// User events, keyed by user id.
pub const USERS_EVENTS: TopicName = TopicName("khlang.users.events");
/// Users commands the processor could not handle.
pub const USERS_COMMANDS_DLQ: TopicName = TopicName("khlang.users.commands.dlq");
/// The outcome of every command, keyed by command id.
pub const COMMAND_OUTCOMES: TopicName = TopicName("khlang.commands.outcomes");

/// Every request the ingress answered, keyed by actor id (or client address).
pub const ACCESS_LOG: TopicName = TopicName("khlang.access.log");

/// Catalog commands (products and warehouses), keyed by SKU or
/// `warehouse:<code>`.
pub const CATALOG_COMMANDS: TopicName = TopicName("khlang.catalog.commands");
/// Catalog events, keyed like the commands.
pub const CATALOG_EVENTS: TopicName = TopicName("khlang.catalog.events");
/// The current state of every product (keyed by SKU) and warehouse (keyed
/// `warehouse:<code>`), compacted: the last record of a key is its state.
/// Other domains consume it into tables of their own (stream-table joins).
pub const CATALOG_STATE: TopicName = TopicName("khlang.catalog.state");
/// Catalog commands the processor could not handle.
pub const CATALOG_COMMANDS_DLQ: TopicName = TopicName("khlang.catalog.commands.dlq");
/// Stock movements, keyed `sku@warehouse`.
pub const STOCK_COMMANDS: TopicName = TopicName("khlang.stock.commands");
/// Stock events (movements and low-stock crossings), keyed `sku@warehouse`.
pub const STOCK_EVENTS: TopicName = TopicName("khlang.stock.events");
/// Stock commands the processor could not handle.
pub const STOCK_COMMANDS_DLQ: TopicName = TopicName("khlang.stock.commands.dlq");

/// Every topic, for checks against `topics.yaml`.
pub const ALL_TOPICS: [TopicName; 12] = [
    USERS_COMMANDS,
    USERS_EVENTS,
    USERS_COMMANDS_DLQ,
    COMMAND_OUTCOMES,
    ACCESS_LOG,
    CATALOG_COMMANDS,
    CATALOG_EVENTS,
    CATALOG_STATE,
    CATALOG_COMMANDS_DLQ,
    STOCK_COMMANDS,
    STOCK_EVENTS,
    STOCK_COMMANDS_DLQ,
];

/// Value subject of [`USERS_COMMANDS`].
pub const USER_COMMAND_SUBJECT: Subject = Subject {
    name: "khlang.users.commands-value",
    schema_path: "users/user-command.avsc",
    schema: include_str!("../../../schemas/users/user-command.avsc"),
};
/// Value subject of [`USERS_EVENTS`].
pub const USER_EVENT_SUBJECT: Subject = Subject {
    name: "khlang.users.events-value",
    schema_path: "users/user-event.avsc",
    schema: include_str!("../../../schemas/users/user-event.avsc"),
};
/// Value subject of [`COMMAND_OUTCOMES`].
pub const COMMAND_OUTCOME_SUBJECT: Subject = Subject {
    name: "khlang.commands.outcomes-value",
    schema_path: "commands/command-outcome.avsc",
    schema: include_str!("../../../schemas/commands/command-outcome.avsc"),
};

/// Value subject of [`ACCESS_LOG`].
pub const ACCESS_RECORD_SUBJECT: Subject = Subject {
    name: "khlang.access.log-value",
    schema_path: "access/access-record.avsc",
    schema: include_str!("../../../schemas/access/access-record.avsc"),
};

/// Value subject of [`CATALOG_COMMANDS`].
pub const CATALOG_COMMAND_SUBJECT: Subject = Subject {
    name: "khlang.catalog.commands-value",
    schema_path: "catalog/catalog-command.avsc",
    schema: include_str!("../../../schemas/catalog/catalog-command.avsc"),
};
/// Value subject of [`CATALOG_EVENTS`].
pub const CATALOG_EVENT_SUBJECT: Subject = Subject {
    name: "khlang.catalog.events-value",
    schema_path: "catalog/catalog-event.avsc",
    schema: include_str!("../../../schemas/catalog/catalog-event.avsc"),
};
/// Value subject of [`CATALOG_STATE`].
pub const CATALOG_STATE_SUBJECT: Subject = Subject {
    name: "khlang.catalog.state-value",
    schema_path: "catalog/catalog-state.avsc",
    schema: include_str!("../../../schemas/catalog/catalog-state.avsc"),
};
/// Value subject of [`STOCK_COMMANDS`].
pub const STOCK_COMMAND_SUBJECT: Subject = Subject {
    name: "khlang.stock.commands-value",
    schema_path: "stock/stock-command.avsc",
    schema: include_str!("../../../schemas/stock/stock-command.avsc"),
};
/// Value subject of [`STOCK_EVENTS`].
pub const STOCK_EVENT_SUBJECT: Subject = Subject {
    name: "khlang.stock.events-value",
    schema_path: "stock/stock-event.avsc",
    schema: include_str!("../../../schemas/stock/stock-event.avsc"),
};

/// Every subject, for checks against `topics.yaml` and `schemas/`.
pub const ALL_SUBJECTS: [Subject; 9] = [
    USER_COMMAND_SUBJECT,
    USER_EVENT_SUBJECT,
    COMMAND_OUTCOME_SUBJECT,
    ACCESS_RECORD_SUBJECT,
    CATALOG_COMMAND_SUBJECT,
    CATALOG_EVENT_SUBJECT,
    CATALOG_STATE_SUBJECT,
    STOCK_COMMAND_SUBJECT,
    STOCK_EVENT_SUBJECT,
];
