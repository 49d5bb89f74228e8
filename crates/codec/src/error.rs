//! Errors of the codec and registry client.

/// What went wrong encoding, decoding or talking to the registry.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// A schema file is not valid JSON or not a valid Avro schema.
    #[error("invalid schema: {0}")]
    Schema(String),
    /// The bytes are not in the Confluent wire format.
    #[error("not confluent wire format: missing magic byte or schema id")]
    NotWireFormat,
    /// The bytes could not be decoded (unknown schema id, bad datum, wrong type).
    #[error("decode failed: {0}")]
    Decode(String),
    /// The value could not be encoded with the subject's schema.
    #[error("encode failed: {0}")]
    Encode(String),
    /// The registry refused a schema as incompatible with earlier versions.
    #[error("schema for subject {subject} is incompatible: {detail}")]
    Incompatible {
        /// The subject.
        subject: String,
        /// What the registry said.
        detail: String,
    },
    /// The registry could not be reached or answered unexpectedly.
    #[error("schema registry: {0}")]
    Registry(String),
    /// Encoding or decoding needed the registry, which is unreachable or
    /// overloaded for now (a connection failure, 502 or 503): worth
    /// retrying, the value may well be fine.
    #[error("schema registry unavailable: {0}")]
    Unavailable(String),
}
