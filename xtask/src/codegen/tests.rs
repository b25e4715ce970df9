use super::manifest_with_features;

#[test]
fn the_features_block_is_replaced_and_the_rest_kept() {
    let manifest = "[package]\n\n[features]\n# BEGIN generated features (`cargo xtask codegen`)\nold = []\n# END generated features\n\n[lints]\n";
    let features = [(String::from("patient"), String::from("Patient"))];
    let out = manifest_with_features(manifest, &features).unwrap();
    assert!(out.starts_with("[package]\n\n[features]\n# BEGIN"));
    assert!(out.contains("# BEGIN generated features (`cargo xtask codegen`)\ndefault = [\"all-resources\", \"client\"]\n"));
    assert!(out.contains(
        "all-resources = [\n    \"patient\",\n]\n# The `Patient` resource.\npatient = []\n# END"
    ));
    assert!(!out.contains("old = []"));
    assert!(out.ends_with("# END generated features\n\n[lints]\n"));
}

#[test]
fn a_manifest_without_the_block_is_an_error() {
    assert!(manifest_with_features("[package]\n", &[]).is_err());
}
