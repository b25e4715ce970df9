//! A Bulk Data export from the command line.
//!
//! ```text
//! cargo run -p fhir-bulk --example export -- [--system | --patient | --group ID] [--type T1,T2]
//!     [--since INSTANT] [--type-filter QUERY]... [--out DIR] [--concurrency N]
//! ```
//!
//! The FHIR base comes from `SMART_ISS` (or `FHIR_BASE_URL`). With `SMART_CLIENT_ID` set it
//! authenticates with SMART Backend Services from the `SMART_*` variables (plain `http://`
//! only to loopback hosts); otherwise it sends no credentials. Progress goes to stderr (bars
//! on a terminal, plain lines otherwise); the result to stdout: one `Type: N` line per
//! resource type, then `resources: N files: F errors: E deleted: D`. With `--out` the files are
//! written to DIR and a rerun resumes an interrupted export.
// An example program reports on stdout/stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::{BTreeMap, HashSet};
use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Arg, ArgAction, ArgGroup, Command};
use fhir_bulk::{BulkClient, BulkConfig, Event, ExportRequest, FileKind};
use futures::TryStreamExt as _;
use indicatif::{ProgressBar, ProgressStyle};

fn command() -> Command {
    Command::new("export")
        .about("Bulk Data $export to NDJSON")
        .arg(
            Arg::new("system")
                .long("system")
                .action(ArgAction::SetTrue)
                .help("[base]/$export (the default)"),
        )
        .arg(
            Arg::new("patient")
                .long("patient")
                .action(ArgAction::SetTrue)
                .help("[base]/Patient/$export"),
        )
        .arg(
            Arg::new("group")
                .long("group")
                .value_name("ID")
                .help("[base]/Group/ID/$export"),
        )
        .group(ArgGroup::new("level").args(["system", "patient", "group"]))
        .arg(
            Arg::new("type")
                .long("type")
                .value_name("T1,T2")
                .help("_type"),
        )
        .arg(
            Arg::new("since")
                .long("since")
                .value_name("INSTANT")
                .help("_since"),
        )
        .arg(
            Arg::new("type-filter")
                .long("type-filter")
                .value_name("QUERY")
                .action(ArgAction::Append)
                .help("_typeFilter, repeatable (Observation?status=final)"),
        )
        .arg(
            Arg::new("out")
                .long("out")
                .value_name("DIR")
                .help("write the files to DIR (resumable)"),
        )
        .arg(
            Arg::new("concurrency")
                .long("concurrency")
                .value_name("N")
                .value_parser(clap::value_parser!(usize))
                .help("files downloaded at once (default 4)"),
        )
}

/// Reports events on stderr: a spinner on a terminal, plain lines otherwise.
fn reporter() -> impl Fn(&Event) + Send + Sync + 'static {
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {elapsed} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        bar
    });
    move |event: &Event| {
        let line = match event {
            Event::KickedOff {
                status_url,
                correlation,
            } => format!("kick-off accepted: {status_url} {correlation}"),
            Event::Resumed { status_url } => format!("resuming {status_url}"),
            Event::Polled {
                progress,
                next_poll_in,
                ..
            } => format!(
                "in progress: {} (next poll in {} s)",
                progress.as_deref().unwrap_or("-"),
                next_poll_in.as_secs()
            ),
            Event::Manifest {
                outputs,
                deleted,
                errors,
                ..
            } => {
                format!("complete: {outputs} output, {deleted} deleted, {errors} error files")
            }
            Event::FileStarted { file, offset } => {
                format!("downloading {} from byte {offset}", file.file_name())
            }
            Event::FileFinished {
                file,
                bytes,
                resources,
                ..
            } => {
                format!(
                    "done {}: {resources} resources, {bytes} bytes",
                    file.file_name()
                )
            }
            Event::FileSkipped { file } => format!("already complete: {}", file.file_name()),
            Event::Retry {
                attempt,
                wait,
                reason,
                ..
            } => format!("retry {attempt} in {} s: {reason}", wait.as_secs()),
            Event::Warning { message, .. } => format!("warning: {message}"),
            Event::Error { message, .. } => format!("error: {message}"),
            Event::Cancelled => "cancelled".to_owned(),
            _ => return,
        };
        match &bar {
            Some(bar) => {
                if matches!(
                    event,
                    Event::FileFinished { .. } | Event::Error { .. } | Event::Warning { .. }
                ) {
                    bar.println(&line);
                }
                bar.set_message(line);
            }
            None => eprintln!("{line}"),
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = command().get_matches();
    let mut request = if let Some(group) = args.get_one::<String>("group") {
        ExportRequest::group(group)
    } else if args.get_flag("patient") {
        ExportRequest::patient()
    } else {
        ExportRequest::system()
    };
    if let Some(types) = args.get_one::<String>("type") {
        request = request.types(types.split(',').map(str::trim).filter(|t| !t.is_empty()));
    }
    if let Some(since) = args.get_one::<String>("since") {
        request = request.since(since);
    }
    for filter in args.get_many::<String>("type-filter").into_iter().flatten() {
        request = request.type_filter(filter);
    }

    let base = std::env::var("SMART_ISS")
        .or_else(|_| std::env::var("FHIR_BASE_URL"))
        .map_err(|_| "set SMART_ISS or FHIR_BASE_URL to the FHIR base URL")?;
    let mut client = fhir_core::Client::builder(&base);
    if std::env::var_os("SMART_CLIENT_ID").is_some() {
        let smart = fhir_smart::SmartEnv::from_env()
            .backend_services()?
            .http(fhir_smart::HttpClient::new().allow_loopback_http(true))
            .connect()
            .await?;
        client = client.auth(smart);
    }
    let mut config = BulkConfig::new().on_event(reporter());
    if let Some(concurrency) = args.get_one::<usize>("concurrency") {
        config = config.concurrency(*concurrency);
    }
    let bulk = BulkClient::with_config(client.build()?, config);

    let (by_type, files, errors, deleted) = if let Some(dir) = args.get_one::<String>("out") {
        let summary = bulk.export_to_dir(&request, &PathBuf::from(dir)).await?;
        if let Some(failure) = summary.failures.into_iter().next() {
            return Err(failure.into());
        }
        (
            summary.resources_by_type,
            summary.files,
            summary.errors,
            summary.deleted,
        )
    } else {
        let job = bulk.kick_off(&request).await?;
        let manifest = job.wait().await?;
        let mut by_type = BTreeMap::<String, u64>::new();
        let (mut errors, mut deleted) = (0, 0);
        let mut files = HashSet::new();
        let mut lines = bulk.lines(&manifest);
        while let Some(line) = lines.try_next().await? {
            files.insert(line.file.clone());
            match line.file.kind() {
                FileKind::Output => {
                    *by_type
                        .entry(line.file.resource_type().to_owned())
                        .or_default() += 1
                }
                FileKind::Deleted => deleted += 1,
                _ => errors += 1,
            }
        }
        (
            by_type,
            manifest.files().len().max(files.len()),
            errors,
            deleted,
        )
    };
    for (resource_type, count) in &by_type {
        println!("{resource_type}: {count}");
    }
    let resources: u64 = by_type.values().sum();
    println!("resources: {resources} files: {files} errors: {errors} deleted: {deleted}");
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            let mut source = err.source();
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            ExitCode::FAILURE
        }
    }
}
