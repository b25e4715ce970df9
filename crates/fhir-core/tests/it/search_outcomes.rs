//! A search's resource stream and the server's outcome entries (`search.mode = outcome`):
//! by default a warning (such as a parameter the server ignored) ends the stream with an
//! error before the page's matches, since they are not what was asked; `SearchOutcomes`
//! reports them instead, or ignores them.

use std::sync::{Arc, Mutex};

use fhir_core::{ErrorKind, SearchOutcomes};
use futures::TryStreamExt as _;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer};

use crate::support::*;

/// A page of Patients `ids` with an outcome entry of `severity` saying `diagnostics`.
fn page_with_outcome(ids: &[&str], severity: &str, diagnostics: &str, next: Option<&str>) -> Value {
    let mut bundle = searchset(ids, next, None);
    bundle["entry"].as_array_mut().unwrap().push(json!({
        "resource": {"resourceType": "OperationOutcome",
                     "issue": [{"severity": severity, "code": "not-supported", "diagnostics": diagnostics}]},
        "search": {"mode": "outcome"}
    }));
    bundle
}

async fn serve(server: &MockServer, page: &str, body: &Value) {
    Mock::given(method("GET"))
        .and(path("/fhir/Patient"))
        .and(query_param("page", page))
        .respond_with(fhir_json(body))
        .mount(server)
        .await;
}

/// The errors of the typed and the JSON resource streams (decoded in one pass per page) of
/// the search for `page`.
async fn both_errors(client: &fhir_core::Client, page: &str) -> [fhir_core::Error; 2] {
    let typed = client
        .search::<Patient>()
        .param("page", page)
        .resources()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    let json = client
        .search_json("Patient")
        .param("page", page)
        .resources()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    [typed, json]
}

/// Two pages: matches, then matches with a warning that `birthdate` was ignored.
async fn warned_on_page_two() -> MockServer {
    let server = server().await;
    serve(
        &server,
        "1",
        &searchset(&["a", "b"], Some("Patient?page=2"), None),
    )
    .await;
    serve(
        &server,
        "2",
        &page_with_outcome(
            &["c"],
            "warning",
            "The search parameter birthdate is not supported and was ignored",
            Some("Patient?page=3"),
        ),
    )
    .await;
    serve(&server, "3", &searchset(&["d"], None, None)).await;
    server
}

#[tokio::test]
async fn a_warning_ends_typed_and_json_streams_before_the_page_it_is_on() {
    let server = warned_on_page_two().await;
    let client = client(&server);

    // Typed: the first page's matches arrive, then the error, and no third page is asked for.
    let mut typed = client.search::<Patient>().param("page", "1").resources();
    let mut ids = Vec::new();
    let err = loop {
        match typed.try_next().await {
            Ok(Some(patient)) => ids.push(patient.id.unwrap()),
            Ok(None) => panic!("the stream ended without the server's warning"),
            Err(err) => break err,
        }
    };
    assert_eq!(ids, ["a", "b"]);
    assert_eq!(err.kind(), ErrorKind::SearchOutcome, "{err}");
    let text = err.to_string();
    assert!(text.contains("birthdate is not supported"), "{text}");
    assert!(text.contains("page=2"), "names the page: {text}");
    let outcome = err.operation_outcome().unwrap();
    assert_eq!(outcome.issues()[0].severity, "warning");
    assert!(typed.try_next().await.unwrap().is_none(), "the stream ends");
    assert_eq!(received(&server).await.len(), 2);

    // The JSON stream (decoded in one pass per page) says the same.
    let err = client
        .search_json("Patient")
        .param("page", "1")
        .resources()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::SearchOutcome, "{err}");
}

