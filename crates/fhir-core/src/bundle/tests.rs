use super::*;

/// `n` request entries, each a GET of `Patient/<index>`.
fn sent(n: usize) -> Vec<RequestEntry> {
    (0..n)
        .map(|i| RequestEntry {
            full_url: None,
            resource: None,
            request: EntryRequest::new("GET", format!("Patient/{i}")),
        })
        .collect()
}

fn response(entries: Value, kind: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({"resourceType": "Bundle", "type": kind, "entry": entries})).unwrap()
}

#[test]
fn entry_responses_are_read_in_order() {
    let body = response(
        json!([
            {"response": {"status": "201 Created", "location": "Patient/1/_history/1", "etag": "W/\"1\"", "lastModified": "2024-01-01T00:00:00Z"},
             "resource": {"resourceType": "Patient", "id": "1"}},
            {"response": {"status": "404", "outcome": {"resourceType": "OperationOutcome",
                          "issue": [{"severity": "error", "code": "not-found", "diagnostics": "no Patient/x"}]}}},
            {"response": {"status": "400 Bad Request"},
             "resource": {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "invalid", "diagnostics": "bad"}]}}
        ]),
        "batch-response",
    );
    let entries = parse_response(&body, BundleKind::Batch, &sent(3)).unwrap();
    assert_eq!(entries[0].status(), StatusCode::CREATED);
    assert_eq!(entries[0].location(), Some("Patient/1/_history/1"));
    assert_eq!(entries[0].version_id(), Some("1"));
    assert_eq!(entries[0].location_type(), Some("Patient"));
    assert_eq!(entries[0].location_id(), Some("1"));
    assert_eq!(entries[1].location_id(), None);
    assert_eq!(entries[0].resource::<Value>().unwrap().unwrap()["id"], "1");
    assert_eq!(entries[1].status(), StatusCode::NOT_FOUND);
    assert_eq!(entries[1].outcome().unwrap().summary(), "no Patient/x");
    assert_eq!(entries[2].outcome().unwrap().summary(), "bad");
    assert!(
        entries[2].resource::<Value>().is_none(),
        "an outcome is not the entry's resource"
    );
}

#[test]
fn malformed_responses_name_the_entry() {
    let err = parse_response(
        &response(
            json!([{"response": {"status": "Created"}}]),
            "transaction-response",
        ),
        BundleKind::Transaction,
        &sent(1),
    )
    .unwrap_err();
    assert_eq!(err.path, "entry[0].response.status");

    let err = parse_response(
        &response(json!([{}]), "transaction-response"),
        BundleKind::Transaction,
        &sent(1),
    )
    .unwrap_err();
    assert_eq!(err.path, "entry[0].response");
    assert!(
        err.message.contains("(request: GET Patient/0)"),
        "{}",
        err.message
    );

    let err = parse_response(
        &response(
            json!([{"response": {"status": "200"}}]),
            "transaction-response",
        ),
        BundleKind::Transaction,
        &sent(3),
    )
    .unwrap_err();
    assert_eq!(err.path, "entry[1]");
    assert_eq!(err.kind, DecodeErrorKind::MissingField);
    assert_eq!(
        err.message,
        "the request had 3 entries, the response has 1: no response to entry 1 (GET Patient/1)"
    );

    let err = parse_response(
        &response(
            json!([{"response": {"status": "200"}}, {"response": {"status": "200"}}]),
            "batch-response",
        ),
        BundleKind::Batch,
        &sent(1),
    )
    .unwrap_err();
    assert_eq!(err.path, "entry[1]");
    assert!(
        err.message.contains("entry 1 answers no request"),
        "{}",
        err.message
    );

    let err =
        parse_response(&response(json!([]), "searchset"), BundleKind::Batch, &[]).unwrap_err();
    assert_eq!(err.path, "type");
    assert!(err.message.contains("expected batch-response"));
}
