//! Paging memory: streams 100,000 resources (2,000 pages of 50) and prints the resident memory
//! after each tenth of the run. Flat numbers mean memory does not grow with the number of pages.
//!
//! ```text
//! cargo bench -p fhir-core --bench paging_memory
//! ```

// A measurement program reports on stdout and fails loudly on setup errors.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    missing_docs,
    unreachable_pub
)]

mod common;
use common as fixed_server;

use futures::TryStreamExt as _;

const PAGES: usize = 2_000;
const PER_PAGE: usize = 50;

/// Resident set size in KiB, from /proc (Linux).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|statm| {
            statm
                .split_whitespace()
                .nth(1)
                .and_then(|pages| pages.parse::<u64>().ok())
        })
        .map_or(0, |pages| pages * 4)
}

fn main() {
    // `cargo bench` passes `--bench`; this program has no options.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let addr = fixed_server::start(|base| fixed_server::Pages::new(base, PAGES, PER_PAGE)).await;
        let client = fhir_core::Client::new(&format!("http://{addr}/fhir")).unwrap();
        let baseline = rss_kib();
        println!("paging_memory: {PAGES} pages x {PER_PAGE} resources (server pages prebuilt: {baseline} KiB resident)");
        let mut stream = client.search_json("Patient").count(PER_PAGE as u32).resources();
        let mut seen = 0usize;
        let mut samples = Vec::new();
        while let Some(resource) = stream.try_next().await.unwrap() {
            std::hint::black_box(&resource);
            seen += 1;
            if seen.is_multiple_of(PAGES * PER_PAGE / 10) {
                let rss = rss_kib();
                samples.push(rss);
                println!("  {seen:>7} resources: {rss} KiB resident");
            }
        }
        assert_eq!(seen, PAGES * PER_PAGE);
        let first = samples.first().copied().unwrap_or_default();
        let last = samples.last().copied().unwrap_or_default();
        println!("paging_memory: growth from 10% to 100% of the run: {} KiB", last.saturating_sub(first) as i64);
    });
}
