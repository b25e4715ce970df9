//! history at instance, type and system level, and batch / transaction.

use fhir_core::ErrorKind;
use futures::TryStreamExt as _;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

use crate::support::*;

fn history_bundle(next: Option<&str>) -> Value {
    let mut bundle = json!({"resourceType": "Bundle", "type": "history", "entry": [
        {"fullUrl": "Patient/1", "resource": patient_json("1", "2"),
         "request": {"method": "PUT", "url": "Patient/1"}, "response": {"status": "200 OK", "etag": "W/\"2\""}},
        {"fullUrl": "Patient/1",
         "request": {"method": "DELETE", "url": "Patient/1"}, "response": {"status": "204 No Content"}}
    ]});
    if let Some(next) = next {
        bundle["link"] = json!([{"relation": "next", "url": next}]);
    }
    bundle
}

#[tokio::test]
async fn instance_type_and_system_history_paths() {
    let server = server().await;
    Mock::given(method("GET"))
        .respond_with(fhir_json(&history_bundle(None)))
        .mount(&server)
        .await;
    let client = client(&server);

    let page = client
        .history::<Patient>("1")
        .since("2024-01-01T00:00:00Z")
        .count(10)
        .send()
        .await
        .unwrap();
    assert_eq!(page.bundle_type(), Some("history"));
    assert_eq!(
        page.resources().unwrap().len(),
        1,
        "the deleted version has no resource"
    );
    assert_eq!(
        page.entries()[1].response().unwrap().status,
        "204 No Content"
    );
    client
        .history_type::<Patient>()
        .at("2024-01")
        .send()
        .await
        .unwrap();
    client.history_system().count(5).send().await.unwrap();
    client
        .history_type_json("Observation")
        .send()
        .await
        .unwrap();

    let paths: Vec<String> = received(&server).await.iter().map(path_and_query).collect();
    assert_eq!(
        paths,
        [
            "/fhir/Patient/1/_history?_since=2024-01-01T00:00:00Z&_count=10",
            "/fhir/Patient/_history?_at=2024-01",
            "/fhir/_history?_count=5",
            "/fhir/Observation/_history",
        ]
    );
}

#[tokio::test]
async fn history_is_paged() {
    let server = server().await;
    Mock::given(path("/fhir/Patient/1/_history"))
        .and(query_param("_count", "2"))
        .respond_with(fhir_json(&history_bundle(Some(
            "Patient/1/_history?page=2",
        ))))
        .mount(&server)
        .await;
    Mock::given(path("/fhir/Patient/1/_history"))
        .and(query_param("page", "2"))
        .respond_with(fhir_json(&history_bundle(None)))
        .mount(&server)
        .await;
    let entries: Vec<_> = client(&server)
        .history_json("Patient", "1")
        .count(2)
        .entries()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(entries.len(), 4);
}

#[tokio::test]
async fn batch_and_transaction_post_the_bundle_to_the_base() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/fhir"))
        .respond_with(fhir_json(
            &json!({"resourceType": "Bundle", "type": "transaction-response", "entry": [
                {"response": {"status": "201 Created", "location": "Patient/9/_history/1"}}
            ]}),
        ))
        .mount(&server)
        .await;
    let bundle = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a", "resource": {"resourceType": "Patient"},
         "request": {"method": "POST", "url": "Patient"}}
    ]});
    let client = client(&server);

    let response = client.transaction_bundle(&bundle).send().await.unwrap();
    assert_eq!(
        response.resource()["entry"][0]["response"]["status"],
        "201 Created"
    );
    let mut batch = bundle.clone();
    batch["type"] = json!("batch");
    client.batch_bundle(&batch).send().await.unwrap();

    let requests = received(&server).await;
    assert_eq!(requests.len(), 2);
    assert_eq!(path_and_query(&requests[0]), "/fhir");
    assert_eq!(
        header(&requests[0], "content-type"),
        Some("application/fhir+json")
    );
    assert_eq!(json_body(&requests[0]), bundle);
    assert_eq!(json_body(&requests[1]), batch);
}

#[tokio::test]
async fn a_failed_transaction_keeps_the_outcome_and_is_not_retried() {
    let server = server().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).set_body_json(outcome("transient", "try later")))
        .mount(&server)
        .await;
    let bundle = json!({"resourceType": "Bundle", "type": "transaction"});
    let err = client(&server)
        .transaction_bundle(&bundle)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(err.operation_outcome().unwrap().summary(), "try later");
    assert_eq!(
        received(&server).await.len(),
        1,
        "a transaction may have been applied: no blind retry"
    );

    let err = client(&server)
        .transaction_bundle(&patient_json("1", "1"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
}
