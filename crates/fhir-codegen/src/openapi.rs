//! The OpenAPI 3.1 description of the FHIR REST API: every resource type's interactions and
//! operations as `paths`, and JSON Schema 2020-12 `components.schemas` for every resource,
//! datatype, backbone element, primitive and required code set, shaped like FHIR JSON (one
//! property per choice variant, `_field` siblings for primitives).
//!
//! Objects are `serde_json::Map`s, which sort their keys, so the output is deterministic.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use crate::Error;
use crate::ir::{
    CodeEnum, FieldType, Ir, Operation, PRIMITIVE_TYPES, SearchParameter, StructDef, TypeKind,
};

/// The media type of every request and response body.
const FHIR_JSON: &str = "application/fhir+json";

/// The name of the schema that is any resource (a `oneOf` tagged by `resourceType`).
pub const RESOURCE_SCHEMA: &str = "Resource";

/// The name of the schema of a primitive's `_field` sibling (`id` and `extension`).
pub const ELEMENT_SCHEMA: &str = "Element";

/// The title, version and description of the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenApiSettings {
    title: String,
    version: String,
    description: String,
}

impl Default for OpenApiSettings {
    fn default() -> Self {
        Self {
            title: String::from("FHIR R4 (4.0.1) RESTful API"),
            version: String::from("4.0.1"),
            description: String::from(
                "Generated from the official FHIR R4 4.0.1 definitions by `cargo xtask codegen`.",
            ),
        }
    }
}

impl OpenApiSettings {
    /// The document's `info.title`.
    #[must_use]
    pub fn with_title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    /// The document's `info.version`.
    #[must_use]
    pub fn with_version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// The document's `info.description` (names the generator and its input).
    #[must_use]
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }
}

/// The OpenAPI 3.1 document as pretty-printed JSON with a trailing newline.
///
/// ```
/// # let ir = fhir_codegen::Ir::lower(&fhir_codegen::Definitions::default()).unwrap();
/// let text = fhir_codegen::openapi(&ir, &fhir_codegen::OpenApiSettings::default()).unwrap();
/// assert!(text.contains("\"openapi\": \"3.1.0\""));
/// assert!(text.ends_with("}\n"));
/// ```
///
/// # Errors
///
/// When two schemas, parameters or operations would get the same name.
pub fn openapi(ir: &Ir, settings: &OpenApiSettings) -> Result<String, Error> {
    let doc = openapi_document(ir, settings)?;
    let mut text = serde_json::to_string_pretty(&doc)
        .map_err(|err| Error::new(format!("cannot print the OpenAPI document: {err}")))?;
    text.push('\n');
    Ok(text)
}

/// The OpenAPI 3.1 document as a JSON value.
///
/// # Errors
///
/// When two schemas, parameters or operations would get the same name.
pub fn openapi_document(ir: &Ir, settings: &OpenApiSettings) -> Result<Value, Error> {
    let resources: Vec<&str> = ir
        .types
        .iter()
        .filter(|t| t.kind == TypeKind::Resource)
        .map(|t| t.name.as_str())
        .collect();
    let mut paths = Paths::default();
    let parameters = parameters(ir)?;
    for &name in &resources {
        resource_paths(&mut paths, ir, name)?;
    }
    system_paths(&mut paths, ir)?;
    for op in &ir.operations {
        operation_paths(&mut paths, op, &resources)?;
    }
    let tags: Vec<Value> = resources
        .iter()
        .map(|name| json!({"name": name}))
        .chain([json!({"name": "System", "description": "Whole-system interactions"})])
        .collect();
    Ok(json!({
        "openapi": "3.1.0",
        "info": {
            "title": settings.title,
            "version": settings.version,
            "description": settings.description,
            "license": {"name": "CC0-1.0 (the FHIR definitions)", "identifier": "CC0-1.0"},
        },
        "externalDocs": {"url": "http://hl7.org/fhir/R4/http.html"},
        "tags": tags,
        "paths": paths.map,
        "components": {
            "schemas": component_schemas(ir)?,
            "parameters": parameters,
            "responses": {
                "Error": {
                    "description": "The request failed; the body, if any, says why",
                    "content": {FHIR_JSON: {"schema": schema_ref("OperationOutcome")}},
                },
            },
        },
    }))
}

