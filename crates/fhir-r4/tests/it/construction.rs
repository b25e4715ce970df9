//! Writing models as briefly as their JSON: `From` for each choice variant whose type is its
//! own, the datatype constructors, and the result judged by `serde_json`.

use fhir_r4::codes::{AdministrativeGender, EncounterStatus, ObservationStatus};
use fhir_r4::datatypes::OpenValue;
use fhir_r4::prelude::*;
use fhir_r4::resources::{
    Encounter, Observation, ObservationComponent, ObservationEffective, ObservationValue,
    ParametersParameter, Patient,
};
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

/// The `with_*` setters (the `setters` feature) build the same values as the struct literals,
/// for every shape of field: boxed datatypes, codes, choices, lists, ids, backbone elements,
/// open values and contained resources.
#[test]
fn setters_take_anything_that_converts_and_build_the_same_values() {
    let literal = Patient {
        id: Some("p1".into()),
        name: vec![HumanName::new("Chalmers", ["Peter"])].into(),
        gender: Some(AdministrativeGender::Male.into()),
        birth_date: Some("1974-12-25".parse::<Date>().unwrap().into()),
        telecom: vec![ContactPoint::phone("555")].into(),
        ..Default::default()
    };
    let built = Patient::default()
        .with_id("p1")
        .with_name([HumanName::new("Chalmers", ["Peter"])])
        .with_gender(AdministrativeGender::Male)
        .with_birth_date("1974-12-25".parse::<Date>().unwrap())
        .with_telecom([ContactPoint::phone("555")]);
    assert_eq!(built, literal);

    let component = ObservationComponent::default()
        .with_code(Coding::new("http://loinc.org", "8480-6"))
        .with_value(Quantity::ucum(120, "mm[Hg]"));
    let observation = Observation::default()
        .with_status(ObservationStatus::Final)
        .with_code(Coding::new("http://loinc.org", "85354-9"))
        .with_subject(Reference::to::<Patient>("p1"))
        .with_effective("2024-03-15T10:00:00Z".parse::<DateTime>().unwrap())
        .with_component([component])
        .with_contained([built]);
    let written: serde_json::Value = serde_json::from_slice(&observation.to_json()).unwrap();
    assert_eq!(
        written,
        json!({"resourceType": "Observation",
               "contained": [{"resourceType": "Patient", "id": "p1",
                              "telecom": [{"system": "phone", "value": "555"}],
                              "name": [{"family": "Chalmers", "given": ["Peter"]}],
                              "gender": "male", "birthDate": "1974-12-25"}],
               "status": "final",
               "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
               "subject": {"reference": "Patient/p1"},
               "effectiveDateTime": "2024-03-15T10:00:00Z",
               "component": [{"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
                              "valueQuantity": {"value": 120, "unit": "mm[Hg]",
                                                "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}}]})
    );

    // A field named after a keyword (`type`), and an open value.
    let encounter = Encounter::default()
        .with_type([CodeableConcept::from_text("check-up")])
        .with_status(EncounterStatus::Finished);
    assert_eq!(encounter.type_[0], CodeableConcept::from_text("check-up"));
    let parameter = ParametersParameter::default()
        .with_name("count")
        .with_value(OpenValue::Integer(3.into()));
    assert!(matches!(parameter.value, Some(OpenValue::Integer(_))));
    assert_eq!(parameter.name_str(), Some("count"));
    // A setter replaces what the field held.
    let renamed = encounter.with_type([CodeableConcept::from_text("follow-up")]);
    assert_eq!(renamed.type_.len(), 1);
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
