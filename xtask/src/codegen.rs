//! `cargo xtask codegen`: regenerates `crates/fhir-r4/src/generated/`,
//! `crates/fhir-r4-datatypes/src/generated/`, the resource features of both crates' manifests
//! and the OpenAPI document `docs/openapi/r4.json`; `--check` fails instead of writing when
//! they are stale.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use fhir_codegen::{Definitions, GeneratedFile, Ir, Settings, TargetCrate};

use crate::{Result, project_root, spec};

/// Whether to write the generated files or only compare them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Write what differs.
    Write,
    /// Fail when anything differs.
    Check,
}

const STALE: &str = "stale: run `cargo xtask codegen` and commit";

/// Writes `text` to `path`, or in check mode fails when it differs.
fn ensure_file_contents(path: &Path, text: &str, mode: Mode) -> Result<bool> {
    if fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(false);
    }
    let shown = path
        .strip_prefix(project_root())
        .unwrap_or(path)
        .display()
        .to_string();
    match mode {
        Mode::Check => Err(format!("{shown} is {STALE}")),
        Mode::Write => {
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent)
                    .map_err(|err| format!("cannot create {}: {err}", parent.display()))?;
            }
            fs::write(path, text).map_err(|err| format!("cannot write {shown}: {err}"))?;
            eprintln!("codegen: updated {shown}");
            Ok(true)
        }
    }
}

/// Formats the files with the pinned rustfmt, as `cargo fmt` would.
fn rustfmt(files: &mut [GeneratedFile]) -> Result<()> {
    let dir = project_root().join(".cache/codegen-fmt");
    let _ = fs::remove_dir_all(&dir);
    let mut paths = Vec::new();
    for file in files.iter() {
        let path = dir.join(crate_folder(file.krate)).join(&file.path);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .map_err(|err| format!("cannot create {}: {err}", parent.display()))?;
        }
        fs::write(&path, &file.text)
            .map_err(|err| format!("cannot write {}: {err}", path.display()))?;
        paths.push(path);
    }
    let status = Command::new("rustfmt")
        .args(["--edition", "2024"])
        .args(&paths)
        .status()
        .map_err(|err| format!("cannot run rustfmt: {err}"))?;
    if !status.success() {
        return Err(format!("rustfmt failed with {status}"));
    }
    for (file, path) in files.iter_mut().zip(&paths) {
        file.text = fs::read_to_string(path)
            .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
    }
    let _ = fs::remove_dir_all(&dir);
    Ok(())
}

/// The `generated` folder of a crate, relative to the workspace root.
fn crate_folder(krate: TargetCrate) -> &'static str {
    match krate {
        TargetCrate::Datatypes => "crates/fhir-r4-datatypes/src/generated",
        TargetCrate::Models => "crates/fhir-r4/src/generated",
    }
}

fn generated_files(dir: &Path, out: &mut BTreeSet<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            generated_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.insert(path);
        }
    }
}

/// Which manifest a block of features is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FeatureBlock {
    /// `fhir-r4`: each resource feature turns on the same feature of `fhir-r4-datatypes`.
    Models,
    /// `fhir-r4-datatypes`: each resource feature compiles the code enums of that resource.
    Datatypes,
}

/// Replaces the generated block of features in a manifest.
fn manifest_with_features(
    manifest: &str,
    features: &[(String, String)],
    kind: FeatureBlock,
) -> Result<String> {
    const BEGIN: &str = "# BEGIN generated features (`cargo xtask codegen`)\n";
    const END: &str = "# END generated features\n";
    let (head, rest) = manifest
        .split_once(BEGIN)
        .ok_or("the manifest has no generated features block")?;
    let (_, tail) = rest
        .split_once(END)
        .ok_or("the manifest has no end of the generated features block")?;
    let mut block = String::new();
    if kind == FeatureBlock::Models {
        // `client` and `rest` are declared by hand above the block; the default keeps them on.
        block.push_str("default = [\"all-resources\", \"client\", \"rest\", \"setters\"]\n");
    }
    block.push_str("# Every resource type; each also has a feature of its own, named below.\n");
    block.push_str("all-resources = [\n");
    for (feature, _) in features {
        block.push_str(&format!("    \"{feature}\",\n"));
    }
    block.push_str("]\n");
    for (feature, name) in features {
        match kind {
            FeatureBlock::Models => block.push_str(&format!(
                "# The `{name}` resource.\n{feature} = [\"fhir-r4-datatypes/{feature}\"]\n"
            )),
            FeatureBlock::Datatypes => block.push_str(&format!(
                "# The code enums of the `{name}` resource.\n{feature} = []\n"
            )),
        }
    }
    Ok(format!("{head}{BEGIN}{block}{END}{tail}"))
}

