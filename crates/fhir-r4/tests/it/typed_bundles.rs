//! Transactions with R4 models: entries referencing each other by `urn:uuid`, the exact
//! Bundle sent, typed per-entry results in request order, and responses that do not match.

use fhir_core::SearchParams;
use fhir_r4::datatypes::Reference;
use fhir_r4::resources::{Observation, OperationOutcome, Patient};
use serde_json::{Value, json};
use wiremock::Mock;
use wiremock::matchers::{method, path};

use crate::client_support::*;

fn patient() -> Patient {
    model(json!({"resourceType": "Patient", "id": "ignored-on-create",
                 "identifier": [{"system": "urn:fhir-rs:test", "value": "42"}]}))
}

fn heart_rate(value: u32) -> Observation {
    model(json!({"resourceType": "Observation", "status": "final",
                 "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
                 "valueQuantity": {"value": value, "unit": "/min"}}))
}

#[tokio::test]
async fn a_typed_transaction_links_observations_to_the_new_patient() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/fhir"))
        .respond_with(fhir_json(200, &json!({"resourceType": "Bundle", "type": "batch-response", "entry": [
            {"response": {"status": "201 Created", "location": "Patient/p1/_history/1", "etag": "W/\"1\""},
             "resource": {"resourceType": "Patient", "id": "p1", "meta": {"versionId": "1"},
                          "identifier": [{"system": "urn:fhir-rs:test", "value": "42"}]}},
            {"response": {"status": "201 Created", "location": "Observation/o1/_history/1"}},
            {"response": {"status": "200 OK", "location": "Observation/o0/_history/3", "etag": "W/\"3\""}},
            {"response": {"status": "412 Precondition Failed",
                          "outcome": {"resourceType": "OperationOutcome", "issue": [
                              {"severity": "error", "code": "conflict", "diagnostics": "version 2 is not current"}]}}},
            {"response": {"status": "204 No Content"}}
        ]})))
        .mount(&server)
        .await;

    let client = client(&server);
    let mut tx = client.batch();
    let search = SearchParams::new().with_token("identifier", Some("urn:fhir-rs:test"), "42");
    let new_patient = tx.create_if_none_exist(&patient(), &search).unwrap();
    let mut observation = heart_rate(72);
    observation.subject = Some(Box::new(Reference::from_handle(&new_patient)));
    let created = tx.create(&observation).unwrap();
    let mut existing = heart_rate(80);
    existing.id = Some("o0".into());
    existing.subject = Some(Box::new(Reference::from_handle(&new_patient)));
    let updated = tx
        .update_conditional(&existing, &SearchParams::new().with("_id", "o0"))
        .unwrap();
    let mut stale = heart_rate(90);
    stale.id = Some("o9".into());
    let rejected = tx.update_if_match(&stale, "2").unwrap();
    let deleted = tx
        .delete_conditional(
            "Observation",
            &SearchParams::new().with("subject", "Patient/old"),
        )
        .unwrap();

    let response = tx.send().await.unwrap();

    // The exact Bundle sent.
    let requests = received(&server).await;
    assert_eq!(requests.len(), 1);
    let sent = json_body(&requests[0]);
    let urn = new_patient.reference();
    assert!(urn.starts_with("urn:uuid:") && urn.len() == 45, "{urn}");
    let observation_urn = created.reference();
    assert_eq!(
        sent,
        json!({"resourceType": "Bundle", "type": "batch", "entry": [
            {"fullUrl": urn,
             "resource": {"resourceType": "Patient", "identifier": [{"system": "urn:fhir-rs:test", "value": "42"}]},
             "request": {"method": "POST", "url": "Patient", "ifNoneExist": "identifier=urn:fhir-rs:test%7C42"}},
            {"fullUrl": observation_urn,
             "resource": {"resourceType": "Observation", "status": "final",
                          "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
                          "subject": {"reference": urn},
                          "valueQuantity": {"value": 72, "unit": "/min"}},
             "request": {"method": "POST", "url": "Observation"}},
            {"fullUrl": updated.reference(),
             "resource": {"resourceType": "Observation", "id": "o0", "status": "final",
                          "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
                          "subject": {"reference": urn},
                          "valueQuantity": {"value": 80, "unit": "/min"}},
             "request": {"method": "PUT", "url": "Observation?_id=o0"}},
            {"fullUrl": format!("{}/Observation/o9", base(&server)),
             "resource": {"resourceType": "Observation", "id": "o9", "status": "final",
                          "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
                          "valueQuantity": {"value": 90, "unit": "/min"}},
             "request": {"method": "PUT", "url": "Observation/o9", "ifMatch": "W/\"2\""}},
            {"request": {"method": "DELETE", "url": "Observation?subject=Patient/old"}}
        ]})
    );
    assert_ne!(urn, observation_urn);

    // Typed per-entry results, in request order and by handle.
    let statuses: Vec<u16> = response
        .entries()
        .iter()
        .map(|e| e.status().as_u16())
        .collect();
    assert_eq!(statuses, [201, 201, 200, 412, 204]);
    let patient_entry = response.entry(&new_patient).unwrap();
    let stored: Patient = patient_entry.resource().unwrap().unwrap();
    assert_eq!(stored.id.as_deref(), Some("p1"));
    assert_eq!(patient_entry.location_id(), Some("p1"));
    assert_eq!(patient_entry.version_id(), Some("1"));
    assert_eq!(response.entry(&created).unwrap().location_id(), Some("o1"));
    assert_eq!(
        response.entry(&created).unwrap().location_type(),
        Some("Observation")
    );
    assert!(
        response
            .entry(&created)
            .unwrap()
            .resource::<Observation>()
            .is_none()
    );
    assert_eq!(response.entry(&updated).unwrap().version_id(), Some("3"));
    let failure = response.entry(&rejected).unwrap();
    assert!(!failure.is_success());
    let outcome = OperationOutcome::from(failure.outcome().unwrap());
    assert_eq!(
        outcome.issue[0]
            .diagnostics
            .as_ref()
            .unwrap()
            .value()
            .unwrap(),
        "version 2 is not current"
    );
    assert!(response.entry(&deleted).unwrap().is_success());
    assert!(!response.all_succeeded());
}

