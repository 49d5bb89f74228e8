//! The difference between the file and the cluster, as a list of actions.
//!
//! [`plan()`] is pure: it compares a [`DesiredState`] with a
//! [`ClusterState`] and does no IO, so every rule here is unit tested
//! without Kafka. Each [`Action`] carries a [`Guard`] that says whether
//! [`crate::apply()`] may carry it out as is, only with an explicit opt-in,
//! or never.

use std::fmt;

use crate::apply::ApplyOptions;
use crate::table;
use crate::{ClusterState, DesiredState};

/// One change that would make the cluster match the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// The topic is declared but missing.
    CreateTopic {
        /// Topic name.
        topic: String,
        /// Partition count.
        partitions: i32,
        /// Replication factor.
        replication_factor: i32,
        /// Configs to create it with.
        config: Vec<(String, String)>,
    },
    /// The file declares more partitions than the topic has.
    AddPartitions {
        /// Topic name.
        topic: String,
        /// Partitions now.
        from: i32,
        /// Partitions declared.
        to: i32,
    },
    /// A declared config key has another value in the cluster.
    AlterConfig {
        /// Topic name.
        topic: String,
        /// Config key.
        key: String,
        /// Value now (`None` when the broker does not report the key).
        from: Option<String>,
        /// Value declared.
        to: String,
    },
    /// A topic under the managed prefix that the file does not declare.
    DeleteTopic {
        /// Topic name.
        topic: String,
    },
    /// The file declares fewer partitions than the topic has: Kafka cannot
    /// do that, so this is always refused.
    DecreasePartitions {
        /// Topic name.
        topic: String,
        /// Partitions now.
        from: i32,
        /// Partitions declared.
        to: i32,
    },
    /// The file declares another replication factor: needs a partition
    /// reassignment, which apply does not do.
    ChangeReplication {
        /// Topic name.
        topic: String,
        /// Replication factor now.
        from: i32,
        /// Replication factor declared.
        to: i32,
    },
}

/// Whether an action may be applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    /// Applied whenever the plan is applied.
    Safe,
    /// Loses data: applied only with `--allow-delete`.
    NeedsAllowDelete,
    /// Refused unless `--allow-replication-change`; even then apply only
    /// reports the manual step.
    NeedsAllowReplicationChange,
    /// Never possible.
    Impossible,
}

/// An action the options do not allow, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The refused action.
    pub action: Action,
    /// Why, and what would unblock it.
    pub reason: String,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.action.kind(),
            self.action.topic(),
            self.reason
        )
    }
}

/// What to do by hand instead of a replication change.
pub(crate) const REPLICATION_HINT: &str = "apply cannot change a replication factor: \
     write a reassignment with the new replica lists and run kafka-reassign-partitions.sh --execute, \
     or recreate the topic";

impl Action {
    /// The topic the action is about.
    #[must_use]
    pub fn topic(&self) -> &str {
        match self {
            Self::CreateTopic { topic, .. }
            | Self::AddPartitions { topic, .. }
            | Self::AlterConfig { topic, .. }
            | Self::DeleteTopic { topic }
            | Self::DecreasePartitions { topic, .. }
            | Self::ChangeReplication { topic, .. } => topic,
        }
    }

