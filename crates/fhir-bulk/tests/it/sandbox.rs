//! fhir-bulk against fhir-testkit's in-process export: a whole server rather than scripted
//! answers, with its failure injection (transient status errors, absurd Retry-After, files cut
//! off mid-download, expired files) and its storage origin that refuses tokens.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use fhir_bulk::{BulkClient, BulkConfig, BulkError, Event, ExportRequest, Handling, Record};
use fhir_testkit::{ExportRequestKind, Failure, Sandbox, SandboxBuilder};
use futures::TryStreamExt as _;
use serde_json::{Value, json};

use crate::support::FakeTimer;

const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

struct Harness {
    sandbox: Sandbox,
    bulk: BulkClient,
    timer: FakeTimer,
    events: std::sync::Arc<std::sync::Mutex<Vec<Event>>>,
}

async fn harness(builder: SandboxBuilder) -> Harness {
    let sandbox = builder.start().await;
    let token = sandbox.issue_access_token("system/*.rs system/Group.cu");
    let timer = FakeTimer::default();
    let client = fhir_core::Client::builder(&sandbox.fhir_base_url())
        .auth(fhir_core::BearerToken::new(token).unwrap())
        .timer(timer.clone())
        .build()
        .unwrap();
    let events = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let recorder = std::sync::Arc::clone(&events);
    let config = BulkConfig::new()
        .retry_after_range(Duration::from_secs(1), MAX_RETRY_AFTER)
        .timer(timer.clone())
        .on_event(move |event| recorder.lock().unwrap().push(event.clone()));
    Harness {
        sandbox,
        bulk: BulkClient::with_config(client, config),
        timer,
        events,
    }
}

/// Every record of a finished export, as (resource type, id) per output type, plus outcomes.
async fn collect(
    bulk: &BulkClient,
    manifest: &fhir_bulk::Manifest,
) -> Result<Collected, BulkError> {
    let mut collected = Collected::default();
    let mut records = bulk.records::<Value>(manifest);
    while let Some(record) = records.try_next().await? {
        match record {
            Record::Resource { resource, .. } => {
                let kind = resource["resourceType"].as_str().unwrap().to_owned();
                let id = resource["id"].as_str().unwrap().to_owned();
                assert!(
                    collected.ids.insert((kind.clone(), id.clone())),
                    "{kind}/{id} delivered twice"
                );
                *collected.by_type.entry(kind).or_default() += 1;
                collected.resources.push(resource);
            }
            Record::Outcome { outcome, .. } => collected.outcomes.push(outcome),
            other => panic!("unexpected record {other:?}"),
        }
    }
    Ok(collected)
}

#[derive(Default)]
struct Collected {
    by_type: BTreeMap<String, usize>,
    ids: BTreeSet<(String, String)>,
    resources: Vec<Value>,
    outcomes: Vec<fhir_core::OperationOutcome>,
}

#[tokio::test]
async fn a_system_export_delivers_every_stored_resource_exactly_once() {
    let h = harness(Sandbox::builder().export_polls(2)).await;
    let job = h.bulk.kick_off(&ExportRequest::system()).await.unwrap();
    let manifest = job.wait().await.unwrap();
    assert!(manifest.requires_access_token);
    // 100 Observations at 50 lines per file: two files, each with its count.
    let observation_files = manifest
        .output
        .iter()
        .filter(|entry| entry.resource_type == "Observation")
        .count();
    assert_eq!(observation_files, 2);

    let collected = collect(&h.bulk, &manifest).await.unwrap();
    let stored: BTreeMap<String, usize> = h.sandbox.resource_counts().into_iter().collect();
    assert_eq!(collected.by_type, stored);
    assert!(collected.outcomes.is_empty());

    let progress: Vec<String> = h
        .events
        .lock()
        .unwrap()
        .iter()
        .filter_map(|event| match event {
            Event::Polled { progress, .. } => progress.clone(),
            _ => None,
        })
        .collect();
    assert_eq!(progress, ["0% exported", "33% exported"]);
    // The sandbox's Retry-After: 1, honoured (within the default clamp).
    assert_eq!(
        h.timer.sleeps(),
        [Duration::from_secs(1), Duration::from_secs(1)]
    );

    let requests = h.sandbox.export_requests();
    let kick_off = &requests[0];
    assert_eq!(kick_off.kind, ExportRequestKind::KickOff);
    assert_eq!(kick_off.accept.as_deref(), Some("application/fhir+json"));
    for request in &requests {
        assert!(
            request.authorization,
            "{request:?} lacked the token the files require"
        );
        if request.kind == ExportRequestKind::Status {
            assert_eq!(request.accept.as_deref(), Some("application/json"));
        }
    }
    assert_eq!(
        requests
            .iter()
            .filter(|request| request.kind == ExportRequestKind::File)
            .count(),
        manifest.output.len()
    );
}

