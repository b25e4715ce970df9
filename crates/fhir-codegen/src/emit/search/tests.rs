//! The search and path files for synthetic definitions: kinds, targets, composites, multi-base
//! descriptions, compartments and features.

use serde_json::json;

use crate::emit::GeneratedFile;
use crate::{Definitions, Ir, Settings};

fn resource(name: &str) -> serde_json::Value {
    json!({
        "resourceType": "StructureDefinition",
        "url": format!("http://example.org/StructureDefinition/{name}"),
        "name": name, "kind": "resource", "abstract": false,
        "derivation": "specialization", "type": name,
        "snapshot": {"element": [{"path": name, "short": name, "min": 0, "max": "*"}]},
    })
}

fn param(id: &str, code: &str, base: &[&str], kind: &str) -> serde_json::Value {
    json!({
        "resourceType": "SearchParameter", "id": id,
        "url": format!("http://example.org/SearchParameter/{id}"),
        "code": code, "base": base, "type": kind,
        "description": format!("The {code} of the thing"),
    })
}

fn generated() -> Vec<GeneratedFile> {
    let mut defs = Definitions::default();
    for name in ["Thing", "Other", "Third"] {
        defs.add(resource(name)).unwrap();
    }
    defs.add(param("Thing-code", "code", &["Thing"], "token"))
        .unwrap();
    defs.add(param(
        "Thing-value",
        "value-quantity",
        &["Thing"],
        "quantity",
    ))
    .unwrap();
    let mut subject = param("Thing-subject", "subject", &["Thing"], "reference");
    subject["target"] = json!(["Other", "Missing"]);
    defs.add(subject).unwrap();
    let mut any = param("Thing-focus", "focus", &["Thing"], "reference");
    any["target"] = json!(["Other", "Thing", "Third"]);
    defs.add(any).unwrap();
    let mut composite = param("Thing-code-value", "code-value", &["Thing"], "composite");
    // Components in the definition's order, which is not alphabetical.
    composite["component"] = json!([
        {"definition": "http://example.org/SearchParameter/Thing-value", "expression": "value"},
        {"definition": "http://example.org/SearchParameter/Thing-code", "expression": "code"},
    ]);
    defs.add(composite).unwrap();
    let mut shared = param("clinical-who", "who", &["Thing", "Other"], "string");
    shared["description"] = json!(
        "Multiple Resources: \r\n\r\n* [Thing](thing.html): Who the thing is for\r\n* [Other](other.html): Who else"
    );
    defs.add(shared).unwrap();
    defs.add(json!({
        "resourceType": "CompartmentDefinition", "code": "Other",
        "resource": [{"code": "Thing", "param": ["subject", "focus"]}, {"code": "Third"}],
    }))
    .unwrap();
    defs.add(json!({
        "resourceType": "OperationDefinition", "id": "Thing-everything",
        "url": "http://example.org/OperationDefinition/Thing-everything",
        "code": "everything", "description": "All about the thing",
        "resource": ["Thing"], "system": false, "type": true, "instance": true,
    }))
    .unwrap();
    defs.add(json!({
        "resourceType": "OperationDefinition", "id": "Resource-purge",
        "url": "http://example.org/OperationDefinition/Resource-purge",
        "code": "purge", "affectsState": true,
        "resource": ["Resource"], "system": true, "type": false, "instance": false,
    }))
    .unwrap();
    let ir = Ir::lower(&defs).unwrap();
    super::generate(&ir, &Settings::default()).unwrap()
}

/// The file's text without whitespace, so assertions do not depend on line breaks.
fn file(files: &[GeneratedFile], path: &str) -> String {
    squash(&files.iter().find(|f| f.path == path).unwrap().text)
}

