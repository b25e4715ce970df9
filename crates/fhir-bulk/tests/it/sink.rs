//! The directory sink and resume: an export interrupted mid-download is run again, polls
//! nothing, re-downloads no completed file, continues the partial one with Range, and
//! produces the same data.

use fhir_bulk::{
    BulkConfig, BulkError, Event, ExportRequest, LOCK_FILE, MANIFEST_FILE, STATE_FILE,
};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::download::CutThenResume;
use crate::support::{bulk, manifest, server};

fn ndjson(resource_type: &str, n: usize) -> String {
    (0..n)
        .map(|i| format!("{{\"resourceType\":\"{resource_type}\",\"id\":\"{i}\"}}\n"))
        .collect()
}

#[tokio::test]
async fn an_interrupted_export_resumes_without_downloading_completed_files_again() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/fhir/$export"))
        .respond_with(ResponseTemplate::new(202).insert_header(
            "content-location",
            format!("{}/fhir/bulkstatus/9", server.uri()),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let doc = manifest(
        false,
        &[
            (
                "Patient",
                &format!("{}/files/p.ndjson", server.uri()),
                Some(3),
            ),
            (
                "Observation",
                &format!("{}/files/o.ndjson", server.uri()),
                Some(50),
            ),
        ],
    );
    Mock::given(method("GET"))
        .and(path("/fhir/bulkstatus/9"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&doc))
        .expect(1)
        .mount(&server)
        .await;
    let patients = ndjson("Patient", 3);
    let observations = ndjson("Observation", 50);
    Mock::given(method("GET"))
        .and(path("/files/p.ndjson"))
        .respond_with(ResponseTemplate::new(200).set_body_string(&patients))
        .expect(1)
        .mount(&server)
        .await;
    // The first run is cut inside line 21 and has no retries left: it stops there.
    let cut = observations.match_indices('\n').nth(19).unwrap().0 + 10;
    Mock::given(method("GET"))
        .and(path("/files/o.ndjson"))
        .respond_with(CutThenResume {
            body: observations.clone(),
            cut,
        })
        .expect(2)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let request = ExportRequest::system();

    let (first, _, _) = bulk(&server, BulkConfig::new().download_retries(0));
    let summary = first.export_to_dir(&request, dir.path()).await.unwrap();
    assert_eq!(summary.files, 1);
    assert_eq!(summary.failures.len(), 1);
    assert!(
        matches!(summary.failures[0], BulkError::Truncated { .. }),
        "{:?}",
        summary.failures
    );
    assert!(dir.path().join(STATE_FILE).exists());
    assert!(dir.path().join(MANIFEST_FILE).exists());
    let partial = std::fs::read_to_string(dir.path().join("Observation.001.ndjson.part")).unwrap();
    assert_eq!(partial.lines().count(), 20);

    // The rerun: a new client, the same directory.
    let (second, _, events) = bulk(&server, BulkConfig::new());
    let summary = second.export_to_dir(&request, dir.path()).await.unwrap();
    assert!(summary.failures.is_empty(), "{:?}", summary.failures);
    assert_eq!((summary.files, summary.skipped), (2, 1));
    assert_eq!(summary.resources_by_type["Patient"], 3);
    assert_eq!(summary.resources_by_type["Observation"], 50);
    assert!(
        events
            .all()
            .iter()
            .any(|e| matches!(e, Event::FileSkipped { .. }))
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("Patient.000.ndjson")).unwrap(),
        patients
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("Observation.001.ndjson")).unwrap(),
        observations
    );
    assert!(!dir.path().join("Observation.001.ndjson.part").exists());
    let requests = server.received_requests().await.unwrap();
    let resumed = requests
        .iter()
        .filter(|r| r.url.path() == "/files/o.ndjson")
        .nth(1)
        .unwrap();
    let offset = observations.match_indices('\n').nth(19).unwrap().0 + 1;
    assert_eq!(
        resumed.headers["range"],
        format!("bytes={offset}-").as_str()
    );
    // The mocks' `expect` counts: one kick-off, one status poll, one download of p.ndjson.
}