/// Writes the OpenAPI document (`docs/openapi/r4.json`) and the component schemas that
/// the `schemars` feature embeds (`fhir-r4-datatypes/src/generated/schemas.json`); returns how
/// many changed.
fn write_schemas(root: &Path, ir: &Ir, short_sum: &str, mode: Mode) -> Result<usize> {
    let openapi_settings = fhir_codegen::OpenApiSettings::default().with_description(format!(
        "The RESTful API of FHIR R4, generated by `cargo xtask codegen` from the official \
         FHIR R4 4.0.1 definitions (sha256 {short_sum}); do not edit by hand. Schemas describe \
         FHIR JSON: one property per choice variant (`valueQuantity`), `_field` siblings for \
         primitives."
    ));
    let openapi = fhir_codegen::openapi(ir, &openapi_settings).map_err(|e| e.to_string())?;
    let schemas = fhir_codegen::component_schemas(ir).map_err(|e| e.to_string())?;
    let mut schemas = serde_json::to_string_pretty(&schemas).map_err(|e| e.to_string())?;
    schemas.push('\n');
    let mut changed = 0;
    changed += usize::from(ensure_file_contents(
        &root.join("docs/openapi/r4.json"),
        &openapi,
        mode,
    )?);
    changed += usize::from(ensure_file_contents(
        &root.join("crates/fhir-r4-datatypes/src/generated/schemas.json"),
        &schemas,
        mode,
    )?);
    Ok(changed)
}

/// Runs the generator over the pinned definitions.
pub(crate) fn run(mode: Mode) -> Result<()> {
    let spec = spec::ensure()?;
    let mut bundles = Vec::new();
    for path in &spec.definitions {
        bundles
            .push(fs::read(path).map_err(|err| format!("cannot read {}: {err}", path.display()))?);
    }
    let defs =
        Definitions::from_bundles(bundles.iter().map(Vec::as_slice)).map_err(|e| e.to_string())?;
    let ir = Ir::lower(&defs).map_err(|e| e.to_string())?;
    let header = format!(
        "@generated by `cargo xtask codegen` from FHIR R4 4.0.1 (sha256 {}) — do not edit by hand.",
        spec.short_sum
    );
    let settings = Settings::default().with_header(header);
    let mut files = fhir_codegen::generate(&ir, &settings).map_err(|e| e.to_string())?;
    files.extend(fhir_codegen::json_schema_impls(&ir, &settings).map_err(|e| e.to_string())?);
    rustfmt(&mut files)?;

    let root = project_root();
    let mut stale = BTreeSet::new();
    for krate in [TargetCrate::Datatypes, TargetCrate::Models] {
        generated_files(&root.join(crate_folder(krate)), &mut stale);
    }
    let mut changed = 0;
    for file in &files {
        let path = root.join(crate_folder(file.krate)).join(&file.path);
        stale.remove(&path);
        changed += usize::from(ensure_file_contents(&path, &file.text, mode)?);
    }
    for path in stale {
        let shown = path
            .strip_prefix(&root)
            .unwrap_or(&path)
            .display()
            .to_string();
        match mode {
            Mode::Check => return Err(format!("{shown} is no longer generated; {STALE}")),
            Mode::Write => {
                fs::remove_file(&path).map_err(|err| format!("cannot remove {shown}: {err}"))?;
                eprintln!("codegen: removed {shown}");
                changed += 1;
            }
        }
    }
    changed += write_schemas(&root, &ir, &spec.short_sum, mode)?;
    let features = fhir_codegen::resource_features(&ir);
    for (manifest, kind) in [
        ("crates/fhir-r4/Cargo.toml", FeatureBlock::Models),
        (
            "crates/fhir-r4-datatypes/Cargo.toml",
            FeatureBlock::Datatypes,
        ),
    ] {
        let manifest_path = root.join(manifest);
        let text = fs::read_to_string(&manifest_path)
            .map_err(|err| format!("cannot read {manifest}: {err}"))?;
        changed += usize::from(ensure_file_contents(
            &manifest_path,
            &manifest_with_features(&text, &features, kind)
                .map_err(|err| format!("{manifest}: {err}"))?,
            mode,
        )?);
    }
    eprintln!(
        "codegen: {} files, {} resource types, {changed} changed",
        files.len(),
        features.len()
    );
    Ok(())
}

#[cfg(test)]
mod tests;
