//! OpenID Connect by default: whenever `openid` is requested the id_token is verified (nonce
//! included) unless the app opts out, `fhir_user()` reads only a verified id_token, and a
//! refreshed id_token is verified without holding the renewal lock.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use fhir_smart::client_auth::ClientAuth;
use fhir_smart::id_token::IdTokenVerifier;
use fhir_smart::keys::{SigningAlgorithm, SigningKey};
use fhir_smart::{AppLaunch, Error};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::support::*;

const SCOPE: &str = "openid fhirUser patient/*.rs offline_access";

async fn discovery(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/fhir/.well-known/smart-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(smart_configuration(server)))
        .mount(server)
        .await;
}

/// An app that never calls `verify_id_token`: the defaults apply.
fn app(server: &MockServer) -> AppLaunch {
    AppLaunch::new(
        "app-1",
        "http://127.0.0.1:9/callback",
        SCOPE.parse().unwrap(),
    )
    .fhir_base(fhir_base(server).as_str())
    .http(http())
    .client_auth(ClientAuth::Public)
}

/// A token endpoint whose code exchange answers with the id_token in `served`.
async fn token_endpoint(server: &MockServer) -> Arc<Mutex<String>> {
    let served: Arc<Mutex<String>> = Arc::default();
    let id_token = Arc::clone(&served);
    Mock::given(method("POST"))
        .and(path("/auth/token"))
        .respond_with(move |_: &Request| {
            ResponseTemplate::new(200).set_body_json(json!({
                "access_token": "at", "token_type": "bearer", "expires_in": 300,
                "refresh_token": "rt", "scope": SCOPE, "id_token": *id_token.lock().unwrap()
            }))
        })
        .mount(server)
        .await;
    served
}

fn callback(request: &fhir_smart::AuthorizationRequest) -> String {
    format!(
        "http://127.0.0.1:9/callback?code=c&state={}",
        request.pending.state()
    )
}

#[tokio::test]
async fn id_tokens_are_verified_by_default_when_openid_is_requested() {
    let server = server().await;
    discovery(&server).await;
    let key = SigningKey::generate(SigningAlgorithm::Rs384, "idt").unwrap();
    let pem = key.to_pkcs8_pem().unwrap();
    let sign = id_token_issuer(&server, &key).await;
    let served = token_endpoint(&server).await;
    let app = app(&server);
    for (claims, problem) in [
        (json!({"nonce": "replayed"}), "nonce"),
        (json!({"aud": "another-app"}), "aud"),
        (json!({"exp": 1}), "expired"),
    ] {
        let request = app.standalone().await.unwrap();
        let mut claims = claims;
        if claims.get("nonce").is_none() {
            claims["nonce"] = json!(request.pending.nonce().unwrap());
        }
        *served.lock().unwrap() = sign(pem.expose_secret(), claims);
        match app
            .complete(request.pending.clone(), &callback(&request))
            .await
        {
            Err(Error::IdToken { reason }) => assert!(reason.contains(problem), "{reason}"),
            other => panic!("{problem}: expected an id_token error, got {other:?}"),
        }
    }
    // Forged: signed by a key the issuer does not publish.
    let impostor = SigningKey::generate(SigningAlgorithm::Rs384, "idt").unwrap();
    let request = app.standalone().await.unwrap();
    *served.lock().unwrap() = sign(
        impostor.to_pkcs8_pem().unwrap().expose_secret(),
        json!({"nonce": request.pending.nonce().unwrap()}),
    );
    assert!(matches!(
        app.complete(request.pending.clone(), &callback(&request))
            .await,
        Err(Error::IdToken { .. })
    ));

    // A valid one: the client names its user, resolved against the FHIR base.
    for (claim, expected) in [
        (
            json!("Practitioner/dr-1"),
            format!("{}/Practitioner/dr-1", fhir_base(&server)),
        ),
        (
            json!("https://ehr.example.org/fhir/Patient/p-9"),
            String::from("https://ehr.example.org/fhir/Patient/p-9"),
        ),
    ] {
        let request = app.standalone().await.unwrap();
        *served.lock().unwrap() = sign(
            pem.expose_secret(),
            json!({"nonce": request.pending.nonce().unwrap(), "fhirUser": claim}),
        );
        let smart = app
            .complete(request.pending.clone(), &callback(&request))
            .await
            .unwrap();
        let user = smart.fhir_user().unwrap();
        assert_eq!(user.url.as_str(), expected);
        assert!(user.is_known_type());
    }
}

