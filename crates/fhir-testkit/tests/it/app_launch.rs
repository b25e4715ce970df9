//! App Launch: authorize without a UI, PKCE, code exchange, refresh rotation, EHR launch.

use base64::Engine as _;
use fhir_testkit::{ClientRegistration, Sandbox};
use sha2::{Digest as _, Sha256};
use url::Url;

use crate::support::*;

const REDIRECT: &str = "http://127.0.0.1:7777/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

fn authorize_url(sandbox: &Sandbox, client_id: &str, scope: &str, launch: Option<&str>) -> String {
    let challenge =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER));
    let mut url = Url::parse(&sandbox.authorize_endpoint()).unwrap();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("scope", scope)
        .append_pair("state", "st-123")
        .append_pair("aud", &sandbox.fhir_base_url())
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    if let Some(launch) = launch {
        url.query_pairs_mut().append_pair("launch", launch);
    }
    url.to_string()
}

fn param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

async fn exchange(
    sandbox: &Sandbox,
    code: &str,
    verifier: &str,
    secret: Option<&str>,
) -> (u16, serde_json::Value) {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier),
    ];
    let basic = secret.map(|secret| ("conf", secret));
    if secret.is_none() {
        form.push(("client_id", "pub"));
    }
    token_request(&sandbox.token_endpoint(), &form, basic).await
}

#[tokio::test]
async fn standalone_launch_with_pkce_refresh_and_rotation() {
    let sandbox = Sandbox::builder().default_patient("pat-007").start().await;
    sandbox.register_client(ClientRegistration::public("pub", [REDIRECT]));
    let callback = sandbox
        .approve(&authorize_url(
            &sandbox,
            "pub",
            "launch/patient openid fhirUser patient/*.rs offline_access",
            None,
        ))
        .await
        .unwrap();
    assert_eq!(callback.path(), "/callback");
    assert_eq!(param(&callback, "state").as_deref(), Some("st-123"));
    let code = param(&callback, "code").unwrap();

    let (status, body) = exchange(
        &sandbox,
        &code,
        "wrong-verifier-wrong-verifier-wrong-verifier",
        None,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _) = exchange(&sandbox, &code, VERIFIER, None).await;
    assert_eq!(
        status, 400,
        "a code is single-use, even after a failed exchange"
    );

    let callback = sandbox
        .approve(&authorize_url(
            &sandbox,
            "pub",
            "launch/patient openid fhirUser patient/*.rs offline_access",
            None,
        ))
        .await
        .unwrap();
    let (status, tokens) =
        exchange(&sandbox, &param(&callback, "code").unwrap(), VERIFIER, None).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["patient"], "pat-007");
    let id_token = tokens["id_token"].as_str().unwrap();
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(id_token.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["fhirUser"], "Patient/pat-007");
    assert_eq!(claims["aud"], "pub");

    let first_refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let refresh = |token: String| {
        let endpoint = sandbox.token_endpoint();
        async move {
            token_request(
                &endpoint,
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &token),
                    ("client_id", "pub"),
                ],
                None,
            )
            .await
        }
    };
    let (status, rotated) = refresh(first_refresh.clone()).await;
    assert_eq!(status, 200);
    let second_refresh = rotated["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second_refresh, first_refresh, "refresh tokens rotate");
    assert!(
        rotated.get("patient").is_none(),
        "context is not repeated on refresh"
    );
    let (status, body) = refresh(first_refresh).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "a rotated token is dead"
    );
    let (status, _) = refresh(second_refresh).await;
    assert_eq!(status, 400, "reusing a rotated token revokes the grant");
}

#[tokio::test]
async fn ehr_launch_carries_the_launch_context() {
    let sandbox = Sandbox::start().await;
    sandbox.register_client(ClientRegistration::confidential(
        "conf",
        "s3cret",
        [REDIRECT],
    ));
    let launch = sandbox.launch("pat-003", Some("enc-003-1"));
    assert!(launch.contains('+') && launch.contains('/') && launch.contains('='));
    let callback = sandbox
        .approve(&authorize_url(
            &sandbox,
            "conf",
            "launch patient/*.rs",
            Some(&launch),
        ))
        .await
        .unwrap();
    let code = param(&callback, "code").unwrap();
    let (status, body) = exchange(&sandbox, &code, VERIFIER, Some("wrong")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );

    let callback = sandbox
        .approve(&authorize_url(
            &sandbox,
            "conf",
            "launch patient/*.rs",
            Some(&launch),
        ))
        .await
        .unwrap();
    let (status, tokens) = exchange(
        &sandbox,
        &param(&callback, "code").unwrap(),
        VERIFIER,
        Some("s3cret"),
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["patient"], "pat-003");
    assert_eq!(tokens["encounter"], "enc-003-1");
    assert!(
        tokens.get("refresh_token").is_none(),
        "no offline_access, no refresh token"
    );
}

#[tokio::test]
async fn authorize_errors_redirect_with_error_and_unregistered_uris_do_not() {
    let sandbox = Sandbox::start().await;
    sandbox.register_client(ClientRegistration::public("pub", [REDIRECT]));
    let url = authorize_url(&sandbox, "pub", "patient/*.rs", Some("no-such-launch"));
    let callback = sandbox.approve(&url).await.unwrap();
    assert_eq!(
        param(&callback, "error").as_deref(),
        Some("invalid_request")
    );
    assert_eq!(param(&callback, "state").as_deref(), Some("st-123"));

    let wrong_aud =
        authorize_url(&sandbox, "pub", "patient/*.rs", None).replace("aud=http", "aud=https");
    let callback = sandbox.approve(&wrong_aud).await.unwrap();
    assert_eq!(
        param(&callback, "error").as_deref(),
        Some("invalid_request")
    );

    let no_pkce = authorize_url(&sandbox, "pub", "patient/*.rs", None)
        .replace("code_challenge_method=S256", "code_challenge_method=plain");
    let callback = sandbox.approve(&no_pkce).await.unwrap();
    assert_eq!(
        param(&callback, "error").as_deref(),
        Some("invalid_request")
    );

    let elsewhere = authorize_url(&sandbox, "pub", "patient/*.rs", None).replace("7777", "8888");
    let err = sandbox.approve(&elsewhere).await.unwrap_err();
    assert!(
        matches!(err, fhir_testkit::ApproveError::Refused { status: 400, .. }),
        "{err}"
    );
}
