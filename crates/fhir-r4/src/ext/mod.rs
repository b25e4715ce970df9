//! Hand-written additions to the generated types.

pub(crate) mod raw;
mod resource;
