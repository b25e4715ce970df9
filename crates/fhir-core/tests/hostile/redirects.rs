//! Item 2: the client's own redirect policy, checked hop by hop.

use fhir_core::{BearerToken, Client, ErrorKind};
use serde_json::json;

use crate::server::{Hostile, Reply, tls_client_builder};

const TOKEN: &str = "redirect-canary-token";

fn patient(id: &str) -> Reply {
    Reply::json(200, &json!({"resourceType": "Patient", "id": id}))
}

fn authed(base: &str) -> fhir_core::ClientBuilder {
    Client::builder(base).auth(BearerToken::new(TOKEN).unwrap())
}

#[tokio::test]
async fn a_redirect_outside_the_base_path_on_the_same_host_gets_no_token() {
    let _serial = crate::support::serial().await;
    let server = Hostile::start(|seen, _| match seen.uri.path() {
        "/fhir/Patient/1" => Reply::redirect(307, "/other/Patient/1"),
        _ => patient("1"),
    })
    .await;
    let client = authed(&server.url("/fhir")).build().unwrap();

    let patient = client.read_json("Patient", "1").send().await.unwrap();

    assert_eq!(patient.resource()["id"], "1");
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        seen[0].header("authorization"),
        Some(&*format!("Bearer {TOKEN}"))
    );
    assert_eq!(seen[1].path_and_query(), "/other/Patient/1");
    assert_eq!(
        seen[1].header("authorization"),
        None,
        "the token left the base"
    );
}

#[tokio::test]
async fn a_chain_that_left_the_base_never_regains_the_token() {
    let _serial = crate::support::serial().await;
    let server = Hostile::start(|seen, _| match seen.uri.path() {
        "/fhir/Patient/1" => Reply::redirect(302, "/outside/hop"),
        "/outside/hop" => Reply::redirect(302, "/fhir/Patient/2"),
        _ => patient("2"),
    })
    .await;
    let client = authed(&server.url("/fhir")).build().unwrap();

    client.read_json("Patient", "1").send().await.unwrap();

    let auth: Vec<bool> = server
        .seen()
        .iter()
        .map(|seen| seen.header("authorization").is_some())
        .collect();
    // The way back under the base was chosen by a host outside it: no token there either.
    assert_eq!(auth, [true, false, false]);
}

#[tokio::test]
async fn https_never_redirects_to_http() {
    let _serial = crate::support::serial().await;
    let plain = Hostile::start(|_, _| patient("1")).await;
    let target = plain.url("/fhir/Patient/1");
    let tls = Hostile::start_tls(move |_, _| Reply::redirect(301, target.clone())).await;
    let client = authed(&tls.url("/fhir"))
        .http_client_builder(tls_client_builder())
        .build()
        .unwrap();

    let err = client.read_json("Patient", "1").send().await.unwrap_err();

    assert_eq!(err.kind(), ErrorKind::Redirect, "{err}");
    assert!(err.to_string().contains("https to plain http"), "{err}");
    assert_eq!(tls.seen().len(), 1);
    assert!(plain.seen().is_empty(), "the plain-http server was reached");
}

#[tokio::test]
async fn default_headers_stay_on_the_base_origin() {
    let _serial = crate::support::serial().await;
    let elsewhere = Hostile::start(|_, _| patient("1")).await;
    let target = elsewhere.url("/files/1");
    let server = Hostile::start(move |seen, _| match seen.uri.path() {
        "/fhir/Patient/1" => Reply::redirect(302, "/fhir/Patient/2"),
        _ => Reply::redirect(302, target.clone()),
    })
    .await;
    let client = authed(&server.url("/fhir"))
        .default_header("x-api-key", "tenant-key-canary")
        .build()
        .unwrap();

    client.read_json("Patient", "1").send().await.unwrap();

    for seen in server.seen() {
        assert_eq!(seen.header("x-api-key"), Some("tenant-key-canary"));
    }
    let other = elsewhere.seen();
    assert_eq!(other.len(), 1);
    assert_eq!(other[0].header("x-api-key"), None);
    assert_eq!(other[0].header("authorization"), None);
    assert!(
        other[0]
            .header("user-agent")
            .is_some_and(|ua| ua.starts_with("fhir-core/"))
    );
}

#[tokio::test]
async fn a_body_is_never_sent_again_to_another_origin() {
    let _serial = crate::support::serial().await;
    let elsewhere =
        Hostile::start(|_, _| Reply::json(201, &json!({"resourceType": "Patient", "id": "x"})))
            .await;
    for status in [307, 308] {
        let target = elsewhere.url("/fhir/Patient");
        let server = Hostile::start(move |_, _| Reply::redirect(status, target.clone())).await;
        let client = authed(&server.url("/fhir")).build().unwrap();

        let err = client
            .create(&json!({"resourceType": "Patient", "name": [{"family": "Secret"}]}))
            .send()
            .await
            .unwrap_err();

        assert_eq!(err.kind(), ErrorKind::Redirect, "{status}: {err}");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(server.seen().len(), 1);
    }
    assert!(
        elsewhere.seen().is_empty(),
        "the body went to another origin"
    );
}

#[tokio::test]
async fn a_body_follows_a_307_on_the_same_origin() {
    let _serial = crate::support::serial().await;
    let server = Hostile::start(|seen, _| match seen.uri.path() {
        "/fhir/Patient" => Reply::redirect(307, "/fhir/v2/Patient"),
        _ => Reply::json(201, &json!({"resourceType": "Patient", "id": "p"})),
    })
    .await;
    let client = authed(&server.url("/fhir")).build().unwrap();

    client
        .create(&json!({"resourceType": "Patient"}))
        .send()
        .await
        .unwrap();

    let seen = server.seen();
    assert_eq!(seen[1].method, http::Method::POST);
    assert_eq!(seen[1].body, seen[0].body);
    assert!(
        seen[1].header("authorization").is_some(),
        "still under the base"
    );
}

