//! Hand-written additions to the generated types.

pub(crate) mod raw;
mod reference;
mod resource;
