//! What goes in comes out: decimals, primitive extensions, choice elements, resource tags,
//! canonical output and lenient mode.

use fhir_core::{Resource as _, TypedResource};
use fhir_r4::datatypes::Quantity;
use fhir_r4::primitives::{Decimal, Primitive};
use fhir_r4::resources::{Observation, ObservationValue, Patient};
use fhir_r4::{DecodeOptions, Resource};

fn roundtrip(json: &str) -> String {
    let resource = Resource::from_slice(json.as_bytes()).unwrap();
    String::from_utf8(resource.to_vec()).unwrap()
}

#[test]
fn decimals_keep_their_exact_text() {
    let json = r#"{"resourceType":"Observation","valueQuantity":{"value":1.50,"unit":"mg"}}"#;
    assert_eq!(roundtrip(json), json);
    let json = r#"{"resourceType":"Observation","valueQuantity":{"value":1e-7}}"#;
    assert_eq!(roundtrip(json), json);
}

#[test]
fn resource_type_may_come_last_and_is_written_first() {
    let json = r#"{"id":"p1","gender":"female","resourceType":"Patient"}"#;
    assert_eq!(
        roundtrip(json),
        r#"{"resourceType":"Patient","id":"p1","gender":"female"}"#
    );
    let resource = Resource::from_slice(json.as_bytes()).unwrap();
    assert!(matches!(resource, Resource::Patient(_)));
    assert_eq!(resource.id(), Some("p1"));
}

#[test]
fn practitioner_is_not_read_as_patient() {
    let json = br#"{"resourceType":"Practitioner","id":"x","name":[{"family":"Doe"}]}"#;
    let resource = Resource::from_slice(json).unwrap();
    assert_eq!(resource.resource_type(), "Practitioner");
    assert!(matches!(resource, Resource::Practitioner(_)));
    let err = Patient::from_json_slice(json).unwrap_err();
    assert_eq!(err.path, "Patient.resourceType");
}

#[test]
fn primitive_arrays_keep_extensions_aligned_with_nulls() {
    let json = r#"{"resourceType":"Patient","name":[{"given":["Jim",null,"Bo"],"_given":[null,{"extension":[{"url":"http://e","valueString":"x"}]},{"id":"g3"}]}]}"#;
    assert_eq!(roundtrip(json), json);
    let Resource::Patient(patient) = Resource::from_slice(json.as_bytes()).unwrap() else {
        panic!("not a Patient");
    };
    let given = &patient.name[0].given;
    assert_eq!(given.len(), 3);
    assert_eq!(given[1].value, None);
    assert_eq!(given[1].extensions().len(), 1);
    assert_eq!(given[2].id(), Some("g3"));
}

#[test]
fn a_primitive_may_have_only_extensions() {
    let json = r#"{"resourceType":"Patient","_birthDate":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"unknown"}]}}"#;
    assert_eq!(roundtrip(json), json);
}

#[test]
fn choice_elements_are_one_field() {
    let observation = Observation {
        value: Some(ObservationValue::Quantity(Box::new(Quantity {
            value: Some(Primitive::new("72.0".parse::<Decimal>().unwrap())),
            ..Quantity::default()
        }))),
        ..Observation::default()
    };
    let json = observation.to_json_vec().unwrap();
    assert_eq!(
        json,
        br#"{"resourceType":"Observation","valueQuantity":{"value":72.0}}"#
    );
    assert_eq!(Observation::from_json_slice(&json).unwrap(), observation);
    assert_eq!(Observation::RESOURCE_TYPE, "Observation");
}

#[test]
fn empty_elements_are_omitted() {
    let patient = Patient {
        id: Some(String::from("p")),
        ..Patient::default()
    };
    assert_eq!(
        patient.to_json_vec().unwrap(),
        br#"{"resourceType":"Patient","id":"p"}"#
    );
}

#[test]
fn a_missing_required_element_does_not_fail_parsing() {
    // `Observation.status` and `Observation.code` are 1..1.
    let json = r#"{"resourceType":"Observation","id":"o"}"#;
    assert_eq!(roundtrip(json), json);
}

#[test]
fn contained_and_bundled_resources_are_typed() {
    let json = r#"{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient","id":"a","contained":[{"resourceType":"Organization","id":"o"}]}}]}"#;
    assert_eq!(roundtrip(json), json);
    let Resource::Bundle(bundle) = Resource::from_slice(json.as_bytes()).unwrap() else {
        panic!("not a Bundle");
    };
    let Some(Resource::Patient(patient)) = &bundle.entry[0].resource else {
        panic!("not a Patient");
    };
    assert!(matches!(patient.contained[0], Resource::Organization(_)));
}

