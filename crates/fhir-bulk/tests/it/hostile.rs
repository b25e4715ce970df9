//! Servers that misbehave on purpose, and directories left in odd states: what the attacker
//! review of the crate found, each as a test that failed before the fix.

use std::time::Duration;

use fhir_bulk::{BulkClient, BulkConfig, BulkError, Event, ExportRequest, MANIFEST_FILE, Manifest};
use futures::{StreamExt as _, TryStreamExt as _};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::download::{CutThenResume, parse};
use crate::support::{bulk, manifest, server};

fn status_mock(server: &MockServer, doc: &serde_json::Value) -> Mock {
    let _ = server;
    Mock::given(method("GET"))
        .and(path("/fhir/bulkstatus/9"))
        .respond_with(ResponseTemplate::new(200).set_body_json(doc))
}

fn kick_off_mock(server: &MockServer) -> Mock {
    Mock::given(method("GET"))
        .and(path("/fhir/$export"))
        .respond_with(ResponseTemplate::new(202).insert_header(
            "content-location",
            format!("{}/fhir/bulkstatus/9", server.uri()),
        ))
}

fn ids_in(text: &str) -> Vec<String> {
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn a_resumed_file_with_crlf_and_blank_lines_continues_at_the_servers_offset() {
    let server = server().await;
    kick_off_mock(&server).mount(&server).await;
    let url = format!("{}/files/o.ndjson", server.uri());
    status_mock(
        &server,
        &manifest(false, &[("Observation", &url, Some(50))]),
    )
    .mount(&server)
    .await;
    // CRLF endings and a blank line every 10 records: the sink writes neither, so the
    // `.part` file is shorter than what the server sent.
    let body: String = (0..50)
        .map(|i| {
            let blank = if i % 10 == 9 { "\r\n" } else { "" };
            format!("{{\"resourceType\":\"Observation\",\"id\":\"{i}\"}}\r\n{blank}")
        })
        .collect();
    let cut = body.match_indices('\n').nth(21).unwrap().0 + 8;
    Mock::given(method("GET"))
        .and(path("/files/o.ndjson"))
        .respond_with(CutThenResume {
            body: body.clone(),
            cut,
        })
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let (first, _, _) = bulk(&server, BulkConfig::new().download_retries(0));
    let summary = first
        .export_to_dir(&ExportRequest::system(), dir.path())
        .await
        .unwrap();
    assert_eq!(summary.failures.len(), 1);

    let (second, _, _) = bulk(&server, BulkConfig::new());
    let summary = second
        .export_to_dir(&ExportRequest::system(), dir.path())
        .await
        .unwrap();
    assert!(summary.failures.is_empty(), "{:?}", summary.failures);
    let requests = server.received_requests().await.unwrap();
    let resumed = requests
        .iter()
        .rfind(|r| r.url.path() == "/files/o.ndjson")
        .unwrap();
    let offset = body[..cut].rfind('\n').unwrap() + 1;
    assert_eq!(
        resumed.headers["range"],
        format!("bytes={offset}-").as_str()
    );
    let written = std::fs::read_to_string(dir.path().join("Observation.000.ndjson")).unwrap();
    let expected: Vec<String> = (0..50).map(|i| i.to_string()).collect();
    assert_eq!(ids_in(&written), expected, "every record once, in order");
}

#[tokio::test]
async fn a_directory_with_another_exports_files_but_no_state_is_refused_before_any_kick_off() {
    let server = server().await;
    kick_off_mock(&server).expect(0).mount(&server).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(MANIFEST_FILE), "{}").unwrap();
    let (client, _, _) = bulk(&server, BulkConfig::new());
    let err = client
        .export_to_dir(&ExportRequest::system(), dir.path())
        .await
        .unwrap_err();
    assert!(matches!(err, BulkError::State { .. }), "{err:?}");
    assert!(err.to_string().contains("manifest.json"), "{err}");
    let job = client
        .job(&format!("{}/fhir/bulkstatus/9", server.uri()))
        .unwrap();
    let err = client.save_to_dir(&job, dir.path()).await.unwrap_err();
    assert!(matches!(err, BulkError::State { .. }), "{err:?}");
}

