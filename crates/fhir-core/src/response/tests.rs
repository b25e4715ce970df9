use http::HeaderValue;

use super::*;

fn meta(pairs: &[(&'static str, &str)]) -> ResponseMeta {
    let mut headers = HeaderMap::new();
    for (name, value) in pairs {
        headers.insert(*name, HeaderValue::from_str(value).unwrap());
    }
    ResponseMeta::new(StatusCode::CREATED, headers)
}

#[test]
fn version_id_comes_from_weak_and_strong_etags() {
    assert_eq!(version_from_etag("W/\"3\""), "3");
    assert_eq!(version_from_etag("\"abc\""), "abc");
    assert_eq!(version_from_etag("7"), "7");
}

#[test]
fn location_is_split_into_type_id_and_version() {
    let meta = meta(&[("location", "https://h/fhir/Patient/123/_history/2")]);
    assert_eq!(meta.location_type(), Some("Patient"));
    assert_eq!(meta.location_id(), Some("123"));
    assert_eq!(meta.version_id(), Some("2"));
}

#[test]
fn etag_wins_over_location_for_the_version() {
    let meta = meta(&[("location", "Patient/1/_history/2"), ("etag", "W/\"5\"")]);
    assert_eq!(meta.version_id(), Some("5"));
    assert_eq!(meta.etag(), Some("W/\"5\""));
}

#[test]
fn location_without_history() {
    let meta = meta(&[("location", "Observation/abc?x=1")]);
    assert_eq!(meta.location_type(), Some("Observation"));
    assert_eq!(meta.location_id(), Some("abc"));
    assert_eq!(meta.version_id(), None);
}

#[test]
fn last_modified_is_parsed() {
    let meta = meta(&[("last-modified", "Sun, 06 Nov 1994 08:49:37 GMT")]);
    let expected = std::time::UNIX_EPOCH + std::time::Duration::from_secs(784_111_777);
    assert_eq!(meta.last_modified(), Some(expected));
    assert_eq!(self::meta(&[]).last_modified(), None);
}