#[test]
fn lenient_mode_keeps_unknown_properties_and_types() {
    let json =
        r#"{"resourceType":"Patient","name":[{"family":"X","nickname":{"a":[1.0]}}],"vip":true}"#;
    let resource = Resource::from_slice_with(json.as_bytes(), DecodeOptions::lenient()).unwrap();
    assert_eq!(String::from_utf8(resource.to_vec()).unwrap(), json);
    let json = r#"{"resourceType":"Unicorn","horn":1.50}"#;
    let resource = Resource::from_slice_with(json.as_bytes(), DecodeOptions::lenient()).unwrap();
    assert_eq!(resource.resource_type(), "Unicorn");
    assert_eq!(String::from_utf8(resource.to_vec()).unwrap(), json);
}

#[test]
fn version_id_comes_from_meta() {
    let json = br#"{"resourceType":"Patient","meta":{"versionId":"3"}}"#;
    let resource = Resource::from_slice(json).unwrap();
    assert_eq!(fhir_core::Resource::version_id(&resource), Some("3"));
}

#[test]
fn required_codes_are_enums_and_unknown_codes_are_kept() {
    use fhir_r4::codes::AdministrativeGender;
    let Resource::Patient(patient) =
        Resource::from_slice(br#"{"resourceType":"Patient","gender":"female"}"#).unwrap()
    else {
        panic!("not a Patient");
    };
    assert_eq!(
        patient.gender.as_ref().and_then(|g| g.value.clone()),
        Some(AdministrativeGender::Female)
    );
    let json = r#"{"resourceType":"Patient","gender":"robot"}"#;
    let Resource::Patient(patient) = Resource::from_slice(json.as_bytes()).unwrap() else {
        panic!("not a Patient");
    };
    assert_eq!(
        patient.gender.as_ref().and_then(|g| g.value.clone()),
        Some(AdministrativeGender::Unrecognized(String::from("robot")))
    );
    assert_eq!(roundtrip(json), json);
}

#[test]
fn validation_reports_missing_required_elements_by_path() {
    let json = br#"{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Observation","valueString":"x"}},{"resource":{"resourceType":"Patient","link":[{"type":"seealso"}]}}]}"#;
    let resource = Resource::from_slice(json).unwrap();
    let paths: Vec<String> = resource
        .missing_required()
        .into_iter()
        .map(|issue| issue.path)
        .collect();
    assert_eq!(
        paths,
        [
            "Bundle.entry[0].resource.status",
            "Bundle.entry[0].resource.code",
            "Bundle.entry[1].resource.link[0].other",
        ]
    );
    let complete = br#"{"resourceType":"Observation","status":"final","code":{"text":"x"}}"#;
    assert!(
        Resource::from_slice(complete)
            .unwrap()
            .missing_required()
            .is_empty()
    );
}

#[test]
fn an_implementation_guide_without_its_required_name_is_read_and_reported() {
    // Like the official `ImplementationGuide-fhir.json`, which has no `name`.
    let json = r#"{"resourceType":"ImplementationGuide","id":"fhir","url":"http://hl7.org/fhir/ImplementationGuide/fhir","status":"draft","packageId":"hl7.fhir.core","fhirVersion":["4.0.1"]}"#;
    let resource = Resource::from_slice(json.as_bytes()).unwrap();
    assert_eq!(roundtrip(json), json);
    let issues = resource.missing_required();
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(issues[0].path, "ImplementationGuide.name");
    assert_eq!(
        issues[0].message,
        "missing required element `ImplementationGuide.name`"
    );
}

#[test]
fn typed_references() {
    use fhir_r4::datatypes::Reference;
    let reference = Reference::to::<Patient>("123");
    assert_eq!(reference.reference_str(), Some("Patient/123"));
    assert_eq!(reference.target(), Some(("Patient", "123")));
    assert_eq!(reference.id_of::<Patient>(), Some("123"));
    assert_eq!(reference.id_of::<Observation>(), None);
    let patient = Patient {
        id: Some(String::from("p")),
        ..Patient::default()
    };
    assert_eq!(
        Reference::to_resource(&patient).unwrap().reference_str(),
        Some("Patient/p")
    );
    let versioned = Reference {
        reference: Some(Primitive::from("Patient/1/_history/2")),
        ..Reference::default()
    };
    assert_eq!(versioned.target(), Some(("Patient", "1")));
    for other in ["#c1", "urn:uuid:1", "http://x/Patient/1", "Patient"] {
        let reference = Reference {
            reference: Some(Primitive::from(other)),
            ..Reference::default()
        };
        assert_eq!(reference.target(), None, "{other}");
    }
}
