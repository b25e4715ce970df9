//! create, update, patch and delete, plain and conditional, with `Prefer`.

use fhir_core::{ErrorKind, Prefer, SearchParams, WriteBody};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::*;

fn new_patient() -> Patient {
    Patient {
        resource_type: PatientTag::Patient,
        id: None,
        meta: None,
        active: Some(true),
    }
}

#[tokio::test]
async fn create_posts_the_resource_and_reads_location_and_etag() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/fhir/Patient"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_raw(
                    serde_json::to_vec(&patient_json("new1", "1")).unwrap(),
                    "application/fhir+json",
                )
                .insert_header(
                    "location",
                    format!("{}/fhir/Patient/new1/_history/1", server.uri()),
                )
                .insert_header("etag", "W/\"1\""),
        )
        .mount(&server)
        .await;

    let response = client(&server).create(&new_patient()).send().await.unwrap();

    assert!(response.created());
    assert_eq!(response.id(), Some("new1"));
    assert_eq!(response.version_id(), Some("1"));
    assert_eq!(response.meta().location_type(), Some("Patient"));
    assert_eq!(response.resource().unwrap().id.as_deref(), Some("new1"));
    let request = only_request(&server).await;
    assert_eq!(path_and_query(&request), "/fhir/Patient");
    assert_eq!(
        header(&request, "content-type"),
        Some("application/fhir+json")
    );
    assert_eq!(header(&request, "prefer"), None);
    assert_eq!(
        json_body(&request),
        json!({"resourceType": "Patient", "active": true})
    );
}

#[tokio::test]
async fn conditional_create_sends_if_none_exist_and_reports_an_existing_match() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/fhir/Patient"))
        .respond_with(fhir_json(&patient_json("existing", "3")))
        .mount(&server)
        .await;

    let response = client(&server)
        .create(&new_patient())
        .if_none_exist(SearchParams::new().with_token("identifier", Some("urn:mrn"), "42"))
        .send()
        .await
        .unwrap();

    assert!(!response.created());
    assert_eq!(response.id(), Some("existing"));
    let request = only_request(&server).await;
    assert_eq!(
        header(&request, "if-none-exist"),
        Some("identifier=urn:mrn%7C42")
    );
}

#[tokio::test]
async fn prefer_minimal_and_operation_outcome() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(wiremock::matchers::header("prefer", "return=minimal"))
        .respond_with(ResponseTemplate::new(201).insert_header("location", "Patient/m1/_history/1"))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(wiremock::matchers::header("prefer", "return=OperationOutcome"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "information", "code": "informational", "diagnostics": "created"}]
        })))
        .mount(&server)
        .await;
    let client = builder(&server, &FakeTimer::default())
        .prefer(Prefer::Minimal)
        .build()
        .unwrap();

    let minimal = client.create(&new_patient()).send().await.unwrap();
    assert!(matches!(minimal.body(), WriteBody::Empty));
    assert_eq!(minimal.id(), Some("m1"));
    assert_eq!(minimal.version_id(), Some("1"));

    let outcome = client
        .create(&new_patient())
        .prefer(Prefer::OperationOutcome)
        .send()
        .await
        .unwrap();
    assert_eq!(outcome.outcome().unwrap().summary(), "created");
    assert!(outcome.resource().is_none());
}

#[tokio::test]
async fn update_puts_to_the_id_with_if_match() {
    let server = server().await;
    Mock::given(method("PUT"))
        .and(path("/fhir/Patient/1"))
        .respond_with(fhir_json(&patient_json("1", "3")).insert_header("etag", "W/\"3\""))
        .mount(&server)
        .await;
    let patient: Value = patient_json("1", "2");

    let response = client(&server)
        .update(&patient)
        .if_match("2")
        .prefer(Prefer::Representation)
        .send()
        .await
        .unwrap();

    assert_eq!(response.version_id(), Some("3"));
    assert!(!response.created());
    let request = only_request(&server).await;
    assert_eq!(header(&request, "if-match"), Some("W/\"2\""));
    assert_eq!(header(&request, "prefer"), Some("return=representation"));
    assert_eq!(json_body(&request), patient);
}

