//! T2: a whole export against a server that echoes secrets everywhere it can (status URL
//! signature, X-Progress, error bodies, signed file URLs, as text) leaves no credential in any log
//! line at TRACE, event, error text or `Debug`.

use std::io;
use std::sync::{Arc, Mutex};

use fhir_bulk::{BulkConfig, BulkError, ExportRequest};
use futures::StreamExt as _;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::{TOKEN, assert_no_canary, bulk, sequence, server};

const STATUS_SECRET: &str = "statussig-Hh41Qe";
const FILE_SECRET: &str = "filesig-Pp93Wd";

/// A buffer that a `tracing` subscriber writes into.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn an_export_against_an_echoing_server_leaks_nothing_anywhere() {
    let server = server().await;
    let uri = server.uri();
    let signed = |name: &str| format!("{uri}/store/{name}?X-Amz-Signature={FILE_SECRET}");
    // The forms a careless server echoes credentials in (a bare token with no marker around
    // it cannot be told from data; fhir-core masks these forms).
    let echo = format!(
        "you sent Authorization: Bearer {TOKEN}, access_token={TOKEN}, {uri}/fhir/bulkstatus/1?sig={STATUS_SECRET} and {}",
        signed("p.ndjson")
    );
    let status = format!("{uri}/fhir/bulkstatus/1?sig={STATUS_SECRET}");
    Mock::given(method("GET"))
        .and(path("/fhir/$export"))
        .respond_with(sequence([
            ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .set_body_string(echo.clone()),
            ResponseTemplate::new(202)
                .insert_header("content-location", status.as_str())
                .insert_header("x-request-id", "req-1"),
        ]))
        .mount(&server)
        .await;
    let manifest = json!({
        "transactionTime": "2024-01-01T00:00:00Z",
        "request": format!("{uri}/fhir/$export?_elements=gender&sig={STATUS_SECRET}"),
        "requiresAccessToken": false,
        "output": [
            {"type": "Patient", "url": signed("p.ndjson"), "count": 2},
            {"type": "Observation", "url": signed("gone.ndjson")},
            {"type": "Condition", "url": signed("bad.ndjson")},
        ],
        "error": [{"type": "OperationOutcome", "url": signed("e.ndjson")}],
    });
    Mock::given(method("GET"))
        .and(path("/fhir/bulkstatus/1"))
        .respond_with(sequence([
            ResponseTemplate::new(202).insert_header("x-progress", echo.as_str()),
            ResponseTemplate::new(500).set_body_json(json!({
                "resourceType": "OperationOutcome",
                "issue": [{"severity": "error", "code": "transient", "diagnostics": echo}]})),
            ResponseTemplate::new(200).set_body_json(manifest),
        ]))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/fhir/bulkstatus/1"))
        .respond_with(ResponseTemplate::new(202).set_body_string(echo.clone()))
        .mount(&server)
        .await;
    fn file(at: &str, template: impl wiremock::Respond + 'static) -> Mock {
        Mock::given(method("GET"))
            .and(path(format!("/store/{at}")))
            .respond_with(template)
    }
    file(
        "p.ndjson",
        sequence([
            ResponseTemplate::new(503).set_body_string(echo.clone()),
            // No SUBSETTED tag (an event), and a value the typed decoding quotes.
            ResponseTemplate::new(200).set_body_string(format!(
                "{}\n{}\n",
                json!({"resourceType": "Patient", "id": "1"}),
                json!({"resourceType": "Patient", "id": "2", "gender": echo,
                       echo.clone(): true})
            )),
        ]),
    )
    .mount(&server)
    .await;
    file(
        "gone.ndjson",
        ResponseTemplate::new(403).set_body_string(format!("Request has expired; {echo}")),
    )
    .mount(&server)
    .await;
    file(
        "bad.ndjson",
        ResponseTemplate::new(200).set_body_string(format!("{{\"resourceType\":\"{echo}\"}}\n")),
    )
    .mount(&server)
    .await;
    file(
        "e.ndjson",
        ResponseTemplate::new(200).set_body_string(format!(
            "{}\n",
            json!({"resourceType": "OperationOutcome",
                   "issue": [{"severity": "error", "code": "processing", "diagnostics": echo}]})
        )),
    )
    .mount(&server)
    .await;

    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let (bulk, _, events) = bulk(&server, BulkConfig::new().concurrency(1));
    let mut shown = Vec::new();
    let job = bulk
        .kick_off(&ExportRequest::system().elements(["gender"]))
        .await
        .unwrap();
    shown.push(format!("{job:?}"));
    let manifest = job.wait().await.unwrap();
    shown.push(format!("{manifest:?}"));
    let items: Vec<_> = bulk.lines(&manifest).collect().await;
    let errors: Vec<&BulkError> = items
        .iter()
        .filter_map(|item| item.as_ref().err())
        .collect();
    assert!(
        errors
            .iter()
            .any(|err| matches!(err, BulkError::FileExpired { status: 403, .. })),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|err| matches!(err, BulkError::WrongResourceType { .. })),
        "{errors:?}"
    );
    for item in &items {
        match item {
            // A line's bytes are the server's data, shown as sent; where it came from is ours.
            Ok(line) => shown.push(format!("{:?} {}", line.file, line.number)),
            Err(err) => shown.extend([err.to_string(), format!("{err:?}")]),
        }
    }
    // The typed decoding quotes what it could not read.
    let records: Vec<_> = bulk.records::<fhir_r4::Resource>(&manifest).collect().await;
    let decode_errors: Vec<_> = records
        .iter()
        .filter_map(|item| item.as_ref().err())
        .filter(|err| matches!(err, BulkError::Decode { .. }))
        .collect();
    assert!(!decode_errors.is_empty(), "{records:?}");
    for err in records.iter().filter_map(|item| item.as_ref().err()) {
        shown.extend([err.to_string(), format!("{err:?}")]);
    }
    job.cancel().await.unwrap();
    shown.push(format!("{:?}", events.all()));
    let logs = String::from_utf8_lossy(&captured.0.lock().unwrap()).into_owned();
    assert!(
        logs.contains("bulk.download") && logs.contains("ignored"),
        "the logs were captured: {logs}"
    );
    shown.push(logs);
    for text in &shown {
        assert_no_canary(text);
        assert!(
            !text.contains(STATUS_SECRET),
            "status signature leaked: {text}"
        );
        assert!(!text.contains(FILE_SECRET), "file signature leaked: {text}");
    }
}
