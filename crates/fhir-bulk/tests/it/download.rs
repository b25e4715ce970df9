//! F1–F8: the token rule, gzip, retries honouring Retry-After, Range resume, caps, expired
//! files, per-line and per-file checks; and the raw and typed streams.

use std::io::Write as _;
use std::time::Duration;

use fhir_bulk::{BulkConfig, BulkError, Event, Manifest, Record};
use futures::{StreamExt as _, TryStreamExt as _};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::support::{TOKEN, assert_no_canary, bulk, manifest as doc_of, sequence, server};

fn ndjson(resource_type: &str, n: usize) -> String {
    (0..n)
        .map(|i| format!("{{\"resourceType\":\"{resource_type}\",\"id\":\"{i}\"}}\n"))
        .collect()
}

pub fn parse(value: &Value, server: &MockServer) -> Manifest {
    let base = url::Url::parse(&format!("{}/fhir/bulkstatus/1", server.uri())).unwrap();
    Manifest::from_json_slice(value.to_string().as_bytes(), &base).unwrap()
}

async fn mount_file(server: &MockServer, at: &str, body: &str) {
    Mock::given(method("GET"))
        .and(path(at))
        .respond_with(ResponseTemplate::new(200).set_body_string(body))
        .mount(server)
        .await;
}

async fn collect_lines(
    bulk: &fhir_bulk::BulkClient,
    manifest: &Manifest,
) -> Result<Vec<String>, BulkError> {
    let lines: Vec<_> = bulk.lines(manifest).try_collect().await?;
    Ok(lines
        .into_iter()
        .map(|line| String::from_utf8(line.bytes.to_vec()).unwrap())
        .collect())
}

#[tokio::test]
async fn the_token_goes_only_where_required_and_allowed() {
    let fhir = server().await;
    let storage = server().await;
    let allowed = server().await;
    for target in [&fhir, &storage, &allowed] {
        mount_file(target, "/files/p.ndjson", &ndjson("Patient", 2)).await;
    }
    let outputs = [
        ("Patient", format!("{}/files/p.ndjson", fhir.uri())),
        (
            "Patient",
            format!("{}/files/p.ndjson?sig=s3cr3t", storage.uri()),
        ),
        ("Patient", format!("{}/files/p.ndjson", allowed.uri())),
    ];
    let entries: Vec<_> = outputs
        .iter()
        .map(|(t, u)| (*t, u.as_str(), Some(2)))
        .collect();
    let config = BulkConfig::new()
        .allow_token_origin(&allowed.uri())
        .unwrap();
    let (bulk, _, _) = bulk(&fhir, config);
    for requires in [true, false] {
        let manifest = parse(&doc_of(requires, &entries), &fhir);
        assert_eq!(collect_lines(&bulk, &manifest).await.unwrap().len(), 6);
        for (server, expected) in [(&fhir, requires), (&storage, false), (&allowed, requires)] {
            let requests = server.received_requests().await.unwrap();
            let last = requests.last().unwrap();
            assert_eq!(
                last.headers
                    .get("authorization")
                    .map(|v| v.to_str().unwrap().to_owned()),
                expected.then(|| format!("Bearer {TOKEN}")),
                "requiresAccessToken {requires} to {}",
                last.url
            );
            assert_eq!(last.headers["accept"], "application/fhir+ndjson");
            assert!(
                last.headers["accept-encoding"]
                    .to_str()
                    .unwrap()
                    .contains("gzip")
            );
        }
    }
}

