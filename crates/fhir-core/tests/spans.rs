//! Each call in a `fhir.request` span with the OpenTelemetry HTTP field names, read back by a
//! `tracing` layer of our own: method, URL without query or credentials, status, resource
//! type, resend count; and never the token.
//!
//! A test binary of its own: `tracing` caches per call site whether anyone listens, and a
//! thread-local subscriber misses spans that other tests' threads register concurrently.

// Tests unwrap freely: a panic is a test failure with a precise location.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(unreachable_pub, missing_docs)]

#[allow(dead_code)] // The shared helpers of `it`; this test uses some.
#[path = "it/support.rs"]
mod support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use fhir_core::{BearerToken, Client};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt as _};
use tracing_subscriber::registry::LookupSpan;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use support::*;

const CANARY: &str = "canary-token-4b1d";

type Fields = BTreeMap<String, String>;

/// Keeps the fields of every closed span named `fhir.request`.
#[derive(Clone, Default)]
struct Spans(Arc<Mutex<Vec<Fields>>>);

struct Visitor<'a>(&'a mut Fields);

impl Visit for Visitor<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Spans {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Fields::new();
        attrs.record(&mut Visitor(&mut fields));
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(fields);
        }
    }
    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id)
            && let Some(fields) = span.extensions_mut().get_mut::<Fields>()
        {
            values.record(&mut Visitor(fields));
        }
    }
    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(&id)
            && span.name() == "fhir.request"
            && let Some(fields) = span.extensions().get::<Fields>()
        {
            self.0.lock().unwrap().push(fields.clone());
        }
    }
}

#[tokio::test]
async fn each_call_is_a_span_with_the_http_fields_and_no_secret() {
    let spans = Spans::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(spans.clone()));
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/fhir/Patient/1"))
        .respond_with(fhir_json(&patient_json("1", "3")))
        .mount(&server)
        .await;
    // Two 503s, then the page: two resends.
    Mock::given(method("GET"))
        .and(path("/fhir/Patient"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/fhir/Patient"))
        .respond_with(fhir_json(&searchset(&["1"], None, None)))
        .mount(&server)
        .await;
    let client = Client::builder(&base(&server))
        .auth(BearerToken::new(CANARY).unwrap())
        .retry_policy(
            fhir_core::retry::RetryPolicy::default()
                .initial_backoff(std::time::Duration::from_millis(1)),
        )
        .build()
        .unwrap();

    client.read::<Patient>("1").send().await.unwrap();
    client
        .search::<Patient>()
        .param("name", "Jane Doe")
        .send()
        .await
        .unwrap();
    let err = client.read::<Patient>("missing").send().await.unwrap_err();
    assert!(err.is_not_found());

    let spans = spans.0.lock().unwrap().clone();
    assert_eq!(spans.len(), 3, "{spans:#?}");
    let read = &spans[0];
    assert_eq!(read["otel.name"], "GET Patient");
    assert_eq!(read["otel.kind"], "client");
    assert_eq!(read["http.request.method"], "GET");
    assert_eq!(read["url.full"], format!("{}/Patient/1", base(&server)));
    assert_eq!(read["server.address"], "127.0.0.1");
    assert_eq!(read["http.response.status_code"], "200");
    assert_eq!(read["fhir.resource_type"], "Patient");
    assert!(read.contains_key("fhir.duration_ms"));
    assert!(!read.contains_key("http.request.resend_count"));

    let search = &spans[1];
    assert_eq!(search["http.request.resend_count"], "2");
    assert_eq!(search["http.response.status_code"], "200");
    assert!(!search["url.full"].contains("Jane"), "no query: {search:?}");

    let missing = &spans[2];
    assert_eq!(missing["http.response.status_code"], "404");
    assert_eq!(missing["error.type"], "404");

    let all = format!("{spans:?}");
    assert!(!all.contains(CANARY), "{all}");
    assert!(!all.contains("Bearer"), "{all}");
}