#[tokio::test]
async fn a_manifest_fetched_again_in_another_order_never_splices_two_files() {
    let server = server().await;
    kick_off_mock(&server).mount(&server).await;
    let (a, b) = (
        format!("{}/files/a.ndjson", server.uri()),
        format!("{}/files/b.ndjson", server.uri()),
    );
    status_mock(
        &server,
        &manifest(
            false,
            &[("Observation", &a, Some(30)), ("Observation", &b, Some(30))],
        ),
    )
    .mount(&server)
    .await;
    let lines = |prefix: &str| -> String {
        (0..30)
            .map(|i| format!("{{\"resourceType\":\"Observation\",\"id\":\"{prefix}{i}\"}}\n"))
            .collect()
    };
    let (body_a, body_b) = (lines("a"), lines("b"));
    Mock::given(method("GET"))
        .and(path("/files/a.ndjson"))
        .respond_with(ResponseTemplate::new(200).set_body_string(&body_a))
        .mount(&server)
        .await;
    let cut = body_b.match_indices('\n').nth(9).unwrap().0 + 5;
    Mock::given(method("GET"))
        .and(path("/files/b.ndjson"))
        .respond_with(CutThenResume {
            body: body_b.clone(),
            cut,
        })
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let (first, _, _) = bulk(
        &server,
        BulkConfig::new().download_retries(0).concurrency(1),
    );
    let summary = first
        .export_to_dir(&ExportRequest::system(), dir.path())
        .await
        .unwrap();
    assert_eq!((summary.files, summary.failures.len()), (1, 1));

    // The user deletes the manifest to get fresh URLs; the server now lists b first.
    std::fs::remove_file(dir.path().join(MANIFEST_FILE)).unwrap();
    status_mock(
        &server,
        &manifest(
            false,
            &[("Observation", &b, Some(30)), ("Observation", &a, Some(30))],
        ),
    )
    .with_priority(1)
    .mount(&server)
    .await;
    let (second, _, _) = bulk(&server, BulkConfig::new());
    let summary = second
        .export_to_dir(&ExportRequest::system(), dir.path())
        .await
        .unwrap();
    assert!(summary.failures.is_empty(), "{:?}", summary.failures);
    let first_file = std::fs::read_to_string(dir.path().join("Observation.000.ndjson")).unwrap();
    let second_file = std::fs::read_to_string(dir.path().join("Observation.001.ndjson")).unwrap();
    assert_eq!(first_file, body_b);
    assert_eq!(second_file, body_a);
}

#[tokio::test]
async fn a_slow_consumer_holds_downloads_at_the_byte_budget_however_long_the_lines() {
    let server = server().await;
    // Ten lines of 512 KiB: each line is a batch of its own.
    let padding = "x".repeat(512 << 10);
    let body: String = (0..10)
        .map(|i| format!("{{\"resourceType\":\"Binary\",\"id\":\"{i}\",\"data\":\"{padding}\"}}\n"))
        .collect();
    Mock::given(method("GET"))
        .and(path("/files/big.ndjson"))
        .respond_with(ResponseTemplate::new(200).set_body_string(&body))
        .mount(&server)
        .await;
    let url = format!("{}/files/big.ndjson", server.uri());
    let doc = manifest(false, &[("Binary", &url, Some(10))]);
    let parsed = parse(&doc, &server);
    let (client, _, events) = bulk(&server, BulkConfig::new().max_buffered_bytes(1 << 20));
    let mut lines = client.lines(&parsed);
    let first = lines.next().await.unwrap().unwrap();
    assert!(first.bytes.len() > padding.len());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let finished = |events: &crate::support::Events| {
        events
            .all()
            .iter()
            .any(|e| matches!(e, Event::FileFinished { .. }))
    };
    // Without the budget, the channel and the decoders would hold the whole file by now.
    assert!(
        !finished(&events),
        "the download ran ahead of the consumer past the budget"
    );
    let rest: Vec<_> = lines.try_collect().await.unwrap();
    assert_eq!(rest.len(), 9);
    assert!(finished(&events));
}