#[tokio::test]
async fn endless_redirects_stop_at_the_limit() {
    let _serial = crate::support::serial().await;
    let server =
        Hostile::start(|_, n| Reply::redirect(302, format!("/fhir/Patient/{}", n + 1))).await;
    let client = Client::builder(&server.url("/fhir"))
        .max_redirects(4)
        .build()
        .unwrap();

    let err = client.read_json("Patient", "0").send().await.unwrap_err();

    assert_eq!(err.kind(), ErrorKind::Redirect);
    assert_eq!(server.seen().len(), 5, "the first request and 4 hops");
}

#[tokio::test]
async fn the_policy_replaces_the_one_of_a_supplied_builder() {
    let _serial = crate::support::serial().await;
    let elsewhere = Hostile::start(|_, _| patient("1")).await;
    let target = elsewhere.url("/fhir/Patient");
    let server = Hostile::start(move |_, _| Reply::redirect(308, target.clone())).await;
    let permissive = reqwest::Client::builder().redirect(reqwest::redirect::Policy::limited(10));
    let client = authed(&server.url("/fhir"))
        .http_client_builder(permissive)
        .build()
        .unwrap();

    let err = client
        .create(&json!({"resourceType": "Patient"}))
        .send()
        .await
        .unwrap_err();

    assert_eq!(err.kind(), ErrorKind::Redirect);
    assert!(elsewhere.seen().is_empty());
}

#[tokio::test]
async fn dot_segments_that_servers_still_honour_get_no_token() {
    let _serial = crate::support::serial().await;
    for location in [
        "/fhir/..;/admin/x",
        "/fhir/..%2Fadmin/x",
        "/fhir/%2e%2e%2fadmin/x",
    ] {
        let server = Hostile::start(move |seen, _| match seen.uri.path() {
            "/fhir/Patient/1" => Reply::redirect(302, location),
            _ => patient("1"),
        })
        .await;
        let client = authed(&server.url("/fhir")).build().unwrap();

        client.read_json("Patient", "1").send().await.unwrap();

        let seen = server.seen();
        assert_eq!(seen.len(), 2, "{location}");
        assert_eq!(
            seen[1].header("authorization"),
            None,
            "{location} got the token"
        );
    }
}

#[tokio::test]
async fn request_headers_stay_with_the_request() {
    let _serial = crate::support::serial().await;
    let elsewhere = Hostile::start(|_, _| patient("x")).await;
    let target = elsewhere.url("/done");
    let server = Hostile::start(move |_, _| Reply::redirect(303, target.clone())).await;
    let client = authed(&server.url("/fhir")).build().unwrap();

    client
        .create(&json!({"resourceType": "Patient"}))
        .if_none_exist(fhir_core::SearchParams::new().with("identifier", "urn:ssn|123-45-6789"))
        .send()
        .await
        .unwrap();

    assert!(server.seen()[0].header("if-none-exist").is_some());
    let other = &elsewhere.seen()[0];
    assert_eq!(other.method, http::Method::GET);
    assert_eq!(
        other.header("if-none-exist"),
        None,
        "patient data went to another origin"
    );
    assert_eq!(other.header("content-type"), None);
}

/// Records the URLs it is asked about.
#[derive(Debug, Default)]
struct Recording(std::sync::Mutex<Vec<String>>);

impl fhir_core::AuthProvider for Recording {
    fn authorization<'a>(
        &'a self,
        request: fhir_core::auth::AuthRequest<'a>,
    ) -> fhir_core::auth::BoxFuture<'a, Result<Option<http::HeaderValue>, fhir_core::auth::AuthError>>
    {
        self.0
            .lock()
            .unwrap()
            .push(format!("authorization {}", request.url));
        Box::pin(async { Ok(Some(http::HeaderValue::from_static("Bearer r"))) })
    }

    fn on_unauthorized<'a>(
        &'a self,
        request: fhir_core::auth::AuthRequest<'a>,
        _: fhir_core::auth::Unauthorized<'a>,
    ) -> fhir_core::auth::BoxFuture<'a, Result<bool, fhir_core::auth::AuthError>> {
        self.0
            .lock()
            .unwrap()
            .push(format!("unauthorized {}", request.url));
        Box::pin(async { Ok(false) })
    }
}

#[tokio::test]
async fn the_provider_hears_nothing_of_a_chain_that_started_outside_the_base() {
    let _serial = crate::support::serial().await;
    let server = Hostile::start(|_, _| Reply::status(401)).await;
    let target = server.url("/fhir/Patient/1");
    let elsewhere = Hostile::start(move |_, _| Reply::redirect(302, target.clone())).await;
    let recording = std::sync::Arc::new(Recording::default());
    let client = Client::builder(&server.url("/fhir"))
        .auth_shared(recording.clone())
        .build()
        .unwrap();

    let err = client
        .get::<serde_json::Value>(&elsewhere.url("/x"))
        .await
        .unwrap_err();

    assert!(err.is_unauthorized());
    // Neither the URL outside nor the one under the base it redirected to: the chain was
    // outside the credentials' scope from its first hop.
    let asked = recording.0.lock().unwrap().clone();
    assert!(asked.is_empty(), "{asked:?}");
    assert_eq!(server.seen()[0].header("authorization"), None);
    assert_eq!(elsewhere.seen()[0].header("authorization"), None);
}
