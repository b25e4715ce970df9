//! Error classes end to end: non-FHIR bodies, gzip, injected HTTP clients.

use std::io::Write as _;

use fhir_core::Client;
use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, ResponseTemplate};

use crate::support::*;

#[tokio::test]
async fn an_html_error_page_is_kept_as_an_excerpt() {
    let server = server().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(502)
                .set_body_raw("<html><body>Bad gateway</body></html>", "text/html"),
        )
        .mount(&server)
        .await;
    let err = client(&server)
        .read_json("Patient", "1")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_server_error());
    assert!(err.operation_outcome().is_none());
    assert_eq!(
        err.body_excerpt(),
        Some("<html><body>Bad gateway</body></html>")
    );
}

#[tokio::test]
async fn gzip_responses_are_decompressed() {
    let server = server().await;
    let body = serde_json::to_vec(&patient_json("z", "1")).unwrap();
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(&body).unwrap();
    let compressed = encoder.finish().unwrap();
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(compressed, "application/fhir+json")
                .insert_header("content-encoding", "gzip"),
        )
        .mount(&server)
        .await;
    let response = client(&server).read::<Patient>("z").send().await.unwrap();
    assert_eq!(response.resource().id.as_deref(), Some("z"));
}

#[tokio::test]
async fn an_injected_http_client_is_used() {
    let server = server().await;
    Mock::given(method("GET"))
        .respond_with(fhir_json(&patient_json("1", "1")))
        .mount(&server)
        .await;
    let mut headers = fhir_core::http::HeaderMap::new();
    headers.insert("x-from-injected-client", "yes".parse().unwrap());
    let http = reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap();
    let client = Client::builder(&base(&server))
        .http_client(http)
        .build()
        .unwrap();
    client.read_json("Patient", "1").send().await.unwrap();
    assert_eq!(
        header(&only_request(&server).await, "x-from-injected-client"),
        Some("yes")
    );
}

#[tokio::test]
async fn an_empty_body_where_a_resource_belongs_is_a_decode_error() {
    let server = server().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let err = client(&server)
        .read_json("Patient", "1")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_decode());
    assert_eq!(
        err.decode_error().unwrap().kind,
        fhir_core::DecodeErrorKind::Eof
    );
}

#[tokio::test]
async fn outcome_json_is_kept_whole() {
    let server = server().await;
    let body = json!({"resourceType": "OperationOutcome", "id": "oo1", "issue": [
        {"severity": "error", "code": "invalid", "details": {"text": "bad birthDate"},
         "expression": ["Patient.birthDate"], "extension": [{"url": "x", "valueString": "kept"}]}
    ]});
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(422).set_body_json(body.clone()))
        .mount(&server)
        .await;
    let err = client(&server)
        .create(&json!({"resourceType": "Patient"}))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_unprocessable());
    let outcome = err.operation_outcome().unwrap();
    assert_eq!(outcome.as_json(), &body);
    assert_eq!(
        outcome.issues()[0].details.as_deref(),
        Some("bad birthDate")
    );
    assert_eq!(outcome.issues()[0].expression, ["Patient.birthDate"]);
    assert!(outcome.has_errors());
    assert_eq!(outcome.summary(), "bad birthDate");
}
