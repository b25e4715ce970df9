//! Fetching a configuration: `{base}/.well-known/smart-configuration`, then the
//! CapabilityStatement at `{base}/metadata` when the first is unusable.

use url::Url;

use super::parse::Problem;
use super::{SmartConfiguration, Strictness};
use crate::Error;
use crate::http::{HttpClient, redact_url};

/// The well-known discovery URL: the base with `/.well-known/smart-configuration` appended,
/// keeping any path of the base.
///
/// # Errors
///
/// [`Error::Discovery`] if the base cannot carry a path.
pub fn well_known_url(base: &Url) -> Result<Url, Error> {
    append_path(base, ".well-known/smart-configuration")
}

fn append_path(base: &Url, tail: &str) -> Result<Url, Error> {
    let text = format!("{}/{tail}", base.as_str().trim_end_matches('/'));
    Url::parse(&text).map_err(|err| Error::Discovery {
        url: redact_url(base),
        reason: format!("cannot build the discovery URL: {err}"),
    })
}

/// The base as a "directory", so relative endpoints resolve below it.
pub(super) fn directory(base: &Url) -> Url {
    let mut dir = base.clone();
    if !dir.path().ends_with('/') {
        let path = format!("{}/", dir.path());
        dir.set_path(&path);
    }
    dir.set_query(None);
    dir.set_fragment(None);
    dir
}

/// The error and its source, for a reason string.
fn with_source(err: &Error) -> String {
    match std::error::Error::source(err) {
        Some(source) => format!("{err}: {source}"),
        None => err.to_string(),
    }
}

/// Discovers the SMART configuration of the FHIR server at `base`.
///
/// GETs `{base}/.well-known/smart-configuration` (`Accept: application/json`). When that fails
/// (transport error, non-2xx, not JSON, no `token_endpoint`), falls back to the
/// CapabilityStatement at `{base}/metadata`.
///
/// # Errors
///
/// [`Error::Discovery`] with both reasons when neither source works; [`Error::InsecureUrl`]
/// for a plain-HTTP base the client does not allow.
pub async fn discover(
    http: &HttpClient,
    base: &Url,
    strictness: Strictness,
) -> Result<SmartConfiguration, Error> {
    http.check_url(base)?;
    let well_known = well_known_url(base)?;
    let first = match http.get(&well_known, "application/json").await {
        Ok(response) if response.is_success() => {
            match SmartConfiguration::parse_document(base, &response.body, strictness) {
                Ok(config) => return Ok(config),
                Err(Problem::Unusable(reason)) => reason,
                Err(Problem::Invalid(reason)) => {
                    return Err(Error::Discovery {
                        url: redact_url(&well_known),
                        reason,
                    });
                }
            }
        }
        Ok(response) => format!("HTTP {}", response.status),
        Err(err) => with_source(&err),
    };
    tracing::debug!(url = %redact_url(&well_known), reason = %first, "well-known discovery failed; trying /metadata");
    let metadata = append_path(base, "metadata")?;
    let second = match http.get(&metadata, "application/fhir+json").await {
        Ok(response) if response.is_success() => {
            match SmartConfiguration::parse_capability_statement(base, &response.body) {
                Ok(config) => return Ok(config),
                Err(reason) => reason,
            }
        }
        Ok(response) => format!("HTTP {}", response.status),
        Err(err) => with_source(&err),
    };
    Err(Error::Discovery {
        url: redact_url(&well_known),
        reason: format!("{first}; fallback {}: {second}", redact_url(&metadata)),
    })
}
