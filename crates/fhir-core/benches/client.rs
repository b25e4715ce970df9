//! Client overhead: `fhir-core` next to plain `reqwest` + `serde_json` doing the same requests
//! against the same loopback server, in the same run.
//!
//! ```text
//! cargo bench -p fhir-core --bench client
//! ```

// Benchmarks fail loudly on setup errors.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    unreachable_pub
)]

mod common;
use common as fixed_server;

use criterion::{Criterion, criterion_group, criterion_main};
use futures::TryStreamExt as _;
use serde_json::Value;

const PAGES: usize = 10;
const PER_PAGE: usize = 50;

fn benches(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let addr = runtime.block_on(fixed_server::start(|base| {
        fixed_server::Pages::new(base, PAGES, PER_PAGE)
    }));
    let base = format!("http://{addr}/fhir");
    let client = fhir_core::Client::new(&base).unwrap();
    let http = reqwest::Client::new();

    let mut group = c.benchmark_group("read");
    group.bench_function("reqwest+serde_json", |b| {
        b.to_async(&runtime).iter(|| async {
            let bytes = http
                .get(format!("{base}/Patient/1"))
                .header("accept", "application/fhir+json")
                .send()
                .await
                .unwrap()
                .error_for_status()
                .unwrap()
                .bytes()
                .await
                .unwrap();
            let patient: Value = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(patient["resourceType"], "Patient");
        });
    });
    group.bench_function("fhir-core", |b| {
        b.to_async(&runtime).iter(|| async {
            let patient = client.read_json("Patient", "1").send().await.unwrap();
            assert_eq!(patient.resource()["resourceType"], "Patient");
        });
    });
    group.finish();

    let mut group = c.benchmark_group("search_10_pages");
    group.bench_function("reqwest+serde_json", |b| {
        b.to_async(&runtime).iter(|| async {
            let mut url = format!("{base}/Patient?_count={PER_PAGE}");
            let mut resources = Vec::new();
            loop {
                let bytes = http
                    .get(&url)
                    .header("accept", "application/fhir+json")
                    .send()
                    .await
                    .unwrap()
                    .error_for_status()
                    .unwrap()
                    .bytes()
                    .await
                    .unwrap();
                let mut bundle: Value = serde_json::from_slice(&bytes).unwrap();
                let next = bundle["link"]
                    .as_array()
                    .and_then(|links| links.iter().find(|link| link["relation"] == "next"))
                    .and_then(|link| link["url"].as_str())
                    .map(str::to_owned);
                if let Some(entries) = bundle["entry"].as_array_mut() {
                    resources.extend(entries.iter_mut().map(|entry| entry["resource"].take()));
                }
                match next {
                    Some(next) => url = next,
                    None => break,
                }
            }
            assert_eq!(resources.len(), PAGES * PER_PAGE);
        });
    });
    group.bench_function("fhir-core", |b| {
        b.to_async(&runtime).iter(|| async {
            let resources: Vec<Value> = client
                .search_json("Patient")
                .count(PER_PAGE as u32)
                .resources()
                .try_collect()
                .await
                .unwrap();
            assert_eq!(resources.len(), PAGES * PER_PAGE);
        });
    });
    group.finish();
}

criterion_group!(client_overhead, benches);
criterion_main!(client_overhead);
