//! End to end against the real servers of `sandbox/` (oidc-provider as the SMART
//! authorization server, Medplum as the FHIR server), started once per test process by the
//! `fhir-e2e` harness. The authorization server rotates refresh tokens and revokes the whole
//! grant when one is reused, so a second refresh with a stale token fails these tests.

use std::sync::Arc;

use fhir_e2e::Sandbox;
use fhir_smart::client_auth::{ClientAuth, ClientCredentials};
use fhir_smart::keys::{SigningAlgorithm, SigningKey};
use fhir_smart::secret::{AccessToken, ClientSecret};
use fhir_smart::token::TokenResponse;
use fhir_smart::{
    AppLaunch, BackendServices, LaunchParams, MemoryTokenStore, SmartClient, TokenStore,
};
use url::Url;

use crate::support::http;

fn sandbox() -> Option<&'static Sandbox> {
    fhir_e2e::sandbox()
}

fn key(sandbox: &Sandbox, path: &str, kid: &str, alg: SigningAlgorithm) -> SigningKey {
    let pem = std::fs::read_to_string(sandbox.var(path)).unwrap();
    SigningKey::from_pem(&pem, sandbox.var(kid), Some(alg)).unwrap()
}

/// Plays the browser through the sandbox's login and returns the app's callback URL.
async fn log_in(sandbox: &Sandbox, authorize: &Url, user: &str, patient: Option<&str>) -> String {
    sandbox
        .log_in(authorize.as_str(), user, patient)
        .await
        .unwrap()
}

fn app(sandbox: &Sandbox, client_id: &str, scope: &str) -> AppLaunch {
    AppLaunch::new(
        client_id,
        sandbox.var("SMART_REDIRECT_URI"),
        scope.parse().unwrap(),
    )
    .fhir_base(sandbox.fhir_base_url())
    .http(http())
    .verify_id_token(true)
}

async fn read_patient(smart: &SmartClient, id: &str) -> serde_json::Value {
    let fhir = fhir_core::Client::builder(smart.fhir_base().as_str())
        .auth(smart.clone())
        .build()
        .unwrap();
    fhir.read_json("Patient", id)
        .send()
        .await
        .unwrap()
        .into_resource()
}

#[tokio::test]
async fn backend_services_with_es384_and_rs384() {
    let Some(sandbox) = sandbox() else { return };
    for (alg, prefix) in [
        (SigningAlgorithm::Es384, "SMART_BACKEND_ES384"),
        (SigningAlgorithm::Rs384, "SMART_BACKEND_RS384"),
    ] {
        let key = key(
            sandbox,
            &format!("{prefix}_KEY_PATH"),
            &format!("{prefix}_KID"),
            alg,
        );
        let smart = BackendServices::new(
            Url::parse(sandbox.fhir_base_url()).unwrap(),
            sandbox.var(&format!("{prefix}_CLIENT_ID")),
            key,
            "system/Patient.rs".parse().unwrap(),
        )
        .http(http())
        .connect()
        .await
        .unwrap();
        assert_eq!(smart.granted_scope().as_deref(), Some("system/Patient.rs"));
        let fhir = fhir_core::Client::builder(sandbox.fhir_base_url())
            .auth(smart)
            .build()
            .unwrap();
        let page = fhir.search_json("Patient").count(3).send().await.unwrap();
        assert_eq!(page.entries().len(), 3, "{alg}");
    }
}