fn squash(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

#[test]
fn one_function_per_parameter_typed_by_kind() {
    let files = generated();
    let thing = file(&files, "search/thing.rs");
    assert!(thing.contains(&squash("const SEARCH_PARAMETERS: &'static [&'static str] =\n        &[\"code\", \"code-value\", \"focus\", \"subject\", \"value-quantity\", \"who\",];")), "{thing}");
    assert!(thing.contains(&squash(
        "pub const fn code() -> TokenParam<Thing> {\n    Param::new(\"code\")\n}"
    )));
    assert!(thing.contains(&squash(
        "pub const fn value_quantity() -> QuantityParam<Thing>"
    )));
    // Components keep the definition's order.
    assert!(
        thing.contains(&squash(
            "pub const fn code_value() -> CompositeParam<Thing, (QuantityKind, TokenKind)>"
        )),
        "{thing}"
    );
    // A multi-base parameter documents the line about this resource.
    assert!(
        thing.contains(&squash("/// `who` (string): Who the thing is for.")),
        "{thing}"
    );
    let other = file(&files, "search/other.rs");
    assert!(
        other.contains(&squash("/// `who` (string): Who else.")),
        "{other}"
    );
    assert!(file(&files, "search/third.rs").contains(&squash("&[];")));
}

#[test]
fn reference_targets_are_shared_marker_impls_behind_the_target_feature() {
    let files = generated();
    let thing = file(&files, "search/thing.rs");
    assert!(
        thing.contains(&squash(
            "pub const fn subject() -> ReferenceParam<Thing, targets::ToOther>"
        )),
        "{thing}"
    );
    assert!(
        thing.contains(&squash(
            "/// `subject` (reference): The subject of the thing. Targets: Other."
        )),
        "{thing}"
    );
    // Targets that are not resource types of the IR are left out.
    assert!(!thing.contains("Missing"));
    let targets = file(&files, "search/targets.rs");
    assert!(targets.contains(&squash(
        "pub enum ToOther {} #[cfg(feature = \"other\")] impl ReferenceTarget<ToOther> for crate::resources::Other {}"
    )), "{targets}");
    // One marker per distinct list, named after it while short.
    assert!(targets.contains(&squash(
        "/// A reference parameter to Other, Thing, Third. #[derive(Debug, Clone, Copy)] pub enum ToOtherOrThingOrThird {}"
    )), "{targets}");
    assert_eq!(targets.matches("pubenum").count(), 2);
}

#[test]
fn modules_and_compartments_follow_the_features() {
    let files = generated();
    let module = file(&files, "search/mod.rs");
    assert!(
        module.contains(&squash(
            "#[cfg(feature = \"thing\")]\n/// The search parameters of `Thing`.\npub mod thing;"
        )),
        "{module}"
    );
    let paths = file(&files, "paths.rs");
    assert!(paths.contains(&squash(
        "impl CompartmentOwner for crate::resources::Other {}"
    )));
    assert!(
        paths.contains(&squash("pub fn other_compartment(")),
        "{paths}"
    );
    assert!(paths.contains(&squash("#[cfg(feature = \"other\")]\n#[cfg(feature = \"thing\")]\nimpl InCompartment<crate::resources::Other> for crate::resources::Thing {\n    const PARAMS: &'static [&'static str] = &[\"subject\", \"focus\"];")), "{paths}");
    // Listed without parameters: not a member.
    assert!(!paths.contains(&squash("for crate::resources::Third")));
}

#[test]
fn operations_are_markers_with_their_levels_and_resources() {
    let files = generated();
    let paths = file(&files, "paths.rs");
    assert!(
        paths.contains(&squash(
            "/// `$everything` (Thing-everything): All about the thing.
        #[derive(Debug, Clone, Copy)]
        pub enum ThingEverything {}
        impl Operation for ThingEverything {
            const CODE: &'static str = \"everything\";
            const AFFECTS_STATE: bool = false;
        }
        impl TypeLevel for ThingEverything {}
        impl InstanceLevel for ThingEverything {}
        #[cfg(feature = \"thing\")]
        impl Invocable<ThingEverything> for crate::resources::Thing {}"
        )),
        "{paths}"
    );
    assert!(
        paths.contains(&squash(
            "const AFFECTS_STATE: bool = true; }
        impl SystemLevel for ResourcePurge {}
        impl<T: fhir_core::TypedResource> Invocable<ResourcePurge> for T {}"
        )),
        "{paths}"
    );
}
