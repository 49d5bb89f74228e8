//! What the cluster has, read through the admin client.
//!
//! Partition counts and replication factors come from the cluster metadata;
//! topic configs from `DescribeConfigs`, kept only for the keys the file
//! declares (a plan never reasons about keys the file does not mention).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, ResourceSpecifier};
use rdkafka::client::ClientContext;
use rdkafka::metadata::Metadata;
use tracing::debug;

use crate::{DesiredState, TopicsError};

/// The topics under the managed prefix as the cluster has them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterState {
    /// By name.
    pub topics: BTreeMap<String, TopicState>,
}

/// One topic in the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicState {
    /// Partition count.
    pub partitions: i32,
    /// The largest replica count over the topic's partitions.
    pub replication_factor: i32,
    /// Current values of the config keys the file declares for this topic
    /// (empty for undeclared topics); a key the broker does not report is
    /// absent.
    pub config: BTreeMap<String, String>,
}

impl ClusterState {
    /// Reads every topic under `desired.managed_prefix` (internal `__*`
    /// topics excluded) and, for declared topics, the declared config keys.
    ///
    /// The metadata request is a blocking call of at most `timeout`.
    ///
    /// # Errors
    /// [`TopicsError::Kafka`] when the cluster cannot be reached or does not
    /// answer in time, [`TopicsError::Topic`] when it cannot describe a
    /// topic's configs.
    pub async fn fetch<C: ClientContext>(
        admin: &AdminClient<C>,
        desired: &DesiredState,
        timeout: Duration,
    ) -> Result<Self, TopicsError> {
        let metadata = admin
            .inner()
            .fetch_metadata(None, timeout)
            .map_err(|source| TopicsError::Kafka {
                operation: "fetch metadata",
                source,
            })?;
        let mut state = Self::from_metadata(&metadata, &desired.managed_prefix);

        let declared: BTreeMap<&str, BTreeSet<&str>> = desired
            .topics
            .iter()
            .filter(|t| state.topics.contains_key(&t.name))
            .map(|t| {
                (
                    t.name.as_str(),
                    t.config.keys().map(String::as_str).collect(),
                )
            })
            .collect();
        if declared.is_empty() {
            return Ok(state);
        }
        let resources: Vec<ResourceSpecifier<'_>> = declared
            .keys()
            .map(|t| ResourceSpecifier::Topic(t))
            .collect();
        let options = AdminOptions::new().request_timeout(Some(timeout));
        let results = admin
            .describe_configs(&resources, &options)
            .await
            .map_err(|source| TopicsError::Kafka {
                operation: "describe configs",
                source,
            })?;
        for result in results {
            let resource = result.map_err(|code| TopicsError::Topic {
                operation: "describe configs",
                topic: "(unknown)".into(),
                code,
            })?;
            let rdkafka::admin::OwnedResourceSpecifier::Topic(name) = &resource.specifier else {
                continue;
            };
            let (Some(keys), Some(topic)) =
                (declared.get(name.as_str()), state.topics.get_mut(name))
            else {
                continue;
            };
            for entry in &resource.entries {
                if let (true, Some(value)) = (keys.contains(entry.name.as_str()), &entry.value) {
                    topic.config.insert(entry.name.clone(), value.clone());
                }
            }
            debug!(topic = %name, keys = topic.config.len(), "described topic configs");
        }
        Ok(state)
    }

    /// The managed topics in `metadata`, without configs.
    #[must_use]
    pub fn from_metadata(metadata: &Metadata, managed_prefix: &str) -> Self {
        let topics = metadata
            .topics()
            .iter()
            .filter(|t| t.name().starts_with(managed_prefix) && !t.name().starts_with("__"))
            // A topic being deleted can still show up with an error and no
            // partitions; it is not there any more for planning purposes.
            .filter(|t| t.error().is_none() && !t.partitions().is_empty())
            .map(|t| {
                let partitions = i32::try_from(t.partitions().len()).unwrap_or(i32::MAX);
                let replication_factor = t
                    .partitions()
                    .iter()
                    .map(|p| i32::try_from(p.replicas().len()).unwrap_or(i32::MAX))
                    .max()
                    .unwrap_or(0);
                (
                    t.name().to_owned(),
                    TopicState {
                        partitions,
                        replication_factor,
                        config: BTreeMap::new(),
                    },
                )
            })
            .collect();
        Self { topics }
    }
}
