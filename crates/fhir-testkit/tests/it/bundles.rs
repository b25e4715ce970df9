//! batch and transaction through `fhir_core::Client`, with the typed models: references to
//! creates rewritten, all-or-nothing on failure, processing order, per-entry scopes, and the
//! response Bundle read back by `serde_json` as well as by the client.

use fhir_core::{BearerToken, Client, SearchParams};
use fhir_r4::codes::ObservationStatus;
use fhir_r4::prelude::*;
use fhir_r4::resources::{Observation, Patient};
use fhir_testkit::Sandbox;
use serde_json::{Value, json};

fn client(sandbox: &Sandbox, scope: &str) -> Client {
    Client::builder(&sandbox.fhir_base_url())
        .auth(BearerToken::new(sandbox.issue_access_token(scope)).unwrap())
        .build()
        .unwrap()
}

fn patient(family: &str) -> Patient {
    Patient {
        name: vec![HumanName::new(family, ["Ada"])].into(),
        ..Default::default()
    }
}

fn heart_rate(subject: &str) -> Observation {
    Observation {
        status: Some(ObservationStatus::Final.into()),
        code: Some(CodeableConcept::from(Coding::new("http://loinc.org", "8867-4")).into()),
        subject: Some(Reference::new(subject).into()),
        value: Some(Quantity::ucum(72, "/min").into()),
        ..Default::default()
    }
}

async fn search_total(client: &Client, kind: &str, params: SearchParams) -> u64 {
    let page = client
        .search_json(kind)
        .params(params)
        .send()
        .await
        .unwrap();
    page.total().unwrap()
}

#[tokio::test]
async fn a_transaction_creates_linked_resources_and_rewrites_their_references() {
    let sandbox = Sandbox::start().await;
    let client = client(&sandbox, "system/*.cruds");
    let mut tx = client.transaction();
    let created_patient = tx.create(&patient("Lovelace")).unwrap();
    let created_observation = tx.create(&heart_rate(created_patient.reference())).unwrap();
    assert!(created_patient.reference().starts_with("urn:uuid:"));
    let response = tx.send().await.unwrap();
    assert!(response.all_succeeded());

    let patient_entry = response.entry(&created_patient).unwrap();
    assert_eq!(patient_entry.status(), 201);
    assert_eq!(patient_entry.location_type(), Some("Patient"));
    let patient_id = patient_entry.location_id().unwrap().to_owned();
    assert_eq!(patient_entry.version_id(), Some("1"));
    assert!(patient_entry.last_modified().is_some());

    let observation_entry = response.entry(&created_observation).unwrap();
    let returned: Observation = observation_entry.resource().unwrap().unwrap();
    let expected = format!("Patient/{patient_id}");
    assert_eq!(
        returned
            .subject
            .as_ref()
            .and_then(|s| s.reference.as_ref())
            .and_then(|r| r.value())
            .map(String::as_str),
        Some(expected.as_str()),
        "the urn:uuid reference is rewritten to the assigned id"
    );
    // Stored that way too, as a later read shows.
    let observation_id = observation_entry.location_id().unwrap();
    let stored: Observation = client
        .read::<Observation>(observation_id)
        .send()
        .await
        .unwrap()
        .into_resource();
    assert_eq!(stored.subject, returned.subject);
    assert_eq!(
        search_total(
            &client,
            "Observation",
            SearchParams::new().with("subject", &expected)
        )
        .await,
        1
    );
}

