//! Tests for the `launch` module (pure parts: authorize URL and callback checks).

use serde_json::json;

use super::*;
use crate::scopes::ScopeVersion;
use crate::store::now_secs;
use url::Url;

fn config(capabilities: &[&str]) -> SmartConfiguration {
    let doc = json!({
        "authorization_endpoint": "https://auth.example.org/authorize?tenant=t1",
        "token_endpoint": "https://auth.example.org/token",
        "grant_types_supported": ["authorization_code"],
        "capabilities": capabilities,
        "code_challenge_methods_supported": ["S256"]
    });
    SmartConfiguration::from_json(
        &Url::parse("https://ehr.example.org/fhir").unwrap(),
        doc.to_string().as_bytes(),
        Strictness::Lenient,
    )
    .unwrap()
}

fn app() -> AppLaunch {
    AppLaunch::new(
        "my-app",
        "https://app.example.org/callback",
        "openid fhirUser patient/Observation.rs offline_access"
            .parse()
            .unwrap(),
    )
    .fhir_base("https://ehr.example.org/fhir")
}

fn query(url: &Url) -> Vec<(String, String)> {
    url.query_pairs().into_owned().collect()
}

fn param(url: &Url, name: &str) -> Option<String> {
    query(url)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
}

#[test]
fn standalone_authorize_url_has_every_parameter_once() {
    let request = app()
        .authorize(
            &config(&["launch-standalone", "permission-v2"]),
            "https://ehr.example.org/fhir",
            None,
        )
        .unwrap();
    let url = &request.url;
    assert_eq!(url.path(), "/authorize");
    assert_eq!(
        param(url, "tenant").as_deref(),
        Some("t1"),
        "existing query kept"
    );
    assert_eq!(param(url, "response_type").as_deref(), Some("code"));
    assert_eq!(param(url, "client_id").as_deref(), Some("my-app"));
    assert_eq!(
        param(url, "redirect_uri").as_deref(),
        Some("https://app.example.org/callback")
    );
    assert_eq!(
        param(url, "aud").as_deref(),
        Some("https://ehr.example.org/fhir")
    );
    assert_eq!(
        param(url, "launch"),
        None,
        "no launch in a standalone launch"
    );
    assert_eq!(
        param(url, "scope").as_deref(),
        Some("openid fhirUser patient/Observation.rs offline_access launch/patient")
    );
    assert_eq!(
        param(url, "state").as_deref(),
        Some(request.pending.state())
    );
    assert_eq!(param(url, "code_challenge_method").as_deref(), Some("S256"));
    assert_eq!(
        param(url, "code_challenge").as_deref(),
        Some(request.pending.code_verifier.challenge().as_str())
    );
    assert_eq!(param(url, "nonce").as_deref(), request.pending.nonce());
    let names: Vec<String> = query(url).into_iter().map(|(n, _)| n).collect();
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(names.len(), unique.len(), "no parameter twice: {names:?}");
    assert!(request.post_form.is_none());
}

#[test]
fn each_request_has_fresh_state_and_verifier() {
    let config = config(&["launch-standalone"]);
    let a = app()
        .authorize(&config, "https://ehr.example.org/fhir", None)
        .unwrap();
    let b = app()
        .authorize(&config, "https://ehr.example.org/fhir", None)
        .unwrap();
    assert_ne!(a.pending.state(), b.pending.state());
    assert_ne!(
        a.pending.code_verifier.expose_secret(),
        b.pending.code_verifier.expose_secret()
    );
}

