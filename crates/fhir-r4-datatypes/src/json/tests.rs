//! Unit tests of the JSON runtime.

use fhir_core::DecodeErrorKind;

use super::{DecodeOptions, MAX_DEPTH, Peek, Reader, UnknownFields, Writer};

fn reader(json: &str) -> Reader<'_> {
    Reader::new(json.as_bytes(), DecodeOptions::default())
}

#[test]
fn reads_objects_arrays_and_scalars() {
    let mut r = reader(r#" {"a": [1.50, -2e3, true, null, "x"], "b": {}} "#);
    r.begin_object().unwrap();
    assert_eq!(r.next_key().unwrap().as_deref(), Some("a"));
    r.begin_array().unwrap();
    assert!(r.next_item().unwrap());
    assert_eq!(r.read_number().unwrap(), "1.50");
    assert!(r.next_item().unwrap());
    assert_eq!(r.read_number().unwrap(), "-2e3");
    assert!(r.next_item().unwrap());
    assert!(r.read_bool().unwrap());
    assert!(r.next_item().unwrap());
    assert!(r.read_null().unwrap());
    assert!(r.next_item().unwrap());
    assert_eq!(r.read_str().unwrap(), "x");
    assert!(!r.next_item().unwrap());
    assert_eq!(r.next_key().unwrap().as_deref(), Some("b"));
    assert_eq!(r.peek().unwrap(), Peek::Object);
    r.skip_value().unwrap();
    assert_eq!(r.next_key().unwrap(), None);
    r.finish().unwrap();
}

#[test]
fn unescapes_strings() {
    let mut r = reader(r#""a\"b\\c\/\n\u00e9\ud83d\ude00""#);
    assert_eq!(r.read_str().unwrap(), "a\"b\\c/\né😀");
}

#[test]
fn rejects_malformed_json() {
    for (json, kind) in [
        (r#"{"a":1,}"#, DecodeErrorKind::Syntax),
        (r#"{"a" 1}"#, DecodeErrorKind::Syntax),
        (r#"{"a":1 "b":2}"#, DecodeErrorKind::Syntax),
        (r#"{"a":01}"#, DecodeErrorKind::Syntax),
        (r#"{"a":"\ud800"}"#, DecodeErrorKind::Syntax),
        (r#"{"a":"x"#, DecodeErrorKind::Eof),
        (r#"{"a":tru"#, DecodeErrorKind::Eof),
        ("{\"a\":\"\u{1}\"}", DecodeErrorKind::Syntax),
        (r#"{"a":1} x"#, DecodeErrorKind::Syntax),
    ] {
        let mut r = reader(json);
        let err = r.skip_value().and_then(|()| r.finish()).unwrap_err();
        assert_eq!(err.kind(), kind, "{json}");
    }
}

#[test]
fn deep_nesting_is_a_typed_error() {
    let json = "[".repeat(100_000);
    let err = reader(&json).skip_value().unwrap_err();
    assert_eq!(err.kind(), DecodeErrorKind::TooDeep);
    let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
    reader(&ok).skip_value().unwrap();
}

#[test]
fn finds_a_key_anywhere_without_consuming() {
    let mut r = reader(r#"{"id":"1","x":{"resourceType":"no"},"resourceType":"Patient"}"#);
    assert_eq!(
        r.find_string_key("resourceType").unwrap().as_deref(),
        Some("Patient")
    );
    assert_eq!(r.offset(), 0);
}

#[test]
fn error_paths_and_positions() {
    let err = super::Error::new(DecodeErrorKind::InvalidType, 12, "bad")
        .in_index(1)
        .in_key("given")
        .in_index(0)
        .in_key("name");
    let decode = err.into_decode_error(Some("Patient"), b"{\n  \"name\": [x]}");
    assert_eq!(decode.path, "Patient.name[0].given[1]");
    assert_eq!((decode.line, decode.column), (2, 11));
}

#[test]
fn writes_compact_json_with_escapes() {
    let mut w = Writer::default();
    w.begin_object();
    w.key("a");
    w.begin_array();
    w.string("x\"\n\u{1}é");
    w.i64(-5);
    w.null();
    w.end_array();
    w.key("b");
    w.bool(false);
    w.end_object();
    assert_eq!(
        String::from_utf8(w.into_bytes()).unwrap(),
        r#"{"a":["x\"\n\u0001é",-5,null],"b":false}"#
    );
}

#[test]
fn unknown_fields_replace_in_place_below_and_above_the_index_threshold() {
    let mut fields = UnknownFields::default();
    for i in 0..40 {
        assert!(!fields.insert(&format!("k{i}"), &i.to_string()));
    }
    assert!(fields.insert("k3", "\"three\""));
    assert!(fields.insert("k30", "\"thirty\""));
    assert!(fields.insert("k39", "null"));
    let kept: Vec<(&str, &str)> = fields.iter().collect();
    assert_eq!(kept.len(), 40);
    assert_eq!(kept[3], ("k3", "\"three\""));
    assert_eq!(kept[30], ("k30", "\"thirty\""));
    assert_eq!(kept[39], ("k39", "null"));
    assert_eq!(kept[31], ("k31", "31"));
    // Equality is about the kept properties, not the index beside them.
    let mut same = UnknownFields::default();
    for (key, json) in &kept {
        same.push((*key).to_owned(), (*json).into());
    }
    assert_eq!(fields, same);
}
