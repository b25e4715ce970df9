//! fhir-r4's `typed_rest` flow (the same code as its example) against Medplum: a typed
//! transaction with `urn:uuid` references, a paged search, a conditional create, a stale
//! `If-Match`, and the cleanup.

use fhir_core::{BearerToken, Client};
use fhir_e2e::sandbox;

#[path = "../../../fhir-r4/examples/typed_rest/flow.rs"]
mod flow;

#[tokio::test]
async fn the_typed_rest_flow_runs_against_medplum() {
    let Some(sandbox) = sandbox() else { return };
    let token = sandbox.backend_token("system/*.cruds").await.unwrap();
    let client = Client::builder(sandbox.fhir_base_url())
        .auth(BearerToken::new(token).unwrap())
        .build()
        .unwrap();
    let identifier = format!(
        "e2e-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let mut log = Vec::new();
    let summary = match flow::run(&client, &identifier, &mut |line| log.push(line)).await {
        Ok(summary) => summary,
        Err(err) => panic!("typed_rest failed: {err}\n{}", log.join("\n")),
    };

    assert_eq!(summary.transaction_statuses, [201, 201, 201, 201]);
    assert_eq!((summary.matches, summary.pages), (3, 2), "{log:#?}");
    // Medplum does not apply `_include` (sandbox/README.md): no Patient comes with the page.
    assert_eq!(summary.included_patients, 0);
    assert_eq!(summary.conditional_status, 200);
    assert_eq!(summary.conditional_id, summary.patient_id);
    assert!(
        summary.stale_update.is_precondition_failed(),
        "{}",
        summary.stale_update
    );
    assert_eq!(summary.stale_update.status().map(|s| s.as_u16()), Some(412));
    assert_eq!(summary.delete_statuses, [200, 200, 200, 200]);
    assert_eq!(log.len(), 6, "{log:#?}");
}
