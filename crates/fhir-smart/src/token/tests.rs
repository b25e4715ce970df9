//! Tests for the `token` module.

use serde_json::json;

use super::*;

fn parse(value: Value) -> Result<TokenResponse, Error> {
    TokenResponse::from_json(value.to_string().as_bytes())
}

#[test]
fn parses_every_field_and_keeps_extras() {
    let token = parse(json!({
        "access_token": "at",
        "token_type": "Bearer",
        "expires_in": 3600,
        "scope": "launch/patient patient/Observation.rs openid fhirUser",
        "refresh_token": "rt",
        "id_token": "it",
        "patient": "123",
        "encounter": "e1",
        "fhirContext": [
            {"reference": "Questionnaire/q1", "role": "http://example.org/role"},
            {"canonical": "http://example.org/Questionnaire/q|1.0", "type": "Questionnaire"},
            {"identifier": {"system": "urn:x", "value": "y"}, "type": "MedicationRequest"}
        ],
        "need_patient_banner": true,
        "smart_style_url": "https://ehr/style.json",
        "intent": "reconcile-medications",
        "tenant": "t1",
        "authorization_details": [{"type": "smart_on_fhir", "locations": ["https://a"]}],
        "__ext": 1,
        "https://example.org/ctx": "x"
    }))
    .unwrap();
    assert_eq!(token.access_token.expose_secret(), "at");
    assert_eq!(token.expires_in, Some(3600));
    assert_eq!(token.refresh_token.unwrap().expose_secret(), "rt");
    assert_eq!(token.id_token.unwrap().expose_secret(), "it");
    assert_eq!(token.patient.as_deref(), Some("123"));
    assert_eq!(token.encounter.as_deref(), Some("e1"));
    assert_eq!(token.fhir_context.len(), 3);
    assert_eq!(token.fhir_context[0].role(), "http://example.org/role");
    assert_eq!(token.fhir_context[1].role(), "launch");
    assert_eq!(
        token.fhir_context[2].resource_type.as_deref(),
        Some("MedicationRequest")
    );
    assert_eq!(token.need_patient_banner, Some(true));
    assert_eq!(
        token.smart_style_url.as_deref(),
        Some("https://ehr/style.json")
    );
    assert_eq!(token.intent.as_deref(), Some("reconcile-medications"));
    assert_eq!(token.tenant.as_deref(), Some("t1"));
    assert!(token.authorization_details.is_some());
    assert_eq!(token.extra.len(), 2);
    assert!(token.extra.contains_key("__ext"));
}

#[test]
fn token_type_is_case_insensitive() {
    for t in ["bearer", "Bearer", "BEARER"] {
        assert!(
            parse(json!({"access_token": "a", "token_type": t})).is_ok(),
            "{t}"
        );
    }
    let err = parse(json!({"access_token": "a", "token_type": "mac"})).unwrap_err();
    assert!(err.to_string().contains("token_type"));
}

#[test]
fn expires_in_variants() {
    let with =
        |v: Value| parse(json!({"access_token": "a", "token_type": "bearer", "expires_in": v}));
    assert_eq!(with(json!(300)).unwrap().expires_in, Some(300));
    assert_eq!(with(json!("600")).unwrap().expires_in, Some(600));
    assert_eq!(with(json!(299.9)).unwrap().expires_in, Some(299));
    assert_eq!(with(Value::Null).unwrap().expires_in, None);
    assert_eq!(
        parse(json!({"access_token": "a", "token_type": "bearer"}))
            .unwrap()
            .expires_in,
        None
    );
    assert!(with(json!("soon")).is_err());
    assert!(with(json!(-5)).is_err());
    assert!(with(json!([1])).is_err());
}

#[test]
fn missing_or_empty_access_token_is_an_error() {
    assert!(
        parse(json!({"token_type": "bearer"}))
            .unwrap_err()
            .to_string()
            .contains("access_token")
    );
    assert!(parse(json!({"access_token": "", "token_type": "bearer"})).is_err());
    assert!(
        parse(json!({"access_token": "a"}))
            .unwrap_err()
            .to_string()
            .contains("token_type")
    );
}

#[test]
fn error_member_on_200_is_an_error() {
    let err = parse(json!({"error": "invalid_grant", "error_description": "nope"})).unwrap_err();
    match err {
        Error::TokenEndpoint(e) => {
            assert_eq!(e.status, 200);
            assert_eq!(e.error, Some(crate::TokenErrorCode::InvalidGrant));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn need_patient_banner_accepts_strings() {
    let t =
        parse(json!({"access_token": "a", "token_type": "bearer", "need_patient_banner": "false"}))
            .unwrap();
    assert_eq!(t.need_patient_banner, Some(false));
}

#[test]
fn fhir_context_entries_need_a_target() {
    let err =
        parse(json!({"access_token": "a", "token_type": "bearer", "fhirContext": [{"role": "x"}]}))
            .unwrap_err();
    assert!(err.to_string().contains("fhirContext[0]"));
}

#[test]
fn errors_and_debug_never_show_tokens() {
    let t = parse(
        json!({"access_token": "SECRET-AT", "token_type": "bearer", "refresh_token": "SECRET-RT"}),
    )
    .unwrap();
    let debug = format!("{t:?}");
    assert!(!debug.contains("SECRET"));
    let err = parse(
        json!({"access_token": "SECRET-AT", "token_type": "bearer", "expires_in": "SECRET-X"}),
    )
    .unwrap_err();
    assert!(!err.to_string().contains("SECRET"));
}

#[test]
fn granted_scopes_parse() {
    let t = parse(
        json!({"access_token": "a", "token_type": "bearer", "scope": "patient/*.read  openid"}),
    )
    .unwrap();
    assert_eq!(
        t.granted_scopes().unwrap().unwrap().to_string(),
        "patient/*.read openid"
    );
}

#[test]
fn authorization_details_override_per_location() {
    let t = parse(json!({
        "access_token": "a", "token_type": "bearer", "patient": "top", "scope": "patient/*.rs",
        "authorization_details": [
            {"type": "smart_on_fhir", "locations": ["https://other.example.org/fhir"],
             "fhirVersions": ["4.0.1"], "patient": "other-p", "scope": "patient/Observation.rs"},
            {"type": "smart_on_fhir"},
            "not an object"
        ]
    }))
    .unwrap();
    assert_eq!(t.authorization_details().len(), 2);
    let other = t.context_for("https://other.example.org/fhir/");
    assert_eq!(other.patient.as_deref(), Some("other-p"));
    assert_eq!(other.scope.as_deref(), Some("patient/Observation.rs"));
    let home = t.context_for("https://ehr.example.org/fhir");
    assert_eq!(home.patient.as_deref(), Some("top"));
    assert_eq!(home.scope.as_deref(), Some("patient/*.rs"));
}

#[test]
fn fhir_context_accepts_the_2_0_string_form() {
    let t = parse(json!({"access_token": "a", "token_type": "bearer",
        "fhirContext": ["DiagnosticReport/123", "Organization/789"]}))
    .unwrap();
    assert_eq!(
        t.fhir_context[0].reference.as_deref(),
        Some("DiagnosticReport/123")
    );
    assert_eq!(t.fhir_context[1].role(), "launch");
    assert!(
        parse(json!({"access_token": "a", "token_type": "bearer", "fhirContext": [42]})).is_err()
    );
}
