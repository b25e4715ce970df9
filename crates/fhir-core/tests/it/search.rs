//! search by GET and POST `_search`, at type, system and compartment level, and paging.

use fhir_core::interactions::SearchMethod;
use fhir_core::{BearerToken, Client, ErrorKind, SearchParams};
use futures::{StreamExt as _, TryStreamExt as _};
use serde_json::Value;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

use crate::support::*;

#[tokio::test]
async fn type_search_by_get_sends_the_parameters_in_order() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/fhir/Patient"))
        .respond_with(fhir_json(&searchset(&["a", "b"], None, Some(2))))
        .mount(&server)
        .await;

    let page = client(&server)
        .search::<Patient>()
        .param("family", "O'Brien & Sons")
        .params(SearchParams::new().with_token("identifier", Some("urn:mrn"), "1,2"))
        .count(50)
        .send()
        .await
        .unwrap();

    assert_eq!(page.total(), Some(2));
    let ids: Vec<_> = page
        .resources()
        .unwrap()
        .into_iter()
        .map(|p| p.id.unwrap())
        .collect();
    assert_eq!(ids, ["a", "b"]);
    let request = only_request(&server).await;
    assert_eq!(
        path_and_query(&request),
        "/fhir/Patient?family=O%27Brien%20%26%20Sons&identifier=urn:mrn%7C1%5C,2&_count=50"
    );
    // The server sees exactly the values the caller gave.
    let pairs: Vec<(String, String)> = request
        .url
        .query_pairs()
        .map(|(k, v)| (k.into(), v.into()))
        .collect();
    assert_eq!(pairs[0], ("family".into(), "O'Brien & Sons".into()));
    assert_eq!(pairs[1], ("identifier".into(), r"urn:mrn|1\,2".into()));
}

#[tokio::test]
async fn long_searches_switch_to_post_search_with_a_form_body() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/fhir/Observation/_search"))
        .respond_with(fhir_json(
            &serde_json::json!({"resourceType": "Bundle", "type": "searchset"}),
        ))
        .mount(&server)
        .await;
    let codes: Vec<String> = (0..400)
        .map(|n| format!("http://loinc.org|{n}-0"))
        .collect();
    let codes = codes.join(",");

    let client = builder(&server, &FakeTimer::default())
        .max_get_url_len(1024)
        .build()
        .unwrap();
    let page = client
        .search_json("Observation")
        .param("code", codes.as_str())
        .count(10)
        .send()
        .await
        .unwrap();

    assert!(page.entries().is_empty());
    let request = only_request(&server).await;
    assert_eq!(request.method.as_str(), "POST");
    assert_eq!(request.url.query(), None);
    assert_eq!(
        header(&request, "content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let form = SearchParams::parse(std::str::from_utf8(&request.body).unwrap());
    assert_eq!(form.get("code"), Some(codes.as_str()));
    assert_eq!(form.get("_count"), Some("10"));
}

#[tokio::test]
async fn short_searches_stay_get_unless_post_is_asked_for() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/fhir/Patient/_search"))
        .respond_with(fhir_json(&searchset(&[], None, Some(0))))
        .mount(&server)
        .await;
    client(&server)
        .search_json("Patient")
        .param("name", "x")
        .method(SearchMethod::Post)
        .send()
        .await
        .unwrap();
    let request = only_request(&server).await;
    assert_eq!(request.method.as_str(), "POST");
    assert_eq!(std::str::from_utf8(&request.body).unwrap(), "name=x");
}

#[tokio::test]
async fn system_and_compartment_searches_use_their_paths() {
    let server = server().await;
    Mock::given(method("GET"))
        .respond_with(fhir_json(&searchset(&[], None, None)))
        .mount(&server)
        .await;
    let client = client(&server);
    client
        .search_system()
        .param("_type", "Patient,Practitioner")
        .send()
        .await
        .unwrap();
    client
        .search_compartment::<Patient>("Group", "g1")
        .send()
        .await
        .unwrap();
    client
        .search_compartment_json("Patient", "p1", None)
        .param("_count", "5")
        .send()
        .await
        .unwrap();
    client
        .search_compartment_json("Patient", "p1", Some("Observation"))
        .send()
        .await
        .unwrap();

    let paths: Vec<String> = received(&server).await.iter().map(path_and_query).collect();
    assert_eq!(
        paths,
        [
            "/fhir?_type=Patient,Practitioner",
            "/fhir/Group/g1/Patient",
            "/fhir/Patient/p1/*?_count=5",
            "/fhir/Patient/p1/Observation",
        ]
    );
}