#[tokio::test]
async fn standalone_launch_with_every_client_type() {
    let Some(sandbox) = sandbox() else { return };
    let scope = "openid fhirUser launch/patient patient/*.rs offline_access";
    let asymmetric = key(
        sandbox,
        "SMART_ASYMMETRIC_KEY_PATH",
        "SMART_ASYMMETRIC_KID",
        SigningAlgorithm::Es384,
    );
    let apps = [
        app(sandbox, sandbox.var("SMART_PUBLIC_CLIENT_ID"), scope),
        app(sandbox, sandbox.var("SMART_CONFIDENTIAL_CLIENT_ID"), scope).client_secret(
            ClientSecret::new(sandbox.var("SMART_CONFIDENTIAL_CLIENT_SECRET")),
        ),
        app(sandbox, sandbox.var("SMART_ASYMMETRIC_CLIENT_ID"), scope).private_key(asymmetric),
    ];
    for app in apps {
        let request = app.standalone().await.unwrap();
        let callback = log_in(sandbox, &request.url, "practitioner", Some("pat-0042")).await;
        let smart = app.complete(request.pending, &callback).await.unwrap();
        assert_eq!(smart.patient_id().as_deref(), Some("pat-0042"));
        let claims = fhir_smart::id_token::decode_unverified(&smart.id_token().unwrap()).unwrap();
        let user = claims.fhir_user(smart.fhir_base()).unwrap();
        assert_eq!(
            (user.resource_type.as_str(), user.id.as_str()),
            ("Practitioner", "prac-0001")
        );
        // The fhirUser URL is read like any reference; the token goes along because the URL
        // lies under the FHIR base.
        let fhir = fhir_core::Client::builder(smart.fhir_base().as_str())
            .auth(smart.clone())
            .build()
            .unwrap();
        let practitioner: serde_json::Value =
            fhir.get(user.url.as_str()).await.unwrap().into_resource();
        assert_eq!(practitioner["resourceType"], "Practitioner");
        assert_eq!(read_patient(&smart, "pat-0042").await["id"], "pat-0042");
        smart.refresh().await.unwrap();
        smart.refresh().await.unwrap();
        assert_eq!(
            smart.patient_id().as_deref(),
            Some("pat-0042"),
            "context kept"
        );
        assert_eq!(read_patient(&smart, "pat-0042").await["id"], "pat-0042");
    }
}

#[tokio::test]
async fn ehr_launch_gets_the_launch_context() {
    let Some(sandbox) = sandbox() else { return };
    let app = app(
        sandbox,
        sandbox.var("SMART_PUBLIC_CLIENT_ID"),
        "launch openid fhirUser patient/*.rs",
    )
    .allow_iss(sandbox.fhir_base_url());
    let params = LaunchParams {
        iss: sandbox.fhir_base_url().to_owned(),
        launch: sandbox.var("SMART_LAUNCH").to_owned(),
    };
    let request = app.ehr(&params).await.unwrap();
    let callback = log_in(sandbox, &request.url, "practitioner", None).await;
    let smart = app.complete(request.pending, &callback).await.unwrap();
    assert_eq!(
        smart.patient_id().as_deref(),
        Some(sandbox.var("SMART_LAUNCH_PATIENT"))
    );
    assert_eq!(
        smart.encounter_id().as_deref(),
        Some(sandbox.var("SMART_LAUNCH_ENCOUNTER"))
    );
}

/// A fresh token set from a public standalone launch with `offline_access`.
async fn launch_tokens(sandbox: &Sandbox) -> (TokenResponse, SmartClient) {
    let app = app(
        sandbox,
        sandbox.var("SMART_PUBLIC_CLIENT_ID"),
        "launch/patient patient/*.rs offline_access",
    );
    let request = app.standalone().await.unwrap();
    let callback = log_in(sandbox, &request.url, "patient", None).await;
    let smart = app.complete(request.pending, &callback).await.unwrap();
    (smart.token_response().unwrap(), smart)
}

async fn session(
    sandbox: &Sandbox,
    token: TokenResponse,
    store: Arc<dyn TokenStore>,
) -> SmartClient {
    SmartClient::builder(
        Url::parse(sandbox.fhir_base_url()).unwrap(),
        Url::parse(sandbox.var("SMART_TOKEN_URL")).unwrap(),
        ClientCredentials::new(sandbox.var("SMART_PUBLIC_CLIENT_ID"), ClientAuth::Public),
    )
    .http(http())
    .store(store)
    .store_subject("e2e")
    .token(token)
    .build()
    .await
    .unwrap()
}

#[tokio::test]
async fn rotated_refresh_tokens_are_never_reused_by_clients_sharing_a_store() {
    let Some(sandbox) = sandbox() else { return };
    let (token, _) = launch_tokens(sandbox).await;
    let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::new());
    let a = session(sandbox, token, Arc::clone(&store)).await;
    let b = SmartClient::builder(
        Url::parse(sandbox.fhir_base_url()).unwrap(),
        Url::parse(sandbox.var("SMART_TOKEN_URL")).unwrap(),
        ClientCredentials::new(sandbox.var("SMART_PUBLIC_CLIENT_ID"), ClientAuth::Public),
    )
    .http(http())
    .store(Arc::clone(&store))
    .store_subject("e2e")
    .build()
    .await
    .unwrap();
    // The server revokes the grant on reuse: any stale refresh token would fail a later step.
    a.refresh().await.unwrap();
    b.refresh().await.unwrap();
    a.refresh().await.unwrap();
    b.refresh().await.unwrap();
    assert_eq!(read_patient(&a, "pat-0001").await["id"], "pat-0001");
    assert_eq!(read_patient(&b, "pat-0001").await["id"], "pat-0001");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_requests_on_an_expired_token_share_one_refresh() {
    let Some(sandbox) = sandbox() else { return };
    let (mut token, _) = launch_tokens(sandbox).await;
    token.expires_in = Some(0);
    let smart = session(sandbox, token, Arc::new(MemoryTokenStore::new())).await;
    let fhir = fhir_core::Client::builder(sandbox.fhir_base_url())
        .auth(smart)
        .build()
        .unwrap();
    let reads: Vec<_> = (0..16)
        .map(|_| {
            let fhir = fhir.clone();
            tokio::spawn(async move {
                fhir.read_json("Patient", "pat-0001")
                    .send()
                    .await
                    .map(|_| ())
            })
        })
        .collect();
    // Two refreshes would present the same rotated token twice and revoke the grant.
    for read in reads {
        read.await.unwrap().unwrap();
    }
}

