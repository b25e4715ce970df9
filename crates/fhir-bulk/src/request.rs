//! [`ExportRequest`]: the kick-off (Bulk Data IG 2.0.0 §"Bulk Data Kick-off Request"), at
//! system, Patient or Group level, by GET with query parameters or POST with a `Parameters`
//! body.

use http::Method;
use serde_json::{Value, json};
use url::Url;

use crate::error::BulkError;
use crate::requested::Requested;

/// The media type of the kick-off's `Accept`; some servers refuse any other value.
pub const FHIR_JSON: &str = "application/fhir+json";

/// Which data to export.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Level {
    /// `[base]/$export`: everything the client may see.
    System,
    /// `[base]/Patient/$export`: data of all patients.
    Patient,
    /// `[base]/Group/[id]/$export`: data of one group's members.
    Group(String),
}

/// `Prefer: handling=` (how the server treats parameters it does not support).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Handling {
    /// `handling=lenient`: ignore unsupported parameters.
    Lenient,
    /// `handling=strict`: fail on them.
    Strict,
}

/// Search result parameters a `_typeFilter` query must not carry (IG: "SHALL NOT").
const RESULT_PARAMETERS: &[&str] = &[
    "_include",
    "_revinclude",
    "_sort",
    "_count",
    "_summary",
    "_elements",
    "_total",
    "_contained",
    "_containedType",
];

/// A kick-off request: the level and every parameter of the IG (2.0.0 and the 3.0 ballot),
/// plus raw extras.
///
/// GET is used unless [`post`](Self::post) is asked for or `patient` is given (which only a
/// POST can carry).
///
/// ```
/// use fhir_bulk::ExportRequest;
///
/// let request = ExportRequest::group("cohort-1")
///     .types(["Patient", "Observation"])
///     .since("2024-01-01T00:00:00Z")
///     .type_filter("Observation?category=vital-signs")
///     .allow_partial_manifests(true);
/// assert_eq!(request.method(), http::Method::GET);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct ExportRequest {
    level: Level,
    post: bool,
    handling: Option<Handling>,
    output_format: Option<String>,
    since: Option<String>,
    until: Option<String>,
    types: Vec<String>,
    elements: Vec<String>,
    patients: Vec<String>,
    include_associated_data: Vec<String>,
    type_filters: Vec<String>,
    organize_output_by: Option<String>,
    allow_partial_manifests: Option<bool>,
    extras: Vec<(String, String)>,
}

impl ExportRequest {
    /// An export at `level`.
    pub fn new(level: Level) -> Self {
        Self {
            level,
            post: false,
            handling: None,
            output_format: None,
            since: None,
            until: None,
            types: Vec::new(),
            elements: Vec::new(),
            patients: Vec::new(),
            include_associated_data: Vec::new(),
            type_filters: Vec::new(),
            organize_output_by: None,
            allow_partial_manifests: None,
            extras: Vec::new(),
        }
    }

    /// `[base]/$export`.
    pub fn system() -> Self {
        Self::new(Level::System)
    }

    /// `[base]/Patient/$export`.
    pub fn patient() -> Self {
        Self::new(Level::Patient)
    }

    /// `[base]/Group/[id]/$export`.
    pub fn group(id: impl Into<String>) -> Self {
        Self::new(Level::Group(id.into()))
    }

    /// Sends the kick-off by POST with a `Parameters` body (servers may not support it).
    pub fn post(mut self) -> Self {
        self.post = true;
        self
    }

    /// `Prefer: handling=lenient` or `handling=strict`, after `respond-async`.
    pub fn handling(mut self, handling: Handling) -> Self {
        self.handling = Some(handling);
        self
    }

    /// `_outputFormat` (the server's default is `application/fhir+ndjson`).
    pub fn output_format(mut self, format: impl Into<String>) -> Self {
        self.output_format = Some(format.into());
        self
    }

    /// `_since`: only resources changed after this instant (FHIR `instant` text).
    pub fn since(mut self, instant: impl Into<String>) -> Self {
        self.since = Some(instant.into());
        self
    }

    /// `_until` (3.0): only resources changed up to this instant.
    pub fn until(mut self, instant: impl Into<String>) -> Self {
        self.until = Some(instant.into());
        self
    }

