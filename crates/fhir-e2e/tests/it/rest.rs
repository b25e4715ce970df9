//! fhir-core's interactions against Medplum (see sandbox/README.md for what it lacks).

use fhir_core::interactions::SearchMethod;
use fhir_core::{BearerToken, Client, Prefer, SearchParams, WriteBody};
use fhir_e2e::sandbox;
use futures::TryStreamExt as _;
use serde_json::{Value, json};

/// A client with a token that may do everything, or `None` when the sandbox is skipped.
async fn client() -> Option<Client> {
    let sandbox = sandbox()?;
    let token = sandbox.backend_token("system/*.cruds").await.unwrap();
    Some(
        Client::builder(sandbox.fhir_base_url())
            .auth(BearerToken::new(token).unwrap())
            .build()
            .unwrap(),
    )
}

/// A unique identifier value, so tests can share the server.
fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", rand_suffix())
}

fn rand_suffix() -> u128 {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    nanos ^ u128::from(std::process::id())
}

#[tokio::test]
async fn without_a_token_the_server_answers_401() {
    let Some(sandbox) = sandbox() else { return };
    let client = Client::new(sandbox.fhir_base_url()).unwrap();
    let err = client
        .read_json("Patient", "pat-0001")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_unauthorized(), "{err}");
    assert!(err.www_authenticate().unwrap().starts_with("Bearer"));
}

#[tokio::test]
async fn capabilities_and_read() {
    let Some(client) = client().await else { return };
    let metadata = client.capabilities::<Value>().await.unwrap();
    assert_eq!(metadata.resource()["fhirVersion"], "4.0.1");
    let patient = client
        .read_json("Patient", "pat-0001")
        .send()
        .await
        .unwrap();
    assert_eq!(patient.resource()["id"], "pat-0001");
    assert_eq!(patient.meta().version_id(), Some("1"));
    assert!(patient.meta().last_modified().is_some());
}

/// The identifier system of the sandbox's seeded patients: other tests never create such
/// patients, so paging over them is not disturbed by concurrent writes.
const SEED_MRN_SYSTEM: &str = "http://sandbox.fhir-smart.example/mrn";

#[tokio::test]
async fn paging_visits_as_many_patients_as_the_server_counts() {
    let Some(client) = client().await else { return };
    let seeded = || {
        client
            .search_json("Patient")
            .param("identifier", format!("{SEED_MRN_SYSTEM}|"))
    };
    let total = seeded().count(1).send().await.unwrap().total().unwrap();
    assert_eq!(total, 250, "the sandbox seeds 250 patients");

    let mut pages = seeded().count(40).pages();
    let (mut page_count, mut ids) = (0u64, Vec::new());
    while let Some(page) = pages.try_next().await.unwrap() {
        page_count += 1;
        ids.extend(
            page.resources()
                .unwrap()
                .iter()
                .map(|patient| patient["id"].as_str().unwrap().to_owned()),
        );
    }
    let unique: std::collections::BTreeSet<&String> = ids.iter().collect();
    assert_eq!(
        ids.len() as u64,
        total,
        "as many resources as the server's total"
    );
    assert_eq!(unique.len(), ids.len(), "no resource twice");
    assert_eq!(page_count, total.div_ceil(40));
}

#[tokio::test]
async fn search_by_get_and_by_post_agree() {
    let Some(client) = client().await else { return };
    let by_get = client
        .search_json("Observation")
        .params(SearchParams::new().with_token("code", Some("http://loinc.org"), "29463-7"))
        .param("subject", "Patient/pat-0001")
        .send()
        .await
        .unwrap();
    let by_post = client
        .search_json("Observation")
        .params(SearchParams::new().with_token("code", Some("http://loinc.org"), "29463-7"))
        .param("subject", "Patient/pat-0001")
        .method(SearchMethod::Post)
        .send()
        .await
        .unwrap();
    assert!(by_get.total().unwrap() > 0);
    assert_eq!(by_get.total(), by_post.total());
    let ids = |page: &fhir_core::Page<Value>| -> Vec<String> {
        page.resources()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(&by_get), ids(&by_post));
}

