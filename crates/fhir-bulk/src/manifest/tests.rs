//! Manifest parsing: every member, vendor members kept, URLs resolved and checked.

use serde_json::json;
use url::Url;

use super::Manifest;
use crate::file::FileKind;

fn base() -> Url {
    Url::parse("https://fhir.example/r4/status/1").unwrap()
}

#[test]
fn every_member_is_read_and_unknown_ones_are_kept() {
    let body = json!({
        "transactionTime": "2024-01-02T03:04:05.678Z",
        "request": "https://fhir.example/r4/$export?_type=Patient",
        "requiresAccessToken": true,
        "output": [{"type": "Patient", "url": "https://files.example/p.ndjson", "count": 3,
                    "extension": {"https://x/part": 1}}],
        "deleted": [{"type": "Patient", "url": "/r4/files/del.ndjson"}],
        "error": [{"type": "OperationOutcome", "url": "https://files.example/e.ndjson", "count": 1}],
        "extension": {"https://vendor/job": "j-1"},
        "link": [{"relation": "next", "url": "https://fhir.example/r4/status/1?page=2"}],
        "vendorNote": {"a": 1}
    });
    let manifest = Manifest::from_json_slice(body.to_string().as_bytes(), &base()).unwrap();
    assert_eq!(manifest.transaction_time, "2024-01-02T03:04:05.678Z");
    assert_eq!(
        manifest.request,
        "https://fhir.example/r4/$export?_type=Patient"
    );
    assert!(manifest.requires_access_token);
    assert_eq!(manifest.output[0].count, Some(3));
    assert_eq!(
        manifest.output[0].extension.as_ref().unwrap()["https://x/part"],
        1
    );
    assert_eq!(
        manifest.deleted[0].url,
        "https://fhir.example/r4/files/del.ndjson"
    );
    assert_eq!(manifest.error[0].resource_type, "OperationOutcome");
    assert_eq!(
        manifest.extension.as_ref().unwrap()["https://vendor/job"],
        "j-1"
    );
    assert_eq!(manifest.other["vendorNote"], json!({"a": 1}));
    assert_eq!(
        manifest.next_page(&base()).unwrap().as_str(),
        "https://fhir.example/r4/status/1?page=2"
    );
    let kinds: Vec<_> = manifest
        .files()
        .iter()
        .map(|f| (f.kind(), f.line_type().to_owned()))
        .collect();
    assert_eq!(
        kinds,
        [
            (FileKind::Output, "Patient".to_owned()),
            (FileKind::Deleted, "Bundle".to_owned()),
            (FileKind::Error, "OperationOutcome".to_owned())
        ]
    );
    // Saved and read back, nothing is lost.
    let saved = serde_json::to_vec(&manifest).unwrap();
    assert_eq!(
        Manifest::from_json_slice(&saved, &base()).unwrap(),
        manifest
    );
}

#[test]
fn a_missing_requires_access_token_means_no_token() {
    let body = br#"{"transactionTime":"2024-01-01T00:00:00Z","request":"x","output":[]}"#;
    assert!(
        !Manifest::from_json_slice(body, &base())
            .unwrap()
            .requires_access_token
    );
}

#[test]
fn bad_manifests_are_typed_errors_naming_the_path() {
    for (body, needle) in [
        (r#"{"request":"x","output":[]}"#, "transactionTime"),
        (
            r#"{"transactionTime":"t","request":"x","output":[{"type":"Patient","url":"x","count":-1}]}"#,
            "output[0].count",
        ),
        (
            r#"{"transactionTime":"t","request":"x","output":[{"type":"Patient","url":"file:///etc/passwd"}]}"#,
            "output[0].url",
        ),
        (
            r#"{"transactionTime":"t","request":"x","output":[{"type":"","url":"https://h/x"}]}"#,
            "output[0].type",
        ),
        ("[1,2", "."),
    ] {
        let err = Manifest::from_json_slice(body.as_bytes(), &base()).unwrap_err();
        assert!(err.to_string().contains(needle), "{body}: {err}");
    }
}

#[test]
fn types_that_are_not_resource_type_names_are_refused() {
    for bad in [
        "",
        "../../etc/passwd",
        "Patient/..",
        "Bearer abc",
        "1Patient",
        &"A".repeat(65),
    ] {
        let body = json!({"transactionTime": "t", "request": "x", "output": [
            {"type": "Patient", "url": "https://h/1"}, {"type": bad, "url": "https://h/2"}]});
        let err = Manifest::from_json_slice(body.to_string().as_bytes(), &base()).unwrap_err();
        assert!(
            err.to_string()
                .contains("output[1].type is not a resource type name"),
            "{bad}: {err}"
        );
    }
}

#[test]
fn file_names_cannot_escape_the_directory_or_be_windows_devices() {
    let body = json!({"transactionTime": "t", "request": "x", "output": [
        {"type": "Patient", "url": "https://h/1"}, {"type": "Patient", "url": "https://h/2"},
        {"type": "CON", "url": "https://h/3"}, {"type": "com1", "url": "https://h/4"},
        {"type": "Console", "url": "https://h/5"}]});
    let mut manifest = Manifest::from_json_slice(body.to_string().as_bytes(), &base()).unwrap();
    // The fields are public: a manifest changed by hand may hold anything.
    manifest.output[0].resource_type = "../../etc/passwd".to_owned();
    let names: Vec<_> = manifest.files().iter().map(|f| f.file_name()).collect();
    assert_eq!(
        names,
        [
            "etcpasswd.000.ndjson",
            "Patient.001.ndjson",
            "_CON.002.ndjson",
            "_com1.003.ndjson",
            "Console.004.ndjson"
        ]
    );
}
