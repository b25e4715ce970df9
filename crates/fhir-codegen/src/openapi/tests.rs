use serde_json::{Value, json};

use crate::{Definitions, Ir, OpenApiSettings, component_schemas, json_schema_impls, openapi};

fn element(path: &str, types: &[&str], min: u32, max: &str) -> Value {
    json!({
        "path": path,
        "short": format!("The {path} element"),
        "min": min,
        "max": max,
        "type": types.iter().map(|code| json!({"code": code})).collect::<Vec<_>>(),
    })
}

fn structure(name: &str, kind: &str, elements: Vec<Value>) -> Value {
    json!({
        "resourceType": "StructureDefinition",
        "url": format!("http://example.org/StructureDefinition/{name}"),
        "name": name,
        "kind": kind,
        "abstract": false,
        "derivation": "specialization",
        "type": name,
        "snapshot": {"element": elements},
    })
}

/// A resource `Thing` with a required code, a choice, a backbone element with a recursive
/// content reference, a repeating primitive and a contained resource; a datatype `Quantity`;
/// a search parameter and an operation.
fn ir() -> Ir {
    let mut status = element("Thing.status", &["code"], 1, "1");
    status["binding"] =
        json!({"strength": "required", "valueSet": "http://example.org/ValueSet/status|1"});
    let mut node_ref = element("Thing.node.node", &[], 0, "*");
    node_ref["contentReference"] = json!("#Thing.node");
    let mut defs = Definitions::default();
    for resource in [
        structure(
            "Thing",
            "resource",
            vec![
                element("Thing", &[], 0, "*"),
                element(
                    "Thing.id",
                    &["http://hl7.org/fhirpath/System.String"],
                    0,
                    "1",
                ),
                status,
                element("Thing.value[x]", &["string", "Quantity"], 0, "1"),
                element("Thing.alias", &["string"], 0, "*"),
                element("Thing.amount", &["Quantity"], 1, "1"),
                element("Thing.contained", &["Resource"], 0, "*"),
                element("Thing.node", &["BackboneElement"], 0, "*"),
                element("Thing.node.label", &["string"], 0, "1"),
                node_ref,
            ],
        ),
        structure(
            "Quantity",
            "complex-type",
            vec![
                element("Quantity", &[], 0, "*"),
                element("Quantity.value", &["decimal"], 0, "1"),
            ],
        ),
        json!({
            "resourceType": "CodeSystem",
            "url": "http://example.org/CodeSystem/status",
            "concept": [{"code": "active"}, {"code": "retired"}],
        }),
        json!({
            "resourceType": "ValueSet",
            "url": "http://example.org/ValueSet/status",
            "name": "ThingStatus",
            "compose": {"include": [{"system": "http://example.org/CodeSystem/status"}]},
        }),
        json!({
            "resourceType": "SearchParameter",
            "url": "http://example.org/SearchParameter/Thing-status",
            "code": "status",
            "base": ["Thing"],
            "type": "token",
            "description": "The status of the thing",
        }),
        json!({
            "resourceType": "SearchParameter",
            "url": "http://hl7.org/fhir/SearchParameter/Resource-id",
            "code": "_id",
            "base": ["Resource"],
            "type": "token",
            "description": "Logical id of this artifact",
        }),
        json!({
            "resourceType": "OperationDefinition",
            "url": "http://example.org/OperationDefinition/Thing-summarize",
            "code": "summarize",
            "resource": ["Thing"],
            "system": false,
            "type": true,
            "instance": true,
            "description": "Summarizes a thing",
            "parameter": [
                {"name": "depth", "use": "in", "min": 0, "max": "1", "type": "integer", "documentation": "How deep"},
                {"name": "return", "use": "out", "min": 1, "max": "1", "type": "Thing"},
            ],
        }),
    ] {
        defs.add(resource).unwrap();
    }
    Ir::lower(&defs).unwrap()
}

fn document() -> Value {
    let text = openapi(&ir(), &OpenApiSettings::default().with_title("Things")).unwrap();
    assert!(text.ends_with("}\n"));
    serde_json::from_str(&text).unwrap()
}

