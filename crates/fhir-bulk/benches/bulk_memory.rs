//! Memory and throughput of a large export: a loopback server streams NDJSON Observations
//! (generated on the fly, so the server holds no copy), consumed as typed `fhir_r4::Resource`
//! records and then as `serde_json::Value` records in the same run.
//!
//! ```text
//! cargo bench -p fhir-bulk --bench bulk_memory            # 1 GiB (8 files of 128 MiB)
//! BULK_MEMORY_MIB=64 cargo bench -p fhir-bulk --bench bulk_memory
//! ```
//!
//! Prints MiB/s for each and the peak resident set (`VmHWM`) after the typed run, and fails
//! when that peak passes 150 MB.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs
)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use fhir_bulk::{BulkClient, Manifest};
use futures::TryStreamExt as _;
use http_body_util::StreamBody;
use hyper::body::Frame;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

const FILES: usize = 8;

fn line(i: u64) -> String {
    format!(
        "{{\"resourceType\":\"Observation\",\"id\":\"obs-{i}\",\"meta\":{{\"lastUpdated\":\"2024-01-01T00:00:00Z\"}},\"status\":\"final\",\"category\":[{{\"coding\":[{{\"system\":\"http://terminology.hl7.org/CodeSystem/observation-category\",\"code\":\"vital-signs\"}}]}}],\"code\":{{\"coding\":[{{\"system\":\"http://loinc.org\",\"code\":\"8867-4\",\"display\":\"Heart rate\"}}]}},\"subject\":{{\"reference\":\"Patient/p-{}\"}},\"effectiveDateTime\":\"2024-01-01T10:{:02}:00Z\",\"valueQuantity\":{{\"value\":{}.5,\"unit\":\"beats/minute\",\"system\":\"http://unitsofmeasure.org\",\"code\":\"/min\"}}}}\n",
        i % 1000,
        i % 60,
        60 + i % 40
    )
}

/// The lines of one file of `bytes` bytes, in 64 KiB chunks.
fn file_chunks(
    file: u64,
    bytes: u64,
) -> impl futures::Stream<Item = Result<Frame<Bytes>, Infallible>> {
    let mut sent = 0u64;
    let mut i = file * 10_000_000;
    futures::stream::iter(std::iter::from_fn(move || {
        if sent >= bytes {
            return None;
        }
        let mut chunk = String::with_capacity(70_000);
        while chunk.len() < 65_536 && sent + (chunk.len() as u64) < bytes {
            chunk.push_str(&line(i));
            i += 1;
        }
        sent += chunk.len() as u64;
        Some(Ok(Frame::data(Bytes::from(chunk))))
    }))
}

async fn serve(file_bytes: u64) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let service = service_fn(
                    move |request: hyper::Request<hyper::body::Incoming>| async move {
                        let file: u64 = request
                            .uri()
                            .path()
                            .trim_start_matches("/files/")
                            .parse()
                            .unwrap_or(0);
                        Ok::<_, Infallible>(hyper::Response::new(StreamBody::new(file_chunks(
                            file, file_bytes,
                        ))))
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmHWM:"))
                .and_then(|line| line.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

async fn consume<T: fhir_core::Resource + Send + 'static>(
    bulk: &BulkClient,
    manifest: &Manifest,
) -> (u64, f64) {
    let started = Instant::now();
    let records: u64 = bulk
        .records::<T>(manifest)
        .try_fold(0u64, |n, _| async move { Ok(n + 1) })
        .await
        .unwrap();
    (records, started.elapsed().as_secs_f64())
}

fn main() {
    let mib: u64 = std::env::var("BULK_MEMORY_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let file_bytes = mib * (1 << 20) / FILES as u64;
        let addr = serve(file_bytes).await;
        let outputs: Vec<_> = (0..FILES)
            .map(|i| serde_json::json!({"type": "Observation", "url": format!("http://{addr}/files/{i}")}))
            .collect();
        let doc = serde_json::json!({"transactionTime": "2024-01-01T00:00:00Z", "request": "x",
            "requiresAccessToken": false, "output": outputs});
        let base = url::Url::parse(&format!("http://{addr}/fhir/status")).unwrap();
        let manifest = Manifest::from_json_slice(doc.to_string().as_bytes(), &base).unwrap();
        let client = fhir_core::Client::new(&format!("http://{addr}/fhir")).unwrap();
        let bulk = BulkClient::new(client);
        let total = (file_bytes * FILES as u64) as f64 / f64::from(1 << 20);
        let runs: usize = std::env::var("BULK_MEMORY_RUNS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(3)
            .max(1);
        let before = peak_rss_kib();
        // The peak is read after the first typed run, before any `Value` run can raise it.
        let (typed, first) = consume::<fhir_r4::Resource>(&bulk, &manifest).await;
        let peak = peak_rss_kib();
        let mut typed_times = vec![first];
        let mut value_times = Vec::new();
        let mut values = 0;
        // Both sides alternate on the same server and data.
        for run in 0..runs {
            let (n, seconds) = consume::<serde_json::Value>(&bulk, &manifest).await;
            values = n;
            value_times.push(seconds);
            if run + 1 < runs {
                let (n, seconds) = consume::<fhir_r4::Resource>(&bulk, &manifest).await;
                assert_eq!(n, typed);
                typed_times.push(seconds);
            }
        }
        let best = |times: &[f64]| times.iter().copied().fold(f64::INFINITY, f64::min);
        let median = |times: &[f64]| {
            let mut sorted = times.to_vec();
            sorted.sort_by(f64::total_cmp);
            sorted[sorted.len() / 2]
        };
        println!("bulk_memory: {total:.0} MiB of NDJSON in {FILES} files, {typed} resources, {runs} runs each, alternating");
        for (name, times) in [("fhir_r4::Resource", &typed_times), ("serde_json::Value", &value_times)] {
            println!(
                "  {name}: best {:.1} s ({:.1} MiB/s), median {:.1} s ({:.1} MiB/s)",
                best(times),
                total / best(times),
                median(times),
                total / median(times)
            );
        }
        println!(
            "  typed / Value throughput: best {:.2}x, median {:.2}x",
            best(&value_times) / best(&typed_times),
            median(&value_times) / median(&typed_times)
        );
        println!("  peak RSS: {} KiB before, {} KiB after the first typed run ({:.1} MB)", before, peak, peak as f64 * 1024.0 / 1e6);
        assert_eq!(typed, values);
        assert!(peak as f64 * 1024.0 < 150e6, "peak RSS {peak} KiB passes 150 MB");
    });
}
