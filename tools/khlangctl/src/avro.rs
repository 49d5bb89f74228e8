//! JSON to Avro in the Confluent wire format, for `dlq replay --value-json`.

use anyhow::Context as _;
use apache_avro::types::Value;
use apache_avro::writer::datum::GenericDatumWriter;
use apache_avro::Schema;

/// `json` encoded with `schema` (composed, self-contained Avro JSON) as
/// `0x00`, the 4-byte big-endian `schema_id`, then the Avro binary datum.
///
/// JSON maps onto Avro the way `apache_avro` converts values: objects become
/// records, a union takes the plain value of its branch (not Avro's
/// `{"type": value}` JSON encoding), enums are their symbol as a string, and
/// timestamps are numbers. That is also what `dlq inspect` prints, so a
/// decoded value can be edited and sent back.
///
/// # Errors
/// When the schema is invalid or the JSON does not fit it.
pub fn encode_json(
    json: serde_json::Value,
    schema: &str,
    schema_id: u32,
) -> anyhow::Result<Vec<u8>> {
    let schema = Schema::parse_str(schema).context("invalid schema")?;
    let value = Value::try_from(json).context("json has no avro equivalent")?;
    let value = value
        .resolve(&schema)
        .context("the json does not fit the schema")?;
    let datum = GenericDatumWriter::builder(&schema)
        .build()
        .and_then(|writer| writer.write_value_to_vec(value))
        .context("cannot encode the value")?;
    let mut out = Vec::with_capacity(5 + datum.len());
    out.push(khlang_codec::MAGIC_BYTE);
    out.extend_from_slice(&schema_id.to_be_bytes());
    out.extend_from_slice(&datum);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &str = r#"{"type":"record","name":"T","fields":[
        {"name":"id","type":"string"},
        {"name":"n","type":"long"},
        {"name":"kind","type":{"type":"enum","name":"K","symbols":["a","b"]}},
        {"name":"note","type":["null","string"],"default":null}]}"#;

    #[test]
    fn json_becomes_wire_format_avro() {
        let json = serde_json::json!({"id": "x", "n": 5, "kind": "b", "note": "hi"});
        let bytes = encode_json(json, SCHEMA, 258).expect("encodes");
        assert_eq!(&bytes[..5], &[0, 0, 0, 1, 2]);
        let schema = Schema::parse_str(SCHEMA).expect("schema");
        let value = apache_avro::reader::datum::GenericDatumReader::builder(&schema)
            .build()
            .and_then(|reader| reader.read_value(&mut &bytes[5..]))
            .expect("decodes");
        let back = serde_json::Value::try_from(value).expect("json");
        assert_eq!(
            back,
            serde_json::json!({"id": "x", "n": 5, "kind": "b", "note": "hi"})
        );
    }

    #[test]
    fn missing_optional_fields_take_their_default_and_bad_json_is_refused() {
        let bytes = encode_json(
            serde_json::json!({"id": "x", "n": 1, "kind": "a"}),
            SCHEMA,
            1,
        );
        assert!(bytes.is_ok());
        let err = encode_json(serde_json::json!({"id": 3, "n": 1, "kind": "a"}), SCHEMA, 1);
        assert!(err.is_err());
    }
}
