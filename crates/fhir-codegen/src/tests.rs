use serde_json::json;

use crate::ir::{FieldType, TypeKind};
use crate::{Definitions, Ir};

fn element(path: &str, types: &[&str], min: u32, max: &str) -> serde_json::Value {
    json!({
        "path": path,
        "short": format!("The {path} element"),
        "min": min,
        "max": max,
        "type": types.iter().map(|code| json!({"code": code})).collect::<Vec<_>>(),
    })
}

fn definitions(elements: Vec<serde_json::Value>) -> Definitions {
    let mut defs = Definitions::default();
    defs.add(json!({
        "resourceType": "StructureDefinition",
        "url": "http://example.org/StructureDefinition/Thing",
        "name": "Thing",
        "kind": "resource",
        "abstract": false,
        "derivation": "specialization",
        "type": "Thing",
        "snapshot": {"element": elements},
    }))
    .unwrap();
    defs
}

fn thing(extra: Vec<serde_json::Value>) -> Ir {
    let mut elements = vec![element("Thing", &[], 0, "*")];
    elements.extend(extra);
    Ir::lower(&definitions(elements)).unwrap()
}

#[test]
fn cardinality_and_types_are_lowered() {
    let ir = thing(vec![
        element("Thing.status", &["code"], 1, "1"),
        element("Thing.note", &["Annotation"], 0, "*"),
        element(
            "Thing.id",
            &["http://hl7.org/fhirpath/System.String"],
            0,
            "1",
        ),
    ]);
    let ty = &ir.types[0];
    assert_eq!(ty.kind, TypeKind::Resource);
    let fields = &ty.structs[0].fields;
    assert_eq!(
        fields
            .iter()
            .map(|f| (f.rust_name.as_str(), f.min, f.many))
            .collect::<Vec<_>>(),
        [("status", 1, false), ("note", 0, true), ("id", 0, false)]
    );
    assert_eq!(fields[0].ty, FieldType::Primitive(String::from("code")));
    assert_eq!(fields[1].ty, FieldType::Complex(String::from("Annotation")));
    assert_eq!(fields[2].ty, FieldType::PlainString);
}

#[test]
fn choice_elements_become_one_enum_field() {
    let ir = thing(vec![element(
        "Thing.value[x]",
        &["string", "Quantity"],
        0,
        "1",
    )]);
    let ty = &ir.types[0];
    assert_eq!(ty.structs[0].fields[0].json_name, "value");
    assert_eq!(
        ty.structs[0].fields[0].ty,
        FieldType::Choice(String::from("ThingValue"))
    );
    let variants: Vec<_> = ty.choices[0]
        .variants
        .iter()
        .map(|v| (v.name.as_str(), v.json_name.as_str()))
        .collect();
    assert_eq!(
        variants,
        [("String", "valueString"), ("Quantity", "valueQuantity")]
    );
}

#[test]
fn backbone_elements_and_content_references_become_structs() {
    let mut node_ref = element("Thing.node.node", &[], 0, "*");
    node_ref["contentReference"] = json!("#Thing.node");
    let ir = thing(vec![
        element("Thing.node", &["BackboneElement"], 0, "*"),
        element("Thing.node.label", &["string"], 0, "1"),
        node_ref,
    ]);
    let ty = &ir.types[0];
    let names: Vec<_> = ty.structs.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Thing", "ThingNode"]);
    assert_eq!(
        ty.structs[1].fields[1].ty,
        FieldType::Backbone(String::from("ThingNode"))
    );
}

#[test]
fn bindings_drop_the_value_set_version() {
    let mut status = element("Thing.status", &["code"], 1, "1");
    status["binding"] =
        json!({"strength": "required", "valueSet": "http://hl7.org/fhir/ValueSet/x|4.0.1"});
    let ir = thing(vec![status]);
    let binding = ir.types[0].structs[0].fields[0].binding.clone().unwrap();
    assert_eq!(binding.strength, "required");
    assert_eq!(
        binding.value_set.as_deref(),
        Some("http://hl7.org/fhir/ValueSet/x")
    );
}

#[test]
fn abstract_and_constraint_definitions_are_skipped() {
    let mut defs = definitions(vec![element("Thing", &[], 0, "*")]);
    defs.add(json!({
        "resourceType": "StructureDefinition",
        "url": "http://example.org/StructureDefinition/SimpleThing",
        "name": "SimpleThing",
        "kind": "resource",
        "derivation": "constraint",
        "type": "Thing",
        "snapshot": {"element": [element("Thing", &[], 0, "*")]},
    }))
    .unwrap();
    let ir = Ir::lower(&defs).unwrap();
    assert_eq!(ir.types.len(), 1);
}

#[test]
fn search_parameters_and_value_sets_are_read() {
    let mut defs = definitions(vec![element("Thing", &[], 0, "*")]);
    defs.add(json!({
        "resourceType": "SearchParameter",
        "url": "http://example.org/SearchParameter/Thing-status",
        "code": "status",
        "base": ["Thing"],
        "type": "token",
        "expression": "Thing.status",
    }))
    .unwrap();
    defs.add(json!({
        "resourceType": "CodeSystem",
        "url": "http://example.org/CodeSystem/status",
        "concept": [{"code": "a", "concept": [{"code": "a1"}]}, {"code": "b"}],
    }))
    .unwrap();
    defs.add(json!({
        "resourceType": "ValueSet",
        "url": "http://example.org/ValueSet/status",
        "compose": {"include": [{"system": "http://example.org/CodeSystem/status"}]},
    }))
    .unwrap();
    let ir = Ir::lower(&defs).unwrap();
    assert_eq!(ir.search_parameters[0].code, "status");
    assert_eq!(ir.search_parameters[0].kind, "token");
    let codes: Vec<_> = ir.value_sets["http://example.org/ValueSet/status"]
        .codes
        .iter()
        .map(|(code, _)| code.as_str())
        .collect();
    assert_eq!(codes, ["a", "a1", "b"]);
}

#[test]
fn an_element_without_a_parent_is_an_error() {
    let defs = definitions(vec![
        element("Thing", &[], 0, "*"),
        element("Thing.a.b", &["string"], 0, "1"),
    ]);
    assert!(
        Ir::lower(&defs)
            .unwrap_err()
            .to_string()
            .contains("no parent")
    );
}