#[tokio::test]
async fn a_failing_entry_rolls_back_the_whole_transaction_and_names_the_entry() {
    let sandbox = Sandbox::start().await;
    let client = client(&sandbox, "system/*.cruds");
    let before = sandbox.resource_counts();
    let current: Patient = client
        .read::<Patient>("pat-001")
        .send()
        .await
        .unwrap()
        .into_resource();

    let mut tx = client.transaction();
    tx.create(&patient("Rollback")).unwrap();
    tx.delete("Patient", "pat-002");
    let mut renamed = current.clone();
    renamed.name = vec![HumanName::new("Renamed", ["X"])].into();
    tx.update(&renamed).unwrap();
    // A stale version: this entry fails with 412, so nothing above may stay.
    tx.update_if_match(&renamed, "W/\"99\"").unwrap();
    let err = tx.send().await.unwrap_err();

    assert_eq!(
        err.status().map(|status| status.as_u16()),
        Some(400),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("Patient/pat-001 appears more than once"),
        "{text}"
    );

    // The same failure without the duplicate: the stale If-Match alone.
    let mut tx = client.transaction();
    tx.create(&patient("Rollback")).unwrap();
    tx.delete("Patient", "pat-002");
    tx.update_if_match(&renamed, "W/\"99\"").unwrap();
    let err = tx.send().await.unwrap_err();
    assert_eq!(
        err.status().map(|status| status.as_u16()),
        Some(412),
        "{err}"
    );
    let outcome = err
        .operation_outcome()
        .expect("the server's OperationOutcome");
    let text = format!("{outcome:?}");
    assert!(text.contains("entry 2 (PUT Patient/pat-001)"), "{text}");
    assert!(text.contains("Bundle.entry[2]"), "{text}");
    assert!(text.contains("If-Match"), "{text}");

    assert_eq!(sandbox.resource_counts(), before, "nothing was changed");
    assert_eq!(
        search_total(
            &client,
            "Patient",
            SearchParams::new().with("family", "Rollback")
        )
        .await,
        0
    );
    let still: Patient = client
        .read::<Patient>("pat-001")
        .send()
        .await
        .unwrap()
        .into_resource();
    assert_eq!(still, current, "the update before the failure was undone");
    client.read::<Patient>("pat-002").send().await.unwrap();
}

#[tokio::test]
async fn a_transaction_processes_deletes_creates_updates_then_reads() {
    let sandbox = Sandbox::start().await;
    let client = client(&sandbox, "system/*.cruds");
    let mut tx = client.transaction();
    // Listed first, performed last: the read sees the create.
    let search = tx.get("Patient?family=Babbage");
    let read = tx.get("Patient/pat-003");
    tx.create(&patient("Babbage")).unwrap();
    let mut renamed: Patient = client
        .read::<Patient>("pat-003")
        .send()
        .await
        .unwrap()
        .into_resource();
    renamed.name = vec![HumanName::new("Okafor-Updated", ["N"])].into();
    tx.update(&renamed).unwrap();
    let response = tx.send().await.unwrap();
    assert!(response.all_succeeded());
    let bundle: Value = response
        .entry(&search)
        .unwrap()
        .resource()
        .unwrap()
        .unwrap();
    assert_eq!(bundle["total"], 1, "{bundle}");
    let read: Patient = response.entry(&read).unwrap().resource().unwrap().unwrap();
    assert_eq!(
        read.name[0].family.as_ref().unwrap().to_string(),
        "Okafor-Updated"
    );
}

#[tokio::test]
async fn a_conditional_create_that_finds_its_resource_links_to_it() {
    let sandbox = Sandbox::start().await;
    let client = client(&sandbox, "system/*.cruds");
    let before = sandbox.resource_counts();
    let mut tx = client.transaction();
    let existing = tx
        .create_if_none_exist(
            &patient("Chalmers"),
            &SearchParams::new().with("family", "Chalmers"),
        )
        .unwrap();
    let observation = tx.create(&heart_rate(existing.reference())).unwrap();
    let response = tx.send().await.unwrap();
    assert_eq!(response.entry(&existing).unwrap().status(), 200);
    assert_eq!(
        response.entry(&existing).unwrap().location_id(),
        Some("pat-001")
    );
    let created: Observation = response
        .entry(&observation)
        .unwrap()
        .resource()
        .unwrap()
        .unwrap();
    assert_eq!(
        created.subject.unwrap().reference.unwrap().to_string(),
        "Patient/pat-001"
    );
    let after = sandbox.resource_counts();
    assert_eq!(after["Patient"], before["Patient"]);
    assert_eq!(after["Observation"], before["Observation"] + 1);
}

#[tokio::test]
async fn batch_entries_succeed_or_fail_on_their_own() {
    let sandbox = Sandbox::start().await;
    // May read Patients and create Observations, nothing else.
    let client = client(&sandbox, "system/Patient.rs system/Observation.c");
    let mut batch = client.batch();
    let read = batch.get("Patient/pat-001");
    let missing = batch.get("Patient/does-not-exist");
    let created = batch.create(&heart_rate("Patient/pat-001")).unwrap();
    let refused = batch.create(&patient("NotAllowed")).unwrap();
    let deleted = batch.delete("Patient", "pat-002");
    let response = batch.send().await.unwrap();

    assert!(!response.all_succeeded());
    let status = |handle| response.entry(handle).unwrap().status().as_u16();
    assert_eq!(status(&read), 200);
    assert_eq!(status(&missing), 404);
    assert_eq!(status(&created), 201);
    assert_eq!(status(&refused), 403);
    assert_eq!(status(&deleted), 403);
    let outcome = response.entry(&missing).unwrap().outcome().unwrap();
    assert!(format!("{outcome:?}").contains("Patient/does-not-exist"));
    let read: Patient = response.entry(&read).unwrap().resource().unwrap().unwrap();
    assert_eq!(read.id.unwrap().to_string(), "pat-001");
    // The refused entries changed nothing.
    let reader = self::client(&sandbox, "system/*.rs");
    assert_eq!(
        search_total(
            &reader,
            "Patient",
            SearchParams::new().with("family", "NotAllowed")
        )
        .await,
        0
    );
    reader.read::<Patient>("pat-002").send().await.unwrap();
}

