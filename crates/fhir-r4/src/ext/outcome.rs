//! The typed R4 [`OperationOutcome`] from `fhir-core`'s version-agnostic view, which errors,
//! write responses and Bundle entry responses carry: `OperationOutcome::from(view)` always
//! succeeds, so an R4 program handles one OperationOutcome type.

use fhir_core::DecodeError;

use crate::codes::{IssueSeverity, IssueType};
use crate::datatypes::CodeableConcept;
use crate::json::DecodeOptions;
use crate::primitives::Primitive;
use crate::resources::{OperationOutcome, OperationOutcomeIssue};

impl From<&fhir_core::OperationOutcome> for OperationOutcome {
    /// The R4 model of the server's OperationOutcome, such as
    /// [`Error::operation_outcome`](https://docs.rs/fhir-core/latest/fhir_core/struct.Error.html#method.operation_outcome).
    ///
    /// The original JSON is read leniently: unknown elements are kept, empty ones dropped. An
    /// outcome that is not valid R4 even so (a hostile or broken server's) becomes the issues
    /// the view could read: severity, code, details text, diagnostics, expression, location.
    /// [`OperationOutcome::from_core`] is the strict reading, an error instead.
    ///
    /// ```
    /// use fhir_r4::codes::IssueSeverity;
    /// use fhir_r4::prelude::*;
    ///
    /// let view = fhir_core::OperationOutcome::from_json(serde_json::json!({
    ///     "resourceType": "OperationOutcome",
    ///     "issue": [{"severity": "error", "code": "invalid", "expression": ["Patient.birthDate"]}]
    /// }))
    /// .unwrap();
    /// let outcome = OperationOutcome::from(&view);
    /// let issue = &outcome.issue[0];
    /// assert_eq!(issue.severity.as_ref().and_then(|s| s.value()), Some(&IssueSeverity::Error));
    /// assert_eq!(issue.expression[0].value().map(String::as_str), Some("Patient.birthDate"));
    /// ```
    fn from(view: &fhir_core::OperationOutcome) -> Self {
        let bytes = fhir_core::Resource::to_json_vec(view.as_json()).unwrap_or_default();
        crate::json::from_slice_with(&bytes, "OperationOutcome", DecodeOptions::lenient())
            .unwrap_or_else(|_| Self {
                issue: view.issues().iter().map(issue_from_view).collect(),
                ..Self::default()
            })
    }
}

fn code(text: &str) -> Option<&str> {
    (!text.is_empty()).then_some(text)
}

fn issue_from_view(issue: &fhir_core::Issue) -> OperationOutcomeIssue {
    OperationOutcomeIssue {
        severity: code(&issue.severity).map(|text| Primitive::new(IssueSeverity::from_code(text))),
        code: code(&issue.code).map(|text| Primitive::new(IssueType::from_code(text))),
        details: issue
            .details
            .as_deref()
            .map(|text| Box::new(CodeableConcept::from_text(text))),
        diagnostics: issue.diagnostics.clone().map(Primitive::new),
        location: issue.location.iter().cloned().map(Primitive::new).collect(),
        expression: issue
            .expression
            .iter()
            .cloned()
            .map(Primitive::new)
            .collect(),
        ..OperationOutcomeIssue::default()
    }
}

impl OperationOutcome {
    /// Decodes the R4 model strictly from the original JSON kept by `fhir-core`'s
    /// [`OperationOutcome`](fhir_core::OperationOutcome) view. Most code wants
    /// [`OperationOutcome::from`], which cannot fail.
    ///
    /// # Errors
    ///
    /// A [`DecodeError`] naming the path when the JSON is not a valid R4 OperationOutcome.
    pub fn from_core(outcome: &fhir_core::OperationOutcome) -> Result<Self, DecodeError> {
        <Self as fhir_core::Resource>::from_json_value(outcome.as_json().clone())
    }
}
