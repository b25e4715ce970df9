//! The FHIR API through `fhir_core::Client`: auth, scopes, CRUD, paging, injected failures.

use std::time::Duration;

use fhir_core::{BearerToken, Client, RetryPolicy, SearchParams};
use fhir_testkit::{Failure, Sandbox};
use futures::TryStreamExt as _;
use serde_json::json;

fn client(sandbox: &Sandbox, scope: &str) -> Client {
    Client::builder(&sandbox.fhir_base_url())
        .auth(BearerToken::new(sandbox.issue_access_token(scope)).unwrap())
        .retry_policy(RetryPolicy::default().initial_backoff(Duration::from_millis(1)))
        .build()
        .unwrap()
}

#[tokio::test]
async fn discovery_documents_are_served() {
    let sandbox = Sandbox::start().await;
    let http = reqwest::Client::new();
    let config: serde_json::Value = http
        .get(format!(
            "{}/.well-known/smart-configuration",
            sandbox.fhir_base_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(config["token_endpoint"], sandbox.token_endpoint());
    assert!(
        config["capabilities"]
            .as_array()
            .unwrap()
            .contains(&json!("client-confidential-asymmetric"))
    );
    let metadata = client(&sandbox, "")
        .capabilities::<serde_json::Value>()
        .await
        .unwrap();
    let extension = &metadata.resource()["rest"][0]["security"]["extension"][0];
    assert_eq!(
        extension["extension"][1]["valueUri"],
        sandbox.token_endpoint()
    );
}

#[tokio::test]
async fn requests_need_a_valid_token_with_the_right_scope() {
    let sandbox = Sandbox::start().await;
    let anonymous = Client::new(&sandbox.fhir_base_url()).unwrap();
    let err = anonymous
        .read_json("Patient", "pat-001")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_unauthorized());
    assert!(err.www_authenticate().unwrap().contains("invalid_token"));

    let reader = client(&sandbox, "system/Patient.read");
    reader.read_json("Patient", "pat-001").send().await.unwrap();
    let err = reader
        .create(&json!({"resourceType": "Patient"}))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_forbidden());
    let err = reader
        .read_json("Observation", "obs-001-1-1")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_forbidden());
}

#[tokio::test]
async fn crud_and_conditional_interactions() {
    let sandbox = Sandbox::builder().empty().start().await;
    let client = client(&sandbox, "system/*.cruds");
    let patient =
        json!({"resourceType": "Patient", "identifier": [{"system": "urn:mrn", "value": "7"}]});
    let condition = SearchParams::new().with_token("identifier", Some("urn:mrn"), "7");

    let created = client
        .create(&patient)
        .if_none_exist(condition.clone())
        .send()
        .await
        .unwrap();
    assert!(created.created());
    let id = created.id().unwrap().to_owned();
    let again = client
        .create(&patient)
        .if_none_exist(condition)
        .send()
        .await
        .unwrap();
    assert!(!again.created());
    assert_eq!(again.id(), Some(id.as_str()));

    let mut current = client
        .read_json("Patient", &id)
        .send()
        .await
        .unwrap()
        .into_resource();
    current["active"] = json!(true);
    let updated = client.update(&current).if_match("1").send().await.unwrap();
    assert_eq!(updated.version_id(), Some("2"));
    let err = client
        .update(&current)
        .if_match("1")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_precondition_failed());

    client.delete_json("Patient", &id).send().await.unwrap();
    assert!(
        client
            .read_json("Patient", &id)
            .send()
            .await
            .unwrap_err()
            .is_gone()
    );
    let first = client.vread_json("Patient", &id, "1").send().await.unwrap();
    assert_eq!(first.resource()["identifier"][0]["value"], "7");
}

#[tokio::test]
async fn paging_visits_every_match_once() {
    let sandbox = Sandbox::start().await;
    let ids: Vec<String> = client(&sandbox, "system/*.rs")
        .search_json("Observation")
        .param("code", "http://loinc.org|8867-4")
        .count(3)
        .resources()
        .map_ok(|resource| resource["id"].as_str().unwrap().to_owned())
        .try_collect()
        .await
        .unwrap();
    let unique: std::collections::BTreeSet<_> = ids.iter().collect();
    assert_eq!(ids.len(), unique.len());
    assert_eq!(ids.len(), 20, "20 heart-rate observations in the seed data");
}

#[tokio::test]
async fn injected_failures() {
    let sandbox = Sandbox::start().await;
    let client = client(&sandbox, "system/*.rs");

    sandbox.inject(Failure::TooManyRequests {
        retry_after_secs: 0,
        times: 2,
    });
    client.read_json("Patient", "pat-001").send().await.unwrap();

    sandbox.inject(Failure::ServerError {
        status: 500,
        times: 1,
    });
    let err = client
        .read_json("Patient", "pat-001")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));

    sandbox.inject(Failure::MalformedResponse { times: 1 });
    let err = client.search_json("Patient").send().await.unwrap_err();
    assert!(err.is_decode());

    sandbox.inject(Failure::ExpireAccessTokens);
    let err = client
        .read_json("Patient", "pat-001")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_unauthorized());
}
