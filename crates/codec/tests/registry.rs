//! The codec against the running schema registry.

#![allow(missing_docs, clippy::unwrap_used)]

use khlang_codec::{compose_subject, Codec, CodecError};
use khlang_contract::topics::{USERS_COMMANDS, USER_COMMAND_SUBJECT};
use khlang_contract::users::{RegisterUser, UserCommand};
use khlang_contract::{Actor, Envelope};
use khlang_testkit::{unique_suffix, Infra};

const V1: &str = r#"{"type":"record","name":"Parcel","namespace":"th.khlang.test","fields":[
  {"name":"id","type":"string"}]}"#;
const V2_WITH_DEFAULT: &str = r#"{"type":"record","name":"Parcel","namespace":"th.khlang.test","fields":[
  {"name":"id","type":"string"},{"name":"carrier","type":"string","default":"thailand_post"}]}"#;
const V3_NO_DEFAULT: &str = r#"{"type":"record","name":"Parcel","namespace":"th.khlang.test","fields":[
  {"name":"id","type":"string"},{"name":"carrier","type":"string","default":"thailand_post"},
  {"name":"weight_grams","type":"long"}]}"#;

#[tokio::test]
async fn an_incompatible_schema_change_is_refused() {
    let infra = Infra::from_env();
    let codec = Codec::new(&infra.registry_url).unwrap();
    let subject = format!("khlang.test{}.parcels-value", unique_suffix());
    let v1 = codec.registry().register(&subject, V1).await.unwrap();
    // Registering the same schema again is idempotent.
    assert_eq!(codec.registry().register(&subject, V1).await.unwrap(), v1);
    let v2 = codec
        .registry()
        .register(&subject, V2_WITH_DEFAULT)
        .await
        .unwrap();
    assert_ne!(v1, v2);
    assert!(!codec
        .registry()
        .is_compatible(&subject, V3_NO_DEFAULT)
        .await
        .unwrap());
    let refused = codec.registry().register(&subject, V3_NO_DEFAULT).await;
    assert!(
        matches!(refused, Err(CodecError::Incompatible { .. })),
        "{refused:?}"
    );
}

#[tokio::test]
async fn commands_round_trip_through_the_confluent_wire_format() {
    let infra = Infra::from_env();
    let codec = Codec::new(&infra.registry_url).unwrap();
    let topic = USERS_COMMANDS.namespaced(&format!("t{}", unique_suffix()));
    codec
        .registry()
        .register(
            &topic.value_subject(),
            &compose_subject(USER_COMMAND_SUBJECT).unwrap(),
        )
        .await
        .unwrap();
    let envelope = Envelope::new("RegisterUser", Actor::system("test"), "corr", "test");
    let mut command = UserCommand::empty(envelope, uuid::Uuid::new_v4().to_string());
    command.register = Some(RegisterUser {
        email: "somsri@khlang.test".into(),
        username: "somsri".into(),
        display_name: "สมศรี มีสุข".into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        role: "warehouse_staff".into(),
        scopes: None,
    });
    let bytes = codec
        .encode(topic, USER_COMMAND_SUBJECT, &command)
        .await
        .unwrap();
    assert_eq!(bytes[0], 0, "magic byte");
    assert!(khlang_codec::schema_id(&bytes).is_some());
    let decoded: UserCommand = codec.decode(&bytes).await.unwrap();
    assert_eq!(decoded, command);

    let unknown = codec
        .decode::<UserCommand>(&[0, 0x7f, 0xff, 0xff, 0xf0, 1])
        .await;
    assert!(matches!(unknown, Err(CodecError::Decode(_))), "{unknown:?}");
    let garbage = codec.decode::<UserCommand>(b"not avro").await;
    assert!(matches!(garbage, Err(CodecError::NotWireFormat)));
}
