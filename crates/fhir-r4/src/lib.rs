//! FHIR R4 (4.0.1) resources and datatypes, generated from the official definitions.
//!
//! The models implement [`fhir_core::Resource`], yet this crate compiles no HTTP stack.
//!
//! # Crate organization
//!
//! - [`Resource`]: any resource, tagged by `resourceType`; [`Resource::from_slice`] and
//!   [`Resource::to_vec`] read and write FHIR JSON.
//! - [`resources`]: one struct per resource type (`Patient`, `Observation`, …), each behind a
//!   cargo feature named after it in snake case (`patient`, `medication_request`); the
//!   `all-resources` feature (on by default) turns them all on.
//! - [`codes`]: enums for codes bound to a value set with strength `required`
//!   (`AdministrativeGender`, `ObservationStatus`, …); a code outside the value set is kept in
//!   the `Unrecognized` variant, so reading never loses it.
//! - [`datatypes`]: the complex datatypes (`HumanName`, `Quantity`, `Extension`, …), and
//!   [`datatypes::OpenValue`], the value of open-type elements such as `Extension.value[x]`.
//! - [`primitives`]: [`primitives::Primitive`] (a value with its `id` and extensions) and the
//!   primitive value types (`Decimal`, `Date`, `DateTime`, `Instant`, `Time`, …).
//! - [`json`]: the JSON runtime behind the models; [`DecodeOptions`] selects lenient decoding.
//! - [`validate`]: checks that are not part of parsing, such as missing required elements.
//!
//! `datatypes`, `primitives`, `json` and `codes` live in the
//! `fhir-r4-datatypes` crate and are re-exported here: two crates of similar size keep the
//! peak memory of a build lower than one, and cargo compiles them partly in parallel.
//!
//! # Example
//!
//! ```
//! use fhir_r4::Resource;
//!
//! let json = br#"{"birthDate":"1970-03","resourceType":"Patient","_birthDate":{"id":"b"}}"#;
//! let resource = Resource::from_slice(json).unwrap();
//! assert_eq!(resource.resource_type(), "Patient");
//! assert_eq!(
//!     resource.to_vec(),
//!     br#"{"resourceType":"Patient","birthDate":"1970-03","_birthDate":{"id":"b"}}"#
//! );
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

mod ext;
pub mod validate;

// Generated code only: its doc text comes from the definitions (which mention URLs and use
// brackets), and its shapes follow the definitions rather than clippy's taste.
#[allow(
    clippy::all,
    clippy::pedantic,
    rustdoc::bare_urls,
    rustdoc::broken_intra_doc_links,
    rustdoc::invalid_html_tags
)]
mod generated;

pub use ext::raw::RawResource;
pub use fhir_r4_datatypes::{ThinVec, codes, datatypes, json, primitives, thin_vec};
pub use generated::{RESOURCE_TYPES, Resource, resources};
pub use json::DecodeOptions;
