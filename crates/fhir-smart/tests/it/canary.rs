//! Secret canaries beyond the token endpoint's error bodies: the code-exchange primitive,
//! Backend Services (assertion and private key), FHIR errors that echo the request, id_token
//! failures, and the `Debug` of every type that holds or names a secret. A canary must never
//! reach `Display`, `Debug`, `to_json` or the `tracing` output.

use std::sync::Arc;

use fhir_smart::client_auth::{ClientAuth, ClientCredentials};
use fhir_smart::keys::{SigningAlgorithm, SigningKey};
use fhir_smart::pkce::PkceVerifier;
use fhir_smart::secret::AuthorizationCode;
use fhir_smart::{AppLaunch, BackendServices, MemoryTokenStore, SmartClient, TokenStore};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::secrets::*;
use crate::support::*;

const VERIFIER: &str = "CANARY-verifier-0123456789abcdefghijklmnopqrstuvwxyz";

/// The private key's material, line by line (a PEM's base64 lines), as canaries.
fn key_canaries(key: &SigningKey) -> Vec<String> {
    key.to_pkcs8_pem()
        .unwrap()
        .expose_secret()
        .lines()
        .filter(|line| !line.starts_with("-----") && line.len() >= 16)
        .map(str::to_owned)
        .collect()
}

/// Fails when any of `secrets` appears in any of `texts`.
fn assert_none_in(texts: &[String], secrets: &[String], case: &str) {
    for text in texts {
        for secret in secrets {
            assert!(
                !text.contains(secret.as_str()),
                "{case}: {secret:?} leaked in {text}"
            );
        }
    }
}

#[tokio::test]
async fn the_code_exchange_primitive_never_shows_a_sent_secret() {
    let key = SigningKey::generate(SigningAlgorithm::Es384, "k1").unwrap();
    let verifier = PkceVerifier::new(VERIFIER).unwrap();
    for shape in SHAPES {
        for status in [400, 401, 500] {
            for auth in [
                ClientAuth::Public,
                ClientAuth::basic(SECRET),
                ClientAuth::private_key_jwt(key.clone()),
            ] {
                let captured = Captured::default();
                let _guard = tracing::subscriber::set_default(subscriber(&captured));
                let server = server().await;
                let saw = hostile_token_endpoint(&server, shape, status).await;
                let credentials = ClientCredentials::new("app-1", auth.clone());
                let err = fhir_smart::exchange_code(
                    &http(),
                    &token_url(&server),
                    &credentials,
                    &AuthorizationCode::new(CODE),
                    &verifier,
                    "https://app.example.org/callback",
                )
                .await
                .unwrap_err();
                let case = format!("{shape:?} HTTP {status} {}", auth.method_name());
                let mut secrets = canaries(&saw);
                secrets.push(VERIFIER.to_owned());
                secrets.extend(key_canaries(&key));
                assert_clean(&err, &captured.text(), &secrets, &case);
                assert_none_in(
                    &[format!("{credentials:?}"), format!("{verifier:?}")],
                    &secrets,
                    &case,
                );
            }
        }
    }
}

#[tokio::test]
async fn backend_services_errors_never_show_the_assertion_or_the_key() {
    for alg in [SigningAlgorithm::Es384, SigningAlgorithm::Rs384] {
        let key = SigningKey::generate(alg, "k1").unwrap();
        for shape in SHAPES {
            for status in [400, 401, 500] {
                let captured = Captured::default();
                let _guard = tracing::subscriber::set_default(subscriber(&captured));
                let server = server().await;
                let saw = hostile_token_endpoint(&server, shape, status).await;
                let backend = BackendServices::new(
                    fhir_base(&server),
                    "backend-client",
                    key.clone(),
                    "system/*.rs".parse().unwrap(),
                )
                .http(http())
                .token_endpoint(token_url(&server));
                let shown = format!("{backend:?}");
                let err = backend.connect().await.unwrap_err();
                let case = format!("{alg} {shape:?} HTTP {status}");
                let mut secrets = canaries(&saw);
                assert!(!secrets.is_empty(), "{case}: no assertion was sent");
                secrets.extend(key_canaries(&key));
                assert_clean(&err, &captured.text(), &secrets, &case);
                assert_none_in(&[shown, format!("{key:?}")], &secrets, &case);
            }
        }
    }
}

#[tokio::test]
async fn fhir_errors_that_echo_the_request_never_show_the_token() {
    let server = server().await;
    let echoes = [
        (400, ResponseTemplate::new(400).set_body_string(format!(
            "bad request\nAuthorization: Bearer {ACCESS}\nX-Api-Key: {SECRET}"
        ))),
        (403, ResponseTemplate::new(403).set_body_json(json!({
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": "forbidden",
                "diagnostics": format!("insufficient scope; headers: {{\"authorization\": \"Bearer {ACCESS}\"}}, access_token={ACCESS}")}]
        }))),
        (500, ResponseTemplate::new(500).set_body_string(format!(
            "<html><pre>access_token={ACCESS}&refresh_token={REFRESH}</pre></html>"
        ))),
    ];
    for (status, response) in echoes {
        let captured = Captured::default();
        let _guard = tracing::subscriber::set_default(subscriber(&captured));
        server.reset().await;
        Mock::given(method("GET"))
            .and(path("/fhir/Patient/p1"))
            .respond_with(response)
            .mount(&server)
            .await;
        let mut fresh = initial_token();
        fresh.expires_in = Some(3600);
        let smart = SmartClient::builder(
            fhir_base(&server),
            token_url(&server),
            ClientCredentials::new("app-1", ClientAuth::basic(SECRET)),
        )
        .http(http())
        .token(fresh)
        .build()
        .await
        .unwrap();
        let fhir = fhir_core::Client::builder(fhir_base(&server).as_str())
            .auth(smart.clone())
            .build()
            .unwrap();
        let err = fhir.read_json("Patient", "p1").send().await.unwrap_err();
        let secrets: Vec<String> = [ACCESS, REFRESH, SECRET].map(str::to_owned).to_vec();
        assert_none_in(
            &[
                err.to_string(),
                format!("{err:?}"),
                captured.text(),
                format!("{smart:?}"),
            ],
            &secrets,
            &format!("FHIR HTTP {status}"),
        );
    }
}

