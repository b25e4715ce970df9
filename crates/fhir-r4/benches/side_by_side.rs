//! fhir-r4 next to `serde_json::Value`, by the method users compare libraries with: one
//! process, the same documents, the two sides alternating run by run; every parsed value kept
//! (collected into a vector sized in advance) and its drop left out of the parse timing; each
//! value serialized into one reused buffer. Reports best and median MB/s of input over the
//! runs and the ratios fhir-r4 / Value, and parse-plus-drop beside parse.
//!
//! Corpora: the official R4 examples (`cargo xtask spec`), and the clinical corpus
//! (`cargo xtask corpus`) as patient Bundles, as NDJSON lines, and both together.
//!
//! ```text
//! cargo bench -p fhir-r4 --bench side_by_side -- [--runs N] [--corpus NAME]... [--clinical DIR]
//! ```
//!
//! `NAME` is `official`, `bundles`, `ndjson` or `clinical` (both forms together); `--clinical`
//! reads another clinical corpus (such as one written with `cargo xtask corpus --sorted-keys`).

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
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fhir_r4::Resource;
use serde_json::Value;

/// Documents to read, by corpus.
struct Corpus {
    name: &'static str,
    docs: Vec<Vec<u8>>,
}

impl Corpus {
    fn bytes(&self) -> usize {
        self.docs.iter().map(Vec::len).sum()
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn json_files(dir: &Path, hint: &str) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|err| panic!("{}: {err}; run `{hint}` first", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    paths.sort();
    paths
}

fn official() -> Corpus {
    let dir = root().join(".cache/spec/r4-4.0.1/package");
    let docs = json_files(&dir, "cargo xtask spec")
        .iter()
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .map(|path| fs::read(path).unwrap())
        .collect();
    Corpus {
        name: "official examples",
        docs,
    }
}

fn clinical_bundles(clinical: &Path) -> Corpus {
    let dir = clinical.join("bundles");
    Corpus {
        name: "clinical, patient Bundles",
        docs: json_files(&dir, "cargo xtask corpus")
            .iter()
            .map(|path| fs::read(path).unwrap())
            .collect(),
    }
}

fn clinical_ndjson(clinical: &Path) -> Corpus {
    let dir = clinical.join("ndjson");
    let mut docs = Vec::new();
    for path in json_files(&dir, "cargo xtask corpus") {
        let text = fs::read(&path).unwrap();
        docs.extend(
            text.split(|&byte| byte == b'\n')
                .filter(|line| !line.is_empty())
                .map(<[u8]>::to_vec),
        );
    }
    Corpus {
        name: "clinical, NDJSON lines",
        docs,
    }
}

/// One side's timings over the runs.
#[derive(Default)]
struct Timings {
    parse: Vec<Duration>,
    parse_and_drop: Vec<Duration>,
    serialize: Vec<Duration>,
}

fn best(times: &[Duration]) -> Duration {
    times.iter().copied().min().unwrap_or_default()
}

fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    sorted.get(sorted.len() / 2).copied().unwrap_or_default()
}

/// One run of one side: parse every document keeping the values, serialize them, drop them.
fn run_side<T>(
    docs: &[Vec<u8>],
    parse: impl Fn(&[u8]) -> T,
    write: impl Fn(&T, &mut Vec<u8>),
    timings: &mut Timings,
) {
    let mut kept: Vec<T> = Vec::with_capacity(docs.len());
    let start = Instant::now();
    for doc in docs {
        kept.push(parse(doc));
    }
    let parsed = start.elapsed();
    let mut buffer: Vec<u8> = Vec::with_capacity(1 << 20);
    let start = Instant::now();
    for value in &kept {
        buffer.clear();
        write(value, &mut buffer);
        black_box(&buffer);
    }
    let serialized = start.elapsed();
    let start = Instant::now();
    drop(black_box(kept));
    let dropped = start.elapsed();
    timings.parse.push(parsed);
    timings.parse_and_drop.push(parsed + dropped);
    timings.serialize.push(serialized);
}

fn mb_per_s(bytes: usize, time: Duration) -> f64 {
    bytes as f64 / 1e6 / time.as_secs_f64()
}

fn report(name: &str, bytes: usize, typed: &[Duration], value: &[Duration]) {
    let (tb, tm, vb, vm) = (best(typed), median(typed), best(value), median(value));
    println!(
        "  {name:<15} fhir-r4 {:>7.1} / {:>7.1} MB/s   Value {:>7.1} / {:>7.1} MB/s   ratio best {:.2}x, median {:.2}x",
        mb_per_s(bytes, tb),
        mb_per_s(bytes, tm),
        mb_per_s(bytes, vb),
        mb_per_s(bytes, vm),
        vb.as_secs_f64() / tb.as_secs_f64(),
        vm.as_secs_f64() / tm.as_secs_f64(),
    );
}

fn measure(corpus: &Corpus, runs: usize) {
    // Every document must be valid for both sides before anything is timed.
    for (index, doc) in corpus.docs.iter().enumerate() {
        if let Err(err) = Resource::from_slice(doc) {
            panic!("{} document {index}: {err}", corpus.name);
        }
    }
    let mut typed = Timings::default();
    let mut value = Timings::default();
    let parse_typed = |doc: &[u8]| Resource::from_slice(doc).unwrap();
    let write_typed = |resource: &Resource, out: &mut Vec<u8>| resource.write_into(out);
    let parse_value = |doc: &[u8]| serde_json::from_slice::<Value>(doc).unwrap();
    let write_value = |v: &Value, out: &mut Vec<u8>| serde_json::to_writer(out, v).unwrap();
    // One warm-up run of each side, untimed, then the runs, alternating which goes first.
    run_side(
        &corpus.docs,
        parse_typed,
        write_typed,
        &mut Timings::default(),
    );
    run_side(
        &corpus.docs,
        parse_value,
        write_value,
        &mut Timings::default(),
    );
    for run in 0..runs {
        if run % 2 == 0 {
            run_side(&corpus.docs, parse_typed, write_typed, &mut typed);
            run_side(&corpus.docs, parse_value, write_value, &mut value);
        } else {
            run_side(&corpus.docs, parse_value, write_value, &mut value);
            run_side(&corpus.docs, parse_typed, write_typed, &mut typed);
        }
    }
    let bytes = corpus.bytes();
    println!(
        "{}: {} documents, {:.1} MB, {runs} runs (best / median):",
        corpus.name,
        corpus.docs.len(),
        bytes as f64 / 1e6
    );
    report("parse", bytes, &typed.parse, &value.parse);
    report(
        "parse + drop",
        bytes,
        &typed.parse_and_drop,
        &value.parse_and_drop,
    );
    report("serialize", bytes, &typed.serialize, &value.serialize);
}

fn main() {
    let mut runs = 7usize;
    let mut wanted: Vec<String> = Vec::new();
    let mut clinical = root().join(".cache/corpus/clinical");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runs" => runs = args.next().and_then(|n| n.parse().ok()).expect("--runs N"),
            "--corpus" => wanted.push(args.next().expect("--corpus NAME")),
            "--clinical" => clinical = PathBuf::from(args.next().expect("--clinical DIR")),
            // cargo bench passes `--bench`; other harness flags do not apply here.
            _ => {}
        }
    }
    let all = wanted.is_empty();
    let wants = |name: &str| all || wanted.iter().any(|w| w == name);
    if wants("official") {
        measure(&official(), runs);
    }
    if wants("bundles") || wants("clinical") || wants("ndjson") {
        let bundles = clinical_bundles(&clinical);
        let ndjson = clinical_ndjson(&clinical);
        if wants("bundles") {
            measure(&bundles, runs);
        }
        if wants("ndjson") {
            measure(&ndjson, runs);
        }
        if wants("clinical") {
            let mut docs = bundles.docs;
            docs.extend(ndjson.docs);
            measure(
                &Corpus {
                    name: "clinical, Bundles and NDJSON lines",
                    docs,
                },
                runs,
            );
        }
    }
}
