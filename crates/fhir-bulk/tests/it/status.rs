//! S1–S10: polling, Retry-After forms and clamping, 429 and transient errors, the manifest,
//! pages, Expires, resume from a status URL, cancel.

use std::time::{Duration, UNIX_EPOCH};

use fhir_bulk::{BulkConfig, BulkError, Event, JobStatus};
use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{
    NOW_SECS, TOKEN, assert_no_canary, bulk, manifest, outcome, sequence, server,
};

fn status_url(server: &MockServer) -> String {
    format!("{}/fhir/bulkstatus/42", server.uri())
}

fn in_progress(progress: &str) -> ResponseTemplate {
    ResponseTemplate::new(202).insert_header("x-progress", progress)
}

fn complete() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(manifest(
        false,
        &[("Patient", "https://files.example/p.ndjson", Some(2))],
    ))
}

fn config() -> BulkConfig {
    BulkConfig::new()
        .retry_after_range(Duration::from_secs(1), Duration::from_secs(120))
        .backoff(Duration::from_secs(2), Duration::from_secs(60))
}

#[tokio::test]
async fn polls_honour_retry_after_seconds_and_dates_then_back_off() {
    let server = server().await;
    let in_30s = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(NOW_SECS + 30));
    Mock::given(method("GET"))
        .and(path("/fhir/bulkstatus/42"))
        .and(header("accept", "application/json"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(sequence([
            in_progress("10%").insert_header("retry-after", "5"),
            in_progress("40%").insert_header("retry-after", in_30s.as_str()),
            in_progress("70%"),
            in_progress("90%"),
            complete().insert_header("x-request-id", "req-done"),
        ]))
        .expect(5)
        .mount(&server)
        .await;
    let (bulk, timer, events) = bulk(&server, config());
    // Resumed from the status URL alone: no kick-off in this run.
    let job = bulk.job(&status_url(&server)).unwrap();
    let manifest = job.wait().await.unwrap();
    assert_eq!(manifest.output[0].count, Some(2));
    assert_eq!(
        timer.sleeps(),
        [5, 30, 8, 16].map(Duration::from_secs),
        "Retry-After seconds, an HTTP date, then backoff (2 s doubling from the third poll)"
    );
    let progress: Vec<_> = events
        .all()
        .into_iter()
        .filter_map(|event| match event {
            Event::Polled { progress, .. } => progress,
            _ => None,
        })
        .collect();
    assert_eq!(progress, ["10%", "40%", "70%", "90%"]);
}

#[tokio::test]
async fn absurd_retry_after_values_are_clamped_not_trusted() {
    let server = server().await;
    let past = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(NOW_SECS - 3600));
    Mock::given(method("GET"))
        .and(path("/fhir/bulkstatus/42"))
        .respond_with(sequence([
            in_progress("a").insert_header("retry-after", "1733550000000"),
            in_progress("b").insert_header("retry-after", "0"),
            in_progress("c").insert_header("retry-after", past.as_str()),
            in_progress("d").insert_header("retry-after", "36000"),
            complete(),
        ]))
        .mount(&server)
        .await;
    let (bulk, timer, _) = bulk(&server, config());
    bulk.job(&status_url(&server))
        .unwrap()
        .wait()
        .await
        .unwrap();
    assert_eq!(timer.sleeps(), [120, 1, 1, 120].map(Duration::from_secs));
}

#[tokio::test]
async fn a_429_and_transient_outcomes_are_retried_not_fatal() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/fhir/bulkstatus/42"))
        .respond_with(sequence([
            ResponseTemplate::new(429).insert_header("retry-after", "7"),
            ResponseTemplate::new(500).set_body_json(outcome("transient", "database busy")),
            ResponseTemplate::new(503),
            complete(),
        ]))
        .expect(4)
        .mount(&server)
        .await;
    let (bulk, timer, events) = bulk(&server, config());
    bulk.job(&status_url(&server))
        .unwrap()
        .wait()
        .await
        .unwrap();
    // Retry-After first, then backoff by transient failures in a row.
    assert_eq!(timer.sleeps(), [7, 4, 8].map(Duration::from_secs));
    let retries = events
        .all()
        .iter()
        .filter(|event| matches!(event, Event::Retry { .. }))
        .count();
    assert_eq!(retries, 3);
}

