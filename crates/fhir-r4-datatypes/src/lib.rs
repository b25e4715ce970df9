//! The foundation of [`fhir-r4`](https://docs.rs/fhir-r4): its JSON runtime, the primitive
//! value types and the complex datatypes of FHIR R4 (4.0.1), generated from the official
//! definitions.
//!
//! Use it through `fhir-r4`, which re-exports every module here under the same names
//! (`fhir_r4::datatypes`, `fhir_r4::primitives`, `fhir_r4::json`). It is a crate of its own
//! so that the models build in two steps of about equal size instead of one large one: the
//! peak memory of a build is that of its largest crate, and cargo compiles `fhir-r4`'s
//! resources while this crate's code generation finishes on another core.
//!
//! - [`datatypes`]: the complex datatypes (`HumanName`, `Quantity`, `Extension`, …) and
//!   [`datatypes::OpenValue`], the value of open-type elements such as `Extension.value[x]`.
//! - [`primitives`]: [`primitives::Primitive`] (a value with its `id` and extensions) and the
//!   primitive value types (`Decimal`, `Date`, `DateTime`, `Instant`, `Time`, …).
//! - [`codes`]: the enums of required code bindings; those that only resources use are
//!   compiled with the features of those resources, which `fhir-r4`'s features turn on.
//! - [`json`]: the non-generic JSON reader and writer behind the models.
//!
//! # Example
//!
//! ```
//! use fhir_r4_datatypes::datatypes::Reference;
//! use fhir_r4_datatypes::json;
//!
//! let reference: Reference = json::from_slice(br#"{"reference":"Patient/1"}"#, "Reference").unwrap();
//! assert_eq!(reference.target(), Some(("Patient", "1")));
//! assert_eq!(json::to_vec(&reference), br#"{"reference":"Patient/1"}"#);
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

mod construct;
mod display;
pub mod json;
#[cfg(feature = "schemars")]
pub mod json_schema;
pub mod primitives;
mod reference;

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

pub use construct::UCUM;
pub use generated::{codes, datatypes};
pub use json::DecodeOptions;
/// The vector of repeating elements: one pointer wide when empty (most are), where `Vec` takes
/// three; it derefs to a slice and builds with [`thin_vec!`] or `.into()` from a `Vec`.
pub use thin_vec::{ThinVec, thin_vec};
