//! Parse and serialize throughput of `fhir_r4::Resource` over the official R4 examples and over a
//! realistic generated workload (searchset Bundles of 1,000 Patients and of 1,000 Observations,
//! with extensions, primitive extensions and decimals), next to `serde_json::Value` on the same
//! bytes in the same run.
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
use serde_json::{Value, json};

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

/// A searchset Bundle of `count` resources made by `resource`.
fn bundle(count: usize, resource: impl Fn(usize) -> Value) -> Vec<u8> {
    let entries: Vec<Value> = (0..count)
        .map(|n| {
            let resource = resource(n);
            json!({
                "fullUrl": format!("https://fhir.example.org/r4/{}/{}", resource["resourceType"].as_str().unwrap_or(""), resource["id"].as_str().unwrap_or("")),
                "resource": resource,
                "search": {"mode": "match"}
            })
        })
        .collect();
    serde_json::to_vec(
        &json!({"resourceType": "Bundle", "type": "searchset", "total": count, "entry": entries}),
    )
    .unwrap()
}

fn patient(n: usize) -> Value {
    json!({
        "resourceType": "Patient",
        "id": format!("pat-{n:05}"),
        "meta": {"versionId": "3", "lastUpdated": "2024-05-01T10:15:30.123+02:00",
                 "profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"]},
        "extension": [
            {"url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race", "extension": [
                {"url": "ombCategory", "valueCoding": {"system": "urn:oid:2.16.840.1.113883.6.238", "code": "2106-3", "display": "White"}},
                {"url": "text", "valueString": "White"}]},
            {"url": "http://hl7.org/fhir/StructureDefinition/patient-birthPlace",
             "valueAddress": {"city": "Springfield", "country": "US"}}
        ],
        "identifier": [{"use": "usual", "system": "http://hospital.example.org/mrn", "value": format!("MRN{:08}", n * 7919)}],
        "active": true,
        "name": [{"use": "official", "family": format!("Family{n}"), "given": ["Alex", "J."]},
                 {"use": "nickname", "given": ["AJ"]}],
        "telecom": [{"system": "phone", "value": "+1 555 0100", "use": "home"},
                    {"system": "email", "value": format!("alex{n}@example.org")}],
        "gender": if n.is_multiple_of(2) { "female" } else { "male" },
        "birthDate": format!("{}-{:02}-{:02}", 1940 + n % 70, 1 + n % 12, 1 + n % 28),
        "_birthDate": {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/patient-birthTime",
                                      "valueDateTime": format!("{}-{:02}-{:02}T08:30:00Z", 1940 + n % 70, 1 + n % 12, 1 + n % 28)}]},
        "address": [{"use": "home", "line": ["123 Main St", "Apt 4"], "city": "Springfield", "state": "IL", "postalCode": "62701"}],
        "maritalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "code": "M"}]}
    })
}

fn observation(n: usize) -> Value {
    json!({
        "resourceType": "Observation",
        "id": format!("obs-{n:05}"),
        "meta": {"versionId": "1", "lastUpdated": "2024-05-01T10:15:30Z"},
        "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4", "display": "Heart rate"}], "text": "Heart rate"},
        "subject": {"reference": format!("Patient/pat-{:05}", n % 1000)},
        "effectiveDateTime": format!("2024-{:02}-{:02}T{:02}:15:00-05:00", 1 + n % 12, 1 + n % 28, n % 24),
        "_effectiveDateTime": {"extension": [{"url": "http://example.org/fhir/StructureDefinition/clock-source", "valueCode": "device"}]},
        "issued": "2024-05-01T10:15:30.000Z",
        "valueQuantity": {"value": format!("{}.{}0", 60 + n % 40, n % 10).parse::<serde_json::Number>().unwrap(),
                          "unit": "beats/minute", "system": "http://unitsofmeasure.org", "code": "/min"},
        "interpretation": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": "N"}]}],
        "referenceRange": [{"low": {"value": 60, "unit": "/min"}, "high": {"value": 100.0, "unit": "/min"}}]
    })
}

fn realistic(c: &mut Criterion) {
    for (name, bytes) in [
        ("patients-1000", bundle(1000, patient)),
        ("observations-1000", bundle(1000, observation)),
    ] {
        let typed = Resource::from_slice(&bytes).unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_eq!(
            typed.to_vec().len(),
            bytes.len(),
            "{name}: the workload must round-trip byte for byte"
        );
        let value: Value = serde_json::from_slice(&bytes).unwrap();
        let mut group = c.benchmark_group(format!("realistic/{name}"));
        group.sample_size(20);
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function("parse/fhir-r4", |b| {
            b.iter(|| std::hint::black_box(Resource::from_slice(&bytes).unwrap()))
        });
        group.bench_function("parse/serde_json-Value", |b| {
            b.iter(|| std::hint::black_box(serde_json::from_slice::<Value>(&bytes).unwrap()));
        });
        group.bench_function("serialize/fhir-r4", |b| {
            b.iter(|| std::hint::black_box(typed.to_vec()))
        });
        group.bench_function("serialize/serde_json-Value", |b| {
            b.iter(|| std::hint::black_box(serde_json::to_vec(&value).unwrap()));
        });
        group.finish();
    }
}

criterion_group!(benches, bench, realistic);
criterion_main!(benches);