    /// `_type`: resource types to export (added to those already given).
    pub fn types<I: IntoIterator<Item = S>, S: Into<String>>(mut self, types: I) -> Self {
        self.types.extend(types.into_iter().map(Into::into));
        self
    }

    /// `_elements`: elements to keep (`Patient.name`, or `id` for all types).
    pub fn elements<I: IntoIterator<Item = S>, S: Into<String>>(mut self, elements: I) -> Self {
        self.elements.extend(elements.into_iter().map(Into::into));
        self
    }

    /// `patient`: a reference (`Patient/123`) to export for; forces POST.
    pub fn patient_reference(mut self, reference: impl Into<String>) -> Self {
        self.patients.push(reference.into());
        self
    }

    /// `includeAssociatedData`: `LatestProvenanceResources`, `RelevantProvenanceResources`
    /// or `_`-prefixed custom values.
    pub fn include_associated_data(mut self, value: impl Into<String>) -> Self {
        self.include_associated_data.push(value.into());
        self
    }

    /// `_typeFilter` (repeatable): a FHIR search query for one type, such as
    /// `Observation?category=laboratory&status=final`. Give it unencoded: it is encoded once,
    /// as one parameter value. Result parameters (`_include`, `_sort`, …) are refused when
    /// the request is sent.
    pub fn type_filter(mut self, query: impl Into<String>) -> Self {
        self.type_filters.push(query.into());
        self
    }

    /// `organizeOutputBy` (3.0): a resource type (`Patient`) whose compartments organise the
    /// files.
    pub fn organize_output_by(mut self, resource_type: impl Into<String>) -> Self {
        self.organize_output_by = Some(resource_type.into());
        self
    }

    /// `allowPartialManifests` (3.0): manifests may come in pages while the job runs.
    pub fn allow_partial_manifests(mut self, allow: bool) -> Self {
        self.allow_partial_manifests = Some(allow);
        self
    }

    /// A parameter this type does not know, sent as it is (a query parameter, or a
    /// `valueString` in a POST body).
    pub fn extra(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extras.push((name.into(), value.into()));
        self
    }

    /// The level.
    pub fn level(&self) -> &Level {
        &self.level
    }

    /// GET, or POST when asked for or when `patient` is given.
    pub fn method(&self) -> Method {
        if self.post || !self.patients.is_empty() {
            Method::POST
        } else {
            Method::GET
        }
    }