#[tokio::test]
async fn a_transaction_with_a_refused_entry_is_refused_whole() {
    let sandbox = Sandbox::start().await;
    let client = client(&sandbox, "system/Observation.c");
    let before = sandbox.resource_counts();
    let mut tx = client.transaction();
    tx.create(&heart_rate("Patient/pat-001")).unwrap();
    tx.delete("Patient", "pat-002");
    let err = tx.send().await.unwrap_err();
    assert_eq!(
        err.status().map(|status| status.as_u16()),
        Some(403),
        "{err}"
    );
    assert_eq!(sandbox.resource_counts(), before);
}

/// The response on the wire, read by `serde_json` rather than by the client; and malformed
/// Bundles, which get a 400 with an OperationOutcome.
#[tokio::test]
async fn the_wire_format_follows_the_spec_and_malformed_bundles_are_refused() {
    let sandbox = Sandbox::start().await;
    let token = sandbox.issue_access_token("system/*.cruds");
    let http = reqwest::Client::new();
    let post = |body: Value| {
        http.post(sandbox.fhir_base_url())
            .bearer_auth(&token)
            .header("content-type", "application/fhir+json")
            .header("prefer", "return=minimal")
            .body(body.to_string())
            .send()
    };
    let response = post(json!({
        "resourceType": "Bundle", "type": "transaction",
        "entry": [
            {"fullUrl": "urn:uuid:0b5d2c1e-0000-4000-8000-000000000001",
             "resource": {"resourceType": "Patient", "name": [{"family": "Wire"}]},
             "request": {"method": "POST", "url": "Patient"}},
            {"resource": {"resourceType": "Observation", "status": "final",
                          "code": {"text": "wire"},
                          "subject": {"reference": "urn:uuid:0b5d2c1e-0000-4000-8000-000000000001"}},
             "request": {"method": "POST", "url": "Observation"}},
            {"request": {"method": "GET",
                         "url": "Observation?subject=urn:uuid:0b5d2c1e-0000-4000-8000-000000000001"}}
        ]
    }))
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    let bundle: Value = response.json().await.unwrap();
    assert_eq!(bundle["type"], "transaction-response");
    let created = &bundle["entry"][0];
    assert_eq!(created["response"]["status"], "201 Created");
    assert!(
        created.get("resource").is_none(),
        "return=minimal: {created}"
    );
    let location = created["response"]["location"].as_str().unwrap();
    assert!(
        location.contains("/Patient/") && location.ends_with("/_history/1"),
        "{location}"
    );
    assert_eq!(created["response"]["etag"], "W/\"1\"");
    // The search value naming the create was rewritten too: a search on an id, not a urn.
    assert_eq!(bundle["entry"][2]["response"]["status"], "200 OK");
    assert_eq!(bundle["entry"][2]["resource"]["total"], 1, "{bundle}");

    for (body, needle) in [
        (json!({"resourceType": "Patient"}), "must be a Bundle"),
        (
            json!({"resourceType": "Bundle", "type": "collection"}),
            "not collection",
        ),
        (
            json!({"resourceType": "Bundle", "type": "batch", "entry": {}}),
            "must be an array",
        ),
        (
            json!({"resourceType": "Bundle", "type": "transaction",
                   "entry": [{"request": {"method": "FETCH", "url": "Patient"}}]}),
            "entry 0",
        ),
        (
            json!({"resourceType": "Bundle", "type": "transaction",
                   "entry": [{"request": {"method": "GET", "url": "https://elsewhere.example/Patient"}}]}),
            "not on this server",
        ),
    ] {
        let response = post(body.clone()).await.unwrap();
        assert_eq!(response.status(), 400, "{body}");
        let outcome: Value = response.json().await.unwrap();
        assert_eq!(outcome["resourceType"], "OperationOutcome");
        let diagnostics = outcome["issue"][0]["diagnostics"].as_str().unwrap();
        assert!(diagnostics.contains(needle), "{body}: {diagnostics}");
    }
    // A batch answers a malformed entry on its own.
    let response = post(json!({"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "GET"}},
        {"request": {"method": "GET", "url": "Patient/pat-001"}}
    ]}))
    .await
    .unwrap();
    let bundle: Value = response.json().await.unwrap();
    assert_eq!(bundle["type"], "batch-response");
    assert_eq!(bundle["entry"][0]["response"]["status"], "400 Bad Request");
    assert_eq!(bundle["entry"][1]["response"]["status"], "200 OK");
}