#[tokio::test]
async fn gzip_files_are_decompressed_as_they_are_read() {
    let server = server().await;
    let body = ndjson("Observation", 5_000);
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(body.as_bytes()).unwrap();
    let gzipped = encoder.finish().unwrap();
    Mock::given(method("GET"))
        .and(path("/files/o.ndjson"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-encoding", "gzip")
                .set_body_bytes(gzipped),
        )
        .mount(&server)
        .await;
    let url = format!("{}/files/o.ndjson", server.uri());
    let manifest = parse(
        &doc_of(false, &[("Observation", &url, Some(5_000))]),
        &server,
    );
    let (bulk, _, _) = bulk(&server, BulkConfig::new().buffering(4096, 2));
    let lines = collect_lines(&bulk, &manifest).await.unwrap();
    assert_eq!(lines.len(), 5_000);
    assert_eq!(
        lines[4_999],
        "{\"resourceType\":\"Observation\",\"id\":\"4999\"}"
    );
}

#[tokio::test]
async fn transient_failures_are_retried_after_a_clamped_retry_after() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/files/p.ndjson"))
        .respond_with(sequence([
            ResponseTemplate::new(503).insert_header("retry-after", "3"),
            ResponseTemplate::new(429).insert_header("retry-after", "99999999"),
            ResponseTemplate::new(500),
            ResponseTemplate::new(200).set_body_string(ndjson("Patient", 3)),
        ]))
        .expect(4)
        .mount(&server)
        .await;
    let url = format!("{}/files/p.ndjson", server.uri());
    let manifest = parse(&doc_of(false, &[("Patient", &url, Some(3))]), &server);
    let config = BulkConfig::new()
        .retry_after_range(Duration::from_secs(1), Duration::from_secs(60))
        .backoff(Duration::from_secs(2), Duration::from_secs(30));
    let (bulk, timer, events) = bulk(&server, config);
    assert_eq!(collect_lines(&bulk, &manifest).await.unwrap().len(), 3);
    assert_eq!(timer.sleeps(), [3, 60, 8].map(Duration::from_secs));
    let finished = events.all().into_iter().find_map(|event| match event {
        Event::FileFinished { resources, .. } => Some(resources),
        _ => None,
    });
    assert_eq!(finished, Some(3));
}

/// First answer: the file cut inside its third line. Then: the rest from the Range offset.
pub struct CutThenResume {
    pub body: String,
    pub cut: usize,
}

impl wiremock::Respond for CutThenResume {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        match request
            .headers
            .get("range")
            .map(|v| v.to_str().unwrap().to_owned())
        {
            None => ResponseTemplate::new(200).set_body_string(&self.body[..self.cut]),
            Some(range) => {
                let start: usize = range
                    .strip_prefix("bytes=")
                    .unwrap()
                    .trim_end_matches('-')
                    .parse()
                    .unwrap();
                ResponseTemplate::new(206)
                    .insert_header(
                        "content-range",
                        format!("bytes {start}-{}/{}", self.body.len() - 1, self.body.len()),
                    )
                    .set_body_string(&self.body[start..])
            }
        }
    }
}

#[tokio::test]
async fn a_truncated_download_resumes_with_range_from_the_last_complete_line() {
    let server = server().await;
    let body = ndjson("Patient", 5);
    let line = body.find('\n').unwrap() + 1;
    Mock::given(method("GET"))
        .and(path("/files/p.ndjson"))
        .respond_with(CutThenResume {
            body: body.clone(),
            cut: 2 * line + 5,
        })
        .expect(2)
        .mount(&server)
        .await;
    let url = format!("{}/files/p.ndjson", server.uri());
    let manifest = parse(&doc_of(false, &[("Patient", &url, Some(5))]), &server);
    let (bulk, _, _) = bulk(&server, BulkConfig::new());
    let lines = collect_lines(&bulk, &manifest).await.unwrap();
    assert_eq!(lines.join("\n") + "\n", body, "every line once, in order");
    let requests = server.received_requests().await.unwrap();
    assert_eq!(
        requests[1].headers["range"],
        format!("bytes={}-", 2 * line).as_str()
    );
    assert_eq!(requests[1].headers["accept-encoding"], "identity");
}

#[tokio::test]
async fn a_server_that_ignores_range_is_skipped_to_the_offset() {
    let server = server().await;
    let body = ndjson("Patient", 4);
    let line = body.find('\n').unwrap() + 1;
    Mock::given(method("GET"))
        .and(path("/files/p.ndjson"))
        .respond_with(sequence([
            ResponseTemplate::new(200).set_body_string(&body[..line + 3]),
            ResponseTemplate::new(200).set_body_string(&body),
        ]))
        .mount(&server)
        .await;
    let url = format!("{}/files/p.ndjson", server.uri());
    let manifest = parse(&doc_of(false, &[("Patient", &url, None)]), &server);
    let (bulk, _, _) = bulk(&server, BulkConfig::new());
    let lines = collect_lines(&bulk, &manifest).await.unwrap();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines.join("\n") + "\n", body);
}

