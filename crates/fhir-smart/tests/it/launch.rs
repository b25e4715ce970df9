//! App Launch end to end: discovery, authorize URL, callback, code exchange with PKCE.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use fhir_smart::keys::{SigningAlgorithm, SigningKey};
use fhir_smart::launch::LaunchParams;
use fhir_smart::secret::ClientSecret;
use fhir_smart::{AppLaunch, Error};
use serde_json::json;
use sha2::Digest as _;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::support::*;

/// A token endpoint that checks the code exchange against what the authorize URL carried.
#[derive(Clone)]
struct CodeExchange {
    challenge: Arc<Mutex<String>>,
    expected_auth: Expected,
    check: Option<Arc<AssertionCheck>>,
    problems: Arc<Mutex<Vec<String>>>,
}

#[derive(Clone, Copy)]
enum Expected {
    Public,
    Basic,
    Jwt,
}

impl Respond for CodeExchange {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let form = form(request);
        let mut problems = Vec::new();
        let expect = |problems: &mut Vec<String>, ok: bool, what: &str| {
            if !ok {
                problems.push(what.to_owned());
            }
        };
        expect(
            &mut problems,
            form.get("grant_type").map(String::as_str) == Some("authorization_code"),
            "grant_type",
        );
        expect(
            &mut problems,
            form.get("code").map(String::as_str) == Some("code+with/odd=chars"),
            "code",
        );
        expect(
            &mut problems,
            form.get("redirect_uri").map(String::as_str) == Some("http://127.0.0.1:9/callback"),
            "redirect_uri",
        );
        expect(
            &mut problems,
            !form.contains_key("state"),
            "state must not be sent",
        );
        let verifier = form.get("code_verifier").cloned().unwrap_or_default();
        let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(sha2::Sha256::digest(verifier.as_bytes()));
        expect(
            &mut problems,
            challenge == *self.challenge.lock().unwrap(),
            "code_verifier does not match the challenge",
        );
        let basic = request
            .headers
            .get("authorization")
            .map(|v| v.to_str().unwrap().to_owned());
        match self.expected_auth {
            Expected::Public => {
                expect(
                    &mut problems,
                    form.get("client_id").map(String::as_str) == Some("app-1"),
                    "client_id in body",
                );
                expect(&mut problems, basic.is_none(), "no Authorization header");
            }
            Expected::Basic => {
                expect(
                    &mut problems,
                    !form.contains_key("client_id"),
                    "no client_id for confidential",
                );
                expect(
                    &mut problems,
                    basic.as_deref() == Some("Basic YXBwLTE6dG9wLXNlY3JldA=="),
                    "basic header",
                );
            }
            Expected::Jwt => {
                if let Err(p) = self.check.as_ref().unwrap().verify(&form) {
                    problems.push(p);
                }
            }
        }
        if !problems.is_empty() {
            self.problems.lock().unwrap().extend(problems.clone());
            return ResponseTemplate::new(400).set_body_json(
                json!({"error": "invalid_request", "error_description": problems.join("; ")}),
            );
        }
        ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "launch-at",
            "token_type": "Bearer",
            "expires_in": 3600,
            "scope": "launch/patient openid fhirUser patient/*.rs",
            "patient": "pat-1",
            "need_patient_banner": true
        }))
    }
}

