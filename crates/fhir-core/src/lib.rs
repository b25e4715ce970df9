//! A version-agnostic async FHIR REST client.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod resource;

#[cfg(feature = "client")]
pub mod auth;
#[cfg(feature = "client")]
mod secret;

#[cfg(feature = "client")]
pub use auth::{AuthProvider, BasicAuth, BearerToken, NoAuth};
pub use resource::{DecodeError, DecodeErrorKind, EncodeError, Resource, TypedResource};
#[cfg(feature = "client")]
pub use secret::SecretString;
