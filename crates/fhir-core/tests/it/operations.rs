//! operations at system, type and instance level, by GET and POST.

use fhir_core::ErrorKind;
use serde_json::{Value, json};
use wiremock::Mock;
use wiremock::matchers::method;

use crate::support::*;

#[tokio::test]
async fn operations_by_get_at_every_level() {
    let server = server().await;
    Mock::given(method("GET"))
        .respond_with(fhir_json(
            &json!({"resourceType": "Bundle", "type": "searchset"}),
        ))
        .mount(&server)
        .await;
    let client = client(&server);

    client
        .operation("$everything")
        .instance("Patient", "p1")
        .param("_count", "50")
        .get::<Value>()
        .await
        .unwrap();
    client
        .operation("everything")
        .on_type("Patient")
        .get::<Value>()
        .await
        .unwrap();
    client.operation("$meta").get::<Value>().await.unwrap();

    let paths: Vec<String> = received(&server).await.iter().map(path_and_query).collect();
    assert_eq!(
        paths,
        [
            "/fhir/Patient/p1/$everything?_count=50",
            "/fhir/Patient/$everything",
            "/fhir/$meta"
        ]
    );
}

#[tokio::test]
async fn operations_by_post_send_parameters() {
    let server = server().await;
    Mock::given(method("POST"))
        .respond_with(fhir_json(
            &json!({"resourceType": "OperationOutcome", "issue": []}),
        ))
        .mount(&server)
        .await;
    let parameters = json!({"resourceType": "Parameters", "parameter": [
        {"name": "resource", "resource": {"resourceType": "Patient", "birthDate": "2020-13-01"}}
    ]});

    let response = client(&server)
        .operation("$validate")
        .on_type("Patient")
        .post::<Value, Value>(&parameters)
        .await
        .unwrap();

    assert_eq!(response.resource()["resourceType"], "OperationOutcome");
    let request = only_request(&server).await;
    assert_eq!(path_and_query(&request), "/fhir/Patient/$validate");
    assert_eq!(
        header(&request, "content-type"),
        Some("application/fhir+json")
    );
    assert_eq!(json_body(&request), parameters);
}

#[tokio::test]
async fn invalid_operation_names_are_refused() {
    let server = server().await;
    for name in ["$", "", "$a/b", "x?y"] {
        let err = client(&server)
            .operation(name)
            .get::<Value>()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{name:?}");
    }
    assert!(received(&server).await.is_empty());
}
