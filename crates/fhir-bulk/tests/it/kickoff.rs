//! K1–K8: the kick-off request, exactly, and what its answers become.

use std::time::Duration;

use fhir_bulk::{BulkConfig, BulkError, Event, ExportRequest, Handling};
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

use crate::support::{TOKEN, assert_no_canary, base, bulk, outcome, sequence, server};

fn accepted(server: &wiremock::MockServer) -> ResponseTemplate {
    ResponseTemplate::new(202)
        .insert_header(
            "content-location",
            format!("{}/fhir/bulkstatus/42", server.uri()),
        )
        .insert_header("x-request-id", "req-kick-1")
}

#[tokio::test]
async fn system_get_kick_off_sends_exactly_the_headers_and_query() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/fhir/$export"))
        .and(query_param("_type", "Patient,Observation"))
        .and(query_param("_since", "2024-01-01T00:00:00Z"))
        .and(query_param("_typeFilter", "Observation?status=final"))
        .respond_with(accepted(&server))
        .expect(1)
        .mount(&server)
        .await;
    let (bulk, _, events) = bulk(&server, BulkConfig::new());
    let job = bulk
        .kick_off(
            &ExportRequest::system()
                .types(["Patient", "Observation"])
                .since("2024-01-01T00:00:00Z")
                .type_filter("Observation?status=final"),
        )
        .await
        .unwrap();
    assert_eq!(
        job.status_url().as_str(),
        format!("{}/fhir/bulkstatus/42", server.uri())
    );
    let request = &server.received_requests().await.unwrap()[0];
    // Exactly one Accept value (some servers refuse `application/fhir+json, */*`).
    let accepts: Vec<_> = request.headers.get_all("accept").iter().collect();
    assert_eq!(accepts, ["application/fhir+json"]);
    assert_eq!(request.headers["prefer"], "respond-async");
    assert_eq!(
        request.headers["authorization"],
        format!("Bearer {TOKEN}").as_str()
    );
    assert!(request.body.is_empty());
    match &events.all()[0] {
        Event::KickedOff { correlation, .. } => {
            assert_eq!(
                correlation.ids(),
                [("x-request-id", "req-kick-1".to_owned())]
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn patient_and_group_levels_and_handling() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/fhir/Patient/$export"))
        .respond_with(accepted(&server))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/fhir/Group/cohort%201/$export"))
        .respond_with(accepted(&server))
        .expect(1)
        .mount(&server)
        .await;
    let (bulk, _, _) = bulk(&server, BulkConfig::new());
    bulk.kick_off(&ExportRequest::patient().handling(Handling::Lenient))
        .await
        .unwrap();
    bulk.kick_off(&ExportRequest::group("cohort 1"))
        .await
        .unwrap();
    let requests = server.received_requests().await.unwrap();
    assert_eq!(
        requests[0].headers["prefer"],
        "respond-async, handling=lenient"
    );
    assert_eq!(requests[1].headers["prefer"], "respond-async");
}

#[tokio::test]
async fn post_carries_every_parameter_including_include_associated_data() {
    let server = server().await;
    let expected = json!({"resourceType": "Parameters", "parameter": [
        {"name": "_type", "valueString": "Observation"},
        {"name": "patient", "valueReference": {"reference": "Patient/p1"}},
        {"name": "includeAssociatedData", "valueCode": "LatestProvenanceResources"},
        {"name": "_typeFilter", "valueString": "Observation?code=http://loinc.org|8867-4"},
        {"name": "organizeOutputBy", "valueString": "Patient"},
        {"name": "allowPartialManifests", "valueBoolean": true},
        {"name": "_vendorFlag", "valueString": "on"}
    ]});
    Mock::given(method("POST"))
        .and(path("/fhir/Group/g1/$export"))
        .and(header("content-type", "application/fhir+json"))
        .and(header("accept", "application/fhir+json"))
        .and(header("prefer", "respond-async"))
        .and(body_json(&expected))
        .respond_with(accepted(&server))
        .expect(1)
        .mount(&server)
        .await;
    let (bulk, _, _) = bulk(&server, BulkConfig::new());
    let request = ExportRequest::group("g1")
        .types(["Observation"])
        .patient_reference("Patient/p1")
        .include_associated_data("LatestProvenanceResources")
        .type_filter("Observation?code=http://loinc.org|8867-4")
        .organize_output_by("Patient")
        .allow_partial_manifests(true)
        .extra("_vendorFlag", "on");
    bulk.kick_off(&request).await.unwrap();
    let received = &server.received_requests().await.unwrap()[0];
    assert_eq!(received.url.query(), None, "POST puts nothing in the query");
}

#[tokio::test]
async fn a_refusal_is_typed_with_its_operation_outcome_and_no_secret() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/fhir/$export"))
        .respond_with(ResponseTemplate::new(400).set_body_json(outcome(
            "not-supported",
            &format!("_typeFilter unsupported (you sent Authorization: Bearer {TOKEN})"),
        )))
        .mount(&server)
        .await;
    let (bulk, _, _) = bulk(&server, BulkConfig::new());
    let err = bulk.kick_off(&ExportRequest::system()).await.unwrap_err();
    assert!(matches!(err, BulkError::KickOffRefused(_)), "{err:?}");
    let outcome = err.operation_outcome().unwrap();
    assert_eq!(outcome.issues()[0].code, "not-supported");
    assert_eq!(err.http_error().unwrap().status().unwrap(), 400);
    assert_no_canary(&err.to_string());
    assert_no_canary(&format!("{err:?}"));
}

#[tokio::test]
async fn a_202_without_content_location_or_a_200_is_no_job() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/fhir/$export"))
        .respond_with(sequence([
            ResponseTemplate::new(202),
            ResponseTemplate::new(200),
        ]))
        .mount(&server)
        .await;
    let (bulk, _, _) = bulk(&server, BulkConfig::new());
    for status in [202, 200] {
        let err = bulk.kick_off(&ExportRequest::system()).await.unwrap_err();
        assert!(
            matches!(err, BulkError::NoStatusUrl { status: s } if s == status),
            "{err:?}"
        );
    }
}

#[tokio::test]
async fn a_429_kick_off_waits_a_clamped_retry_after_and_retries() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/fhir/$export"))
        .respond_with(sequence([
            // Epoch milliseconds, as one reference server sends.
            ResponseTemplate::new(429).insert_header("retry-after", "1733550000000"),
            accepted(&server),
        ]))
        .expect(2)
        .mount(&server)
        .await;
    let config =
        BulkConfig::new().retry_after_range(Duration::from_secs(1), Duration::from_secs(90));
    let (bulk, timer, _) = bulk(&server, config);
    bulk.kick_off(&ExportRequest::system()).await.unwrap();
    assert_eq!(timer.sleeps(), [Duration::from_secs(90)]);
    let _ = base(&server);
}
