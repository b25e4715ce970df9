//! Item 1: the response size cap holds while reading and after decompression, with memory
//! bounded by the cap.

use std::io::Read as _;

use bytes::Bytes;
use fhir_core::{Client, ErrorKind};
use futures::StreamExt as _;

use crate::server::{Hostile, Reply, gzip_bomb};
use crate::support::{MIB, peak_heap};

fn gzip_headers() -> Vec<(&'static str, String)> {
    vec![
        ("content-type", "application/fhir+json".to_owned()),
        ("content-encoding", "gzip".to_owned()),
    ]
}

#[tokio::test]
async fn the_bomb_really_inflates() {
    let _serial = crate::support::serial().await;
    // The trap itself must be real: its first MiBs decompress to spaces.
    let wire: Vec<Bytes> = gzip_bomb(4).collect().await;
    let compressed: Vec<u8> = wire.concat();
    assert!(
        compressed.len() < 16 * 1024,
        "{} bytes on the wire",
        compressed.len()
    );
    let mut inflated = Vec::new();
    let _ = flate2::read::GzDecoder::new(&compressed[..]).read_to_end(&mut inflated);
    assert_eq!(inflated.len(), 4 * MIB);
    assert!(inflated.iter().all(|&b| b == b' '));
}

#[tokio::test]
async fn a_gzip_bomb_stops_at_the_limit_with_bounded_memory() {
    let _serial = crate::support::serial().await;
    // About 2 MiB on the wire, 2 GiB once inflated.
    let server = Hostile::start(|_, _| Reply::stream(200, gzip_headers(), gzip_bomb(2048))).await;
    let client = Client::builder(&server.url("/fhir"))
        .max_response_bytes(Some(16 * MIB))
        .build()
        .unwrap();

    let (result, peak) = peak_heap(client.read_json("Patient", "bomb").send()).await;

    let err = result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ResponseTooLarge, "{err}");
    assert_eq!(err.size_limit(), Some(16 * MIB));
    assert!(err.to_string().contains("16777216"), "{err}");
    assert!(
        peak < 48 * MIB,
        "peak heap {} MiB for a 16 MiB limit",
        peak / MIB
    );
    assert_eq!(server.seen().len(), 1, "a size error is not retried");
}

#[tokio::test]
async fn the_default_limit_is_256_mib() {
    let _serial = crate::support::serial().await;
    let server = Hostile::start(|_, _| Reply::stream(200, gzip_headers(), gzip_bomb(2048))).await;
    let client = Client::new(&server.url("/fhir")).unwrap();

    let (result, peak) = peak_heap(client.read_json("Patient", "bomb").send()).await;

    let err = result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ResponseTooLarge);
    assert_eq!(
        err.size_limit(),
        Some(fhir_core::DEFAULT_MAX_RESPONSE_BYTES)
    );
    assert_eq!(fhir_core::DEFAULT_MAX_RESPONSE_BYTES, 256 * MIB);
    assert!(
        peak < 700 * MIB,
        "peak heap {} MiB for a 256 MiB limit",
        peak / MIB
    );
}

#[tokio::test]
async fn a_declared_length_over_the_limit_is_refused_before_reading() {
    let _serial = crate::support::serial().await;
    let body = Bytes::from(vec![b' '; 64 * MIB]);
    let server =
        Hostile::start(move |_, _| Reply::text(200, "application/fhir+json", body.clone())).await;
    let client = Client::builder(&server.url("/fhir"))
        .max_response_bytes(Some(MIB))
        .build()
        .unwrap();

    let (result, peak) = peak_heap(client.read_json("Patient", "big").send()).await;

    assert_eq!(result.unwrap_err().kind(), ErrorKind::ResponseTooLarge);
    assert!(
        peak < 16 * MIB,
        "peak heap {} MiB for a 64 MiB body",
        peak / MIB
    );
}

#[tokio::test]
async fn a_chunked_body_without_length_is_cut_at_the_limit() {
    let _serial = crate::support::serial().await;
    let chunks = futures::stream::iter((0..64).map(|_| Bytes::from(vec![b' '; 64 * 1024])));
    let server = Hostile::start({
        let chunks = std::sync::Mutex::new(Some(chunks));
        move |_, _| {
            let chunks = chunks.lock().unwrap().take().unwrap();
            Reply::stream(
                200,
                vec![("content-type", "application/fhir+json".into())],
                chunks,
            )
        }
    })
    .await;
    let client = Client::builder(&server.url("/fhir"))
        .max_response_bytes(Some(MIB))
        .build()
        .unwrap();

    let err = client.read_json("Patient", "x").send().await.unwrap_err();

    assert_eq!(err.kind(), ErrorKind::ResponseTooLarge);
}

