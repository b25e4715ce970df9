//! Unit tests of the credential scope.

use super::CredentialScope;
use url::Url;

fn url(text: &str) -> Url {
    Url::parse(text).unwrap()
}

#[test]
fn under_base_is_the_default_rule() {
    let base = url("https://fhir.example/r4");
    let scope = CredentialScope::default();
    assert!(scope.allows(&base, &url("https://fhir.example/r4/$export")));
    assert!(!scope.allows(&base, &url("https://fhir.example/files/1.ndjson")));
}

#[test]
fn origins_widen_the_rule_to_whole_origins_only() {
    let base = url("https://fhir.example/r4");
    let scope = CredentialScope::Origins(vec![
        base.origin(),
        url("https://files.example:8443/").origin(),
    ]);
    assert!(scope.allows(&base, &url("https://fhir.example/files/1.ndjson")));
    assert!(scope.allows(&base, &url("https://files.example:8443/x")));
    assert!(!scope.allows(&base, &url("https://files.example/x")));
    assert!(!scope.allows(&base, &url("http://fhir.example/files/1.ndjson")));
    assert!(!scope.allows(&base, &url("https://storage.example/x?sig=1")));
}

#[test]
fn never_sends_credentials_even_under_the_base() {
    let base = url("https://fhir.example/r4");
    assert!(!CredentialScope::Never.allows(&base, &url("https://fhir.example/r4/Patient")));
}
