//! Strict decoding (the default) rejects what FHIR JSON never contains: duplicate properties,
//! empty arrays and objects, misplaced `null`s, misaligned primitive arrays and resources
//! without `resourceType`. Each case names the error kind and the exact path, and is decoded
//! both as `fhir_r4::Resource` and as the concrete model of its `resourceType`.

use fhir_core::{DecodeError, DecodeErrorKind, Resource as _};
use fhir_r4::Resource;
use fhir_r4::resources::{Bundle, Observation, Parameters, Patient};

use DecodeErrorKind::{DuplicateProperty, EmptyValue, InvalidValue, MissingField};

/// Decodes `json` as the model named by its `resourceType`, which every case puts first.
fn typed(json: &str) -> Result<(), DecodeError> {
    let rest = json.strip_prefix(r#"{"resourceType":""#).unwrap();
    let resource_type = &rest[..rest.find('"').unwrap()];
    match resource_type {
        "Patient" => Patient::from_json_slice(json.as_bytes()).map(drop),
        "Observation" => Observation::from_json_slice(json.as_bytes()).map(drop),
        "Bundle" => Bundle::from_json_slice(json.as_bytes()).map(drop),
        "Parameters" => Parameters::from_json_slice(json.as_bytes()).map(drop),
        other => panic!("no typed decoder for {other}"),
    }
}

/// Asserts that both the `Resource` enum and the concrete model reject `json` with `kind` at
/// `path`.
fn rejects(json: &str, kind: DecodeErrorKind, path: &str) {
    let err = Resource::from_slice(json.as_bytes()).unwrap_err();
    assert_eq!(
        (err.kind, err.path.as_str()),
        (kind, path),
        "Resource: {json}\n{err}"
    );
    let err = typed(json).unwrap_err();
    assert_eq!(
        (err.kind, err.path.as_str()),
        (kind, path),
        "typed: {json}\n{err}"
    );
}

fn table(cases: &[(&str, DecodeErrorKind, &str)]) {
    for &(json, kind, path) in cases {
        rejects(json, kind, path);
    }
}

#[test]
fn duplicate_properties_are_rejected_in_every_kind_of_object() {
    table(&[
        // Plain values, arrays and `resourceType`.
        (
            r#"{"resourceType":"Patient","id":"a","id":"b"}"#,
            DuplicateProperty,
            "Patient.id",
        ),
        (
            r#"{"resourceType":"Patient","id":"a","id":"a"}"#,
            DuplicateProperty,
            "Patient.id",
        ),
        (
            r#"{"resourceType":"Patient","name":[{"family":"a"}],"name":[{"family":"b"}]}"#,
            DuplicateProperty,
            "Patient.name",
        ),
        (
            r#"{"resourceType":"Patient","resourceType":"Patient"}"#,
            DuplicateProperty,
            "Patient.resourceType",
        ),
        (
            r#"{"resourceType":"Patient","id":"a","resourceType":"Observation"}"#,
            DuplicateProperty,
            "Patient.resourceType",
        ),
        // Primitives and their `_field` element objects.
        (
            r#"{"resourceType":"Patient","birthDate":"1970","birthDate":"1980"}"#,
            DuplicateProperty,
            "Patient.birthDate",
        ),
        (
            r#"{"resourceType":"Patient","_birthDate":{"id":"a"},"birthDate":"1970","_birthDate":{"id":"b"}}"#,
            DuplicateProperty,
            "Patient._birthDate",
        ),
        (
            r#"{"resourceType":"Patient","_birthDate":{"id":"a","id":"b"}}"#,
            DuplicateProperty,
            "Patient._birthDate.id",
        ),
        // Choice variants, primitive and complex.
        (
            r#"{"resourceType":"Patient","deceasedBoolean":true,"deceasedBoolean":false}"#,
            DuplicateProperty,
            "Patient.deceasedBoolean",
        ),
        (
            r#"{"resourceType":"Patient","_deceasedBoolean":{"id":"a"},"deceasedBoolean":true,"_deceasedBoolean":{"id":"b"}}"#,
            DuplicateProperty,
            "Patient._deceasedBoolean",
        ),
        (
            r#"{"resourceType":"Observation","valueQuantity":{"value":1},"valueQuantity":{"value":2}}"#,
            DuplicateProperty,
            "Observation.valueQuantity",
        ),
        (
            r#"{"resourceType":"Observation","valueQuantity":{"value":1,"value":2}}"#,
            DuplicateProperty,
            "Observation.valueQuantity.value",
        ),
        (
            r#"{"resourceType":"Observation","component":[{"code":{"text":"a"},"valueQuantity":{"unit":"a","unit":"b"}}]}"#,
            DuplicateProperty,
            "Observation.component[0].valueQuantity.unit",
        ),
        // Extensions and their open-type values.
        (
            r#"{"resourceType":"Patient","extension":[{"url":"a","url":"b"}]}"#,
            DuplicateProperty,
            "Patient.extension[0].url",
        ),
        (
            r#"{"resourceType":"Patient","extension":[{"url":"u","valueString":"a","valueString":"b"}]}"#,
            DuplicateProperty,
            "Patient.extension[0].valueString",
        ),
        (
            r#"{"resourceType":"Patient","extension":[{"url":"u","_valueString":{"id":"a"},"_valueString":{"id":"b"}}]}"#,
            DuplicateProperty,
            "Patient.extension[0]._valueString",
        ),
        (
            r#"{"resourceType":"Patient","extension":[{"url":"u","valueQuantity":{"value":1},"valueQuantity":{"value":1}}]}"#,
            DuplicateProperty,
            "Patient.extension[0].valueQuantity",
        ),
        (
            r#"{"resourceType":"Patient","extension":[{"url":"u","extension":[{"url":"v","valueCoding":{"code":"a","code":"b"}}]}]}"#,
            DuplicateProperty,
            "Patient.extension[0].extension[0].valueCoding.code",
        ),
        (
            r#"{"resourceType":"Parameters","parameter":[{"name":"a","valueString":"x","valueString":"y"}]}"#,
            DuplicateProperty,
            "Parameters.parameter[0].valueString",
        ),
        // Backbone elements, references, element objects of repeating primitives.
        (
            r#"{"resourceType":"Patient","contact":[{"gender":"male","gender":"female"}]}"#,
            DuplicateProperty,
            "Patient.contact[0].gender",
        ),
        (
            r#"{"resourceType":"Patient","managingOrganization":{"reference":"a","reference":"b"}}"#,
            DuplicateProperty,
            "Patient.managingOrganization.reference",
        ),
        (
            r#"{"resourceType":"Patient","name":[{"given":["a"],"given":["b"]}]}"#,
            DuplicateProperty,
            "Patient.name[0].given",
        ),
        // The first `given` holds only a null, so only the per-object bit can tell.
        (
            r#"{"resourceType":"Patient","name":[{"given":[null],"_given":[{"id":"x"}],"given":["b"]}]}"#,
            DuplicateProperty,
            "Patient.name[0].given",
        ),
        (
            r#"{"resourceType":"Patient","name":[{"given":["a"],"_given":[{"id":"x"}],"_given":[{"id":"y"}]}]}"#,
            DuplicateProperty,
            "Patient.name[0]._given",
        ),
        (
            r#"{"resourceType":"Patient","name":[{"given":["a"],"_given":[{"id":"x","id":"y"}]}]}"#,
            DuplicateProperty,
            "Patient.name[0]._given[0].id",
        ),
        (
            r#"{"resourceType":"Patient","meta":{"profile":["a"],"profile":["b"]}}"#,
            DuplicateProperty,
            "Patient.meta.profile",
        ),
        // Contained resources and Bundle entries.
        (
            r#"{"resourceType":"Patient","contained":[{"resourceType":"Patient","id":"a","id":"b"}]}"#,
            DuplicateProperty,
            "Patient.contained[0].id",
        ),
        (
            r#"{"resourceType":"Patient","contained":[{"resourceType":"Observation","resourceType":"Observation"}]}"#,
            DuplicateProperty,
            "Patient.contained[0].resourceType",
        ),
        (
            r#"{"resourceType":"Patient","contained":[{"resourceType":"Basic"}],"contained":[{"resourceType":"Basic"}]}"#,
            DuplicateProperty,
            "Patient.contained",
        ),
        (
            r#"{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient","id":"a","id":"b"}}]}"#,
            DuplicateProperty,
            "Bundle.entry[0].resource.id",
        ),
        (
            r#"{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Patient"},"resource":{"resourceType":"Patient"}}]}"#,
            DuplicateProperty,
            "Bundle.entry[0].resource",
        ),
        (
            r#"{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Observation","valueQuantity":{"value":1},"valueQuantity":{"value":2}}}]}"#,
            DuplicateProperty,
            "Bundle.entry[0].resource.valueQuantity",
        ),
    ]);
}

#[test]
fn empty_arrays_and_objects_are_rejected() {
    table(&[
        (
            r#"{"resourceType":"Patient","name":[]}"#,
            EmptyValue,
            "Patient.name",
        ),
        (
            r#"{"resourceType":"Patient","name":[{}]}"#,
            EmptyValue,
            "Patient.name[0]",
        ),
        (
            r#"{"resourceType":"Patient","name":[{"given":[]}]}"#,
            EmptyValue,
            "Patient.name[0].given",
        ),
        (
            r#"{"resourceType":"Patient","name":[{"given":["a"],"_given":[]}]}"#,
            EmptyValue,
            "Patient.name[0]._given",
        ),
        (
            r#"{"resourceType":"Patient","name":[{"given":["a"],"_given":[{}]}]}"#,
            EmptyValue,
            "Patient.name[0]._given[0]",
        ),
        (
            r#"{"resourceType":"Patient","meta":{}}"#,
            EmptyValue,
            "Patient.meta",
        ),
        (
            r#"{"resourceType":"Patient","birthDate":"1970","_birthDate":{}}"#,
            EmptyValue,
            "Patient._birthDate",
        ),
        (
            r#"{"resourceType":"Patient","deceasedBoolean":true,"_deceasedBoolean":{}}"#,
            EmptyValue,
            "Patient._deceasedBoolean",
        ),
        (
            r#"{"resourceType":"Patient","contained":[]}"#,
            EmptyValue,
            "Patient.contained",
        ),
        (
            r#"{"resourceType":"Patient","extension":[{"url":"u","extension":[]}]}"#,
            EmptyValue,
            "Patient.extension[0].extension",
        ),
        (
            r#"{"resourceType":"Patient","extension":[{"url":"u","valueQuantity":{}}]}"#,
            EmptyValue,
            "Patient.extension[0].valueQuantity",
        ),
        (
            r#"{"resourceType":"Patient","extension":[{"url":"u","valueString":"a","_valueString":{}}]}"#,
            EmptyValue,
            "Patient.extension[0]._valueString",
        ),
        (
            r#"{"resourceType":"Observation","valueQuantity":{}}"#,
            EmptyValue,
            "Observation.valueQuantity",
        ),
        (
            r#"{"resourceType":"Observation","code":{"coding":[{}]}}"#,
            EmptyValue,
            "Observation.code.coding[0]",
        ),
        (
            r#"{"resourceType":"Bundle","entry":[]}"#,
            EmptyValue,
            "Bundle.entry",
        ),
        (
            r#"{"resourceType":"Bundle","entry":[{}]}"#,
            EmptyValue,
            "Bundle.entry[0]",
        ),
        (
            r#"{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Patient","meta":{}}}]}"#,
            EmptyValue,
            "Bundle.entry[0].resource.meta",
        ),
        (
            r#"{"resourceType":"Patient","contained":[{"resourceType":"Patient","name":[]}]}"#,
            EmptyValue,
            "Patient.contained[0].name",
        ),
    ]);
}

#[test]
fn null_is_rejected_outside_arrays_of_primitives() {
    table(&[
        (
            r#"{"resourceType":"Patient","id":null}"#,
            EmptyValue,
            "Patient.id",
        ),
        (
            r#"{"resourceType":"Patient","active":null}"#,
            EmptyValue,
            "Patient.active",
        ),
        (
            r#"{"resourceType":"Patient","name":null}"#,
            EmptyValue,
            "Patient.name",
        ),
        (
            r#"{"resourceType":"Patient","name":[null]}"#,
            EmptyValue,
            "Patient.name[0]",
        ),
        (
            r#"{"resourceType":"Patient","meta":null}"#,
            EmptyValue,
            "Patient.meta",
        ),
        (
            r#"{"resourceType":"Patient","_birthDate":null}"#,
            EmptyValue,
            "Patient._birthDate",
        ),
        (
            r#"{"resourceType":"Patient","name":[{"given":null}]}"#,
            EmptyValue,
            "Patient.name[0].given",
        ),
        (
            r#"{"resourceType":"Patient","name":[{"_given":null}]}"#,
            EmptyValue,
            "Patient.name[0]._given",
        ),
        (
            r#"{"resourceType":"Patient","contained":[null]}"#,
            EmptyValue,
            "Patient.contained[0]",
        ),
        (
            r#"{"resourceType":"Patient","extension":[{"url":"u","valueString":null}]}"#,
            EmptyValue,
            "Patient.extension[0].valueString",
        ),
        (
            r#"{"resourceType":"Patient","deceasedBoolean":null}"#,
            EmptyValue,
            "Patient.deceasedBoolean",
        ),
        (
            r#"{"resourceType":"Observation","valueQuantity":null}"#,
            EmptyValue,
            "Observation.valueQuantity",
        ),
        (
            r#"{"resourceType":"Observation","valueQuantity":{"value":null}}"#,
            EmptyValue,
            "Observation.valueQuantity.value",
        ),
        (
            r#"{"resourceType":"Bundle","entry":[{"resource":null}]}"#,
            EmptyValue,
            "Bundle.entry[0].resource",
        ),
    ]);
}

#[test]
fn aligned_primitive_arrays_must_say_something_at_every_index() {
    table(&[
        // Only nulls.
        (
            r#"{"resourceType":"Patient","name":[{"given":[null]}]}"#,
            EmptyValue,
            "Patient.name[0].given",
        ),
        (
            r#"{"resourceType":"Patient","name":[{"_given":[null,null]}]}"#,
            EmptyValue,
            "Patient.name[0]._given",
        ),
        (
            r#"{"resourceType":"Patient","name":[{"given":["a","b"],"_given":[null,null]}]}"#,
            EmptyValue,
            "Patient.name[0]._given",
        ),
        // An index null in both arrays, in either order.
        (
            r#"{"resourceType":"Patient","name":[{"given":["a",null],"_given":[{"id":"x"},null]}]}"#,
            EmptyValue,
            "Patient.name[0].given",
        ),
        (
            r#"{"resourceType":"Patient","name":[{"_given":[null,{"id":"x"},null],"given":["a",null,null]}]}"#,
            EmptyValue,
            "Patient.name[0].given",
        ),
        // A null value without a `_field` array, a null extension without values.
        (
            r#"{"resourceType":"Patient","name":[{"given":["a",null]}]}"#,
            EmptyValue,
            "Patient.name[0].given",
        ),
        (
            r#"{"resourceType":"Patient","name":[{"_given":[null,{"id":"x"}]}]}"#,
            EmptyValue,
            "Patient.name[0]._given",
        ),
        // A `_field` array longer than its values, in either order.
        (
            r#"{"resourceType":"Patient","name":[{"given":["a"],"_given":[null,{"id":"x"}]}]}"#,
            InvalidValue,
            "Patient.name[0]._given",
        ),
        (
            r#"{"resourceType":"Patient","name":[{"_given":[null,{"id":"x"}],"given":["a"]}]}"#,
            InvalidValue,
            "Patient.name[0]._given",
        ),
        // Shorter, in either order: both arrays have one item per repetition.
        (
            r#"{"resourceType":"Patient","name":[{"given":["a","b"],"_given":[{"id":"x"}]}]}"#,
            InvalidValue,
            "Patient.name[0]._given",
        ),
        (
            r#"{"resourceType":"Patient","name":[{"_given":[{"id":"x"}],"given":["a","b"]}]}"#,
            InvalidValue,
            "Patient.name[0]._given",
        ),
        (
            r#"{"resourceType":"Patient","name":[{"given":["a",null],"_given":[{"id":"x"}]}]}"#,
            InvalidValue,
            "Patient.name[0]._given",
        ),
        // The same rules in a resource's own repeating primitive, a backbone element and a
        // contained resource.
        (
            r#"{"resourceType":"Patient","meta":{"profile":["a",null]}}"#,
            EmptyValue,
            "Patient.meta.profile",
        ),
        (
            r#"{"resourceType":"Patient","address":[{"line":["a"],"_line":[null,{"id":"x"}]}]}"#,
            InvalidValue,
            "Patient.address[0]._line",
        ),
        (
            r#"{"resourceType":"Patient","contained":[{"resourceType":"Patient","name":[{"given":[null]}]}]}"#,
            EmptyValue,
            "Patient.contained[0].name[0].given",
        ),
        (
            r#"{"resourceType":"Observation","component":[{"code":{"text":"c"},"valueString":"x","_valueString":{"extension":[{"url":"u","valueHumanName":{"given":[null]}}]}}]}"#,
            EmptyValue,
            "Observation.component[0]._valueString.extension[0].valueHumanName.given",
        ),
    ]);
}

#[test]
fn what_is_valid_fhir_json_is_still_accepted() {
    for json in [
        // Nulls where the other array has an extension, in either order.
        r#"{"resourceType":"Patient","name":[{"given":["a",null],"_given":[null,{"id":"x"}]}]}"#,
        r#"{"resourceType":"Patient","name":[{"_given":[null,{"id":"x"}],"given":["a",null]}]}"#,
        // Extensions without values, as in the official examples (`Timing._event`).
        r#"{"resourceType":"Patient","name":[{"_given":[{"id":"x"}]}]}"#,
        r#"{"resourceType":"Patient","name":[{"_given":[{"id":"x"},{"id":"y"}]}]}"#,
        // Nulls in `_field` for values without an extension.
        r#"{"resourceType":"Patient","name":[{"given":["a","b"],"_given":[{"id":"x"},null]}]}"#,
        // The same property name in different objects, and a choice value with its extension.
        r#"{"resourceType":"Patient","id":"a","meta":{"id":"a"},"contained":[{"resourceType":"Patient","id":"a"}],"deceasedBoolean":true,"_deceasedBoolean":{"id":"d"}}"#,
    ] {
        let resource = Resource::from_slice(json.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        typed(json).unwrap_or_else(|e| panic!("{e}"));
        // Written back canonically (values before `_field`, both of one length), with
        // nothing lost.
        assert_eq!(Resource::from_slice(&resource.to_vec()).unwrap(), resource);
    }
}

#[test]
fn a_resource_decoded_as_its_type_needs_its_resource_type() {
    let err = Patient::from_json_slice(br#"{"id":"a"}"#).unwrap_err();
    assert_eq!(
        (err.kind, err.path.as_str()),
        (MissingField, "Patient.resourceType")
    );
    let err = Observation::from_json_slice(br#"{"status":"final"}"#).unwrap_err();
    assert_eq!(
        (err.kind, err.path.as_str()),
        (MissingField, "Observation.resourceType")
    );
    // Through the enum, the type is needed to choose the model at all, at any depth.
    let err = Resource::from_slice(br#"{"id":"a"}"#).unwrap_err();
    assert_eq!(
        (err.kind, err.path.as_str()),
        (MissingField, "resourceType")
    );
    table(&[
        (
            r#"{"resourceType":"Patient","contained":[{"id":"a"}]}"#,
            MissingField,
            "Patient.contained[0].resourceType",
        ),
        (
            r#"{"resourceType":"Bundle","entry":[{"resource":{"id":"a"}}]}"#,
            MissingField,
            "Bundle.entry[0].resource.resourceType",
        ),
        (
            r#"{"resourceType":"Parameters","parameter":[{"name":"a","resource":{}}]}"#,
            MissingField,
            "Parameters.parameter[0].resource.resourceType",
        ),
    ]);
}