#[tokio::test]
async fn the_opt_out_is_explicit_and_an_unverified_id_token_names_no_user() {
    let server = server().await;
    discovery(&server).await;
    let key = SigningKey::generate(SigningAlgorithm::Rs384, "idt").unwrap();
    let pem = key.to_pkcs8_pem().unwrap();
    let sign = id_token_issuer(&server, &key).await;
    let served = token_endpoint(&server).await;
    let app = app(&server).verify_id_token(false);
    let request = app.standalone().await.unwrap();
    let id_token = sign(pem.expose_secret(), json!({"nonce": "not-the-one-sent"}));
    *served.lock().unwrap() = id_token.clone();
    let smart = app
        .complete(request.pending.clone(), &callback(&request))
        .await
        .unwrap();
    assert_eq!(smart.id_token().unwrap().expose_secret(), id_token);
    assert!(
        smart.fhir_user().is_none(),
        "an unverified id_token names no user"
    );
    let fetched = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/auth/jwks")
        .count();
    assert_eq!(fetched, 0, "nothing was verified");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refreshed_id_token_is_verified_outside_the_renewal_lock() {
    let server = server().await;
    discovery(&server).await;
    let key = SigningKey::generate(SigningAlgorithm::Rs384, "idt").unwrap();
    let pem = key.to_pkcs8_pem().unwrap();
    let sign = id_token_issuer_with_delay(&server, &key, Duration::from_millis(1500)).await;
    // A verifier that trusts no cached key, so every verification fetches the (slow) JWKS.
    let verifier = IdTokenVerifier::new(http()).jwks_ttl_bounds(Duration::ZERO, Duration::ZERO);
    let app = app(&server).id_token_verifier(verifier);
    let request = app.standalone().await.unwrap();
    let first = sign(
        pem.expose_secret(),
        json!({"nonce": request.pending.nonce().unwrap()}),
    );
    let refreshed = sign(
        pem.expose_secret(),
        json!({"fhirUser": "Practitioner/dr-2"}),
    );
    let calls = Arc::new(Mutex::new(0usize));
    let counted = Arc::clone(&calls);
    Mock::given(method("POST"))
        .and(path("/auth/token"))
        .respond_with(move |request: &Request| {
            let mut n = counted.lock().unwrap();
            *n += 1;
            // The code exchange and the first refresh carry an id_token; later ones do not.
            let id_token = match (form(request)["grant_type"].as_str(), *n) {
                ("authorization_code", _) => Value::from(first.clone()),
                (_, 2) => Value::from(refreshed.clone()),
                _ => Value::Null,
            };
            ResponseTemplate::new(200).set_body_json(json!({
                "access_token": format!("at-{n}"), "token_type": "bearer", "expires_in": 300,
                "refresh_token": format!("rt-{n}"), "scope": SCOPE, "id_token": id_token
            }))
        })
        .mount(&server)
        .await;
    let smart = app
        .complete(request.pending.clone(), &callback(&request))
        .await
        .unwrap();
    let slow = {
        let smart = smart.clone();
        tokio::spawn(async move { smart.refresh().await })
    };
    // Once the first refresh has its answer, its id_token check waits 1.5 s for the JWKS;
    // meanwhile another renewal of the same token set goes through.
    while *calls.lock().unwrap() < 2 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let second = tokio::time::timeout(Duration::from_millis(1000), smart.refresh()).await;
    assert!(
        second.is_ok(),
        "the renewal lock was held while the id_token was verified"
    );
    second.unwrap().unwrap();
    slow.await.unwrap().unwrap();
    assert_eq!(smart.access_token().await.unwrap().expose_secret(), "at-3");
}