#[tokio::test]
async fn the_limit_can_be_lifted() {
    let _serial = crate::support::serial().await;
    let body = Bytes::from(format!(
        "{{\"resourceType\":\"Binary\",\"id\":\"b\",\"data\":\"{}\"}}",
        "A".repeat(3 * MIB)
    ));
    let server =
        Hostile::start(move |_, _| Reply::text(200, "application/fhir+json", body.clone())).await;
    let client = Client::builder(&server.url("/fhir"))
        .max_response_bytes(None)
        .build()
        .unwrap();
    let small = Client::builder(&server.url("/fhir"))
        .max_response_bytes(Some(MIB))
        .build()
        .unwrap();

    let (lifted, _) = peak_heap(client.read_json("Binary", "b").send()).await;
    assert!(lifted.is_ok());
    assert_eq!(
        small
            .read_json("Binary", "b")
            .send()
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::ResponseTooLarge
    );
}

#[tokio::test]
async fn one_byte_chunks_cannot_multiply_memory() {
    let _serial = crate::support::serial().await;
    // 1.5 MiB in chunks of one byte each: a buffer per chunk would cost tens of bytes per byte.
    let server = Hostile::start(|_, _| {
        let chunks = futures::stream::iter((0..3 * MIB / 2).map(|_| Bytes::from_static(b" ")));
        Reply::stream(
            200,
            vec![("content-type", "application/fhir+json".into())],
            chunks,
        )
    })
    .await;
    let client = Client::builder(&server.url("/fhir"))
        .max_response_bytes(Some(MIB))
        .build()
        .unwrap();

    let (result, peak) = peak_heap(client.read_json("Patient", "x").send()).await;

    assert_eq!(result.unwrap_err().kind(), ErrorKind::ResponseTooLarge);
    assert!(
        peak < 8 * MIB,
        "peak heap {} MiB for a 1 MiB limit",
        peak / MIB
    );
}

#[tokio::test]
async fn a_declared_length_over_the_limit_fails_without_waiting_for_the_body() {
    let _serial = crate::support::serial().await;
    // The body never comes: only the pre-check can answer before the idle timeout.
    let server = Hostile::start(|_, _| {
        Reply::stream(
            200,
            vec![
                ("content-type", "application/fhir+json".into()),
                ("content-length", (1u64 << 30).to_string()),
            ],
            crate::server::stall(b"{"),
        )
    })
    .await;
    let client = Client::builder(&server.url("/fhir"))
        .max_response_bytes(Some(MIB))
        .read_idle_timeout(Some(std::time::Duration::from_secs(5)))
        .build()
        .unwrap();

    let started = std::time::Instant::now();
    let err = client.read_json("Patient", "x").send().await.unwrap_err();

    assert_eq!(err.kind(), ErrorKind::ResponseTooLarge, "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

#[tokio::test]
async fn a_bundle_of_empty_entries_is_refused_past_the_entry_limit() {
    let _serial = crate::support::serial().await;
    let mut body = String::from(r#"{"resourceType":"Bundle","type":"searchset","entry":["#);
    body.push_str(&"{},".repeat(fhir_core::MAX_BUNDLE_ENTRIES));
    body.push_str("{}]}");
    let body = Bytes::from(body);
    let server =
        Hostile::start(move |_, _| Reply::text(200, "application/fhir+json", body.clone())).await;
    let client = Client::new(&server.url("/fhir")).unwrap();

    let (result, peak) = peak_heap(client.search_json("Patient").send()).await;

    let err = result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    assert!(
        err.to_string().contains("more than 200000 entries"),
        "{err}"
    );
    assert!(
        peak < 160 * MIB,
        "peak heap {} MiB for a 600 KB body",
        peak / MIB
    );
}

#[tokio::test]
async fn a_huge_error_body_is_excerpted_not_parsed() {
    let _serial = crate::support::serial().await;
    let issues: Vec<serde_json::Value> = (0..40_000)
        .map(|i| serde_json::json!({"severity": "error", "code": "invalid", "diagnostics": format!("issue {i}")}))
        .collect();
    let body = serde_json::to_vec(
        &serde_json::json!({"resourceType": "OperationOutcome", "issue": issues}),
    )
    .unwrap();
    assert!(body.len() > 2 * MIB);
    let server =
        Hostile::start(move |_, _| Reply::text(422, "application/fhir+json", body.clone())).await;
    let client = Client::new(&server.url("/fhir")).unwrap();

    let err = client.read_json("Patient", "x").send().await.unwrap_err();

    assert!(err.is_unprocessable());
    assert!(err.operation_outcome().is_none());
    assert!(err.body_excerpt().unwrap().len() < 1024);
    assert!(err.to_string().len() < 2048);
}