#[tokio::test]
async fn a_byte_order_mark_opening_a_file_is_not_part_of_its_first_line() {
    let server = server().await;
    kick_off_mock(&server).mount(&server).await;
    let url = format!("{}/files/p.ndjson", server.uri());
    status_mock(&server, &manifest(false, &[("Patient", &url, Some(2))]))
        .mount(&server)
        .await;
    let mut body = vec![0xEF, 0xBB, 0xBF];
    body.extend_from_slice(b"{\"resourceType\":\"Patient\",\"id\":\"1\"}\n{\"resourceType\":\"Patient\",\"id\":\"2\"}\n");
    Mock::given(method("GET"))
        .and(path("/files/p.ndjson"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(body.clone()))
        .mount(&server)
        .await;
    let (client, _, _) = bulk(&server, BulkConfig::new());
    let job = client.kick_off(&ExportRequest::system()).await.unwrap();
    let parsed = job.wait().await.unwrap();
    let lines: Vec<_> = client.lines(&parsed).try_collect().await.unwrap();
    assert_eq!(lines.len(), 2);
    let dir = tempfile::tempdir().unwrap();
    let summary = client.save_to_dir(&job, dir.path()).await.unwrap();
    assert!(summary.failures.is_empty(), "{:?}", summary.failures);
    let written = std::fs::read(dir.path().join("Patient.000.ndjson")).unwrap();
    assert_eq!(written, body[3..]);
}

/// Answers a plain GET with 206 and the first `cut` bytes (ending on a line), then ranges.
struct ShortPartial {
    body: String,
    cut: usize,
}

impl wiremock::Respond for ShortPartial {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let length = self.body.len();
        let start: usize = request
            .headers
            .get("range")
            .and_then(|v| {
                v.to_str()
                    .unwrap()
                    .strip_prefix("bytes=")
                    .map(|v| v.trim_end_matches('-').parse().unwrap())
            })
            .unwrap_or(0);
        let end = if start == 0 { self.cut } else { length };
        ResponseTemplate::new(206)
            .insert_header(
                "content-range",
                format!("bytes {start}-{}/{length}", end - 1),
            )
            .set_body_string(&self.body[start..end])
    }
}

#[tokio::test]
async fn a_partial_answer_that_stops_short_of_the_file_is_continued() {
    let server = server().await;
    let body: String = (0..20)
        .map(|i| format!("{{\"resourceType\":\"Patient\",\"id\":\"{i}\"}}\n"))
        .collect();
    let cut = body.match_indices('\n').nth(4).unwrap().0 + 1;
    Mock::given(method("GET"))
        .and(path("/files/p.ndjson"))
        .respond_with(ShortPartial {
            body: body.clone(),
            cut,
        })
        .mount(&server)
        .await;
    let url = format!("{}/files/p.ndjson", server.uri());
    // No `count`: only the Content-Range says the file is longer.
    let doc = manifest(false, &[("Patient", &url, None)]);
    let parsed = parse(&doc, &server);
    let (client, _, _) = bulk(&server, BulkConfig::new());
    let lines: Vec<_> = client.lines(&parsed).try_collect().await.unwrap();
    assert_eq!(lines.len(), 20);
}

#[tokio::test]
async fn a_416_whose_length_differs_from_what_was_read_is_a_changed_file() {
    let server = server().await;
    let body: String = (0..10)
        .map(|i| format!("{{\"resourceType\":\"Patient\",\"id\":\"{i}\"}}\n"))
        .collect();
    let cut = body.match_indices('\n').nth(4).unwrap().0 + 5;
    Mock::given(method("GET"))
        .and(path("/files/p.ndjson"))
        .and(wiremock::matchers::header_exists("range"))
        .respond_with(ResponseTemplate::new(416).insert_header("content-range", "bytes */40"))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/files/p.ndjson"))
        .respond_with(ResponseTemplate::new(200).set_body_string(&body[..cut]))
        .mount(&server)
        .await;
    let url = format!("{}/files/p.ndjson", server.uri());
    let doc = manifest(false, &[("Patient", &url, None)]);
    let parsed = parse(&doc, &server);
    let (client, _, _) = bulk(&server, BulkConfig::new());
    let err = client
        .lines(&parsed)
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, BulkError::Truncated { reason, .. } if reason.contains("changed")),
        "{err:?}"
    );
}

