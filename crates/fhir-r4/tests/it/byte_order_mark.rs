//! A UTF-8 byte-order mark (EF BB BF) that some servers send before the document is skipped;
//! anywhere else outside a string it is a syntax error.

use fhir_core::{DecodeErrorKind, Resource as _};
use fhir_r4::resources::Patient;
use fhir_r4::{DecodeOptions, RawResource, Resource, validate};

const BOM: &str = "\u{feff}";
const PATIENT: &str = r#"{"resourceType":"Patient","id":"a"}"#;

#[test]
fn a_byte_order_mark_at_the_start_is_skipped() {
    let json = format!("{BOM}{PATIENT}");
    assert_eq!(&json.as_bytes()[..3], b"\xEF\xBB\xBF");
    let resource = Resource::from_slice(json.as_bytes()).unwrap();
    assert_eq!(resource.id(), Some("a"));
    assert_eq!(resource.to_vec(), PATIENT.as_bytes(), "not written back");
    assert_eq!(
        Patient::from_json_slice(json.as_bytes())
            .unwrap()
            .id
            .as_deref(),
        Some("a")
    );
    let lenient = Resource::from_slice_with(json.as_bytes(), DecodeOptions::lenient()).unwrap();
    assert_eq!(lenient.id(), Some("a"));
    assert_eq!(RawResource::from_json(&json).unwrap().id(), Some("a"));
    assert_eq!(validate::missing_required(json.as_bytes()).unwrap(), []);
}

#[test]
fn positions_after_a_byte_order_mark_do_not_count_it() {
    let bad = r#"{"resourceType":"Patient","id":1}"#;
    let without = Resource::from_slice(bad.as_bytes()).unwrap_err();
    let with = Resource::from_slice(format!("{BOM}{bad}").as_bytes()).unwrap_err();
    assert_eq!(
        (with.kind, with.path.as_str()),
        (DecodeErrorKind::InvalidType, "Patient.id")
    );
    assert_eq!((with.line, with.column), (without.line, without.column));
}

#[test]
fn a_byte_order_mark_anywhere_else_is_an_error() {
    for json in [
        format!(" {BOM}{PATIENT}"),
        format!("{BOM}{BOM}{PATIENT}"),
        format!("{BOM} {BOM}{PATIENT}"),
        format!(r#"{{{BOM}"resourceType":"Patient"}}"#),
        format!(r#"{{"resourceType":"Patient",{BOM}"id":"a"}}"#),
        format!(r#"{{"resourceType":"Patient","id":{BOM}"a"}}"#),
        format!("{PATIENT}{BOM}"),
    ] {
        let err = Resource::from_slice(json.as_bytes()).unwrap_err();
        assert_eq!(err.kind, DecodeErrorKind::Syntax, "{json:?}: {err}");
        let err = Patient::from_json_slice(json.as_bytes()).unwrap_err();
        assert_eq!(err.kind, DecodeErrorKind::Syntax, "{json:?}: {err}");
    }
}

#[test]
fn inside_a_string_it_is_the_character_u_feff() {
    let json = format!(r#"{{"resourceType":"Patient","name":[{{"family":"{BOM}Doe"}}]}}"#);
    let resource = Resource::from_slice(json.as_bytes()).unwrap();
    assert_eq!(resource.to_vec(), json.as_bytes());
}
