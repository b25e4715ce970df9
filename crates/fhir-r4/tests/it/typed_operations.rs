//! Operations with R4 types: `$everything` over pages, `$validate` (2xx and 4xx), and the
//! generic typed call answering Parameters, a resource directly, or an OperationOutcome.

use fhir_r4::Resource;
use fhir_r4::client::{OperationOutput, OperationsExt as _, ValidateMode};
use fhir_r4::datatypes::OpenValue;
use fhir_r4::resources::{OperationOutcome, Parameters, Patient};
use futures::TryStreamExt as _;
use serde_json::json;
use wiremock::Mock;
use wiremock::matchers::{body_json, method, path, query_param};

use crate::client_support::*;

/// The official `OperationOutcome-validationfail.json` example of the R4 specification.
fn validation_fail() -> serde_json::Value {
    json!({
      "resourceType": "OperationOutcome", "id": "validationfail",
      "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">\n      <p>Error parsing resource XML (Unknown Content &quot;label&quot; @ /Patient/identifier/label) at Patient.identifier</p>\n    </div>"},
      "issue": [{"severity": "error", "code": "structure",
                 "details": {"text": "Error parsing resource XML (Unknown Content \"label\""},
                 "location": ["/f:Patient/f:identifier"], "expression": ["Patient.identifier"]}]
    })
}

/// The official `OperationOutcome-allok.json` example.
fn all_ok() -> serde_json::Value {
    json!({
      "resourceType": "OperationOutcome", "id": "allok",
      "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">\n      <p>All OK</p>\n    </div>"},
      "issue": [{"severity": "information", "code": "informational", "details": {"text": "All OK"}}]
    })
}

#[tokio::test]
async fn patient_everything_streams_every_resource_over_all_pages() {
    let server = server().await;
    let base = base(&server);
    Mock::given(method("GET"))
        .and(path("/fhir/Patient/p%201/$everything"))
        .and(query_param("page", "2"))
        .respond_with(fhir_json(200, &json!({"resourceType": "Bundle", "type": "searchset", "entry": [
            {"resource": {"resourceType": "Observation", "id": "o1", "status": "final", "code": {"text": "x"}}}
        ]})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/fhir/Patient/p%201/$everything"))
        .and(query_param("_count", "2"))
        .respond_with(fhir_json(200, &json!({"resourceType": "Bundle", "type": "searchset",
            "link": [{"relation": "next", "url": format!("{base}/Patient/p%201/$everything?page=2")}],
            "entry": [
                {"resource": {"resourceType": "Patient", "id": "p 1"}, "search": {"mode": "match"}},
                {"resource": {"resourceType": "Encounter", "id": "e1", "status": "finished",
                              "class": {"code": "AMB"}}, "search": {"mode": "include"}},
                {"resource": {"resourceType": "OperationOutcome", "issue": [
                    {"severity": "information", "code": "informational"}]}, "search": {"mode": "outcome"}}
            ]})))
        .mount(&server)
        .await;

    let resources: Vec<Resource> = client(&server)
        .patient_everything("p 1")
        .count(2)
        .resources()
        .try_collect()
        .await
        .unwrap();

    let found: Vec<_> = resources
        .iter()
        .map(|r| format!("{}/{}", r.resource_type(), r.id().unwrap()))
        .collect();
    assert_eq!(found, ["Patient/p 1", "Encounter/e1", "Observation/o1"]);
    let requests = received(&server).await;
    let lines: Vec<_> = requests.iter().map(line).collect();
    assert_eq!(
        lines,
        [
            "GET /fhir/Patient/p%201/$everything?_count=2",
            "GET /fhir/Patient/p%201/$everything?page=2"
        ]
    );
}

#[tokio::test]
async fn encounter_everything_reports_an_invalid_resource_by_entry() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/fhir/Encounter/e1/$everything"))
        .respond_with(fhir_json(
            200,
            &json!({"resourceType": "Bundle", "type": "searchset", "entry": [
                {"resource": {"resourceType": "Encounter", "id": "e1"}},
                {"resource": {"resourceType": "Patient", "id": "p1", "active": "yes"}}
            ]}),
        ))
        .mount(&server)
        .await;
    let mut stream = client(&server)
        .encounter_everything("e1")
        .types(&["Patient", "Encounter"])
        .since("2024-01-01T00:00:00Z")
        .resources();
    let first = stream.try_next().await.unwrap().unwrap();
    assert_eq!(first.resource_type(), "Encounter");
    let err = stream.try_next().await.unwrap_err();
    assert!(err.is_decode(), "{err}");
    let decode = err.decode_error().unwrap();
    assert!(decode.path.starts_with("entry[1].resource"), "{decode}");
    assert!(decode.path.ends_with("active"), "{decode}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(200));
    assert_eq!(
        line(&received(&server).await[0]),
        "GET /fhir/Encounter/e1/$everything?_type=Patient,Encounter&_since=2024-01-01T00:00:00Z"
    );
}

fn patient() -> Patient {
    model(json!({"resourceType": "Patient", "id": "p1", "active": true}))
}

#[tokio::test]
async fn validate_posts_parameters_and_reads_the_outcome() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/fhir/Patient/p1/$validate"))
        .and(body_json(json!({"resourceType": "Parameters", "parameter": [
            {"name": "resource", "resource": {"resourceType": "Patient", "id": "p1", "active": true}},
            {"name": "mode", "valueCode": "update"},
            {"name": "profile", "valueUri": "http://hl7.org/fhir/StructureDefinition/Patient"}
        ]})))
        .respond_with(fhir_json(200, &all_ok()))
        .mount(&server)
        .await;
    let response = client(&server)
        .validate(&patient())
        .id("p1")
        .mode(ValidateMode::Update)
        .profile("http://hl7.org/fhir/StructureDefinition/Patient")
        .send()
        .await
        .unwrap();
    let outcome = response.resource();
    assert_eq!(outcome.id.as_deref(), Some("allok"));
    assert_eq!(
        outcome.issue[0]
            .details
            .as_ref()
            .unwrap()
            .text
            .as_ref()
            .unwrap()
            .value()
            .unwrap(),
        "All OK"
    );
    let request = &received(&server).await[0];
    assert_eq!(
        request.headers.get("content-type").unwrap(),
        "application/fhir+json"
    );
}

#[tokio::test]
async fn an_invalid_resource_is_a_4xx_with_the_typed_outcome() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/fhir/Patient/$validate"))
        .and(body_json(json!({"resourceType": "Parameters", "parameter": [
            {"name": "resource", "resource": {"resourceType": "Patient", "id": "p1", "active": true}}
        ]})))
        .respond_with(fhir_json(422, &validation_fail()))
        .mount(&server)
        .await;
    let err = client(&server)
        .validate(&patient())
        .send()
        .await
        .unwrap_err();
    assert!(err.is_unprocessable(), "{err}");
    let outcome = OperationOutcome::from(err.operation_outcome().unwrap());
    assert_eq!(outcome.id.as_deref(), Some("validationfail"));
    assert_eq!(
        outcome.issue[0].expression[0].value().unwrap(),
        "Patient.identifier"
    );
    assert_eq!(
        outcome.issue[0].location[0].value().unwrap(),
        "/f:Patient/f:identifier"
    );
}