#[tokio::test]
async fn a_stale_if_match_is_precondition_failed() {
    let server = server().await;
    Mock::given(method("PUT"))
        .respond_with(
            ResponseTemplate::new(412)
                .set_body_json(outcome("conflict", "version 2 is not current")),
        )
        .mount(&server)
        .await;
    let err = client(&server)
        .update(&patient_json("1", "2"))
        .if_match("W/\"2\"")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_precondition_failed());
    assert_eq!(
        err.operation_outcome().unwrap().summary(),
        "version 2 is not current"
    );
    assert_eq!(err.method().unwrap().as_str(), "PUT");
}

#[tokio::test]
async fn a_version_conflict_is_conflict() {
    let server = server().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(409).set_body_json(outcome("conflict", "busy")))
        .mount(&server)
        .await;
    let err = client(&server)
        .update(&patient_json("1", "2"))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_conflict());
}

#[tokio::test]
async fn update_without_an_id_is_refused_before_sending() {
    let server = server().await;
    let err = client(&server)
        .update(&new_patient())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    let err = client(&server)
        .create(&json!({"id": "x"}))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(received(&server).await.is_empty());
}

#[tokio::test]
async fn conditional_update_puts_to_the_search() {
    let server = server().await;
    Mock::given(method("PUT"))
        .and(path("/fhir/Patient"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(patient_json("c1", "1"))
                .insert_header("location", "Patient/c1/_history/1"),
        )
        .mount(&server)
        .await;
    let response = client(&server)
        .update_conditional(
            &new_patient(),
            SearchParams::new().with_token("identifier", Some("urn:mrn"), "7"),
        )
        .send()
        .await
        .unwrap();
    assert!(response.created());
    assert_eq!(
        path_and_query(&only_request(&server).await),
        "/fhir/Patient?identifier=urn:mrn%7C7"
    );
}

#[tokio::test]
async fn patch_sends_json_patch() {
    let server = server().await;
    Mock::given(method("PATCH"))
        .respond_with(fhir_json(&patient_json("1", "5")))
        .mount(&server)
        .await;
    let ops = json!([{"op": "replace", "path": "/active", "value": false}]);
    let client = client(&server);

    let response = client
        .patch::<Patient>("1", ops.clone())
        .if_match("4")
        .send()
        .await
        .unwrap();
    assert_eq!(response.resource().unwrap().id.as_deref(), Some("1"));
    client
        .patch_conditional_json(
            "Patient",
            SearchParams::new().with("identifier", "x"),
            ops.clone(),
        )
        .send()
        .await
        .unwrap();

    let requests = received(&server).await;
    assert_eq!(path_and_query(&requests[0]), "/fhir/Patient/1");
    assert_eq!(
        header(&requests[0], "content-type"),
        Some("application/json-patch+json")
    );
    assert_eq!(header(&requests[0], "if-match"), Some("W/\"4\""));
    assert_eq!(json_body(&requests[0]), ops);
    assert_eq!(path_and_query(&requests[1]), "/fhir/Patient?identifier=x");

    let err = client
        .patch_json("Patient", "1", json!({"op": "remove"}))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::InvalidRequest,
        "a patch must be an array"
    );
}

#[tokio::test]
async fn delete_and_conditional_delete() {
    let server = server().await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let client = client(&server);

    let response = client.delete::<Patient>("1").send().await.unwrap();
    assert_eq!(response.meta().status(), 204);
    assert!(matches!(response.body(), WriteBody::Empty));
    client
        .delete_conditional_json(
            "Observation",
            SearchParams::new().with("subject", "Patient/1"),
        )
        .send()
        .await
        .unwrap();

    let paths: Vec<String> = received(&server).await.iter().map(path_and_query).collect();
    assert_eq!(
        paths,
        ["/fhir/Patient/1", "/fhir/Observation?subject=Patient/1"]
    );

    let err = client
        .delete_conditional::<Patient>(SearchParams::new())
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::InvalidRequest,
        "an unconditional mass delete is refused"
    );
}

#[tokio::test]
async fn delete_with_an_outcome_body() {
    let server = server().await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "information", "code": "informational", "diagnostics": "deleted 1"}]
        })))
        .mount(&server)
        .await;
    let response = client(&server)
        .delete_json("Patient", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.outcome().unwrap().summary(), "deleted 1");
}
