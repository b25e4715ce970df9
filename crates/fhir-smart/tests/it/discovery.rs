//! Discovery over HTTP: well-known with a base path, Accept header, /metadata fallback.

use fhir_smart::discovery::{ConfigurationSource, Strictness, discover};
use fhir_smart::{Error, HttpClient};
use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::*;

#[tokio::test]
async fn well_known_is_appended_to_a_base_with_a_path() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/apis/fhir/.well-known/smart-configuration"))
        .and(header("accept", "application/json"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "application/json; charset=utf-8")
                .set_body_json(json!({
                    "token_endpoint": "auth/token",
                    "authorization_endpoint": "https://login.example.org/authorize",
                    "grant_types_supported": ["authorization_code"],
                    "capabilities": ["launch-standalone"],
                    "code_challenge_methods_supported": ["S256"]
                })),
        )
        .expect(2)
        .mount(&server)
        .await;
    for base in ["/apis/fhir", "/apis/fhir/"] {
        let base = url::Url::parse(&format!("{}{base}", server.uri())).unwrap();
        let config = discover(&http(), &base, Strictness::Strict).await.unwrap();
        assert_eq!(config.token_endpoint.path(), "/apis/fhir/auth/token");
        assert_eq!(config.source, ConfigurationSource::WellKnown);
    }
}

#[tokio::test]
async fn falls_back_to_the_capability_statement() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/fhir/metadata"))
        .and(header("accept", "application/fhir+json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "resourceType": "CapabilityStatement",
            "rest": [{"mode": "server", "security": {"extension": [{
                "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                "extension": [
                    {"url": "token", "valueUri": format!("{}/auth/token", server.uri())},
                    {"url": "authorize", "valueUrl": format!("{}/auth/authorize", server.uri())}
                ]
            }]}}]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let config = discover(&http(), &fhir_base(&server), Strictness::Lenient)
        .await
        .unwrap();
    assert_eq!(config.source, ConfigurationSource::CapabilityStatement);
    assert_eq!(config.token_endpoint, token_url(&server));
}

#[tokio::test]
async fn non_json_well_known_falls_back_and_both_reasons_are_reported() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/fhir/.well-known/smart-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>login</html>"))
        .mount(&server)
        .await;
    let err = discover(&http(), &fhir_base(&server), Strictness::Lenient)
        .await
        .unwrap_err();
    let Error::Discovery { reason, .. } = &err else {
        panic!("unexpected {err:?}");
    };
    assert!(reason.contains("not JSON"), "{reason}");
    assert!(reason.contains("metadata"), "{reason}");
}

#[tokio::test]
async fn an_invalid_document_is_reported_not_masked() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/fhir/.well-known/smart-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_endpoint": "https://h/token",
            "capabilities": ["launch-ehr"]
        })))
        .mount(&server)
        .await;
    let err = discover(&http(), &fhir_base(&server), Strictness::Lenient)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("authorization_endpoint"), "{err}");
}

#[tokio::test]
async fn plain_http_discovery_needs_opt_in() {
    let server = server().await;
    let err = discover(&HttpClient::new(), &fhir_base(&server), Strictness::Lenient)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InsecureUrl { .. }));
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn discovery_cache_fetches_once_until_refreshed() {
    use std::time::Duration;

    use fhir_smart::discovery::DiscoveryCache;
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/fhir/.well-known/smart-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(smart_configuration(&server)))
        .mount(&server)
        .await;
    let count = || async {
        server
            .received_requests()
            .await
            .unwrap()
            .iter()
            .filter(|r| r.url.path().ends_with("smart-configuration"))
            .count()
    };
    let cache = DiscoveryCache::new(Duration::from_secs(300));
    let base = fhir_base(&server);
    cache
        .get(&http(), &base, Strictness::Lenient)
        .await
        .unwrap();
    cache
        .get(&http(), &base, Strictness::Lenient)
        .await
        .unwrap();
    assert_eq!(count().await, 1);
    cache
        .refresh(&http(), &base, Strictness::Lenient)
        .await
        .unwrap();
    assert_eq!(count().await, 2);
    let no_cache = DiscoveryCache::new(Duration::ZERO);
    no_cache
        .get(&http(), &base, Strictness::Lenient)
        .await
        .unwrap();
    no_cache
        .get(&http(), &base, Strictness::Lenient)
        .await
        .unwrap();
    assert_eq!(count().await, 4);
}

#[tokio::test]
async fn oversized_documents_are_refused() {
    let server = server().await;
    let huge = format!(
        "{{\"token_endpoint\":\"https://h/t\",\"pad\":\"{}\"}}",
        "x".repeat(2 << 20)
    );
    Mock::given(method("GET"))
        .and(path("/fhir/.well-known/smart-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_string(huge))
        .mount(&server)
        .await;
    let err = discover(&http(), &fhir_base(&server), Strictness::Lenient)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("smart-configuration"), "{err}");
    let Error::Discovery { reason, .. } = err else {
        panic!()
    };
    assert!(reason.contains("exceeds"), "{reason}");
}

#[tokio::test]
async fn discovery_cache_keys_on_strictness() {
    use std::time::Duration;

    use fhir_smart::discovery::DiscoveryCache;
    let server = server().await;
    let mut lax = smart_configuration(&server);
    lax.as_object_mut()
        .unwrap()
        .remove("code_challenge_methods_supported");
    Mock::given(method("GET"))
        .and(path("/fhir/.well-known/smart-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(lax))
        .mount(&server)
        .await;
    let cache = DiscoveryCache::new(Duration::from_secs(300));
    let base = fhir_base(&server);
    let lenient = cache
        .get(&http(), &base, Strictness::Lenient)
        .await
        .unwrap();
    assert!(!lenient.warnings.is_empty());
    // The lenient result must not answer a strict lookup.
    match cache.get(&http(), &base, Strictness::Strict).await {
        Err(Error::Discovery { reason, .. }) => {
            assert!(
                reason.contains("code_challenge_methods_supported"),
                "{reason}"
            )
        }
        other => panic!("expected a strict discovery error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_discovery_does_not_block_other_bases() {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use fhir_smart::discovery::DiscoveryCache;
    let slow = server().await;
    Mock::given(method("GET"))
        .and(path("/fhir/.well-known/smart-configuration"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(smart_configuration(&slow))
                .set_delay(Duration::from_secs(3)),
        )
        .mount(&slow)
        .await;
    let fast = server().await;
    Mock::given(method("GET"))
        .and(path("/fhir/.well-known/smart-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(smart_configuration(&fast)))
        .mount(&fast)
        .await;
    let cache = Arc::new(DiscoveryCache::new(Duration::from_secs(300)));
    let pending = {
        let cache = Arc::clone(&cache);
        let base = fhir_base(&slow);
        tokio::spawn(async move { cache.get(&http(), &base, Strictness::Lenient).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    cache
        .get(&http(), &fhir_base(&fast), Strictness::Lenient)
        .await
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "waited {:?} for another base's discovery",
        started.elapsed()
    );
    pending.await.unwrap().unwrap();
}