#[tokio::test]
async fn a_typed_operation_reads_parameters_a_direct_resource_or_a_return_parameter() {
    let server = server().await;
    // Instance level, POST: Parameters out.
    Mock::given(method("POST"))
        .and(path("/fhir/Patient/p1/$lookup-things"))
        .and(body_json(json!({"resourceType": "Parameters", "parameter": [
            {"name": "count", "valueInteger": 2},
            {"name": "code", "valueCode": "a"},
            {"name": "code", "valueCode": "b"}
        ]})))
        .respond_with(fhir_json(200, &json!({"resourceType": "Parameters", "parameter": [
            {"name": "thing", "valueString": "first"}, {"name": "thing", "valueString": "second"}
        ]})))
        .mount(&server)
        .await;
    // Type level, GET with query parameters: the single `return` resource returned directly.
    Mock::given(method("GET"))
        .and(path("/fhir/Patient/$current"))
        .and(query_param("identifier", "urn:mrn|1"))
        .respond_with(fhir_json(
            200,
            &json!({"resourceType": "Patient", "id": "p1"}),
        ))
        .mount(&server)
        .await;
    // System level: the same result wrapped in Parameters.
    Mock::given(method("POST"))
        .and(path("/fhir/$current"))
        .respond_with(fhir_json(
            200,
            &json!({"resourceType": "Parameters", "parameter": [
                {"name": "return", "resource": {"resourceType": "Patient", "id": "p1"}}
            ]}),
        ))
        .mount(&server)
        .await;
    let client = client(&server);

    let input = Parameters::new()
        .with_value("count", OpenValue::Integer(2.into()))
        .with_value("code", OpenValue::Code("a".into()))
        .with_value("code", OpenValue::Code("b".into()));
    let response = client
        .operation_typed("lookup-things")
        .instance::<Patient>("p1")
        .post(&input)
        .await
        .unwrap();
    let things: Vec<_> = response
        .parameters()
        .unwrap()
        .get_all("thing")
        .map(|thing| thing.value_str().unwrap())
        .collect();
    assert_eq!(things, ["first", "second"]);
    assert!(response.resource().is_none());
    assert_eq!(response.meta().status().as_u16(), 200);

    let direct = client
        .operation_typed("$current")
        .on_type::<Patient>()
        .param("identifier", "urn:mrn|1")
        .get()
        .await
        .unwrap();
    assert!(matches!(
        direct.output(),
        OperationOutput::Resource(Resource::Patient(_))
    ));
    let wrapped = client
        .operation_typed("$current")
        .post(&Parameters::new())
        .await
        .unwrap();
    assert!(matches!(wrapped.output(), OperationOutput::Parameters(_)));
    assert_eq!(direct.resource(), wrapped.resource());
    assert_eq!(
        wrapped
            .into_resource()
            .and_then(|r| r.id().map(str::to_owned))
            .as_deref(),
        Some("p1")
    );
}

#[tokio::test]
async fn an_outcome_result_and_an_operation_error_are_told_apart() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/fhir/$ping"))
        .respond_with(fhir_json(200, &all_ok()))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/fhir/$fail"))
        .respond_with(fhir_json(400, &validation_fail()))
        .mount(&server)
        .await;
    let client = client(&server);
    let ok = client
        .operation_typed("ping")
        .post(&Parameters::new())
        .await
        .unwrap();
    assert_eq!(ok.outcome().unwrap().id.as_deref(), Some("allok"));
    let err = client
        .operation_typed("fail")
        .post(&Parameters::new())
        .await
        .unwrap_err();
    assert!(err.is_bad_request());
    assert_eq!(
        err.operation_outcome().unwrap().issues()[0].code,
        "structure"
    );
    let sent = json_body(&received(&server).await[0]);
    assert_eq!(sent, json!({"resourceType": "Parameters"}));
}