/// The JSON Schema 2020-12 of every resource, datatype, backbone element (keyed by its FHIR
/// path, `Patient.contact`), primitive (`date`), code set of a required binding
/// (`AdministrativeGender`), plus [`ELEMENT_SCHEMA`] and [`RESOURCE_SCHEMA`]. References point
/// at `#/components/schemas/{key}`.
///
/// # Errors
///
/// When two schemas would get the same key.
pub fn component_schemas(ir: &Ir) -> Result<Map<String, Value>, Error> {
    let paths_by_struct: BTreeMap<&str, &str> = ir
        .types
        .iter()
        .flat_map(|t| &t.structs)
        .map(|s| (s.name.as_str(), s.path.as_str()))
        .collect();
    let mut schemas = Map::new();
    let mut insert = |key: String, schema: Value| {
        if schemas.insert(key.clone(), schema).is_some() {
            return Err(Error::new(format!("two OpenAPI schemas are named `{key}`")));
        }
        Ok(())
    };
    for &primitive in PRIMITIVE_TYPES {
        insert(primitive.to_owned(), primitive_schema(primitive))?;
    }
    insert(ELEMENT_SCHEMA.to_owned(), element_schema())?;
    for code_enum in &ir.code_enums {
        insert(code_enum.name.clone(), code_schema(code_enum))?;
    }
    let mut resources = Vec::new();
    for ty in &ir.types {
        for (i, s) in ty.structs.iter().enumerate() {
            let resource_type =
                (i == 0 && ty.kind == TypeKind::Resource).then_some(ty.name.as_str());
            let mut schema = struct_schema(ty, s, resource_type, &paths_by_struct)?;
            if i == 0 {
                schema["externalDocs"] = json!({"url": ty.url});
            }
            insert(s.path.clone(), schema)?;
        }
        if ty.kind == TypeKind::Resource {
            resources.push(ty.name.as_str());
        }
    }
    insert(RESOURCE_SCHEMA.to_owned(), resource_union(&resources))?;
    Ok(schemas)
}

fn schema_ref(key: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{key}")})
}

fn param_ref(key: &str) -> Value {
    json!({"$ref": format!("#/components/parameters/{key}")})
}

/// The regular expressions of the R4 primitive types (`profiles-types.json`), anchored.
fn primitive_pattern(name: &str) -> Option<&'static str> {
    Some(match name {
        "code" => r"^[^\s]+(\s[^\s]+)*$",
        "date" => {
            r"^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?$"
        }
        "dateTime" => {
            r"^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?$"
        }
        "id" => r"^[A-Za-z0-9\-\.]{1,64}$",
        "instant" => {
            r"^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))$"
        }
        "oid" => r"^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$",
        "time" => r"^([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?$",
        "uuid" => r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
        "uri" | "url" | "canonical" => r"^\S*$",
        _ => return None,
    })
}

fn primitive_schema(name: &str) -> Value {
    let description = format!("The FHIR primitive type `{name}`.");
    match name {
        "boolean" => json!({"type": "boolean", "description": description}),
        "integer" => json!({
            "type": "integer",
            "format": "int32",
            "minimum": i32::MIN,
            "maximum": i32::MAX,
            "description": description,
        }),
        "positiveInt" | "unsignedInt" => json!({
            "type": "integer",
            "format": "int32",
            "minimum": u8::from(name == "positiveInt"),
            "maximum": i32::MAX,
            "description": description,
        }),
        "decimal" => json!({
            "type": "number",
            "description": "The FHIR primitive type `decimal`. Its precision is significant: \
                `1.50` and `1.5` differ, and fhir-r4 keeps the literal text.",
        }),
        _ => match primitive_pattern(name) {
            Some(pattern) => {
                json!({"type": "string", "pattern": pattern, "description": description})
            }
            None => json!({"type": "string", "description": description}),
        },
    }
}

fn element_schema() -> Value {
    json!({
        "type": "object",
        "description": "The `id` and extensions of a primitive value, in its `_field` sibling.",
        "properties": {
            "id": {"type": "string", "description": "Unique id for inter-element referencing"},
            "extension": {
                "type": "array",
                "items": schema_ref("Extension"),
                "description": "Additional content defined by implementations",
            },
        },
    })
}

fn code_schema(code_enum: &CodeEnum) -> Value {
    let codes: Vec<&str> = code_enum.variants.iter().map(|v| v.code.as_str()).collect();
    let title = code_enum.title.as_deref().unwrap_or(&code_enum.name);
    json!({
        "type": "string",
        "enum": codes,
        "description": format!("{title} (required binding to {}).", code_enum.url),
    })
}

