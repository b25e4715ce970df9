//! Generator of Rust FHIR models: definitions in, Rust source out, no I/O.
//!
//! The pipeline has three steps, each a module:
//!
//! 1. [`Definitions`] parses the published definition Bundles (`StructureDefinition`s,
//!    `SearchParameter`s, `ValueSet`s and `CodeSystem`s) from bytes.
//! 2. [`Ir::lower`] turns them into an intermediate representation ([`ir`]): one
//!    [`ir::TypeDef`] per datatype or resource, with its structs (root and backbone elements),
//!    fields with cardinality and bindings, choice elements, and search parameters.
//! 3. [`generate`] emits one Rust file per type plus the module files and the `Resource` enum,
//!    as token streams formatted with `prettyplease`, following [`Settings`].
//!
//! From the same IR, [`openapi`] writes an OpenAPI 3.1 description of the FHIR REST API whose
//! [`component_schemas`] describe FHIR JSON, and [`json_schema_impls`] pairs each model type
//! with its schema for the `schemars` feature of `fhir-r4`.
//!
//! The emitted code calls the hand-written runtime of `fhir-r4` (its `json` and `primitives`
//! modules) and stays declarative: one struct, one `decode` and one `encode` function per
//! struct. `cargo xtask codegen` is the only caller that reads and writes files.

mod emit;
pub mod ir;
mod json_schema;
mod model;
mod naming;
mod openapi;

#[cfg(test)]
mod tests;

use std::fmt;

pub use emit::{GeneratedFile, TargetCrate, generate, generate_type_file, resource_features};
pub use ir::Ir;
pub use json_schema::json_schema_impls;
pub use openapi::{
    ELEMENT_SCHEMA, OpenApiSettings, RESOURCE_SCHEMA, component_schemas, openapi, openapi_document,
};

use model::{
    Bundle, CodeSystemDef, CompartmentDefinitionDef, OperationDefinitionDef, SearchParameterDef,
    StructureDefinition, ValueSetDef,
};

/// The generator could not understand its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    message: String,
}

impl Error {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// The parsed definitions the generator reads.
#[derive(Debug, Clone, Default)]
pub struct Definitions {
    structure_definitions: Vec<StructureDefinition>,
    search_parameters: Vec<SearchParameterDef>,
    value_sets: Vec<ValueSetDef>,
    code_systems: Vec<CodeSystemDef>,
    compartments: Vec<CompartmentDefinitionDef>,
    operation_definitions: Vec<OperationDefinitionDef>,
}

impl Definitions {
    /// Parses one or more definition Bundles (JSON bytes) and keeps the resources the generator
    /// uses; other resource types in the Bundles are ignored.
    ///
    /// # Errors
    ///
    /// When a Bundle is not JSON or a definition lacks a property the generator needs.
    pub fn from_bundles<'a>(bundles: impl IntoIterator<Item = &'a [u8]>) -> Result<Self, Error> {
        let mut defs = Self::default();
        for bytes in bundles {
            let bundle: Bundle = serde_json::from_slice(bytes)
                .map_err(|err| Error::new(format!("not a definitions Bundle: {err}")))?;
            for entry in bundle.entry {
                defs.add(entry.resource)?;
            }
        }
        Ok(defs)
    }

    /// Adds one definition resource given as JSON; unknown resource types are ignored.
    ///
    /// # Errors
    ///
    /// When the definition lacks a property the generator needs.
    pub fn add(&mut self, resource: serde_json::Value) -> Result<(), Error> {
        let id = resource
            .get("id")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let parse_err = |err: serde_json::Error| Error::new(format!("definition `{id}`: {err}"));
        match resource
            .get("resourceType")
            .and_then(serde_json::Value::as_str)
        {
            Some("StructureDefinition") => self
                .structure_definitions
                .push(serde_json::from_value(resource).map_err(parse_err)?),
            Some("SearchParameter") => self
                .search_parameters
                .push(serde_json::from_value(resource).map_err(parse_err)?),
            Some("ValueSet") => self
                .value_sets
                .push(serde_json::from_value(resource).map_err(parse_err)?),
            Some("CodeSystem") => self
                .code_systems
                .push(serde_json::from_value(resource).map_err(parse_err)?),
            Some("CompartmentDefinition") => self
                .compartments
                .push(serde_json::from_value(resource).map_err(parse_err)?),
            Some("OperationDefinition") => self
                .operation_definitions
                .push(serde_json::from_value(resource).map_err(parse_err)?),
            _ => {}
        }
        Ok(())
    }
}

/// How the emitted code looks and where it finds its runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    crate_path: String,
    header: String,
    resource_features: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            crate_path: String::from("crate"),
            header: String::from("@generated by `cargo xtask codegen` — do not edit by hand."),
            resource_features: true,
        }
    }
}

impl Settings {
    /// The path of the crate that holds the runtime (`crate` inside `fhir-r4`, `fhir_r4` for
    /// code compiled elsewhere, such as the snapshot tests).
    #[must_use]
    pub fn with_crate_path(mut self, path: impl Into<String>) -> Self {
        self.crate_path = path.into();
        self
    }

    /// The first line of every file (an inner doc comment), naming the generator and its input.
    #[must_use]
    pub fn with_header(mut self, header: impl Into<String>) -> Self {
        self.header = header.into();
        self
    }

    /// Whether each resource is compiled only with its cargo feature (on by default).
    #[must_use]
    pub fn with_resource_features(mut self, on: bool) -> Self {
        self.resource_features = on;
        self
    }
}
