//! Kick-off URLs and bodies: levels, parameter encoding, POST when `patient` is given.

use http::Method;
use serde_json::json;
use url::Url;

use super::{ExportRequest, Handling};

fn base() -> Url {
    Url::parse("https://fhir.example/r4/").unwrap()
}

#[test]
fn levels_have_their_paths() {
    assert_eq!(
        ExportRequest::system().url(&base()).unwrap().as_str(),
        "https://fhir.example/r4/$export"
    );
    assert_eq!(
        ExportRequest::patient().url(&base()).unwrap().as_str(),
        "https://fhir.example/r4/Patient/$export"
    );
    assert_eq!(
        ExportRequest::group("a/b?c").url(&base()).unwrap().as_str(),
        "https://fhir.example/r4/Group/a%2Fb%3Fc/$export"
    );
    assert!(ExportRequest::group("").url(&base()).is_err());
}

#[test]
fn get_parameters_are_encoded_once_and_type_filter_repeats() {
    let request = ExportRequest::system()
        .output_format("application/fhir+ndjson")
        .since("2024-01-01T00:00:00+01:00")
        .until("2024-02-01T00:00:00Z")
        .types(["Patient", "Observation"])
        .elements(["id", "Patient.name"])
        .include_associated_data("LatestProvenanceResources")
        .type_filter("Observation?category=laboratory&status=final")
        .type_filter("Patient?name=O'Brien, Mary")
        .organize_output_by("Patient")
        .allow_partial_manifests(true)
        .extra("_vendor", "x y");
    assert_eq!(request.method(), Method::GET);
    let url = request.url(&base()).unwrap();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into(), v.into()))
        .collect();
    let expected = [
        ("_outputFormat", "application/fhir+ndjson"),
        ("_since", "2024-01-01T00:00:00+01:00"),
        ("_until", "2024-02-01T00:00:00Z"),
        ("_type", "Patient,Observation"),
        ("_elements", "id,Patient.name"),
        ("includeAssociatedData", "LatestProvenanceResources"),
        (
            "_typeFilter",
            "Observation?category=laboratory&status=final",
        ),
        ("_typeFilter", "Patient?name=O'Brien, Mary"),
        ("organizeOutputBy", "Patient"),
        ("allowPartialManifests", "true"),
        ("_vendor", "x y"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect();
    assert_eq!(pairs, expected);
    // The `+` of the offset and the `&` of the filter are escaped, not sent raw.
    let query = url.query().unwrap();
    assert!(
        query.contains("_since=2024-01-01T00%3A00%3A00%2B01%3A00"),
        "{query}"
    );
    assert!(
        query.contains("_typeFilter=Observation%3Fcategory%3Dlaboratory%26status%3Dfinal"),
        "{query}"
    );
}

#[test]
fn patient_forces_post_and_every_parameter_goes_in_the_body() {
    let request = ExportRequest::group("g1")
        .patient_reference("Patient/1")
        .patient_reference("Patient/2")
        .types(["Observation"])
        .since("2024-01-01T00:00:00Z")
        .include_associated_data("LatestProvenanceResources")
        .type_filter("Observation?status=final")
        .allow_partial_manifests(false)
        .handling(Handling::Strict);
    assert_eq!(request.method(), Method::POST);
    assert_eq!(request.prefer(), "respond-async, handling=strict");
    assert_eq!(request.url(&base()).unwrap().query(), None);
    assert_eq!(
        request.parameters().unwrap(),
        json!({"resourceType": "Parameters", "parameter": [
            {"name": "_since", "valueInstant": "2024-01-01T00:00:00Z"},
            {"name": "_type", "valueString": "Observation"},
            {"name": "patient", "valueReference": {"reference": "Patient/1"}},
            {"name": "patient", "valueReference": {"reference": "Patient/2"}},
            {"name": "includeAssociatedData", "valueCode": "LatestProvenanceResources"},
            {"name": "_typeFilter", "valueString": "Observation?status=final"},
            {"name": "allowPartialManifests", "valueBoolean": false}
        ]})
    );
}

#[test]
fn type_filters_with_result_parameters_are_refused() {
    for filter in [
        "Observation?_include=Observation:subject",
        "Observation?status=final&_sort=date",
        "Observation?_count=10",
        "status=final",
        "?status=final",
    ] {
        let err = ExportRequest::system()
            .type_filter(filter)
            .url(&base())
            .unwrap_err();
        assert!(
            matches!(err, crate::BulkError::InvalidRequest { .. }),
            "{filter}"
        );
    }
}
