//! Lenient decoding keeps the last value of a duplicate property, drops empty values, and
//! reports each of these by kind and JSON path in a `DecodeReport`; what it writes back is
//! accepted by strict decoding.

use std::time::{Duration, Instant};

use fhir_core::DecodeErrorKind;
use fhir_r4::json::{self, DecodeReport};
use fhir_r4::resources::{Observation, Patient};
use fhir_r4::{DecodeOptions, Resource};

use DecodeErrorKind::{
    DuplicateProperty, EmptyValue, InvalidValue, MissingField, UnknownField, WrongResourceType,
};

fn lenient(json: &str) -> (Resource, DecodeReport) {
    Resource::from_slice_with_report(json.as_bytes(), DecodeOptions::lenient())
        .unwrap_or_else(|err| panic!("{json}: {err}"))
}

fn warnings(report: &DecodeReport) -> Vec<(DecodeErrorKind, &str)> {
    report
        .warnings()
        .iter()
        .map(|w| (w.kind, w.path.as_str()))
        .collect()
}

/// Decodes `json` leniently and checks what is kept (written back) and what is reported;
/// strict decoding must reject the input with one of the warnings and accept what lenient
/// decoding kept.
fn case(json: &str, kept: &str, reported: &[(DecodeErrorKind, &str)]) {
    let (resource, report) = lenient(json);
    let out = String::from_utf8(resource.to_vec()).unwrap();
    assert_eq!(out, kept, "kept: {json}");
    assert_eq!(warnings(&report), reported, "reported: {json}");
    let strict = Resource::from_slice(json.as_bytes()).unwrap_err();
    assert!(
        reported.contains(&(strict.kind, strict.path.as_str())),
        "the strict error is one of the warnings: {json}: {strict}"
    );
    Resource::from_slice(out.as_bytes()).unwrap_or_else(|err| panic!("{out}: {err}"));
}

#[test]
fn duplicates_keep_the_last_value_and_report_the_dropped_one() {
    case(
        r#"{"resourceType":"Patient","id":"a","id":"b"}"#,
        r#"{"resourceType":"Patient","id":"b"}"#,
        &[(DuplicateProperty, "Patient.id")],
    );
    case(
        r#"{"resourceType":"Patient","name":[{"family":"a"}],"name":[{"family":"b"},{"family":"c"}]}"#,
        r#"{"resourceType":"Patient","name":[{"family":"b"},{"family":"c"}]}"#,
        &[(DuplicateProperty, "Patient.name")],
    );
    case(
        r#"{"resourceType":"Patient","resourceType":"Patient","id":"a"}"#,
        r#"{"resourceType":"Patient","id":"a"}"#,
        &[(DuplicateProperty, "Patient.resourceType")],
    );
    case(
        r#"{"resourceType":"Patient","birthDate":"1970","_birthDate":{"id":"a"},"birthDate":"1980","_birthDate":{"id":"b"}}"#,
        r#"{"resourceType":"Patient","birthDate":"1980","_birthDate":{"id":"b"}}"#,
        &[
            (DuplicateProperty, "Patient.birthDate"),
            (DuplicateProperty, "Patient._birthDate"),
        ],
    );
    case(
        r#"{"resourceType":"Observation","valueQuantity":{"value":1},"valueQuantity":{"value":2}}"#,
        r#"{"resourceType":"Observation","valueQuantity":{"value":2}}"#,
        &[(DuplicateProperty, "Observation.valueQuantity")],
    );
    case(
        r#"{"resourceType":"Patient","extension":[{"url":"u","valueString":"a","_valueString":{"id":"x"},"valueString":"b"}]}"#,
        r#"{"resourceType":"Patient","extension":[{"url":"u","valueString":"b","_valueString":{"id":"x"}}]}"#,
        &[(DuplicateProperty, "Patient.extension[0].valueString")],
    );
    case(
        r#"{"resourceType":"Patient","contained":[{"resourceType":"Patient","id":"a","id":"b"}]}"#,
        r#"{"resourceType":"Patient","contained":[{"resourceType":"Patient","id":"b"}]}"#,
        &[(DuplicateProperty, "Patient.contained[0].id")],
    );
    case(
        r#"{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Patient","gender":"male","gender":"female"}}]}"#,
        r#"{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Patient","gender":"female"}}]}"#,
        &[(DuplicateProperty, "Bundle.entry[0].resource.gender")],
    );
    case(
        r#"{"resourceType":"Patient","name":[{"given":["a","b"],"_given":[{"id":"x"},null],"given":["c","d"]}]}"#,
        r#"{"resourceType":"Patient","name":[{"given":["c","d"],"_given":[{"id":"x"},null]}]}"#,
        &[(DuplicateProperty, "Patient.name[0].given")],
    );
    case(
        r#"{"resourceType":"Patient","name":[{"_given":[{"id":"x"}],"given":["a"],"_given":[null,{"id":"y"}]}]}"#,
        r#"{"resourceType":"Patient","name":[{"given":["a",null],"_given":[null,{"id":"y"}]}]}"#,
        &[
            (DuplicateProperty, "Patient.name[0]._given"),
            (InvalidValue, "Patient.name[0]._given"),
        ],
    );
    // The last value is `null`: nothing is kept, and both drops are reported.
    case(
        r#"{"resourceType":"Patient","id":"a","active":true,"id":null}"#,
        r#"{"resourceType":"Patient","active":true}"#,
        &[
            (DuplicateProperty, "Patient.id"),
            (EmptyValue, "Patient.id"),
        ],
    );
    // A `resourceType` naming another type has no lenient reading.
    let err = Resource::from_slice_with(
        br#"{"resourceType":"Patient","resourceType":"Observation"}"#,
        DecodeOptions::lenient(),
    )
    .unwrap_err();
    assert_eq!(
        (err.kind, err.path.as_str()),
        (DecodeErrorKind::WrongResourceType, "Patient.resourceType")
    );
}

