//! Codes outside the value set of a `required` binding: kept by default (lossless), rejected
//! with a path when `DecodeOptions::rejecting_unrecognized_codes` is asked for.

use fhir_core::DecodeErrorKind;
use fhir_r4::codes::{AdministrativeGender, ObservationStatus};
use fhir_r4::resources::{Bundle, Observation, Patient};
use fhir_r4::{DecodeOptions, Resource};

const PATIENT: &[u8] = br#"{"resourceType":"Patient","id":"p","gender":"femme"}"#;

#[test]
fn an_unrecognized_code_is_kept_and_written_back_by_default() {
    let patient = Patient::from_json(PATIENT).unwrap();
    assert_eq!(
        patient.gender.as_ref().and_then(|gender| gender.value()),
        Some(&AdministrativeGender::Unrecognized("femme".into()))
    );
    let written: serde_json::Value = serde_json::from_slice(&patient.to_json()).unwrap();
    let original: serde_json::Value = serde_json::from_slice(PATIENT).unwrap();
    assert_eq!(written, original);
}

#[test]
fn the_option_rejects_it_naming_the_path_the_code_and_the_value_set() {
    let strict = DecodeOptions::default().rejecting_unrecognized_codes();
    let err = Patient::from_json_with(PATIENT, strict).unwrap_err();
    assert_eq!(err.kind, DecodeErrorKind::InvalidValue);
    assert_eq!(err.path, "Patient.gender");
    assert!(err.message.contains("`femme`"), "{err}");
    assert!(
        err.message
            .contains("http://hl7.org/fhir/ValueSet/administrative-gender"),
        "{err}"
    );
    // Lenient decoding with the option still rejects it: the option was asked for.
    let lenient = DecodeOptions::lenient().rejecting_unrecognized_codes();
    let err = Patient::from_json_with(PATIENT, lenient).unwrap_err();
    assert_eq!(err.path, "Patient.gender");
    // Recognized codes pass.
    let (patient, _) =
        Patient::from_json_with(br#"{"resourceType":"Patient","gender":"female"}"#, strict)
            .unwrap();
    assert_eq!(
        patient.gender.unwrap().value(),
        Some(&AdministrativeGender::Female)
    );
}

#[test]
fn codes_in_arrays_nested_datatypes_and_bundled_resources_are_checked() {
    let strict = DecodeOptions::default().rejecting_unrecognized_codes();
    let timing = br#"{"resourceType":"Observation","status":"final","code":{"text":"x"},
        "effectiveTiming":{"repeat":{"dayOfWeek":["mon","fun"]}}}"#;
    Observation::from_json(timing).unwrap();
    let err = Observation::from_json_with(timing, strict).unwrap_err();
    assert_eq!(err.path, "Observation.effectiveTiming.repeat.dayOfWeek[1]");
    assert!(err.message.contains("`fun`"), "{err}");

    let bundle = br#"{"resourceType":"Bundle","type":"collection","entry":[
        {"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"}}},
        {"resource":{"resourceType":"Observation","status":"done","code":{"text":"x"}}}]}"#;
    Bundle::from_json(bundle).unwrap();
    let err = Bundle::from_json_with(bundle, strict).unwrap_err();
    assert_eq!(err.path, "Bundle.entry[1].resource.status");
    let err = Resource::from_slice_with(bundle, strict).unwrap_err();
    assert_eq!(err.path, "Bundle.entry[1].resource.status");

    // Only required bindings have enums; a code of an extensible one is never checked.
    let (observation, _) = Observation::from_json_with(
        br#"{"resourceType":"Observation","status":"final","code":{"text":"x"},
            "category":[{"coding":[{"system":"http://x","code":"anything"}]}]}"#,
        strict,
    )
    .unwrap();
    assert_eq!(
        observation.status.unwrap().value(),
        Some(&ObservationStatus::Final)
    );
}

#[test]
fn a_huge_unrecognized_code_gives_a_bounded_message() {
    let code = "x".repeat(1 << 20);
    let json = format!(r#"{{"resourceType":"Patient","gender":"{code}"}}"#);
    let strict = DecodeOptions::default().rejecting_unrecognized_codes();
    let err = Patient::from_json_with(json.as_bytes(), strict).unwrap_err();
    assert!(err.message.len() < 300, "{} bytes", err.message.len());
    assert!(err.message.contains('…'));
}