#[tokio::test]
async fn files_on_a_storage_origin_never_get_the_token() {
    let h = harness(Sandbox::builder().export_requires_access_token(false)).await;
    let job = h
        .bulk
        .kick_off(&ExportRequest::system().types(["Patient", "Observation"]))
        .await
        .unwrap();
    let manifest = job.wait().await.unwrap();
    assert!(!manifest.requires_access_token);
    assert!(
        manifest
            .output
            .iter()
            .all(|entry| entry.url.as_str().starts_with(&h.sandbox.storage_url()))
    );

    // The storage origin answers 400 to any request that carries a token.
    let collected = collect(&h.bulk, &manifest).await.unwrap();
    assert_eq!(
        collected.by_type,
        BTreeMap::from([("Observation".to_owned(), 100), ("Patient".to_owned(), 20)])
    );
    let files: Vec<_> = h
        .sandbox
        .export_requests()
        .into_iter()
        .filter(|request| request.kind == ExportRequestKind::File)
        .collect();
    assert_eq!(files.len(), 3);
    assert!(files.iter().all(|request| !request.authorization));
}

#[tokio::test]
async fn group_and_patient_exports_keep_to_the_patients_asked_for() {
    let h = harness(Sandbox::builder()).await;
    let group = json!({"resourceType": "Group", "id": "cohort", "type": "person", "actual": true,
        "member": [{"entity": {"reference": "Patient/pat-001"}}, {"entity": {"reference": "Patient/pat-002"}}]});
    h.bulk.client().update(&group).send().await.unwrap();

    let manifest = h
        .bulk
        .kick_off(&ExportRequest::group("cohort"))
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    let collected = collect(&h.bulk, &manifest).await.unwrap();
    assert_eq!(collected.by_type.get("Patient"), Some(&2));
    assert!(
        !collected.by_type.contains_key("Practitioner"),
        "not in the Patient compartment"
    );
    for resource in &collected.resources {
        let patient = match resource["resourceType"].as_str() {
            Some("Patient") => format!("Patient/{}", resource["id"].as_str().unwrap()),
            _ => resource["subject"]["reference"]
                .as_str()
                .unwrap()
                .to_owned(),
        };
        assert!(
            ["Patient/pat-001", "Patient/pat-002"].contains(&patient.as_str()),
            "{patient}"
        );
    }

    // `patient` forces a POST with a Parameters body; `_type` narrows it.
    let request = ExportRequest::patient()
        .patient_reference("Patient/pat-003")
        .types(["Observation"]);
    let manifest = h
        .bulk
        .kick_off(&request)
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    let collected = collect(&h.bulk, &manifest).await.unwrap();
    assert_eq!(
        collected.by_type.keys().collect::<Vec<_>>(),
        ["Observation"]
    );
    assert!(
        collected
            .resources
            .iter()
            .all(|resource| resource["subject"]["reference"] == "Patient/pat-003")
    );
    let kick_off = h
        .sandbox
        .export_requests()
        .into_iter()
        .rfind(|request| request.kind == ExportRequestKind::KickOff)
        .unwrap();
    assert_eq!(kick_off.method, "POST");
}

