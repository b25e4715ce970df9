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

/// The parameters of a kick-off, from the query or a `Parameters` body.
#[derive(Debug, Default)]
struct Params {
    output_format: Option<String>,
    types: Option<Vec<String>>,
    since: Option<String>,
    until: Option<String>,
    patients: Option<Vec<String>>,
    type_filters: Vec<String>,
    elements: Option<Vec<String>>,
    ignored: Vec<String>,
}

impl Params {
    fn add(&mut self, name: &str, value: String) -> Result<(), ResponseTemplate> {
        let list = |value: &str| -> Vec<String> {
            value
                .split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(str::to_owned)
                .collect()
        };
        match name {
            "_outputFormat" => self.output_format = Some(value),
            "_type" => self.types.get_or_insert_with(Vec::new).extend(list(&value)),
            "_since" => self.since = Some(utc_instant(name, &value)?),
            "_until" => self.until = Some(utc_instant(name, &value)?),
            "_typeFilter" => self.type_filters.push(value),
            "_elements" => self
                .elements
                .get_or_insert_with(Vec::new)
                .extend(list(&value)),
            "patient" => {
                let id = value.trim_start_matches("Patient/").to_owned();
                self.patients.get_or_insert_with(Vec::new).push(id);
            }
            other => self.ignored.push(other.to_owned()),
        }
        Ok(())
    }
}