#[test]
fn empty_values_are_dropped_and_reported() {
    case(
        r#"{"resourceType":"Patient","id":"p","name":[],"meta":{},"active":null}"#,
        r#"{"resourceType":"Patient","id":"p"}"#,
        &[
            (EmptyValue, "Patient.name"),
            (EmptyValue, "Patient.meta"),
            (EmptyValue, "Patient.active"),
        ],
    );
    case(
        r#"{"resourceType":"Patient","id":"p","name":[{},{"family":"f"},null]}"#,
        r#"{"resourceType":"Patient","id":"p","name":[{"family":"f"}]}"#,
        &[
            (EmptyValue, "Patient.name[0]"),
            (EmptyValue, "Patient.name[2]"),
        ],
    );
    // An object left with nothing once its empty content is dropped is dropped too.
    case(
        r#"{"resourceType":"Patient","id":"p","name":[{"given":[],"period":{"start":null}}]}"#,
        r#"{"resourceType":"Patient","id":"p"}"#,
        &[
            (EmptyValue, "Patient.name[0]"),
            (EmptyValue, "Patient.name[0].given"),
            (EmptyValue, "Patient.name[0].period"),
            (EmptyValue, "Patient.name[0].period.start"),
        ],
    );
    case(
        r#"{"resourceType":"Patient","birthDate":"1970","_birthDate":{},"deceasedBoolean":null}"#,
        r#"{"resourceType":"Patient","birthDate":"1970"}"#,
        &[
            (EmptyValue, "Patient._birthDate"),
            (EmptyValue, "Patient.deceasedBoolean"),
        ],
    );
    case(
        r#"{"resourceType":"Observation","status":"final","valueQuantity":{},"component":[{"valueQuantity":null}]}"#,
        r#"{"resourceType":"Observation","status":"final"}"#,
        &[
            (EmptyValue, "Observation.valueQuantity"),
            (EmptyValue, "Observation.component[0]"),
            (EmptyValue, "Observation.component[0].valueQuantity"),
        ],
    );
    case(
        r#"{"resourceType":"Patient","id":"p","extension":[{"url":"u","valueString":null,"_valueString":{}}]}"#,
        r#"{"resourceType":"Patient","id":"p","extension":[{"url":"u"}]}"#,
        &[
            (EmptyValue, "Patient.extension[0].valueString"),
            (EmptyValue, "Patient.extension[0]._valueString"),
        ],
    );
    case(
        r#"{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient","meta":{}}},null],"link":[]}"#,
        r#"{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient"}}]}"#,
        &[
            (EmptyValue, "Bundle.entry[0].resource.meta"),
            (EmptyValue, "Bundle.entry[1]"),
            (EmptyValue, "Bundle.link"),
        ],
    );
    case(
        r#"{"resourceType":"Patient","id":"p","contained":[null,{"resourceType":"Basic","id":"b"}]}"#,
        r#"{"resourceType":"Patient","id":"p","contained":[{"resourceType":"Basic","id":"b"}]}"#,
        &[(EmptyValue, "Patient.contained[0]")],
    );
}

