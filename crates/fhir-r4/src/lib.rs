//! FHIR R4 (4.0.1) resources and datatypes, generated from the official definitions.
//!
//! The models implement [`fhir_core::Resource`], yet this crate compiles no HTTP stack.
