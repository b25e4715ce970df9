use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use super::*;

fn raw(body: Value) -> RawResponse {
    RawResponse::new(
        Method::GET,
        Url::parse("https://h/fhir/Observation?code=x").unwrap(),
        StatusCode::OK,
        HeaderMap::new(),
        Bytes::from(serde_json::to_vec(&body).unwrap()),
    )
}

fn searchset() -> Value {
    json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "total": 2,
        "link": [{"relation": "self", "url": "https://h/fhir/Observation?code=x"},
                 {"relation": "next", "url": "https://h/fhir/Observation?code=x&page=2"}],
        "entry": [
            {"fullUrl": "https://h/fhir/Observation/1", "resource": {"id": "1", "resourceType": "Observation"}, "search": {"mode": "match", "score": 1.0}},
            {"fullUrl": "https://h/fhir/Patient/p", "resource": {"resourceType": "Patient", "id": "p"}, "search": {"mode": "include"}},
            {"resource": {"resourceType": "OperationOutcome", "issue": [{"severity": "warning", "code": "processing", "diagnostics": "unknown parameter foo"}]}, "search": {"mode": "outcome"}},
            {"fullUrl": "https://h/fhir/Observation/2", "resource": {"resourceType": "Observation", "id": "2"}}
        ]
    })
}

#[test]
fn matches_includes_and_outcomes_are_separated() {
    let page: Page<Value> = Page::from_raw(raw(searchset()), Some("Observation".into())).unwrap();
    assert_eq!(page.total(), Some(2));
    assert_eq!(page.bundle_type(), Some("searchset"));
    assert_eq!(
        page.next_link(),
        Some("https://h/fhir/Observation?code=x&page=2")
    );
    let ids: Vec<String> = page
        .resources()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, ["1", "2"]);
    let included: Vec<_> = page.included().map(|e| e.full_url().unwrap()).collect();
    assert_eq!(included, ["https://h/fhir/Patient/p"]);
    let outcomes = page.outcomes().unwrap();
    assert_eq!(outcomes[0].summary(), "unknown parameter foo");
    assert_eq!(page.entries()[1].resource_type(), Some("Patient"));
    assert_eq!(
        page.entries()[0]
            .score()
            .map(ToString::to_string)
            .as_deref(),
        Some("1.0")
    );
}

