//! Generator of Rust FHIR models: definitions in, Rust source out, no I/O.
