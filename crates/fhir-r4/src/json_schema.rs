//! `schemars::JsonSchema` for the resources (cargo feature `schemars`). The schemas describe
//! FHIR JSON, not the Rust structs; they and the impls for datatypes live in
//! `fhir-r4-datatypes` (its `json_schema` module), whose `impl_json_schema!` the generated impls
//! here use.

// Resources, their backbone elements and `Resource`.
#[path = "generated/json_schema.rs"]
mod generated;
