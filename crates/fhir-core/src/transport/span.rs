//! Each FHIR call in a `tracing` span with the OpenTelemetry HTTP client field names, so a
//! collector (through `tracing-opentelemetry`, say) shows FHIR calls without wrappers.
//!
//! The span is `fhir.request` at INFO level with `otel.name` (`GET Patient`), `otel.kind`
//! (`client`), `http.request.method`, `url.full` (without credentials, and without the query,
//! since search parameters carry patient data), `server.address`, `server.port`,
//! `fhir.resource_type`, and once the call ends `http.response.status_code`,
//! `http.request.resend_count` (retries and the re-authorization), `error.type` and
//! `fhir.duration_ms`. Credentials never appear: headers are not recorded.

use std::time::Duration;

use tracing::Span;
use url::Url;

use super::Received;
use crate::error::Error;
use crate::request::Prepared;

/// The span of one call, before it is sent; its fields are worked out only when someone
/// listens.
pub(super) fn request_span(request: &Prepared, base: &Url) -> Span {
    let span = tracing::info_span!(
        "fhir.request",
        otel.name = tracing::field::Empty,
        otel.kind = "client",
        http.request.method = %request.method,
        url.full = tracing::field::Empty,
        server.address = tracing::field::Empty,
        server.port = tracing::field::Empty,
        fhir.resource_type = tracing::field::Empty,
        http.response.status_code = tracing::field::Empty,
        http.request.resend_count = tracing::field::Empty,
        error.type = tracing::field::Empty,
        fhir.duration_ms = tracing::field::Empty,
    );
    if span.is_disabled() {
        return span;
    }
    let mut url = crate::credentials::redact_url(&request.url);
    url.set_query(None);
    url.set_fragment(None);
    let resource_type = resource_type(base, &request.url);
    let name = match resource_type {
        Some(resource_type) => format!("{} {resource_type}", request.method),
        None => request.method.to_string(),
    };
    span.record("otel.name", name.as_str());
    span.record("url.full", tracing::field::display(&url));
    // Without the brackets of an IPv6 literal, as OpenTelemetry writes the address.
    let address = match url.host() {
        Some(url::Host::Ipv6(address)) => address.to_string(),
        Some(host) => host.to_string(),
        None => String::new(),
    };
    span.record("server.address", address.as_str());
    if let Some(port) = url.port_or_known_default() {
        span.record("server.port", port);
    }
    if let Some(resource_type) = resource_type {
        span.record("fhir.resource_type", resource_type);
    }
    span
}

/// Records a resend (a retry or the re-authorization) on the current call's span.
pub(super) fn record_resend(count: u32) {
    Span::current().record("http.request.resend_count", count);
}

/// Records how the call ended.
pub(super) fn record_outcome(span: &Span, result: &Result<Received, Error>, elapsed: Duration) {
    span.record(
        "fhir.duration_ms",
        u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
    );
    match result {
        Ok(Received::Read(response)) => {
            span.record("http.response.status_code", response.status.as_u16());
            if !response.status.is_success() && !response.status.is_redirection() {
                span.record("error.type", response.status.as_str());
            }
        }
        Ok(Received::Open(open)) => {
            span.record("http.response.status_code", open.status.as_u16());
        }
        Err(err) => {
            if let Some(status) = err.status() {
                span.record("http.response.status_code", status.as_u16());
            }
            span.record("error.type", tracing::field::debug(err.kind()));
        }
    }
}

/// The resource type a URL under `base` addresses: its first path segment after the base
/// when it looks like one (`Patient` in `…/Patient/1/_history/2`); `None` for system-level
/// calls (`metadata`, `$export`, a batch at the base).
fn resource_type<'a>(base: &Url, url: &'a Url) -> Option<&'a str> {
    let base_path = base.path().trim_end_matches('/');
    let rest = url.path().strip_prefix(base_path)?;
    // `/fhirX/Patient` is not under `/fhir`.
    if !rest.is_empty() && !rest.starts_with('/') {
        return None;
    }
    let rest = rest.trim_start_matches('/');
    let first = rest.split('/').next()?;
    first
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_uppercase())
        .then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_resource_type_is_the_first_segment_under_the_base() {
        let base = Url::parse("https://ehr.example/fhir/r4").unwrap();
        let at = |path: &str| Url::parse(&format!("https://ehr.example{path}")).unwrap();
        let of = |path: &str| resource_type(&base, &at(path)).map(str::to_owned);
        assert_eq!(
            of("/fhir/r4/Patient/1/_history/2").as_deref(),
            Some("Patient")
        );
        assert_eq!(of("/fhir/r4/Observation").as_deref(), Some("Observation"));
        assert_eq!(of("/fhir/r4/metadata"), None);
        assert_eq!(of("/fhir/r4/$export"), None);
        assert_eq!(of("/fhir/r4"), None);
        assert_eq!(of("/other/Patient"), None);
        assert_eq!(of("/fhir/r4X/Patient"), None);
    }
}
