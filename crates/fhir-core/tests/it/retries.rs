//! Retries: which requests, on which failures, and how long the client waits.

use std::time::Duration;

use fhir_core::{Client, ErrorKind, RetryPolicy};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::*;

fn no_jitter() -> RetryPolicy {
    RetryPolicy::default()
        .jitter(false)
        .initial_backoff(Duration::from_millis(100))
        .max_retries(3)
}

#[tokio::test]
async fn get_is_retried_on_503_honouring_retry_after_seconds() {
    let server = server().await;
    Mock::given(path("/fhir/Patient/1"))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "7"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/fhir/Patient/1"))
        .respond_with(fhir_json(&patient_json("1", "1")))
        .mount(&server)
        .await;
    let timer = FakeTimer::default();
    let client = builder(&server, &timer)
        .retry_policy(no_jitter())
        .build()
        .unwrap();

    client.read::<Patient>("1").send().await.unwrap();

    assert_eq!(received(&server).await.len(), 2);
    assert_eq!(timer.sleeps(), [Duration::from_secs(7)]);
}

#[tokio::test]
async fn retry_after_as_an_http_date_is_relative_to_the_clock() {
    let server = server().await;
    // FakeTimer's now is Mon, 01 Jan 2024 00:00:00 GMT.
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "Mon, 01 Jan 2024 00:00:12 GMT"),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(fhir_json(&patient_json("1", "1")))
        .mount(&server)
        .await;
    let timer = FakeTimer::default();
    let client = builder(&server, &timer).build().unwrap();
    client.read_json("Patient", "1").send().await.unwrap();
    assert_eq!(timer.sleeps(), [Duration::from_secs(12)]);
}

#[tokio::test]
async fn without_retry_after_the_backoff_doubles_until_retries_run_out() {
    let server = server().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503).set_body_json(outcome("transient", "down")))
        .mount(&server)
        .await;
    let timer = FakeTimer::default();
    let client = builder(&server, &timer)
        .retry_policy(no_jitter())
        .build()
        .unwrap();

    let err = client.read_json("Patient", "1").send().await.unwrap_err();

    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(err.operation_outcome().unwrap().summary(), "down");
    assert_eq!(
        received(&server).await.len(),
        4,
        "one attempt and three retries"
    );
    assert_eq!(
        timer.sleeps(),
        [
            Duration::from_millis(100),
            Duration::from_millis(200),
            Duration::from_millis(400)
        ]
    );
}

#[tokio::test]
async fn a_retry_after_beyond_the_cap_is_reported_not_waited_for() {
    let server = server().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "3600"))
        .mount(&server)
        .await;
    let timer = FakeTimer::default();
    let client = builder(&server, &timer).build().unwrap();
    let err = client.read_json("Patient", "1").send().await.unwrap_err();
    assert!(err.is_too_many_requests());
    assert_eq!(err.retry_after(), Some(Duration::from_secs(3600)));
    assert!(timer.sleeps().is_empty());
    assert_eq!(received(&server).await.len(), 1);
}

#[tokio::test]
async fn post_create_is_not_retried_on_503() {
    let server = server().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let timer = FakeTimer::default();
    let client = builder(&server, &timer).build().unwrap();
    let err = client
        .create(&json!({"resourceType": "Patient"}))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_server_error());
    assert_eq!(received(&server).await.len(), 1);
    assert!(timer.sleeps().is_empty());
}

#[tokio::test]
async fn post_create_is_retried_on_429_because_it_was_not_processed() {
    let server = server().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).insert_header("location", "Patient/1/_history/1"))
        .mount(&server)
        .await;
    let timer = FakeTimer::default();
    let client = builder(&server, &timer).build().unwrap();
    let response = client
        .create(&json!({"resourceType": "Patient"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.id(), Some("1"));
    let requests = received(&server).await;
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[0].body, requests[1].body,
        "the same body is sent again"
    );
    assert_eq!(timer.sleeps(), [Duration::from_secs(1)]);
}

#[tokio::test]
async fn put_and_delete_are_retried_as_idempotent() {
    let server = server().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .respond_with(fhir_json(&patient_json("1", "2")))
        .mount(&server)
        .await;
    let client = client(&server);
    client.update(&patient_json("1", "1")).send().await.unwrap();
    assert_eq!(received(&server).await.len(), 2);
}

#[tokio::test]
async fn other_statuses_are_never_retried() {
    let server = server().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let err = client(&server)
        .read_json("Patient", "1")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_server_error());
    assert_eq!(received(&server).await.len(), 1);
}

/// A base URL on a port where nothing listens.
async fn closed_port_base() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}/fhir")
}

#[tokio::test]
async fn connection_failures_are_retried_then_reported_as_transport_errors() {
    let timer = FakeTimer::default();
    let client = Client::builder(&closed_port_base().await)
        .timer(timer.clone())
        .retry_policy(no_jitter().max_retries(2))
        .build()
        .unwrap();

    let err = client.read_json("Patient", "1").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport);
    assert!(err.is_transport());
    assert_eq!(err.status(), None);
    assert_eq!(timer.sleeps().len(), 2);

    // A POST whose connection never opened was never seen by a server: it is retried too.
    let err = client
        .create(&json!({"resourceType": "Patient"}))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_transport());
    assert_eq!(timer.sleeps().len(), 4);
}

#[tokio::test]
async fn a_slow_server_times_out() {
    let server = server().await;
    Mock::given(method("GET"))
        .respond_with(fhir_json(&patient_json("1", "1")).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let client = builder(&server, &FakeTimer::default())
        .timeout(Some(Duration::from_millis(100)))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let err = client.read_json("Patient", "1").send().await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Timeout);
}