#[tokio::test]
async fn a_401_whose_refresh_fails_never_shows_a_token_in_the_fhir_error() {
    for shape in SHAPES {
        let captured = Captured::default();
        let _guard = tracing::subscriber::set_default(subscriber(&captured));
        let server = server().await;
        let saw = hostile_token_endpoint(&server, shape, 400).await;
        Mock::given(method("GET"))
            .and(path("/fhir/Patient/p1"))
            .respond_with(
                ResponseTemplate::new(401)
                    .insert_header(
                        "www-authenticate",
                        format!(
                            "Bearer error=\"invalid_token\", error_description=\"{ACCESS} expired\""
                        ),
                    )
                    .set_body_string(format!("Bearer {ACCESS} rejected")),
            )
            .mount(&server)
            .await;
        let mut fresh = initial_token();
        fresh.expires_in = Some(3600);
        let smart = SmartClient::builder(
            fhir_base(&server),
            token_url(&server),
            ClientCredentials::new("app-1", ClientAuth::basic(SECRET)),
        )
        .http(http())
        .token(fresh)
        .build()
        .await
        .unwrap();
        let fhir = fhir_core::Client::builder(fhir_base(&server).as_str())
            .auth(smart)
            .build()
            .unwrap();
        let err = fhir.read_json("Patient", "p1").send().await.unwrap_err();
        let case = format!("401 then refresh {shape:?}");
        assert!(
            !saw.lock().unwrap().is_empty(),
            "{case}: no refresh was tried"
        );
        assert_none_in(
            &[err.to_string(), format!("{err:?}"), captured.text()],
            &canaries(&saw),
            &case,
        );
    }
}

#[tokio::test]
async fn id_token_failures_and_every_debug_never_show_a_secret() {
    let captured = Captured::default();
    let _guard = tracing::subscriber::set_default(subscriber(&captured));
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/fhir/.well-known/smart-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(smart_configuration(&server)))
        .mount(&server)
        .await;
    let key = SigningKey::generate(SigningAlgorithm::Rs384, "idt").unwrap();
    let pem = key.to_pkcs8_pem().unwrap();
    let sign = id_token_issuer(&server, &key).await;
    let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::new());
    let app = AppLaunch::new(
        "app-1",
        "http://127.0.0.1:9/callback",
        "openid fhirUser patient/*.rs offline_access"
            .parse()
            .unwrap(),
    )
    .fhir_base(fhir_base(&server).as_str())
    .http(http())
    .client_secret(fhir_smart::secret::ClientSecret::new(SECRET))
    .store(Arc::clone(&store), "user-1");
    let request = app.standalone().await.unwrap();
    let verifier = serde_json::to_value(&request.pending).unwrap()["code_verifier"]
        .as_str()
        .unwrap()
        .to_owned();
    let good = sign(
        pem.expose_secret(),
        json!({"nonce": request.pending.nonce().unwrap(), "canary": ACCESS}),
    );
    let bad_nonce = sign(
        pem.expose_secret(),
        json!({"nonce": "replayed", "canary": ACCESS}),
    );
    let served = Arc::new(std::sync::Mutex::new(bad_nonce.clone()));
    let id_token = Arc::clone(&served);
    Mock::given(method("POST"))
        .and(path("/auth/token"))
        .respond_with(move |_: &wiremock::Request| {
            ResponseTemplate::new(200).set_body_json(json!({
                "access_token": ACCESS, "token_type": "bearer", "expires_in": 3600,
                "refresh_token": REFRESH, "scope": "openid fhirUser patient/*.rs offline_access",
                "id_token": *id_token.lock().unwrap()
            }))
        })
        .mount(&server)
        .await;
    let code: String = url::form_urlencoded::byte_serialize(CODE.as_bytes()).collect();
    let callback = format!(
        "http://127.0.0.1:9/callback?code={code}&state={}",
        request.pending.state()
    );
    let secrets: Vec<String> = [ACCESS, REFRESH, CODE, SECRET]
        .iter()
        .map(|s| (*s).to_owned())
        .chain([verifier, good.clone(), bad_nonce.clone()])
        .chain(key_canaries(&key))
        .collect();
    let pending_debug = format!("{:?}", request.pending);
    let err = app
        .complete(request.pending.clone(), &callback)
        .await
        .unwrap_err();
    assert!(matches!(err, fhir_smart::Error::IdToken { .. }), "{err:?}");
    assert_clean(&err, &captured.text(), &secrets, "bad nonce");

    // A launch that works, and every object that holds its secrets.
    *served.lock().unwrap() = good;
    let smart = app.complete(request.pending, &callback).await.unwrap();
    // A refresh whose id_token fails verification is discarded with a warning.
    *served.lock().unwrap() = bad_nonce.replace('.', "!");
    smart.refresh().await.unwrap();
    let stored = store.get(smart.store_key()).await.unwrap().unwrap();
    assert_none_in(
        &[
            pending_debug,
            format!("{smart:?}"),
            format!("{:?}", smart.launch_session()),
            format!("{:?}", smart.token_response()),
            format!("{stored:?}"),
            format!("{:?}", smart.store_key()),
            format!("{app:?}"),
            captured.text(),
        ],
        &secrets,
        "Debug of the launch's objects",
    );
}
