//! `schemas check` and `schemas register`.
//!
//! Schemas are read from disk (the topic's `value_schema` and
//! `<schemas-dir>/common/envelope.avsc`), not from the compiled-in copies, so
//! an edited file is checked before any binary is built with it.

use std::path::PathBuf;

use anyhow::Context as _;
use khlang_codec::{compose, Registry};

use crate::{table, Context, Status};

/// A subject's schema as it would be registered.
pub struct Candidate {
    /// Registry subject.
    pub subject: String,
    /// The `.avsc` it came from.
    pub file: PathBuf,
    /// The composed schema, or why it could not be composed.
    pub schema: Result<String, String>,
}

fn candidates(ctx: &Context) -> anyhow::Result<Vec<Candidate>> {
    let file = ctx.topics_file()?;
    let envelope_path = ctx.schemas_dir.join("common").join("envelope.avsc");
    let envelope = std::fs::read_to_string(&envelope_path).with_context(|| {
        format!(
            "cannot read the envelope schema {}",
            envelope_path.display()
        )
    })?;
    let mut out = Vec::new();
    for topic in &file.topics {
        let (Some(subject), Some(path)) = (&topic.value_subject, file.schema_file(topic)) else {
            continue;
        };
        let schema = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read: {e}"))
            .and_then(|text| compose(&text, &envelope).map_err(|e| e.to_string()));
        out.push(Candidate {
            subject: subject.clone(),
            file: path,
            schema,
        });
    }
    Ok(out)
}

/// Checks every value schema; an incompatible or invalid one is
/// [`Status::Refused`]. Returns the candidates for `register`.
///
/// # Errors
/// A bad topics file, a missing envelope, or an unreachable registry.
pub async fn check(ctx: &Context) -> anyhow::Result<(Status, Vec<Candidate>)> {
    let registry = Registry::new(ctx.registry()?)?;
    let candidates = candidates(ctx)?;
    let mut rows = Vec::new();
    let mut failed = 0;
    for candidate in &candidates {
        let status = match &candidate.schema {
            Err(why) => {
                failed += 1;
                format!("INVALID: {why}")
            }
            Ok(schema) => {
                // asked per subject: the list of all subjects is capped
                let known = registry
                    .has_versions(&candidate.subject)
                    .await
                    .with_context(|| {
                        format!("cannot reach the schema registry at {}", registry.url())
                    })?;
                if !known {
                    rows.push(vec![
                        candidate.subject.clone(),
                        candidate.file.display().to_string(),
                        "new subject".to_owned(),
                    ]);
                    continue;
                }
                if registry.is_compatible(&candidate.subject, schema).await? {
                    "compatible".to_owned()
                } else {
                    failed += 1;
                    "INCOMPATIBLE".to_owned()
                }
            }
        };
        rows.push(vec![
            candidate.subject.clone(),
            candidate.file.display().to_string(),
            status,
        ]);
    }
    print!("{}", table::render(&["SUBJECT", "SCHEMA", "STATUS"], &rows));
    if failed > 0 {
        eprintln!("{failed} schema(s) would be refused by the registry");
        Ok((Status::Refused, candidates))
    } else {
        Ok((Status::Success, candidates))
    }
}

/// Checks, then registers every value schema (nothing when any check
/// fails), printing each subject's id.
///
/// # Errors
/// As [`check`], and when the registry refuses a registration.
pub async fn register(ctx: &Context) -> anyhow::Result<Status> {
    let (status, candidates) = check(ctx).await?;
    if status != Status::Success {
        eprintln!("nothing registered");
        return Ok(status);
    }
    let registry = Registry::new(ctx.registry()?)?;
    for candidate in candidates {
        let Ok(schema) = candidate.schema else {
            continue;
        };
        let id = registry
            .register(&candidate.subject, &schema)
            .await
            .with_context(|| format!("cannot register {}", candidate.subject))?;
        println!("registered {} -> id {id}", candidate.subject);
    }
    Ok(Status::Success)
}
