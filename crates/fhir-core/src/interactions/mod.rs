//! The FHIR RESTful interactions, one builder per interaction, each finished by `send()`.
//!
//! Typed calls take the resource type from [`TypedResource`](crate::TypedResource)
//! (`client.read::<Patient>(id)`); `*_json` calls take it as a string and work with
//! [`serde_json::Value`].

mod batch;
mod history;
mod operation;
mod read;
mod search;
mod write;

pub use batch::BundleRequest;
pub use history::HistoryRequest;
pub use operation::OperationRequest;
pub use read::{ConditionalReadRequest, ReadRequest};
pub use search::{SearchMethod, SearchRequest};
pub use write::{CreateRequest, DeleteRequest, PatchRequest, UpdateRequest};