    /// The `Prefer` value: `respond-async`, and the handling when asked for.
    pub fn prefer(&self) -> &'static str {
        match self.handling {
            None => "respond-async",
            Some(Handling::Lenient) => "respond-async, handling=lenient",
            Some(Handling::Strict) => "respond-async, handling=strict",
        }
    }

    /// The kick-off URL under `base` (with the query for a GET).
    ///
    /// # Errors
    ///
    /// [`BulkError::InvalidRequest`] for an empty group id or a `_typeFilter` with a result
    /// parameter or without a `Type?` prefix.
    pub fn url(&self, base: &Url) -> Result<Url, BulkError> {
        self.check()?;
        let mut url = base.clone();
        {
            let mut path = url
                .path_segments_mut()
                .map_err(|()| BulkError::invalid_request("the base URL cannot have a path"))?;
            path.pop_if_empty();
            match &self.level {
                Level::System => path.push("$export"),
                Level::Patient => path.extend(["Patient", "$export"]),
                Level::Group(id) => path.extend(["Group", id, "$export"]),
            };
        }
        if self.method() == Method::GET {
            let pairs = self.pairs();
            if !pairs.is_empty() {
                url.query_pairs_mut().extend_pairs(pairs);
            }
        }
        Ok(url)
    }

    /// The `Parameters` body of a POST kick-off.
    ///
    /// # Errors
    ///
    /// As [`url`](Self::url).
    pub fn parameters(&self) -> Result<Value, BulkError> {
        self.check()?;
        let mut parameter = Vec::new();
        let mut push = |name: &str, kind: &str, value: Value| {
            let mut entry = serde_json::Map::new();
            entry.insert("name".into(), Value::String(name.into()));
            entry.insert(kind.into(), value);
            parameter.push(Value::Object(entry));
        };
        if let Some(format) = &self.output_format {
            push("_outputFormat", "valueString", json!(format));
        }
        if let Some(since) = &self.since {
            push("_since", "valueInstant", json!(since));
        }
        if let Some(until) = &self.until {
            push("_until", "valueInstant", json!(until));
        }
        if !self.types.is_empty() {
            push("_type", "valueString", json!(self.types.join(",")));
        }
        if !self.elements.is_empty() {
            push("_elements", "valueString", json!(self.elements.join(",")));
        }
        for patient in &self.patients {
            push("patient", "valueReference", json!({ "reference": patient }));
        }
        if !self.include_associated_data.is_empty() {
            let values = self.include_associated_data.join(",");
            push("includeAssociatedData", "valueCode", json!(values));
        }
        for filter in &self.type_filters {
            push("_typeFilter", "valueString", json!(filter));
        }
        if let Some(by) = &self.organize_output_by {
            push("organizeOutputBy", "valueString", json!(by));
        }
        if let Some(allow) = self.allow_partial_manifests {
            push("allowPartialManifests", "valueBoolean", json!(allow));
        }
        for (name, value) in &self.extras {
            push(name, "valueString", json!(value));
        }
        Ok(json!({ "resourceType": "Parameters", "parameter": parameter }))
    }

    /// The query parameters of a GET kick-off, in a fixed order.
    fn pairs(&self) -> Vec<(&str, String)> {
        let mut pairs = Vec::new();
        if let Some(format) = &self.output_format {
            pairs.push(("_outputFormat", format.clone()));
        }
        if let Some(since) = &self.since {
            pairs.push(("_since", since.clone()));
        }
        if let Some(until) = &self.until {
            pairs.push(("_until", until.clone()));
        }
        if !self.types.is_empty() {
            pairs.push(("_type", self.types.join(",")));
        }
        if !self.elements.is_empty() {
            pairs.push(("_elements", self.elements.join(",")));
        }
        if !self.include_associated_data.is_empty() {
            pairs.push((
                "includeAssociatedData",
                self.include_associated_data.join(","),
            ));
        }
        for filter in &self.type_filters {
            pairs.push(("_typeFilter", filter.clone()));
        }
        if let Some(by) = &self.organize_output_by {
            pairs.push(("organizeOutputBy", by.clone()));
        }
        if let Some(allow) = self.allow_partial_manifests {
            pairs.push(("allowPartialManifests", allow.to_string()));
        }
        for (name, value) in &self.extras {
            pairs.push((name.as_str(), value.clone()));
        }
        pairs
    }

    fn check(&self) -> Result<(), BulkError> {
        if let Level::Group(id) = &self.level
            && id.is_empty()
        {
            return Err(BulkError::invalid_request("the group id is empty"));
        }
        for filter in &self.type_filters {
            let Some((resource_type, query)) = filter.split_once('?') else {
                return Err(BulkError::invalid_request(format!(
                    "the _typeFilter `{filter}` is not of the form Type?query"
                )));
            };
            if resource_type.is_empty() || !resource_type.chars().all(char::is_alphanumeric) {
                return Err(BulkError::invalid_request(format!(
                    "the _typeFilter `{filter}` does not start with a resource type"
                )));
            }
            for (name, _) in url::form_urlencoded::parse(query.as_bytes()) {
                let name = name.split(':').next().unwrap_or_default();
                if RESULT_PARAMETERS.contains(&name) {
                    return Err(BulkError::invalid_request(format!(
                        "the _typeFilter `{filter}` carries the result parameter `{name}`"
                    )));
                }
            }
        }
        Ok(())
    }
}

impl From<&ExportRequest> for Requested {
    fn from(request: &ExportRequest) -> Self {
        // A caller may have passed `"Patient,Observation"` as one item.
        let split = |items: &[String]| {
            items
                .iter()
                .flat_map(|item| item.split(','))
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(str::to_owned)
                .collect()
        };
        Self {
            types: split(&request.types),
            elements: split(&request.elements),
            type_filters: request.type_filters.clone(),
        }
        .bounded()
    }
}

#[cfg(test)]
mod tests;
