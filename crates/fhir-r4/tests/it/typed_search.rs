//! `client.search_with(Search<Observation>)`: the exact query the server receives, the typed
//! page (matches, includes, outcomes, total), and malformed Bundles as errors naming the entry.

use fhir_core::{Client, DecodeErrorKind};
use fhir_r4::resources::{Observation, Patient};
use fhir_r4::search::{DateValue, Search, Token, common, observation, patient};
use futures::TryStreamExt as _;
use serde_json::{Value, json};
use wiremock::Mock;
use wiremock::matchers::{method, path};

use crate::client_support::*;

fn observation(id: &str) -> Value {
    json!({"resourceType": "Observation", "id": id, "status": "final",
           "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
           "subject": {"reference": "Patient/p1"}})
}

fn query() -> Search<Observation> {
    Search::<Observation>::new()
        .and(observation::code().eq(Token::new("http://loinc.org", "8867-4")))
        .and(observation::subject().chain(patient::name().contains("Chalmers, P|J")))
        .and(observation::date().ge(DateValue::parse("2024-01").unwrap()))
        .and(common::tag().not(Token::new("urn:t", "a$b")))
        .include(observation::patient())
        .sort_desc(observation::date())
        .count(2)
}

const EXPECTED: &str = "GET /fhir/Observation?code=http://loinc.org%7C8867-4\
    &subject:Patient.name:contains=Chalmers%5C,%20P%5C%7CJ&date=ge2024-01\
    &_tag:not=urn:t%7Ca%5C$b&_include=Observation:patient&_count=2&_sort=-date";

#[tokio::test]
async fn a_typed_search_sends_the_exact_query_and_reads_a_typed_page() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/fhir/Observation"))
        .respond_with(fhir_json(200, &json!({
            "resourceType": "Bundle", "type": "searchset", "total": 2,
            "entry": [
                {"resource": observation("o1"), "search": {"mode": "match"}},
                {"resource": {"resourceType": "Patient", "id": "p1"}, "search": {"mode": "include"}},
                {"resource": {"resourceType": "OperationOutcome", "issue": [
                    {"severity": "information", "code": "informational", "diagnostics": "sorted"}]},
                 "search": {"mode": "outcome"}},
                {"resource": observation("o2"), "search": {"mode": "match"}}
            ]
        })))
        .mount(&server)
        .await;

    let page = client(&server).search_with(query()).send().await.unwrap();

    assert_eq!(line(&received(&server).await[0]), EXPECTED);
    assert_eq!(page.total(), Some(2));
    let matches: Vec<Observation> = page.resources().unwrap();
    let ids: Vec<_> = matches.iter().map(|o| o.id.as_deref().unwrap()).collect();
    assert_eq!(ids, ["o1", "o2"]);
    let included: Vec<Patient> = page.included().map(|e| e.decode().unwrap()).collect();
    assert_eq!(included.len(), 1);
    assert_eq!(included[0].id.as_deref(), Some("p1"));
    let outcomes = page.outcomes().unwrap();
    assert_eq!(outcomes.len(), 1);
    assert_eq!(
        outcomes[0].issues()[0].diagnostics.as_deref(),
        Some("sorted")
    );
}

#[tokio::test]
async fn a_malformed_entry_is_an_error_naming_its_index() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/fhir/Observation"))
        .respond_with(fhir_json(200, &json!({
            "resourceType": "Bundle", "type": "searchset",
            "entry": [
                {"resource": observation("o1"), "search": {"mode": "match"}},
                {"resource": observation("o2"), "search": {"mode": "match"}},
                {"resource": "not an object", "search": {"mode": "match"}},
                {"resource": {"resourceType": "Patient", "id": "p9"}, "search": {"mode": "match"}}
            ]
        })))
        .mount(&server)
        .await;

    let page = client(&server).search_with(query()).send().await.unwrap();
    let err = page.resources().unwrap_err();
    assert!(err.path.starts_with("entry[2].resource"), "{err}");

    // Without entry 2, entry 3 (a Patient among Observation matches) is the one named.
    let err = page
        .matches()
        .nth(3)
        .unwrap()
        .decode::<Observation>()
        .unwrap_err();
    assert!(err.path.starts_with("entry[3].resource"), "{err}");
    assert_eq!(err.kind, DecodeErrorKind::WrongResourceType, "{err}");

    // The stream yields the good matches, then the error naming the entry.
    let mut stream = client(&server).search_with(query()).resources();
    assert_eq!(
        stream.try_next().await.unwrap().unwrap().id.as_deref(),
        Some("o1")
    );
    assert_eq!(
        stream.try_next().await.unwrap().unwrap().id.as_deref(),
        Some("o2")
    );
    let err = stream.try_next().await.unwrap_err();
    assert!(err.to_string().contains("entry[2].resource"), "{err}");
}

