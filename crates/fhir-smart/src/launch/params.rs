//! What the browser brings: the EHR's launch parameters (`iss`, `launch`) and the callback
//! (`code`, `state`, `error`, `iss`), parsed from URLs that are not trusted.

use std::collections::HashMap;

use url::Url;

use crate::Error;

/// The `iss` and `launch` parameters an EHR sends to the app's launch URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchParams {
    /// The FHIR base URL of the EHR (not yet trusted: see [`AppLaunch::allow_iss`](crate::AppLaunch::allow_iss)).
    pub iss: String,
    /// The opaque launch handle, echoed byte for byte.
    pub launch: String,
}

impl LaunchParams {
    /// Reads `iss` and `launch` from the launch URL (form-decoded, so `%2B` is `+`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCallback`] when the URL is invalid or a parameter is missing.
    pub fn from_url(url: &str) -> Result<Self, Error> {
        let url = Url::parse(url).map_err(|_| Error::callback("the launch URL is not a URL"))?;
        Self::from_query(url.query().unwrap_or_default())
    }

    /// Reads `iss` and `launch` from a query string.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCallback`] when `iss` or `launch` is missing or empty.
    pub fn from_query(query: &str) -> Result<Self, Error> {
        let pairs: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let get = |name: &str| {
            pairs
                .get(name)
                .filter(|v| !v.is_empty())
                .cloned()
                .ok_or_else(|| Error::callback(format!("the EHR launch has no `{name}`")))
        };
        Ok(Self {
            iss: get("iss")?,
            launch: get("launch")?,
        })
    }
}

/// A parsed callback: its path and its query parameters (each at most once).
pub(crate) struct Callback {
    pub(super) path: String,
    params: HashMap<String, String>,
}

impl Callback {
    /// Parses a callback given as a full URL or as an absolute path with its query
    /// (`/callback?code=…&state=…`, as a web framework hands it over).
    pub(crate) fn parse(url: &str) -> Result<Self, Error> {
        let not_a_url = || Error::callback("the callback URL is not a URL");
        let url = match Url::parse(url) {
            Ok(url) => url,
            Err(url::ParseError::RelativeUrlWithoutBase) if url.starts_with('/') => {
                // Only the path and query are used; `//host/...` cannot change that.
                Url::parse("https://callback.invalid/")
                    .and_then(|base| base.join(url))
                    .map_err(|_| not_a_url())?
            }
            Err(_) => return Err(not_a_url()),
        };
        let mut params = HashMap::new();
        for (name, value) in url.query_pairs() {
            if params.insert(name.to_string(), value.to_string()).is_some() {
                return Err(Error::callback(format!("`{name}` appears twice")));
            }
        }
        Ok(Self {
            path: url.path().to_owned(),
            params,
        })
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}