async fn mount(
    server: &MockServer,
    expected: Expected,
    check: Option<AssertionCheck>,
) -> CodeExchange {
    Mock::given(method("GET"))
        .and(path("/fhir/.well-known/smart-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(smart_configuration(server)))
        .mount(server)
        .await;
    let exchange = CodeExchange {
        challenge: Arc::default(),
        expected_auth: expected,
        check: check.map(Arc::new),
        problems: Arc::default(),
    };
    Mock::given(method("POST"))
        .and(path("/auth/token"))
        .respond_with(exchange.clone())
        .expect(1)
        .mount(server)
        .await;
    exchange
}

fn app(server: &MockServer) -> AppLaunch {
    AppLaunch::new(
        "app-1",
        "http://127.0.0.1:9/callback",
        "openid fhirUser patient/*.rs".parse().unwrap(),
    )
    .fhir_base(fhir_base(server).as_str())
    .http(http())
}

fn query(url: &url::Url) -> HashMap<String, String> {
    url.query_pairs().into_owned().collect()
}

async fn run(app: AppLaunch, exchange: &CodeExchange) -> Result<fhir_smart::SmartClient, Error> {
    let request = app.standalone().await?;
    let params = query(&request.url);
    *exchange.challenge.lock().unwrap() = params["code_challenge"].clone();
    // The app stores the pending record in its session and gets it back at the callback.
    let stored = serde_json::to_string(&request.pending).unwrap();
    let pending = serde_json::from_str(&stored).unwrap();
    let callback = format!(
        "http://127.0.0.1:9/callback?code=code%2Bwith%2Fodd%3Dchars&state={}",
        params["state"]
    );
    app.complete(pending, &callback).await
}

#[tokio::test]
async fn public_standalone_launch_exchanges_the_code_with_pkce() {
    let server = server().await;
    let exchange = mount(&server, Expected::Public, None).await;
    let store: Arc<dyn fhir_smart::TokenStore> = Arc::new(fhir_smart::MemoryTokenStore::new());
    let app = app(&server)
        .client_auth(fhir_smart::client_auth::ClientAuth::Public)
        .store(Arc::clone(&store), "user-1");
    let smart = run(app, &exchange).await.unwrap();
    assert!(
        exchange.problems.lock().unwrap().is_empty(),
        "{:?}",
        exchange.problems.lock().unwrap()
    );
    assert_eq!(smart.patient_id().as_deref(), Some("pat-1"));
    assert_eq!(
        smart.access_token().await.unwrap().expose_secret(),
        "launch-at"
    );
    assert_eq!(smart.fhir_base(), &fhir_base(&server));
    // Persisted under a key that names the user and this launch, never under the key
    // shared by every launch of the user.
    let shared = fhir_smart::StoreKey::for_user(
        &token_url(&server),
        "app-1",
        "openid fhirUser patient/*.rs launch/patient",
        "user-1",
    );
    assert!(store.get(&shared).await.unwrap().is_none());
    assert_ne!(smart.store_key(), &shared);
    let stored = store.get(smart.store_key()).await.unwrap().unwrap();
    assert_eq!(stored.token.patient.as_deref(), Some("pat-1"));
}

#[tokio::test]
async fn symmetric_client_uses_basic() {
    let server = server().await;
    let exchange = mount(&server, Expected::Basic, None).await;
    let app = app(&server).client_secret(ClientSecret::new("top-secret"));
    run(app, &exchange).await.unwrap();
    assert!(
        exchange.problems.lock().unwrap().is_empty(),
        "{:?}",
        exchange.problems.lock().unwrap()
    );
}

#[tokio::test]
async fn asymmetric_client_prefers_private_key_jwt() {
    let server = server().await;
    let key = SigningKey::generate(SigningAlgorithm::Es384, "app-key").unwrap();
    let check = AssertionCheck::new(&key, "app-1", token_url(&server).as_str());
    let exchange = mount(&server, Expected::Jwt, Some(check)).await;
    let app = app(&server)
        .client_secret(ClientSecret::new("top-secret"))
        .private_key(key);
    run(app, &exchange).await.unwrap();
    assert!(
        exchange.problems.lock().unwrap().is_empty(),
        "{:?}",
        exchange.problems.lock().unwrap()
    );
}

#[tokio::test]
async fn ehr_launch_checks_iss_before_any_request() {
    let server = server().await;
    let app = app(&server);
    let forged = LaunchParams {
        iss: String::from("https://evil.example.org/fhir"),
        launch: String::from("xyz"),
    };
    assert!(matches!(
        app.ehr(&forged).await,
        Err(Error::IssNotAllowed { .. })
    ));
    assert!(server.received_requests().await.unwrap().is_empty());

    let ok = LaunchParams {
        iss: fhir_base(&server).to_string(),
        launch: String::from("a+b/c="),
    };
    Mock::given(method("GET"))
        .and(path("/fhir/.well-known/smart-configuration"))
        .and(header("accept", "application/json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(smart_configuration(&server)))
        .mount(&server)
        .await;
    let request = app.ehr(&ok).await.unwrap();
    let params = query(&request.url);
    assert_eq!(params["launch"], "a+b/c=");
    assert_eq!(params["aud"], fhir_base(&server).as_str());
}

#[tokio::test]
async fn a_rejected_code_is_a_typed_error() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/fhir/.well-known/smart-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(smart_configuration(&server)))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/auth/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_grant"})))
        .expect(1)
        .mount(&server)
        .await;
    let app = app(&server);
    let request = app.standalone().await.unwrap();
    let callback = format!(
        "http://127.0.0.1:9/callback?code=c&state={}",
        request.pending.state()
    );
    let err = app.complete(request.pending, &callback).await.unwrap_err();
    assert_eq!(err.oauth_code(), Some("invalid_grant"));
}

#[tokio::test]
async fn id_token_is_verified_with_the_nonce_of_the_request() {
    use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};

    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/fhir/.well-known/smart-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(smart_configuration(&server)))
        .mount(&server)
        .await;
    // The issuer's keys: an RS256 key, as SMART servers must support.
    let key = SigningKey::generate(SigningAlgorithm::Rs384, "idt").unwrap();
    let mut jwk = serde_json::to_value(key.public_jwk()).unwrap();
    jwk["alg"] = json!("RS256");
    Mock::given(method("GET"))
        .and(path("/.well-known/openid-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "issuer": server.uri(), "jwks_uri": format!("{}/auth/jwks", server.uri())
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/auth/jwks"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"keys": [jwk]})))
        .mount(&server)
        .await;
    let app = app(&server)
        .client_auth(fhir_smart::client_auth::ClientAuth::Public)
        .verify_id_token(true);
    let encoding =
        EncodingKey::from_rsa_pem(key.to_pkcs8_pem().unwrap().expose_secret().as_bytes()).unwrap();
    let current: Arc<Mutex<String>> = Arc::default();
    let served = Arc::clone(&current);
    Mock::given(method("POST"))
        .and(path("/auth/token"))
        .respond_with(move |_: &Request| {
            ResponseTemplate::new(200).set_body_json(json!({
                "access_token": "at", "token_type": "bearer", "expires_in": 300,
                "scope": "openid fhirUser patient/*.rs", "id_token": *served.lock().unwrap()
            }))
        })
        .expect(2)
        .mount(&server)
        .await;
    for (nonce_ok, should_pass) in [(true, true), (false, false)] {
        let request = app.standalone().await.unwrap();
        let params = query(&request.url);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let nonce = if nonce_ok {
            params["nonce"].clone()
        } else {
            String::from("replayed")
        };
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(String::from("idt"));
        let id_token = encode(
            &header,
            &json!({"iss": server.uri(), "sub": "u", "aud": "app-1", "exp": now + 300, "iat": now,
                    "nonce": nonce, "fhirUser": "Practitioner/dr-1"}),
            &encoding,
        )
        .unwrap();
        *current.lock().unwrap() = id_token;
        let callback = format!(
            "http://127.0.0.1:9/callback?code=c&state={}",
            params["state"]
        );
        let result = app.complete(request.pending, &callback).await;
        match (should_pass, result) {
            (true, Ok(smart)) => {
                let claims =
                    fhir_smart::id_token::decode_unverified(&smart.id_token().unwrap()).unwrap();
                let user = claims.fhir_user(smart.fhir_base()).unwrap();
                assert_eq!(
                    user.url.as_str(),
                    format!("{}/Practitioner/dr-1", fhir_base(&server))
                );
            }
            (false, Err(Error::IdToken { reason })) => {
                assert!(reason.contains("nonce"), "{reason}")
            }
            (expected, other) => panic!("expected pass={expected}, got {other:?}"),
        }
    }
}

/// A token endpoint for several launches: the code names the patient (`code-<p>` gives
/// `patient = <p>`, `at-<p>-0`, `rt-<p>-0`); refresh tokens rotate per launch, and a refresh
/// response carries no launch context (K6).
async fn mount_multi_launch(server: &MockServer) -> Arc<Mutex<Vec<String>>> {
    Mock::given(method("GET"))
        .and(path("/fhir/.well-known/smart-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(smart_configuration(server)))
        .mount(server)
        .await;
    let presented: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = Arc::clone(&presented);
    let valid: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    Mock::given(method("POST"))
        .and(path("/auth/token"))
        .respond_with(move |request: &Request| {
            let form = form(request);
            let mut valid = valid.lock().unwrap();
            match form["grant_type"].as_str() {
                "authorization_code" => {
                    let patient = form["code"].strip_prefix("code-").unwrap().to_owned();
                    valid.insert(patient.clone(), format!("rt-{patient}-0"));
                    ResponseTemplate::new(200).set_body_json(json!({
                        "access_token": format!("at-{patient}-0"), "token_type": "Bearer",
                        "expires_in": 3600, "scope": "openid fhirUser patient/*.rs launch/patient",
                        "refresh_token": format!("rt-{patient}-0"), "patient": patient
                    }))
                }
                _ => {
                    let rt = form["refresh_token"].clone();
                    log.lock().unwrap().push(rt.clone());
                    let mut parts = rt.split('-');
                    let (_, patient, n) = (parts.next(), parts.next().unwrap(), parts.next());
                    if valid.get(patient) != Some(&rt) {
                        return ResponseTemplate::new(400)
                            .set_body_json(json!({"error": "invalid_grant"}));
                    }
                    let n: u32 = n.unwrap().parse::<u32>().unwrap() + 1;
                    valid.insert(patient.to_owned(), format!("rt-{patient}-{n}"));
                    ResponseTemplate::new(200).set_body_json(json!({
                        "access_token": format!("at-{patient}-{n}"), "token_type": "Bearer",
                        "expires_in": 3600, "scope": "openid fhirUser patient/*.rs launch/patient",
                        "refresh_token": format!("rt-{patient}-{n}")
                    }))
                }
            }
        })
        .mount(server)
        .await;
    presented
}

fn callback_for(request: &fhir_smart::AuthorizationRequest, code: &str) -> String {
    format!(
        "http://127.0.0.1:9/callback?code={code}&state={}",
        request.pending.state()
    )
}

#[tokio::test]
async fn two_launches_sharing_a_store_and_subject_keep_their_own_patient_and_tokens() {
    let server = server().await;
    let presented = mount_multi_launch(&server).await;
    let store: Arc<dyn fhir_smart::TokenStore> = Arc::new(fhir_smart::MemoryTokenStore::new());
    let app = app(&server)
        .client_auth(fhir_smart::client_auth::ClientAuth::Public)
        .store(Arc::clone(&store), "user-1");
    // The same user launches the app twice (two tabs), for two patients.
    let first = app.standalone().await.unwrap();
    let second = app.standalone().await.unwrap();
    assert_ne!(first.pending.launch_id(), second.pending.launch_id());
    let a = app
        .complete(first.pending.clone(), &callback_for(&first, "code-alice"))
        .await
        .unwrap();
    let b = app
        .complete(second.pending.clone(), &callback_for(&second, "code-bob"))
        .await
        .unwrap();
    assert_ne!(a.store_key(), b.store_key());
    for _ in 0..2 {
        a.refresh().await.unwrap();
        b.refresh().await.unwrap();
    }
    assert_eq!(a.patient_id().as_deref(), Some("alice"));
    assert_eq!(b.patient_id().as_deref(), Some("bob"));
    assert_eq!(
        a.access_token().await.unwrap().expose_secret(),
        "at-alice-2"
    );
    assert_eq!(b.access_token().await.unwrap().expose_secret(), "at-bob-2");
    // Each client presented only its own refresh tokens, each once.
    assert_eq!(
        *presented.lock().unwrap(),
        ["rt-alice-0", "rt-bob-0", "rt-alice-1", "rt-bob-1"]
    );
    // complete() checked both records against the cached discovery result of step one.
    let discoveries = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path().ends_with("smart-configuration"))
        .count();
    assert_eq!(discoveries, 1);
}

/// Serializes `pending`, lets `tamper` edit the JSON (as a client holding the record could),
/// and reads it back.
fn tampered(
    pending: &fhir_smart::PendingAuthorization,
    tamper: impl FnOnce(&mut serde_json::Value),
) -> fhir_smart::PendingAuthorization {
    let mut value = serde_json::to_value(pending).unwrap();
    tamper(&mut value);
    serde_json::from_value(value).unwrap()
}

#[tokio::test]
async fn a_tampered_pending_authorization_is_refused_before_the_code_is_sent() {
    let server = server().await;
    let _presented = mount_multi_launch(&server).await;
    let attacker = crate::support::server().await;
    let app = app(&server).client_auth(fhir_smart::client_auth::ClientAuth::Public);

    // The token endpoint is redirected to the attacker: the code and verifier must not go there.
    let request = app.standalone().await.unwrap();
    let evil = tampered(&request.pending, |v| {
        v["token_endpoint"] = json!(format!("{}/auth/token", attacker.uri()));
    });
    match app
        .complete(evil, &callback_for(&request, "code-alice"))
        .await
    {
        Err(Error::InvalidCallback { reason }) => {
            assert!(reason.contains("token endpoint"), "{reason}")
        }
        other => panic!("expected a refused token endpoint, got {other:?}"),
    }
    assert!(attacker.received_requests().await.unwrap().is_empty());

    // An `aud` that is neither the FHIR base nor an allowed `iss`.
    let request = app.standalone().await.unwrap();
    let evil = tampered(&request.pending, |v| {
        v["aud"] = json!(format!("{}/fhir", attacker.uri()));
    });
    match app
        .complete(evil, &callback_for(&request, "code-alice"))
        .await
    {
        Err(Error::IssNotAllowed { iss }) => assert!(iss.starts_with(&attacker.uri())),
        other => panic!("expected IssNotAllowed, got {other:?}"),
    }

    // Another client id, and another issuer.
    let request = app.standalone().await.unwrap();
    let evil = tampered(&request.pending, |v| v["client_id"] = json!("app-2"));
    match app
        .complete(evil, &callback_for(&request, "code-alice"))
        .await
    {
        Err(Error::InvalidCallback { reason }) => assert!(reason.contains("client id"), "{reason}"),
        other => panic!("expected a refused client id, got {other:?}"),
    }
    let request = app.standalone().await.unwrap();
    let evil = tampered(&request.pending, |v| v["issuer"] = json!(attacker.uri()));
    match app
        .complete(evil, &callback_for(&request, "code-alice"))
        .await
    {
        Err(Error::InvalidCallback { reason }) => assert!(reason.contains("issuer"), "{reason}"),
        other => panic!("expected a refused issuer, got {other:?}"),
    }
    assert!(attacker.received_requests().await.unwrap().is_empty());
    let exchanges = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == "/auth/token")
        .count();
    assert_eq!(exchanges, 0, "no code was exchanged");

    // The untouched record still works.
    let request = app.standalone().await.unwrap();
    let smart = app
        .complete(
            request.pending.clone(),
            &callback_for(&request, "code-alice"),
        )
        .await
        .unwrap();
    assert_eq!(smart.patient_id().as_deref(), Some("alice"));
}

#[tokio::test]
async fn registrations_check_the_token_endpoint_of_the_pending_authorization() {
    let server = server().await;
    let _presented = mount_multi_launch(&server).await;
    let attacker = crate::support::server().await;
    let registrations = fhir_smart::Registrations::new().register(
        fhir_base(&server).as_str(),
        app(&server).client_auth(fhir_smart::client_auth::ClientAuth::Public),
    );
    let launch = LaunchParams {
        iss: fhir_base(&server).to_string(),
        launch: String::from("l-1"),
    };
    let request = registrations.ehr(&launch).await.unwrap();
    let evil = tampered(&request.pending, |v| {
        v["token_endpoint"] = json!(format!("{}/auth/token", attacker.uri()));
    });
    match registrations
        .complete(evil, &callback_for(&request, "code-alice"))
        .await
    {
        Err(Error::InvalidCallback { reason }) => {
            assert!(reason.contains("token endpoint"), "{reason}")
        }
        other => panic!("expected a refused token endpoint, got {other:?}"),
    }
    assert!(attacker.received_requests().await.unwrap().is_empty());
    let smart = registrations
        .complete(
            request.pending.clone(),
            &callback_for(&request, "code-alice"),
        )
        .await
        .unwrap();
    assert_eq!(smart.patient_id().as_deref(), Some("alice"));
}

#[tokio::test]
async fn id_token_verification_fails_closed_when_discovery_names_no_issuer() {
    let server = server().await;
    let mut config = smart_configuration(&server);
    config.as_object_mut().unwrap().remove("issuer");
    config["capabilities"] = json!(["launch-standalone", "client-public", "permission-v2"]);
    Mock::given(method("GET"))
        .and(path("/fhir/.well-known/smart-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(config))
        .mount(&server)
        .await;
    // The token's own `iss` hosts keys that would verify it: they must not be consulted.
    let key = SigningKey::generate(SigningAlgorithm::Rs384, "idt").unwrap();
    let pem = key.to_pkcs8_pem().unwrap();
    let sign = id_token_issuer(&server, &key).await;
    let app = app(&server)
        .client_auth(fhir_smart::client_auth::ClientAuth::Public)
        .verify_id_token(true);
    let request = app.standalone().await.unwrap();
    let nonce = query(&request.url)["nonce"].clone();
    let id_token = sign(pem.expose_secret(), json!({"nonce": nonce}));
    Mock::given(method("POST"))
        .and(path("/auth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "at", "token_type": "bearer", "expires_in": 300,
            "scope": "openid fhirUser patient/*.rs", "id_token": id_token
        })))
        .mount(&server)
        .await;
    match app
        .complete(request.pending.clone(), &callback_for(&request, "c"))
        .await
    {
        Err(Error::IdToken { reason }) => assert!(reason.contains("no issuer"), "{reason}"),
        other => panic!("expected an id_token error, got {other:?}"),
    }
    let fetched = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path().contains("openid-configuration") || r.url.path() == "/auth/jwks")
        .count();
    assert_eq!(fetched, 0, "no key was fetched from the token's own `iss`");
}

#[tokio::test]
async fn a_refreshed_id_token_is_verified_or_discarded() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/fhir/.well-known/smart-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(smart_configuration(&server)))
        .mount(&server)
        .await;
    let key = SigningKey::generate(SigningAlgorithm::Rs384, "idt").unwrap();
    let pem = key.to_pkcs8_pem().unwrap();
    let impostor = SigningKey::generate(SigningAlgorithm::Rs384, "idt").unwrap();
    let impostor_pem = impostor.to_pkcs8_pem().unwrap();
    let sign = id_token_issuer(&server, &key).await;
    let app = app(&server)
        .client_auth(fhir_smart::client_auth::ClientAuth::Public)
        .verify_id_token(true);
    let request = app.standalone().await.unwrap();
    let nonce = query(&request.url)["nonce"].clone();
    let first = sign(pem.expose_secret(), json!({"nonce": nonce}));
    let refreshed: Arc<Mutex<String>> = Arc::default();
    let served = Arc::clone(&refreshed);
    let first_served = first.clone();
    Mock::given(method("POST"))
        .and(path("/auth/token"))
        .respond_with(move |request: &Request| {
            let id_token = if form(request)["grant_type"] == "authorization_code" {
                first_served.clone()
            } else {
                served.lock().unwrap().clone()
            };
            ResponseTemplate::new(200).set_body_json(json!({
                "access_token": "at", "token_type": "bearer", "expires_in": 300,
                "refresh_token": "rt", "scope": "openid fhirUser patient/*.rs",
                "id_token": id_token
            }))
        })
        .mount(&server)
        .await;
    let smart = app
        .complete(request.pending.clone(), &callback_for(&request, "c"))
        .await
        .unwrap();
    assert_eq!(smart.id_token().unwrap().expose_secret(), first);

    // Validly signed, but for another user (`sub`): discarded, the original is kept.
    *refreshed.lock().unwrap() = sign(pem.expose_secret(), json!({"sub": "someone-else"}));
    smart.refresh().await.unwrap();
    assert_eq!(smart.id_token().unwrap().expose_secret(), first);
    // Signed by a key the issuer does not publish: discarded.
    *refreshed.lock().unwrap() = sign(
        impostor_pem.expose_secret(),
        json!({"fhirUser": "Patient/x"}),
    );
    smart.refresh().await.unwrap();
    assert_eq!(smart.id_token().unwrap().expose_secret(), first);
    // Another audience: discarded.
    *refreshed.lock().unwrap() = sign(pem.expose_secret(), json!({"aud": "app-2"}));
    smart.refresh().await.unwrap();
    assert_eq!(smart.id_token().unwrap().expose_secret(), first);
    // A valid one for the same user (no nonce on refresh): it replaces the original.
    let renewed = sign(
        pem.expose_secret(),
        json!({"fhirUser": "Practitioner/dr-2"}),
    );
    *refreshed.lock().unwrap() = renewed.clone();
    smart.refresh().await.unwrap();
    assert_eq!(smart.id_token().unwrap().expose_secret(), renewed);
}
