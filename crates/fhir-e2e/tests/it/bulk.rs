//! fhir-bulk against the sandbox's `$export` over Medplum's data, authenticated with SMART
//! Backend Services (ES384): the token reaches files beside the FHIR base because the manifest
//! requires it; typed records; a Group export; cancel; the `export` example as users run it.

use std::collections::BTreeMap;

use fhir_bulk::{BulkClient, BulkError, ExportRequest, R4Record, Record};
use fhir_e2e::{Sandbox, sandbox};
use futures::TryStreamExt as _;

async fn bulk_client(sandbox: &Sandbox) -> BulkClient {
    let vars = |name: &str| -> Option<String> {
        let value = match name {
            "SMART_ISS" => sandbox.fhir_base_url(),
            "SMART_CLIENT_ID" => sandbox.var("SMART_BACKEND_ES384_CLIENT_ID"),
            "SMART_PRIVATE_KEY" => sandbox.var("SMART_BACKEND_ES384_KEY_PATH"),
            "SMART_KID" => sandbox.var("SMART_BACKEND_ES384_KID"),
            "SMART_SCOPE" => "system/*.rs system/Group.cu",
            _ => return None,
        };
        Some(value.to_owned())
    };
    let smart = fhir_smart::SmartEnv::from_lookup(vars)
        .backend_services()
        .unwrap()
        .http(fhir_smart::HttpClient::new().allow_loopback_http(true))
        .connect()
        .await
        .unwrap();
    let client = fhir_core::Client::builder(sandbox.fhir_base_url())
        .auth(smart)
        .build()
        .unwrap();
    BulkClient::new(client)
}

async fn counts(bulk: &BulkClient, manifest: &fhir_bulk::Manifest) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    let mut records = bulk.records::<fhir_r4::Resource>(manifest);
    while let Some(record) = records.try_next().await.unwrap() {
        let record: R4Record = record;
        if let Record::Resource { resource, .. } = &record {
            let kind = match resource {
                fhir_r4::Resource::Patient(_) => "Patient",
                fhir_r4::Resource::Observation(_) => "Observation",
                _ => "other",
            };
            *counts.entry(kind.to_owned()).or_default() += 1;
        }
    }
    counts
}

#[tokio::test]
async fn a_system_export_with_backend_services_decodes_every_seeded_resource() {
    let Some(sandbox) = sandbox() else { return };
    let bulk = bulk_client(sandbox).await;
    let job = bulk
        .kick_off(&ExportRequest::system().types(["Patient", "Observation"]))
        .await
        .unwrap();
    let manifest = job.wait().await.unwrap();
    assert!(manifest.requires_access_token);
    assert!(manifest.expires.is_some(), "the sandbox sends Expires");
    // 1000 Observations at 500 lines per file.
    assert_eq!(manifest.output.len(), 3);
    let counts = counts(&bulk, &manifest).await;
    assert_eq!(counts.get("Patient"), Some(&250));
    assert_eq!(counts.get("Observation"), Some(&1000));
    job.cancel().await.unwrap();
}

#[tokio::test]
async fn a_group_export_keeps_to_its_members_and_a_cancelled_job_is_gone() {
    let Some(sandbox) = sandbox() else { return };
    let bulk = bulk_client(sandbox).await;
    let group = serde_json::json!({"resourceType": "Group", "id": "e2e-bulk-cohort", "type": "person",
        "actual": true, "member": [{"entity": {"reference": "Patient/pat-0001"}},
                                   {"entity": {"reference": "Patient/pat-0002"}}]});
    bulk.client().update(&group).send().await.unwrap();
    let job = bulk
        .kick_off(&ExportRequest::group("e2e-bulk-cohort").types(["Patient", "Observation"]))
        .await
        .unwrap();
    let manifest = job.wait().await.unwrap();
    let counts = counts(&bulk, &manifest).await;
    assert_eq!(counts.get("Patient"), Some(&2));
    // Four Observations per patient in the seed (two per encounter, two encounters).
    assert_eq!(counts.get("Observation"), Some(&8));

    job.cancel().await.unwrap();
    let err = job.wait().await.unwrap_err();
    assert!(matches!(err, BulkError::JobGone(_)), "{err:?}");
}

#[tokio::test]
async fn the_export_example_runs_against_the_sandbox_from_its_env_file() {
    let Some(sandbox) = sandbox() else { return };
    let exe = std::env::current_exe().unwrap();
    let example = exe
        .parent()
        .and_then(std::path::Path::parent)
        .unwrap()
        .join("examples")
        .join(format!("export{}", std::env::consts::EXE_SUFFIX));
    assert!(
        example.exists(),
        "{} is missing: `cargo test --workspace` builds it",
        example.display()
    );
    let names = [
        "SMART_ISS",
        "SMART_CLIENT_ID",
        "SMART_PRIVATE_KEY",
        "SMART_KID",
        "SMART_ALG",
        "SMART_SCOPE",
    ];
    let mut command = std::process::Command::new(example);
    command.args([
        "--patient",
        "--type",
        "Patient",
        "--since",
        "2000-01-01T00:00:00Z",
    ]);
    for name in names {
        command.env(name, sandbox.var(name));
    }
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        [
            "Patient: 250",
            "resources: 250 files: 1 errors: 0 deleted: 0"
        ],
        "{stderr}"
    );
}
