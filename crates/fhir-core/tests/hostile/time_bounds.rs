//! Item 4: every call ends in bounded time, even with `timeout(None)`.

use std::time::{Duration, Instant};

use fhir_core::{Client, ErrorKind, RetryPolicy};

use crate::server::{Hostile, Reply, stall, trickle};
use crate::support::{VirtualTimer, bounded, builder};

fn json_headers() -> Vec<(&'static str, String)> {
    vec![("content-type", "application/fhir+json".to_owned())]
}

#[tokio::test]
async fn a_body_that_stalls_fails_after_the_idle_timeout() {
    let _serial = crate::support::serial().await;
    let server = Hostile::start(|_, _| Reply::stream(200, json_headers(), stall(b"{"))).await;
    let client = Client::builder(&server.url("/fhir"))
        .timeout(None)
        .read_idle_timeout(Some(Duration::from_millis(300)))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();

    let started = Instant::now();
    let err = bounded(client.read_json("Patient", "1").send())
        .await
        .unwrap_err();

    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_server_that_never_answers_fails_after_the_idle_timeout() {
    let _serial = crate::support::serial().await;
    let server = Hostile::start(|_, _| Reply::Never).await;
    let client = Client::builder(&server.url("/fhir"))
        .timeout(None)
        .read_idle_timeout(Some(Duration::from_millis(300)))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();

    let err = bounded(client.read_json("Patient", "1").send())
        .await
        .unwrap_err();

    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
}

#[tokio::test]
async fn a_trickle_that_never_idles_is_stopped_by_the_deadline() {
    let _serial = crate::support::serial().await;
    // One byte every 50 ms: never idle for long, never done.
    let server = Hostile::start(|_, _| {
        Reply::stream(200, json_headers(), trickle(Duration::from_millis(50)))
    })
    .await;
    let client = Client::builder(&server.url("/fhir"))
        .timeout(None)
        .read_idle_timeout(Some(Duration::from_secs(5)))
        .deadline(Some(Duration::from_millis(800)))
        .build()
        .unwrap();

    let started = Instant::now();
    let err = bounded(client.read_json("Patient", "1").send())
        .await
        .unwrap_err();

    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(err.to_string().contains("deadline"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn retry_after_waits_count_against_the_deadline() {
    let _serial = crate::support::serial().await;
    let server = Hostile::start(|_, _| Reply::status(503).with_header("retry-after", "20")).await;
    let timer = VirtualTimer::default();
    let client = builder(&server.url("/fhir"), &timer)
        .deadline(Some(Duration::from_secs(50)))
        .retry_policy(RetryPolicy::default().max_retries(10))
        .build()
        .unwrap();

    let err = bounded(client.read_json("Patient", "1").send())
        .await
        .unwrap_err();

    // 20 s + 20 s fit in 50 s; a third wait would not.
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503), "{err}");
    assert_eq!(timer.sleeps(), [Duration::from_secs(20); 2]);
    assert_eq!(server.seen().len(), 3);
}

#[tokio::test]
async fn the_deadline_can_be_lifted() {
    let _serial = crate::support::serial().await;
    // Three answers of 503 with `Retry-After: 200`, then 200: 600 s of waits, more than the
    // default deadline of 5 minutes allows.
    let answers = |_: &crate::server::Seen, n: usize| {
        if n < 3 {
            Reply::status(503).with_header("retry-after", "200")
        } else {
            Reply::json(
                200,
                &serde_json::json!({"resourceType": "Patient", "id": "1"}),
            )
        }
    };
    let patient_retries = RetryPolicy::default().max_retry_after(Duration::from_secs(600));

    let lifted_server = Hostile::start(answers).await;
    let timer = VirtualTimer::default();
    let lifted = builder(&lifted_server.url("/fhir"), &timer)
        .retry_policy(patient_retries.clone())
        .deadline(None)
        .build()
        .unwrap();
    bounded(lifted.read_json("Patient", "1").send())
        .await
        .unwrap();
    assert_eq!(timer.sleeps().len(), 3);

    let default_server = Hostile::start(answers).await;
    let timer = VirtualTimer::default();
    let defaults = builder(&default_server.url("/fhir"), &timer)
        .retry_policy(patient_retries)
        .build()
        .unwrap();
    let err = bounded(defaults.read_json("Patient", "1").send())
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(
        timer.sleeps().len(),
        1,
        "a second wait of 200 s passes 300 s"
    );
}

#[tokio::test]
async fn extreme_settings_do_not_panic() {
    let _serial = crate::support::serial().await;
    let server = Hostile::start(|_, n| {
        if n == 0 {
            Reply::status(503).with_header("retry-after", u64::MAX.to_string())
        } else {
            Reply::json(
                200,
                &serde_json::json!({"resourceType": "Patient", "id": "1"}),
            )
        }
    })
    .await;
    let client = builder(&server.url("/fhir"), &VirtualTimer::default())
        .deadline(Some(Duration::MAX))
        .retry_policy(RetryPolicy::default().max_retry_after(Duration::MAX))
        .build()
        .unwrap();

    // The absurd wait does not fit any deadline: the 503 is returned.
    let result = bounded(client.read_json("Patient", "1").send()).await;
    assert!(result.is_ok() || result.unwrap_err().status().is_some());
}
