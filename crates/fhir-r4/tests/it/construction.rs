//! Writing models as briefly as their JSON: `From` for each choice variant whose type is its
//! own, the datatype constructors, and the result judged by `serde_json`.

use fhir_r4::codes::{AdministrativeGender, ObservationStatus};
use fhir_r4::datatypes::OpenValue;
use fhir_r4::prelude::*;
use fhir_r4::resources::{Observation, ObservationEffective, ObservationValue, Patient};
use serde_json::json;

#[test]
fn choice_variants_come_from_their_types() {
    assert!(matches!(
        ObservationValue::from(true),
        ObservationValue::Boolean(_)
    ));
    assert!(matches!(
        ObservationValue::from(7),
        ObservationValue::Integer(_)
    ));
    assert!(matches!(
        ObservationValue::from("text"),
        ObservationValue::String(_)
    ));
    assert!(matches!(
        ObservationValue::from(Quantity::ucum(1, "mg")),
        ObservationValue::Quantity(_)
    ));
    assert!(matches!(
        ObservationValue::from(CodeableConcept::from_text("positive")),
        ObservationValue::CodeableConcept(_)
    ));
    let now = DateTime::now();
    assert!(matches!(
        ObservationEffective::from(now.clone()),
        ObservationEffective::DateTime(_)
    ));
    assert!(matches!(
        ObservationEffective::from(Period::starting(now)),
        ObservationEffective::Period(_)
    ));
    // The open type of `Extension.value[x]`: types it holds once convert; the many string
    // types (string, code, uri, …) are named.
    assert!(matches!(
        OpenValue::from(Coding::new("urn:s", "c")),
        OpenValue::Coding(_)
    ));
    assert!(matches!(
        OpenValue::from(Decimal::from(3)),
        OpenValue::Decimal(_)
    ));
}

#[test]
fn a_patient_and_an_observation_in_a_few_lines() {
    let patient = Patient {
        id: Some("p1".into()),
        name: vec![HumanName::new("Chalmers", ["Peter"])].into(),
        gender: Some(AdministrativeGender::Male.into()),
        birth_date: Some("1974-12-25".parse::<Date>().unwrap().into()),
        telecom: vec![ContactPoint::phone("555")].into(),
        ..Default::default()
    };
    let observation = Observation {
        status: Some(ObservationStatus::Final.into()),
        code: Some(CodeableConcept::from(Coding::new("http://loinc.org", "8867-4")).into()),
        subject: Some(Reference::to::<Patient>("p1").into()),
        effective: Some("2024-03-15T10:00:00Z".parse::<DateTime>().unwrap().into()),
        value: Some(Quantity::ucum(72, "/min").into()),
        ..Default::default()
    };
    let patient_json: serde_json::Value =
        serde_json::from_slice(&patient.to_json_vec().unwrap()).unwrap();
    assert_eq!(
        patient_json,
        json!({"resourceType": "Patient", "id": "p1",
               "telecom": [{"system": "phone", "value": "555"}],
               "name": [{"family": "Chalmers", "given": ["Peter"]}],
               "gender": "male", "birthDate": "1974-12-25"})
    );
    let observation_json: serde_json::Value =
        serde_json::from_slice(&observation.to_json_vec().unwrap()).unwrap();
    assert_eq!(
        observation_json,
        json!({"resourceType": "Observation", "status": "final",
               "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
               "subject": {"reference": "Patient/p1"},
               "effectiveDateTime": "2024-03-15T10:00:00Z",
               "valueQuantity": {"value": 72, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"}})
    );
}

#[test]
fn every_model_reads_and_writes_itself_without_trait_imports() {
    use fhir_r4::{DecodeOptions, Resource};

    let json = br#"{"resourceType":"Patient","id":"p1","birthDate":"1974-12-25","birthdate":"typo","telecom":[]}"#;
    // Strict: the typo is an error naming it.
    let err = fhir_r4::resources::Patient::from_json(json).unwrap_err();
    assert!(
        err.to_string()
            .contains("unknown property `birthdate` (did you mean `birthDate`?)"),
        "{err}"
    );
    // Lenient: the patient, and a report of what was dropped (the empty `telecom`).
    let (patient, report) =
        fhir_r4::resources::Patient::from_json_with(json, DecodeOptions::lenient()).unwrap();
    assert_eq!(patient.id.as_deref(), Some("p1"));
    assert_eq!(report.warnings().len(), 1, "{:?}", report.warnings());
    assert_eq!(report.warnings()[0].path, "Patient.telecom");
    // The unknown property is kept and written back.
    let written: serde_json::Value = serde_json::from_slice(&patient.to_json()).unwrap();
    assert_eq!(written["birthdate"], "typo");

    // Any resource to the model it holds, or back when it holds another.
    let any = Resource::from(patient.clone());
    assert_eq!(Patient::try_from(any).unwrap(), patient);
    let other = Resource::from(Observation::default());
    let back = Patient::try_from(other).unwrap_err();
    assert!(matches!(back, Resource::Observation(_)));
}
