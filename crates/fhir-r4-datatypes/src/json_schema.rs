//! `schemars::JsonSchema` for the models (cargo feature `schemars`): the schemas, and the
//! impls for datatypes, primitives and codes; `fhir-r4` implements it for resources with the
//! same macro, `impl_json_schema!`, which calls [`component`].
//!
//! The schemas describe FHIR JSON, not the Rust structs: a choice element is one property per
//! variant (`valueQuantity`, `valueString`), a primitive has its `_field` sibling, a resource
//! has `resourceType` as a `const`. They are the component schemas of the OpenAPI document,
//! which `cargo xtask codegen` also writes to `generated/schemas.json`; each type's impl looks
//! its schema up there and registers the schemas it references as definitions.

use std::sync::LazyLock;

use schemars::{Schema, SchemaGenerator};
use serde_json::{Map, Value};

// For `impl_json_schema!` expanded in `fhir-r4`, which need not name the crate itself.
#[doc(hidden)]
pub use schemars;

/// Every component schema by key (`Patient`, `Patient.contact`, `date`, …), parsed once.
static SCHEMAS: LazyLock<Map<String, Value>> = LazyLock::new(|| {
    // The file is generated and checked by the tests; an empty map would only weaken schemas.
    serde_json::from_str(include_str!("generated/schemas.json")).unwrap_or_default()
});

/// How the schemas refer to each other in `schemas.json`.
const COMPONENT_PREFIX: &str = "#/components/schemas/";

/// The schema stored under `key`, with its references pointing into the generator's
/// definitions, which receive every schema it references. `fhir-r4`'s resources' `JsonSchema`
/// impls call it; keys are those of the OpenAPI document's component schemas.
pub fn component(generator: &mut SchemaGenerator, key: &str) -> Schema {
    let mut value = SCHEMAS.get(key).cloned().unwrap_or(Value::Bool(true));
    relink(&mut value, generator);
    Schema::try_from(value).unwrap_or_default()
}

/// Rewrites `#/components/schemas/X` references to the generator's definitions path, adding
/// `X` to the definitions; drops the OpenAPI-only keywords so the result is plain JSON Schema.
fn relink(value: &mut Value, generator: &mut SchemaGenerator) {
    match value {
        Value::Object(map) => {
            map.remove("discriminator");
            map.remove("externalDocs");
            for (key, item) in map.iter_mut() {
                match item {
                    Value::String(target) if key == "$ref" => {
                        if let Some(name) = target.strip_prefix(COMPONENT_PREFIX) {
                            let name = name.to_owned();
                            *target = format!("#{}/{name}", definitions_path(generator));
                            define(generator, &name);
                        }
                    }
                    // Property names are not schemas; their values are.
                    _ => relink(item, generator),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                relink(item, generator);
            }
        }
        _ => {}
    }
}

/// The generator's definitions path as a JSON pointer (`/$defs`).
fn definitions_path(generator: &SchemaGenerator) -> String {
    let path = &generator.settings().definitions_path;
    let path = path.strip_prefix('#').unwrap_or(path);
    path.strip_suffix('/').unwrap_or(path).to_owned()
}

/// Adds the schema `name` (and, recursively, what it references) to the definitions once.
fn define(generator: &mut SchemaGenerator, name: &str) {
    if generator.definitions().contains_key(name) {
        return;
    }
    // A placeholder first, so recursive types (Extension, Identifier ↔ Reference) terminate.
    generator
        .definitions_mut()
        .insert(name.to_owned(), Value::Bool(true));
    let mut value = SCHEMAS.get(name).cloned().unwrap_or(Value::Bool(true));
    relink(&mut value, generator);
    generator.definitions_mut().insert(name.to_owned(), value);
}

/// Implements `JsonSchema` for a model type with the component schema `key`: the datatypes
/// here, the resources in `fhir-r4` (its generated `json_schema.rs` imports this macro).
#[doc(hidden)]
#[macro_export]
macro_rules! impl_json_schema {
    ($ty:ty, $key:literal) => {
        impl $crate::json_schema::schemars::JsonSchema for $ty {
            fn schema_name() -> ::std::borrow::Cow<'static, str> {
                ::std::borrow::Cow::Borrowed($key)
            }

            fn schema_id() -> ::std::borrow::Cow<'static, str> {
                ::std::borrow::Cow::Borrowed(concat!("fhir_r4::", $key))
            }

            fn json_schema(
                generator: &mut $crate::json_schema::schemars::SchemaGenerator,
            ) -> $crate::json_schema::schemars::Schema {
                $crate::json_schema::component(generator, $key)
            }
        }
    };
}

// The primitive value types, as the FHIR primitives they hold.
impl_json_schema!(crate::primitives::Date, "date");
impl_json_schema!(crate::primitives::DateTime, "dateTime");
impl_json_schema!(crate::primitives::Instant, "instant");
impl_json_schema!(crate::primitives::Time, "time");
impl_json_schema!(crate::primitives::Decimal, "decimal");
impl_json_schema!(crate::primitives::PositiveInt, "positiveInt");
impl_json_schema!(crate::primitives::UnsignedInt, "unsignedInt");

// Datatypes, their backbone elements and code enums.
#[path = "generated/json_schema.rs"]
mod generated;
