//! Registry administration: compatibility levels, checks and registration.

use std::time::Duration;

use schema_registry_converter::async_impl::schema_registry::{
    get_all_subjects, is_compatible_schema, post_schema, SrSettings,
};
use schema_registry_converter::schema_registry_common::{SchemaType, SuppliedSchema};
use serde_json::json;

use crate::CodecError;

/// Compatibility levels of the Confluent API that khlang uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compatibility {
    /// New schemas can read data written with every earlier version.
    BackwardTransitive,
    /// No checks (only for throwaway test subjects).
    None,
}

impl Compatibility {
    fn as_str(self) -> &'static str {
        match self {
            Self::BackwardTransitive => "BACKWARD_TRANSITIVE",
            Self::None => "NONE",
        }
    }
}

/// A client for the administrative side of a Confluent-API registry.
#[derive(Clone)]
pub struct Registry {
    url: String,
    settings: SrSettings,
    http: reqwest::Client,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").field("url", &self.url).finish()
    }
}

impl Registry {
    /// A client for the registry at `url` (Confluent API base).
    ///
    /// # Errors
    /// [`CodecError::Registry`] when the HTTP client cannot be built.
    pub fn new(url: &str) -> Result<Self, CodecError> {
        let url = url.trim_end_matches('/').to_owned();
        let settings = SrSettings::new_builder(url.clone())
            .set_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| CodecError::Registry(e.to_string()))?;
        // No idle connections are kept: registry calls are few (start-up,
        // checks), and a pooled connection the registry has closed fails
        // the next request with "error sending request".
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .pool_max_idle_per_host(0)
            .build()
            .map_err(|e| CodecError::Registry(e.to_string()))?;
        Ok(Self {
            url,
            settings,
            http,
        })
    }

    /// The base URL.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Every subject the registry knows.
    ///
    /// # Errors
    /// [`CodecError::Registry`] when the registry cannot be reached.
    pub async fn subjects(&self) -> Result<Vec<String>, CodecError> {
        get_all_subjects(&self.settings)
            .await
            .map_err(|e| CodecError::Registry(e.to_string()))
    }

    /// Whether `subject` has at least one registered version.
    ///
    /// # Errors
    /// [`CodecError::Registry`] when the registry cannot be reached.
    pub async fn has_versions(&self, subject: &str) -> Result<bool, CodecError> {
        let response = self
            .http
            .get(format!("{}/subjects/{subject}/versions", self.url))
            .send()
            .await
            .map_err(|e| CodecError::Registry(e.to_string()))?;
        match response.status() {
            status if status.is_success() => Ok(true),
            reqwest::StatusCode::NOT_FOUND => Ok(false),
            status => Err(CodecError::Registry(format!(
                "versions of {subject}: {status}"
            ))),
        }
    }

    /// Sets the compatibility level of one subject.
    ///
    /// # Errors
    /// [`CodecError::Registry`] when the registry refuses or cannot be reached.
    pub async fn set_compatibility(
        &self,
        subject: &str,
        level: Compatibility,
    ) -> Result<(), CodecError> {
        // Two instances starting together may both create the subject's
        // rule; Apicurio answers the loser 409 ("rule already exists").
        // The rule exists then, so the next PUT updates it.
        let mut attempt = 0;
        loop {
            attempt += 1;
            let sent = self
                .http
                .put(format!("{}/config/{subject}", self.url))
                .header("content-type", "application/vnd.schemaregistry.v1+json")
                .json(&json!({ "compatibility": level.as_str() }))
                .send()
                .await;
            let response = match sent {
                Ok(response) => response,
                // a pooled connection the registry closed: try a new one
                Err(error) if attempt < 5 => {
                    tracing::debug!(%error, subject, "registry request failed; retrying");
                    tokio::time::sleep(std::time::Duration::from_millis(50 * attempt)).await;
                    continue;
                }
                Err(error) => return Err(CodecError::Registry(error.to_string())),
            };
            let status = response.status();
            if status.is_success() {
                return Ok(());
            }
            if status == reqwest::StatusCode::CONFLICT && attempt < 5 {
                tokio::time::sleep(std::time::Duration::from_millis(50 * attempt)).await;
                continue;
            }
            let body = response.text().await.unwrap_or_default();
            return Err(CodecError::Registry(format!(
                "set compatibility of {subject}: {status} {body}"
            )));
        }
    }

    /// Whether `schema` may be registered under `subject` (true when the
    /// subject has no versions yet).
    ///
    /// # Errors
    /// [`CodecError::Registry`] when the registry cannot be reached.
    pub async fn is_compatible(&self, subject: &str, schema: &str) -> Result<bool, CodecError> {
        // Asked per subject: the list of all subjects is capped (Apicurio
        // answers at most 1000), so a subject missing from it may exist.
        if !self.has_versions(subject).await? {
            return Ok(true);
        }
        is_compatible_schema(
            &self.settings,
            subject.to_owned(),
            SuppliedSchema::new(None, SchemaType::Avro, schema.to_owned()),
        )
        .await
        .map_err(|e| CodecError::Registry(e.to_string()))
    }

    /// Registers `schema` under `subject` with `BACKWARD_TRANSITIVE`
    /// compatibility and returns its id. Registering the same schema again
    /// returns the same id.
    ///
    /// # Errors
    /// [`CodecError::Incompatible`] when the schema breaks compatibility with
    /// an earlier version; [`CodecError::Registry`] otherwise.
    pub async fn register(&self, subject: &str, schema: &str) -> Result<u32, CodecError> {
        self.set_compatibility(subject, Compatibility::BackwardTransitive)
            .await?;
        // Checked before registering: a refused registration must say why,
        // and not every registry enforces the level on registration.
        if !self.is_compatible(subject, schema).await? {
            return Err(CodecError::Incompatible {
                subject: subject.to_owned(),
                detail: "not BACKWARD_TRANSITIVE compatible with the registered versions".into(),
            });
        }
        post_schema(
            &self.settings,
            subject.to_owned(),
            SuppliedSchema::new(None, SchemaType::Avro, schema.to_owned()),
        )
        .await
        .map(|registered| registered.id)
        .map_err(|e| {
            let text = e.to_string();
            if text.contains("409") {
                CodecError::Incompatible {
                    subject: subject.to_owned(),
                    detail: text,
                }
            } else {
                CodecError::Registry(text)
            }
        })
    }
}