#[tokio::test]
async fn a_search_in_a_compartment_goes_to_the_compartment_path() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/fhir/Patient/p1/Observation"))
        .respond_with(fhir_json(
            200,
            &json!({
                "resourceType": "Bundle", "type": "searchset", "total": 1,
                "entry": [{"resource": observation("o1"), "search": {"mode": "match"}}]
            }),
        ))
        .mount(&server)
        .await;
    let compartment = fhir_r4::paths::patient_compartment("p1").unwrap();
    let q = Search::<Observation>::new()
        .and(observation::status().eq(["final", "amended"]))
        .in_compartment(&compartment);
    let expected = format!("/{}", fhir_r4::paths::search(&q));

    let page = client(&server).search_with(q).send().await.unwrap();

    assert_eq!(page.resources().unwrap()[0].id.as_deref(), Some("o1"));
    let request = &received(&server).await[0];
    assert_eq!(
        line(request),
        "GET /fhir/Patient/p1/Observation?status=final,amended"
    );
    // The path builder gives the same relative request.
    assert_eq!(expected, "/Patient/p1/Observation?status=final,amended");
}

/// The new-user trial's trap: the in-process sandbox cannot apply `birthdate` and says so in
/// an outcome entry. The typed resource stream must not hand back the unfiltered Patients.
#[tokio::test]
async fn a_parameter_the_server_ignored_is_an_error_not_wrong_results() {
    let sandbox = fhir_testkit::Sandbox::builder()
        .require_auth(false)
        .start()
        .await;
    let client = Client::new(&sandbox.fhir_base_url()).unwrap();
    let search = || {
        Search::<Patient>::new()
            .and(patient::birthdate().gt(DateValue::parse("1970").unwrap()))
            .count(10)
    };

    let err = client
        .search_with(search())
        .resources()
        .try_collect::<Vec<Patient>>()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), fhir_core::ErrorKind::SearchOutcome, "{err}");
    assert!(err.to_string().contains("birthdate"), "{err}");

    // Told to go on, the caller gets the matches and hears what the server said.
    let said = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = std::sync::Arc::clone(&said);
    let patients: Vec<Patient> = client
        .search_with(search())
        .outcomes(fhir_core::SearchOutcomes::report(move |outcome| {
            sink.lock().unwrap().push(outcome.summary());
        }))
        .resources()
        .try_collect()
        .await
        .unwrap();
    assert!(!patients.is_empty());
    assert!(said.lock().unwrap().iter().all(|s| s.contains("birthdate")));
    assert!(!said.lock().unwrap().is_empty());
}

#[test]
fn code_enums_and_dates_are_search_values() {
    use fhir_r4::codes::{AdministrativeGender, ObservationStatus};
    use fhir_r4::primitives::Date;

    let women = Search::<Patient>::new()
        .and(patient::gender().eq(AdministrativeGender::Female))
        .and(patient::birthdate().gt("1970".parse::<Date>().unwrap()));
    assert_eq!(women.to_query(), "gender=female&birthdate=gt1970");
    let done = Search::<Observation>::new()
        .and(observation::status().eq([ObservationStatus::Final, ObservationStatus::Amended]));
    assert_eq!(done.to_query(), "status=final,amended");
}
