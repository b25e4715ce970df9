//! SMART on FHIR 2.x for Rust clients: SMART App Launch (standalone and EHR) and Backend Services.
//!
//! This crate plugs into [`fhir_core`] through its `AuthProvider` trait.
