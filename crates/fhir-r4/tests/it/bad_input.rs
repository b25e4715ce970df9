//! Bad input is a typed error with its JSON path: never a panic, never a stack overflow.

use fhir_core::DecodeErrorKind;
use fhir_r4::{DecodeOptions, Resource};

fn error(json: &str) -> (DecodeErrorKind, String) {
    let err = Resource::from_slice(json.as_bytes()).unwrap_err();
    (err.kind, err.path)
}

#[test]
fn wrong_json_types_name_their_path() {
    assert_eq!(
        error(r#"{"resourceType":"Patient","active":"yes"}"#),
        (DecodeErrorKind::InvalidType, String::from("Patient.active"))
    );
    assert_eq!(
        error(r#"{"resourceType":"Patient","name":{"family":"x"}}"#),
        (DecodeErrorKind::InvalidType, String::from("Patient.name"))
    );
    assert_eq!(
        error(r#"{"resourceType":"Patient","name":[{"given":["a",1]}]}"#),
        (
            DecodeErrorKind::InvalidType,
            String::from("Patient.name[0].given[1]")
        )
    );
}

#[test]
fn two_choice_variants_are_an_error() {
    assert_eq!(
        error(r#"{"resourceType":"Patient","deceasedBoolean":true,"deceasedDateTime":"2020"}"#),
        (
            DecodeErrorKind::InvalidValue,
            String::from("Patient.deceasedDateTime")
        )
    );
}

#[test]
fn bad_dates_are_an_error() {
    for date in ["2020-02-30", "20-01-01", "2020/01/01"] {
        let json = format!(r#"{{"resourceType":"Patient","birthDate":"{date}"}}"#);
        assert_eq!(
            error(&json),
            (
                DecodeErrorKind::InvalidValue,
                String::from("Patient.birthDate")
            ),
            "{date}"
        );
    }
}

#[test]
fn out_of_range_integers_are_an_error() {
    let cases = [
        (
            r#"{"resourceType":"RiskEvidenceSynthesis","sampleSize":{"numberOfStudies":2147483648}}"#,
            "RiskEvidenceSynthesis.sampleSize.numberOfStudies",
        ),
        (
            r#"{"resourceType":"Observation","valueInteger":1.5}"#,
            "Observation.valueInteger",
        ),
        (
            r#"{"resourceType":"ImagingStudy","numberOfSeries":-1}"#,
            "ImagingStudy.numberOfSeries",
        ),
        (
            r#"{"resourceType":"Patient","multipleBirthInteger":99999999999}"#,
            "Patient.multipleBirthInteger",
        ),
    ];
    for (json, path) in cases {
        assert_eq!(
            error(json),
            (DecodeErrorKind::InvalidValue, String::from(path)),
            "{json}"
        );
    }
}

#[test]
fn unknown_fields_and_resource_types_are_errors_in_strict_mode() {
    assert_eq!(
        error(r#"{"resourceType":"Patient","name":[{"nickname":"x"}]}"#),
        (
            DecodeErrorKind::UnknownField,
            String::from("Patient.name[0].nickname")
        )
    );
    assert_eq!(
        error(r#"{"resourceType":"Unicorn"}"#),
        (
            DecodeErrorKind::WrongResourceType,
            String::from("Unicorn.resourceType")
        )
    );
    assert_eq!(error(r#"{"id":"x"}"#).0, DecodeErrorKind::MissingField);
}

#[test]
fn truncated_json_is_an_eof_error() {
    let json = r#"{"resourceType":"Patient","name":[{"family":"Doe"}]}"#;
    for cut in 1..json.len() {
        let err = Resource::from_slice(&json.as_bytes()[..cut]).unwrap_err();
        assert!(
            matches!(err.kind, DecodeErrorKind::Eof | DecodeErrorKind::Syntax),
            "{cut}: {err}"
        );
    }
    assert_eq!(error(&json[..20]).0, DecodeErrorKind::Eof);
}

#[test]
fn deep_nesting_is_a_typed_error_not_a_stack_overflow() {
    let depth = 5_000;
    let json = format!(
        r#"{{"resourceType":"Patient","extension":[{}{}]}}"#,
        r#"{"url":"u","extension":["#.repeat(depth),
        "]}".repeat(depth)
    );
    assert_eq!(error(&json).0, DecodeErrorKind::TooDeep);
    // A lenient reader skips unknown properties, with the same depth limit.
    let json = format!(
        r#"{{"resourceType":"Basic","x":{}{}}}"#,
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let err = Resource::from_slice_with(json.as_bytes(), DecodeOptions::lenient()).unwrap_err();
    assert_eq!(
        (err.kind, err.path.as_str()),
        (DecodeErrorKind::TooDeep, "Basic.x")
    );
    // Resources contained in resources contained in resources.
    let json = format!(
        "{}{}",
        r#"{"resourceType":"Basic","contained":["#.repeat(depth),
        "]}".repeat(depth)
    );
    assert_eq!(error(&json).0, DecodeErrorKind::TooDeep);
}

#[test]
fn garbage_never_panics() {
    let seeds = [
        r#"{"resourceType":"Observation","component":[{"valueQuantity":{"value":1}}]}"#,
        r#"{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Patient"}}]}"#,
    ];
    for seed in seeds {
        let bytes = seed.as_bytes();
        for i in 0..bytes.len() {
            for replacement in [b'"', b'{', b'[', b'}', b']', b',', b':', b'1', 0xff] {
                let mut mutated = bytes.to_vec();
                mutated[i] = replacement;
                let _ = Resource::from_slice(&mutated);
            }
        }
    }
}

/// A `resourceType` after other keys is found by a quick look-ahead; what the look-ahead
/// passes over is still validated by the decode, and what it cannot answer (escapes) falls
/// back to the validating scan, so the answers and errors are those of a full read.
#[test]
fn a_late_resource_type_is_found_and_what_precedes_it_is_still_validated() {
    let ok = br#"{"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">\"resourceType\": {[</div>"},
        "contained":[{"resourceType":"Organization","id":"o"}],"id":"p","resourceType":"Patient"}"#;
    let resource = Resource::from_slice(ok).unwrap();
    assert_eq!(resource.resource_type(), "Patient");
    assert_eq!(resource.id(), Some("p"));
    let escaped = br#"{"id":"p","resourceType":"Pat\u0069ent"}"#;
    assert_eq!(
        Resource::from_slice(escaped).unwrap().resource_type(),
        "Patient"
    );
    for (bad, path) in [
        (
            &br#"{"id":"p","active":tru,"resourceType":"Patient"}"#[..],
            "Patient.active",
        ),
        (
            br#"{"id":"p","active":true,,"resourceType":"Patient"}"#,
            "Patient",
        ),
        (
            br#"{"gender":"male","gender":"female","resourceType":"Patient"}"#,
            "Patient.gender",
        ),
    ] {
        let err = Resource::from_slice(bad).unwrap_err();
        assert!(
            err.path.starts_with(path),
            "{}: {err}",
            String::from_utf8_lossy(bad)
        );
    }
    // Truncated after the type was found: the decode reports the truncation.
    let truncated = br#"{"id":"p","resourceType":"Patient","name":[{"family":"Do"#;
    let err = Resource::from_slice(truncated).unwrap_err();
    assert_eq!(err.kind, DecodeErrorKind::Eof, "{err}");
    assert_eq!(err.path, "Patient.name[0].family");
}

/// The whole document is checked as UTF-8 once; when it is not UTF-8, each string is checked
/// on its own, so the error still names the string's path and the first bad byte.
#[test]
fn invalid_utf8_names_its_string_and_offset() {
    for (prefix, bad, suffix, path) in [
        (
            &br#"{"resourceType":"Patient","name":[{"family":"Ab"#[..],
            &b"\xff"[..],
            &br#"c"}]}"#[..],
            "Patient.name[0].family",
        ),
        (
            br#"{"resourceType":"Patient","gender":"fe"#,
            b"\xc3\x28",
            br#"male"}"#,
            "Patient.gender",
        ),
        // Escapes before the bad byte: the unescaping path checks its runs too.
        (
            br#"{"resourceType":"Patient","name":[{"text":"a\"b"#,
            b"\xed\xa0\x80",
            br#"\"c"}]}"#,
            "Patient.name[0].text",
        ),
        // Text that is valid UTF-8 around the bad byte, several bytes per character.
        (
            r#"{"resourceType":"Patient","name":[{"family":"Größe 体重"#.as_bytes(),
            b"\xf0\x9f",
            br#""}]}"#,
            "Patient.name[0].family",
        ),
    ] {
        let input = [prefix, bad, suffix].concat();
        let err = Resource::from_slice(&input).unwrap_err();
        assert_eq!(err.kind, DecodeErrorKind::Syntax, "{err}");
        assert_eq!(err.path, path, "{err}");
        assert_eq!((err.line, err.column), (1, prefix.len() + 1), "{err}");
        // And the same strings, valid, decode and write back the same text.
        let valid = [prefix, "é".as_bytes(), suffix].concat();
        let resource = Resource::from_slice(&valid).unwrap();
        let written: serde_json::Value = serde_json::from_slice(&resource.to_vec()).unwrap();
        let expected: serde_json::Value = serde_json::from_slice(&valid).unwrap();
        assert_eq!(written, expected);
    }
}
