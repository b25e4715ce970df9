//! Open-type elements (`Extension.value[x]`, `ElementDefinition.fixed[x]`, `Parameters.parameter
//! .value[x]`, …) share one enum, `OpenValue`, whose JSON names are built from the element's name.

use fhir_core::DecodeErrorKind;
use fhir_r4::datatypes::{ElementDefinition, Extension, OpenValue};
use fhir_r4::json;
use fhir_r4::resources::Parameters;
use fhir_r4::{DecodeOptions, Resource};

fn roundtrip(text: &str) -> String {
    let resource = Resource::from_slice(text.as_bytes()).unwrap();
    String::from_utf8(resource.to_vec()).unwrap()
}

#[test]
fn every_open_element_reads_into_the_shared_enum_and_writes_back_its_name() {
    let extension: Extension = json::from_slice(
        br#"{"url":"http://x","valueQuantity":{"value":1.50,"unit":"mg"}}"#,
        "Extension",
    )
    .unwrap();
    let Some(OpenValue::Quantity(quantity)) = &extension.value else {
        panic!("{:?}", extension.value);
    };
    assert_eq!(
        quantity
            .value
            .as_ref()
            .unwrap()
            .value
            .as_ref()
            .unwrap()
            .as_str(),
        "1.50"
    );
    assert_eq!(extension.value.as_ref().unwrap().type_name(), "Quantity");

    let element: ElementDefinition = json::from_slice(
        br#"{"path":"Patient.gender","fixedCode":"male","patternCodeableConcept":{"text":"t"},"defaultValueBoolean":true}"#,
        "ElementDefinition",
    )
    .unwrap();
    assert!(matches!(element.fixed, Some(OpenValue::Code(_))));
    assert!(matches!(
        element.pattern,
        Some(OpenValue::CodeableConcept(_))
    ));
    assert!(matches!(element.default_value, Some(OpenValue::Boolean(_))));
    assert_eq!(
        String::from_utf8(json::to_vec(&element)).unwrap(),
        r#"{"path":"Patient.gender","defaultValueBoolean":true,"fixedCode":"male","patternCodeableConcept":{"text":"t"}}"#
    );
}

#[test]
fn primitive_variants_keep_their_extensions_in_either_order() {
    let text = r#"{"resourceType":"Parameters","parameter":[{"name":"a","valueString":"x","_valueString":{"id":"e"}},{"name":"b","_valueDate":{"extension":[{"url":"http://u","valueCode":"c"}]},"valueDate":"2020-02"}]}"#;
    let out = roundtrip(text);
    assert!(
        out.contains(r#""valueString":"x","_valueString":{"id":"e"}"#),
        "{out}"
    );
    assert!(
        out.contains(r#""valueDate":"2020-02","_valueDate":{"extension":[{"url":"http://u","valueCode":"c"}]}"#),
        "{out}"
    );
    let parameters: Parameters = json::from_slice(text.as_bytes(), "Parameters").unwrap();
    assert!(matches!(
        parameters.parameter[1].value,
        Some(OpenValue::Date(_))
    ));
}

#[test]
fn two_variants_of_one_open_element_are_an_error_naming_the_second() {
    let err = Resource::from_slice(
        br#"{"resourceType":"Patient","extension":[{"url":"http://x","valueString":"a","valueInteger":1}]}"#,
    )
    .unwrap_err();
    assert_eq!(err.kind, DecodeErrorKind::InvalidValue);
    assert_eq!(err.path, "Patient.extension[0].valueInteger");
    // The extension of another variant conflicts too.
    let err = Resource::from_slice(
        br#"{"resourceType":"Patient","extension":[{"url":"http://x","valueString":"a","_valueCode":{"id":"i"}}]}"#,
    )
    .unwrap_err();
    assert_eq!(err.path, "Patient.extension[0]._valueCode");
}

#[test]
fn an_unknown_type_suffix_is_an_unknown_property_kept_by_a_lenient_decoder() {
    let text = r#"{"resourceType":"Patient","extension":[{"url":"http://x","valueFoo":1,"_valueQuantity":{}}]}"#;
    let err = Resource::from_slice(text.as_bytes()).unwrap_err();
    assert_eq!(err.kind, DecodeErrorKind::UnknownField);
    assert_eq!(err.path, "Patient.extension[0].valueFoo");
    let lenient = Resource::from_slice_with(text.as_bytes(), DecodeOptions::lenient()).unwrap();
    assert_eq!(String::from_utf8(lenient.to_vec()).unwrap(), text);
}

#[test]
fn bad_values_inside_an_open_element_name_the_full_key() {
    let err = Resource::from_slice(
        br#"{"resourceType":"Patient","extension":[{"url":"http://x","valueDate":"2020-13"}]}"#,
    )
    .unwrap_err();
    assert_eq!(err.path, "Patient.extension[0].valueDate");
}