/// `_since` / `_until` as the store writes `meta.lastUpdated` (UTC, whole seconds), so that
/// string order is time order.
fn utc_instant(name: &str, value: &str) -> Result<String, ResponseTemplate> {
    let refuse = || {
        outcome(
            400,
            "invalid",
            &format!(
                "`{name}` must be an instant in UTC (YYYY-MM-DDThh:mm:ss[.sss]Z or +00:00); the sandbox compares no other offsets"
            ),
        )
    };
    let body = value
        .strip_suffix('Z')
        .or_else(|| value.strip_suffix("+00:00"))
        .ok_or_else(refuse)?;
    let whole = body.split('.').next().unwrap_or(body);
    let bytes = whole.as_bytes();
    let shape_ok = bytes.len() == 19
        && bytes.iter().enumerate().all(|(at, byte)| match at {
            4 | 7 => *byte == b'-',
            10 => *byte == b'T',
            13 | 16 => *byte == b':',
            _ => byte.is_ascii_digit(),
        });
    if shape_ok {
        Ok(format!("{whole}Z"))
    } else {
        Err(refuse())
    }
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

fn parse_params(request: &Request) -> Result<Params, ResponseTemplate> {
    let mut params = Params::default();
    for (name, value) in request.url.query_pairs() {
        if name == "patient" {
            return Err(outcome(
                400,
                "invalid",
                "`patient` is sent in a POST `Parameters` body, not in the query",
            ));
        }
        params.add(&name, value.into_owned())?;
    }
    if request.method.as_str() != "POST" {
        return Ok(params);
    }
    let body: Value = serde_json::from_slice(&request.body).map_err(|err| {
        outcome(
            400,
            "structure",
            &format!("the body is not a Parameters resource: {err}"),
        )
    })?;
    if body["resourceType"] != "Parameters" {
        return Err(outcome(
            400,
            "invalid",
            "a POST kick-off needs a Parameters body",
        ));
    }
    for parameter in body["parameter"].as_array().into_iter().flatten() {
        let name = parameter["name"].as_str().unwrap_or_default();
        let value = [
            "valueString",
            "valueInstant",
            "valueCode",
            "valueUri",
            "valueDateTime",
        ]
        .iter()
        .find_map(|key| parameter[*key].as_str().map(str::to_owned))
        .or_else(|| {
            parameter["valueBoolean"]
                .as_bool()
                .map(|flag| flag.to_string())
        })
        .or_else(|| {
            parameter["valueReference"]["reference"]
                .as_str()
                .map(str::to_owned)
        });
        let Some(value) = value else {
            return Err(outcome(
                400,
                "invalid",
                &format!("the parameter `{name}` has no value the sandbox understands"),
            ));
        };
        params.add(name, value)?;
    }
    Ok(params)
}

fn group_members(
    state: &State,
    id: &str,
    only: Option<&[String]>,
) -> Result<Vec<String>, ResponseTemplate> {
    let group = state
        .store
        .current("Group", id)
        .and_then(|version| version.resource.as_ref())
        .ok_or_else(|| outcome(404, "not-found", &format!("Group/{id} is not known")))?;
    Ok(group["member"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|member| member["entity"]["reference"].as_str())
        .filter_map(|reference| reference.strip_prefix("Patient/"))
        .filter(|patient| only.is_none_or(|only| only.iter().any(|wanted| wanted == patient)))
        .map(str::to_owned)
        .collect())
}

fn in_window(resource: &Value, params: &Params) -> bool {
    let updated = resource["meta"]["lastUpdated"].as_str().unwrap_or_default();
    params.since.as_deref().is_none_or(|since| updated > since)
        && params.until.as_deref().is_none_or(|until| updated <= until)
}

fn in_compartment(resource: &Value, patients: &[String]) -> bool {
    if resource["resourceType"] == "Patient" {
        return resource["id"]
            .as_str()
            .is_some_and(|id| patients.iter().any(|patient| patient == id));
    }
    ["subject", "patient"].iter().any(|field| {
        resource[*field]["reference"]
            .as_str()
            .and_then(|reference| reference.strip_prefix("Patient/"))
            .is_some_and(|id| patients.iter().any(|patient| patient == id))
    })
}

/// `_elements`: the listed elements (bare, or prefixed with this type) plus the mandatory
/// ones, tagged `SUBSETTED`. A type no element names is exported whole.
fn subset(resource: &Value, kind: &str, elements: &[String]) -> Value {
    let wanted: Vec<&str> = elements
        .iter()
        .filter_map(|element| match element.split_once('.') {
            Some((prefix, name)) if prefix == kind => Some(name),
            Some(_) => None,
            None => Some(element.as_str()),
        })
        .collect();
    let Some(object) = resource.as_object() else {
        return resource.clone();
    };
    if wanted.is_empty() {
        return resource.clone();
    }
    let mut kept: serde_json::Map<String, Value> = object
        .iter()
        .filter(|(name, _)| {
            matches!(name.as_str(), "resourceType" | "id" | "meta")
                || wanted.contains(&name.as_str())
        })
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    let meta = kept.entry("meta").or_insert_with(|| json!({}));
    if let Some(meta) = meta.as_object_mut() {
        let tags = meta.entry("tag").or_insert_with(|| json!([]));
        if let Some(tags) = tags.as_array_mut() {
            tags.push(json!({
                "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
                "code": "SUBSETTED"
            }));
        }
    }
    Value::Object(kept)
}

/// The `_typeFilter`s by type: a resource of a filtered type is exported when one of them
/// matches.
#[derive(Debug, Default)]
struct TypeFilters {
    by_type: BTreeMap<String, Vec<Vec<(String, String)>>>,
    ignored: Vec<String>,
}

impl TypeFilters {
    fn admits(&self, kind: &str, resource: &Value) -> bool {
        self.by_type.get(kind).is_none_or(|queries| {
            queries
                .iter()
                .any(|query| crate::store::matches_query(resource, query))
        })
    }
}

fn type_filters(filters: &[String], strict: bool) -> Result<TypeFilters, ResponseTemplate> {
    let mut parsed = TypeFilters::default();
    for filter in filters {
        let Some((kind, query)) = filter.split_once('?') else {
            return Err(outcome(
                400,
                "invalid",
                &format!("`_typeFilter` {filter} is not `Type?query`"),
            ));
        };
        let mut pairs = Vec::new();
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            if crate::store::understands(&name) {
                pairs.push((name.into_owned(), value.into_owned()));
            } else if strict {
                return Err(outcome(
                    400,
                    "not-supported",
                    &format!("the sandbox cannot apply `{name}` in the `_typeFilter` {filter}"),
                ));
            } else {
                parsed.ignored.push(name.into_owned());
            }
        }
        parsed
            .by_type
            .entry(kind.to_owned())
            .or_default()
            .push(pairs);
    }
    Ok(parsed)
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

/// `GET /bulk-files/{job}/{n}.ndjson` on the FHIR origin or the storage origin.
pub(crate) fn download(
    state: &mut State,
    request: &Request,
    job_id: &str,
    file: &str,
    origin: FileOrigin,
) -> ResponseTemplate {
    record(state, request, ExportRequestKind::File);
    let not_found = || outcome(404, "not-found", "no such export file");
    let Some(requires_token) = state
        .export
        .jobs
        .get(job_id)
        .map(|job| job.requires_access_token)
    else {
        return not_found();
    };
    match origin {
        FileOrigin::Fhir if !requires_token => return not_found(),
        FileOrigin::Storage if requires_token => return not_found(),
        FileOrigin::Fhir => {
            if let Err(response) = authenticate(state, request) {
                return response;
            }
        }
        FileOrigin::Storage => {
            if request.headers.contains_key("authorization") {
                // As object stores answer a signed URL that also carries a token.
                return ResponseTemplate::new(400).set_body_raw(
                    "Only one auth mechanism allowed: the signature in the URL or an Authorization header",
                    "text/plain",
                );
            }
        }
    }
    let truncate = state.export.truncations > 0;
    let Some(job) = state.export.jobs.get(job_id) else {
        return not_found();
    };
    let Some(file) = file
        .strip_suffix(".ndjson")
        .and_then(|index| index.parse::<usize>().ok())
        .and_then(|index| job.files.get(index))
    else {
        return not_found();
    };
    if origin == FileOrigin::Storage {
        let signature = request
            .url
            .query_pairs()
            .find(|(name, _)| name == "sig")
            .map(|(_, value)| value.into_owned());
        if signature.as_deref() != Some(file.signature.as_str()) {
            return ResponseTemplate::new(403)
                .set_body_raw("The signature does not match", "text/plain");
        }
    }
    if job.expired {
        return outcome(410, "expired", "the export's files have expired");
    }
    let length = file.body.len();
    let start = match header(request, "range").map(range_start) {
        None => None,
        Some(Some(start)) if start < length => Some(start),
        Some(Some(_)) => {
            return ResponseTemplate::new(416)
                .insert_header("content-range", format!("bytes */{length}"));
        }
        // A form the sandbox does not serve: the whole file, as servers that ignore Range do.
        Some(None) => None,
    };
    let body = &file.body[start.unwrap_or(0)..];
    let response = match start {
        Some(start) => ResponseTemplate::new(206).insert_header(
            "content-range",
            format!("bytes {start}-{}/{length}", length.saturating_sub(1)),
        ),
        None => ResponseTemplate::new(200),
    }
    .insert_header("accept-ranges", "bytes")
    .set_delay(state.export.settings.download_delay);
    if truncate && body.len() > 1 {
        state.export.truncations -= 1;
        // The first half, ending inside a line: what a client sees of a response whose
        // connection closed early when nothing declared its length.
        return response.set_body_raw(body[..body.len() / 2].to_vec(), NDJSON);
    }
    response.set_body_raw(body.to_vec(), NDJSON)
}

/// The start of `bytes=START-` or `bytes=START-END` (the end is not honoured: the sandbox
/// always sends to the end of the file).
fn range_start(value: &str) -> Option<usize> {
    let spec = value.trim().strip_prefix("bytes=")?;
    let (start, _) = spec.split_once('-')?;
    start.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_are_compared_in_utc_only() {
        assert_eq!(
            utc_instant("_since", "2025-01-01T00:00:05.123Z").ok(),
            Some("2025-01-01T00:00:05Z".to_owned())
        );
        assert!(utc_instant("_since", "2025-01-01T00:00:05+00:00").is_ok());
        assert!(utc_instant("_since", "2025-01-01T00:00:05+02:00").is_err());
        assert!(utc_instant("_since", "2025-01-01").is_err());
        assert!(utc_instant("_since", "2025-01-01T00:00:0xZ").is_err());
    }

    #[test]
    fn ranges_start_where_asked() {
        assert_eq!(range_start("bytes=10-"), Some(10));
        assert_eq!(range_start("bytes=0-99"), Some(0));
        assert_eq!(range_start("items=1-"), None);
        assert_eq!(range_start("bytes=-5"), None);
    }
}