#[tokio::test]
async fn expired_files_are_typed_errors_naming_the_file_without_its_signature() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/files/gone.ndjson"))
        .respond_with(ResponseTemplate::new(410))
        .expect(1)
        .mount(&server)
        .await;
    mount_file(&server, "/files/ok.ndjson", &ndjson("Patient", 1)).await;
    let gone = format!(
        "{}/files/gone.ndjson?X-Amz-Signature=s3cr3tsig&sig=s3cr3tsig",
        server.uri()
    );
    let ok = format!("{}/files/ok.ndjson", server.uri());
    let manifest = parse(
        &doc_of(
            false,
            &[("Observation", &gone, None), ("Patient", &ok, None)],
        ),
        &server,
    );
    let (bulk, _, events) = bulk(&server, BulkConfig::new().concurrency(1));
    let items: Vec<_> = bulk.lines(&manifest).collect::<Vec<_>>().await;
    let errors: Vec<_> = items
        .iter()
        .filter_map(|item| item.as_ref().err())
        .collect();
    assert_eq!(errors.len(), 1);
    assert!(
        matches!(errors[0], BulkError::FileExpired { status: 410, .. }),
        "{:?}",
        errors[0]
    );
    assert_eq!(errors[0].file().unwrap().resource_type(), "Observation");
    assert_eq!(
        items.iter().filter(|item| item.is_ok()).count(),
        1,
        "the other file goes on"
    );
    for text in [
        errors[0].to_string(),
        format!("{:?}", errors[0]),
        format!("{:?}", events.all()),
    ] {
        assert!(!text.contains("s3cr3tsig"), "{text}");
        assert_no_canary(&text);
    }
}

#[tokio::test]
async fn lines_and_files_over_their_caps_are_refused() {
    let server = server().await;
    let long = format!(
        "{{\"resourceType\":\"Patient\",\"x\":\"{}\"}}\n",
        "a".repeat(5_000)
    );
    mount_file(
        &server,
        "/files/long.ndjson",
        &(ndjson("Patient", 2) + &long),
    )
    .await;
    mount_file(&server, "/files/big.ndjson", &ndjson("Patient", 1_000)).await;
    let long_url = format!("{}/files/long.ndjson", server.uri());
    let big_url = format!("{}/files/big.ndjson", server.uri());

    let (bulk, _, _) = bulk(&server, BulkConfig::new().max_line_bytes(1_000));
    let manifest = parse(&doc_of(false, &[("Patient", &long_url, None)]), &server);
    let err = collect_lines(&bulk, &manifest).await.unwrap_err();
    assert!(
        matches!(
            err,
            BulkError::LineTooLong {
                line: 3,
                limit: 1_000,
                ..
            }
        ),
        "{err:?}"
    );

    let (bulk, _, _) = crate::support::bulk(&server, BulkConfig::new().max_file_bytes(10_000));
    let manifest = parse(&doc_of(false, &[("Patient", &big_url, None)]), &server);
    let err = collect_lines(&bulk, &manifest).await.unwrap_err();
    assert!(
        matches!(err, BulkError::FileTooLarge { limit: 10_000, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn every_line_is_checked_against_its_file_type_and_counts_against_count() {
    let server = server().await;
    mount_file(
        &server,
        "/files/mixed.ndjson",
        &(ndjson("Patient", 1) + &ndjson("Observation", 1)),
    )
    .await;
    mount_file(
        &server,
        "/files/notjson.ndjson",
        "{\"resourceType\":\"Patient\"}\nnot json\n",
    )
    .await;
    mount_file(&server, "/files/err.ndjson", &ndjson("OperationOutcome", 2)).await;
    mount_file(&server, "/files/del.ndjson", &ndjson("Patient", 1)).await;
    let at = |name: &str| format!("{}/files/{name}", server.uri());
    let (bulk, _, _) = bulk(&server, BulkConfig::new());

    let manifest = parse(
        &doc_of(false, &[("Patient", &at("mixed.ndjson"), None)]),
        &server,
    );
    let err = collect_lines(&bulk, &manifest).await.unwrap_err();
    assert!(
        matches!(&err, BulkError::WrongResourceType { line: 2, expected, found: Some(found), .. }
            if expected == "Patient" && found == "Observation"),
        "{err:?}"
    );

    let manifest = parse(
        &doc_of(false, &[("Patient", &at("notjson.ndjson"), None)]),
        &server,
    );
    let err = collect_lines(&bulk, &manifest).await.unwrap_err();
    assert!(matches!(err, BulkError::Decode { line: 2, .. }), "{err:?}");

    // An error file whose count is wrong is reported too (a trap other clients fell into).
    let mut doc = doc_of(false, &[]);
    doc["error"] = json!([{"type": "OperationOutcome", "url": at("err.ndjson"), "count": 3}]);
    let err = collect_lines(&bulk, &parse(&doc, &server))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            BulkError::CountMismatch {
                expected: 3,
                actual: 2,
                ..
            }
        ),
        "{err:?}"
    );

    // A deleted file must hold Bundles.
    let mut doc = doc_of(false, &[]);
    doc["deleted"] = json!([{"type": "Patient", "url": at("del.ndjson")}]);
    let err = collect_lines(&bulk, &parse(&doc, &server))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, BulkError::WrongResourceType { expected, .. } if expected == "Bundle"),
        "{err:?}"
    );
}

