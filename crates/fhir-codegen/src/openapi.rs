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

mod operations;
mod parameters;
mod paths;
mod schemas;

use operations::*;
use parameters::*;
use paths::*;
pub use schemas::component_schemas;

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

fn schema_ref(key: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{key}")})
}

fn param_ref(key: &str) -> Value {
    json!({"$ref": format!("#/components/parameters/{key}")})
}

#[cfg(test)]
mod tests;
