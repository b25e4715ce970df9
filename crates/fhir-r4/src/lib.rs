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
//! - [`json`]: the JSON runtime behind the models; [`DecodeOptions`] selects lenient decoding,
//!   whose [`DecodeReport`] says what it dropped.
//! - [`validate`]: checks that are not part of parsing, such as missing required elements.
//! - [`search`] (cargo feature `rest`, on by default): typed search parameters per resource
//!   type and the [`search::Search`] query.
//! - [`paths`] (feature `rest`): the relative path and query of every RESTful interaction,
//!   without a client.
//! - `client` (the `client` cargo feature, on by default): typed calls on
//!   [`fhir_core::Client`]: R4 views of search pages, `$everything`, `$validate` and typed
//!   operations. Without the feature this crate compiles no HTTP stack.
//!
//! # Strict and lenient decoding
//!
//! Decoding is strict by default and rejects, with a [`fhir_core::DecodeError`] whose kind and
//! JSON path name the problem, what FHIR JSON never contains: unknown properties and resource
//! types; a property twice in one object (`DuplicateProperty`, also `resourceType`, `_field`s
//! and choice variants, in every object, contained and bundled resources included); `[]`,
//! `{}` and `null` (`EmptyValue`; `null` is allowed only inside an array of primitives or its
//! `_field` array, at an index where the other array has something); a `_field` array of
//! nulls only (`EmptyValue`) or of another length than its values (`InvalidValue`); a resource
//! decoded as its own type (`Patient`) without `resourceType` (`MissingField`).
//! A UTF-8 byte-order mark before the document is skipped (servers send one); anywhere else it
//! is an error.
//!
//! [`DecodeOptions::lenient`] reads such documents instead: unknown properties are kept and
//! written back, the last value of a duplicate property is kept, empty values are dropped
//! (and so is an object or array item left empty by that), of misaligned primitive arrays the
//! shorter is padded and empty items are dropped. [`Resource::from_slice_with_report`] (and
//! [`json::from_slice_with_report`] for one model type) returns a [`DecodeReport`] listing each
//! of these by kind and path; what lenient decoding writes back reads strictly, but for the
//! unknown properties and resource types it keeps. Wrong JSON types, invalid values and two
//! variants of one choice element are errors in both modes.
//!
//! ```
//! # #[cfg(feature = "patient")]
//! # {
//! use fhir_core::{DecodeErrorKind, Resource as _};
//! use fhir_r4::resources::Patient;
//! use fhir_r4::{DecodeOptions, Resource};
//!
//! let json = br#"{"resourceType":"Patient","name":[{"given":["Ann"]}],"name":[]}"#;
//! let err = Patient::from_json_slice(json).unwrap_err();
//! assert_eq!((err.kind, err.path.as_str()), (DecodeErrorKind::DuplicateProperty, "Patient.name"));
//!
//! let (patient, report) = Resource::from_slice_with_report(json, DecodeOptions::lenient())?;
//! assert_eq!(patient.to_vec(), br#"{"resourceType":"Patient"}"#, "the last `name` was empty");
//! assert_eq!(report.warnings().len(), 2);
//! # }
//! # Ok::<(), fhir_core::DecodeError>(())
//! ```
//!
//! # Typed REST
//!
//! Every model implements [`fhir_core::Resource`] and [`fhir_core::TypedResource`], so
//! `fhir-core`'s client reads, searches, writes and bundles them directly
//! (`client.read::<Patient>(id)`, `client.search::<Observation>()`,
//! `client.transaction().create(&patient)`); `Parameters` gets builders and readers
//! (`Parameters::new().with_value(…)`, `parameters.resource("return")`), and
//! `Reference::from_handle` refers to another entry of the same transaction. The `typed_rest`
//! example runs the whole flow against a server.
//!
//! # JSON Schema (the `schemars` cargo feature)
//!
//! With the `schemars` feature (off by default), every model type — resources, datatypes,
//! backbone elements, code enums, [`Resource`] and the primitive value types — implements
//! `schemars::JsonSchema`, for tools that need the schema of a resource (agent tool
//! definitions, form builders, validators). The schemas describe FHIR JSON rather than the Rust
//! structs: a choice element is one property per variant (`valueQuantity`, `valueString`), a
//! primitive has its `_field` sibling (`_birthDate`: `id` and `extension`), a resource has
//! `resourceType` as a `const`, a code with a required binding is an `enum`, `decimal` is a
//! `number`, dates carry the R4 regular expressions, and [`Resource`] is a `oneOf` tagged by
//! `resourceType`. They are the component schemas of `docs/openapi/r4.json`, both written by
//! `cargo xtask codegen`; referenced schemas become definitions (`$defs`) named by FHIR type or
//! path (`HumanName`, `Patient.contact`, `date`). Elements with minimum cardinality 1 are
//! `required`, except primitives, whose value may be replaced by an extension in `_field`.
//!
//! ```
//! # #[cfg(all(feature = "schemars", feature = "patient"))]
//! # {
//! let schema = schemars::schema_for!(fhir_r4::resources::Patient);
//! let properties = schema.get("properties").unwrap();
//! assert_eq!(properties["resourceType"]["const"], "Patient");
//! assert!(properties.get("deceasedBoolean").is_some());
//! assert!(properties.get("_birthDate").is_some());
//! # }
//! ```
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

#[cfg(feature = "client")]
pub mod client;
mod ext;
#[cfg(feature = "schemars")]
mod json_schema;
#[cfg(feature = "rest")]
pub mod paths;
pub mod prelude;
#[cfg(feature = "rest")]
pub mod search;
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

/// The workspace README's examples, compiled as doctests so they cannot rot.
#[cfg(all(
    doctest,
    feature = "client",
    feature = "rest",
    feature = "setters",
    feature = "patient",
    feature = "observation"
))]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;

pub use ext::raw::RawResource;
pub use fhir_r4_datatypes::{ThinVec, UCUM, codes, datatypes, json, primitives, thin_vec};
pub use generated::{RESOURCE_TYPES, Resource, resources};
pub use json::{DecodeOptions, DecodeReport, DecodeWarning};