/// The schema of one value of a field type (not its `_field` sibling, not the array).
fn value_schema(ty: &FieldType, paths_by_struct: &BTreeMap<&str, &str>) -> Result<Value, Error> {
    Ok(match ty {
        FieldType::PlainString => json!({"type": "string"}),
        FieldType::Primitive(name) => schema_ref(name),
        FieldType::Code(name) | FieldType::Complex(name) => schema_ref(name),
        FieldType::Backbone(name) => {
            let path = paths_by_struct
                .get(name.as_str())
                .ok_or_else(|| Error::new(format!("no struct named `{name}`")))?;
            schema_ref(path)
        }
        FieldType::Resource => schema_ref(RESOURCE_SCHEMA),
        FieldType::Choice(name) => {
            return Err(Error::new(format!("choice `{name}` has no single schema")));
        }
    })
}

/// Adds the property `name` (and `_name` for primitives) for one value type.
fn add_property(
    properties: &mut Map<String, Value>,
    name: &str,
    ty: &FieldType,
    many: bool,
    description: &str,
    paths_by_struct: &BTreeMap<&str, &str>,
) -> Result<(), Error> {
    let value = value_schema(ty, paths_by_struct)?;
    let primitive = matches!(ty, FieldType::Primitive(_) | FieldType::Code(_));
    let mut schema = if many && primitive {
        // Values and `_field` extensions are aligned by index; either side may be `null`.
        json!({"type": "array", "items": {"anyOf": [value, {"type": "null"}]}})
    } else if many {
        json!({"type": "array", "items": value})
    } else {
        value
    };
    if !description.is_empty() {
        schema["description"] = json!(description);
    }
    properties.insert(name.to_owned(), schema);
    if primitive {
        let element = schema_ref(ELEMENT_SCHEMA);
        let sibling = if many {
            json!({"type": "array", "items": {"anyOf": [element, {"type": "null"}]}})
        } else {
            element
        };
        properties.insert(format!("_{name}"), sibling);
    }
    Ok(())
}

fn struct_schema(
    ty: &crate::ir::TypeDef,
    s: &StructDef,
    resource_type: Option<&str>,
    paths_by_struct: &BTreeMap<&str, &str>,
) -> Result<Value, Error> {
    let mut properties = Map::new();
    let mut required = Vec::new();
    if let Some(name) = resource_type {
        properties.insert(
            String::from("resourceType"),
            json!({"type": "string", "const": name, "description": "The type of the resource"}),
        );
        required.push(String::from("resourceType"));
    }
    for field in &s.fields {
        if let FieldType::Choice(enum_name) = &field.ty {
            let choice = ty
                .choices
                .iter()
                .find(|c| &c.name == enum_name)
                .ok_or_else(|| Error::new(format!("{}: no choice `{enum_name}`", field.path)))?;
            for variant in &choice.variants {
                add_property(
                    &mut properties,
                    &variant.json_name,
                    &variant.ty,
                    field.many,
                    &field.short,
                    paths_by_struct,
                )?;
            }
            continue;
        }
        add_property(
            &mut properties,
            &field.json_name,
            &field.ty,
            field.many,
            &field.short,
            paths_by_struct,
        )?;
        // A required primitive may be given by its `_field` alone (an extension instead of a
        // value), so only complex required elements are `required` in the schema.
        let primitive = matches!(
            field.ty,
            FieldType::Primitive(_) | FieldType::Code(_) | FieldType::PlainString
        );
        if field.min > 0 && !primitive {
            required.push(field.json_name.clone());
        }
    }
    let mut schema = json!({
        "type": "object",
        "description": s.short,
        "properties": properties,
    });
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    Ok(schema)
}

fn resource_union(resources: &[&str]) -> Value {
    let mapping: Map<String, Value> = resources
        .iter()
        .map(|name| {
            (
                (*name).to_owned(),
                json!(format!("#/components/schemas/{name}")),
            )
        })
        .collect();
    json!({
        "type": "object",
        "description": "Any resource, tagged by `resourceType`.",
        "oneOf": resources.iter().map(|name| schema_ref(name)).collect::<Vec<_>>(),
        "discriminator": {"propertyName": "resourceType", "mapping": mapping},
    })
}

/// A search or result parameter that every resource type accepts.
struct CommonParameter {
    name: &'static str,
    kind: &'static str,
    description: &'static str,
}

/// Parameters every type accepts besides the `Resource` and `DomainResource` search parameters
/// of the definitions (`_id`, `_lastUpdated`, `_tag`, …).
const COMMON_PARAMETERS: &[CommonParameter] = &[
    CommonParameter {
        name: "_list",
        kind: "special",
        description: "Resources referenced by the List with this id (or `$current-…` functional list)",
    },
    CommonParameter {
        name: "_has",
        kind: "special",
        description: "Reverse chaining: `_has:Observation:patient:code=1234-5` selects resources referenced by matching resources",
    },
    CommonParameter {
        name: "_type",
        kind: "special",
        description: "The resource types to search (system search)",
    },
];

