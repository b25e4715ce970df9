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
    // The STU3 system, and the word escaped in JSON.
    assert!(is_subsetted(
        tag(r#"[{"system":"http://hl7.org/fhir/v3/ObservationValue","code":"SUBSETTED"}]"#)
            .as_bytes()
    ));
    assert!(is_subsetted(
        tag(r#"[{"code":"\u0053UBSETTED"}]"#).as_bytes()
    ));
    // Lines that are not resources never panic (the line checks report them).
    for line in [
        "",
        "[",
        "42",
        r#"{"meta":{"tag":7}}"#,
        r#"{"meta":{"tag":[SUBSETTED"#,
    ] {
        let _ = is_subsetted(line.as_bytes());
    }
}

#[test]
fn a_huge_tag_list_is_read_without_keeping_it() {
    let many = |last: &str| {
        let mut line = String::from(r#"{"resourceType":"Patient","meta":{"tag":["#);
        for _ in 0..200_000 {
            line.push_str(r#"{"code":"x"},"#);
        }
        line.push_str(&format!(r#"{{"code":"{last}"}}]}}}}"#));
        line
    };
    assert!(
        !is_subsetted(many("y").as_bytes()),
        "no word: answered without parsing"
    );
    assert!(is_subsetted(many("SUBSETTED").as_bytes()));
}

#[test]
fn hostile_request_urls_are_bounded_not_trusted() {
    let types = vec!["A"; 10_000].join(",");
    let asked =
        Requested::from_kick_off_url(&format!("https://h/$export?_type={types}&_elements=id"));
    assert_eq!(asked.types, ["A"], "repeats collapse");
    let types: Vec<String> = (0..300).map(|i| format!("T{i}")).collect();
    let asked =
        Requested::from_kick_off_url(&format!("https://h/$export?_type={}", types.join(",")));
    assert!(asked.types.is_empty(), "past the cap nothing is checked");
    assert!(!asked.excludes_type("Patient"));
    let asked =
        Requested::from_kick_off_url("https://h/$export?_type=Patient,Bad%20Name&_elements=a%3Cb");
    assert!(
        asked.types.is_empty() && asked.elements.is_empty(),
        "{asked:?}"
    );
}