#[tokio::test]
async fn a_rejected_access_token_is_refreshed_once_and_the_request_retried() {
    let Some(sandbox) = sandbox() else { return };
    let (mut token, _) = launch_tokens(sandbox).await;
    token.access_token = AccessToken::new("not-a-valid-token");
    token.expires_in = Some(3600);
    let smart = session(sandbox, token, Arc::new(MemoryTokenStore::new())).await;
    assert_eq!(read_patient(&smart, "pat-0001").await["id"], "pat-0001");
    assert_ne!(
        smart.access_token().await.unwrap().expose_secret(),
        "not-a-valid-token"
    );
}

#[tokio::test]
async fn backend_services_with_a_client_secret() {
    let Some(sandbox) = sandbox() else { return };
    let smart = BackendServices::with_client_secret(
        Url::parse(sandbox.fhir_base_url()).unwrap(),
        sandbox.var("SMART_BACKEND_SECRET_CLIENT_ID"),
        ClientSecret::new(sandbox.var("SMART_BACKEND_SECRET_CLIENT_SECRET")),
        "system/Observation.rs".parse().unwrap(),
    )
    .http(http())
    .connect()
    .await
    .unwrap();
    let fhir = fhir_core::Client::builder(sandbox.fhir_base_url())
        .auth(smart)
        .build()
        .unwrap();
    let page = fhir
        .search_json("Observation")
        .count(2)
        .send()
        .await
        .unwrap();
    assert_eq!(page.entries().len(), 2);
}

#[tokio::test]
async fn a_launch_is_restored_from_the_store_and_refreshes_with_verified_id_tokens() {
    let Some(sandbox) = sandbox() else { return };
    let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::new());
    let scope = "openid fhirUser launch/patient patient/*.rs offline_access";
    let client_id = sandbox.var("SMART_PUBLIC_CLIENT_ID");
    let launch = app(sandbox, client_id, scope).store(Arc::clone(&store), "e2e-user");
    let request = launch.standalone().await.unwrap();
    let callback = log_in(sandbox, &request.url, "practitioner", Some("pat-0042")).await;
    let smart = launch.complete(request.pending, &callback).await.unwrap();
    let saved = serde_json::to_string(&smart.launch_session().unwrap()).unwrap();
    let first_id_token = smart.id_token().unwrap();
    drop(smart);

    // A new AppLaunch (a new process, say) restores the launch in one call.
    let session = serde_json::from_str(&saved).unwrap();
    let restored = app(sandbox, client_id, scope)
        .store(Arc::clone(&store), "e2e-user")
        .restore(&session)
        .await
        .unwrap();
    assert_eq!(restored.patient_id().as_deref(), Some("pat-0042"));
    assert_eq!(restored.fhir_user().unwrap().id, "prac-0001");
    // The server rotates refresh tokens and revokes the grant on reuse.
    restored.refresh().await.unwrap();
    restored.refresh().await.unwrap();
    let user = restored.fhir_user().unwrap();
    assert_eq!(
        (user.resource_type.as_str(), user.id.as_str()),
        ("Practitioner", "prac-0001")
    );
    assert_ne!(
        restored.id_token().unwrap(),
        first_id_token,
        "the refreshed id_token was verified and kept"
    );
    assert_eq!(read_patient(&restored, "pat-0042").await["id"], "pat-0042");
    let again = app(sandbox, client_id, scope)
        .store(Arc::clone(&store), "e2e-user")
        .restore(&session)
        .await
        .unwrap();
    again.refresh().await.unwrap();
    assert_eq!(read_patient(&again, "pat-0042").await["id"], "pat-0042");
}