/// Result parameters, with their JSON Schema.
const RESULT_PARAMETERS: &[(&str, &str)] = &[
    (
        "_sort",
        "Sort order: comma-separated parameter names, `-` for descending",
    ),
    ("_count", "The number of matches per page"),
    (
        "_include",
        "Include resources referenced by the matches (`Type:param[:target]`, `:iterate`)",
    ),
    (
        "_revinclude",
        "Include resources that reference the matches (`Type:param[:target]`, `:iterate`)",
    ),
    (
        "_summary",
        "Return a summary: `true`, `text`, `data`, `count` or `false`",
    ),
    (
        "_elements",
        "Only these elements (comma-separated) of the matches",
    ),
    (
        "_total",
        "How to count the total: `none`, `estimate` or `accurate`",
    ),
    (
        "_contained",
        "Whether to search contained resources: `true`, `false` or `both`",
    ),
    (
        "_containedType",
        "Return contained resources as `container` or `contained`",
    ),
];

fn result_parameter_schema(name: &str) -> Value {
    match name {
        "_count" => json!({"type": "integer", "minimum": 0}),
        "_summary" => json!({"type": "string", "enum": ["true", "text", "data", "count", "false"]}),
        "_total" => json!({"type": "string", "enum": ["none", "estimate", "accurate"]}),
        "_contained" => json!({"type": "string", "enum": ["true", "false", "both"]}),
        "_containedType" => json!({"type": "string", "enum": ["container", "contained"]}),
        "_include" | "_revinclude" => {
            json!({"type": "array", "items": {"type": "string"}})
        }
        _ => json!({"type": "string"}),
    }
}

/// `text` made valid as a component key (`^[a-zA-Z0-9.\-_]+$`).
fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The key of a search parameter in `components.parameters`: the last segment of its URL.
fn search_parameter_key(sp: &SearchParameter) -> String {
    format!(
        "search-{}",
        sanitize(sp.url.rsplit('/').next().unwrap_or(&sp.url))
    )
}

fn is_common(sp: &SearchParameter) -> bool {
    sp.base
        .iter()
        .any(|b| b == "Resource" || b == "DomainResource")
}

/// A query parameter: values repeat for AND (`date=ge2020&date=le2021`), commas join ORs.
fn query_parameter(name: &str, kind: &str, description: &str, schema: Value) -> Value {
    let mut parameter = json!({
        "name": name,
        "in": "query",
        "required": false,
        "description": format!("({kind}) {description}"),
        "schema": schema,
        "x-fhir-search-type": kind,
    });
    if schema_is_array(&parameter["schema"]) {
        parameter["style"] = json!("form");
        parameter["explode"] = json!(true);
    }
    parameter
}

fn schema_is_array(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("array")
}

fn string_array() -> Value {
    json!({"type": "array", "items": {"type": "string"}})
}

