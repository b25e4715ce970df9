//! A guided tour of the client against a local mock FHIR server that this program starts.
//!
//! ```text
//! cargo run -p fhir-core --example tour
//! ```
//!
//! It seeds 25 Patients, then pages through them 10 at a time, reads one, creates an
//! Observation conditionally (twice, to show the second finds the first), and shows a typed
//! error carrying the server's OperationOutcome. Nothing leaves the machine.

// An example program talks to its user on stdout and stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use fhir_core::{Client, SearchParams};
use futures::TryStreamExt as _;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const PATIENTS: usize = 25;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let server = start_sandbox().await;
    let base = format!("{}/fhir", server.uri());
    println!("sandbox FHIR server at {base}");
    let client = Client::new(&base)?;

    // Search, following `next` links across pages.
    let mut pages = client
        .search_json("Patient")
        .param("active", "true")
        .count(10)
        .pages();
    let mut names = Vec::new();
    let mut page_count = 0;
    while let Some(page) = pages.try_next().await? {
        page_count += 1;
        for patient in page.resources()? {
            names.push(
                patient["name"][0]["family"]
                    .as_str()
                    .unwrap_or("?")
                    .to_owned(),
            );
        }
    }
    println!(
        "searched Patient?active=true: {} patients over {page_count} pages",
        names.len()
    );

    // Read one, with its version from the ETag.
    let patient = client.read_json("Patient", "p7").send().await?;
    println!(
        "read Patient/p7: {} (version {})",
        patient.resource()["name"][0]["family"]
            .as_str()
            .unwrap_or("?"),
        patient.meta().version_id().unwrap_or("?")
    );

    // Conditional create: the second call finds the first instead of duplicating it.
    let observation = json!({
        "resourceType": "Observation", "status": "final",
        "identifier": [{"system": "urn:quickstart", "value": "hr-1"}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4", "display": "Heart rate"}]},
        "subject": {"reference": "Patient/p7"},
        "valueQuantity": {"value": 72, "unit": "beats/minute", "system": "http://unitsofmeasure.org", "code": "/min"}
    });
    let if_none_exist =
        SearchParams::new().with_token("identifier", Some("urn:quickstart"), "hr-1");
    for _ in 0..2 {
        let created = client
            .create(&observation)
            .if_none_exist(if_none_exist.clone())
            .send()
            .await?;
        println!(
            "create Observation (if none exist): Observation/{} {}",
            created.id().unwrap_or("?"),
            if created.created() {
                "created"
            } else {
                "already there"
            }
        );
    }

    // Errors keep the server's OperationOutcome.
    match client.read_json("Patient", "missing").send().await {
        Err(err) if err.is_not_found() => println!(
            "read Patient/missing: not found ({})",
            err.operation_outcome()
                .map(|outcome| outcome.summary())
                .unwrap_or_default()
        ),
        other => println!("read Patient/missing: unexpected {other:?}"),
    }
    Ok(())
}

/// A small FHIR server on loopback: paged Patient search, read, conditional create.
async fn start_sandbox() -> MockServer {
    let server = MockServer::start().await;
    let base = format!("{}/fhir", server.uri());
    let patients: Vec<Value> = (0..PATIENTS)
        .map(|n| json!({"resourceType": "Patient", "id": format!("p{n}"), "meta": {"versionId": "1"},
                        "active": true, "name": [{"family": format!("Family{n}"), "given": ["Pat"]}]}))
        .collect();

    let page_of = {
        let base = base.clone();
        let patients = patients.clone();
        move |offset: usize, count: usize| {
            let slice: Vec<Value> = patients.iter().skip(offset).take(count).cloned().collect();
            let mut bundle = json!({"resourceType": "Bundle", "type": "searchset", "total": patients.len(),
                "entry": slice.iter().map(|p| json!({"fullUrl": format!("{base}/Patient/{}", p["id"].as_str().unwrap_or("")),
                    "resource": p, "search": {"mode": "match"}})).collect::<Vec<_>>()});
            if offset + count < patients.len() {
                bundle["link"] = json!([{"relation": "next",
                    "url": format!("{base}/Patient?active=true&_count={count}&_offset={}", offset + count)}]);
            }
            bundle
        }
    };
    Mock::given(method("GET"))
        .and(path("/fhir/Patient"))
        .and(query_param("active", "true"))
        .respond_with(move |request: &Request| {
            let param = |name: &str| {
                request
                    .url
                    .query_pairs()
                    .find(|(key, _)| key == name)
                    .and_then(|(_, value)| value.parse().ok())
            };
            let bundle = page_of(param("_offset").unwrap_or(0), param("_count").unwrap_or(10));
            ResponseTemplate::new(200).set_body_json(bundle)
        })
        .mount(&server)
        .await;
    let by_id = patients.clone();
    Mock::given(method("GET"))
        .and(path_regex(r"^/fhir/Patient/[^/]+$"))
        .respond_with(move |request: &Request| {
            let id = request.url.path().rsplit('/').next().unwrap_or_default();
            match by_id.iter().find(|patient| patient["id"] == id) {
                Some(patient) => ResponseTemplate::new(200).set_body_json(patient).insert_header("etag", "W/\"1\""),
                None => ResponseTemplate::new(404).set_body_json(json!({"resourceType": "OperationOutcome",
                    "issue": [{"severity": "error", "code": "not-found", "diagnostics": format!("Patient/{id} is not known")}]})),
            }
        })
        .mount(&server)
        .await;
    let stored: Arc<Mutex<Option<Value>>> = Arc::default();
    Mock::given(method("POST"))
        .and(path("/fhir/Observation"))
        .respond_with(move |request: &Request| {
            let mut slot = stored
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if request.headers.contains_key("if-none-exist")
                && let Some(existing) = slot.as_ref()
            {
                return ResponseTemplate::new(200).set_body_json(existing);
            }
            let mut observation: Value = serde_json::from_slice(&request.body).unwrap_or_default();
            observation["id"] = json!("obs-1");
            *slot = Some(observation.clone());
            ResponseTemplate::new(201)
                .set_body_json(observation)
                .insert_header("location", "Observation/obs-1/_history/1")
        })
        .mount(&server)
        .await;
    server
}