/// Mounts three pages: the first answers the search, the next two are reached by `next` links
/// (one absolute, one relative to the base).
async fn mount_three_pages(server: &wiremock::MockServer) {
    let base = base(server);
    Mock::given(path("/fhir/Patient"))
        .and(query_param("_count", "2"))
        .respond_with(fhir_json(&searchset(
            &["p1", "p2"],
            Some(&format!("{base}/Patient?page=2")),
            Some(5),
        )))
        .mount(server)
        .await;
    Mock::given(path("/fhir/Patient"))
        .and(query_param("page", "2"))
        .respond_with(fhir_json(&searchset(
            &["p3", "p4"],
            Some("Patient?page=3"),
            Some(5),
        )))
        .mount(server)
        .await;
    Mock::given(path("/fhir/Patient"))
        .and(query_param("page", "3"))
        .respond_with(fhir_json(&searchset(&["p5"], None, Some(5))))
        .mount(server)
        .await;
}

#[tokio::test]
async fn resources_stream_follows_every_next_link() {
    let server = server().await;
    mount_three_pages(&server).await;

    let ids: Vec<String> = client(&server)
        .search::<Patient>()
        .count(2)
        .resources()
        .map_ok(|patient| patient.id.unwrap())
        .try_collect()
        .await
        .unwrap();

    assert_eq!(ids, ["p1", "p2", "p3", "p4", "p5"]);
    let paths: Vec<String> = received(&server).await.iter().map(path_and_query).collect();
    assert_eq!(
        paths,
        [
            "/fhir/Patient?_count=2",
            "/fhir/Patient?page=2",
            "/fhir/Patient?page=3"
        ]
    );
}

#[tokio::test]
async fn pages_and_entries_streams() {
    let server = server().await;
    mount_three_pages(&server).await;
    let client = client(&server);

    let pages: Vec<_> = client
        .search_json("Patient")
        .count(2)
        .pages()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 3);
    assert_eq!(
        pages.iter().map(|page| page.entries().len()).sum::<usize>(),
        5
    );
    assert_eq!(pages[1].url().query(), Some("page=2"));

    let entries: Vec<_> = client
        .search_json("Patient")
        .count(2)
        .entries()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(entries.len(), 5);
    assert_eq!(
        entries[4].full_url(),
        Some("http://example/fhir/Patient/p5")
    );
}

#[tokio::test]
async fn max_pages_ends_the_stream_early() {
    let server = server().await;
    mount_three_pages(&server).await;
    let pages: Vec<_> = client(&server)
        .search_json("Patient")
        .count(2)
        .max_pages(2)
        .pages()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 2);
    assert_eq!(received(&server).await.len(), 2);
}

#[tokio::test]
async fn a_next_link_cycle_is_an_error_not_a_loop() {
    let server = server().await;
    let base = base(&server);
    Mock::given(path("/fhir/Patient"))
        .and(query_param("page", "1"))
        .respond_with(fhir_json(&searchset(
            &["a"],
            Some(&format!("{base}/Patient?page=2")),
            None,
        )))
        .mount(&server)
        .await;
    Mock::given(path("/fhir/Patient"))
        .and(query_param("page", "2"))
        .respond_with(fhir_json(&searchset(
            &["b"],
            Some(&format!("{base}/Patient?page=1")),
            None,
        )))
        .mount(&server)
        .await;

    let results: Vec<Result<Value, fhir_core::Error>> = client(&server)
        .search_json("Patient")
        .param("page", "1")
        .resources()
        .collect::<Vec<_>>()
        .await;

    assert_eq!(results.len(), 3);
    assert!(results[0].is_ok() && results[1].is_ok());
    let err = results[2].as_ref().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::LinkCycle);
    assert_eq!(err.url().unwrap().query(), Some("page=1"));
    assert_eq!(received(&server).await.len(), 2);
}

#[tokio::test]
async fn a_next_link_to_another_origin_is_refused_by_default() {
    let server = server().await;
    let elsewhere = crate::support::server().await;
    Mock::given(path("/fhir/Patient"))
        .respond_with(fhir_json(&searchset(
            &["a"],
            Some(&format!("{}/fhir/Patient?page=2", elsewhere.uri())),
            None,
        )))
        .mount(&server)
        .await;
    let mut pages = client(&server).search_json("Patient").pages();

    let first = pages.try_next().await.unwrap().unwrap();
    let err = pages.try_next().await.unwrap_err();

    assert_eq!(
        first.entries().len(),
        1,
        "the page with the link is yielded first"
    );
    assert_eq!(err.kind(), fhir_core::ErrorKind::LinkRefused);
    assert!(received(&elsewhere).await.is_empty());
}