#[test]
fn raw_entry_text_is_kept_exactly() {
    let page: Page<Value> = Page::from_raw(raw(searchset()), None).unwrap();
    assert_eq!(
        page.entries()[0].raw_resource(),
        Some(r#"{"id":"1","resourceType":"Observation"}"#)
    );
}

#[test]
fn a_match_of_the_wrong_type_names_the_entry() {
    let mut bundle = searchset();
    bundle["entry"][3]["resource"]["resourceType"] = json!("Practitioner");
    let page: Page<Value> = Page::from_raw(raw(bundle), Some("Observation".into())).unwrap();
    let err = page.resources().unwrap_err();
    assert_eq!(err.kind, DecodeErrorKind::WrongResourceType);
    assert_eq!(err.path, "entry[3].resource.resourceType");
    assert!(
        err.message
            .contains("expected Observation, found Practitioner"),
        "{}",
        err.message
    );
}

#[test]
fn a_body_that_is_not_a_bundle_is_a_decode_error() {
    let err = Page::<Value>::from_raw(raw(json!({"resourceType": "Patient"})), None).unwrap_err();
    assert!(err.is_decode());
    assert_eq!(
        err.decode_error().unwrap().kind,
        DecodeErrorKind::WrongResourceType
    );
}

#[test]
fn malformed_bundles_name_the_offending_place() {
    let err = Page::<Value>::from_raw(
        raw(json!({"resourceType": "Bundle", "entry": {"x": 1}})),
        None,
    )
    .unwrap_err();
    assert_eq!(err.decode_error().unwrap().path, "entry");

    let bundle = json!({"resourceType": "Bundle", "entry": [{}, {"resource": {"id": "x"}, "search": {"mode": "match"}}]});
    let page = Page::<Value>::from_raw(raw(bundle), Some("Patient".into())).unwrap();
    let decode = page.resources().unwrap_err();
    assert_eq!(decode.path, "entry[1].resource.resourceType");
    assert_eq!(decode.kind, DecodeErrorKind::WrongResourceType);
    assert!(
        decode.message.ends_with("found no resourceType"),
        "{}",
        decode.message
    );

    let bundle = json!({"resourceType": "Bundle", "link": [{"relation": "next"}]});
    let err = Page::<Value>::from_raw(raw(bundle), None).unwrap_err();
    assert_eq!(err.decode_error().unwrap().path, "link[0]");
}

#[test]
fn history_entries_keep_request_and_response() {
    let bundle = json!({"resourceType": "Bundle", "type": "history", "entry": [
        {"request": {"method": "DELETE", "url": "Patient/1"}, "response": {"status": "204 No Content", "lastModified": "2024-01-01T00:00:00Z"}}
    ]});
    let page: Page<Value> = Page::from_raw(raw(bundle), Some("Patient".into())).unwrap();
    let entry = &page.entries()[0];
    assert_eq!(entry.request().unwrap()["method"], "DELETE");
    assert_eq!(entry.response().unwrap().status, "204 No Content");
    assert!(
        page.resources().unwrap().is_empty(),
        "a deleted version has no resource"
    );
    let err = entry.decode::<Value>().unwrap_err();
    assert_eq!(err.path, "entry[0].resource");
}

/// The one-pass page of the `resources` stream yields what `Page::resources` yields.
#[test]
fn one_pass_pages_match_raw_pages() {
    let mut wrong_type = searchset();
    wrong_type["entry"][3]["resource"]["resourceType"] = json!("Practitioner");
    let bundles = [
        (searchset(), Some("Observation")),
        (searchset(), None),
        (wrong_type, Some("Observation")),
        (
            json!({"resourceType": "Bundle", "entry": [{}, {"resource": {"id": "x"}, "search": {"mode": "match"}}]}),
            Some("Patient"),
        ),
        (
            json!({"resourceType": "Bundle", "entry": [{"search": {"mode": "match"}}, {"resource": {"resourceType": "Patient"}, "search": {"mode": "other"}}]}),
            None,
        ),
    ];
    for (bundle, expected) in bundles {
        let page =
            Page::<Value>::from_raw(raw(bundle.clone()), expected.map(str::to_owned)).unwrap();
        let parsed =
            ParsedPage::<Value>::from_raw(raw(bundle.clone()), expected.map(str::to_owned))
                .unwrap();
        assert_eq!(parsed.next.as_deref(), page.next_link(), "{bundle}");
        let mut ok = Vec::new();
        let mut first_error = None;
        for resource in parsed.resources {
            match resource {
                Ok(resource) => ok.push(resource),
                Err(err) => {
                    first_error = Some(err);
                    break;
                }
            }
        }
        match page.resources() {
            Ok(resources) => {
                assert_eq!(ok, resources, "{bundle}");
                assert!(first_error.is_none(), "{bundle}");
            }
            Err(expected_err) => {
                let err = first_error.expect("an error");
                assert_eq!(err.decode_error(), Some(&expected_err), "{bundle}");
                assert_eq!(err.status(), Some(StatusCode::OK));
            }
        }
    }
    let err = ParsedPage::<Value>::from_raw(raw(json!({"resourceType": "Patient"})), None)
        .err()
        .unwrap();
    assert_eq!(
        err.decode_error().unwrap().kind,
        DecodeErrorKind::WrongResourceType
    );
}

#[test]
fn included_resources_decode_and_entry_errors_carry_the_page_request() {
    let page: Page<Value> = Page::from_raw(raw(searchset()), Some("Observation".into())).unwrap();
    let included: Vec<Value> = page.included_as().unwrap();
    assert_eq!(included, [json!({"resourceType": "Patient", "id": "p"})]);

    let err = DecodeError::new(DecodeErrorKind::InvalidType, "entry[1].resource", "bad");
    let wrapped = page.wrap_decode_error(err.clone());
    assert!(wrapped.is_decode());
    assert_eq!(wrapped.decode_error(), Some(&err));
    assert_eq!(wrapped.status(), Some(StatusCode::OK));
    assert_eq!(wrapped.method(), Some(&Method::GET));
    assert_eq!(wrapped.url().map(Url::path), Some("/fhir/Observation"));
}