#[test]
fn ehr_launch_echoes_launch_byte_for_byte_and_adds_launch_scope() {
    let launch_value = "abc+def/ghi==";
    let params = LaunchParams::from_url(&format!(
        "https://app.example.org/launch?iss=https%3A%2F%2Fehr.example.org%2Ffhir&launch={}",
        url::form_urlencoded::byte_serialize(launch_value.as_bytes()).collect::<String>()
    ))
    .unwrap();
    assert_eq!(params.launch, launch_value);
    let request = app()
        .authorize(&config(&["launch-ehr"]), &params.iss, Some(&params.launch))
        .unwrap();
    assert_eq!(param(&request.url, "launch").as_deref(), Some(launch_value));
    assert!(
        request
            .url
            .as_str()
            .contains("launch=abc%2Bdef%2Fghi%3D%3D")
    );
    assert_eq!(
        param(&request.url, "aud").as_deref(),
        Some("https://ehr.example.org/fhir")
    );
    assert!(
        param(&request.url, "scope")
            .unwrap()
            .split(' ')
            .any(|s| s == "launch")
    );
}

#[test]
fn launch_params_are_required() {
    assert!(LaunchParams::from_query("iss=https://x").is_err());
    assert!(LaunchParams::from_query("launch=abc").is_err());
    assert!(LaunchParams::from_query("iss=&launch=abc").is_err());
}

#[test]
fn v1_only_servers_get_v1_scopes() {
    let request = app()
        .authorize(
            &config(&["launch-standalone", "permission-v1"]),
            "https://ehr.example.org/fhir",
            None,
        )
        .unwrap();
    assert!(
        param(&request.url, "scope")
            .unwrap()
            .contains("patient/Observation.read")
    );
}

#[test]
fn authorize_post_descriptor_when_advertised_and_preferred() {
    let request = app()
        .prefer_post(true)
        .authorize(
            &config(&["launch-standalone", "authorize-post"]),
            "https://ehr.example.org/fhir",
            None,
        )
        .unwrap();
    let form = request.post_form.unwrap();
    assert_eq!(
        form.action.as_str(),
        "https://auth.example.org/authorize?tenant=t1"
    );
    assert!(
        form.fields
            .contains(&("response_type".into(), "code".into()))
    );
    // Not advertised: no form.
    let request = app()
        .prefer_post(true)
        .authorize(
            &config(&["launch-standalone"]),
            "https://ehr.example.org/fhir",
            None,
        )
        .unwrap();
    assert!(request.post_form.is_none());
}

#[test]
fn extra_params_cannot_repeat_ours() {
    assert!(app().param("state", "x").is_err());
    assert!(app().param("aud", "x").is_err());
    let request = app()
        .param("prompt", "none")
        .unwrap()
        .authorize(
            &config(&["launch-standalone"]),
            "https://ehr.example.org/fhir",
            None,
        )
        .unwrap();
    assert_eq!(param(&request.url, "prompt").as_deref(), Some("none"));
}

#[test]
fn backend_only_server_cannot_launch() {
    let doc = json!({"token_endpoint": "https://h/token", "capabilities": [], "grant_types_supported": ["client_credentials"]});
    let config = SmartConfiguration::from_json(
        &Url::parse("https://h/fhir").unwrap(),
        doc.to_string().as_bytes(),
        Strictness::Lenient,
    )
    .unwrap();
    assert!(matches!(
        app().authorize(&config, "https://h/fhir", None),
        Err(Error::Discovery { .. })
    ));
}

fn pending() -> (AppLaunch, PendingAuthorization) {
    let app = app();
    let request = app
        .authorize(
            &config(&["launch-standalone"]),
            "https://ehr.example.org/fhir",
            None,
        )
        .unwrap();
    (app, request.pending)
}

#[test]
fn callback_with_matching_state_yields_the_code() {
    let (app, pending) = pending();
    let url = format!(
        "https://app.example.org/callback?code=c%2B1&state={}",
        pending.state()
    );
    assert_eq!(
        app.verify_callback(&pending, &url).unwrap().expose_secret(),
        "c+1"
    );
}

