//! `components.parameters`: the common and result parameters, and every search parameter
//! of every resource type.

use super::*;

/// A search or result parameter that every resource type accepts.
pub(super) struct CommonParameter {
    pub(super) name: &'static str,
    pub(super) kind: &'static str,
    pub(super) description: &'static str,
}

/// Parameters every type accepts besides the `Resource` and `DomainResource` search parameters
/// of the definitions (`_id`, `_lastUpdated`, `_tag`, …).
pub(super) const COMMON_PARAMETERS: &[CommonParameter] = &[
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
pub(super) const RESULT_PARAMETERS: &[(&str, &str)] = &[
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

pub(super) fn result_parameter_schema(name: &str) -> Value {
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
pub(super) fn sanitize(text: &str) -> String {
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
pub(super) fn search_parameter_key(sp: &SearchParameter) -> String {
    format!(
        "search-{}",
        sanitize(sp.url.rsplit('/').next().unwrap_or(&sp.url))
    )
}

pub(super) fn is_common(sp: &SearchParameter) -> bool {
    sp.base
        .iter()
        .any(|b| b == "Resource" || b == "DomainResource")
}

/// A query parameter: values repeat for AND (`date=ge2020&date=le2021`), commas join ORs.
pub(super) fn query_parameter(name: &str, kind: &str, description: &str, schema: Value) -> Value {
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

pub(super) fn schema_is_array(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("array")
}

pub(super) fn string_array() -> Value {
    json!({"type": "array", "items": {"type": "string"}})
}

/// `components.parameters`: every search parameter, the common and result parameters, path
/// parameters and headers.
pub(super) fn parameters(ir: &Ir) -> Result<Map<String, Value>, Error> {
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
