use super::*;

#[test]
fn the_kick_off_url_says_what_was_asked() {
    let asked = Requested::from_kick_off_url(
        "https://fhir.example/r4/Patient/$export?_type=Patient,%20Observation&_type=Condition\
         &_elements=Patient.name,id&_typeFilter=Observation%3Fstatus%3Dfinal&_since=2024",
    );
    assert_eq!(asked.types, ["Patient", "Observation", "Condition"]);
    assert_eq!(asked.elements, ["Patient.name", "id"]);
    assert_eq!(asked.type_filters, ["Observation?status=final"]);
    assert!(!asked.excludes_type("Observation"));
    assert!(asked.excludes_type("Encounter"));
    // `id` names an element of every type.
    assert!(asked.subsets("Encounter"));

    for nothing in [
        "",
        "not a url",
        "https://fhir.example/r4/$export",
        "x?_type=",
    ] {
        let asked = Requested::from_kick_off_url(nothing);
        assert_eq!(asked, Requested::default(), "{nothing}");
        assert!(!asked.excludes_type("Patient"));
        assert!(!asked.subsets("Patient"));
    }
}

#[test]
fn prefixed_elements_subset_only_their_type() {
    let asked = Requested {
        elements: vec!["Patient.name".to_owned(), "Observation.code".to_owned()],
        ..Requested::default()
    };
    assert!(asked.subsets("Patient"));
    assert!(asked.subsets("Observation"));
    assert!(!asked.subsets("Condition"));
    assert!(!asked.subsets("PatientX"));
}

#[test]
fn the_subsetted_tag_is_found_by_code_and_system() {
    let tag = |tags: &str| format!(r#"{{"resourceType":"Patient","meta":{{"tag":{tags}}}}}"#);
    let marked = [
        tag(
            r#"[{"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationValue","code":"SUBSETTED"}]"#,
        ),
        tag(r#"[{"code":"other"},{"code":"SUBSETTED"}]"#),
    ];
    for line in &marked {
        assert!(is_subsetted(line.as_bytes()), "{line}");
    }
    let unmarked = [
        r#"{"resourceType":"Patient"}"#.to_owned(),
        r#"{"resourceType":"Patient","meta":{}}"#.to_owned(),
        r#"{"resourceType":"Patient","meta":null}"#.to_owned(),
        tag("[]"),
        tag(r#"[{"system":"http://example.org/tags","code":"SUBSETTED"}]"#),
        tag(r#"[{"code":"subsetted"}]"#),
    ];
    for line in &unmarked {
        assert!(!is_subsetted(line.as_bytes()), "{line}");
    }
    // Not a resource: the line checks report it, not this one.
    for line in ["", "[", "42", r#"{"meta":{"tag":7}}"#] {
        assert!(is_subsetted(line.as_bytes()), "{line}");
    }
}
