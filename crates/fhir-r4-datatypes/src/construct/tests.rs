//! Each constructor and builder, judged by the JSON it writes as `serde_json` reads it, and
//! `Display` of what people print.

use serde_json::{Value, json};

use super::*;
use crate::json::{JsonEncode, to_vec};

fn json_of<T: JsonEncode>(value: &T) -> Value {
    serde_json::from_slice(&to_vec(value)).unwrap()
}

#[test]
fn codings_and_concepts() {
    let coding = Coding::new("http://loinc.org", "8867-4")
        .with_display("Heart rate")
        .with_version("2.77");
    assert_eq!(
        json_of(&coding),
        json!({"system": "http://loinc.org", "version": "2.77", "code": "8867-4", "display": "Heart rate"})
    );
    assert_eq!(coding.to_string(), "Heart rate");
    assert_eq!(Coding::new("urn:s", "c").to_string(), "urn:s|c");

    let concept = CodeableConcept::from(Coding::new("urn:a", "1"))
        .with_coding(Coding::new("urn:b", "2"))
        .with_text("both");
    assert_eq!(
        json_of(&concept),
        json!({"coding": [{"system": "urn:a", "code": "1"}, {"system": "urn:b", "code": "2"}], "text": "both"})
    );
    assert_eq!(concept.to_string(), "both");
    assert_eq!(
        CodeableConcept::from(Coding::new("urn:a", "1")).to_string(),
        "urn:a|1"
    );
    assert_eq!(
        json_of(&CodeableConcept::from_text("x")),
        json!({"text": "x"})
    );
    let second_shown = CodeableConcept::from(Coding::new("urn:a", "1"))
        .with_coding(Coding::new("urn:b", "2").with_display("Two"));
    assert_eq!(
        second_shown.to_string(),
        "Two",
        "the first coding with a display"
    );
}

#[test]
fn quantities_keep_their_decimal_text() {
    let bpm = Quantity::ucum(72, "/min").with_unit("beats/minute");
    assert_eq!(
        json_of(&bpm),
        json!({"value": 72, "unit": "beats/minute", "system": UCUM, "code": "/min"})
    );
    let exact: Decimal = "7.20".parse().unwrap();
    let glucose = Quantity::ucum(exact, "mmol/L").with_comparator(QuantityComparator::LessThan);
    assert_eq!(
        String::from_utf8(to_vec(&glucose)).unwrap(),
        r#"{"value":7.20,"comparator":"<","unit":"mmol/L","system":"http://unitsofmeasure.org","code":"mmol/L"}"#
    );
    assert_eq!(glucose.to_string(), "<7.20 mmol/L");
    let plain = Quantity::new(Decimal::try_from(0.1).unwrap(), "tablets");
    assert_eq!(json_of(&plain), json!({"value": 0.1, "unit": "tablets"}));
    assert_eq!(plain.to_string(), "0.1 tablets");
}

#[test]
fn references_identifiers_and_contact_points() {
    let reference = Reference::new("Patient/123").with_display("Peter");
    assert_eq!(
        json_of(&reference),
        json!({"reference": "Patient/123", "display": "Peter"})
    );
    let mrn = Identifier::new("urn:oid:1.2.36.146.595.217.0.1", "12345")
        .with_use(IdentifierUse::Usual)
        .with_type(Coding::new(
            "http://terminology.hl7.org/CodeSystem/v2-0203",
            "MR",
        ));
    assert_eq!(
        json_of(&mrn),
        json!({"use": "usual",
               "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]},
               "system": "urn:oid:1.2.36.146.595.217.0.1", "value": "12345"})
    );
    let phone = ContactPoint::phone("555").with_use(ContactPointUse::Mobile);
    assert_eq!(
        json_of(&phone),
        json!({"system": "phone", "value": "555", "use": "mobile"})
    );
    assert_eq!(phone.to_string(), "555");
    assert_eq!(
        json_of(&ContactPoint::email("a@b.example")),
        json!({"system": "email", "value": "a@b.example"})
    );
    assert_eq!(
        json_of(&ContactPoint::new(ContactPointSystem::Fax, "1")),
        json!({"system": "fax", "value": "1"})
    );
}

#[test]
fn names_and_periods() {
    let name = HumanName::new("Chalmers", ["Peter", "James"]).with_use(NameUse::Official);
    assert_eq!(
        json_of(&name),
        json!({"use": "official", "family": "Chalmers", "given": ["Peter", "James"]})
    );
    assert_eq!(name.to_string(), "Peter James Chalmers");
    let mut titled = name.clone();
    titled.prefix.push(Primitive::new("Dr".to_owned()));
    assert_eq!(titled.to_string(), "Dr Peter James Chalmers");
    assert_eq!(name.with_text("Jim Chalmers").to_string(), "Jim Chalmers");

    let start: DateTime = "2024-03-15T10:00:00+01:00".parse().unwrap();
    let end: DateTime = "2024-03-16".parse().unwrap();
    assert_eq!(
        json_of(&Period::new(Some(start.clone()), Some(end))),
        json!({"start": "2024-03-15T10:00:00+01:00", "end": "2024-03-16"})
    );
    assert_eq!(
        json_of(&Period::starting(start)),
        json!({"start": "2024-03-15T10:00:00+01:00"})
    );
}

#[test]
fn primitives_and_codes_display_their_value() {
    assert_eq!(Primitive::new(true).to_string(), "true");
    assert_eq!(Primitive::<String>::default().to_string(), "");
    assert_eq!(ContactPointSystem::Sms.to_string(), "sms");
    assert_eq!(
        ContactPointSystem::Unrecognized("pigeon".into()).to_string(),
        "pigeon"
    );
}
