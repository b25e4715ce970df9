//! `schemars::JsonSchema` for the resources (cargo feature `schemars`). The schemas describe
//! FHIR JSON, not the Rust structs; they and the impls for datatypes live in
//! `fhir-r4-datatypes` (its `json_schema` module), whose schema lookup the impls here call.

/// Implements `JsonSchema` for a model type with the component schema `key`.
macro_rules! impl_json_schema {
    ($ty:ty, $key:literal) => {
        impl ::schemars::JsonSchema for $ty {
            fn schema_name() -> ::std::borrow::Cow<'static, str> {
                ::std::borrow::Cow::Borrowed($key)
            }

            fn schema_id() -> ::std::borrow::Cow<'static, str> {
                ::std::borrow::Cow::Borrowed(concat!("fhir_r4::", $key))
            }

            fn json_schema(generator: &mut ::schemars::SchemaGenerator) -> ::schemars::Schema {
                ::fhir_r4_datatypes::json_schema::component(generator, $key)
            }
        }
    };
}

// Resources, their backbone elements and `Resource`.
#[path = "generated/json_schema.rs"]
mod generated;
