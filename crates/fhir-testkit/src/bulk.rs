//! Bulk Data export (`$export`, Bulk Data Access IG 2.0.0) over the sandbox's store: kick-off
//! at system, Patient and Group level (GET or POST `Parameters`), a status URL that answers
//! 202 with `X-Progress` a set number of times and then the manifest, NDJSON files (on the FHIR
//! server's origin behind the token, or on a separate storage origin behind signed URLs),
//! `Range`, DELETE, and the injected export failures.

// Handlers return early with a ready response; its size does not matter on this path.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use wiremock::{Request, ResponseTemplate};

use crate::fhir::{FHIR_JSON, authenticate, forbidden, outcome};
use crate::scopes::allows;
use crate::state::{State, random_token};
use crate::{ExportRequestKind, ExportRequestRecord};

mod params;
mod select;

use params::*;
use select::*;

mod files;

pub(crate) use files::download;

/// The path segment of status URLs: `{base}/$export-status/{job}`.
pub(crate) const STATUS_SEGMENT: &str = "$export-status";

/// The path segment of file URLs on either origin: `/bulk-files/{job}/{n}.ndjson`.
pub(crate) const FILES_SEGMENT: &str = "bulk-files";

const NDJSON: &str = "application/fhir+ndjson";

/// The resource types of the Patient compartment that the seed data has.
const PATIENT_COMPARTMENT: &[&str] = &["Patient", "Encounter", "Observation"];

/// How the sandbox's exports behave.
#[derive(Debug, Clone)]
pub(crate) struct ExportSettings {
    pub(crate) polls_before_done: u32,
    pub(crate) retry_after_secs: u64,
    pub(crate) max_lines_per_file: usize,
    pub(crate) requires_access_token: bool,
    pub(crate) download_delay: Duration,
}

impl Default for ExportSettings {
    fn default() -> Self {
        Self {
            polls_before_done: 1,
            retry_after_secs: 1,
            max_lines_per_file: 50,
            requires_access_token: true,
            download_delay: Duration::ZERO,
        }
    }
}

/// Every export job, the queued export failures and the log of export requests.
#[derive(Debug, Default)]
pub(crate) struct ExportState {
    pub(crate) settings: ExportSettings,
    pub(crate) storage_root: String,
    jobs: BTreeMap<String, Job>,
    status_failures: VecDeque<(StatusFailure, usize)>,
    truncations: usize,
    pub(crate) requests: Vec<ExportRequestRecord>,
}

/// A failure answered to a status poll instead of the job's state.
#[derive(Debug, Clone)]
pub(crate) enum StatusFailure {
    /// A 5xx with an OperationOutcome whose issue is `transient`.
    Transient { status: u16 },
    /// A 429 with this `Retry-After` value, sent as given.
    TooManyRequests { retry_after: String },
}

impl ExportState {
    pub(crate) fn queue_status_failure(&mut self, failure: StatusFailure, times: usize) {
        if times > 0 {
            self.status_failures.push_back((failure, times));
        }
    }

    pub(crate) fn truncate_downloads(&mut self, times: usize) {
        self.truncations = self.truncations.saturating_add(times);
    }

    /// Every file of every job so far answers 410 Gone from now on.
    pub(crate) fn expire_files(&mut self) {
        for job in self.jobs.values_mut() {
            job.expired = true;
        }
    }

    fn next_status_failure(&mut self) -> Option<StatusFailure> {
        let (failure, remaining) = self.status_failures.front_mut()?;
        let failure = failure.clone();
        *remaining = remaining.saturating_sub(1);
        if *remaining == 0 {
            self.status_failures.pop_front();
        }
        Some(failure)
    }
}

/// One export: the snapshot taken at kick-off and what its status URL answers next.
#[derive(Debug)]
struct Job {
    request: String,
    transaction_time: String,
    polls_left: u32,
    requires_access_token: bool,
    expired: bool,
    files: Vec<ExportFile>,
}

#[derive(Debug)]
struct ExportFile {
    /// `output` or `error`.
    section: &'static str,
    resource_type: String,
    body: Vec<u8>,
    count: usize,
    /// The secret of its signed URL on the storage origin.
    signature: String,
}

/// Where a file request arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileOrigin {
    /// The FHIR server's origin: files of jobs that require the access token.
    Fhir,
    /// The storage origin: signed URLs, for jobs that do not.
    Storage,
}

fn header<'r>(request: &'r Request, name: &str) -> Option<&'r str> {
    request
        .headers
        .get(name)
        .and_then(|value| value.to_str().ok())
}