async fn send_two_entries_and_get(response: Value) -> fhir_core::Error {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/fhir"))
        .respond_with(fhir_json(200, &response))
        .mount(&server)
        .await;
    let client = client(&server);
    let mut tx = client.transaction();
    tx.create(&patient()).unwrap();
    tx.delete("Observation", "o1");
    tx.send().await.unwrap_err()
}

#[tokio::test]
async fn a_response_with_too_few_entries_names_the_unanswered_entry() {
    let err = send_two_entries_and_get(
        json!({"resourceType": "Bundle", "type": "transaction-response",
        "entry": [{"response": {"status": "201 Created", "location": "Patient/p1/_history/1"}}]}),
    )
    .await;
    assert!(err.is_decode(), "{err}");
    let decode = err.decode_error().unwrap();
    assert_eq!(decode.path, "entry[1]");
    assert_eq!(
        decode.message,
        "the request had 2 entries, the response has 1: no response to entry 1 (DELETE Observation/o1)"
    );
}

#[tokio::test]
async fn an_entry_without_response_is_named() {
    let err = send_two_entries_and_get(json!({"resourceType": "Bundle", "type": "transaction-response",
        "entry": [{"response": {"status": "201 Created"}}, {"resource": {"resourceType": "Patient"}}]}))
    .await;
    let decode = err.decode_error().unwrap();
    assert_eq!(decode.path, "entry[1].response");
    assert!(
        decode.message.contains("DELETE Observation/o1"),
        "{}",
        decode.message
    );
}

#[tokio::test]
async fn a_rejected_transaction_is_a_status_error_with_a_typed_outcome() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/fhir"))
        .respond_with(fhir_json(
            400,
            &json!({"resourceType": "OperationOutcome", "issue": [
            {"severity": "error", "code": "invalid", "diagnostics": "entry 1: bad reference",
             "expression": ["Bundle.entry[1]"]}]}),
        ))
        .mount(&server)
        .await;
    let client = client(&server);
    let mut tx = client.transaction();
    tx.create(&patient()).unwrap();
    let err = tx.send().await.unwrap_err();
    assert!(err.is_bad_request(), "{err}");
    let outcome = OperationOutcome::from(err.operation_outcome().unwrap());
    assert_eq!(
        outcome.issue[0].expression[0].value().unwrap(),
        "Bundle.entry[1]"
    );
}

/// The decimals of the hardening report, as a server would send them.
const PRECISE: &str = r#"{"resourceType":"Observation","id":"bp-7","status":"final","code":{"text":"lab"},"valueQuantity":{"value":1.50,"unit":"mmol/L"},"component":[{"code":{"text":"a"},"valueQuantity":{"value":100.00}},{"code":{"text":"b"},"valueQuantity":{"value":0.000000001}},{"code":{"text":"c"},"valueQuantity":{"value":12345678901234567890.123456789}}]}"#;

#[tokio::test]
async fn a_typed_transaction_sends_each_resource_as_its_own_encoding() {
    use fhir_core::Resource as _;
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/fhir"))
        .respond_with(fhir_json(200, &json!({"resourceType": "Bundle", "type": "transaction-response",
            "entry": [{"response": {"status": "200 OK"}}, {"response": {"status": "201 Created"}}]})))
        .mount(&server)
        .await;
    let observation = Observation::from_json_slice(PRECISE.as_bytes()).unwrap();
    let own = String::from_utf8(observation.to_json_vec().unwrap()).unwrap();
    assert_eq!(own, PRECISE, "the model itself is lossless");

    let client = client(&server);
    let mut tx = client.transaction();
    tx.update_if_match(&observation, "3").unwrap();
    tx.create(&observation).unwrap();
    tx.send().await.unwrap();

    // Read back at the server by serde_json as raw text, not by our decoder.
    let requests = received(&server).await;
    type Object<'a> = std::collections::BTreeMap<&'a str, &'a serde_json::value::RawValue>;
    let bundle: Object<'_> = serde_json::from_slice(&requests[0].body).unwrap();
    let entries: Vec<Object<'_>> = serde_json::from_str(bundle["entry"].get()).unwrap();
    let wire: Vec<&str> = entries
        .iter()
        .map(|entry| entry["resource"].get())
        .collect();
    assert_eq!(wire[0], own, "the update left its encoding");
    assert_eq!(
        wire[1],
        own.replace(r#""id":"bp-7","#, ""),
        "a create leaves out the id and nothing else"
    );
}