#[tokio::test]
async fn conditional_read_gets_304() {
    let Some(client) = client().await else { return };
    let current = client
        .read_json("Patient", "pat-0002")
        .send()
        .await
        .unwrap();
    let etag = current.meta().etag().unwrap().to_owned();
    let result = client
        .read_json("Patient", "pat-0002")
        .if_none_match(&etag)
        .send()
        .await
        .unwrap();
    assert!(result.is_not_modified());
}

#[tokio::test]
async fn conditional_create_update_with_if_match_patch_and_delete() {
    let Some(client) = client().await else { return };
    let mrn = unique("mrn");
    let patient = json!({"resourceType": "Patient", "identifier": [{"system": "urn:e2e", "value": mrn}],
                         "name": [{"family": "Endtoend"}]});
    let condition = SearchParams::new().with_token("identifier", Some("urn:e2e"), &mrn);

    let created = client
        .create(&patient)
        .if_none_exist(condition.clone())
        .send()
        .await
        .unwrap();
    assert!(created.created());
    let id = created.id().unwrap().to_owned();
    let version = created.version_id().unwrap().to_owned();
    let again = client
        .create(&patient)
        .if_none_exist(condition.clone())
        .send()
        .await
        .unwrap();
    assert!(!again.created(), "the existing patient is returned");
    assert_eq!(again.id(), Some(id.as_str()));

    let mut changed = created.resource().unwrap().clone();
    changed["active"] = json!(true);
    let updated = client
        .update(&changed)
        .if_match(&version)
        .send()
        .await
        .unwrap();
    let new_version = updated.version_id().unwrap().to_owned();
    assert_ne!(new_version, version);
    let err = client
        .update(&changed)
        .if_match(&version)
        .send()
        .await
        .unwrap_err();
    assert!(err.is_precondition_failed() || err.is_conflict(), "{err}");

    let patched = client
        .patch_json(
            "Patient",
            &id,
            json!([{"op": "add", "path": "/gender", "value": "female"}]),
        )
        .if_match(&new_version)
        .prefer(Prefer::Representation)
        .send()
        .await
        .unwrap();
    assert_eq!(patched.resource().unwrap()["gender"], "female");

    let mut conditional = changed.clone();
    conditional["birthDate"] = json!("1990-01-01");
    let by_search = client
        .update_conditional(&conditional, condition.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(by_search.id(), Some(id.as_str()));

    let history = client.history_json("Patient", &id).send().await.unwrap();
    assert_eq!(history.bundle_type(), Some("history"));
    assert!(
        history.entries().len() >= 4,
        "create, update, patch, conditional update"
    );

    client
        .delete_conditional_json("Patient", condition)
        .send()
        .await
        .unwrap();
    let err = client.read_json("Patient", &id).send().await.unwrap_err();
    // Medplum reads a deleted resource as 404, not 410 (sandbox/README.md).
    assert!(err.is_not_found() || err.is_gone(), "{err}");
}

#[tokio::test]
async fn prefer_minimal_returns_no_body() {
    let Some(client) = client().await else { return };
    let created = client
        .create(&json!({"resourceType": "Patient", "name": [{"family": "Minimal"}]}))
        .prefer(Prefer::Minimal)
        .send()
        .await
        .unwrap();
    assert!(matches!(created.body(), WriteBody::Empty));
    let id = created.id().expect("the id comes from Location");
    client.delete_json("Patient", id).send().await.unwrap();
}

#[tokio::test]
async fn transaction_with_urn_uuid_references_and_batch() {
    let Some(client) = client().await else { return };
    let mrn = unique("tx");
    let transaction = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:0f4d2c38-5a2c-4c69-9b51-6c1f0d3d9a01",
         "resource": {"resourceType": "Patient", "identifier": [{"system": "urn:e2e", "value": mrn}]},
         "request": {"method": "POST", "url": "Patient"}},
        {"resource": {"resourceType": "Observation", "status": "final",
                      "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
                      "subject": {"reference": "urn:uuid:0f4d2c38-5a2c-4c69-9b51-6c1f0d3d9a01"},
                      "valueQuantity": {"value": 64, "unit": "/min"}},
         "request": {"method": "POST", "url": "Observation"}}
    ]});
    let response = client
        .transaction_bundle(&transaction)
        .send()
        .await
        .unwrap();
    let entries = response.resource()["entry"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert!(
        entries[0]["response"]["status"]
            .as_str()
            .unwrap()
            .starts_with("201")
    );
    let patient_location = entries[0]["response"]["location"].as_str().unwrap();
    let patient_id = patient_location.split('/').nth_back(2).unwrap();
    let observations = client
        .search_json("Observation")
        .param("subject", format!("Patient/{patient_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        observations.total(),
        Some(1),
        "the urn:uuid reference was resolved"
    );

    let batch = json!({"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "GET", "url": format!("Patient/{patient_id}")}},
        {"request": {"method": "GET", "url": "Patient/does-not-exist"}}
    ]});
    let response = client.batch_bundle(&batch).send().await.unwrap();
    let entries = response.resource()["entry"].as_array().unwrap();
    assert!(
        entries[0]["response"]["status"]
            .as_str()
            .unwrap()
            .starts_with("200")
    );
    assert!(
        entries[1]["response"]["status"]
            .as_str()
            .unwrap()
            .starts_with("404")
    );
}