fn record(state: &mut State, request: &Request, kind: ExportRequestKind) {
    state.export.requests.push(ExportRequestRecord {
        kind,
        method: request.method.as_str().to_owned(),
        path: request.url.path().to_owned(),
        authorization: request.headers.contains_key("authorization"),
        range: header(request, "range").map(str::to_owned),
        accept: header(request, "accept").map(str::to_owned),
    });
}

/// `GET|POST {base}/$export`, `{base}/Patient/$export`, `{base}/Group/{id}/$export`.
pub(crate) fn kick_off(
    state: &mut State,
    request: &Request,
    segments: &[&str],
) -> ResponseTemplate {
    record(state, request, ExportRequestKind::KickOff);
    start_job(state, request, segments).unwrap_or_else(|response| response)
}

fn start_job(
    state: &mut State,
    request: &Request,
    segments: &[&str],
) -> Result<ResponseTemplate, ResponseTemplate> {
    let scope = authenticate(state, request)?;
    if header(request, "accept") != Some(FHIR_JSON) {
        return Err(outcome(
            400,
            "not-supported",
            "a kick-off needs `Accept: application/fhir+json`",
        ));
    }
    // Every `Prefer` header counts: preferences may come in one or in several.
    let preferences: Vec<&str> = request
        .headers
        .get_all("prefer")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    if !preferences.contains(&"respond-async") {
        return Err(outcome(
            400,
            "not-supported",
            "a kick-off needs `Prefer: respond-async`",
        ));
    }
    let strict = preferences.contains(&"handling=strict");
    let params = parse_params(request)?;
    if let Some(format) = &params.output_format
        && !matches!(
            format.as_str(),
            "application/fhir+ndjson" | "application/ndjson" | "ndjson"
        )
    {
        return Err(outcome(
            400,
            "not-supported",
            &format!("`_outputFormat` {format} is not supported: only NDJSON"),
        ));
    }
    if strict && !params.ignored.is_empty() {
        return Err(outcome(
            400,
            "not-supported",
            &format!(
                "the sandbox does not support {} (sent with `Prefer: handling=strict`)",
                params.ignored.join(", ")
            ),
        ));
    }

    let patients = match segments {
        ["$export"] => {
            if params.patients.is_some() {
                return Err(outcome(
                    400,
                    "invalid",
                    "`patient` applies to Patient- and Group-level exports only",
                ));
            }
            None
        }
        ["Patient", "$export"] => Some(params.patients.clone().unwrap_or_else(|| {
            state
                .store
                .all_current()
                .filter(|resource| resource["resourceType"] == "Patient")
                .filter_map(|resource| resource["id"].as_str().map(str::to_owned))
                .collect()
        })),
        ["Group", id, "$export"] => Some(group_members(state, id, params.patients.as_deref())?),
        _ => return Err(outcome(404, "not-found", "no such export")),
    };

    let present: BTreeSet<String> = state
        .store
        .all_current()
        .filter_map(|resource| resource["resourceType"].as_str().map(str::to_owned))
        .collect();
    let mut types: Vec<String> = match &params.types {
        Some(types) => types.clone(),
        None => present
            .iter()
            .filter(|kind| patients.is_none() || PATIENT_COMPARTMENT.contains(&kind.as_str()))
            .cloned()
            .collect(),
    };
    types.sort();
    types.dedup();
    let may_read = |kind: &str| {
        scope
            .as_deref()
            .is_none_or(|scope| allows(scope, kind, 'r'))
    };
    if params.types.is_some() {
        if let Some(denied) = types.iter().find(|kind| !may_read(kind)) {
            return Err(forbidden(&format!(
                "the granted scopes do not allow reading {denied}"
            )));
        }
    } else {
        types.retain(|kind| may_read(kind));
    }

    let filters = type_filters(&params.type_filters, strict)?;
    let mut warnings: Vec<String> = params
        .ignored
        .iter()
        .map(|name| format!("the sandbox ignored the parameter `{name}`"))
        .collect();
    warnings.extend(filters.ignored.iter().map(|name| {
        format!("the sandbox ignored the search parameter `{name}` of a `_typeFilter`")
    }));

    let settings = state.export.settings.clone();
    let mut files = Vec::new();
    for kind in &types {
        let lines: Vec<Vec<u8>> = state
            .store
            .all_current()
            .filter(|resource| resource["resourceType"] == kind.as_str())
            .filter(|resource| in_window(resource, &params))
            .filter(|resource| {
                patients
                    .as_deref()
                    .is_none_or(|ids| in_compartment(resource, ids))
            })
            .filter(|resource| filters.admits(kind, resource))
            .map(|resource| {
                let resource = match &params.elements {
                    Some(elements) => subset(resource, kind, elements),
                    None => resource.clone(),
                };
                serde_json::to_vec(&resource).unwrap_or_default()
            })
            .collect();
        for chunk in lines.chunks(settings.max_lines_per_file.max(1)) {
            files.push(ndjson_file("output", kind, chunk));
        }
    }
    if !warnings.is_empty() {
        let lines: Vec<Vec<u8>> = warnings
            .iter()
            .map(|text| {
                serde_json::to_vec(&json!({"resourceType": "OperationOutcome", "issue": [{
                    "severity": "warning", "code": "not-supported", "diagnostics": text
                }]}))
                .unwrap_or_default()
            })
            .collect();
        files.push(ndjson_file("error", "OperationOutcome", &lines));
    }

    let id = random_token();
    let job = Job {
        request: request.url.to_string(),
        transaction_time: state.store.now(),
        polls_left: settings.polls_before_done,
        requires_access_token: settings.requires_access_token,
        expired: false,
        files,
    };
    state.export.jobs.insert(id.clone(), job);
    let status_url = format!("{}/{STATUS_SEGMENT}/{id}", state.fhir_base());
    Ok(ResponseTemplate::new(202).insert_header("content-location", status_url))
}

