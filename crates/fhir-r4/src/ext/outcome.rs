//! The typed R4 [`OperationOutcome`] from `fhir-core`'s version-agnostic view, which errors,
//! write responses and Bundle entry responses carry.

use fhir_core::DecodeError;

use crate::resources::OperationOutcome;

impl OperationOutcome {
    /// Decodes the R4 model from the original JSON kept by `fhir-core`'s
    /// [`OperationOutcome`](fhir_core::OperationOutcome) view, such as
    /// [`Error::operation_outcome`](https://docs.rs/fhir-core/latest/fhir_core/struct.Error.html#method.operation_outcome).
    ///
    /// ```
    /// use fhir_r4::resources::OperationOutcome;
    ///
    /// let view = fhir_core::OperationOutcome::from_json(serde_json::json!({
    ///     "resourceType": "OperationOutcome",
    ///     "issue": [{"severity": "error", "code": "invalid", "expression": ["Patient.birthDate"]}]
    /// }))
    /// .unwrap();
    /// let outcome = OperationOutcome::from_core(&view).unwrap();
    /// assert_eq!(outcome.issue[0].expression[0].value().map(String::as_str), Some("Patient.birthDate"));
    /// ```
    ///
    /// # Errors
    ///
    /// A [`DecodeError`] naming the path when the JSON is not a valid R4 OperationOutcome.
    pub fn from_core(outcome: &fhir_core::OperationOutcome) -> Result<Self, DecodeError> {
        <Self as fhir_core::Resource>::from_json_value(outcome.as_json().clone())
    }
}
