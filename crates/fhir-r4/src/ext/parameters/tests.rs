//! Unit tests of the `Parameters` builders and readers.

// The decoding helper outside `#[test]` functions fails the test by panicking, as intended.
#![allow(clippy::unwrap_used, clippy::panic)]

use super::*;

/// The example of the Parameters page of the R4 specification (`parameters-example.json`).
const SPEC_EXAMPLE: &str = r#"{
  "resourceType": "Parameters",
  "id": "example",
  "parameter": [
    {"name": "exact", "valueBoolean": true},
    {"name": "property", "part": [
      {"name": "code", "valueCode": "focus"},
      {"name": "value", "valueCode": "top"}
    ]},
    {"name": "patient", "resource": {
      "resourceType": "Patient", "id": "example",
      "name": [{"use": "official", "family": "Chalmers", "given": ["Peter", "James"]}]
    }}
  ]
}"#;

fn decode(json: &str) -> Parameters {
    match Resource::from_slice(json.as_bytes()).unwrap() {
        Resource::Parameters(parameters) => *parameters,
        other => panic!("not Parameters: {}", other.resource_type()),
    }
}

#[test]
fn the_spec_example_reads_by_name() {
    let parameters = decode(SPEC_EXAMPLE);
    assert_eq!(parameters.value_bool("exact"), Some(true));
    assert_eq!(parameters.value_str("exact"), None, "a boolean is not text");
    let property = parameters.get("property").unwrap();
    assert_eq!(
        property.get_part("code").unwrap().value_str(),
        Some("focus")
    );
    assert_eq!(property.get_part("value").unwrap().value_str(), Some("top"));
    assert!(property.get_part("missing").is_none());
    let Some(Resource::Patient(patient)) = parameters.resource("patient") else {
        panic!("no patient")
    };
    assert_eq!(patient.id.as_deref(), Some("example"));
    assert!(parameters.get("nothing").is_none());
    assert!(parameters.resource("exact").is_none());
    let Some(Resource::Patient(patient)) = parameters.into_resource("patient") else {
        panic!("no patient")
    };
    assert_eq!(patient.id.as_deref(), Some("example"));
}

#[test]
fn built_parameters_encode_as_the_spec_example() {
    let patient = match Resource::from_slice(
        br#"{"resourceType": "Patient", "id": "example",
             "name": [{"use": "official", "family": "Chalmers", "given": ["Peter", "James"]}]}"#,
    )
    .unwrap()
    {
        Resource::Patient(patient) => *patient,
        other => panic!("not a Patient: {}", other.resource_type()),
    };
    let mut built = Parameters::new()
        .with_value("exact", OpenValue::Boolean(true.into()))
        .with_part(
            "property",
            vec![
                ParametersParameter::new_value("code", OpenValue::Code("focus".into())),
                ParametersParameter::new_value("value", OpenValue::Code("top".into())),
            ],
        )
        .with_resource("patient", patient);
    built.id = Some("example".into());
    assert_eq!(
        Resource::from(built.clone()).to_vec(),
        Resource::from(decode(SPEC_EXAMPLE)).to_vec()
    );
    assert_eq!(built, decode(SPEC_EXAMPLE));
}

#[test]
fn repeated_names_are_kept_in_order() {
    let parameters = Parameters::new()
        .with_value("code", OpenValue::Code("a".into()))
        .with_value("count", OpenValue::Integer(3.into()))
        .with_value("code", OpenValue::Uri("b".into()));
    let codes: Vec<_> = parameters
        .get_all("code")
        .map(|parameter| parameter.value_str().unwrap())
        .collect();
    assert_eq!(codes, ["a", "b"]);
    assert_eq!(parameters.value_str("code"), Some("a"));
    assert_eq!(parameters.value_integer("count"), Some(3));
    assert_eq!(parameters.value_integer("code"), None);
    assert_eq!(parameters.value_bool("count"), None);
}
