//! The list of `schemars::JsonSchema` impls of `fhir-r4`: one `impl_json_schema!` call per
//! model type, naming the type and its key in the component schemas (see [`crate::openapi`]).
//! The macro and the embedded schemas live in the crates; this file only pairs types with keys.

use std::fmt::Write as _;

use crate::emit::{GeneratedFile, TargetCrate};
use crate::ir::{Ir, TypeKind};
use crate::naming::module_name;
use crate::openapi::RESOURCE_SCHEMA;
use crate::{Error, Settings};

/// The files `json_schema.rs` of both crates: `impl_json_schema!(path::Type, "key");` for every
/// struct of every datatype, every code enum (in `fhir-r4-datatypes`), every struct of every
/// resource and the `Resource` enum (in `fhir-r4`); those of a resource behind its feature. Each
/// uses the one `impl_json_schema!`, exported by `fhir-r4-datatypes`.
///
/// # Errors
///
/// Never at present; the `Result` leaves room for consistency checks.
pub fn json_schema_impls(ir: &Ir, settings: &Settings) -> Result<Vec<GeneratedFile>, Error> {
    let root = &settings.crate_path;
    let head = format!(
        "//! {}\n\n//! One `JsonSchema` impl per model type: the type and its component schema.\n\n",
        settings.header
    );
    let mut datatypes = head.clone();
    // The one macro is exported by `fhir-r4-datatypes`.
    let mut models = format!("{head}use fhir_r4_datatypes::impl_json_schema;\n\n");
    let cfg_of = |features: &[String]| -> String {
        match features {
            _ if !settings.resource_features => String::new(),
            [] => String::new(),
            [one] => format!("#[cfg(feature = \"{one}\")]\n"),
            many => {
                let list: Vec<String> = many.iter().map(|f| format!("feature = \"{f}\"")).collect();
                format!("#[cfg(any({}))]\n", list.join(", "))
            }
        }
    };
    for ty in &ir.types {
        let (module, features, text) = match ty.kind {
            TypeKind::Datatype => ("datatypes", Vec::new(), &mut datatypes),
            TypeKind::Resource => ("resources", vec![module_name(&ty.name)], &mut models),
        };
        for s in &ty.structs {
            let _ = writeln!(
                text,
                "{}impl_json_schema!({root}::{module}::{}, \"{}\");",
                cfg_of(&features),
                s.name,
                s.path
            );
        }
    }
    for e in &ir.code_enums {
        // Same rule as the enum itself: compiled only with the resources that use it.
        let features: Vec<String> = if e.used_by.iter().all(|(k, _)| *k == TypeKind::Resource) {
            e.used_by.iter().map(|(_, ty)| module_name(ty)).collect()
        } else {
            Vec::new()
        };
        let _ = writeln!(
            datatypes,
            "{}impl_json_schema!({root}::codes::{}, \"{}\");",
            cfg_of(&features),
            e.name,
            e.name
        );
    }
    let _ = writeln!(
        models,
        "impl_json_schema!({root}::Resource, \"{RESOURCE_SCHEMA}\");"
    );
    Ok(vec![
        GeneratedFile {
            krate: TargetCrate::Datatypes,
            path: String::from("json_schema.rs"),
            text: datatypes,
        },
        GeneratedFile {
            krate: TargetCrate::Models,
            path: String::from("json_schema.rs"),
            text: models,
        },
    ])
}
