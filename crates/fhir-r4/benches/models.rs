//! Parse and serialize throughput of `fhir_r4::Resource` over the official R4 examples, next to
//! `serde_json::Value` on the same bytes in the same run.
//!
//! Needs the examples in `.cache/spec/` (`cargo xtask spec`); run with
//! `cargo bench -p fhir-r4 --bench models`.

// A benchmark reports on stdout and may stop with a message when its data is missing.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs
)]

use std::fs;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fhir_r4::Resource;

fn examples() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.cache/spec/r4-4.0.1/package");
    let mut paths: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("{}: {err}; run `cargo xtask spec` first", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths.iter().map(|path| fs::read(path).unwrap()).collect()
}

fn bench(c: &mut Criterion) {
    let docs = examples();
    let bytes: u64 = docs.iter().map(|d| d.len() as u64).sum();
    let typed: Vec<Resource> = docs
        .iter()
        .map(|d| Resource::from_slice(d).unwrap())
        .collect();
    let values: Vec<serde_json::Value> = docs
        .iter()
        .map(|d| serde_json::from_slice(d).unwrap())
        .collect();

    let mut group = c.benchmark_group("official-examples");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(bytes));
    group.bench_function("parse/fhir-r4", |b| {
        b.iter(|| {
            for doc in &docs {
                std::hint::black_box(Resource::from_slice(doc).unwrap());
            }
        });
    });
    group.bench_function("parse/serde_json-Value", |b| {
        b.iter(|| {
            for doc in &docs {
                std::hint::black_box(serde_json::from_slice::<serde_json::Value>(doc).unwrap());
            }
        });
    });
    group.bench_function("serialize/fhir-r4", |b| {
        b.iter(|| {
            for resource in &typed {
                std::hint::black_box(resource.to_vec());
            }
        });
    });
    group.bench_function("serialize/serde_json-Value", |b| {
        b.iter(|| {
            for value in &values {
                std::hint::black_box(serde_json::to_vec(value).unwrap());
            }
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
