//! Auth costs of `SmartClient` as a `fhir_core::AuthProvider`:
//!
//! * `cached_token`: one `authorization` call with a valid cached token, next to the fixed
//!   `fhir_core::BearerToken` in the same run (budget: the difference is under 1 µs);
//! * `expired_token_1000`: 1,000 concurrent requests arrive with an expired token; the time
//!   until every one has its new token. Exactly one token request may reach the server: the
//!   local token endpoint counts them and the benchmark fails on any other number.
//!
//! ```text
//! cargo bench -p fhir-smart --bench auth
//! ```

// Benchmarks fail loudly on setup errors and on a broken single-flight guarantee.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    unreachable_pub
)]

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use fhir_core::auth::{AuthProvider, AuthRequest};
use fhir_core::http::Method;
use fhir_core::{BearerToken, Url};
use fhir_smart::client_auth::{ClientAuth, ClientCredentials};
use fhir_smart::token::TokenResponse;
use fhir_smart::{HttpClient, MemoryTokenStore, SmartClient};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const CONCURRENT: usize = 1_000;

/// A token endpoint that counts the token requests it answers.
#[derive(Clone, Default)]
struct CountingTokenEndpoint {
    calls: Arc<AtomicUsize>,
}

impl Respond for CountingTokenEndpoint {
    fn respond(&self, _request: &Request) -> ResponseTemplate {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        ResponseTemplate::new(200).set_body_json(json!({
            "access_token": format!("at-{n}"),
            "token_type": "Bearer",
            "expires_in": 3600,
            "refresh_token": format!("rt-{n}"),
            "scope": "patient/*.rs offline_access"
        }))
    }
}

fn token(expires_in: u64) -> TokenResponse {
    let body = json!({
        "access_token": "at-0",
        "token_type": "Bearer",
        "expires_in": expires_in,
        "refresh_token": "rt-0",
        "scope": "patient/*.rs offline_access",
        "patient": "p-123"
    });
    TokenResponse::from_json(body.to_string().as_bytes()).unwrap()
}

/// An App Launch client holding `token`, with its own store, renewing at `server`.
async fn smart_client(server: &MockServer, token: TokenResponse) -> SmartClient {
    let fhir_base = Url::parse(&format!("{}/fhir", server.uri())).unwrap();
    let token_endpoint = Url::parse(&format!("{}/auth/token", server.uri())).unwrap();
    SmartClient::builder(
        fhir_base,
        token_endpoint,
        ClientCredentials::new("bench-app", ClientAuth::Public),
    )
    .http(HttpClient::new().allow_loopback_http(true))
    .store(Arc::new(MemoryTokenStore::new()))
    .token(token)
    .build()
    .await
    .unwrap()
}

fn benches(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let endpoint = CountingTokenEndpoint::default();
    let server = runtime.block_on(async {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/auth/token"))
            .respond_with(endpoint.clone())
            .mount(&server)
            .await;
        server
    });
    let url = Url::parse(&format!("{}/fhir/Patient/p-123", server.uri())).unwrap();
    let get = Method::GET;

    let mut group = c.benchmark_group("cached_token");
    let bearer: Arc<dyn AuthProvider> = Arc::new(BearerToken::new("at-0").unwrap());
    let smart: Arc<dyn AuthProvider> =
        Arc::new(runtime.block_on(smart_client(&server, token(3600))));
    for (name, provider) in [
        ("BearerToken/authorization", &bearer),
        ("SmartClient/authorization", &smart),
    ] {
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter(|| async {
                let header = provider
                    .authorization(AuthRequest::new(&get, &url))
                    .await
                    .unwrap();
                black_box(header.unwrap());
            });
        });
    }
    // The path `fhir_core::Client` takes first: the header at hand, without a future.
    for (name, provider) in [
        ("BearerToken/cached_authorization", &bearer),
        ("SmartClient/cached_authorization", &smart),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                black_box(
                    provider
                        .cached_authorization(AuthRequest::new(&get, &url))
                        .unwrap(),
                )
            });
        });
    }
    group.finish();
    assert_eq!(
        endpoint.calls.load(Ordering::SeqCst),
        0,
        "a valid cached token needs no token request"
    );

    let mut group = c.benchmark_group("expired_token_1000");
    group.sample_size(20);
    group.bench_function("SmartClient", |b| {
        b.to_async(&runtime).iter_custom(|iterations| {
            let (server, endpoint, url) = (&server, &endpoint, &url);
            async move {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    let smart = Arc::new(smart_client(server, token(0)).await);
                    let before = endpoint.calls.load(Ordering::SeqCst);
                    let start = Instant::now();
                    let tasks: Vec<_> = (0..CONCURRENT)
                        .map(|_| {
                            let (smart, url) = (Arc::clone(&smart), url.clone());
                            tokio::spawn(async move {
                                smart
                                    .authorization(AuthRequest::new(&Method::GET, &url))
                                    .await
                                    .unwrap()
                                    .unwrap()
                            })
                        })
                        .collect();
                    for task in tasks {
                        let header = task.await.unwrap();
                        assert_ne!(
                            header.as_bytes(),
                            b"Bearer at-0",
                            "the expired token was sent"
                        );
                    }
                    total += start.elapsed();
                    let token_requests = endpoint.calls.load(Ordering::SeqCst) - before;
                    assert_eq!(
                        token_requests, 1,
                        "{CONCURRENT} concurrent callers must cause exactly one token request"
                    );
                }
                total
            }
        });
    });
    group.finish();
}

criterion_group!(auth, benches);
criterion_main!(auth);
