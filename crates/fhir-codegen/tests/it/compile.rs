//! Every snapshot compiles against the `fhir-r4` runtime without warnings, and the generated
//! decoders and encoders behave: choice elements, backbone elements, primitive extensions,
//! contained resources and recursive types.

#![deny(warnings)]

#[rustfmt::skip]
#[path = "../snapshots/backbone.rs"]
pub mod backbone;
#[rustfmt::skip]
#[path = "../snapshots/choice.rs"]
pub mod choice;
#[rustfmt::skip]
#[path = "../snapshots/contained.rs"]
pub mod contained;
#[rustfmt::skip]
#[path = "../snapshots/primitive_extensions.rs"]
pub mod primitive_extensions;
#[rustfmt::skip]
#[path = "../snapshots/recursive.rs"]
pub mod recursive;

use fhir_core::{DecodeErrorKind, Resource as _};
use fhir_r4::json::{JsonDecode, JsonEncode};

fn roundtrip<T: JsonDecode + JsonEncode>(json: &str) -> String {
    let value: T = fhir_r4::json::from_slice(json.as_bytes(), "Test").unwrap();
    String::from_utf8(fhir_r4::json::to_vec(&value)).unwrap()
}

#[test]
fn choice_variants_roundtrip_and_conflict() {
    let json = r#"{"resourceType":"ChoiceTest","valueString":"a","_valueString":{"id":"x"},"effectivePeriod":{"start":"2020"}}"#;
    assert_eq!(roundtrip::<choice::ChoiceTest>(json), json);
    let err = choice::ChoiceTest::from_json_slice(
        br#"{"resourceType":"ChoiceTest","valueString":"a","valueBoolean":true}"#,
    )
    .unwrap_err();
    assert_eq!(err.kind, DecodeErrorKind::InvalidValue);
    assert_eq!(err.path, "ChoiceTest.valueBoolean");
    let err = choice::ChoiceTest::from_json_slice(
        br#"{"resourceType":"ChoiceTest","_valueString":{"id":"x"},"valueString":"a","_valueString":{"id":"y"}}"#,
    )
    .unwrap_err();
    assert_eq!(
        (err.kind, err.path.as_str()),
        (
            DecodeErrorKind::DuplicateProperty,
            "ChoiceTest._valueString"
        )
    );
}

#[test]
fn backbone_elements_nest() {
    let json =
        r#"{"resourceType":"BackboneTest","item":[{"code":"male","detail":{"amount":1.50}}]}"#;
    assert_eq!(roundtrip::<backbone::BackboneTest>(json), json);
    let json = r#"{"resourceType":"BackboneTest","item":[{"code":"robot"}]}"#;
    let value: backbone::BackboneTest = fhir_r4::json::from_slice(json.as_bytes(), "Test").unwrap();
    let code = value.item[0]
        .code
        .as_ref()
        .and_then(|p| p.value.as_ref())
        .unwrap();
    assert_eq!(
        code,
        &fhir_r4::codes::AdministrativeGender::Unrecognized(String::from("robot"))
    );
    assert_eq!(roundtrip::<backbone::BackboneTest>(json), json);
    let err = backbone::BackboneTest::from_json_slice(
        br#"{"resourceType":"BackboneTest","item":[{"detail":{"amount":"1"}}]}"#,
    )
    .unwrap_err();
    assert_eq!(err.path, "BackboneTest.item[0].detail.amount");
}

#[test]
fn primitive_extensions_align_with_nulls() {
    let json = r#"{"resourceType":"PrimitiveTest","birthDate":"1970-03","_birthDate":{"id":"b"},"given":["a",null],"_given":[null,{"id":"g"}],"count":3}"#;
    assert_eq!(roundtrip::<primitive_extensions::PrimitiveTest>(json), json);
    let err = primitive_extensions::PrimitiveTest::from_json_slice(
        br#"{"resourceType":"PrimitiveTest","count":0}"#,
    )
    .unwrap_err();
    assert_eq!(
        (err.kind, err.path.as_str()),
        (DecodeErrorKind::InvalidValue, "PrimitiveTest.count")
    );
    // Strictness the generated code asks the runtime for: the bits of the two arrays, their
    // alignment once the object is read, and `resourceType`.
    for (json, kind, path) in [
        (
            r#"{"resourceType":"PrimitiveTest","given":["a"],"given":["b"]}"#,
            DecodeErrorKind::DuplicateProperty,
            "PrimitiveTest.given",
        ),
        (
            r#"{"resourceType":"PrimitiveTest","given":["a"],"_given":[null,{"id":"g"}]}"#,
            DecodeErrorKind::InvalidValue,
            "PrimitiveTest._given",
        ),
        (
            r#"{"resourceType":"PrimitiveTest","given":[null]}"#,
            DecodeErrorKind::EmptyValue,
            "PrimitiveTest.given",
        ),
        (
            r#"{"given":["a"]}"#,
            DecodeErrorKind::MissingField,
            "PrimitiveTest.resourceType",
        ),
    ] {
        let err =
            primitive_extensions::PrimitiveTest::from_json_slice(json.as_bytes()).unwrap_err();
        assert_eq!((err.kind, err.path.as_str()), (kind, path), "{json}");
    }
}

#[test]
fn contained_resources_are_any_resource() {
    let json = r#"{"resourceType":"ContainerTest","contained":[{"resourceType":"Basic","id":"1"}],"entry":[{"resource":{"resourceType":"Patient","id":"p"}}]}"#;
    assert_eq!(roundtrip::<contained::ContainerTest>(json), json);
}

#[test]
fn recursive_types_nest() {
    let json = r#"{"resourceType":"RecursiveTest","node":[{"label":"a","node":[{"label":"b","node":[{"label":"c"}]}]}]}"#;
    assert_eq!(roundtrip::<recursive::RecursiveTest>(json), json);
}