#[test]
fn resources_get_the_restful_paths_with_stable_operation_ids() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "Things");
    let paths = doc["paths"].as_object().unwrap();
    let mut ids: Vec<String> = paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object().unwrap().iter().map(move |(method, op)| {
                format!("{method} {path} {}", op["operationId"].as_str().unwrap())
            })
        })
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        [
            "delete /Thing conditional-delete-Thing",
            "delete /Thing/{id} delete-Thing",
            "get / search-system",
            "get /Thing search-type-Thing",
            "get /Thing/$summarize op-summarize-type-Thing-get",
            "get /Thing/_history history-type-Thing",
            "get /Thing/{id} read-Thing",
            "get /Thing/{id}/$summarize op-summarize-instance-Thing-get",
            "get /Thing/{id}/_history history-instance-Thing",
            "get /Thing/{id}/_history/{vid} vread-Thing",
            "get /_history history-system",
            "get /metadata capabilities",
            "patch /Thing conditional-patch-Thing",
            "patch /Thing/{id} patch-Thing",
            "post / batch-transaction",
            "post /Thing create-Thing",
            "post /Thing/$summarize op-summarize-type-Thing",
            "post /Thing/_search search-type-post-Thing",
            "post /Thing/{id}/$summarize op-summarize-instance-Thing",
            "put /Thing conditional-update-Thing",
            "put /Thing/{id} update-Thing",
        ]
    );
}

#[test]
fn search_lists_own_common_and_result_parameters() {
    let doc = document();
    let search = &doc["paths"]["/Thing"]["get"];
    let refs: Vec<&str> = search["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            p["$ref"]
                .as_str()
                .unwrap()
                .trim_start_matches("#/components/parameters/")
        })
        .collect();
    assert_eq!(
        refs[..4],
        [
            "search-Thing-status",
            "search-Resource-id",
            "common-_list",
            "common-_has"
        ]
    );
    for expected in [
        "result-_sort",
        "result-_count",
        "result-_include",
        "result-_revinclude",
        "result-_summary",
        "result-_elements",
        "result-_total",
        "result-_contained",
        "format",
    ] {
        assert!(refs.contains(&expected), "{expected}");
    }
    let status = &doc["components"]["parameters"]["search-Thing-status"];
    assert_eq!(
        status,
        &json!({
            "name": "status",
            "in": "query",
            "required": false,
            "description": "(token) The status of the thing",
            "schema": {"type": "array", "items": {"type": "string"}},
            "style": "form",
            "explode": true,
            "x-fhir-search-type": "token",
        })
    );
    assert_eq!(
        search["responses"]["200"]["content"]["application/fhir+json"]["schema"]["$ref"],
        "#/components/schemas/Bundle"
    );
    assert_eq!(
        search["responses"]["default"]["$ref"],
        "#/components/responses/Error"
    );
}

