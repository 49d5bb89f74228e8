//! Avro in the Confluent wire format, against a schema registry.
//!
//! Every message on a khlang topic is `0x00`, a 4-byte big-endian schema id,
//! then the Avro binary datum. Encoding and decoding go through
//! `schema_registry_converter`; this crate adds what khlang needs around it:
//! composing a subject's schema with the shared envelope, registering
//! subjects under `BACKWARD_TRANSITIVE` compatibility, checking a changed
//! schema before it is registered, and typed (serde) encode/decode.

mod compose;
mod error;
mod registry;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apache_avro::types::Value;
use khlang_contract::{Subject, TopicName};
use schema_registry_converter::async_impl::easy_avro::{EasyAvroDecoder, EasyAvroEncoder};
use schema_registry_converter::async_impl::schema_registry::SrSettings;
use schema_registry_converter::schema_registry_common::{
    SchemaType, SubjectNameStrategy, SuppliedSchema,
};
use serde::de::DeserializeOwned;
use serde::Serialize;

pub use compose::{compose, compose_subject};
pub use error::CodecError;
pub use registry::{Compatibility, Registry};

/// The first byte of the Confluent wire format.
pub const MAGIC_BYTE: u8 = 0;

/// Encodes and decodes khlang messages with a schema registry.
///
/// Cheap to clone; the registry lookups are cached inside.
#[derive(Clone)]
pub struct Codec {
    composed: Arc<Mutex<HashMap<&'static str, String>>>,
    encoder: EasyAvroEncoder,
    decoder: EasyAvroDecoder,
    registry: Registry,
}

impl std::fmt::Debug for Codec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Codec")
            .field("registry", &self.registry)
            .finish()
    }
}

impl Codec {
    /// A codec for the registry at `url` (Confluent API base, e.g.
    /// `http://127.0.0.1:8081/apis/ccompat/v7`).
    ///
    /// # Errors
    /// [`CodecError::Registry`] when the HTTP client cannot be built.
    pub fn new(url: &str) -> Result<Self, CodecError> {
        let settings = SrSettings::new_builder(url.to_owned())
            .set_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| CodecError::Registry(e.to_string()))?;
        Ok(Self {
            composed: Arc::default(),
            encoder: EasyAvroEncoder::new(settings.clone()),
            decoder: EasyAvroDecoder::new(settings),
            registry: Registry::new(url)?,
        })
    }

    /// The subject's schema with the envelope inlined, composed once per
    /// subject: composing parses both schemas, which cost more than the
    /// encoding itself when done per record.
    fn composed_schema(&self, subject: Subject) -> Result<String, CodecError> {
        let mut cache = self
            .composed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(schema) = cache.get(subject.name) {
            return Ok(schema.clone());
        }
        let schema = compose_subject(subject)?;
        cache.insert(subject.name, schema.clone());
        Ok(schema)
    }

    /// The registry client behind this codec.
    #[must_use]
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Encodes `item` as the value of `topic` with the subject's compiled-in
    /// schema (registering it if the registry does not know it yet).
    ///
    /// # Errors
    /// [`CodecError::Schema`] when the compiled-in schema is invalid,
    /// [`CodecError::Encode`] when `item` does not fit the schema or the
    /// registry refuses the schema, [`CodecError::Unavailable`] when the
    /// registry could not be asked (first use of a subject).
    pub async fn encode<T: Serialize>(
        &self,
        topic: TopicName,
        subject: Subject,
        item: &T,
    ) -> Result<Vec<u8>, CodecError> {
        let schema = self.composed_schema(subject)?;
        let strategy = SubjectNameStrategy::TopicNameStrategyWithSchema(
            topic.as_str().to_owned(),
            false,
            SuppliedSchema::new(None, SchemaType::Avro, schema),
        );
        self.encoder
            .encode_struct(item, &strategy)
            .await
            .map_err(|e| {
                if e.retriable {
                    CodecError::Unavailable(e.to_string())
                } else {
                    CodecError::Encode(e.to_string())
                }
            })
    }

    /// Decodes Confluent wire-format bytes into an Avro value, fetching the
    /// writer schema by id.
    ///
    /// # Errors
    /// [`CodecError::NotWireFormat`] for bytes that do not start with the
    /// magic byte and a schema id, [`CodecError::Decode`] for an unknown
    /// schema id or a datum that does not match its schema,
    /// [`CodecError::Unavailable`] when the registry could not be asked
    /// (retry: the bytes may be fine).
    pub async fn decode_value(&self, bytes: &[u8]) -> Result<Value, CodecError> {
        if bytes.len() < 5 || bytes[0] != MAGIC_BYTE {
            return Err(CodecError::NotWireFormat);
        }
        self.decoder
            .decode(Some(bytes))
            .await
            .map(|r| r.value)
            .map_err(|e| {
                if e.retriable {
                    CodecError::Unavailable(e.to_string())
                } else {
                    CodecError::Decode(e.to_string())
                }
            })
    }

    /// Decodes Confluent wire-format bytes into `T`.
    ///
    /// # Errors
    /// As [`Codec::decode_value`], and [`CodecError::Decode`] when the value
    /// does not fit `T`.
    pub async fn decode<T: DeserializeOwned>(&self, bytes: &[u8]) -> Result<T, CodecError> {
        let value = self.decode_value(bytes).await?;
        apache_avro::from_value(&value).map_err(|e| CodecError::Decode(e.to_string()))
    }
}

/// The schema id in Confluent wire-format bytes, if they are wire format.
#[must_use]
pub fn schema_id(bytes: &[u8]) -> Option<u32> {
    match bytes {
        [MAGIC_BYTE, a, b, c, d, ..] => Some(u32::from_be_bytes([*a, *b, *c, *d])),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_id_reads_the_wire_format_prefix() {
        assert_eq!(schema_id(&[0, 0, 0, 1, 2, 9]), Some(258));
        assert_eq!(schema_id(&[1, 0, 0, 1, 2, 9]), None);
        assert_eq!(schema_id(&[0, 0]), None);
    }
}
