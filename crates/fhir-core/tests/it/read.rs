//! read, vread, conditional read, capabilities and `get`.

use std::time::{Duration, UNIX_EPOCH};

use fhir_core::{ConditionalRead, DecodeErrorKind, ErrorKind};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::*;

#[tokio::test]
async fn read_typed_sends_the_exact_request_and_keeps_metadata() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/fhir/Patient/123"))
        .respond_with(
            fhir_json(&patient_json("123", "4"))
                .insert_header("etag", "W/\"4\"")
                .insert_header("last-modified", "Mon, 01 Jan 2024 00:00:00 GMT"),
        )
        .mount(&server)
        .await;

    let response = client(&server).read::<Patient>("123").send().await.unwrap();

    assert_eq!(response.resource().id.as_deref(), Some("123"));
    assert_eq!(response.resource().active, Some(true));
    assert_eq!(response.meta().status(), 200);
    assert_eq!(response.meta().etag(), Some("W/\"4\""));
    assert_eq!(response.meta().version_id(), Some("4"));
    assert_eq!(
        response.meta().last_modified(),
        Some(UNIX_EPOCH + Duration::from_secs(NOW_SECS))
    );

    let request = only_request(&server).await;
    assert_eq!(request.method.as_str(), "GET");
    assert_eq!(path_and_query(&request), "/fhir/Patient/123");
    assert_eq!(header(&request, "accept"), Some("application/fhir+json"));
    assert!(
        header(&request, "user-agent")
            .unwrap()
            .starts_with("fhir-core/")
    );
    assert!(
        header(&request, "accept-encoding")
            .unwrap()
            .contains("gzip")
    );
    assert_eq!(header(&request, "authorization"), None);
    assert!(request.body.is_empty());
}

#[tokio::test]
async fn ids_are_percent_encoded_into_one_segment() {
    let server = server().await;
    let response = client(&server)
        .read_json("Patient", "a/../b?x")
        .send()
        .await;
    assert!(response.unwrap_err().is_not_found());
    let request = only_request(&server).await;
    assert_eq!(request.url.path(), "/fhir/Patient/a%2F..%2Fb%3Fx");
    assert_eq!(request.url.query(), None);
}

#[tokio::test]
async fn not_found_keeps_the_operation_outcome_and_request() {
    let server = server().await;
    Mock::given(path("/fhir/Patient/9"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(outcome("not-found", "Patient/9 is gone")),
        )
        .mount(&server)
        .await;

    let err = client(&server)
        .read_json("Patient", "9")
        .send()
        .await
        .unwrap_err();

    assert!(err.is_not_found());
    assert_eq!(err.kind(), ErrorKind::Status);
    assert_eq!(
        err.operation_outcome().unwrap().issues()[0].code,
        "not-found"
    );
    assert_eq!(err.method().unwrap().as_str(), "GET");
    assert_eq!(err.url().unwrap().path(), "/fhir/Patient/9");
    assert!(
        err.to_string()
            .ends_with("server answered 404 Not Found: Patient/9 is gone"),
        "{err}"
    );
}

#[tokio::test]
async fn gone_is_reported_as_gone() {
    let server = server().await;
    Mock::given(path("/fhir/Patient/del"))
        .respond_with(ResponseTemplate::new(410).set_body_json(outcome("deleted", "deleted")))
        .mount(&server)
        .await;
    let err = client(&server)
        .read_json("Patient", "del")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_gone());
    assert!(!err.is_not_found());
}

#[tokio::test]
async fn vread_reads_one_version() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/fhir/Patient/123/_history/2"))
        .respond_with(fhir_json(&patient_json("123", "2")))
        .mount(&server)
        .await;
    let response = client(&server)
        .vread::<Patient>("123", "2")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response
            .resource()
            .meta
            .as_ref()
            .unwrap()
            .version_id
            .as_deref(),
        Some("2")
    );
    assert_eq!(
        path_and_query(&only_request(&server).await),
        "/fhir/Patient/123/_history/2"
    );
}

#[tokio::test]
async fn conditional_read_treats_304_as_not_modified() {
    let server = server().await;
    Mock::given(path("/fhir/Patient/1"))
        .respond_with(ResponseTemplate::new(304).insert_header("etag", "W/\"3\""))
        .mount(&server)
        .await;

    let result = client(&server)
        .read::<Patient>("1")
        .if_none_match("3")
        .send()
        .await
        .unwrap();

    match result {
        ConditionalRead::NotModified(meta) => assert_eq!(meta.version_id(), Some("3")),
        other => panic!("expected NotModified, got {other:?}"),
    }
    let request = only_request(&server).await;
    assert_eq!(header(&request, "if-none-match"), Some("W/\"3\""));
}