#[tokio::test]
async fn information_passes_and_errors_fail() {
    let server = server().await;
    serve(
        &server,
        "1",
        &page_with_outcome(&["a"], "information", "all good", None),
    )
    .await;
    serve(
        &server,
        "2",
        &page_with_outcome(&["b"], "error", "too costly", None),
    )
    .await;
    let client = client(&server);

    let ids: Vec<Value> = client
        .search_json("Patient")
        .param("page", "1")
        .resources()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids.len(), 1);
    let err = client
        .search::<Patient>()
        .param("page", "2")
        .resources()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::SearchOutcome, "{err}");
}

#[tokio::test]
async fn report_hands_every_outcome_to_the_callback_and_goes_on() {
    let server = warned_on_page_two().await;
    let client = client(&server);
    for typed in [true, false] {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        let report = SearchOutcomes::report(move |outcome| {
            sink.lock().unwrap().push(outcome.summary());
        });
        let count = if typed {
            client
                .search::<Patient>()
                .param("page", "1")
                .outcomes(report)
                .resources()
                .try_collect::<Vec<_>>()
                .await
                .unwrap()
                .len()
        } else {
            client
                .search_json("Patient")
                .param("page", "1")
                .outcomes(report)
                .resources()
                .try_collect::<Vec<_>>()
                .await
                .unwrap()
                .len()
        };
        assert_eq!(count, 4, "every match of the three pages");
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert!(seen[0].contains("birthdate"), "{seen:?}");
    }

    let all = client
        .search_json("Patient")
        .param("page", "1")
        .outcomes(SearchOutcomes::Ignore)
        .resources()
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    assert_eq!(all.len(), 4);
}

#[tokio::test]
async fn pages_and_entries_show_outcomes_as_they_are() {
    let server = warned_on_page_two().await;
    let client = client(&server);
    let pages: Vec<_> = client
        .search::<Patient>()
        .param("page", "1")
        .pages()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 3);
    assert_eq!(pages[1].outcomes().unwrap().len(), 1);
    let entries: Vec<_> = client
        .search_json("Patient")
        .param("page", "1")
        .entries()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(entries.len(), 5);
}

#[tokio::test]
async fn an_outcome_entry_that_is_no_operation_outcome_is_a_decode_error() {
    let server = server().await;
    let mut bundle = searchset(&["a"], None, None);
    bundle["entry"].as_array_mut().unwrap().push(
        json!({"resource": {"resourceType": "Patient", "id": "x"}, "search": {"mode": "outcome"}}),
    );
    serve(&server, "1", &bundle).await;
    let client = client(&server);
    for err in both_errors(&client, "1").await {
        assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
        assert!(err.to_string().contains("entry[1]"), "{err}");
    }
}

#[tokio::test]
async fn outcomes_without_the_mode_or_with_unreadable_issues_still_fail() {
    let server = server().await;
    let with = |entry: Value| {
        let mut bundle = searchset(&["a"], None, None);
        bundle["entry"].as_array_mut().unwrap().push(entry);
        bundle
    };
    let warning = json!({"resourceType": "OperationOutcome",
                         "issue": [{"severity": "warning", "code": "not-supported"}]});
    // No `search.mode`; a mode in capitals; issues that are not a list; no issues at all.
    serve(&server, "1", &with(json!({"resource": warning}))).await;
    serve(
        &server,
        "2",
        &with(json!({"resource": warning, "search": {"mode": "OUTCOME"}})),
    )
    .await;
    serve(
        &server,
        "3",
        &with(json!({"resource": {"resourceType": "OperationOutcome",
                                  "issue": {"severity": "information"}},
                     "search": {"mode": "outcome"}})),
    )
    .await;
    serve(
        &server,
        "4",
        &with(json!({"resource": {"resourceType": "OperationOutcome"}, "search": {"mode": "outcome"}})),
    )
    .await;
    let client = client(&server);
    for page in ["1", "2", "3", "4"] {
        for err in both_errors(&client, page).await {
            assert_eq!(err.kind(), ErrorKind::SearchOutcome, "page {page}: {err}");
        }
    }
}