#[tokio::test]
async fn counts_that_are_not_strict_only_warn() {
    let server = server().await;
    mount_file(&server, "/files/p.ndjson", &ndjson("Patient", 2)).await;
    let url = format!("{}/files/p.ndjson", server.uri());
    let manifest = parse(&doc_of(false, &[("Patient", &url, Some(5))]), &server);
    let (bulk, _, events) = bulk(&server, BulkConfig::new().strict_counts(false));
    assert_eq!(collect_lines(&bulk, &manifest).await.unwrap().len(), 2);
    assert!(
        events
            .all()
            .iter()
            .any(|event| matches!(event, Event::Warning { .. }))
    );
}

#[tokio::test]
async fn records_come_out_typed_resources_deletions_and_outcomes() {
    let server = server().await;
    mount_file(&server, "/files/p.ndjson", &ndjson("Patient", 3)).await;
    let deleted = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"request": {"method": "DELETE", "url": "Patient/7"}},
        {"request": {"method": "DELETE", "url": "Observation/8"}}]});
    mount_file(&server, "/files/d.ndjson", &format!("{deleted}\n")).await;
    let outcome = json!({"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "processing", "diagnostics": "Observation/9 failed"}]});
    mount_file(&server, "/files/e.ndjson", &format!("{outcome}\n")).await;
    let at = |name: &str| format!("{}/files/{name}", server.uri());
    let mut doc = doc_of(false, &[("Patient", &at("p.ndjson"), Some(3))]);
    doc["deleted"] = json!([{"type": "Patient", "url": at("d.ndjson"), "count": 1}]);
    doc["error"] = json!([{"type": "OperationOutcome", "url": at("e.ndjson"), "count": 1}]);
    let manifest = parse(&doc, &server);
    let (bulk, _, _) = bulk(&server, BulkConfig::new());

    let records: Vec<Record<fhir_r4::Resource>> =
        bulk.records(&manifest).try_collect().await.unwrap();
    let patients = records
        .iter()
        .filter(|r| matches!(r.resource(), Some(fhir_r4::Resource::Patient(_))))
        .count();
    assert_eq!(patients, 3);
    let deletions: Vec<_> = records
        .iter()
        .filter_map(|r| match r {
            Record::Deleted { deletion, .. } => {
                Some((deletion.resource_type.as_str(), deletion.id.as_str()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(deletions, [("Patient", "7"), ("Observation", "8")]);
    let outcomes: Vec<_> = records
        .iter()
        .filter_map(|r| match r {
            Record::Outcome { outcome, .. } => Some(outcome.summary()),
            _ => None,
        })
        .collect();
    assert_eq!(outcomes, ["Observation/9 failed"]);

    // A resource that is not of the file's type is refused by the typed decoding too.
    let wrong = parse(
        &doc_of(false, &[("Observation", &at("p.ndjson"), None)]),
        &server,
    );
    let err = bulk
        .records::<Value>(&wrong)
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(
        matches!(err, BulkError::WrongResourceType { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_store_that_refuses_an_expired_signed_link_is_an_expired_file() {
    let fhir = server().await;
    let storage = server().await;
    let refuse = |at: &str, status: u16, body: &str| {
        Mock::given(method("GET"))
            .and(path(at.to_owned()))
            .respond_with(ResponseTemplate::new(status).set_body_string(body.to_owned()))
            .expect(1)
    };
    // S3 and GCS say so in their XML; a plain 403 is another refusal.
    for (at, status, body) in [
        (
            "/files/s3.ndjson",
            403,
            "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
        ),
        (
            "/files/gcs.ndjson",
            400,
            "<Error><Code>ExpiredToken</Code></Error>",
        ),
        (
            "/files/denied.ndjson",
            403,
            "<Error><Code>AccessDenied</Code></Error>",
        ),
        // A page whose script merely mentions cookie expiry is not an expired link.
        (
            "/files/waf.ndjson",
            403,
            "<script>document.cookie='a=b; expires=Thu, 01 Jan 1970'</script>",
        ),
    ] {
        refuse(at, status, body).mount(&storage).await;
    }
    // The FHIR server's own refusal of a file the token went to, in words of expiry: the
    // server's answer about its token, not an expired link.
    refuse("/files/own.ndjson", 403, "access token expired")
        .mount(&fhir)
        .await;
    let at = |name: &str| format!("{}/files/{name}?X-Amz-Signature=s3cr3tsig", storage.uri());
    let own = format!("{}/files/own.ndjson", fhir.uri());
    let mut manifest = parse(
        &doc_of(
            true,
            &[
                ("Patient", &at("s3.ndjson"), None),
                ("Observation", &at("gcs.ndjson"), None),
                ("Condition", &at("denied.ndjson"), None),
                ("Encounter", &at("waf.ndjson"), None),
                ("Procedure", &own, None),
            ],
        ),
        &fhir,
    );
    // An `Expires` in the past (an anti-cache habit) changes nothing.
    manifest.expires = Some(std::time::UNIX_EPOCH);
    let (bulk, _, _) = bulk(&fhir, BulkConfig::new().concurrency(1));
    let items: Vec<_> = bulk.lines(&manifest).collect().await;
    let outcome = |kind: &str| {
        items
            .iter()
            .filter_map(|item| item.as_ref().err())
            .find(|err| err.file().unwrap().resource_type() == kind)
            .map(|err| match err {
                BulkError::FileExpired { status, source, .. } => {
                    assert!(source.is_some(), "the answer is kept");
                    format!("expired {status}")
                }
                BulkError::TokenWithheld { status, .. } => format!("withheld {status}"),
                BulkError::Download { .. } => "refused".to_owned(),
                other => format!("{other:?}"),
            })
            .unwrap()
    };
    assert_eq!(
        outcome("Patient"),
        "expired 403",
        "expiry is told before the withheld token"
    );
    assert_eq!(outcome("Observation"), "expired 400");
    assert_eq!(
        outcome("Condition"),
        "withheld 403",
        "the storage host wanted the token"
    );
    assert_eq!(outcome("Encounter"), "withheld 403");
    assert_eq!(outcome("Procedure"), "refused");
    for err in items.iter().filter_map(|item| item.as_ref().err()) {
        assert!(!err.to_string().contains("s3cr3tsig"), "{err}");
    }
}

#[tokio::test]
async fn deleted_files_hold_only_transaction_bundles_of_deletes() {
    let server = server().await;
    let bad = [
        (
            json!({"resourceType": "Bundle", "type": "transaction",
                   "entry": [{"request": {"method": "PUT", "url": "Patient/7"}}]}),
            "entry[0].request.method",
        ),
        (
            json!({"resourceType": "Bundle", "type": "searchset",
                   "entry": [{"request": {"method": "DELETE", "url": "Patient/7"}}]}),
            "type",
        ),
        (
            json!({"resourceType": "Bundle", "type": "transaction",
                   "entry": [{"request": {"method": "DELETE", "url": "Patient/7"}}, {}]}),
            "entry[1].request",
        ),
        (
            json!({"resourceType": "Bundle", "type": "transaction",
                   "entry": [{"request": {"method": "DELETE", "url": "Patient"}}]}),
            "entry[0].request.url",
        ),
    ];
    let (bulk, _, _) = bulk(&server, BulkConfig::new());
    // Without `type` or `method` the entries still read as the deletions the file lists.
    let lax = json!({"resourceType": "Bundle", "entry": [{"request": {"url": "Patient/7"}}]});
    mount_file(&server, "/files/lax.ndjson", &format!("{lax}\n")).await;
    let mut doc = doc_of(false, &[]);
    doc["deleted"] =
        json!([{"type": "Patient", "url": format!("{}/files/lax.ndjson", server.uri())}]);
    let records: Vec<Record<Value>> = bulk
        .records(&parse(&doc, &server))
        .try_collect()
        .await
        .unwrap();
    assert!(matches!(&records[..], [Record::Deleted { deletion, .. }] if deletion.id == "7"));
    for (index, (bundle, where_)) in bad.iter().enumerate() {
        let at = format!("/files/d{index}.ndjson");
        mount_file(&server, &at, &format!("{bundle}\n")).await;
        let mut doc = doc_of(false, &[]);
        doc["deleted"] = json!([{"type": "Patient", "url": format!("{}{at}", server.uri())}]);
        let manifest = parse(&doc, &server);
        let err = bulk
            .records::<Value>(&manifest)
            .try_collect::<Vec<_>>()
            .await
            .unwrap_err();
        match &err {
            BulkError::Decode { source, line, .. } => {
                assert_eq!(*line, 1);
                assert_eq!(source.path, *where_, "{err}");
            }
            other => panic!("{bundle}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_file_that_wants_the_withheld_token_says_how_to_allow_its_origin() {
    let fhir = server().await;
    let other = server().await;
    for target in [&fhir, &other] {
        Mock::given(method("GET"))
            .and(path("/files/p.ndjson"))
            .respond_with(ResponseTemplate::new(401).insert_header("www-authenticate", "Bearer"))
            .mount(target)
            .await;
    }
    let on_other = format!("{}/files/p.ndjson", other.uri());
    let on_fhir = format!("{}/files/p.ndjson", fhir.uri());
    let (bulk, _, _) = bulk(&fhir, BulkConfig::new().download_retries(0));
    let first_error = |items: Vec<Result<fhir_bulk::Line, BulkError>>| {
        items.into_iter().find_map(Result::err).unwrap()
    };

    let manifest = parse(&doc_of(true, &[("Patient", &on_other, None)]), &fhir);
    let err = first_error(bulk.lines(&manifest).collect().await);
    assert!(
        matches!(err, BulkError::TokenWithheld { status: 401, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("allow_token_origin"), "{err}");
    assert!(
        other.received_requests().await.unwrap()[0]
            .headers
            .get("authorization")
            .is_none()
    );

    // On the server's origin the token went: the 401 is the server's own refusal.
    let manifest = parse(&doc_of(true, &[("Patient", &on_fhir, None)]), &fhir);
    let err = first_error(bulk.lines(&manifest).collect().await);
    assert!(matches!(err, BulkError::Download { .. }), "{err:?}");
    // Without requiresAccessToken nothing was withheld.
    let manifest = parse(&doc_of(false, &[("Patient", &on_other, None)]), &fhir);
    let err = first_error(bulk.lines(&manifest).collect().await);
    assert!(matches!(err, BulkError::Download { .. }), "{err:?}");
}
