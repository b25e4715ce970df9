use super::{FeatureBlock, manifest_with_features};

const MANIFEST: &str = "[package]\n\n[features]\n# BEGIN generated features (`cargo xtask codegen`)\nold = []\n# END generated features\n\n[lints]\n";

fn patient() -> [(String, String); 1] {
    [(String::from("patient"), String::from("Patient"))]
}

#[test]
fn the_features_block_is_replaced_and_the_rest_kept() {
    let out = manifest_with_features(MANIFEST, &patient(), FeatureBlock::Models).unwrap();
    assert!(out.starts_with("[package]\n\n[features]\n# BEGIN"));
    assert!(out.contains("# BEGIN generated features (`cargo xtask codegen`)\ndefault = [\"all-resources\", \"client\", \"rest\", \"setters\"]\n"));
    assert!(out.contains(
        "# Every resource type; each also has a feature of its own, named below.\nall-resources = [\n    \"patient\",\n]\n# The `Patient` resource.\npatient = [\"fhir-r4-datatypes/patient\"]\n# END"
    ));
    assert!(!out.contains("old = []"));
    assert!(out.ends_with("# END generated features\n\n[lints]\n"));
}

#[test]
fn the_datatypes_block_has_no_default_and_plain_features() {
    let out = manifest_with_features(MANIFEST, &patient(), FeatureBlock::Datatypes).unwrap();
    assert!(!out.contains("default ="));
    assert!(out.contains("# The code enums of the `Patient` resource.\npatient = []\n# END"));
}

#[test]
fn a_manifest_without_the_block_is_an_error() {
    assert!(manifest_with_features("[package]\n", &[], FeatureBlock::Models).is_err());
}
