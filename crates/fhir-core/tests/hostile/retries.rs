//! Item 5: retries never repeat what may have been applied, and say so when it matters.

use fhir_core::{ErrorKind, SearchParams};
use serde_json::json;

use crate::server::{Hostile, Reply};
use crate::support::{VirtualTimer, bounded, builder};

fn patient() -> serde_json::Value {
    json!({"resourceType": "Patient", "id": "p1", "identifier": [{"system": "urn:mrn", "value": "7"}]})
}

fn outcome(status: u16, code: &str) -> Reply {
    Reply::json(
        status,
        &json!({"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": code}]}),
    )
}

#[tokio::test]
async fn a_conditional_update_is_never_repeated_once_it_may_have_arrived() {
    let _serial = crate::support::serial().await;
    for first in [Reply::HangUp, Reply::status(503)] {
        let first = std::sync::Mutex::new(Some(first));
        let server = Hostile::start(move |_, _| {
            first
                .lock()
                .unwrap()
                .take()
                .unwrap_or_else(|| Reply::json(201, &patient()))
        })
        .await;
        let client = builder(&server.url("/fhir"), &VirtualTimer::default())
            .build()
            .unwrap();

        let result = bounded(
            client
                .update_conditional(
                    &patient(),
                    SearchParams::new().with_token("identifier", Some("urn:mrn"), "7"),
                )
                .send(),
        )
        .await;

        assert!(result.is_err());
        assert_eq!(
            server.seen().len(),
            1,
            "a conditional update was sent twice"
        );
        assert_eq!(server.seen()[0].method, http::Method::PUT);
    }
}

#[tokio::test]
async fn a_conditional_update_refused_with_429_is_repeated() {
    let _serial = crate::support::serial().await;
    let server = Hostile::start(|_, n| {
        if n == 0 {
            Reply::status(429).with_header("retry-after", "1")
        } else {
            Reply::json(200, &patient())
        }
    })
    .await;
    let client = builder(&server.url("/fhir"), &VirtualTimer::default())
        .build()
        .unwrap();

    client
        .update_conditional(
            &patient(),
            SearchParams::new().with("identifier", "urn:mrn|7"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(server.seen().len(), 2);
}

#[tokio::test]
async fn an_if_match_update_after_a_lost_answer_reports_the_unknown_outcome() {
    let _serial = crate::support::serial().await;
    let server = Hostile::start(|_, n| {
        if n == 0 {
            Reply::HangUp
        } else {
            outcome(412, "conflict")
        }
    })
    .await;
    let client = builder(&server.url("/fhir"), &VirtualTimer::default())
        .build()
        .unwrap();

    let err = bounded(client.update(&patient()).if_match("3").send())
        .await
        .unwrap_err();

    assert!(err.is_precondition_failed(), "{err}");
    assert!(err.earlier_attempt_unknown());
    assert!(err.to_string().contains("may have been applied"), "{err}");
    assert_eq!(server.seen().len(), 2);
}

#[tokio::test]
async fn a_delete_after_a_503_reports_the_unknown_outcome() {
    let _serial = crate::support::serial().await;
    let server = Hostile::start(|_, n| {
        if n == 0 {
            Reply::status(503)
        } else {
            outcome(404, "not-found")
        }
    })
    .await;
    let client = builder(&server.url("/fhir"), &VirtualTimer::default())
        .build()
        .unwrap();

    let err = client
        .delete_json("Patient", "p1")
        .send()
        .await
        .unwrap_err();

    assert!(err.is_not_found());
    assert!(err.earlier_attempt_unknown(), "{err:?}");
}

#[tokio::test]
async fn a_retry_after_a_429_leaves_no_doubt() {
    let _serial = crate::support::serial().await;
    let server = Hostile::start(|_, n| {
        if n == 0 {
            Reply::status(429)
        } else {
            outcome(410, "deleted")
        }
    })
    .await;
    let client = builder(&server.url("/fhir"), &VirtualTimer::default())
        .build()
        .unwrap();

    let err = client
        .delete_json("Patient", "p1")
        .send()
        .await
        .unwrap_err();

    assert!(err.is_gone());
    assert!(!err.earlier_attempt_unknown(), "a 429 is never processed");
    assert!(!err.to_string().contains("may have been applied"));
}

#[tokio::test]
async fn a_create_is_never_repeated_after_a_hang_up() {
    let _serial = crate::support::serial().await;
    let server = Hostile::start(|_, _| Reply::HangUp).await;
    let client = builder(&server.url("/fhir"), &VirtualTimer::default())
        .build()
        .unwrap();

    let err = bounded(client.create(&patient()).send()).await.unwrap_err();

    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert_eq!(server.seen().len(), 1);
}
