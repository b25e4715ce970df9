//! K7: a server that ignores `_type` or `_elements` is noticed, per file, whether the job was
//! kicked off here (GET or POST) or resumed from its status URL; the data is kept.

use fhir_bulk::{Event, ExportRequest, Requested};
use futures::TryStreamExt as _;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::{Events, bulk, server};

const SUBSETTED: &str =
    r#"{"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationValue","code":"SUBSETTED"}"#;

fn patient(id: usize, subsetted: bool) -> String {
    if subsetted {
        format!(r#"{{"resourceType":"Patient","id":"{id}","meta":{{"tag":[{SUBSETTED}]}}}}"#)
    } else {
        format!(r#"{{"resourceType":"Patient","id":"{id}","gender":"female"}}"#)
    }
}

fn manifest_of(server_uri: &str, request: &str, outputs: &[(&str, &str)]) -> Value {
    let output: Vec<Value> = outputs
        .iter()
        .map(|(kind, at)| json!({"type": kind, "url": format!("{server_uri}{at}")}))
        .collect();
    json!({"transactionTime": "2024-01-01T00:00:00Z", "request": request,
           "requiresAccessToken": false, "output": output, "error": []})
}

fn ignored(events: &Events) -> Vec<(&'static str, String, Option<u64>)> {
    events
        .all()
        .into_iter()
        .filter_map(|event| match event {
            Event::ParameterIgnored {
                parameter,
                file,
                line,
                ..
            } => Some((parameter, file.resource_type().to_owned(), line)),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn unsubsetted_lines_and_unrequested_types_are_reported_once_per_file() {
    let server = server().await;
    let uri = server.uri();
    let patients = format!(
        "{}\n{}\n{}\n",
        patient(1, true),
        patient(2, false),
        patient(3, false)
    );
    let observations = "{\"resourceType\":\"Observation\",\"id\":\"o1\",\"status\":\"final\"}\n";
    let conditions = "{\"resourceType\":\"Condition\",\"id\":\"c1\"}\n";
    for (at, body) in [
        ("/files/p.ndjson", patients.as_str()),
        ("/files/o.ndjson", observations),
        ("/files/c.ndjson", conditions),
    ] {
        Mock::given(method("GET"))
            .and(path(at))
            .respond_with(ResponseTemplate::new(200).set_body_string(body))
            .mount(&server)
            .await;
    }
    let status = format!("{uri}/fhir/bulkstatus/7");
    Mock::given(method("GET"))
        .and(path("/fhir/Patient/$export"))
        .respond_with(ResponseTemplate::new(202).insert_header("content-location", &status))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/fhir/bulkstatus/7"))
        .respond_with(ResponseTemplate::new(200).set_body_json(manifest_of(
            &uri,
            // What the server echoes does not matter here: the kick-off was ours.
            "x",
            &[
                ("Patient", "/files/p.ndjson"),
                ("Observation", "/files/o.ndjson"),
                ("Condition", "/files/c.ndjson"),
            ],
        )))
        .mount(&server)
        .await;
    let (bulk, _, events) = bulk(&server, fhir_bulk::BulkConfig::new().concurrency(1));
    let request = ExportRequest::patient()
        .types(["Patient,Observation"])
        .elements(["Patient.gender"]);
    let job = bulk.kick_off(&request).await.unwrap();
    let manifest = job.wait().await.unwrap();
    assert_eq!(
        manifest.requested().types,
        ["Patient", "Observation"],
        "a comma-joined item is split"
    );
    let lines: Vec<_> = bulk.lines(&manifest).try_collect().await.unwrap();
    assert_eq!(lines.len(), 5, "the data is kept");
    let mut found = ignored(&events);
    found.sort();
    assert_eq!(
        found,
        [
            ("_elements", "Patient".to_owned(), Some(2)),
            ("_type", "Condition".to_owned(), None),
        ],
        "the Patient file once, at its first unmarked line; Observations were not to be \
         subset; Conditions were not asked for"
    );
}

#[tokio::test]
async fn a_server_that_honours_the_parameters_raises_nothing() {
    let server = server().await;
    let uri = server.uri();
    let patients = format!("{}\n{}\n", patient(1, true), patient(2, true));
    Mock::given(method("GET"))
        .and(path("/files/p.ndjson"))
        .respond_with(ResponseTemplate::new(200).set_body_string(patients))
        .mount(&server)
        .await;
    let request = format!("{uri}/fhir/Patient/$export?_type=Patient&_elements=gender");
    let manifest_doc = manifest_of(&uri, &request, &[("Patient", "/files/p.ndjson")]);
    Mock::given(method("GET"))
        .and(path("/fhir/bulkstatus/7"))
        .respond_with(ResponseTemplate::new(200).set_body_json(manifest_doc))
        .mount(&server)
        .await;
    let (bulk, _, events) = bulk(&server, fhir_bulk::BulkConfig::new());
    // Resumed: what was asked comes from the manifest's request URL.
    let job = bulk.job(&format!("{uri}/fhir/bulkstatus/7")).unwrap();
    let manifest = job.wait().await.unwrap();
    assert_eq!(manifest.requested().elements, ["gender"]);
    let lines: Vec<_> = bulk.lines(&manifest).try_collect().await.unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(ignored(&events), []);
}

#[tokio::test]
async fn a_resumed_job_checks_what_its_request_url_asked_and_a_post_what_it_is_told() {
    let server = server().await;
    let uri = server.uri();
    let patients = format!("{}\n", patient(1, false));
    Mock::given(method("GET"))
        .and(path("/files/p.ndjson"))
        .respond_with(ResponseTemplate::new(200).set_body_string(patients))
        .mount(&server)
        .await;
    // A GET kick-off's URL, as the server echoes it, names `_elements`.
    let get_request = format!("{uri}/fhir/Patient/$export?_elements=Patient.gender");
    Mock::given(method("GET"))
        .and(path("/fhir/bulkstatus/get"))
        .respond_with(ResponseTemplate::new(200).set_body_json(manifest_of(
            &uri,
            &get_request,
            &[("Patient", "/files/p.ndjson")],
        )))
        .mount(&server)
        .await;
    // A POST kick-off's URL carries no parameters.
    let post_request = format!("{uri}/fhir/Patient/$export");
    Mock::given(method("GET"))
        .and(path("/fhir/bulkstatus/post"))
        .respond_with(ResponseTemplate::new(200).set_body_json(manifest_of(
            &uri,
            &post_request,
            &[("Patient", "/files/p.ndjson")],
        )))
        .mount(&server)
        .await;

    let (bulk_get, _, events) = bulk(&server, fhir_bulk::BulkConfig::new());
    let job = bulk_get.job(&format!("{uri}/fhir/bulkstatus/get")).unwrap();
    let manifest = job.wait().await.unwrap();
    let _: Vec<_> = bulk_get.lines(&manifest).try_collect().await.unwrap();
    assert_eq!(
        ignored(&events),
        [("_elements", "Patient".to_owned(), Some(1))]
    );

    let (bulk_post, _, events) = bulk(&server, fhir_bulk::BulkConfig::new());
    let job = bulk_post
        .job(&format!("{uri}/fhir/bulkstatus/post"))
        .unwrap();
    let manifest = job.wait().await.unwrap();
    assert_eq!(manifest.requested(), Requested::default());
    let _: Vec<_> = bulk_post.lines(&manifest).try_collect().await.unwrap();
    assert_eq!(ignored(&events), [], "nothing known, nothing claimed");

    let (bulk_told, _, events) = bulk(&server, fhir_bulk::BulkConfig::new());
    let asked = ExportRequest::patient()
        .patient_reference("Patient/1")
        .elements(["Patient.gender"]);
    let job = bulk_told
        .job(&format!("{uri}/fhir/bulkstatus/post"))
        .unwrap()
        .with_request(&asked);
    let manifest = job.wait().await.unwrap();
    let _: Vec<_> = bulk_told.lines(&manifest).try_collect().await.unwrap();
    assert_eq!(
        ignored(&events),
        [("_elements", "Patient".to_owned(), Some(1))]
    );
}
