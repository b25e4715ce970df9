//! Obtains the pinned FHIR R4 package with npm, verifies it and unpacks it into `.cache/spec/`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::{Result, project_root};

/// The npm package that carries the R4 definitions and examples.
const PACKAGE: &str = "hl7.fhir.r4.examples@4.0.1";
const TARBALL: &str = "hl7.fhir.r4.examples-4.0.1.tgz";

/// The verified spec files on disk.
#[derive(Debug)]
pub(crate) struct Spec {
    /// The unpacked package: the definitions and the example resources.
    pub(crate) package_dir: PathBuf,
    /// The first 12 hex digits of the tarball's SHA-256, for generated headers.
    pub(crate) short_sum: String,
    /// The definition Bundles, in the order the generator reads them.
    pub(crate) definitions: Vec<PathBuf>,
}

/// The definition files, relative to the unpacked tarball.
const DEFINITIONS: &[&str] = &[
    "package/Bundle-types.json",
    "package/Bundle-resources.json",
    "package/Bundle-searchParams.json",
    "package/Bundle-valuesets.json",
];

fn sha256_hex(path: &Path) -> Result<String> {
    let bytes = fs::read(path).map_err(|err| format!("cannot read {}: {err}", path.display()))?;
    Ok(Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

fn expected_sums() -> Result<Vec<(String, String)>> {
    let path = project_root().join("fixtures/spec/r4/SHA256SUMS");
    let text = fs::read_to_string(&path)
        .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
    Ok(text
        .lines()
        .filter_map(|line| line.split_once("  "))
        .map(|(sum, name)| (name.trim().to_owned(), sum.trim().to_owned()))
        .collect())
}

fn verify(base: &Path, name: &str, sums: &[(String, String)]) -> Result<()> {
    let expected = sums
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, sum)| sum.as_str())
        .ok_or_else(|| format!("{name} is not listed in fixtures/spec/r4/SHA256SUMS"))?;
    let actual = sha256_hex(&base.join(name))?;
    if actual != expected {
        return Err(format!("{name}: SHA-256 is {actual}, expected {expected}"));
    }
    Ok(())
}

fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd
        .status()
        .map_err(|err| format!("cannot run {cmd:?}: {err}"))?;
    if !status.success() {
        return Err(format!("{cmd:?} failed with {status}"));
    }
    Ok(())
}

/// Makes sure the verified, unpacked package is in `.cache/spec/`, fetching it with npm if needed.
pub(crate) fn ensure() -> Result<Spec> {
    let cache = project_root().join(".cache/spec");
    let unpacked = cache.join("r4-4.0.1");
    let sums = expected_sums()?;
    let tarball = cache.join(TARBALL);
    fs::create_dir_all(&cache)
        .map_err(|err| format!("cannot create {}: {err}", cache.display()))?;
    if verify(&cache, TARBALL, &sums).is_err() {
        eprintln!("spec: fetching {PACKAGE} with npm");
        run(Command::new("npm")
            .args(["pack", PACKAGE, "--silent", "--pack-destination"])
            .arg(&cache))?;
        verify(&cache, TARBALL, &sums)?;
        let _ = fs::remove_dir_all(&unpacked);
    }
    let all_there = DEFINITIONS
        .iter()
        .all(|d| verify(&unpacked, d, &sums).is_ok());
    if !all_there {
        let _ = fs::remove_dir_all(&unpacked);
        fs::create_dir_all(&unpacked)
            .map_err(|err| format!("cannot create {}: {err}", unpacked.display()))?;
        run(Command::new("tar")
            .arg("-xzf")
            .arg(&tarball)
            .arg("-C")
            .arg(&unpacked))?;
        // The npm manifest is not a FHIR resource; the examples are everything else.
        let _ = fs::remove_file(unpacked.join("package/package.json"));
        for d in DEFINITIONS {
            verify(&unpacked, d, &sums)?;
        }
    }
    let tar_sum = sums
        .iter()
        .find(|(n, _)| n == TARBALL)
        .map(|(_, s)| s.clone())
        .unwrap_or_default();
    Ok(Spec {
        package_dir: unpacked.join("package"),
        short_sum: tar_sum.chars().take(12).collect(),
        definitions: DEFINITIONS.iter().map(|d| unpacked.join(d)).collect(),
    })
}
