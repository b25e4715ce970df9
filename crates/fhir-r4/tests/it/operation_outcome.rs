//! One OperationOutcome for R4 code: the R4 model, had from fhir-core's view without a
//! fallible step.

/// `OperationOutcome::from` on what fhir-core carries cannot fail: a hostile outcome that is
/// not R4 even when read leniently keeps the issues the view could read.
#[test]
fn the_r4_operation_outcome_is_had_from_any_server_outcome() {
    use fhir_r4::codes::{IssueSeverity, IssueType};
    use fhir_r4::prelude::OperationOutcome;

    let hostile = fhir_core::OperationOutcome::from_json(serde_json::json!({
        "resourceType": "OperationOutcome",
        "meta": "not an object",
        "issue": [{"severity": "error", "code": "not-found", "details": {"text": "gone"},
                   "diagnostics": "Patient/1 is gone", "expression": ["Patient"]}]
    }))
    .unwrap();
    assert!(OperationOutcome::from_core(&hostile).is_err());
    let outcome = OperationOutcome::from(&hostile);
    let issue = &outcome.issue[0];
    assert_eq!(
        issue.severity.as_ref().unwrap().value(),
        Some(&IssueSeverity::Error)
    );
    assert_eq!(
        issue.code.as_ref().unwrap().value(),
        Some(&IssueType::NotFound)
    );
    assert_eq!(
        issue.diagnostics.as_ref().unwrap().to_string(),
        "Patient/1 is gone"
    );
    assert_eq!(issue.details.as_ref().unwrap().to_string(), "gone");
    assert_eq!(issue.expression[0].to_string(), "Patient");

    // A valid one keeps everything, unknown elements included.
    let valid = fhir_core::OperationOutcome::from_json(serde_json::json!({
        "resourceType": "OperationOutcome", "id": "o",
        "issue": [{"severity": "warning", "code": "processing", "vendorHint": 1}]
    }))
    .unwrap();
    let outcome = OperationOutcome::from(&valid);
    assert_eq!(outcome.id.as_deref(), Some("o"));
    let written: serde_json::Value = serde_json::from_slice(&outcome.to_json()).unwrap();
    assert_eq!(&written, valid.as_json());
}