#[test]
fn callback_state_problems() {
    let (app, pending) = pending();
    let missing = "https://app.example.org/callback?code=c";
    assert!(matches!(
        app.verify_callback(&pending, missing),
        Err(Error::InvalidCallback { .. })
    ));
    let wrong = "https://app.example.org/callback?code=c&state=other";
    assert!(matches!(
        app.verify_callback(&pending, wrong),
        Err(Error::StateMismatch)
    ));
    let (_, other_session) = pending_pair();
    let foreign = format!(
        "https://app.example.org/callback?code=c&state={}",
        other_session.state()
    );
    assert!(matches!(
        app.verify_callback(&pending, &foreign),
        Err(Error::StateMismatch)
    ));
    let no_code = format!("https://app.example.org/callback?state={}", pending.state());
    assert!(matches!(
        app.verify_callback(&pending, &no_code),
        Err(Error::InvalidCallback { .. })
    ));
    let wrong_path = format!(
        "https://app.example.org/other?code=c&state={}",
        pending.state()
    );
    assert!(matches!(
        app.verify_callback(&pending, &wrong_path),
        Err(Error::InvalidCallback { .. })
    ));
}

fn pending_pair() -> (AppLaunch, PendingAuthorization) {
    pending()
}

#[test]
fn error_callbacks_are_typed() {
    let (app, pending) = pending();
    let url = format!(
        "https://app.example.org/callback?error=access_denied&error_description=The+user+said+no&error_uri=https%3A%2F%2Fe%2Fdoc&state={}",
        pending.state()
    );
    match app.verify_callback(&pending, &url).unwrap_err() {
        Error::Authorization {
            code,
            description,
            uri,
        } => {
            assert_eq!(code, crate::AuthorizeErrorCode::AccessDenied);
            assert_eq!(description.as_deref(), Some("The user said no"));
            assert_eq!(uri.as_deref(), Some("https://e/doc"));
        }
        other => panic!("unexpected {other:?}"),
    }
    // Without a state the OAuth error is still reported.
    let url = "https://app.example.org/callback?error=invalid_scope";
    assert_eq!(
        app.verify_callback(&pending, url).unwrap_err().oauth_code(),
        Some("invalid_scope")
    );
    // With a wrong state the mismatch wins.
    let url = "https://app.example.org/callback?error=invalid_scope&state=nope";
    assert!(matches!(
        app.verify_callback(&pending, url),
        Err(Error::StateMismatch)
    ));
}

#[test]
fn expired_pending_authorization_is_refused() {
    let (app, mut pending) = pending();
    pending.created_at -= 601;
    let url = format!(
        "https://app.example.org/callback?code=c&state={}",
        pending.state()
    );
    let err = app.verify_callback(&pending, &url).unwrap_err();
    assert!(err.to_string().contains("expired"), "{err}");
}

#[test]
fn pending_round_trips_through_json_and_is_taken_once() {
    let (app, pending) = pending();
    let json = serde_json::to_string(&pending).unwrap();
    let back: PendingAuthorization = serde_json::from_str(&json).unwrap();
    assert_eq!(back.state(), pending.state());
    assert!(!format!("{pending:?}").contains(pending.code_verifier.expose_secret()));
    // The method is stored by its registered name, and a name this crate does not know is
    // refused when the record is read, not when it is used.
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["auth_method"], "none");
    let tampered = json.replace(
        "\"auth_method\":\"none\"",
        "\"auth_method\":\"client_secret_jwt\"",
    );
    assert_ne!(tampered, json);
    assert!(serde_json::from_str::<PendingAuthorization>(&tampered).is_err());

    let keeper = crate::PendingAuthorizations::new();
    keeper.insert("session-1", back).unwrap();
    let url = format!(
        "https://app.example.org/callback?code=c&state={}",
        pending.state()
    );
    let taken = keeper.take("session-1", &url).unwrap();
    assert!(app.verify_callback(&taken, &url).is_ok());
    assert!(
        keeper.take("session-1", &url).is_err(),
        "a replayed callback finds nothing"
    );
}

#[test]
fn insecure_endpoints_are_refused() {
    let doc = json!({
        "authorization_endpoint": "http://auth.example.org/authorize",
        "token_endpoint": "https://auth.example.org/token",
        "capabilities": ["launch-standalone"]
    });
    let config = SmartConfiguration::from_json(
        &Url::parse("https://ehr.example.org/fhir").unwrap(),
        doc.to_string().as_bytes(),
        Strictness::Lenient,
    )
    .unwrap();
    assert!(matches!(
        app().authorize(&config, "https://ehr.example.org/fhir", None),
        Err(Error::InsecureUrl { .. })
    ));
}

