//! The `$export` endpoints over raw HTTP: what they refuse, and the exact shape of their
//! answers (fhir-bulk's own tests drive the whole flow through the client).

use fhir_testkit::Sandbox;
use reqwest::StatusCode;
use serde_json::Value;

const FHIR_JSON: &str = "application/fhir+json";

struct Export {
    sandbox: Sandbox,
    http: reqwest::Client,
    token: String,
}

async fn export(builder: fhir_testkit::SandboxBuilder) -> Export {
    let sandbox = builder.start().await;
    let token = sandbox.issue_access_token("system/*.rs");
    Export {
        sandbox,
        http: reqwest::Client::new(),
        token,
    }
}

impl Export {
    fn kick_off(&self, path_and_query: &str) -> reqwest::RequestBuilder {
        self.http
            .get(format!("{}/{path_and_query}", self.sandbox.fhir_base_url()))
            .bearer_auth(&self.token)
            .header("accept", FHIR_JSON)
            .header("prefer", "respond-async")
    }

    async fn status_url(&self, path_and_query: &str) -> String {
        let response = self.kick_off(path_and_query).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        response.headers()["content-location"]
            .to_str()
            .unwrap()
            .to_owned()
    }

    /// Polls `status_url` until the manifest.
    async fn manifest(&self, status_url: &str) -> Value {
        loop {
            let response = self
                .http
                .get(status_url)
                .bearer_auth(&self.token)
                .send()
                .await
                .unwrap();
            if response.status() == StatusCode::ACCEPTED {
                continue;
            }
            assert_eq!(response.status(), StatusCode::OK);
            assert!(response.headers().contains_key("expires"));
            assert_eq!(response.headers()["content-type"], "application/json");
            return response.json().await.unwrap();
        }
    }
}