/// What a careless or hostile client could try: ids it chose itself that the sandbox would
/// assign next, a search by POST under a create-only token, a page size past any limit.
#[tokio::test]
async fn client_chosen_ids_post_searches_and_huge_pages_are_handled_safely() {
    let sandbox = Sandbox::start().await;
    let token = sandbox.issue_access_token("system/*.cruds");
    let http = reqwest::Client::new();
    let base = sandbox.fhir_base_url();
    let send = |request: reqwest::RequestBuilder, token: &str| {
        request
            .bearer_auth(token)
            .header("content-type", "application/fhir+json")
            .send()
    };

    // The client takes the ids the sandbox would assign next, by PUT and within a transaction;
    // every create still gets an id of its own, and nothing is overwritten.
    let put = send(
        http.put(format!("{base}/Patient/sbx-1"))
            .body(json!({"resourceType": "Patient", "id": "sbx-1"}).to_string()),
        &token,
    )
    .await
    .unwrap();
    assert_eq!(put.status(), 201);
    let bundle = json!({
        "resourceType": "Bundle", "type": "transaction",
        "entry": [
            {"fullUrl": "urn:uuid:0b5d2c1e-0000-4000-8000-00000000000a",
             "resource": {"resourceType": "Patient", "name": [{"family": "Created"}]},
             "request": {"method": "POST", "url": "Patient"}},
            {"resource": {"resourceType": "Patient", "id": "sbx-2", "name": [{"family": "Put"}]},
             "request": {"method": "PUT", "url": "Patient/sbx-2"}},
        ]
    });
    let response = send(http.post(&base).body(bundle.to_string()), &token)
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let response: Value = response.json().await.unwrap();
    let created = response["entry"][0]["response"]["location"]
        .as_str()
        .unwrap();
    assert_eq!(response["entry"][0]["response"]["status"], "201 Created");
    assert!(
        !created.contains("/Patient/sbx-1/") && !created.contains("/Patient/sbx-2/"),
        "{created}"
    );
    let reader = client(&sandbox, "system/Patient.rs");
    let put_one: Patient = reader
        .read::<Patient>("sbx-1")
        .send()
        .await
        .unwrap()
        .into_resource();
    assert!(put_one.name.is_empty(), "the client's sbx-1 is untouched");
    let put_two: Patient = reader
        .read::<Patient>("sbx-2")
        .send()
        .await
        .unwrap()
        .into_resource();
    assert_eq!(
        put_two.meta.unwrap().version_id.unwrap().value().unwrap(),
        "1"
    );

    // A search by POST reads: a create-only token may not, a search token may.
    let create_only = sandbox.issue_access_token("system/Patient.c");
    let searcher = sandbox.issue_access_token("system/Patient.s");
    for (token, status) in [(&create_only, 403), (&searcher, 200)] {
        let response = http
            .post(format!("{base}/Patient/_search"))
            .bearer_auth(token)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("_count=1")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status);
    }
    let batch = json!({"resourceType": "Bundle", "type": "batch",
                       "entry": [{"request": {"method": "POST", "url": "Patient/_search"}}]});
    let response: Value = send(http.post(&base).body(batch.to_string()), &create_only)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        response["entry"][0]["response"]["status"], "403 Forbidden",
        "{response}"
    );

    // A page size and offset past any limit: no overflow, and the page the sandbox does
    // serve (at most 1,000) links to the next when there is more.
    for _ in 0..3 {
        send(
            http.post(format!("{base}/Patient"))
                .body(json!({"resourceType": "Patient"}).to_string()),
            &token,
        )
        .await
        .unwrap();
    }
    let huge = format!("{base}/Patient?_count={}&_offset=1", usize::MAX);
    let page: Value = send(http.get(huge), &token)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["resourceType"], "Bundle", "{page}");
    assert!(
        page["entry"]
            .as_array()
            .is_some_and(|entries| !entries.is_empty())
    );
}