#[tokio::test]
async fn a_next_link_to_another_host_gets_no_credentials() {
    let server = server().await;
    let elsewhere = crate::support::server().await;
    Mock::given(path("/fhir/Patient"))
        .respond_with(fhir_json(&searchset(
            &["a"],
            Some(&format!("{}/fhir/Patient?page=2", elsewhere.uri())),
            None,
        )))
        .mount(&server)
        .await;
    Mock::given(path("/fhir/Patient"))
        .respond_with(fhir_json(&searchset(&["b"], None, None)))
        .mount(&elsewhere)
        .await;
    let client = Client::builder(&base(&server))
        .auth(BearerToken::new("top-secret").unwrap())
        .allow_cross_origin_links(true)
        .build()
        .unwrap();

    let count = client
        .search_json("Patient")
        .resources()
        .try_collect::<Vec<_>>()
        .await
        .unwrap()
        .len();

    assert_eq!(count, 2);
    let first = only_request(&server).await;
    assert_eq!(header(&first, "authorization"), Some("Bearer top-secret"));
    let second = only_request(&elsewhere).await;
    assert_eq!(header(&second, "authorization"), None);
}

#[tokio::test]
async fn a_failing_page_ends_the_stream_with_the_error() {
    let server = server().await;
    Mock::given(path("/fhir/Patient"))
        .and(query_param("_count", "1"))
        .respond_with(fhir_json(&searchset(&["a"], Some("Patient?page=2"), None)))
        .mount(&server)
        .await;
    Mock::given(path("/fhir/Patient"))
        .and(query_param("page", "2"))
        .respond_with(ResponseTemplate::new(500).set_body_string("<html>oops</html>"))
        .mount(&server)
        .await;
    let client = builder(&server, &FakeTimer::default())
        .retry_policy(fhir_core::RetryPolicy::none())
        .build()
        .unwrap();
    let results: Vec<_> = client
        .search_json("Patient")
        .count(1)
        .resources()
        .collect()
        .await;
    assert_eq!(results.len(), 2);
    let err = results[1].as_ref().unwrap_err();
    assert!(err.is_server_error());
    assert_eq!(err.body_excerpt(), Some("<html>oops</html>"));
}

#[tokio::test]
async fn a_non_bundle_search_response_is_a_decode_error() {
    let server = server().await;
    Mock::given(path("/fhir/Patient"))
        .respond_with(fhir_json(&patient_json("x", "1")))
        .mount(&server)
        .await;
    let err = client(&server)
        .search_json("Patient")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_decode());
    assert!(
        err.to_string().contains("expected Bundle, found Patient"),
        "{err}"
    );
}

/// A query built outside the client, as `fhir_r4::search::Search` is.
struct Query {
    pairs: Vec<(String, String)>,
    compartment: Option<(&'static str, &'static str)>,
}

impl fhir_core::SearchQuery for Query {
    type Resource = Patient;

    fn into_pairs(self) -> Vec<(String, String)> {
        self.pairs
    }

    fn compartment(&self) -> Option<(&str, &str)> {
        self.compartment
    }
}

#[tokio::test]
async fn search_with_sends_the_query_pairs_as_given_in_order() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/fhir/Patient"))
        .respond_with(fhir_json(&searchset(&["a"], None, Some(1))))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/fhir/Group/g1/Patient"))
        .respond_with(fhir_json(&searchset(&["b"], None, None)))
        .mount(&server)
        .await;
    let escaped = fhir_core::query::escape("a,b|c");
    let query = Query {
        pairs: vec![
            ("name:contains".into(), escaped.clone()),
            ("identifier".into(), r"urn:mrn|1\,2".into()),
            ("name".into(), "x y".into()),
            ("_sort".into(), "-_lastUpdated".into()),
        ],
        compartment: None,
    };

    let page = client(&server)
        .search_with(query)
        .count(5)
        .send()
        .await
        .unwrap();
    assert_eq!(page.resources().unwrap()[0].id.as_deref(), Some("a"));
    let request = only_request(&server).await;
    assert_eq!(
        path_and_query(&request),
        "/fhir/Patient?name:contains=a%5C,b%5C%7Cc&identifier=urn:mrn%7C1%5C,2&name=x%20y\
         &_sort=-_lastUpdated&_count=5"
    );

    let in_group = Query {
        pairs: vec![("active".into(), "true".into())],
        compartment: Some(("Group", "g1")),
    };
    let page = client(&server).search_with(in_group).send().await.unwrap();
    assert_eq!(page.resources().unwrap()[0].id.as_deref(), Some("b"));
    let requests = received(&server).await;
    assert_eq!(
        path_and_query(&requests[1]),
        "/fhir/Group/g1/Patient?active=true"
    );
}