fn ndjson_file(section: &'static str, resource_type: &str, lines: &[Vec<u8>]) -> ExportFile {
    let mut body = Vec::new();
    for line in lines {
        body.extend_from_slice(line);
        body.push(b'\n');
    }
    ExportFile {
        section,
        resource_type: resource_type.to_owned(),
        body,
        count: lines.len(),
        signature: random_token(),
    }
}

/// `GET|DELETE {base}/$export-status/{job}`.
pub(crate) fn status(state: &mut State, request: &Request, job_id: &str) -> ResponseTemplate {
    let cancel = request.method.as_str() == "DELETE";
    let kind = if cancel {
        ExportRequestKind::Cancel
    } else {
        ExportRequestKind::Status
    };
    record(state, request, kind);
    if let Err(response) = authenticate(state, request) {
        return response;
    }
    let gone = || {
        outcome(
            404,
            "not-found",
            "no such export job (finished, cancelled or never started)",
        )
    };
    if cancel {
        return match state.export.jobs.remove(job_id) {
            Some(_) => ResponseTemplate::new(202),
            None => gone(),
        };
    }
    if request.method.as_str() != "GET" {
        return outcome(405, "not-supported", "a status URL takes GET and DELETE");
    }
    if !state.export.jobs.contains_key(job_id) {
        return gone();
    }
    if let Some(failure) = state.export.next_status_failure() {
        return match failure {
            StatusFailure::Transient { status } => {
                outcome(status, "transient", "injected transient failure")
            }
            StatusFailure::TooManyRequests { retry_after } => {
                outcome(429, "throttled", "slow down").insert_header("retry-after", retry_after)
            }
        };
    }
    let retry_after = state.export.settings.retry_after_secs;
    let total = state.export.settings.polls_before_done;
    let root = state.root.clone();
    let storage = state.export.storage_root.clone();
    let Some(job) = state.export.jobs.get_mut(job_id) else {
        return gone();
    };
    if job.polls_left > 0 {
        let done = (total - job.polls_left) * 100 / (total + 1);
        job.polls_left -= 1;
        return ResponseTemplate::new(202)
            .insert_header("x-progress", format!("{done}% exported"))
            .insert_header("retry-after", retry_after.to_string());
    }
    let entries = |section: &str| -> Vec<Value> {
        job.files
            .iter()
            .enumerate()
            .filter(|(_, file)| file.section == section)
            .map(|(index, file)| {
                let url = if job.requires_access_token {
                    format!("{root}/{FILES_SEGMENT}/{job_id}/{index}.ndjson")
                } else {
                    format!(
                        "{storage}/{FILES_SEGMENT}/{job_id}/{index}.ndjson?sig={}",
                        file.signature
                    )
                };
                json!({"type": file.resource_type, "url": url, "count": file.count})
            })
            .collect()
    };
    let manifest = json!({
        "transactionTime": job.transaction_time,
        "request": job.request,
        "requiresAccessToken": job.requires_access_token,
        "output": entries("output"),
        "deleted": [],
        "error": entries("error"),
    });
    let expires = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(3600));
    ResponseTemplate::new(200)
        .set_body_raw(
            serde_json::to_vec(&manifest).unwrap_or_default(),
            "application/json",
        )
        .insert_header("expires", expires)
}

#[cfg(test)]
mod tests;
