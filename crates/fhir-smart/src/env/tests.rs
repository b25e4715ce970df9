//! Tests for the `env` module (no process environment is touched).

use std::collections::HashMap;

use super::*;

fn env(pairs: &[(&str, &str)]) -> SmartEnv {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    SmartEnv::from_lookup(|name| map.get(name).cloned())
}

fn configuration_name(err: Error) -> String {
    match err {
        Error::Configuration { name, .. } => name,
        other => panic!("not a configuration error: {other:?}"),
    }
}

#[test]
fn iss_falls_back_to_fhir_base_url_and_code_overrides() {
    let e = env(&[("FHIR_BASE_URL", "https://b.example.org/fhir")]);
    assert_eq!(e.fhir_base().unwrap().0, "https://b.example.org/fhir");
    let e = env(&[
        ("SMART_ISS", "https://a.example.org/fhir"),
        ("FHIR_BASE_URL", "https://b"),
    ]);
    assert_eq!(e.fhir_base().unwrap().0, "https://a.example.org/fhir");
    let e = e.iss("https://c.example.org/r4");
    assert_eq!(e.fhir_base().unwrap().0, "https://c.example.org/r4");
    let e = env(&[("FHIR_BASE_URL", "not a url")]);
    assert_eq!(
        configuration_name(e.fhir_base().unwrap_err()),
        "FHIR_BASE_URL"
    );
    assert_eq!(
        configuration_name(env(&[]).fhir_base().unwrap_err()),
        "SMART_ISS"
    );
}

#[test]
fn missing_values_name_the_variable() {
    let e = env(&[
        ("SMART_ISS", "https://h/fhir"),
        ("SMART_SCOPE", "system/*.rs"),
    ]);
    assert_eq!(
        configuration_name(e.backend_services().unwrap_err()),
        "SMART_CLIENT_ID"
    );
    let e = e.client_id("c");
    assert_eq!(
        configuration_name(e.backend_services().unwrap_err()),
        "SMART_PRIVATE_KEY"
    );
    assert_eq!(
        configuration_name(e.app_launch().unwrap_err()),
        "SMART_REDIRECT_URI"
    );
    let e = env(&[
        ("SMART_ISS", "https://h/fhir"),
        ("SMART_CLIENT_ID", "c"),
        ("SMART_SCOPE", "patient/X.sr"),
    ]);
    assert_eq!(configuration_name(e.scopes().unwrap_err()), "SMART_SCOPE");
    let e = env(&[("SMART_SCOPE", "  ")]);
    assert_eq!(
        configuration_name(e.scopes().unwrap_err()),
        "SMART_SCOPE",
        "empty is unset"
    );
}

#[test]
fn private_key_from_pem_text_path_or_jwk() {
    let key = SigningKey::generate(SigningAlgorithm::Es384, "k1").unwrap();
    let pem = key.to_pkcs8_pem().unwrap();
    let base = [
        ("SMART_ISS", "https://h/fhir"),
        ("SMART_CLIENT_ID", "c"),
        ("SMART_SCOPE", "system/*.rs"),
    ];

    let mut vars = base.to_vec();
    vars.push(("SMART_PRIVATE_KEY", pem.expose_secret()));
    let e = env(&vars);
    assert_eq!(
        configuration_name(e.signing_key().unwrap_err()),
        "SMART_KID"
    );
    let loaded = e.clone().kid("k1").signing_key().unwrap().unwrap();
    assert_eq!(loaded.public_jwk(), key.public_jwk());
    assert!(e.clone().kid("k1").backend_services().is_ok());
    assert_eq!(
        configuration_name(e.clone().kid("k1").alg("RS384").signing_key().unwrap_err()),
        "SMART_PRIVATE_KEY"
    );
    assert_eq!(
        configuration_name(e.clone().kid("k1").alg("HS256").signing_key().unwrap_err()),
        "SMART_ALG"
    );

    let dir = std::env::temp_dir().join(format!("fhir-smart-env-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("private.pem");
    std::fs::write(&path, pem.expose_secret()).unwrap();
    let from_file = env(&[
        ("SMART_PRIVATE_KEY", path.to_str().unwrap()),
        ("SMART_KID", "k1"),
    ]);
    assert_eq!(from_file.signing_key().unwrap().unwrap().kid(), "k1");
    std::fs::remove_dir_all(&dir).unwrap();
    let missing = env(&[
        ("SMART_PRIVATE_KEY", "/nonexistent/key.pem"),
        ("SMART_KID", "k1"),
    ]);
    assert_eq!(
        configuration_name(missing.signing_key().unwrap_err()),
        "SMART_PRIVATE_KEY"
    );
}

#[test]
fn jku_must_be_a_url() {
    let e = env(&[("SMART_JKU", "nope")]);
    assert_eq!(
        configuration_name(e.assertion_options().unwrap_err()),
        "SMART_JKU"
    );
    let e = env(&[("SMART_JKU", "https://app/jwks.json")]);
    assert_eq!(
        e.assertion_options().unwrap().jku.unwrap().as_str(),
        "https://app/jwks.json"
    );
}

#[test]
fn debug_redacts_secrets() {
    let e = env(&[
        ("SMART_CLIENT_SECRET", "hunter2"),
        ("SMART_PRIVATE_KEY", "-----BEGIN PRIVATE KEY-----abc"),
    ]);
    let debug = format!("{e:?}");
    assert!(!debug.contains("hunter2"));
    assert!(!debug.contains("BEGIN"));
}

#[test]
fn app_launch_from_env() {
    let e = env(&[
        ("SMART_ISS", "https://h/fhir"),
        ("SMART_CLIENT_ID", "c"),
        ("SMART_REDIRECT_URI", "http://127.0.0.1:8080/cb"),
        ("SMART_SCOPE", "openid fhirUser launch/patient patient/*.rs"),
        ("SMART_CLIENT_SECRET", "s"),
    ]);
    assert!(e.app_launch().is_ok());
}
