//! Item 3: paging ends, whatever the server links to.

use fhir_core::{BearerToken, Client, ErrorKind};
use futures::TryStreamExt as _;
use serde_json::{Value, json};

use crate::server::{Hostile, Reply, tls_client_builder};
use crate::support::bounded;

fn bundle(ids: &[&str], next: Option<String>) -> Reply {
    let entry: Vec<Value> = ids
        .iter()
        .map(|id| json!({"resource": {"resourceType": "Patient", "id": id}, "search": {"mode": "match"}}))
        .collect();
    let mut bundle = json!({"resourceType": "Bundle", "type": "searchset", "entry": entry});
    if let Some(next) = next {
        bundle["link"] = json!([{"relation": "next", "url": next}]);
    }
    Reply::json(200, &bundle)
}

#[tokio::test]
async fn endless_empty_pages_end_with_a_typed_error() {
    let _serial = crate::support::serial().await;
    let server = Hostile::start(|_, n| bundle(&[], Some(format!("Patient?page={}", n + 1)))).await;
    let client = Client::new(&server.url("/fhir")).unwrap();

    // Told to go on past the warnings, the stream still ends: outcomes are no progress.
    let err = bounded(
        client
            .search_json("Patient")
            .outcomes(fhir_core::SearchOutcomes::Ignore)
            .resources()
            .try_collect::<Vec<_>>(),
    )
    .await
    .unwrap_err();

    assert_eq!(err.kind(), ErrorKind::EmptyPages, "{err}");
    assert_eq!(
        server.seen().len(),
        5,
        "the default allows 5 empty pages in a row"
    );
}

#[tokio::test]
async fn the_empty_page_limit_is_configurable_and_resets_on_entries() {
    let _serial = crate::support::serial().await;
    // Empty, one entry, empty, empty: with a limit of 2, the second run fails.
    let server = Hostile::start(|_, n| {
        let ids: &[&str] = if n == 1 { &["p"] } else { &[] };
        bundle(ids, Some(format!("Patient?page={}", n + 1)))
    })
    .await;
    let client = Client::builder(&server.url("/fhir"))
        .max_empty_pages(2)
        .build()
        .unwrap();

    let err = bounded(
        client
            .search_json("Patient")
            .pages()
            .try_collect::<Vec<_>>(),
    )
    .await
    .unwrap_err();

    assert_eq!(err.kind(), ErrorKind::EmptyPages);
    assert_eq!(server.seen().len(), 4);
}

#[tokio::test]
async fn links_that_differ_only_by_fragment_are_a_cycle() {
    let _serial = crate::support::serial().await;
    let server = Hostile::start(|_, n| bundle(&["p"], Some(format!("Patient?_count=1#{n}")))).await;
    let client = Client::new(&server.url("/fhir")).unwrap();

    let err = bounded(
        client
            .search_json("Patient")
            .count(1)
            .resources()
            .try_collect::<Vec<_>>(),
    )
    .await
    .unwrap_err();

    assert_eq!(err.kind(), ErrorKind::LinkCycle, "{err}");
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn a_next_link_to_another_origin_is_refused_unless_allowed() {
    let _serial = crate::support::serial().await;
    let elsewhere = Hostile::start(|_, _| bundle(&["b"], None)).await;
    let next = elsewhere.url("/fhir/Patient?page=2");
    let server = Hostile::start(move |_, _| bundle(&["a"], Some(next.clone()))).await;
    let strict = Client::builder(&server.url("/fhir"))
        .auth(BearerToken::new("paging-canary").unwrap())
        .build()
        .unwrap();

    let err = strict
        .search_json("Patient")
        .resources()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::LinkRefused, "{err}");
    assert!(elsewhere.seen().is_empty());

    let open = Client::builder(&server.url("/fhir"))
        .auth(BearerToken::new("paging-canary").unwrap())
        .allow_cross_origin_links(true)
        .build()
        .unwrap();
    let all: Vec<Value> = open
        .search_json("Patient")
        .resources()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(elsewhere.seen()[0].header("authorization"), None);
}