#[tokio::test]
async fn a_failed_job_is_a_typed_error_with_its_outcome() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/fhir/bulkstatus/42"))
        .respond_with(ResponseTemplate::new(500).set_body_json(
            json!({"resourceType": "OperationOutcome", "issue": [
                {"severity": "error", "code": "transient", "diagnostics": "busy"},
                {"severity": "fatal", "code": "exception", "diagnostics": "export crashed"}]}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let (bulk, _, _) = bulk(&server, config());
    let err = bulk
        .job(&status_url(&server))
        .unwrap()
        .wait()
        .await
        .unwrap_err();
    assert!(matches!(err, BulkError::JobFailed(_)), "{err:?}");
    assert_eq!(
        err.operation_outcome().unwrap().issues()[1].code,
        "exception"
    );
}

#[tokio::test]
async fn transient_errors_in_a_row_end_after_the_configured_number() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/fhir/bulkstatus/42"))
        .respond_with(ResponseTemplate::new(429))
        .expect(4)
        .mount(&server)
        .await;
    let (bulk, _, _) = bulk(&server, config().max_transient_errors(3));
    let err = bulk
        .job(&status_url(&server))
        .unwrap()
        .wait()
        .await
        .unwrap_err();
    assert!(err.http_error().unwrap().is_too_many_requests(), "{err:?}");
}

#[tokio::test]
async fn a_job_that_outlasts_max_wait_is_a_timeout() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/fhir/bulkstatus/42"))
        .respond_with(in_progress("still").insert_header("retry-after", "60"))
        .mount(&server)
        .await;
    let (bulk, timer, _) = bulk(&server, config().max_wait(Some(Duration::from_secs(300))));
    let err = bulk
        .job(&status_url(&server))
        .unwrap()
        .wait()
        .await
        .unwrap_err();
    assert!(matches!(err, BulkError::JobTimeout { .. }), "{err:?}");
    // 5 × 60 s fit in 300 s; the sixth wait would pass it.
    assert_eq!(timer.sleeps().len(), 5);
}

