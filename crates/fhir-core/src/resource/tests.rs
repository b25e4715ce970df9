use serde_json::json;

use super::*;

#[test]
fn value_reports_type_id_and_version() {
    let value = json!({"resourceType": "Patient", "id": "p1", "meta": {"versionId": "3"}});
    assert_eq!(value.resource_type(), Some("Patient"));
    assert_eq!(value.id(), Some("p1"));
    assert_eq!(value.version_id(), Some("3"));
    assert_eq!(json!({}).resource_type(), None);
}

#[test]
fn truncated_json_is_an_eof_error_with_position() {
    let err = Value::from_json_slice(b"{\"resourceType\": \"Patient\", \"name\": [").unwrap_err();
    assert_eq!(err.kind, DecodeErrorKind::Eof);
    assert_eq!(err.line, 1);
    assert!(err.column > 30, "{err}");
}

#[test]
fn trailing_garbage_is_a_syntax_error() {
    let err = Value::from_json_slice(b"{} x").unwrap_err();
    assert_eq!(err.kind, DecodeErrorKind::Syntax);
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let depth = 100_000;
    let input = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let err = Value::from_json_slice(input.as_bytes()).unwrap_err();
    assert_eq!(err.kind, DecodeErrorKind::TooDeep);
}

#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)] // Fields are read by the decoder only.
struct Shape {
    entry: Vec<Entry>,
}

#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)]
struct Entry {
    #[serde(rename = "fullUrl")]
    full_url: String,
}

#[test]
fn serde_errors_carry_the_json_path() {
    let err = decode_with_serde::<Shape>(br#"{"entry": [{"fullUrl": "a"}, {"fullUrl": 7}]}"#)
        .unwrap_err();
    assert_eq!(err.kind, DecodeErrorKind::InvalidType);
    assert_eq!(err.path, "entry[1].fullUrl");
    assert!(!err.message.contains(" at line "), "{}", err.message);
    assert_eq!(
        err.to_string(),
        "wrong JSON type at `entry[1].fullUrl` (line 1, column 42): invalid type: integer `7`, expected a string"
    );
}

#[test]
fn within_prefixes_nested_paths() {
    let err = DecodeError::new(DecodeErrorKind::InvalidValue, "name[0]", "bad");
    assert_eq!(
        err.within("entry[3].resource").path,
        "entry[3].resource.name[0]"
    );
    let err = DecodeError::new(DecodeErrorKind::InvalidValue, "[2]", "bad");
    assert_eq!(err.within("given").path, "given[2]");
    let err = DecodeError::new(DecodeErrorKind::InvalidValue, ".", "bad");
    assert_eq!(err.within("entry[0]").path, "entry[0]");
}