    /// A short lowercase name of the kind of action, e.g. `create`.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::CreateTopic { .. } => "create",
            Self::AddPartitions { .. } => "add partitions",
            Self::AlterConfig { .. } => "alter config",
            Self::DeleteTopic { .. } => "delete",
            Self::DecreasePartitions { .. } => "decrease partitions",
            Self::ChangeReplication { .. } => "change replication",
        }
    }

    /// Whether the action may be applied.
    #[must_use]
    pub fn guard(&self) -> Guard {
        match self {
            Self::CreateTopic { .. } | Self::AddPartitions { .. } | Self::AlterConfig { .. } => {
                Guard::Safe
            }
            Self::DeleteTopic { .. } => Guard::NeedsAllowDelete,
            Self::ChangeReplication { .. } => Guard::NeedsAllowReplicationChange,
            Self::DecreasePartitions { .. } => Guard::Impossible,
        }
    }

    /// Why `options` do not allow this action, if they do not.
    #[must_use]
    pub fn refusal(&self, options: &ApplyOptions) -> Option<String> {
        match self.guard() {
            Guard::Safe => None,
            Guard::NeedsAllowDelete if options.allow_delete => None,
            Guard::NeedsAllowDelete => Some(
                "the topic is under the managed prefix but not in the file; deleting it loses its data: \
                 pass --allow-delete, or declare it again"
                    .into(),
            ),
            Guard::NeedsAllowReplicationChange if options.allow_replication_change => None,
            Guard::NeedsAllowReplicationChange => Some(format!(
                "{REPLICATION_HINT}; pass --allow-replication-change to apply the rest anyway"
            )),
            Guard::Impossible => Some(
                "kafka cannot remove partitions; set partitions back to the current count, \
                 or create a new topic with fewer partitions and migrate to it"
                    .into(),
            ),
        }
    }

    fn change(&self) -> String {
        match self {
            Self::CreateTopic {
                partitions,
                replication_factor,
                config,
                ..
            } => {
                let mut text = format!("partitions={partitions} replication={replication_factor}");
                for (k, v) in config {
                    text.push_str(&format!(" {k}={v}"));
                }
                text
            }
            Self::AddPartitions { from, to, .. } | Self::DecreasePartitions { from, to, .. } => {
                format!("partitions {from} -> {to}")
            }
            Self::ChangeReplication { from, to, .. } => format!("replication {from} -> {to}"),
            Self::AlterConfig { key, from, to, .. } => {
                format!("{key} {} -> {to}", from.as_deref().unwrap_or("(unset)"))
            }
            Self::DeleteTopic { .. } => "not in the file".into(),
        }
    }

    fn note(&self) -> &'static str {
        match self.guard() {
            Guard::Safe => "",
            Guard::NeedsAllowDelete => "needs --allow-delete",
            Guard::NeedsAllowReplicationChange => {
                "refused: needs --allow-replication-change and a manual reassignment"
            }
            Guard::Impossible => "refused: kafka cannot remove partitions",
        }
    }
}

/// The actions that would make the cluster match the file, in a stable
/// order (by topic, then creations and partitions before configs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// The actions.
    pub actions: Vec<Action>,
}

impl Plan {
    /// True when the cluster already matches the file.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    /// The actions `options` do not allow.
    #[must_use]
    pub fn refusals(&self, options: &ApplyOptions) -> Vec<Refusal> {
        self.actions
            .iter()
            .filter_map(|a| {
                a.refusal(options).map(|reason| Refusal {
                    action: a.clone(),
                    reason,
                })
            })
            .collect()
    }
}

impl fmt::Display for Plan {
    /// A table with one row per action; one line when there is nothing to do.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return writeln!(f, "no changes: the cluster matches the file");
        }
        let rows: Vec<Vec<String>> = self
            .actions
            .iter()
            .map(|a| {
                vec![
                    a.kind().to_owned(),
                    a.topic().to_owned(),
                    a.change(),
                    a.note().to_owned(),
                ]
            })
            .collect();
        f.write_str(&table::render(
            &["ACTION", "TOPIC", "CHANGE", "NOTE"],
            &rows,
        ))?;
        let refused = self
            .actions
            .iter()
            .filter(|a| a.guard() != Guard::Safe)
            .count();
        writeln!(f, "{} action(s), {} guarded", self.actions.len(), refused)
    }
}

