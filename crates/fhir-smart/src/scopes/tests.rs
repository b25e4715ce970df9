//! Tests for the `scopes` module.

use super::*;

fn scope(text: &str) -> Scope {
    text.parse().unwrap()
}

fn scopes(text: &str) -> Scopes {
    text.parse().unwrap()
}

#[test]
fn round_trips_exactly() {
    for text in [
        "patient/Observation.rs",
        "patient/Observation.cruds",
        "user/*.c",
        "system/Patient.read",
        "system/*.write",
        "patient/*.*",
        "user/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory",
        "patient/Observation.rs?category=a|b&code:in=http://x/vs",
        "launch",
        "launch/patient",
        "launch/encounter",
        "launch/diagnosticreport?role=http://example.org/role",
        "openid",
        "fhirUser",
        "profile",
        "offline_access",
        "online_access",
        "__custom",
        "https://example.org/scopes/thing",
    ] {
        assert_eq!(scope(text).to_string(), text, "{text}");
    }
}

#[test]
fn parses_structure() {
    let Scope::Resource(r) = scope("patient/Observation.rs?category=x|y") else {
        panic!("not a resource scope");
    };
    assert_eq!(r.context, ScopeContext::Patient);
    assert_eq!(r.resource_type, "Observation");
    assert_eq!(
        r.permissions,
        Permissions::V2(Interactions::of(&[Interaction::Read, Interaction::Search]))
    );
    assert_eq!(r.query.as_deref(), Some("category=x|y"));
    assert_eq!(scope("__ext"), Scope::Other(String::from("__ext")));
}

#[test]
fn rejects_bad_permissions_with_position() {
    let err = "openid patient/Observation.sr"
        .parse::<Scopes>()
        .unwrap_err();
    assert_eq!(err.scope, "patient/Observation.sr");
    // `openid ` is 7 bytes, `patient/Observation.s` 21 more: the `r` is out of order.
    assert_eq!(err.position, 7 + 21);
    for bad in [
        "patient/Observation.dus",
        "patient/Observation.",
        "patient/Observation.rr",
        "patient/Observation.x",
        "patient/Observation",
        "patient/.rs",
        "patient/observation.rs",
        "patient/Observation.read?x=1",
        "patient/Observation.rs?",
        "launch/",
        "launch/patient?foo=bar",
    ] {
        assert!(bad.parse::<Scope>().is_err(), "{bad} should be rejected");
    }
}

#[test]
fn launch_other_serializes_lowercase() {
    let s = Scope::LaunchContext {
        context: LaunchScope::Other(String::from("DiagnosticReport")),
        role: None,
    };
    assert_eq!(s.to_string(), "launch/diagnosticreport");
}

#[test]
fn v1_v2_equivalence() {
    assert_eq!(
        scopes("patient/Observation.read").to_v2().to_string(),
        "patient/Observation.rs"
    );
    assert_eq!(scopes("user/*.write").to_v2().to_string(), "user/*.cud");
    assert_eq!(scopes("system/*.*").to_v2().to_string(), "system/*.cruds");
    assert_eq!(
        scopes("patient/Observation.rs user/*.cud system/*.cruds")
            .to_v1()
            .unwrap()
            .to_string(),
        "patient/Observation.read user/*.write system/*.*"
    );
    assert!(scopes("patient/Observation.r").to_v1().is_err());
    assert!(scopes("patient/Observation.rs?category=x").to_v1().is_err());
}

#[test]
fn mixed_syntax_is_detected() {
    assert!(scopes("patient/Observation.read patient/Patient.rs").is_mixed());
    assert!(!scopes("patient/Observation.rs patient/Patient.rs openid").is_mixed());
    assert_eq!(
        scopes("openid patient/Patient.read").version(),
        Some(ScopeVersion::V1)
    );
    assert_eq!(scopes("openid").version(), None);
}

#[test]
fn splits_on_runs_of_whitespace_and_dedups() {
    let s = scopes("  openid   fhirUser\tfhirUser\n launch ");
    assert_eq!(s.to_string(), "openid fhirUser launch");
    assert_eq!(s.len(), 3);
}

#[test]
fn covers_uses_union_and_equivalence() {
    let granted = scopes("patient/Observation.r patient/Observation.s user/Patient.read");
    assert!(granted.covers(&scopes("patient/Observation.rs")));
    assert!(granted.covers(&scopes("patient/Observation.read")));
    assert!(!granted.covers(&scopes("patient/Observation.rus")));
    assert!(granted.covers(&scopes("user/Patient.rs")));
    assert!(!granted.covers(&scopes("patient/Patient.rs")));
    assert!(!granted.covers(&scopes("openid")));
}