#[test]
fn registrations_are_keyed_by_iss() {
    let epic = AppLaunch::new(
        "epic-id",
        "https://app/cb",
        "launch openid".parse().unwrap(),
    );
    let cerner = AppLaunch::new(
        "cerner-id",
        "https://app/cb",
        "launch openid".parse().unwrap(),
    );
    let regs = Registrations::new()
        .register("https://epic.example.org/fhir", epic)
        .register("https://cerner.example.org/r4/", cerner);
    assert_eq!(
        regs.for_iss("https://epic.example.org/fhir/")
            .unwrap()
            .client_id,
        "epic-id"
    );
    assert_eq!(
        regs.for_iss("https://cerner.example.org/r4")
            .unwrap()
            .client_id,
        "cerner-id"
    );
    assert!(matches!(
        regs.for_iss("https://evil.example.org/fhir"),
        Err(Error::IssNotAllowed { .. })
    ));
}

#[test]
fn callback_iss_must_match_the_discovered_issuer() {
    let app = app();
    let mut config = config(&["launch-standalone"]);
    config.issuer = Some(String::from("https://auth.example.org"));
    let pending = app
        .authorize(&config, "https://ehr.example.org/fhir", None)
        .unwrap()
        .pending;
    let ok = format!(
        "https://app.example.org/callback?code=c&state={}&iss=https%3A%2F%2Fauth.example.org",
        pending.state()
    );
    assert!(app.verify_callback(&pending, &ok).is_ok());
    let mixed_up = format!(
        "https://app.example.org/callback?code=c&state={}&iss=https%3A%2F%2Fevil.example.org",
        pending.state()
    );
    assert!(matches!(
        app.verify_callback(&pending, &mixed_up),
        Err(Error::InvalidCallback { .. })
    ));
}

fn app_with_scope(scope: &str) -> AppLaunch {
    AppLaunch::new(
        "my-app",
        "https://app.example.org/callback",
        scope.parse().unwrap(),
    )
    .fhir_base("https://ehr.example.org/fhir")
}

#[test]
fn granular_scope_is_form_encoded_in_the_authorize_url() {
    let scope = "patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory&code=x openid";
    let request = app_with_scope(scope)
        .prefer_post(true)
        .authorize(
            &config(&["launch-standalone", "permission-v2", "authorize-post"]),
            "https://ehr.example.org/fhir",
            None,
        )
        .unwrap();
    let raw = request.url.query().unwrap();
    assert!(
        raw.contains(
            "scope=patient%2FObservation.rs%3Fcategory%3Dhttp%3A%2F%2Fterminology.hl7.org%2FCodeSystem%2Fobservation-category%7Claboratory%26code%3Dx+openid"
        ),
        "{raw}"
    );
    // The `&` inside the scope did not split the form: no stray `code` parameter.
    assert_eq!(param(&request.url, "code"), None);
    let sent = param(&request.url, "scope").unwrap();
    assert!(sent.starts_with(
        "patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory&code=x openid"
    ));
    let form = request.post_form.unwrap();
    let field = form.fields.iter().find(|(n, _)| n == "scope").unwrap();
    assert_eq!(field.1, sent);
}

