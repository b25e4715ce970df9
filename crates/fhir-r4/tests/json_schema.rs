//! The `schemars` feature: the schemas describe real FHIR JSON (choice variants as their own
//! properties, `_field` siblings, `resourceType`), checked with an independent validator on
//! official examples (`tests/data/`, copied from `hl7.fhir.r4.examples@4.0.1`, CC0).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use fhir_r4::resources::{Observation, Patient, PatientContact};
use serde_json::{Value, json};

fn example(name: &str) -> Value {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn validator<T: schemars::JsonSchema>() -> jsonschema::Validator {
    let schema = schemars::schema_for!(T);
    jsonschema::validator_for(schema.as_value()).unwrap()
}

fn errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

#[test]
fn the_patient_schema_accepts_the_official_example() {
    let patient = example("Patient-example.json");
    // The example has a `_birthDate` extension, `_family` and an extension's `valueDateTime`.
    assert!(patient.get("_birthDate").is_some());
    let validator = validator::<Patient>();
    assert_eq!(errors(&validator, &patient), Vec::<String>::new());
}

#[test]
fn the_patient_schema_rejects_what_fhir_json_rejects() {
    let validator = validator::<Patient>();
    let patient = example("Patient-example.json");
    let cases = [
        ("resourceType", json!("Practitioner")),
        ("birthDate", json!(1974)),
        ("birthDate", json!("1974-13-25")),
        ("active", json!("true")),
        ("gender", json!("woman")),
        ("_birthDate", json!("not an element")),
        ("deceasedBoolean", json!("no")),
        ("name", json!({"family": "not an array"})),
    ];
    for (key, value) in cases {
        let mut bad = patient.clone();
        bad[key] = value.clone();
        assert!(
            !validator.is_valid(&bad),
            "{key}: {value} should be rejected"
        );
    }
    let mut no_type = patient.clone();
    no_type.as_object_mut().unwrap().remove("resourceType");
    assert!(!validator.is_valid(&no_type));
}

#[test]
fn choice_elements_are_one_property_per_variant() {
    let observation = example("Observation-example.json");
    assert!(observation.get("valueQuantity").is_some());
    let validator = validator::<Observation>();
    assert_eq!(errors(&validator, &observation), Vec::<String>::new());
    let mut bad = observation.clone();
    bad["valueQuantity"] = json!("185 lbs");
    assert!(!validator.is_valid(&bad));

    let schema = schemars::schema_for!(Observation);
    let properties = schema.get("properties").unwrap();
    for key in [
        "valueQuantity",
        "valueString",
        "_valueString",
        "effectiveDateTime",
    ] {
        assert!(properties.get(key).is_some(), "{key}");
    }
    assert!(properties.get("value").is_none());
    assert_eq!(properties["resourceType"]["const"], json!("Observation"));
}

#[test]
fn backbone_elements_and_references_are_definitions() {
    let schema = schemars::schema_for!(PatientContact);
    assert_eq!(schema.get("title"), Some(&json!("Patient.contact")));
    assert_eq!(
        schema.get("properties").unwrap()["name"]["$ref"],
        json!("#/$defs/HumanName")
    );
    let defs = schema.get("$defs").unwrap().as_object().unwrap();
    for key in ["HumanName", "Extension", "Element", "string", "Period"] {
        assert!(defs.contains_key(key), "{key}");
    }
    // Every reference resolves within the document.
    let text = serde_json::to_string(&schema).unwrap();
    for reference in text.split("\"$ref\":\"#/$defs/").skip(1) {
        let name = &reference[..reference.find('"').unwrap()];
        assert!(defs.contains_key(name), "dangling {name}");
    }
    assert!(!text.contains("components/schemas"));
}

#[test]
fn a_contained_resource_is_checked_against_its_own_type() {
    let validator = validator::<Patient>();
    let mut patient = example("Patient-example.json");
    patient["contained"] = json!([{"resourceType": "Observation", "status": "final",
        "code": {"text": "x"}, "valueQuantity": {"value": 1.50}}]);
    assert_eq!(errors(&validator, &patient), Vec::<String>::new());
    patient["contained"][0]["valueQuantity"] = json!(true);
    assert!(!validator.is_valid(&patient));
    patient["contained"][0] = json!({"resourceType": "NoSuchType"});
    assert!(!validator.is_valid(&patient));
}

#[test]
fn schemas_in_a_user_type_are_shared_definitions() {
    // A tool definition that embeds a Patient: the FHIR schemas become definitions of its schema.
    struct Tool;
    impl schemars::JsonSchema for Tool {
        fn schema_name() -> std::borrow::Cow<'static, str> {
            "Tool".into()
        }
        fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
            let patient = generator.subschema_for::<Patient>();
            schemars::json_schema!({"type": "object", "properties": {"patient": patient}})
        }
    }
    let schema = schemars::schema_for!(Tool);
    assert_eq!(
        schema.get("properties").unwrap()["patient"]["$ref"],
        json!("#/$defs/Patient")
    );
    let validator = jsonschema::validator_for(schema.as_value()).unwrap();
    assert!(validator.is_valid(&json!({"patient": example("Patient-example.json")})));
    assert!(!validator.is_valid(&json!({"patient": {"resourceType": "Patient", "active": 1}})));
}
