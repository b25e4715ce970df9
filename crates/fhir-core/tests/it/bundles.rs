//! Batch and transaction builders: the Bundle sent, references between entries, responses.

use fhir_core::{ErrorKind, SearchParams};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::*;

#[tokio::test]
async fn a_transaction_links_entries_by_urn_uuid_and_reads_responses_by_handle() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/fhir"))
        .respond_with(fhir_json(&json!({"resourceType": "Bundle", "type": "transaction-response", "entry": [
            {"response": {"status": "201 Created", "location": "Patient/p1/_history/1", "etag": "W/\"1\""}},
            {"response": {"status": "201 Created", "location": "Observation/o1/_history/1"}},
            {"response": {"status": "200 OK", "location": "Patient/p2/_history/4", "etag": "W/\"4\""}},
            {"response": {"status": "204 No Content"}},
            {"response": {"status": "200 OK"}, "resource": {"resourceType": "Bundle", "type": "searchset"}}
        ]})))
        .mount(&server)
        .await;
    let client = client(&server);
    let mut tx = client.transaction();
    let patient = tx
        .create_if_none_exist(
            &json!({"resourceType": "Patient", "id": "ignored", "identifier": [{"system": "urn:mrn", "value": "1"}]}),
            &SearchParams::new().with_token("identifier", Some("urn:mrn"), "1"),
        )
        .unwrap();
    let observation = tx
        .create(&json!({"resourceType": "Observation", "status": "final", "subject": {"reference": patient.reference()}}))
        .unwrap();
    let update = tx
        .update_if_match(
            &json!({"resourceType": "Patient", "id": "p2", "active": true}),
            "3",
        )
        .unwrap();
    tx.delete_conditional(
        "Observation",
        &SearchParams::new().with("subject", "Patient/p3"),
    )
    .unwrap();
    let search = tx.get("Observation?code=8867-4");
    assert_eq!(tx.len(), 5);

    let response = tx.send().await.unwrap();

    assert!(response.all_succeeded());
    assert_eq!(
        response.entry(&observation).unwrap().location(),
        Some("Observation/o1/_history/1")
    );
    assert_eq!(response.entry(&update).unwrap().version_id(), Some("4"));
    let bundle: Value = response
        .entry(&search)
        .unwrap()
        .resource()
        .unwrap()
        .unwrap();
    assert_eq!(bundle["type"], "searchset");

    let sent = json_body(&only_request(&server).await);
    assert_eq!(sent["type"], "transaction");
    let entries = sent["entry"].as_array().unwrap();
    let urn = entries[0]["fullUrl"].as_str().unwrap();
    assert!(urn.starts_with("urn:uuid:") && urn.len() == 45, "{urn}");
    assert_eq!(patient.reference(), urn);
    assert!(
        entries[0]["resource"].get("id").is_none(),
        "a created resource's id is the server's to choose"
    );
    assert_eq!(
        entries[0]["request"],
        json!({"method": "POST", "url": "Patient", "ifNoneExist": "identifier=urn:mrn%7C1"})
    );
    assert_eq!(entries[1]["resource"]["subject"]["reference"], urn);
    assert_ne!(entries[1]["fullUrl"], entries[0]["fullUrl"]);
    assert_eq!(
        entries[2]["request"],
        json!({"method": "PUT", "url": "Patient/p2", "ifMatch": "W/\"3\""})
    );
    assert_eq!(
        entries[2]["fullUrl"],
        format!("{}/Patient/p2", base(&server))
    );
    assert_eq!(
        entries[3]["request"],
        json!({"method": "DELETE", "url": "Observation?subject=Patient/p3"})
    );
    assert_eq!(
        entries[4]["request"],
        json!({"method": "GET", "url": "Observation?code=8867-4"})
    );
}

#[tokio::test]
async fn batch_entries_fail_on_their_own() {
    let server = server().await;
    Mock::given(method("POST"))
        .respond_with(fhir_json(&json!({"resourceType": "Bundle", "type": "batch-response", "entry": [
            {"response": {"status": "200 OK"}, "resource": patient_json("1", "1")},
            {"response": {"status": "404 Not Found", "outcome": outcome("not-found", "Patient/x is not known")}}
        ]})))
        .mount(&server)
        .await;
    let mut batch = client(&server).batch();
    let found = batch.get("Patient/1");
    let missing = batch.get("Patient/x");
    let response = batch.send().await.unwrap();
    assert!(!response.all_succeeded());
    let patient: Patient = response.entry(&found).unwrap().resource().unwrap().unwrap();
    assert_eq!(patient.id.as_deref(), Some("1"));
    let missing = response.entry(&missing).unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    assert_eq!(
        missing.outcome().unwrap().summary(),
        "Patient/x is not known"
    );
    assert_eq!(json_body(&only_request(&server).await)["type"], "batch");
}

#[tokio::test]
async fn a_response_with_missing_entries_is_a_decode_error() {
    let server = server().await;
    Mock::given(method("POST"))
        .respond_with(fhir_json(
            &json!({"resourceType": "Bundle", "type": "batch-response", "entry": []}),
        ))
        .mount(&server)
        .await;
    let mut batch = client(&server).batch();
    batch.get("Patient/1");
    let err = batch.send().await.unwrap_err();
    assert!(err.is_decode());
    assert_eq!(err.decode_error().unwrap().path, "entry[0]");
    assert!(
        err.decode_error()
            .unwrap()
            .message
            .ends_with("no response to entry 0 (GET Patient/1)")
    );
}

#[tokio::test]
async fn a_rejected_transaction_keeps_the_outcome() {
    let server = server().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(412)
                .set_body_json(outcome("conflict", "entry 1: version mismatch")),
        )
        .mount(&server)
        .await;
    let mut tx = client(&server).transaction();
    tx.update_if_match(&patient_json("1", "2"), "2").unwrap();
    let err = tx.send().await.unwrap_err();
    assert!(err.is_precondition_failed());
    assert_eq!(
        err.operation_outcome().unwrap().summary(),
        "entry 1: version mismatch"
    );
}

#[tokio::test]
async fn invalid_entries_are_refused_while_building() {
    let server = server().await;
    let mut tx = client(&server).transaction();
    assert_eq!(
        tx.create(&json!({"id": "x"})).unwrap_err().kind(),
        ErrorKind::InvalidRequest
    );
    assert_eq!(
        tx.update(&json!({"resourceType": "Patient"}))
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidRequest
    );
    assert_eq!(
        tx.patch("Patient", "1", json!({"op": "add"}))
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidRequest
    );
    assert!(
        tx.delete_conditional("Patient", &SearchParams::new())
            .is_err()
    );
    assert!(tx.is_empty());
}

#[tokio::test]
async fn json_patch_entries_travel_as_binary() {
    let server = server().await;
    let mut tx = client(&server).transaction();
    let ops = json!([{"op": "replace", "path": "/active", "value": false}]);
    tx.patch("Patient", "1", &ops).unwrap();
    let bundle: Value = tx.to_bundle().unwrap();
    let binary = &bundle["entry"][0]["resource"];
    assert_eq!(binary["resourceType"], "Binary");
    assert_eq!(binary["contentType"], "application/json-patch+json");
    use base64::Engine as _;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(binary["data"].as_str().unwrap())
        .unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&decoded).unwrap(), ops);
    assert_eq!(
        bundle["entry"][0]["request"],
        json!({"method": "PATCH", "url": "Patient/1"})
    );
}