#[tokio::test]
async fn a_directory_another_run_holds_is_refused_before_any_request() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/fhir/$export"))
        .respond_with(ResponseTemplate::new(202).insert_header(
            "content-location",
            format!("{}/fhir/bulkstatus/9", server.uri()),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let doc = manifest(
        false,
        &[(
            "Patient",
            &format!("{}/files/p.ndjson", server.uri()),
            Some(2),
        )],
    );
    Mock::given(method("GET"))
        .and(path("/fhir/bulkstatus/9"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&doc))
        .mount(&server)
        .await;
    let patients = ndjson("Patient", 2);
    Mock::given(method("GET"))
        .and(path("/files/p.ndjson"))
        .respond_with(ResponseTemplate::new(200).set_body_string(&patients))
        .expect(2)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let request = ExportRequest::system();
    let (bulk, _, _) = bulk(&server, BulkConfig::new());

    // Another run (a lock on its own open file, as another process would hold it).
    let other = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.path().join(LOCK_FILE))
        .unwrap();
    other.try_lock().unwrap();
    for attempt in [
        bulk.export_to_dir(&request, dir.path()).await,
        bulk.save_to_dir(
            &bulk
                .job(&format!("{}/fhir/bulkstatus/9", server.uri()))
                .unwrap(),
            dir.path(),
        )
        .await,
    ] {
        let err = attempt.unwrap_err();
        assert!(
            matches!(&err, BulkError::State { reason, .. } if reason.contains("another run")),
            "{err:?}"
        );
    }
    assert!(
        server.received_requests().await.unwrap().is_empty(),
        "no request while another run holds the directory"
    );
    drop(other);

    let summary = bulk.export_to_dir(&request, dir.path()).await.unwrap();
    assert_eq!(summary.files, 1);

    // A file recorded complete but gone is fetched again, not skipped.
    std::fs::remove_file(dir.path().join("Patient.000.ndjson")).unwrap();
    let summary = bulk.export_to_dir(&request, dir.path()).await.unwrap();
    assert_eq!((summary.files, summary.skipped), (1, 0));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("Patient.000.ndjson")).unwrap(),
        patients
    );
    // The mocks' `expect` counts: one kick-off, two downloads of p.ndjson.
}

#[tokio::test]
async fn a_resumed_directory_checks_what_its_first_run_asked() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/fhir/$export"))
        .respond_with(ResponseTemplate::new(202).insert_header(
            "content-location",
            format!("{}/fhir/bulkstatus/9", server.uri()),
        ))
        .expect(1)
        .mount(&server)
        .await;
    // The server echoes no parameters (as after a POST): only the saved state knows them.
    let doc = manifest(
        false,
        &[("Patient", &format!("{}/files/p.ndjson", server.uri()), None)],
    );
    Mock::given(method("GET"))
        .and(path("/fhir/bulkstatus/9"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&doc))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/files/p.ndjson"))
        .respond_with(crate::support::sequence([
            ResponseTemplate::new(500),
            ResponseTemplate::new(200).set_body_string(ndjson("Patient", 2)),
        ]))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let (first, _, _) = bulk(&server, BulkConfig::new().download_retries(0));
    let asked = ExportRequest::system().elements(["Patient.gender"]);
    let summary = first.export_to_dir(&asked, dir.path()).await.unwrap();
    assert_eq!(summary.failures.len(), 1, "the first run stops at the 500");

    // The rerun passes another request: the saved one is what the job asked.
    let (second, _, events) = bulk(&server, BulkConfig::new());
    let summary = second
        .export_to_dir(&ExportRequest::system(), dir.path())
        .await
        .unwrap();
    assert!(summary.failures.is_empty(), "{:?}", summary.failures);
    assert!(
        events.all().iter().any(|event| matches!(
            event,
            Event::ParameterIgnored {
                parameter: "_elements",
                ..
            }
        )),
        "the unsubsetted Patients are reported against the first run's _elements"
    );
}