#[test]
fn wildcard_and_granular_coverage() {
    // Rows in the spirit of the "Granted Scope" table: down-scoping is normal.
    let wildcard = scopes("patient/*.rs");
    assert!(wildcard.covers(&scopes("patient/Observation.rs")));
    assert!(wildcard.covers(&scopes("patient/Observation.rs?category=laboratory")));
    let narrow = scopes("patient/Observation.rs");
    assert!(!narrow.covers(&scopes("patient/*.rs")));
    assert_eq!(
        narrow.missing(&scopes("patient/*.rs patient/Observation.r")),
        vec![scope("patient/*.rs")]
    );
    let granular = scopes("patient/Observation.rs?category=laboratory");
    assert!(!granular.covers(&scopes("patient/Observation.rs")));
    assert!(granular.covers(&scopes("patient/Observation.rs?category=laboratory")));
    assert!(!granular.covers(&scopes("patient/Observation.rs?category=vital-signs")));
    // Split grant of `.cruds`.
    assert!(scopes("user/*.rs user/*.cud").covers(&scopes("user/*.cruds")));
}

#[test]
fn permits_checks_interactions() {
    let granted = scopes("system/*.rs system/Patient.c");
    assert!(granted.permits(ScopeContext::System, "Observation", Interaction::Read));
    assert!(granted.permits(ScopeContext::System, "Patient", Interaction::Create));
    assert!(!granted.permits(ScopeContext::System, "Observation", Interaction::Create));
    assert!(!granted.permits(ScopeContext::Patient, "Observation", Interaction::Read));
}

#[test]
fn uri_form() {
    assert_eq!(
        scope("patient/Observation.rs").to_uri(),
        "http://smarthealthit.org/fhir/scopes/patient/Observation.rs"
    );
    assert_eq!(
        scope("openid").to_uri(),
        "http://openid.net/specs/openid-connect-core-1_0#openid"
    );
    assert_eq!(
        scope("launch/patient").to_uri(),
        "http://smarthealthit.org/fhir/scopes/launch/patient"
    );
}

#[test]
fn builder_produces_single_spaced_deduplicated_text() {
    let s = Scopes::new()
        .with(Scope::OpenId)
        .with(Scope::FhirUser)
        .with(Scope::OfflineAccess)
        .with(ResourceScope::v2(
            ScopeContext::Patient,
            "Observation",
            Interactions::READ_SEARCH,
        ))
        .with(ResourceScope::v2(
            ScopeContext::Patient,
            "Condition",
            Interactions::ALL,
        ))
        .with(Scope::OpenId);
    assert_eq!(
        s.to_string(),
        "openid fhirUser offline_access patient/Observation.rs patient/Condition.cruds"
    );
    assert!(s.has_patient_scope());
}

#[test]
fn form_encoding_escapes_ampersand_inside_a_scope() {
    let s = scopes("patient/Observation.rs?category=a|b&code=c openid");
    let encoded = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("scope", &s.to_string())
        .finish();
    assert_eq!(
        encoded,
        "scope=patient%2FObservation.rs%3Fcategory%3Da%7Cb%26code%3Dc+openid"
    );
}

#[test]
fn factored_merges_split_grants() {
    let s = scopes(
        "patient/Observation.r openid patient/Observation.s user/*.c patient/Observation.rs?category=x user/*.ud patient/Patient.read",
    );
    assert_eq!(
        s.factored().to_string(),
        "patient/Observation.rs openid user/*.cud patient/Observation.rs?category=x patient/Patient.read"
    );
    assert!(s.factored().covers(&s) && s.covers(&s.factored()));
}

/// Every row of the "Granted Scope" table (`scopes-and-launch-context.md`, wildcard scopes)
/// for the request `patient/AllergyIntolerance.cruds`.
#[test]
fn granted_scope_table() {
    let requested = scopes("patient/AllergyIntolerance.cruds");
    for (granted, covers) in [
        ("patient/AllergyIntolerance.cruds", true),
        (
            "patient/AllergyIntolerance.rs patient/AllergyIntolerance.cud",
            true,
        ),
        ("patient/AllergyIntolerance.rs", false),
        ("patient/AllergyIntolerance.cud", false),
        ("patient/*.rs", false),
        ("patient/*.cruds", true),
        ("patient/Observation.rs", false),
        ("", false),
    ] {
        let granted = scopes(granted);
        assert_eq!(granted.covers(&requested), covers, "granted `{granted}`");
    }
    let read_only = scopes("patient/AllergyIntolerance.rs");
    assert!(read_only.permits(
        ScopeContext::Patient,
        "AllergyIntolerance",
        Interaction::Search
    ));
    assert!(!read_only.permits(
        ScopeContext::Patient,
        "AllergyIntolerance",
        Interaction::Update
    ));
}

#[test]
fn launch_context_spelled_with_capitals_round_trips_verbatim() {
    for text in [
        "launch/Patient",
        "launch/Encounter?role=http://x/r",
        "launch/DiagnosticReport",
    ] {
        let parsed = scopes(text);
        assert_eq!(parsed.to_string(), text);
        assert_eq!(scopes(&parsed.to_string()), parsed);
    }
    // The lowercase spelling is the SMART launch context.
    assert!(matches!(
        scopes("launch/patient").iter().next(),
        Some(Scope::LaunchContext {
            context: LaunchScope::Patient,
            ..
        })
    ));
}
