//! Inlining the shared envelope into a subject's schema.
//!
//! Subject schemas refer to the envelope by its full name
//! `th.khlang.Envelope`; the registry needs one self-contained schema, so
//! the first reference is replaced by the envelope's definition (later
//! references stay names, as Avro requires).

use khlang_contract::topics::ENVELOPE_SCHEMA;
use khlang_contract::Subject;
use serde_json::Value as Json;

use crate::CodecError;

const ENVELOPE_NAME: &str = "th.khlang.Envelope";

/// A subject's compiled-in schema, composed with the compiled-in envelope.
///
/// # Errors
/// [`CodecError::Schema`] when either is not a valid schema.
pub fn compose_subject(subject: Subject) -> Result<String, CodecError> {
    compose(subject.schema, ENVELOPE_SCHEMA)
}

/// `schema` with its first reference to `th.khlang.Envelope` replaced by
/// `envelope`, as compact JSON, checked to be a valid Avro schema.
///
/// # Errors
/// [`CodecError::Schema`] when either input is not JSON or the result is
/// not a valid Avro schema.
pub fn compose(schema: &str, envelope: &str) -> Result<String, CodecError> {
    let mut root: Json = serde_json::from_str(schema)
        .map_err(|e| CodecError::Schema(format!("schema json: {e}")))?;
    let envelope: Json = serde_json::from_str(envelope)
        .map_err(|e| CodecError::Schema(format!("envelope json: {e}")))?;
    let mut envelope = Some(envelope);
    inline(&mut root, &mut envelope);
    let text = root.to_string();
    apache_avro::Schema::parse_str(&text).map_err(|e| CodecError::Schema(e.to_string()))?;
    Ok(text)
}

fn inline(node: &mut Json, envelope: &mut Option<Json>) {
    match node {
        Json::String(name) if name == ENVELOPE_NAME => {
            if let Some(definition) = envelope.take() {
                *node = definition;
            }
        }
        Json::Array(items) => items.iter_mut().for_each(|item| inline(item, envelope)),
        Json::Object(map) => {
            // Only type positions can reference a named type; skip docs and names.
            for (key, value) in map.iter_mut() {
                if matches!(key.as_str(), "type" | "items" | "values" | "fields") {
                    inline(value, envelope);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use khlang_contract::topics::ALL_SUBJECTS;

    use super::*;

    #[test]
    fn every_subject_composes_into_a_valid_self_contained_schema() {
        // Commands and events carry the envelope; a compacted state record
        // is the current state of one aggregate, not a fact, and has none.
        let states = [khlang_contract::topics::CATALOG_STATE_SUBJECT.name];
        for subject in ALL_SUBJECTS {
            let text = compose_subject(subject).unwrap_or_else(|e| panic!("{}: {e}", subject.name));
            assert_eq!(
                text.contains("\"correlation_id\""),
                !states.contains(&subject.name),
                "{}: only commands and events carry the envelope",
                subject.name
            );
        }
    }

    #[test]
    fn only_the_first_reference_is_inlined() {
        let schema = r#"{"type":"record","name":"T","fields":[
            {"name":"a","type":"th.khlang.Envelope"},{"name":"b","type":"th.khlang.Envelope"}]}"#;
        let text = compose(schema, ENVELOPE_SCHEMA).expect("composes");
        assert_eq!(text.matches("\"correlation_id\"").count(), 1);
    }

    #[test]
    fn an_invalid_schema_is_refused() {
        let err = compose(
            r#"{"type":"record","name":"T","fields":[{"name":"a"}]}"#,
            ENVELOPE_SCHEMA,
        );
        assert!(matches!(err, Err(CodecError::Schema(_))));
    }
}