#[tokio::test]
async fn an_http_link_under_an_https_base_is_always_refused() {
    let _serial = crate::support::serial().await;
    let tls = Hostile::start_tls(|seen, _| {
        let port = seen
            .header("host")
            .and_then(|host| host.rsplit(':').next())
            .unwrap_or_default()
            .to_owned();
        bundle(
            &["a"],
            Some(format!("http://localhost:{port}/fhir/Patient?page=2")),
        )
    })
    .await;
    let client = Client::builder(&tls.url("/fhir"))
        .http_client_builder(tls_client_builder())
        .allow_cross_origin_links(true)
        .build()
        .unwrap();

    let mut pages = client.search_json("Patient").pages();
    let first = pages.try_next().await.unwrap().unwrap();
    let err = pages.try_next().await.unwrap_err();

    assert_eq!(first.entries().len(), 1);
    assert_eq!(err.kind(), ErrorKind::LinkRefused, "{err}");
    assert_eq!(tls.seen().len(), 1);
}

#[tokio::test]
async fn max_pages_bounds_operations_and_history_too() {
    let _serial = crate::support::serial().await;
    let server = Hostile::start(|_, n| bundle(&["p"], Some(format!("next?page={}", n + 1)))).await;
    let client = Client::new(&server.url("/fhir")).unwrap();

    let everything: Vec<_> = bounded(
        client
            .operation("$everything")
            .instance("Patient", "p")
            .max_pages(3)
            .pages::<Value>()
            .try_collect(),
    )
    .await
    .unwrap();
    assert_eq!(everything.len(), 3);
    assert_eq!(server.seen().len(), 3);

    let history: Vec<_> = client
        .history_json("Patient", "p")
        .max_pages(2)
        .pages()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(server.seen().len(), 5);
}

#[tokio::test]
async fn pages_of_outcomes_alone_are_no_progress() {
    let _serial = crate::support::serial().await;
    let server = Hostile::start(|_, n| {
        Reply::json(
            200,
            &json!({"resourceType": "Bundle", "type": "searchset",
                    "entry": [{"resource": {"resourceType": "OperationOutcome",
                                            "issue": [{"severity": "warning", "code": "informational"}]},
                               "search": {"mode": "outcome"}}],
                    "link": [{"relation": "next", "url": format!("Patient?page={}", n + 1)}]}),
        )
    })
    .await;
    let client = Client::new(&server.url("/fhir")).unwrap();

    // Told to go on past the warnings, the stream still ends: outcomes are no progress.
    let err = bounded(
        client
            .search_json("Patient")
            .outcomes(fhir_core::SearchOutcomes::Ignore)
            .resources()
            .try_collect::<Vec<_>>(),
    )
    .await
    .unwrap_err();

    assert_eq!(err.kind(), ErrorKind::EmptyPages, "{err}");
    assert_eq!(server.seen().len(), 5);
}

#[tokio::test]
async fn a_cycle_is_found_through_encoding_and_parameter_order() {
    let _serial = crate::support::serial().await;
    let server = Hostile::start(|seen, _| {
        let next = if seen.uri.query() == Some("a=1&page=1") {
            "Patient?page=%31&a=1"
        } else {
            "Patient?page=2"
        };
        bundle(&["p"], Some(next.to_owned()))
    })
    .await;
    let client = Client::new(&server.url("/fhir")).unwrap();

    let err = bounded(
        client
            .search_json("Patient")
            .param("a", "1")
            .param("page", "1")
            .resources()
            .try_collect::<Vec<_>>(),
    )
    .await
    .unwrap_err();

    assert_eq!(err.kind(), ErrorKind::LinkCycle, "{err}");
    assert_eq!(server.seen().len(), 1);
}