#[tokio::test]
async fn conditional_read_returns_the_changed_resource() {
    let server = server().await;
    Mock::given(path("/fhir/Patient/1"))
        .respond_with(fhir_json(&patient_json("1", "4")).insert_header("etag", "W/\"4\""))
        .mount(&server)
        .await;
    let since = UNIX_EPOCH + Duration::from_secs(NOW_SECS);

    let result = client(&server)
        .read_json("Patient", "1")
        .if_modified_since(since)
        .if_none_match("W/\"3\"")
        .send()
        .await
        .unwrap();

    let response = result.modified().expect("modified");
    assert_eq!(response.meta().version_id(), Some("4"));
    let request = only_request(&server).await;
    assert_eq!(
        header(&request, "if-modified-since"),
        Some("Mon, 01 Jan 2024 00:00:00 GMT")
    );
    assert_eq!(header(&request, "if-none-match"), Some("W/\"3\""));
}

#[tokio::test]
async fn a_resource_of_the_wrong_type_is_a_decode_error() {
    let server = server().await;
    Mock::given(path("/fhir/Patient/1"))
        .respond_with(fhir_json(
            &json!({"resourceType": "Practitioner", "id": "1"}),
        ))
        .mount(&server)
        .await;

    let err = client(&server)
        .read_json("Patient", "1")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_decode());
    let decode = err.decode_error().unwrap();
    assert_eq!(decode.kind, DecodeErrorKind::WrongResourceType);
    assert!(
        decode
            .message
            .contains("expected Patient, found Practitioner")
    );

    // A typed model rejects it while decoding, with the path of the problem.
    let err = client(&server)
        .read::<Patient>("1")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_decode());
    assert_eq!(err.status().map(|s| s.as_u16()), Some(200));
}

#[tokio::test]
async fn malformed_json_is_a_decode_error_with_position() {
    let server = server().await;
    Mock::given(path("/fhir/Patient/1"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            "{\"resourceType\": \"Patient\",\n \"id\": ",
            "application/fhir+json",
        ))
        .mount(&server)
        .await;
    let err = client(&server)
        .read_json("Patient", "1")
        .send()
        .await
        .unwrap_err();
    let decode = err.decode_error().unwrap();
    assert_eq!(decode.kind, DecodeErrorKind::Eof);
    assert_eq!(decode.line, 2);
}

#[tokio::test]
async fn an_unknown_field_names_its_path_for_strict_models() {
    let server = server().await;
    Mock::given(path("/fhir/Patient/1"))
        .respond_with(fhir_json(
            &json!({"resourceType": "Patient", "id": "1", "activ": true}),
        ))
        .mount(&server)
        .await;
    let err = client(&server)
        .read::<Patient>("1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.decode_error().unwrap().kind,
        DecodeErrorKind::UnknownField
    );
}

#[tokio::test]
async fn capabilities_reads_metadata() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/fhir/metadata"))
        .respond_with(fhir_json(
            &json!({"resourceType": "CapabilityStatement", "fhirVersion": "4.0.1"}),
        ))
        .mount(&server)
        .await;
    let response = client(&server).capabilities::<Value>().await.unwrap();
    assert_eq!(response.resource()["fhirVersion"], "4.0.1");
    assert_eq!(
        path_and_query(&only_request(&server).await),
        "/fhir/metadata"
    );
}

#[tokio::test]
async fn get_follows_relative_and_absolute_references() {
    let server = server().await;
    Mock::given(path("/fhir/Patient/7"))
        .respond_with(fhir_json(&patient_json("7", "1")))
        .mount(&server)
        .await;
    let client = client(&server);
    let relative = client.get::<Patient>("Patient/7").await.unwrap();
    assert_eq!(relative.resource().id.as_deref(), Some("7"));
    let absolute = client
        .get::<Value>(&format!("{}/fhir/Patient/7", server.uri()))
        .await
        .unwrap();
    assert_eq!(absolute.resource()["id"], "7");
}

#[tokio::test]
async fn empty_ids_are_refused_before_sending() {
    let server = server().await;
    let err = client(&server)
        .read_json("Patient", "")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(received(&server).await.is_empty());
}
