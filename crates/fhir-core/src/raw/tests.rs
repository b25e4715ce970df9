//! Unit tests of [`RawJson`].

use super::*;

const OBSERVATION: &str = r#"{"resourceType":"Observation","id":"o1","meta":{"versionId":"7"},"status":"final","valueQuantity":{"value":1.50,"unit":"mmol/L"},"component":[{"valueQuantity":{"value":12345678901234567890.123456789}}],"note":[{"text":"caf\u00e9"}]}"#;

#[test]
fn reads_identity_without_a_tree_and_keeps_every_byte() {
    let raw = RawJson::from_json_slice(OBSERVATION.as_bytes()).unwrap();
    assert_eq!(raw.resource_type(), Some("Observation"));
    assert_eq!(raw.id(), Some("o1"));
    assert_eq!(raw.version_id(), Some("7"));
    assert_eq!(raw.to_json_vec().unwrap(), OBSERVATION.as_bytes());
    assert_eq!(raw.get_path(&["valueQuantity", "value"]), Some("1.50"));
    assert_eq!(
        raw.get_path(&["component", "0", "valueQuantity", "value"]),
        Some("12345678901234567890.123456789")
    );
    assert_eq!(raw.get_path(&["component", "1"]), None);
}

#[test]
fn edits_touch_only_the_member_edited() {
    let mut raw = RawJson::from_text(OBSERVATION).unwrap();
    raw.set("status", "amended").unwrap();
    raw.set_raw("issued", r#""2024-01-01T00:00:00Z""#).unwrap();
    assert!(raw.remove("note").unwrap());
    assert!(!raw.remove("note").unwrap());
    assert_eq!(
        raw.as_str(),
        r#"{"resourceType":"Observation","id":"o1","meta":{"versionId":"7"},"status":"amended","valueQuantity":{"value":1.50,"unit":"mmol/L"},"component":[{"valueQuantity":{"value":12345678901234567890.123456789}}],"issued":"2024-01-01T00:00:00Z"}"#
    );
    raw.set("id", "o2").unwrap();
    assert_eq!(raw.id(), Some("o2"), "identity follows edits");
}

#[test]
fn rejects_what_is_not_one_object() {
    for bad in [
        "",
        "[1]",
        "{",
        "{} {}",
        "\"x\"",
        "{\"a\":}",
        "{\"id\":\"a\",\"id\":\"b\"}",
    ] {
        assert!(RawJson::from_json_slice(bad.as_bytes()).is_err(), "{bad}");
    }
    let mut raw = RawJson::from_text("{}").unwrap();
    assert!(raw.set_raw("a", "1.50 2").is_err());
    // A leading byte-order mark is accepted.
    assert!(RawJson::from_json_slice(b"\xEF\xBB\xBF{\"resourceType\":\"Patient\"}").is_ok());
}

#[test]
#[cfg(feature = "client")]
fn without_member_keeps_order_and_text() {
    let raw = RawValue::from_string(OBSERVATION.to_owned()).unwrap();
    let stripped = without_member(raw, "id").unwrap();
    assert!(
        stripped
            .get()
            .starts_with(r#"{"resourceType":"Observation","meta""#)
    );
    assert!(stripped.get().contains(r#""value":1.50"#));
}

#[test]
fn duplicate_members_are_found_in_large_objects_too() {
    let mut text = String::from("{");
    for i in 0..100 {
        text.push_str(&format!("\"k{i}\":{i},"));
    }
    text.push_str("\"k7\":0}");
    assert!(RawJson::from_text(text).is_err());
}