#[test]
fn writes_carry_their_headers_and_bodies() {
    let doc = document();
    let create = &doc["paths"]["/Thing"]["post"];
    assert_eq!(
        create["parameters"][0]["$ref"],
        "#/components/parameters/header-If-None-Exist"
    );
    assert_eq!(
        create["requestBody"]["content"]["application/fhir+json"]["schema"]["$ref"],
        "#/components/schemas/Thing"
    );
    let update = &doc["paths"]["/Thing/{id}"]["put"];
    let params: Vec<&str> = update["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["$ref"].as_str().unwrap())
        .collect();
    assert_eq!(
        params,
        [
            "#/components/parameters/id",
            "#/components/parameters/header-If-Match",
            "#/components/parameters/header-Prefer"
        ]
    );
    let patch = &doc["paths"]["/Thing/{id}"]["patch"]["requestBody"]["content"];
    assert_eq!(
        patch["application/json-patch+json"]["schema"]["type"],
        "array"
    );
    assert_eq!(
        doc["components"]["responses"]["Error"]["content"]["application/fhir+json"]["schema"]["$ref"],
        "#/components/schemas/OperationOutcome"
    );
}

#[test]
fn operations_take_parameters_and_return_their_result_type() {
    let doc = document();
    let get = &doc["paths"]["/Thing/{id}/$summarize"]["get"];
    assert_eq!(
        get["parameters"],
        json!([
            {"$ref": "#/components/parameters/id"},
            {"$ref": "#/components/parameters/op-Thing-summarize-depth"},
        ])
    );
    assert_eq!(
        doc["components"]["parameters"]["op-Thing-summarize-depth"],
        json!({"name": "depth", "in": "query", "required": false, "description": "How deep", "schema": {"$ref": "#/components/schemas/integer"}})
    );
    assert_eq!(
        get["responses"]["200"]["content"]["application/fhir+json"]["schema"]["$ref"],
        "#/components/schemas/Thing"
    );
    let post = &doc["paths"]["/Thing/$summarize"]["post"];
    assert_eq!(
        post["requestBody"]["content"]["application/fhir+json"]["schema"]["$ref"],
        "#/components/schemas/Parameters"
    );
    assert_eq!(post["description"], "Summarizes a thing");
}

#[test]
fn resource_schemas_follow_fhir_json() {
    let schemas = component_schemas(&ir()).unwrap();
    let thing = &schemas["Thing"];
    assert_eq!(thing["type"], "object");
    assert_eq!(thing["required"], json!(["resourceType", "amount"]));
    let properties = thing["properties"].as_object().unwrap();
    let keys: Vec<&str> = properties.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "_alias",
            "_status",
            "_valueString",
            "alias",
            "amount",
            "contained",
            "id",
            "node",
            "resourceType",
            "status",
            "valueQuantity",
            "valueString"
        ]
    );
    assert_eq!(
        properties["resourceType"],
        json!({"type": "string", "const": "Thing", "description": "The type of the resource"})
    );
    assert_eq!(
        properties["id"],
        json!({"type": "string", "description": "The Thing.id element"})
    );
    assert_eq!(
        properties["status"],
        json!({"$ref": "#/components/schemas/ThingStatus", "description": "The Thing.status element"})
    );
    assert_eq!(
        properties["_status"],
        json!({"$ref": "#/components/schemas/Element"})
    );
    assert_eq!(
        properties["valueQuantity"],
        json!({"$ref": "#/components/schemas/Quantity", "description": "The Thing.value[x] element"})
    );
    assert_eq!(
        properties["valueString"]["$ref"],
        "#/components/schemas/string"
    );
    assert_eq!(
        properties["alias"],
        json!({"type": "array", "items": {"anyOf": [{"$ref": "#/components/schemas/string"}, {"type": "null"}]}, "description": "The Thing.alias element"})
    );
    assert_eq!(
        properties["_alias"],
        json!({"type": "array", "items": {"anyOf": [{"$ref": "#/components/schemas/Element"}, {"type": "null"}]}})
    );
    assert_eq!(
        properties["contained"]["items"]["$ref"],
        "#/components/schemas/Resource"
    );
    assert_eq!(
        properties["node"]["items"]["$ref"],
        "#/components/schemas/Thing.node"
    );
    // The recursive backbone element refers to itself by its FHIR path.
    assert_eq!(
        schemas["Thing.node"]["properties"]["node"]["items"]["$ref"],
        "#/components/schemas/Thing.node"
    );
    assert_eq!(schemas["ThingStatus"]["enum"], json!(["active", "retired"]));
    assert_eq!(
        schemas["Quantity"]["properties"]["value"]["$ref"],
        "#/components/schemas/decimal"
    );
    assert_eq!(schemas["decimal"]["type"], "number");
    assert_eq!(schemas["positiveInt"]["minimum"], 1);
    assert!(
        schemas["date"]["pattern"]
            .as_str()
            .unwrap()
            .starts_with('^')
    );
    assert_eq!(
        schemas["Resource"],
        json!({
            "type": "object",
            "description": "Any resource, tagged by `resourceType`.",
            "oneOf": [{"$ref": "#/components/schemas/Thing"}],
            "discriminator": {"propertyName": "resourceType", "mapping": {"Thing": "#/components/schemas/Thing"}},
        })
    );
    for key in schemas.keys() {
        assert!(
            key.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c)),
            "{key}"
        );
    }
}

#[test]
fn the_output_is_deterministic() {
    let settings = OpenApiSettings::default();
    assert_eq!(
        openapi(&ir(), &settings).unwrap(),
        openapi(&ir(), &settings).unwrap()
    );
}

#[test]
fn json_schema_impls_pair_types_with_schema_keys() {
    let files = json_schema_impls(&ir(), &crate::Settings::default()).unwrap();
    let [datatypes, models] = files.as_slice() else {
        panic!("{files:?}");
    };
    assert_eq!(
        (datatypes.krate, datatypes.path.as_str()),
        (crate::TargetCrate::Datatypes, "json_schema.rs")
    );
    assert_eq!(
        (models.krate, models.path.as_str()),
        (crate::TargetCrate::Models, "json_schema.rs")
    );
    for line in [
        "#[cfg(feature = \"thing\")]\nimpl_json_schema!(crate::resources::Thing, \"Thing\");",
        "#[cfg(feature = \"thing\")]\nimpl_json_schema!(crate::resources::ThingNode, \"Thing.node\");",
        "\nimpl_json_schema!(crate::Resource, \"Resource\");",
    ] {
        assert!(models.text.contains(line), "{line}\n---\n{}", models.text);
    }
    for line in [
        "\nimpl_json_schema!(crate::datatypes::Quantity, \"Quantity\");",
        "#[cfg(feature = \"thing\")]\nimpl_json_schema!(crate::codes::ThingStatus, \"ThingStatus\");",
    ] {
        assert!(
            datatypes.text.contains(line),
            "{line}\n---\n{}",
            datatypes.text
        );
    }
    assert!(
        !models.text.contains("crate::datatypes::"),
        "{}",
        models.text
    );
    assert!(
        models
            .text
            .contains("\nuse fhir_r4_datatypes::impl_json_schema;\n")
    );
    assert!(!datatypes.text.contains("\nuse "), "{}", datatypes.text);
}
