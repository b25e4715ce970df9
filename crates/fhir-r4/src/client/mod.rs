//! Typed R4 calls on [`fhir_core::Client`] (the `client` feature, on by default).
//!
//! `fhir-core` already reads, searches, writes and bundles any type implementing
//! [`fhir_core::Resource`], which every model here does: `client.read::<Patient>(id)`,
//! `client.search::<Observation>()`, `client.create(&patient)`, `client.transaction()`.
//! This module adds what needs the R4 models:
//!
//! - [`TypedPageExt`]: a search page's included resources as [`Resource`](crate::Resource)
//!   (any type) or as one type, and its `search.mode = outcome` entries as the R4
//!   [`OperationOutcome`](crate::resources::OperationOutcome).
//! - [`OperationsExt`]: `$everything` on Patient and Encounter as a stream of resources over
//!   every result page, `$validate` answering a typed OperationOutcome, and
//!   [`operation_typed`](OperationsExt::operation_typed) for any other operation, sending
//!   [`Parameters`](crate::resources::Parameters) and decoding the answer as Parameters, a
//!   resource or an OperationOutcome.
//!
//! References between entries of one transaction use
//! [`Reference::from_handle`](crate::datatypes::Reference::from_handle).
//!
//! ```no_run
//! # async fn demo(client: fhir_core::Client) -> Result<(), fhir_core::Error> {
//! use fhir_r4::client::{OperationsExt as _, TypedPageExt as _};
//! use futures::TryStreamExt as _;
//!
//! let mut everything = client.patient_everything("123").count(50).resources();
//! while let Some(resource) = everything.try_next().await? {
//!     println!("{}/{}", resource.resource_type(), resource.id().unwrap_or("?"));
//! }
//! # Ok(()) }
//! ```

mod operation;
mod page;

pub use operation::{
    EverythingRequest, OperationOutput, OperationResponse, OperationsExt, TypedOperation,
    ValidateMode, ValidateRequest,
};
pub use page::TypedPageExt;

/// Keeps the extension traits implemented only here.
mod sealed {
    pub trait Sealed {}
}