#[tokio::test]
async fn one_poll_reports_progress_and_expires_is_kept() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/fhir/bulkstatus/42"))
        .respond_with(sequence([
            in_progress(&format!("step 2 of 3 (token={TOKEN})")).insert_header("retry-after", "3"),
            complete().insert_header("expires", "Mon, 01 Jan 2024 06:00:00 GMT"),
        ]))
        .mount(&server)
        .await;
    let (bulk, _, _) = bulk(&server, config());
    let job = bulk.job(&status_url(&server)).unwrap();
    match job.poll().await.unwrap() {
        JobStatus::InProgress {
            progress,
            retry_after,
            ..
        } => {
            let progress = progress.unwrap();
            assert!(progress.starts_with("step 2 of 3"));
            assert_no_canary(&progress);
            assert_eq!(retry_after, Some(Duration::from_secs(3)));
        }
        other => panic!("{other:?}"),
    }
    match job.poll().await.unwrap() {
        JobStatus::Complete(manifest) => {
            assert_eq!(
                manifest.expires,
                Some(UNIX_EPOCH + Duration::from_secs(NOW_SECS + 6 * 3600))
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn manifest_pages_are_followed_and_merged_and_loops_refused() {
    let server = server().await;
    let mut first = manifest(
        false,
        &[("Patient", "https://files.example/p1.ndjson", None)],
    );
    first["link"] =
        json!([{"relation": "next", "url": format!("{}/fhir/bulkstatus/42/page/2", server.uri())}]);
    let mut second = manifest(
        false,
        &[("Observation", "https://files.example/o1.ndjson", None)],
    );
    second["link"] =
        json!([{"relation": "next", "url": format!("{}/fhir/bulkstatus/42/page/3", server.uri())}]);
    let third = manifest(
        false,
        &[("Observation", "https://files.example/o2.ndjson", None)],
    );
    Mock::given(method("GET"))
        .and(path("/fhir/bulkstatus/42"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&first))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/fhir/bulkstatus/42/page/2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&second))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/fhir/bulkstatus/42/page/3"))
        // A page still being built: the client polls it like the status URL.
        .respond_with(sequence([
            in_progress("page 3"),
            ResponseTemplate::new(200).set_body_json(&third),
        ]))
        .mount(&server)
        .await;
    let (bulk, _, _) = bulk(&server, config());
    let manifest = bulk
        .job(&status_url(&server))
        .unwrap()
        .wait()
        .await
        .unwrap();
    let urls: Vec<_> = manifest
        .output
        .iter()
        .map(|entry| entry.url.as_str())
        .collect();
    assert_eq!(
        urls,
        [
            "https://files.example/p1.ndjson",
            "https://files.example/o1.ndjson",
            "https://files.example/o2.ndjson"
        ]
    );

    let looping = server_with_loop().await;
    let (bulk, _, _) = crate::support::bulk(&looping, config());
    let err = bulk
        .job(&status_url(&looping))
        .unwrap()
        .wait()
        .await
        .unwrap_err();
    assert!(matches!(err, BulkError::ManifestPages { .. }), "{err:?}");
}

async fn server_with_loop() -> MockServer {
    let server = server().await;
    let mut page = manifest(false, &[]);
    page["link"] =
        json!([{"relation": "next", "url": format!("{}/fhir/bulkstatus/42#again", server.uri())}]);
    Mock::given(method("GET"))
        .and(path("/fhir/bulkstatus/42"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&page))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn cancel_sends_delete_with_the_token_and_the_job_is_then_gone() {
    let server = server().await;
    Mock::given(method("DELETE"))
        .and(path("/fhir/bulkstatus/42"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(202))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/fhir/bulkstatus/42"))
        .respond_with(ResponseTemplate::new(404).set_body_json(outcome("not-found", "no such job")))
        .mount(&server)
        .await;
    let (bulk, _, events) = bulk(&server, config());
    let job = bulk.job(&status_url(&server)).unwrap();
    job.cancel().await.unwrap();
    assert!(events.all().contains(&Event::Cancelled));
    let err = job.wait().await.unwrap_err();
    assert!(matches!(err, BulkError::JobGone(_)), "{err:?}");
}

#[tokio::test]
async fn cancel_on_drop_sends_the_delete_unless_disarmed() {
    let server = server().await;
    Mock::given(method("DELETE"))
        .and(path("/fhir/bulkstatus/42"))
        .respond_with(ResponseTemplate::new(202))
        .expect(1)
        .mount(&server)
        .await;
    let (bulk, _, _) = bulk(&server, config());
    let kept = bulk.job(&status_url(&server)).unwrap().cancel_on_drop();
    assert!(kept.disarm().is_some());
    drop(bulk.job(&status_url(&server)).unwrap().cancel_on_drop());
    for _ in 0..100 {
        if !server.received_requests().await.unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn status_urls_get_the_token_on_the_server_origin_only() {
    let server = server().await;
    let other = crate::support::server().await;
    for target in [&server, &other] {
        Mock::given(method("GET"))
            .and(path("/jobs/7"))
            .respond_with(complete())
            .mount(target)
            .await;
    }
    let (bulk, _, _) = bulk(&server, config());
    // Same origin, outside the base path: the token goes (S10).
    bulk.job(&format!("{}/jobs/7", server.uri()))
        .unwrap()
        .wait()
        .await
        .unwrap();
    let seen = &server.received_requests().await.unwrap()[0];
    assert_eq!(
        seen.headers["authorization"],
        format!("Bearer {TOKEN}").as_str()
    );
    // Another origin: it does not.
    bulk.job(&format!("{}/jobs/7", other.uri()))
        .unwrap()
        .wait()
        .await
        .unwrap();
    let seen = &other.received_requests().await.unwrap()[0];
    assert!(!seen.headers.contains_key("authorization"));
}
