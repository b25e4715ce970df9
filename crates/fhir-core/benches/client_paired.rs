//! Client overhead, paired: the requests of the `client` benchmark, with `fhir-core` and with
//! plain `reqwest` + `serde_json` measured in alternating rounds, and the overhead reported as
//! the median of the per-round ratios. On a shared machine the load changes slowly compared to
//! a round (a few tens of milliseconds), so both sides of a pair see the same load; criterion,
//! which measures one side for seconds and then the other, does not have that property.
//!
//! ```text
//! cargo bench -p fhir-core --bench client_paired
//! ```
//!
//! With `--single <scenario> <n>` (`read/reqwest`, `read/fhir-core`, `search/reqwest`,
//! `search/fhir-core`) it runs one side `n` times and exits: under
//! `valgrind --tool=callgrind`, the difference between two `n` is the deterministic
//! instruction count per request, which the machine's load does not disturb.

// A measurement program reports on stdout and fails loudly on setup errors.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::panic,
    missing_docs,
    unreachable_pub
)]

mod common;
use common as fixed_server;

use std::time::Instant;

use futures::TryStreamExt as _;
use serde_json::Value;

const PAGES: usize = 10;
const PER_PAGE: usize = 50;
const ROUNDS: usize = 41;

async fn read_reqwest(http: &reqwest::Client, base: &str) {
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
}

async fn read_fhir_core(client: &fhir_core::Client) {
    let patient = client.read_json("Patient", "1").send().await.unwrap();
    assert_eq!(patient.resource()["resourceType"], "Patient");
}

async fn search_reqwest(http: &reqwest::Client, base: &str) {
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
}

async fn search_fhir_core(client: &fhir_core::Client) {
    let resources: Vec<Value> = client
        .search_json("Patient")
        .count(PER_PAGE as u32)
        .resources()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(resources.len(), PAGES * PER_PAGE);
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; this program has no options.
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

    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|arg| arg == "--single") {
        let scenario = args.get(at + 1).expect("--single <scenario> <n>");
        let n: usize = args
            .get(at + 2)
            .expect("--single <scenario> <n>")
            .parse()
            .unwrap();
        runtime.block_on(async {
            for _ in 0..n {
                match scenario.as_str() {
                    "read/reqwest" => read_reqwest(&http, &base).await,
                    "read/fhir-core" => read_fhir_core(&client).await,
                    "search/reqwest" => search_reqwest(&http, &base).await,
                    "search/fhir-core" => search_fhir_core(&client).await,
                    other => panic!("unknown scenario `{other}`"),
                }
            }
        });
        return;
    }

    let report = |name: &str, per_round: usize, reqwest: &dyn Fn(), core: &dyn Fn()| {
        // Warm-up: connections open, allocator and caches warm.
        for _ in 0..per_round / 4 {
            reqwest();
            core();
        }
        let (mut baseline, mut ours, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            let start = Instant::now();
            (0..per_round).for_each(|_| reqwest());
            let a = start.elapsed().as_secs_f64() / per_round as f64;
            let start = Instant::now();
            (0..per_round).for_each(|_| core());
            let b = start.elapsed().as_secs_f64() / per_round as f64;
            baseline.push(a);
            ours.push(b);
            ratios.push(b / a);
        }
        println!(
            "{name:<16} reqwest+serde_json {:>9.2} µs   fhir-core {:>9.2} µs   ratio (median of {ROUNDS} paired rounds) {:.3}",
            median(baseline) * 1e6,
            median(ours) * 1e6,
            median(ratios)
        );
    };
    report(
        "read",
        1_000,
        &|| runtime.block_on(read_reqwest(&http, &base)),
        &|| runtime.block_on(read_fhir_core(&client)),
    );
    report(
        "search_10_pages",
        10,
        &|| runtime.block_on(search_reqwest(&http, &base)),
        &|| runtime.block_on(search_fhir_core(&client)),
    );
}