#[test]
fn misaligned_primitive_arrays_are_repaired_and_reported() {
    // Items with neither a value nor an extension are dropped.
    case(
        r#"{"resourceType":"Patient","name":[{"family":"f","given":["a",null,"b"]}]}"#,
        r#"{"resourceType":"Patient","name":[{"family":"f","given":["a","b"]}]}"#,
        &[(EmptyValue, "Patient.name[0].given")],
    );
    case(
        r#"{"resourceType":"Patient","name":[{"family":"f","given":[null]}]}"#,
        r#"{"resourceType":"Patient","name":[{"family":"f"}]}"#,
        &[(EmptyValue, "Patient.name[0].given")],
    );
    case(
        r#"{"resourceType":"Patient","name":[{"given":["a","b"],"_given":[null,null]}]}"#,
        r#"{"resourceType":"Patient","name":[{"given":["a","b"]}]}"#,
        &[(EmptyValue, "Patient.name[0]._given")],
    );
    // A `_field` array longer than its values: the values are padded with `null`.
    case(
        r#"{"resourceType":"Patient","name":[{"given":["a"],"_given":[null,{"id":"x"}]}]}"#,
        r#"{"resourceType":"Patient","name":[{"given":["a",null],"_given":[null,{"id":"x"}]}]}"#,
        &[(InvalidValue, "Patient.name[0]._given")],
    );
    case(
        r#"{"resourceType":"Patient","name":[{"_given":[null,{"id":"x"}],"given":["a"]}]}"#,
        r#"{"resourceType":"Patient","name":[{"given":["a",null],"_given":[null,{"id":"x"}]}]}"#,
        &[(InvalidValue, "Patient.name[0]._given")],
    );
    // Shorter: the `_field` array is padded with `null`, in either order.
    case(
        r#"{"resourceType":"Patient","name":[{"given":["a","b"],"_given":[{"id":"x"}]}]}"#,
        r#"{"resourceType":"Patient","name":[{"given":["a","b"],"_given":[{"id":"x"},null]}]}"#,
        &[(InvalidValue, "Patient.name[0]._given")],
    );
    case(
        r#"{"resourceType":"Patient","name":[{"_given":[{"id":"x"}],"given":["a","b"]}]}"#,
        r#"{"resourceType":"Patient","name":[{"given":["a","b"],"_given":[{"id":"x"},null]}]}"#,
        &[(InvalidValue, "Patient.name[0]._given")],
    );
    // A null extension without values stands for nothing and is dropped.
    case(
        r#"{"resourceType":"Patient","name":[{"_given":[null,{"id":"x"}]}]}"#,
        r#"{"resourceType":"Patient","name":[{"_given":[{"id":"x"}]}]}"#,
        &[(EmptyValue, "Patient.name[0]._given")],
    );
    // A dropped array does not count as read: what follows it is compared with nothing.
    case(
        r#"{"resourceType":"Patient","name":[{"_given":[null],"given":["a"]}]}"#,
        r#"{"resourceType":"Patient","name":[{"given":["a"]}]}"#,
        &[(EmptyValue, "Patient.name[0]._given")],
    );
    case(
        r#"{"resourceType":"Patient","name":[{"given":[],"_given":[{"id":"x"}]}]}"#,
        r#"{"resourceType":"Patient","name":[{"_given":[{"id":"x"}]}]}"#,
        &[(EmptyValue, "Patient.name[0].given")],
    );
    case(
        r#"{"resourceType":"Patient","name":[{"given":null,"_given":[{"id":"x"}]}]}"#,
        r#"{"resourceType":"Patient","name":[{"_given":[{"id":"x"}]}]}"#,
        &[(EmptyValue, "Patient.name[0].given")],
    );
}