async fn diagnostics(response: reqwest::Response) -> (StatusCode, String) {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    (
        status,
        body["issue"][0]["diagnostics"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

#[tokio::test]
async fn kick_offs_without_the_required_headers_or_with_misplaced_parameters_are_refused() {
    let e = export(Sandbox::builder()).await;
    let base = e.sandbox.fhir_base_url();
    let no_prefer = e
        .http
        .get(format!("{base}/$export"))
        .bearer_auth(&e.token)
        .header("accept", FHIR_JSON);
    let (status, text) = diagnostics(no_prefer.send().await.unwrap()).await;
    assert_eq!(
        (status, text.contains("respond-async")),
        (StatusCode::BAD_REQUEST, true),
        "{text}"
    );

    let wrong_accept = e
        .http
        .get(format!("{base}/$export"))
        .bearer_auth(&e.token)
        .header("prefer", "respond-async")
        .header("accept", "application/json");
    let (status, text) = diagnostics(wrong_accept.send().await.unwrap()).await;
    assert_eq!(
        (status, text.contains("application/fhir+json")),
        (StatusCode::BAD_REQUEST, true),
        "{text}"
    );

    let no_token = e
        .http
        .get(format!("{base}/$export"))
        .header("accept", FHIR_JSON)
        .header("prefer", "respond-async");
    assert_eq!(
        no_token.send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );

    for (query, needle) in [
        ("Patient/$export?patient=Patient/pat-001", "POST"),
        ("$export?_since=2025-01-01T00:00:00+02:00", "UTC"),
        ("$export?_outputFormat=text/csv", "NDJSON"),
        ("$export?_typeFilter=Observation", "Type?query"),
    ] {
        let (status, text) = diagnostics(e.kick_off(query).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {text}");
        assert!(text.contains(needle), "{query}: {text}");
    }
    let (status, _) = diagnostics(e.kick_off("Group/nobody/$export").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let strict = e
        .kick_off("$export?includeAssociatedData=LatestProvenanceResources")
        .header("prefer", "respond-async, handling=strict");
    let (status, text) = diagnostics(strict.send().await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(text.contains("includeAssociatedData"), "{text}");
}

#[tokio::test]
async fn the_status_url_reports_progress_then_the_manifest_and_delete_ends_the_job() {
    let e = export(Sandbox::builder().export_polls(1).export_retry_after(7)).await;
    let status_url = e
        .status_url("$export?_type=Patient&_since=2025-01-01T00:00:00Z")
        .await;

    let unauthenticated = e.http.get(&status_url).send().await.unwrap();
    assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);

    let polled = e
        .http
        .get(&status_url)
        .bearer_auth(&e.token)
        .send()
        .await
        .unwrap();
    assert_eq!(polled.status(), StatusCode::ACCEPTED);
    assert_eq!(polled.headers()["retry-after"], "7");
    assert_eq!(polled.headers()["x-progress"], "0% exported");

    let manifest = e.manifest(&status_url).await;
    assert_eq!(manifest["requiresAccessToken"], true);
    assert!(
        manifest["request"]
            .as_str()
            .unwrap()
            .ends_with("$export?_type=Patient&_since=2025-01-01T00:00:00Z")
    );
    assert_eq!(manifest["output"][0]["type"], "Patient");
    assert_eq!(manifest["output"][0]["count"], 20);
    assert_eq!(manifest["deleted"], serde_json::json!([]));

    // `transactionTime` is the store's clock: an export `_since` it is empty.
    let since = manifest["transactionTime"].as_str().unwrap();
    let later = e
        .manifest(
            &e.status_url(&format!("$export?_type=Patient&_since={since}"))
                .await,
        )
        .await;
    assert_eq!(later["output"], serde_json::json!([]));

    let cancelled = e
        .http
        .delete(&status_url)
        .bearer_auth(&e.token)
        .send()
        .await
        .unwrap();
    assert_eq!(cancelled.status(), StatusCode::ACCEPTED);
    let gone = e
        .http
        .get(&status_url)
        .bearer_auth(&e.token)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn files_honour_range_and_the_token_rules_of_their_origin() {
    let e = export(Sandbox::builder().export_polls(0)).await;
    let manifest = e
        .manifest(&e.status_url("$export?_type=Patient").await)
        .await;
    let url = manifest["output"][0]["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&e.sandbox.url()));
    assert_eq!(
        e.http.get(&url).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let whole = e.http.get(&url).bearer_auth(&e.token).send().await.unwrap();
    assert_eq!(whole.headers()["content-type"], "application/fhir+ndjson");
    assert_eq!(whole.headers()["accept-ranges"], "bytes");
    let whole = whole.bytes().await.unwrap();
    assert_eq!(whole.iter().filter(|byte| **byte == b'\n').count(), 20);
    let tail = e
        .http
        .get(&url)
        .bearer_auth(&e.token)
        .header("range", "bytes=100-")
        .send()
        .await
        .unwrap();
    assert_eq!(tail.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        tail.headers()["content-range"],
        format!("bytes 100-{}/{}", whole.len() - 1, whole.len()).as_str()
    );
    assert_eq!(tail.bytes().await.unwrap(), whole.slice(100..));
    let past = e
        .http
        .get(&url)
        .bearer_auth(&e.token)
        .header("range", format!("bytes={}-", whole.len()))
        .send()
        .await
        .unwrap();
    assert_eq!(past.status(), StatusCode::RANGE_NOT_SATISFIABLE);

    let e = export(
        Sandbox::builder()
            .export_polls(0)
            .export_requires_access_token(false),
    )
    .await;
    let manifest = e
        .manifest(&e.status_url("$export?_type=Patient").await)
        .await;
    assert_eq!(manifest["requiresAccessToken"], false);
    let url = manifest["output"][0]["url"].as_str().unwrap().to_owned();
    assert!(
        url.starts_with(&e.sandbox.storage_url()) && url.contains("sig="),
        "{url}"
    );
    assert_eq!(
        e.http.get(&url).send().await.unwrap().status(),
        StatusCode::OK
    );
    let with_token = e.http.get(&url).bearer_auth(&e.token).send().await.unwrap();
    assert_eq!(with_token.status(), StatusCode::BAD_REQUEST);
    let forged = url.split("sig=").next().unwrap().to_owned() + "sig=forged";
    assert_eq!(
        e.http.get(&forged).send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    let records = e.sandbox.export_requests();
    assert!(records.iter().all(|record| !record.path.contains("sig")));
}