#[tokio::test]
async fn repeated_manifest_entries_download_once_and_oversized_manifests_are_refused() {
    let server = server().await;
    let url = format!("{}/files/p.ndjson", server.uri());
    let mut first = manifest(false, &[("Patient", &url, Some(1))]);
    first["link"] =
        json!([{"relation": "next", "url": format!("{}/fhir/bulkstatus/9?page=2", server.uri())}]);
    Mock::given(method("GET"))
        .and(path("/fhir/bulkstatus/9"))
        .and(wiremock::matchers::query_param("page", "2"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(manifest(false, &[("Patient", &url, Some(1))])),
        )
        .with_priority(1)
        .mount(&server)
        .await;
    status_mock(&server, &first).mount(&server).await;
    let (client, _, _) = bulk(&server, BulkConfig::new());
    let job = client
        .job(&format!("{}/fhir/bulkstatus/9", server.uri()))
        .unwrap();
    let parsed = job.wait().await.unwrap();
    assert_eq!(
        parsed.output.len(),
        1,
        "the second page repeated the first page's file"
    );

    let (small, _, _) = bulk(&server, BulkConfig::new().manifest_limits(64, 10, 100));
    let err = small
        .job(job.status_url().as_str())
        .unwrap()
        .wait()
        .await
        .unwrap_err();
    let BulkError::Http(source) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(source.kind(), fhir_core::ErrorKind::ResponseTooLarge);
}

#[tokio::test]
async fn plain_http_never_follows_https_and_tokens_never_go_to_plain_http() {
    let base = url::Url::parse("https://fhir.example/r4/bulkstatus/1").unwrap();
    let doc = json!({"transactionTime": "2024-01-01T00:00:00Z", "request": "x", "requiresAccessToken": true,
        "output": [{"type": "Patient", "url": "http://fhir.example/files/1.ndjson"}], "error": []});
    let err = Manifest::from_json_slice(doc.to_string().as_bytes(), &base).unwrap_err();
    assert!(matches!(err, BulkError::InvalidManifest { .. }), "{err:?}");

    let client = fhir_core::Client::builder("https://fhir.example/r4")
        .build()
        .unwrap();
    let bulk = BulkClient::new(client);
    assert!(bulk.job("http://fhir.example/r4/bulkstatus/1").is_err());
    assert!(bulk.job("https://fhir.example/r4/bulkstatus/1").is_ok());
    assert!(
        BulkConfig::new()
            .allow_token_origin("http://files.example")
            .is_err()
    );
    assert!(
        BulkConfig::new()
            .allow_token_origin("http://127.0.0.1:8080")
            .is_ok()
    );
    assert!(
        BulkConfig::new()
            .allow_token_origin("https://files.example")
            .is_ok()
    );
}

#[tokio::test]
async fn debug_output_never_shows_signed_url_secrets() {
    let base = url::Url::parse("https://fhir.example/r4/bulkstatus/1").unwrap();
    let doc = json!({"transactionTime": "2024-01-01T00:00:00Z", "request": "https://fhir.example/r4/$export",
        "requiresAccessToken": false,
        "output": [{"type": "Patient", "url": "https://storage.example/1.ndjson?X-Amz-Signature=s3cr3t&sig=s3cr3t"}],
        "link": [{"relation": "next", "url": "page2?sig=s3cr3t"}], "error": []});
    let parsed = Manifest::from_json_slice(doc.to_string().as_bytes(), &base).unwrap();
    let shown = format!("{parsed:?}");
    assert!(
        !shown.contains("s3cr3t") && shown.contains("storage.example"),
        "{shown}"
    );
    let client = fhir_core::Client::builder("https://fhir.example/r4")
        .build()
        .unwrap();
    let job = BulkClient::new(client)
        .job("https://fhir.example/r4/status/1?token=s3cr3t")
        .unwrap();
    let guard = job.clone().cancel_on_drop();
    let shown = format!("{job:?} {guard:?}");
    assert!(!shown.contains("s3cr3t"), "{shown}");
    drop(guard.disarm());
}

#[test]
fn streams_made_outside_a_runtime_fail_instead_of_panicking() {
    let client = fhir_core::Client::builder("https://fhir.example/r4")
        .build()
        .unwrap();
    let bulk = BulkClient::new(client);
    let base = url::Url::parse("https://fhir.example/r4/bulkstatus/1").unwrap();
    let doc = manifest(
        false,
        &[("Patient", "https://fhir.example/files/1.ndjson", None)],
    );
    let parsed = Manifest::from_json_slice(doc.to_string().as_bytes(), &base).unwrap();
    let mut lines = bulk.lines(&parsed);
    let first = futures::executor::block_on(lines.next()).unwrap();
    assert!(matches!(first, Err(BulkError::Stopped { .. })), "{first:?}");
}