#[tokio::test]
async fn a_failed_transaction_is_a_typed_error_and_changes_nothing() {
    let Some(client) = client().await else { return };
    let mrn = unique("rollback");
    let transaction = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": {"resourceType": "Patient", "identifier": [{"system": "urn:e2e", "value": mrn}]},
         "request": {"method": "POST", "url": "Patient"}},
        {"resource": {"resourceType": "Patient", "id": "pat-0003"},
         "request": {"method": "PUT", "url": "Patient/pat-0003", "ifMatch": "W/\"999\""}}
    ]});
    let err = client
        .transaction_bundle(&transaction)
        .send()
        .await
        .unwrap_err();
    assert!(
        err.status().is_some_and(|status| status.is_client_error()),
        "{err}"
    );
    let found = client
        .search_json("Patient")
        .params(SearchParams::new().with_token("identifier", Some("urn:e2e"), &mrn))
        .send()
        .await
        .unwrap();
    assert_eq!(found.total(), Some(0), "the transaction was atomic");
}

#[tokio::test]
async fn transaction_builder_references_a_patient_created_in_the_same_bundle() {
    let Some(client) = client().await else { return };
    let mrn = unique("builder");
    let mut tx = client.transaction();
    let patient = tx
        .create_if_none_exist(
            &json!({"resourceType": "Patient", "identifier": [{"system": "urn:e2e", "value": mrn}]}),
            &SearchParams::new().with_token("identifier", Some("urn:e2e"), &mrn),
        )
        .unwrap();
    let observations: Vec<_> = (0..3)
        .map(|n| {
            tx.create(&json!({"resourceType": "Observation", "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
                "subject": {"reference": patient.reference()},
                "valueQuantity": {"value": 60 + n, "unit": "/min"}}))
                .unwrap()
        })
        .collect();
    let response = tx.send().await.unwrap();
    assert!(response.all_succeeded());
    let location = response.entry(&patient).unwrap().location().unwrap();
    let patient_id = location.split('/').nth_back(2).unwrap().to_owned();
    for observation in &observations {
        assert_eq!(response.entry(observation).unwrap().status().as_u16(), 201);
    }
    let found = client
        .search_json("Observation")
        .param("subject", format!("Patient/{patient_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(found.total(), Some(3));
}