#[test]
fn v1_and_v2_syntax_are_never_mixed_in_one_request() {
    let mixed = "patient/Observation.read user/Patient.rs";
    let v2 = app_with_scope(mixed)
        .authorize(
            &config(&["launch-standalone", "permission-v2"]),
            "https://ehr.example.org/fhir",
            None,
        )
        .unwrap();
    let sent: crate::scopes::Scopes = param(&v2.url, "scope").unwrap().parse().unwrap();
    assert!(!sent.is_mixed(), "{sent}");
    assert_eq!(sent.version(), Some(ScopeVersion::V2));
    assert!(
        sent.to_string().contains("patient/Observation.rs"),
        "{sent}"
    );

    let v1 = app_with_scope(mixed)
        .authorize(
            &config(&["launch-standalone", "permission-v1"]),
            "https://ehr.example.org/fhir",
            None,
        )
        .unwrap();
    let sent: crate::scopes::Scopes = param(&v1.url, "scope").unwrap().parse().unwrap();
    assert_eq!(sent.version(), Some(ScopeVersion::V1), "{sent}");

    // A v1-only server, but `.r` has no v1 form: all v2 rather than a mix.
    let no_v1 = app_with_scope("patient/Observation.r patient/Patient.read")
        .authorize(
            &config(&["launch-standalone", "permission-v1"]),
            "https://ehr.example.org/fhir",
            None,
        )
        .unwrap();
    let sent: crate::scopes::Scopes = param(&no_v1.url, "scope").unwrap().parse().unwrap();
    assert!(!sent.is_mixed(), "{sent}");
    assert_eq!(sent.version(), Some(ScopeVersion::V2), "{sent}");
}

#[test]
fn an_empty_scope_is_refused() {
    let app = AppLaunch::new(
        "my-app",
        "https://app.example.org/callback",
        crate::scopes::Scopes::new(),
    );
    match app.authorize(
        &config(&["launch-standalone"]),
        "https://ehr.example.org/fhir",
        None,
    ) {
        Err(Error::Configuration { name, reason }) => {
            assert_eq!(
                name, "scope",
                "the builder setting, not an environment variable"
            );
            assert!(reason.contains("empty"), "{reason}");
        }
        other => panic!("expected a configuration error, got {other:?}"),
    }
}

#[test]
fn raw_plus_in_the_launch_url_is_echoed_byte_for_byte() {
    // A raw `+` is a form-encoded space on the way in, and is written back as `+`.
    let params = LaunchParams::from_url(
        "https://app.example.org/launch?iss=https%3A%2F%2Fehr.example.org%2Ffhir&launch=ab+cd%2Bef",
    )
    .unwrap();
    assert_eq!(params.launch, "ab cd+ef");
    let request = app()
        .authorize(&config(&["launch-ehr"]), &params.iss, Some(&params.launch))
        .unwrap();
    assert!(
        request.url.query().unwrap().contains("&launch=ab+cd%2Bef&"),
        "{}",
        request.url
    );
    assert_eq!(param(&request.url, "launch").as_deref(), Some("ab cd+ef"));
}

#[test]
fn a_pending_authorization_from_the_future_is_refused() {
    let (app, mut pending) = pending();
    pending.created_at = now_secs() + 3600;
    let url = format!(
        "https://app.example.org/callback?code=c&state={}",
        pending.state()
    );
    match app.verify_callback(&pending, &url) {
        Err(Error::InvalidCallback { reason }) => assert!(reason.contains("future"), "{reason}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    // Small clock skew between app instances is tolerated.
    pending.created_at = now_secs() + 5;
    assert!(app.verify_callback(&pending, &url).is_ok());
}

#[test]
fn callbacks_given_as_path_and_query_parse() {
    let (app, pending) = pending();
    let relative = format!("/callback?code=c%2B1&state={}", pending.state());
    assert_eq!(
        app.verify_callback(&pending, &relative)
            .unwrap()
            .expose_secret(),
        "c+1"
    );
    let keeper = crate::PendingAuthorizations::new();
    keeper.insert("s", pending.clone()).unwrap();
    assert!(keeper.take("s", &relative).is_ok());
    // The path is still checked, and a bare query is not a callback.
    let wrong = format!("/other?code=c&state={}", pending.state());
    assert!(matches!(
        app.verify_callback(&pending, &wrong),
        Err(Error::InvalidCallback { reason }) if reason.contains("path")
    ));
    let bare = format!("code=c&state={}", pending.state());
    assert!(matches!(
        app.verify_callback(&pending, &bare),
        Err(Error::InvalidCallback { reason }) if reason.contains("not a URL")
    ));
}