/// `components.parameters`: every search parameter, the common and result parameters, path
/// parameters and headers.
fn parameters(ir: &Ir) -> Result<Map<String, Value>, Error> {
    let mut out = Map::new();
    let mut insert = |key: String, value: Value| {
        if out.insert(key.clone(), value).is_some() {
            return Err(Error::new(format!(
                "two OpenAPI parameters are named `{key}`"
            )));
        }
        Ok(())
    };
    for sp in &ir.search_parameters {
        let mut description = sp.description.clone();
        if !sp.target.is_empty() {
            description.push_str(&format!(" (targets: {})", sp.target.join(", ")));
        }
        insert(
            search_parameter_key(sp),
            query_parameter(&sp.code, &sp.kind, &description, string_array()),
        )?;
    }
    for p in COMMON_PARAMETERS {
        insert(
            format!("common-{}", p.name),
            query_parameter(p.name, p.kind, p.description, string_array()),
        )?;
    }
    for (name, description) in RESULT_PARAMETERS {
        insert(
            format!("result-{name}"),
            query_parameter(name, "result", description, result_parameter_schema(name)),
        )?;
    }
    for op in &ir.operations {
        for (key, parameter) in operation_query(op).unwrap_or_default() {
            insert(key, parameter)?;
        }
    }
    insert(
        String::from("format"),
        json!({
            "name": "_format",
            "in": "query",
            "required": false,
            "description": "Override the Accept header (`json`, `application/fhir+json`, …)",
            "schema": {"type": "string"},
        }),
    )?;
    for (key, name, description) in [
        (
            "history-since",
            "_since",
            "Only versions created at or after this instant",
        ),
        (
            "history-at",
            "_at",
            "Only versions current at this point in time",
        ),
    ] {
        insert(
            key.to_owned(),
            json!({
                "name": name,
                "in": "query",
                "required": false,
                "description": description,
                "schema": schema_ref(if name == "_since" { "instant" } else { "dateTime" }),
            }),
        )?;
    }
    for (key, name, description) in [
        ("id", "id", "The logical id of the resource"),
        ("vid", "vid", "The version id"),
    ] {
        insert(
            key.to_owned(),
            json!({
                "name": name,
                "in": "path",
                "required": true,
                "description": description,
                "schema": schema_ref("id"),
            }),
        )?;
    }
    for (key, name, description) in [
        (
            "If-None-Exist",
            "If-None-Exist",
            "Conditional create: a search query (without `?`); nothing is created if it matches",
        ),
        (
            "If-Match",
            "If-Match",
            "Version-aware update: the ETag (`W/\"3\"`) the resource must still have",
        ),
        (
            "If-None-Match",
            "If-None-Match",
            "Conditional read: the ETag of the copy the client has",
        ),
        (
            "If-Modified-Since",
            "If-Modified-Since",
            "Conditional read: the time of the copy the client has",
        ),
        (
            "Prefer",
            "Prefer",
            "`return=minimal`, `return=representation` or `return=OperationOutcome`; `handling=strict|lenient`",
        ),
    ] {
        insert(
            format!("header-{key}"),
            json!({
                "name": name,
                "in": "header",
                "required": false,
                "description": description,
                "schema": {"type": "string"},
            }),
        )?;
    }
    Ok(out)
}

/// `paths`, with a check that operation ids are unique.
#[derive(Default)]
struct Paths {
    map: Map<String, Value>,
    operation_ids: BTreeSet<String>,
}