#[test]
fn unknown_properties_keep_the_last_duplicate_and_raw_json_reports_its_own() {
    let (resource, report) = lenient(
        r#"{"resourceType":"Patient","x":1,"id":"p","x":{"a":1,"b":[{"c":1,"c":2}],"a":2}}"#,
    );
    assert_eq!(
        String::from_utf8(resource.to_vec()).unwrap(),
        r#"{"resourceType":"Patient","id":"p","x":{"a":1,"b":[{"c":1,"c":2}],"a":2}}"#,
        "the last value, kept as read"
    );
    assert_eq!(
        warnings(&report),
        [
            (DuplicateProperty, "Patient.x"),
            (DuplicateProperty, "Patient.x.b[0].c"),
            (DuplicateProperty, "Patient.x.a"),
        ]
    );
    // A resource type R4 does not define is kept as raw JSON, and reported the same way.
    let (resource, report) = lenient(r#"{"resourceType":"Unicorn","horn":1,"horn":2}"#);
    assert_eq!(resource.resource_type(), "Unicorn");
    assert_eq!(warnings(&report), [(DuplicateProperty, "Unicorn.horn")]);
}

#[test]
fn a_typed_resource_without_resource_type_is_reported() {
    let (patient, report) = json::from_slice_with_report::<Patient>(
        br#"{"id":"a"}"#,
        "Patient",
        DecodeOptions::lenient(),
    )
    .unwrap();
    assert_eq!(patient.id.as_deref(), Some("a"));
    assert_eq!(warnings(&report), [(MissingField, "Patient.resourceType")]);
    let (observation, report) = json::from_slice_with_report::<Observation>(
        br#"{"resourceType":"Observation","status":"final","status":"amended"}"#,
        "Observation",
        DecodeOptions::lenient(),
    )
    .unwrap();
    assert_eq!(
        observation
            .status
            .and_then(|s| s.value)
            .map(|s| s.as_str().to_owned()),
        Some(String::from("amended"))
    );
    assert_eq!(
        warnings(&report),
        [(DuplicateProperty, "Observation.status")]
    );
}

#[test]
fn warnings_carry_position_and_message_and_strict_reports_are_empty() {
    let json = "{\"resourceType\":\"Patient\",\n  \"id\":\"a\",\n  \"id\":\"b\"}";
    let (_, report) = lenient(json);
    let [warning] = report.warnings() else {
        panic!("{report:?}");
    };
    assert_eq!((warning.line, warning.column), (3, 8));
    assert_eq!(
        warning.message,
        "duplicate property `id`: the earlier value was dropped"
    );
    assert_eq!(
        warning.to_string(),
        "duplicate property at `Patient.id` (line 3, column 8): duplicate property `id`: the earlier value was dropped"
    );
    let (_, report) = Resource::from_slice_with_report(
        br#"{"resourceType":"Patient","id":"a"}"#,
        DecodeOptions::default(),
    )
    .unwrap();
    assert!(report.is_empty());
    // Without the report, lenient decoding keeps the same values.
    let resource = Resource::from_slice_with(json.as_bytes(), DecodeOptions::lenient()).unwrap();
    assert_eq!(resource.id(), Some("b"));
}

#[test]
fn many_unknown_properties_take_linear_time() {
    // A linear search per kept property made this quadratic: about a minute in a debug build.
    let mut json = String::from(r#"{"resourceType":"Patient""#);
    for i in 0..100_000 {
        json.push_str(&format!(r#","k{i}":{i}"#));
    }
    json.push_str(r#","k7":"last"}"#);
    let start = Instant::now();
    let (resource, report) = lenient(&json);
    let elapsed = start.elapsed();
    assert_eq!(warnings(&report), [(DuplicateProperty, "Patient.k7")]);
    let out = String::from_utf8(resource.to_vec()).unwrap();
    assert!(out.contains(r#","k7":"last","k8":8,"#), "kept in its place");
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
}

/// Every way of breaking `seeds` by one token: neither mode panics, a strict success is a
/// lenient one with an empty report, and what lenient decoding writes back reads again to the
/// same resource with nothing to report (strictly, too, but for the unknown properties kept).
#[test]
fn lenient_output_of_mangled_documents_reads_strictly() {
    let seeds = [
        r#"{"resourceType":"Patient","id":"p","name":[{"given":["a",null],"_given":[null,{"id":"x"}],"period":{"start":"2020"}}],"birthDate":"1970","_birthDate":{"extension":[{"url":"u","valueString":"s"}]}}"#,
        r#"{"resourceType":"Observation","status":"final","code":{"coding":[{"code":"c"}]},"valueQuantity":{"value":1.50},"component":[{"code":{"text":"t"},"valueString":"v"}]}"#,
        r#"{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient","meta":{"profile":["a","b"],"_profile":[{"id":"m"},null]}}}]}"#,
    ];
    let tokens = [
        "null",
        "[]",
        "{}",
        "[null]",
        "[null,null]",
        ",",
        r#"{"id":"q"}"#,
        r#","id":"z""#,
        r#""x":1,"#,
        r#","given":["q"]"#,
        r#","given":[null,"q"]"#,
        r#","_given":[{"id":"y"}]"#,
        r#","_given":[null,{"id":"y"},null]"#,
        r#","_profile":[null]"#,
        r#","resourceType":"Patient""#,
        r#","valueString":"w""#,
        r#","_valueString":{}"#,
    ];
    for seed in seeds {
        for at in 0..=seed.len() {
            for token in tokens {
                let mut mangled = String::from(&seed[..at]);
                mangled.push_str(token);
                mangled.push_str(&seed[at..]);
                check_modes_agree(&mangled);
            }
        }
    }
}

fn check_modes_agree(json: &str) {
    let strict = Resource::from_slice(json.as_bytes());
    let Ok((resource, report)) =
        Resource::from_slice_with_report(json.as_bytes(), DecodeOptions::lenient())
    else {
        return;
    };
    if let Ok(strict) = strict {
        assert!(report.is_empty(), "{json}: {report:?}");
        assert_eq!(strict, resource, "{json}");
    }
    let out = resource.to_vec();
    let wrote = String::from_utf8_lossy(&out);
    let (again, report) = Resource::from_slice_with_report(&out, DecodeOptions::lenient())
        .unwrap_or_else(|err| panic!("{json}\n  wrote {wrote}\n  {err}"));
    assert!(report.is_empty(), "{json}\n  wrote {wrote}\n  {report:?}");
    assert_eq!(again, resource, "{json}");
    // Unknown properties and resource types are kept, not repaired: strictly, they are all
    // that can be wrong.
    if let Err(err) = Resource::from_slice(&out) {
        assert!(
            matches!(err.kind, UnknownField | WrongResourceType),
            "{json}\n  wrote {wrote}\n  {err}"
        );
    }
}
