use super::{field_name, module_name, upper_camel};

#[test]
fn field_names_are_snake_case() {
    assert_eq!(field_name("birthDate"), "birth_date");
    assert_eq!(field_name("modifierExtension"), "modifier_extension");
    assert_eq!(field_name("udiCarrier"), "udi_carrier");
    assert_eq!(field_name("valueCodeableConcept"), "value_codeable_concept");
}

#[test]
fn keywords_get_a_trailing_underscore() {
    assert_eq!(field_name("type"), "type_");
    assert_eq!(field_name("use"), "use_");
    assert_eq!(field_name("abstract"), "abstract_");
}

#[test]
fn type_names_are_upper_camel_case() {
    assert_eq!(upper_camel("contact"), "Contact");
    assert_eq!(upper_camel("base64Binary"), "Base64Binary");
    assert_eq!(upper_camel("dateTime"), "DateTime");
}

#[test]
fn module_names_follow_type_names() {
    assert_eq!(module_name("MedicationRequest"), "medication_request");
    assert_eq!(module_name("Patient"), "patient");
}
