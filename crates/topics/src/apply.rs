//! Carrying out a [`Plan`] with the admin client.
//!
//! Config changes: rdkafka 0.39 has no binding for
//! `IncrementalAlterConfigs`, only the legacy `AlterConfigs`, which replaces
//! the topic's whole set of overrides and resets every key it does not name.
//! So for each topic with config changes, apply first describes the topic,
//! keeps every override the topic has now (config source `DynamicTopic`,
//! whether the file declares it or not), lays the planned changes over them
//! and sends that full set. Overrides set by hand on other keys therefore
//! survive. Two things follow: a concurrent change of another key between
//! the describe and the alter can be lost (the window is one round trip),
//! and a topic with a sensitive override (whose value the broker does not
//! disclose) is refused rather than silently reset.

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::admin::{
    AdminClient, AdminOptions, AlterConfig, ConfigSource, NewPartitions, NewTopic,
    OwnedResourceSpecifier, ResourceSpecifier, TopicReplication,
};
use rdkafka::client::ClientContext;
use rdkafka::error::RDKafkaErrorCode;
use tracing::info;

use crate::plan::REPLICATION_HINT;
use crate::{Action, Plan, TopicsError};

/// What apply is allowed to do.
#[derive(Debug, Clone, Copy)]
pub struct ApplyOptions {
    /// Delete topics under the managed prefix that the file does not declare.
    pub allow_delete: bool,
    /// Let the rest of the plan go ahead although the file changes a
    /// replication factor (which apply itself cannot do).
    pub allow_replication_change: bool,
    /// Timeout of each admin request, and how long the broker may take to
    /// finish the operation.
    pub timeout: Duration,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        Self {
            allow_delete: false,
            allow_replication_change: false,
            timeout: Duration::from_secs(30),
        }
    }
}

/// What happened to one action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The cluster did it.
    Done,
    /// Allowed but not something apply can do; the text says what to do.
    ManualStep(String),
}

/// The result of [`apply()`], one entry per action of the plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyReport {
    /// Each action with its outcome, in plan order.
    pub outcomes: Vec<(Action, Outcome)>,
}

/// Carries out `plan`.
///
/// Nothing is applied when any action is refused by `options` (an
/// impossible partition decrease is refused whatever the options): a
/// half-applied file is harder to reason about than an untouched cluster.
/// Creations come first, then new partitions, config changes and
/// deletions. Applying the plan of an already applied file does nothing.
///
/// # Errors
/// [`TopicsError::Refused`] listing every refused action (nothing applied);
/// [`TopicsError::Kafka`] or [`TopicsError::Topic`] when the cluster fails
/// an operation (earlier operations stay applied: plan again to see where
/// things stand); [`TopicsError::SensitiveOverride`] as described in the
/// module docs.
pub async fn apply<C: ClientContext>(
    admin: &AdminClient<C>,
    plan: &Plan,
    options: &ApplyOptions,
) -> Result<ApplyReport, TopicsError> {
    let refusals = plan.refusals(options);
    if !refusals.is_empty() {
        return Err(TopicsError::Refused {
            refusals: refusals.iter().map(ToString::to_string).collect(),
        });
    }
    let admin_options = AdminOptions::new()
        .request_timeout(Some(options.timeout))
        .operation_timeout(Some(options.timeout));

    create_topics(admin, plan, &admin_options).await?;
    add_partitions(admin, plan, &admin_options).await?;
    alter_configs(admin, plan, &admin_options).await?;
    delete_topics(admin, plan, &admin_options).await?;

    let outcomes = plan
        .actions
        .iter()
        .map(|action| {
            let outcome = match action {
                Action::ChangeReplication { .. } => {
                    Outcome::ManualStep(REPLICATION_HINT.to_owned())
                }
                _ => Outcome::Done,
            };
            (action.clone(), outcome)
        })
        .collect();
    Ok(ApplyReport { outcomes })
}

fn check(
    operation: &'static str,
    results: Vec<Result<String, (String, RDKafkaErrorCode)>>,
) -> Result<(), TopicsError> {
    for result in results {
        match result {
            Ok(topic) => info!(topic = %topic, operation, "topic changed"),
            Err((topic, code)) => {
                return Err(TopicsError::Topic {
                    operation,
                    topic,
                    code,
                })
            }
        }
    }
    Ok(())
}