#[tokio::test]
async fn type_filters_and_elements_apply_and_what_was_ignored_comes_back_as_outcomes() {
    let h = harness(Sandbox::builder()).await;
    let request = ExportRequest::system()
        .types(["Observation"])
        .type_filter("Observation?code=http://loinc.org|8867-4")
        .elements(["Observation.code"])
        .organize_output_by("Patient");
    let manifest = h
        .bulk
        .kick_off(&request)
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    let collected = collect(&h.bulk, &manifest).await.unwrap();
    let heart_rates = collected.by_type["Observation"];
    assert!(
        heart_rates > 0 && heart_rates < 100,
        "{heart_rates} heart rates"
    );
    for resource in &collected.resources {
        assert_eq!(resource["code"]["coding"][0]["code"], "8867-4");
        assert!(
            resource.get("valueQuantity").is_none(),
            "_elements kept only code"
        );
        assert_eq!(resource["meta"]["tag"][0]["code"], "SUBSETTED");
    }
    let ignored: Vec<String> = collected
        .outcomes
        .iter()
        .flat_map(|outcome| {
            outcome
                .issues()
                .iter()
                .filter_map(|issue| issue.diagnostics.clone())
        })
        .collect();
    assert_eq!(
        ignored,
        ["the sandbox ignored the parameter `organizeOutputBy`"]
    );

    // The same request under handling=strict is refused at kick-off, with the outcome.
    let err = h
        .bulk
        .kick_off(&request.handling(Handling::Strict))
        .await
        .unwrap_err();
    let BulkError::KickOffRefused(source) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(source.status().map(|status| status.as_u16()), Some(400));
    let text = source.operation_outcome().unwrap().issues()[0]
        .diagnostics
        .clone()
        .unwrap();
    assert!(text.contains("organizeOutputBy"), "{text}");
}

#[tokio::test]
async fn absurd_retry_after_and_transient_errors_are_clamped_and_retried() {
    let h = harness(Sandbox::builder().export_polls(0)).await;
    let job = h
        .bulk
        .kick_off(&ExportRequest::system().types(["Patient"]))
        .await
        .unwrap();
    // An epoch in milliseconds, as one reference server sends, then a whole day.
    h.sandbox.inject(Failure::ExportTooManyRequests {
        retry_after: "1733000000000".into(),
        times: 1,
    });
    h.sandbox.inject(Failure::ExportTooManyRequests {
        retry_after: "86400".into(),
        times: 1,
    });
    h.sandbox.inject(Failure::ExportStatusError {
        status: 503,
        times: 2,
    });
    let manifest = job.wait().await.unwrap();
    assert_eq!(manifest.output.len(), 1);
    let sleeps = h.timer.sleeps();
    assert_eq!(sleeps.len(), 4, "{sleeps:?}");
    let max = MAX_RETRY_AFTER;
    assert_eq!(
        &sleeps[..2],
        [max, max],
        "absurd Retry-After values wait the configured maximum"
    );
    assert!(sleeps.iter().all(|sleep| *sleep <= max));
    let retries = h
        .events
        .lock()
        .unwrap()
        .iter()
        .filter(|event| matches!(event, Event::Retry { .. }))
        .count();
    assert_eq!(retries, 4);
}

#[tokio::test]
async fn a_download_cut_off_mid_file_is_resumed_with_range_and_loses_nothing() {
    let h = harness(Sandbox::builder().export_polls(0)).await;
    let manifest = h
        .bulk
        .kick_off(&ExportRequest::system().types(["Observation"]))
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    h.sandbox
        .inject(Failure::TruncateExportDownloads { times: 2 });
    let collected = collect(&h.bulk, &manifest).await.unwrap();
    assert_eq!(collected.by_type["Observation"], 100);
    let ranges: Vec<String> = h
        .sandbox
        .export_requests()
        .into_iter()
        .filter_map(|request| request.range)
        .collect();
    assert_eq!(
        ranges.len(),
        2,
        "each cut-off file resumed once: {ranges:?}"
    );
    assert!(
        ranges
            .iter()
            .all(|range| range.starts_with("bytes=") && range != "bytes=0-"),
        "{ranges:?}"
    );
}

#[tokio::test]
async fn expired_files_and_cancelled_jobs_are_typed_errors() {
    let h = harness(Sandbox::builder().export_polls(0)).await;
    let job = h
        .bulk
        .kick_off(&ExportRequest::system().types(["Patient"]))
        .await
        .unwrap();
    let manifest = job.wait().await.unwrap();
    h.sandbox.inject(Failure::ExpireExportFiles);
    let err = collect(&h.bulk, &manifest).await.err().unwrap();
    assert!(
        matches!(err, BulkError::FileExpired { status: 410, .. }),
        "{err:?}"
    );

    job.cancel().await.unwrap();
    let cancel = h
        .sandbox
        .export_requests()
        .into_iter()
        .find(|request| request.kind == ExportRequestKind::Cancel);
    assert_eq!(
        cancel.map(|request| request.method),
        Some("DELETE".to_owned())
    );
    let err = job.wait().await.unwrap_err();
    assert!(matches!(err, BulkError::JobGone(_)), "{err:?}");
}