/// Compares what the file wants with what the cluster has. Pure: no IO.
///
/// Only topics under `desired.managed_prefix` are considered for deletion;
/// internal `__*` topics never are. Configs are compared only for the keys
/// the file declares (defaults merged), so overrides set by hand on other
/// keys are left alone.
#[must_use]
pub fn plan(desired: &DesiredState, cluster: &ClusterState) -> Plan {
    let mut actions = Vec::new();
    let mut wanted: Vec<_> = desired.topics.iter().collect();
    wanted.sort_by(|a, b| a.name.cmp(&b.name));
    for topic in wanted {
        let Some(current) = cluster.topics.get(&topic.name) else {
            actions.push(Action::CreateTopic {
                topic: topic.name.clone(),
                partitions: topic.partitions,
                replication_factor: topic.replication_factor,
                config: topic
                    .config
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            });
            continue;
        };
        let name = topic.name.clone();
        if topic.partitions > current.partitions {
            actions.push(Action::AddPartitions {
                topic: name.clone(),
                from: current.partitions,
                to: topic.partitions,
            });
        } else if topic.partitions < current.partitions {
            actions.push(Action::DecreasePartitions {
                topic: name.clone(),
                from: current.partitions,
                to: topic.partitions,
            });
        }
        if topic.replication_factor != current.replication_factor {
            actions.push(Action::ChangeReplication {
                topic: name.clone(),
                from: current.replication_factor,
                to: topic.replication_factor,
            });
        }
        for (key, to) in &topic.config {
            let from = current.config.get(key);
            if from.map(|v| v.trim()) != Some(to.trim()) {
                actions.push(Action::AlterConfig {
                    topic: name.clone(),
                    key: key.clone(),
                    from: from.cloned(),
                    to: to.clone(),
                });
            }
        }
    }
    for name in cluster.topics.keys() {
        let managed = name.starts_with(&desired.managed_prefix) && !name.starts_with("__");
        if managed && !desired.topics.iter().any(|t| &t.name == name) {
            actions.push(Action::DeleteTopic {
                topic: name.clone(),
            });
        }
    }
    Plan { actions }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::{DesiredTopic, TopicState};

    /// (name, partitions, replication factor, config) of one topic.
    type Row<'a> = (&'a str, i32, i32, &'a [(&'a str, &'a str)]);

    fn desired(topics: &[Row<'_>]) -> DesiredState {
        DesiredState {
            managed_prefix: "khlang.".into(),
            topics: topics
                .iter()
                .map(|(name, partitions, rf, config)| DesiredTopic {
                    name: (*name).into(),
                    partitions: *partitions,
                    replication_factor: *rf,
                    config: config
                        .iter()
                        .map(|(k, v)| ((*k).into(), (*v).into()))
                        .collect(),
                })
                .collect(),
        }
    }

    fn cluster(topics: &[Row<'_>]) -> ClusterState {
        ClusterState {
            topics: topics
                .iter()
                .map(|(name, partitions, rf, config)| {
                    let config: BTreeMap<String, String> = config
                        .iter()
                        .map(|(k, v)| ((*k).into(), (*v).into()))
                        .collect();
                    (
                        (*name).into(),
                        TopicState {
                            partitions: *partitions,
                            replication_factor: *rf,
                            config,
                        },
                    )
                })
                .collect(),
        }
    }

    const RETENTION: &[(&str, &str)] = &[("retention.ms", "1000")];

    #[test]
    fn a_matching_cluster_gives_an_empty_plan() {
        let want = desired(&[("khlang.a", 3, 1, RETENTION)]);
        let have = cluster(&[("khlang.a", 3, 1, RETENTION)]);
        let plan = plan(&want, &have);
        assert!(plan.is_empty(), "{plan}");
        assert_eq!(
            plan.to_string(),
            "no changes: the cluster matches the file\n"
        );
    }

    #[test]
    fn missing_topics_are_created_with_their_config() {
        let plan = plan(&desired(&[("khlang.a", 3, 1, RETENTION)]), &cluster(&[]));
        assert_eq!(
            plan.actions,
            vec![Action::CreateTopic {
                topic: "khlang.a".into(),
                partitions: 3,
                replication_factor: 1,
                config: vec![("retention.ms".into(), "1000".into())],
            }]
        );
        assert!(plan.refusals(&ApplyOptions::default()).is_empty());
        assert!(plan.to_string().contains("retention.ms=1000"));
    }

    #[test]
    fn partitions_only_grow() {
        let grow = plan(
            &desired(&[("khlang.a", 6, 1, &[])]),
            &cluster(&[("khlang.a", 3, 1, &[])]),
        );
        assert_eq!(
            grow.actions,
            vec![Action::AddPartitions {
                topic: "khlang.a".into(),
                from: 3,
                to: 6
            }]
        );

        let shrink = plan(
            &desired(&[("khlang.a", 2, 1, &[])]),
            &cluster(&[("khlang.a", 3, 1, &[])]),
        );
        assert_eq!(
            shrink.actions,
            vec![Action::DecreasePartitions {
                topic: "khlang.a".into(),
                from: 3,
                to: 2
            }]
        );
        let everything = ApplyOptions {
            allow_delete: true,
            allow_replication_change: true,
            ..ApplyOptions::default()
        };
        let refused = shrink.refusals(&everything);
        assert_eq!(refused.len(), 1, "a decrease is refused whatever the flags");
        assert!(refused[0].reason.contains("cannot remove partitions"));
    }

    #[test]
    fn only_declared_config_keys_are_compared() {
        let want = desired(&[(
            "khlang.a",
            1,
            1,
            &[("retention.ms", "2000"), ("cleanup.policy", "delete")],
        )]);
        let have = cluster(&[(
            "khlang.a",
            1,
            1,
            &[
                ("retention.ms", "1000"),
                ("cleanup.policy", "delete"),
                ("max.message.bytes", "5"),
            ],
        )]);
        let plan = plan(&want, &have);
        assert_eq!(
            plan.actions,
            vec![Action::AlterConfig {
                topic: "khlang.a".into(),
                key: "retention.ms".into(),
                from: Some("1000".into()),
                to: "2000".into(),
            }]
        );
    }

    #[test]
    fn a_key_the_broker_does_not_report_is_altered_from_unset() {
        let plan = plan(
            &desired(&[("khlang.a", 1, 1, RETENTION)]),
            &cluster(&[("khlang.a", 1, 1, &[])]),
        );
        assert!(matches!(
            &plan.actions[0],
            Action::AlterConfig { from: None, .. }
        ));
        assert!(plan.to_string().contains("retention.ms (unset) -> 1000"));
    }

    #[test]
    fn deletion_is_guarded_and_limited_to_the_managed_prefix() {
        let have = cluster(&[
            ("khlang.a", 1, 1, &[]),
            ("khlang.gone", 1, 1, &[]),
            ("other.topic", 1, 1, &[]),
            ("__consumer_offsets", 50, 1, &[]),
            ("khlangx", 1, 1, &[]),
        ]);
        let plan = plan(&desired(&[("khlang.a", 1, 1, &[])]), &have);
        assert_eq!(
            plan.actions,
            vec![Action::DeleteTopic {
                topic: "khlang.gone".into()
            }]
        );
        assert_eq!(plan.refusals(&ApplyOptions::default()).len(), 1);
        let allowed = ApplyOptions {
            allow_delete: true,
            ..ApplyOptions::default()
        };
        assert!(plan.refusals(&allowed).is_empty());
    }

    #[test]
    fn an_internal_prefix_never_deletes_internal_topics() {
        let mut want = desired(&[]);
        want.managed_prefix = "_".into();
        let plan = plan(
            &want,
            &cluster(&[("__consumer_offsets", 50, 1, &[]), ("_mine", 1, 1, &[])]),
        );
        assert_eq!(
            plan.actions,
            vec![Action::DeleteTopic {
                topic: "_mine".into()
            }]
        );
    }

    #[test]
    fn replication_changes_are_refused_unless_allowed_and_say_what_to_do() {
        let plan = plan(
            &desired(&[("khlang.a", 1, 3, &[])]),
            &cluster(&[("khlang.a", 1, 1, &[])]),
        );
        assert_eq!(
            plan.actions,
            vec![Action::ChangeReplication {
                topic: "khlang.a".into(),
                from: 1,
                to: 3
            }]
        );
        let refused = plan.refusals(&ApplyOptions::default());
        assert!(
            refused[0].reason.contains("kafka-reassign-partitions"),
            "{}",
            refused[0]
        );
        let allowed = ApplyOptions {
            allow_replication_change: true,
            ..ApplyOptions::default()
        };
        assert!(plan.refusals(&allowed).is_empty());
    }

    #[test]
    fn actions_come_in_a_stable_order_and_render_as_a_table() {
        let want = desired(&[("khlang.b", 4, 1, RETENTION), ("khlang.a", 1, 1, &[])]);
        let have = cluster(&[
            ("khlang.b", 2, 1, &[("retention.ms", "5")]),
            ("khlang.z", 1, 1, &[]),
        ]);
        let plan = plan(&want, &have);
        let kinds: Vec<_> = plan.actions.iter().map(|a| (a.kind(), a.topic())).collect();
        assert_eq!(
            kinds,
            vec![
                ("create", "khlang.a"),
                ("add partitions", "khlang.b"),
                ("alter config", "khlang.b"),
                ("delete", "khlang.z"),
            ]
        );
        let text = plan.to_string();
        let lines: Vec<_> = text.lines().collect();
        assert!(lines[0].starts_with("ACTION"), "{text}");
        assert!(lines[2].contains("partitions 2 -> 4"), "{text}");
        assert!(lines[4].contains("needs --allow-delete"), "{text}");
        assert!(text.ends_with("4 action(s), 1 guarded\n"), "{text}");
    }

    #[test]
    fn values_are_compared_without_surrounding_whitespace() {
        let plan = plan(
            &desired(&[("khlang.a", 1, 1, &[("retention.ms", "1000 ")])]),
            &cluster(&[("khlang.a", 1, 1, RETENTION)]),
        );
        assert!(plan.is_empty());
    }
}
