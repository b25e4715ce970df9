//! A version-agnostic async FHIR REST client.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod resource;

pub use resource::{DecodeError, DecodeErrorKind, EncodeError, Resource, TypedResource};