async fn create_topics<C: ClientContext>(
    admin: &AdminClient<C>,
    plan: &Plan,
    options: &AdminOptions,
) -> Result<(), TopicsError> {
    let new_topics: Vec<NewTopic<'_>> = plan
        .actions
        .iter()
        .filter_map(|action| match action {
            Action::CreateTopic {
                topic,
                partitions,
                replication_factor,
                config,
            } => {
                let mut new = NewTopic::new(
                    topic,
                    *partitions,
                    TopicReplication::Fixed(*replication_factor),
                );
                for (key, value) in config {
                    new = new.set(key, value);
                }
                Some(new)
            }
            _ => None,
        })
        .collect();
    if new_topics.is_empty() {
        return Ok(());
    }
    let results = admin
        .create_topics(&new_topics, options)
        .await
        .map_err(|source| TopicsError::Kafka {
            operation: "create topics",
            source,
        })?;
    check("create", results)
}

async fn add_partitions<C: ClientContext>(
    admin: &AdminClient<C>,
    plan: &Plan,
    options: &AdminOptions,
) -> Result<(), TopicsError> {
    let mut new_partitions = Vec::new();
    for action in &plan.actions {
        if let Action::AddPartitions { topic, to, .. } = action {
            let count = usize::try_from(*to).map_err(|_| TopicsError::Topic {
                operation: "create partitions",
                topic: topic.clone(),
                code: RDKafkaErrorCode::InvalidPartitions,
            })?;
            new_partitions.push(NewPartitions::new(topic, count));
        }
    }
    if new_partitions.is_empty() {
        return Ok(());
    }
    let results = admin
        .create_partitions(&new_partitions, options)
        .await
        .map_err(|source| TopicsError::Kafka {
            operation: "create partitions",
            source,
        })?;
    check("create partitions", results)
}

async fn alter_configs<C: ClientContext>(
    admin: &AdminClient<C>,
    plan: &Plan,
    options: &AdminOptions,
) -> Result<(), TopicsError> {
    let mut changes: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
    for action in &plan.actions {
        if let Action::AlterConfig { topic, key, to, .. } = action {
            changes.entry(topic).or_default().push((key, to));
        }
    }
    if changes.is_empty() {
        return Ok(());
    }
    let resources: Vec<ResourceSpecifier<'_>> = changes
        .keys()
        .map(|t| ResourceSpecifier::Topic(t))
        .collect();
    let described = admin
        .describe_configs(&resources, options)
        .await
        .map_err(|source| TopicsError::Kafka {
            operation: "describe configs",
            source,
        })?;

    // Current overrides per topic; the planned changes are laid over them.
    let mut full: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for result in described {
        let resource = result.map_err(|code| TopicsError::Topic {
            operation: "describe configs",
            topic: "(unknown)".into(),
            code,
        })?;
        let OwnedResourceSpecifier::Topic(topic) = resource.specifier else {
            continue;
        };
        let overrides = full.entry(topic.clone()).or_default();
        for entry in resource.entries {
            if entry.source != ConfigSource::DynamicTopic {
                continue;
            }
            match entry.value {
                Some(value) if !entry.is_sensitive => {
                    overrides.insert(entry.name, value);
                }
                _ => {
                    return Err(TopicsError::SensitiveOverride {
                        topic,
                        key: entry.name,
                    })
                }
            }
        }
    }
    for (topic, keys) in &changes {
        let overrides = full.entry((*topic).to_owned()).or_default();
        for (key, value) in keys {
            overrides.insert((*key).to_owned(), (*value).to_owned());
        }
    }

    let alters: Vec<AlterConfig<'_>> = full
        .iter()
        .map(|(topic, entries)| {
            entries.iter().fold(
                AlterConfig::new(ResourceSpecifier::Topic(topic)),
                |alter, (k, v)| alter.set(k, v),
            )
        })
        .collect();
    let results = admin
        .alter_configs(&alters, options)
        .await
        .map_err(|source| TopicsError::Kafka {
            operation: "alter configs",
            source,
        })?;
    for result in results {
        match result {
            Ok(specifier) => info!(resource = ?specifier, "topic configs altered"),
            Err((specifier, code)) => {
                let topic = match specifier {
                    OwnedResourceSpecifier::Topic(t) | OwnedResourceSpecifier::Group(t) => t,
                    OwnedResourceSpecifier::Broker(id) => id.to_string(),
                };
                return Err(TopicsError::Topic {
                    operation: "alter configs",
                    topic,
                    code,
                });
            }
        }
    }
    Ok(())
}

async fn delete_topics<C: ClientContext>(
    admin: &AdminClient<C>,
    plan: &Plan,
    options: &AdminOptions,
) -> Result<(), TopicsError> {
    let names: Vec<&str> = plan
        .actions
        .iter()
        .filter_map(|action| match action {
            Action::DeleteTopic { topic } => Some(topic.as_str()),
            _ => None,
        })
        .collect();
    if names.is_empty() {
        return Ok(());
    }
    let results = admin
        .delete_topics(&names, options)
        .await
        .map_err(|source| TopicsError::Kafka {
            operation: "delete topics",
            source,
        })?;
    check("delete", results)
}
