//! Typed search pages: matches as the searched type, includes as any R4 resource or one type,
//! `search.mode = outcome` entries as the R4 OperationOutcome, and errors naming the entry.

use fhir_r4::Resource;
use fhir_r4::client::TypedPageExt as _;
use fhir_r4::resources::{Observation, Patient};
use futures::TryStreamExt as _;
use serde_json::{Value, json};
use wiremock::Mock;
use wiremock::matchers::{method, path, query_param};

use crate::client_support::*;

fn observation(id: &str, subject: &str) -> Value {
    json!({"resourceType": "Observation", "id": id, "status": "final",
           "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
           "subject": {"reference": subject}})
}

fn page_one(base: &str) -> Value {
    json!({
        "resourceType": "Bundle", "type": "searchset", "total": 3,
        "link": [{"relation": "next", "url": format!("{base}/Observation?_page=2")}],
        "entry": [
            {"resource": observation("o1", "Patient/p1"), "search": {"mode": "match"}},
            {"resource": observation("o2", "Patient/p1"), "search": {"mode": "match"}},
            {"resource": {"resourceType": "Patient", "id": "p1", "gender": "female"}, "search": {"mode": "include"}},
            {"resource": {"resourceType": "Practitioner", "id": "d1"}, "search": {"mode": "include"}},
            {"resource": {"resourceType": "OperationOutcome", "issue": [
                {"severity": "warning", "code": "not-supported", "diagnostics": "_foo ignored",
                 "expression": ["_foo"]}]}, "search": {"mode": "outcome"}}
        ]
    })
}

#[tokio::test]
async fn matches_includes_and_outcomes_are_typed_across_pages() {
    let server = server().await;
    let base = base(&server);
    Mock::given(method("GET"))
        .and(path("/fhir/Observation"))
        .and(query_param("_page", "2"))
        .respond_with(fhir_json(200, &json!({
            "resourceType": "Bundle", "type": "searchset", "total": 3,
            "entry": [{"resource": observation("o3", "Patient/p1"), "search": {"mode": "match"}},
                      {"resource": {"resourceType": "Patient", "id": "p1"}, "search": {"mode": "include"}}]
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/fhir/Observation"))
        .and(query_param("_include", "Observation:patient"))
        .respond_with(fhir_json(200, &page_one(&base)))
        .mount(&server)
        .await;

    let pages: Vec<_> = client(&server)
        .search::<Observation>()
        .param("code", "http://loinc.org|8867-4")
        .param("_include", "Observation:patient")
        .count(2)
        .pages()
        .try_collect()
        .await
        .unwrap();

    assert_eq!(pages.len(), 2);
    let first = &pages[0];
    let matches: Vec<Observation> = first.resources().unwrap();
    let ids: Vec<_> = matches.iter().map(|o| o.id.as_deref().unwrap()).collect();
    assert_eq!(ids, ["o1", "o2"]);
    assert_eq!(
        matches[0].subject.as_ref().unwrap().id_of::<Patient>(),
        Some("p1")
    );

    let included = first.included_resources().unwrap();
    let types: Vec<_> = included.iter().map(Resource::resource_type).collect();
    assert_eq!(types, ["Patient", "Practitioner"]);
    assert!(matches!(&included[0], Resource::Patient(p) if p.id.as_deref() == Some("p1")));

    let patients: Vec<Patient> = first.included_of().unwrap();
    assert_eq!(patients.len(), 1);
    assert_eq!(patients[0].id.as_deref(), Some("p1"));

    let outcomes = first.operation_outcomes().unwrap();
    assert_eq!(outcomes.len(), 1);
    let issue = &outcomes[0].issue[0];
    assert_eq!(
        issue.diagnostics.as_ref().unwrap().value().unwrap(),
        "_foo ignored"
    );
    assert_eq!(issue.expression[0].value().unwrap(), "_foo");

    assert_eq!(pages[1].resources().unwrap()[0].id.as_deref(), Some("o3"));
    assert_eq!(pages[1].included_of::<Patient>().unwrap().len(), 1);
    assert!(pages[1].operation_outcomes().unwrap().is_empty());

    let requests = received(&server).await;
    assert_eq!(
        line(&requests[0]),
        "GET /fhir/Observation?code=http://loinc.org%7C8867-4&_include=Observation:patient&_count=2"
    );
    assert_eq!(line(&requests[1]), "GET /fhir/Observation?_page=2");
}

#[tokio::test]
async fn an_invalid_include_or_outcome_names_the_entry_and_path() {
    let server = server().await;
    let mut bundle = page_one(&base(&server));
    bundle["link"] = json!([]);
    bundle["entry"][2]["resource"]["gender"] = json!(7);
    bundle["entry"][4]["resource"]["issue"][0]["severity"] = json!(false);
    Mock::given(method("GET"))
        .and(path("/fhir/Observation"))
        .respond_with(fhir_json(200, &bundle))
        .mount(&server)
        .await;
    let page = client(&server)
        .search::<Observation>()
        .send()
        .await
        .unwrap();

    // The matches are fine; the broken entries fail only where they are read.
    assert_eq!(page.resources().unwrap().len(), 2);
    let err = page.included_resources().unwrap_err();
    assert!(err.path.starts_with("entry[2].resource"), "{err}");
    assert!(err.path.ends_with("gender"), "{err}");
    let err = page.included_of::<Patient>().unwrap_err();
    assert!(err.path.starts_with("entry[2].resource"), "{err}");
    // Types other than the one asked for are not decoded.
    assert_eq!(
        page.included_of::<fhir_r4::resources::OperationOutcome>()
            .unwrap()
            .len(),
        0
    );
    let err = page.operation_outcomes().unwrap_err();
    assert!(err.path.starts_with("entry[4].resource"), "{err}");
    assert!(err.path.ends_with("issue[0].severity"), "{err}");
}