impl Paths {
    /// Adds `method` at `path`; the first definition of a method and path wins.
    fn add(&mut self, path: &str, method: &str, operation: Value) -> Result<(), Error> {
        let item = self
            .map
            .entry(path.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        let Some(item) = item.as_object_mut() else {
            return Err(Error::new(format!("path `{path}` is not an object")));
        };
        if item.contains_key(method) {
            return Ok(());
        }
        let id = operation["operationId"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if !self.operation_ids.insert(id.clone()) {
            return Err(Error::new(format!(
                "two OpenAPI operations have the id `{id}`"
            )));
        }
        item.insert(method.to_owned(), operation);
        Ok(())
    }
}

fn fhir_body(schema: Value) -> Value {
    json!({FHIR_JSON: {"schema": schema}})
}

fn ok_response(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": fhir_body(schema)})
}

fn error_response() -> Value {
    json!({"$ref": "#/components/responses/Error"})
}

/// An operation object with the usual `default` error response.
fn operation(
    id: String,
    tag: &str,
    summary: String,
    parameters: Vec<Value>,
    mut responses: Map<String, Value>,
) -> Value {
    responses.insert(String::from("default"), error_response());
    let mut op = json!({
        "operationId": id,
        "tags": [tag],
        "summary": summary,
        "responses": responses,
    });
    if !parameters.is_empty() {
        op["parameters"] = Value::Array(parameters);
    }
    op
}

fn responses(entries: impl IntoIterator<Item = (&'static str, Value)>) -> Map<String, Value> {
    entries
        .into_iter()
        .map(|(status, response)| (status.to_owned(), response))
        .collect()
}

fn location_headers() -> Value {
    json!({
        "Location": {"description": "The new resource's URL with its version", "schema": {"type": "string"}},
        "ETag": {"description": "The new version id (`W/\"1\"`)", "schema": {"type": "string"}},
    })
}

fn resource_paths(paths: &mut Paths, ir: &Ir, name: &str) -> Result<(), Error> {
    let own: Vec<Value> = ir
        .search_parameters
        .iter()
        .filter(|sp| !is_common(sp) && sp.base.iter().any(|b| b == name))
        .map(|sp| param_ref(&search_parameter_key(sp)))
        .collect();
    let common: Vec<Value> = ir
        .search_parameters
        .iter()
        .filter(|sp| is_common(sp))
        .map(|sp| param_ref(&search_parameter_key(sp)))
        .chain(
            COMMON_PARAMETERS
                .iter()
                .filter(|p| p.name != "_type")
                .map(|p| param_ref(&format!("common-{}", p.name))),
        )
        .collect();
    let criteria: Vec<Value> = own.iter().chain(&common).cloned().collect();
    let mut search = criteria.clone();
    search.extend(
        RESULT_PARAMETERS
            .iter()
            .map(|(p, _)| param_ref(&format!("result-{p}"))),
    );
    search.push(param_ref("format"));
    let bundle = || ok_response("A searchset Bundle", schema_ref("Bundle"));
    let history = || ok_response("A history Bundle", schema_ref("Bundle"));
    let resource = |d: &str| ok_response(d, schema_ref(name));
    let created = || {
        json!({
            "description": "Created",
            "headers": location_headers(),
            "content": fhir_body(schema_ref(name)),
        })
    };
    let with = |mut list: Vec<Value>, extra: &[&str]| {
        list.extend(extra.iter().map(|k| param_ref(k)));
        list
    };

    let type_path = format!("/{name}");
    paths.add(
        &type_path,
        "get",
        operation(
            format!("search-type-{name}"),
            name,
            format!("Search {name} resources"),
            search.clone(),
            responses([("200", bundle())]),
        ),
    )?;
    let mut create = operation(
        format!("create-{name}"),
        name,
        format!("Create a {name} (conditionally with If-None-Exist)"),
        vec![
            param_ref("header-If-None-Exist"),
            param_ref("header-Prefer"),
        ],
        responses([
            ("201", created()),
            (
                "200",
                resource("A resource matched If-None-Exist; nothing was created"),
            ),
        ]),
    );
    create["requestBody"] = json!({"required": true, "content": fhir_body(schema_ref(name))});
    paths.add(&type_path, "post", create)?;
    let mut conditional_update = operation(
        format!("conditional-update-{name}"),
        name,
        format!("Update the {name} that matches the search criteria (create if none)"),
        with(criteria.clone(), &["header-Prefer"]),
        responses([("200", resource("Updated")), ("201", created())]),
    );
    conditional_update["requestBody"] =
        json!({"required": true, "content": fhir_body(schema_ref(name))});
    paths.add(&type_path, "put", conditional_update)?;
    let mut conditional_patch = operation(
        format!("conditional-patch-{name}"),
        name,
        format!("Patch the {name} that matches the search criteria"),
        with(criteria.clone(), &["header-Prefer"]),
        responses([("200", resource("Patched"))]),
    );
    conditional_patch["requestBody"] = patch_body();
    paths.add(&type_path, "patch", conditional_patch)?;
    paths.add(
        &type_path,
        "delete",
        operation(
            format!("conditional-delete-{name}"),
            name,
            format!("Delete the {name} resources that match the search criteria"),
            criteria,
            responses([
                (
                    "200",
                    ok_response("Deleted, with an outcome", schema_ref("OperationOutcome")),
                ),
                ("204", json!({"description": "Deleted"})),
            ]),
        ),
    )?;

    let mut search_post = operation(
        format!("search-type-post-{name}"),
        name,
        format!("Search {name} resources with the parameters in a form body"),
        Vec::new(),
        responses([("200", bundle())]),
    );
    search_post["requestBody"] = json!({
        "required": false,
        "content": {"application/x-www-form-urlencoded": {"schema": {
            "type": "object",
            "description": format!("The search parameters of `GET /{name}`, form-encoded"),
            "additionalProperties": {"type": "string"},
        }}},
    });
    paths.add(&format!("/{name}/_search"), "post", search_post)?;

    let instance = format!("/{name}/{{id}}");
    paths.add(
        &instance,
        "get",
        operation(
            format!("read-{name}"),
            name,
            format!("Read a {name}"),
            vec![
                param_ref("id"),
                param_ref("header-If-None-Match"),
                param_ref("header-If-Modified-Since"),
                param_ref("result-_summary"),
                param_ref("result-_elements"),
                param_ref("format"),
            ],
            responses([
                ("200", resource("The current version")),
                ("304", json!({"description": "Not modified"})),
                ("404", error_response()),
                ("410", error_response()),
            ]),
        ),
    )?;
    let mut update = operation(
        format!("update-{name}"),
        name,
        format!("Update (or create) a {name} by id; version-aware with If-Match"),
        vec![
            param_ref("id"),
            param_ref("header-If-Match"),
            param_ref("header-Prefer"),
        ],
        responses([
            ("200", resource("Updated")),
            ("201", created()),
            ("412", error_response()),
        ]),
    );
    update["requestBody"] = json!({"required": true, "content": fhir_body(schema_ref(name))});
    paths.add(&instance, "put", update)?;
    let mut patch = operation(
        format!("patch-{name}"),
        name,
        format!("Patch a {name} (JSON Patch or FHIRPath Patch)"),
        vec![
            param_ref("id"),
            param_ref("header-If-Match"),
            param_ref("header-Prefer"),
        ],
        responses([("200", resource("Patched")), ("412", error_response())]),
    );
    patch["requestBody"] = patch_body();
    paths.add(&instance, "patch", patch)?;
    paths.add(
        &instance,
        "delete",
        operation(
            format!("delete-{name}"),
            name,
            format!("Delete a {name}"),
            vec![param_ref("id")],
            responses([
                (
                    "200",
                    ok_response("Deleted, with an outcome", schema_ref("OperationOutcome")),
                ),
                ("204", json!({"description": "Deleted"})),
            ]),
        ),
    )?;

    let history_params = |mut list: Vec<Value>| {
        list.extend(
            [
                "result-_count",
                "history-since",
                "history-at",
                "common-_list",
                "format",
            ]
            .iter()
            .map(|k| param_ref(k)),
        );
        list
    };
    paths.add(
        &format!("/{name}/{{id}}/_history"),
        "get",
        operation(
            format!("history-instance-{name}"),
            name,
            format!("The history of one {name}"),
            history_params(vec![param_ref("id")]),
            responses([("200", history())]),
        ),
    )?;
    paths.add(
        &format!("/{name}/{{id}}/_history/{{vid}}"),
        "get",
        operation(
            format!("vread-{name}"),
            name,
            format!("Read one version of a {name}"),
            vec![param_ref("id"), param_ref("vid"), param_ref("format")],
            responses([
                ("200", resource("That version")),
                ("404", error_response()),
                ("410", error_response()),
            ]),
        ),
    )?;
    paths.add(
        &format!("/{name}/_history"),
        "get",
        operation(
            format!("history-type-{name}"),
            name,
            format!("The history of all {name} resources"),
            history_params(Vec::new()),
            responses([("200", history())]),
        ),
    )?;
    Ok(())
}

fn patch_body() -> Value {
    json!({
        "required": true,
        "content": {
            "application/json-patch+json": {"schema": {
                "type": "array",
                "description": "A JSON Patch (RFC 6902)",
                "items": {
                    "type": "object",
                    "required": ["op", "path"],
                    "properties": {
                        "op": {"type": "string", "enum": ["add", "remove", "replace", "move", "copy", "test"]},
                        "path": {"type": "string"},
                        "from": {"type": "string"},
                        "value": {},
                    },
                },
            }},
            FHIR_JSON: {"schema": schema_ref("Parameters")},
        },
    })
}

fn system_paths(paths: &mut Paths, ir: &Ir) -> Result<(), Error> {
    let mut batch = operation(
        String::from("batch-transaction"),
        "System",
        String::from("Process a batch or transaction Bundle"),
        vec![param_ref("header-Prefer")],
        responses([(
            "200",
            ok_response(
                "The batch-response or transaction-response Bundle",
                schema_ref("Bundle"),
            ),
        )]),
    );
    batch["requestBody"] = json!({"required": true, "content": fhir_body(schema_ref("Bundle"))});
    paths.add("/", "post", batch)?;
    let mut search: Vec<Value> = ir
        .search_parameters
        .iter()
        .filter(|sp| is_common(sp))
        .map(|sp| param_ref(&search_parameter_key(sp)))
        .chain(["common-_type", "common-_list", "common-_has"].map(param_ref))
        .collect();
    search.extend(
        RESULT_PARAMETERS
            .iter()
            .map(|(p, _)| param_ref(&format!("result-{p}"))),
    );
    paths.add(
        "/",
        "get",
        operation(
            String::from("search-system"),
            "System",
            String::from("Search all resource types"),
            search,
            responses([(
                "200",
                ok_response("A searchset Bundle", schema_ref("Bundle")),
            )]),
        ),
    )?;
    paths.add(
        "/metadata",
        "get",
        operation(
            String::from("capabilities"),
            "System",
            String::from("The server's CapabilityStatement"),
            vec![
                json!({
                    "name": "mode",
                    "in": "query",
                    "required": false,
                    "description": "`full`, `normative` or `terminology`",
                    "schema": {"type": "string", "enum": ["full", "normative", "terminology"]},
                }),
                param_ref("format"),
            ],
            responses([(
                "200",
                ok_response("The CapabilityStatement", schema_ref("CapabilityStatement")),
            )]),
        ),
    )?;
    paths.add(
        "/_history",
        "get",
        operation(
            String::from("history-system"),
            "System",
            String::from("The history of all resources"),
            [
                "result-_count",
                "history-since",
                "history-at",
                "common-_list",
                "format",
            ]
            .iter()
            .map(|k| param_ref(k))
            .collect(),
            responses([("200", ok_response("A history Bundle", schema_ref("Bundle")))]),
        ),
    )?;
    Ok(())
}

/// The schema of an operation's result: its single resource `return`, else `Parameters`.
fn operation_result(op: &Operation, resources: &[&str]) -> Value {
    let outputs: Vec<_> = op.parameters.iter().filter(|p| !p.input).collect();
    match outputs.as_slice() {
        [only] if only.name == "return" && !only.many => match only.ty.as_deref() {
            Some("Resource" | "Any") => schema_ref(RESOURCE_SCHEMA),
            Some(ty) if resources.contains(&ty) => schema_ref(ty),
            _ => schema_ref("Parameters"),
        },
        _ => schema_ref("Parameters"),
    }
}

/// The key prefix of an operation's parameters in `components.parameters`
/// (`op-Resource-validate`), from the last segment of its URL.
fn operation_key(op: &Operation) -> String {
    format!(
        "op-{}",
        sanitize(op.url.rsplit('/').next().unwrap_or(&op.code))
    )
}

/// The operation's query parameters for `components.parameters`, or `None` when it cannot be
/// invoked with GET: it changes state, or an input is not a primitive (only POST carries it).
fn operation_query(op: &Operation) -> Option<Vec<(String, Value)>> {
    if op.affects_state {
        return None;
    }
    let prefix = operation_key(op);
    op.parameters
        .iter()
        .filter(|p| p.input)
        .map(|p| {
            let ty = p.ty.as_deref()?;
            if !PRIMITIVE_TYPES.contains(&ty) {
                return None;
            }
            let schema = if p.many {
                json!({"type": "array", "items": schema_ref(ty)})
            } else {
                schema_ref(ty)
            };
            let mut parameter = json!({
                "name": p.name,
                "in": "query",
                "required": p.min > 0,
                "description": p.documentation,
                "schema": schema,
            });
            if p.many {
                parameter["style"] = json!("form");
                parameter["explode"] = json!(true);
            }
            Some((format!("{prefix}-{}", sanitize(&p.name)), parameter))
        })
        .collect()
}

fn operation_paths(paths: &mut Paths, op: &Operation, resources: &[&str]) -> Result<(), Error> {
    let on_any_resource = op.resource.iter().any(|r| r == "Resource");
    let types: Vec<&str> = if on_any_resource {
        resources.to_vec()
    } else {
        op.resource
            .iter()
            .map(String::as_str)
            .filter(|r| resources.contains(r))
            .collect()
    };
    let result = operation_result(op, resources);
    let query: Option<Vec<Value>> =
        operation_query(op).map(|q| q.iter().map(|(key, _)| param_ref(key)).collect());
    let mut add = |path: String, level: &str, ty: Option<&str>, id: bool| {
        let tag = ty.unwrap_or("System");
        let suffix = ty.map_or_else(String::new, |t| format!("-{t}"));
        let base = if id {
            vec![param_ref("id")]
        } else {
            Vec::new()
        };
        let summary = format!("${} ({level} level)", op.code);
        let describe = |mut operation: Value| {
            operation["externalDocs"] = json!({"url": op.url});
            // The description of an operation on every type is said once, on the system level
            // or the definition's page, rather than 146 times.
            if !on_any_resource || ty.is_none() {
                operation["description"] = json!(op.description);
            }
            operation
        };
        let mut post = describe(operation(
            format!("op-{}-{level}{suffix}", op.code),
            tag,
            summary.clone(),
            base.clone(),
            responses([("200", ok_response("The result", result.clone()))]),
        ));
        post["requestBody"] = json!({
            "required": false,
            "content": fhir_body(schema_ref("Parameters")),
        });
        paths.add(&path, "post", post)?;
        if let Some(query) = &query {
            let mut parameters = base;
            parameters.extend(query.iter().cloned());
            paths.add(
                &path,
                "get",
                describe(operation(
                    format!("op-{}-{level}{suffix}-get", op.code),
                    tag,
                    summary,
                    parameters,
                    responses([("200", ok_response("The result", result.clone()))]),
                )),
            )?;
        }
        Ok::<(), Error>(())
    };
    if op.system {
        add(format!("/${}", op.code), "system", None, false)?;
    }
    for ty in &types {
        if op.type_level {
            add(format!("/{ty}/${}", op.code), "type", Some(ty), false)?;
        }
        if op.instance {
            add(
                format!("/{ty}/{{id}}/${}", op.code),
                "instance",
                Some(ty),
                true,
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
