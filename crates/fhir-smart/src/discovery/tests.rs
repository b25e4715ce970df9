//! Tests for the `discovery` module.

use serde_json::json;

use super::*;

fn base(text: &str) -> Url {
    Url::parse(text).unwrap()
}

fn full_document() -> Value {
    json!({
        "issuer": "https://ehr.example.org",
        "jwks_uri": "https://ehr.example.org/jwks",
        "authorization_endpoint": "https://ehr.example.org/authorize",
        "token_endpoint": "https://ehr.example.org/token",
        "grant_types_supported": ["authorization_code", "client_credentials"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt", "client_secret_basic"],
        "token_endpoint_auth_signing_alg_values_supported": ["ES384", "RS384"],
        "registration_endpoint": "https://ehr.example.org/register",
        "smart_app_state_endpoint": "https://ehr.example.org/state",
        "user_access_brand_bundle": "https://ehr.example.org/brands.json",
        "user_access_brand_identifier": "brand-1",
        "scopes_supported": ["openid", "patient/*.rs"],
        "response_types_supported": ["code"],
        "management_endpoint": "https://ehr.example.org/manage",
        "introspection_endpoint": "https://ehr.example.org/introspect",
        "revocation_endpoint": "https://ehr.example.org/revoke",
        "capabilities": ["launch-ehr", "launch-standalone", "client-public",
            "client-confidential-symmetric", "client-confidential-asymmetric",
            "sso-openid-connect", "context-passthrough-banner", "context-ehr-patient",
            "context-ehr-encounter", "context-standalone-patient", "permission-patient",
            "permission-user", "permission-v2", "https://example.org/custom-capability"],
        "code_challenge_methods_supported": ["S256"],
        "associated_endpoints": [{"url": "https://other.example.org/fhir", "capabilities": ["smart-app-state"]}],
        "x-vendor": {"a": 1}
    })
}

fn parse(doc: &Value, strictness: Strictness) -> Result<SmartConfiguration, Error> {
    SmartConfiguration::from_json(
        &base("https://ehr.example.org/fhir"),
        doc.to_string().as_bytes(),
        strictness,
    )
}

#[test]
fn well_known_keeps_the_base_path() {
    assert_eq!(
        well_known_url(&base("https://h/apis/fhir"))
            .unwrap()
            .as_str(),
        "https://h/apis/fhir/.well-known/smart-configuration"
    );
    assert_eq!(
        well_known_url(&base("https://h/apis/fhir/"))
            .unwrap()
            .as_str(),
        "https://h/apis/fhir/.well-known/smart-configuration"
    );
    assert_eq!(
        well_known_url(&base("https://h")).unwrap().as_str(),
        "https://h/.well-known/smart-configuration"
    );
}

#[test]
fn parses_every_field() {
    let config = parse(&full_document(), Strictness::Strict).unwrap();
    assert_eq!(config.issuer.as_deref(), Some("https://ehr.example.org"));
    assert_eq!(
        config.token_endpoint.as_str(),
        "https://ehr.example.org/token"
    );
    assert_eq!(
        config.authorization_endpoint.as_ref().unwrap().as_str(),
        "https://ehr.example.org/authorize"
    );
    assert_eq!(config.grant_types_supported.len(), 2);
    assert_eq!(
        config.token_endpoint_auth_signing_alg_values_supported,
        ["ES384", "RS384"]
    );
    assert!(config.registration_endpoint.is_some());
    assert!(config.smart_app_state_endpoint.is_some());
    assert!(config.user_access_brand_bundle.is_some());
    assert_eq!(
        config.user_access_brand_identifier.as_deref(),
        Some("brand-1")
    );
    assert!(config.management_endpoint.is_some());
    assert!(config.introspection_endpoint.is_some());
    assert!(config.revocation_endpoint.is_some());
    assert_eq!(config.response_types_supported, ["code"]);
    assert_eq!(config.associated_endpoints.len(), 1);
    assert_eq!(
        config.associated_endpoints[0].capabilities,
        [Capability::SmartAppState]
    );
    assert!(config.extra.contains_key("x-vendor"));
    assert!(
        config
            .capabilities
            .contains(&Capability::Other(String::from(
                "https://example.org/custom-capability"
            )))
    );
    assert_eq!(config.source, ConfigurationSource::WellKnown);
    assert!(config.warnings.is_empty());
}

#[test]
fn capability_helpers_and_legacy_names() {
    let config = parse(&full_document(), Strictness::Lenient).unwrap();
    assert!(
        config.supports(&Capability::ContextBanner),
        "legacy name counts"
    );
    assert!(!config.supports(&Capability::ContextStyle));
    assert!(config.supports_patient_standalone());
    assert!(config.supports_patient_ehr());
    assert!(config.supports_clinician_standalone());
    assert!(config.supports_clinician_ehr());
    assert_eq!(config.scope_version(), crate::scopes::ScopeVersion::V2);
    assert_eq!(Capability::from("launch-ehr").as_str(), "launch-ehr");
}

#[test]
fn patient_standalone_needs_every_capability() {
    let mut doc = full_document();
    doc["capabilities"] = json!(["launch-standalone", "client-public", "permission-patient"]);
    let config = parse(&doc, Strictness::Lenient).unwrap();
    assert!(!config.supports_patient_standalone());
    assert_eq!(config.scope_version(), crate::scopes::ScopeVersion::V2);
    doc["capabilities"] = json!(["launch-standalone", "permission-v1"]);
    assert_eq!(
        parse(&doc, Strictness::Lenient).unwrap().scope_version(),
        crate::scopes::ScopeVersion::V1
    );
}

#[test]
fn resolves_relative_endpoints_against_the_base() {
    let doc = json!({
        "token_endpoint": "auth/token",
        "authorization_endpoint": "/oauth/authorize",
        "capabilities": ["launch-standalone"],
        "grant_types_supported": ["authorization_code"],
        "code_challenge_methods_supported": ["S256"]
    });
    let config = SmartConfiguration::from_json(
        &base("https://h/fhir/"),
        doc.to_string().as_bytes(),
        Strictness::Strict,
    )
    .unwrap();
    assert_eq!(config.token_endpoint.as_str(), "https://h/fhir/auth/token");
    assert_eq!(
        config.authorization_endpoint.unwrap().as_str(),
        "https://h/oauth/authorize"
    );
    // Same without the trailing slash on the base.
    let config = SmartConfiguration::from_json(
        &base("https://h/fhir"),
        doc.to_string().as_bytes(),
        Strictness::Strict,
    )
    .unwrap();
    assert_eq!(config.token_endpoint.as_str(), "https://h/fhir/auth/token");
}

#[test]
fn missing_token_endpoint_is_named() {
    let mut doc = full_document();
    doc.as_object_mut().unwrap().remove("token_endpoint");
    let err = parse(&doc, Strictness::Lenient).unwrap_err();
    assert!(err.to_string().contains("token_endpoint"), "{err}");
}

#[test]
fn malformed_fields_are_named() {
    let mut doc = full_document();
    doc["capabilities"] = json!("launch-ehr");
    let err = parse(&doc, Strictness::Lenient).unwrap_err();
    assert!(
        err.to_string().contains("`capabilities` must be an array"),
        "{err}"
    );

    let mut doc = full_document();
    doc["token_endpoint"] = json!(42);
    assert!(
        parse(&doc, Strictness::Lenient)
            .unwrap_err()
            .to_string()
            .contains("token_endpoint")
    );

    let mut doc = full_document();
    doc["jwks_uri"] = json!("http://[bad");
    assert!(
        parse(&doc, Strictness::Lenient)
            .unwrap_err()
            .to_string()
            .contains("jwks_uri")
    );

    assert!(
        SmartConfiguration::from_json(&base("https://h"), b"<html>", Strictness::Lenient).is_err()
    );
    assert!(SmartConfiguration::from_json(&base("https://h"), b"[]", Strictness::Lenient).is_err());
}

#[test]
fn launch_capability_requires_authorization_endpoint() {
    let mut doc = full_document();
    doc.as_object_mut()
        .unwrap()
        .remove("authorization_endpoint");
    let err = parse(&doc, Strictness::Lenient).unwrap_err();
    assert!(err.to_string().contains("authorization_endpoint"), "{err}");
}

#[test]
fn backend_only_server_is_valid() {
    let doc = json!({
        "token_endpoint": "https://h/token",
        "grant_types_supported": ["client_credentials"],
        "capabilities": ["client-confidential-asymmetric"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "code_challenge_methods_supported": ["S256"]
    });
    let config = parse(&doc, Strictness::Strict).unwrap();
    assert!(config.authorization_endpoint.is_none());
    assert!(config.require_authorization_endpoint().is_err());
}

#[test]
fn lenient_mode_warns_where_strict_mode_fails() {
    let doc = json!({
        "token_endpoint": "https://h/token",
        "authorization_endpoint": "https://h/authorize",
        "capabilities": ["sso-openid-connect"]
    });
    let config = parse(&doc, Strictness::Lenient).unwrap();
    assert!(
        config
            .warnings
            .iter()
            .any(|w| w.contains("grant_types_supported"))
    );
    assert!(
        config
            .warnings
            .iter()
            .any(|w| w.contains("code_challenge_methods_supported"))
    );
    assert!(config.warnings.iter().any(|w| w.contains("issuer")));
    assert!(config.warnings.iter().any(|w| w.contains("jwks_uri")));
    let err = parse(&doc, Strictness::Strict).unwrap_err();
    assert!(err.to_string().contains("grant_types_supported"), "{err}");

    let plain = json!({
        "token_endpoint": "https://h/token",
        "grant_types_supported": ["client_credentials"],
        "capabilities": [],
        "code_challenge_methods_supported": ["plain"]
    });
    assert!(
        parse(&plain, Strictness::Strict)
            .unwrap_err()
            .to_string()
            .contains("S256")
    );
    let config = parse(&plain, Strictness::Lenient).unwrap();
    assert_eq!(config.warnings.len(), 2);
}

fn capability_statement(extension: Value) -> Vec<u8> {
    json!({
        "resourceType": "CapabilityStatement",
        "rest": [
            {"mode": "client"},
            {"mode": "server", "security": {"extension": [extension]}}
        ]
    })
    .to_string()
    .into_bytes()
}

#[test]
fn capability_statement_fallback_accepts_all_value_types() {
    for value_key in ["valueUri", "valueUrl", "valueString"] {
        let doc = capability_statement(json!({
            "url": OAUTH_URIS_EXTENSION,
            "extension": [
                {"url": "authorize", value_key: "https://h/auth/authorize"},
                {"url": "token", value_key: "https://h/auth/token"},
                {"url": "register", value_key: "https://h/auth/register"},
                {"url": "manage", value_key: "https://h/auth/manage"},
                {"url": "introspect", value_key: "https://h/auth/introspect"},
                {"url": "revoke", value_key: "https://h/auth/revoke"}
            ]
        }));
        let config =
            SmartConfiguration::from_capability_statement(&base("https://h/fhir"), &doc).unwrap();
        assert_eq!(
            config.token_endpoint.as_str(),
            "https://h/auth/token",
            "{value_key}"
        );
        assert_eq!(
            config.authorization_endpoint.as_ref().unwrap().as_str(),
            "https://h/auth/authorize"
        );
        assert!(config.registration_endpoint.is_some());
        assert!(config.management_endpoint.is_some());
        assert!(config.introspection_endpoint.is_some());
        assert!(config.revocation_endpoint.is_some());
        assert_eq!(config.source, ConfigurationSource::CapabilityStatement);
        assert!(config.capabilities.is_empty());
        assert_eq!(config.scope_version(), crate::scopes::ScopeVersion::V1);
    }
}

#[test]
fn capability_statement_flat_legacy_form() {
    let doc = json!({
        "rest": [{"security": {"extension": [
            {"url": format!("{OAUTH_URIS_EXTENSION}#token"), "valueUri": "https://h/token"},
            {"url": format!("{OAUTH_URIS_EXTENSION}#authorize"), "valueUri": "https://h/authorize"}
        ]}}]
    });
    let config = SmartConfiguration::from_capability_statement(
        &base("https://h/fhir"),
        doc.to_string().as_bytes(),
    )
    .unwrap();
    assert_eq!(config.token_endpoint.as_str(), "https://h/token");
}

#[test]
fn capability_statement_without_oauth_uris_fails() {
    let doc = json!({"rest": [{"mode": "server", "security": {"extension": []}}]});
    let err = SmartConfiguration::from_capability_statement(
        &base("https://h/fhir"),
        doc.to_string().as_bytes(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("token"), "{err}");
}

#[test]
fn discovery_errors_carry_no_credentials_of_the_base_url() {
    let with_user = base("https://user:pw-secret@ehr.example.org/fhir?api_key=k-secret#frag");
    let err = SmartConfiguration::from_json(&with_user, b"{}", Strictness::Strict).unwrap_err();
    let text = format!("{err} {err:?} {}", err.to_json());
    for leaked in ["pw-secret", "user:", "k-secret", "frag"] {
        assert!(!text.contains(leaked), "{leaked} in {text}");
    }
    assert!(text.contains("https://ehr.example.org/fhir"), "{text}");
}
