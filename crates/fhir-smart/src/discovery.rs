//! SMART discovery: `{base}/.well-known/smart-configuration`, with the CapabilityStatement
//! `oauth-uris` fallback at `{base}/metadata`.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use url::Url;

use crate::Error;
use crate::http::{HttpClient, redact_url};

/// The extension URL of SMART endpoints in a CapabilityStatement.
pub const OAUTH_URIS_EXTENSION: &str =
    "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris";

macro_rules! capabilities {
    ($($variant:ident => $text:literal, $doc:literal;)*) => {
        /// A SMART capability; unknown values are kept in [`Capability::Other`].
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Capability {
            $(#[doc = $doc] $variant,)*
            /// Any other capability (other IGs use full URIs), kept verbatim.
            Other(String),
        }

        impl Capability {
            /// The capability as written in the discovery document.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $text,)*
                    Self::Other(other) => other,
                }
            }
        }

        impl From<&str> for Capability {
            fn from(text: &str) -> Self {
                match text {
                    $($text => Self::$variant,)*
                    other => Self::Other(other.to_owned()),
                }
            }
        }
    };
}

capabilities! {
    LaunchEhr => "launch-ehr", "`launch-ehr`: EHR launch.";
    LaunchStandalone => "launch-standalone", "`launch-standalone`: standalone launch.";
    AuthorizePost => "authorize-post", "`authorize-post`: the authorize endpoint accepts POST.";
    ClientPublic => "client-public", "`client-public`: public clients.";
    ClientConfidentialSymmetric => "client-confidential-symmetric", "`client-confidential-symmetric`: client secrets.";
    ClientConfidentialAsymmetric => "client-confidential-asymmetric", "`client-confidential-asymmetric`: `private_key_jwt`.";
    SsoOpenidConnect => "sso-openid-connect", "`sso-openid-connect`: id_tokens.";
    ContextBanner => "context-banner", "`context-banner`: `need_patient_banner`.";
    ContextStyle => "context-style", "`context-style`: `smart_style_url`.";
    ContextEhrPatient => "context-ehr-patient", "`context-ehr-patient`.";
    ContextEhrEncounter => "context-ehr-encounter", "`context-ehr-encounter`.";
    ContextStandalonePatient => "context-standalone-patient", "`context-standalone-patient`.";
    ContextStandaloneEncounter => "context-standalone-encounter", "`context-standalone-encounter`.";
    PermissionOffline => "permission-offline", "`permission-offline`: refresh tokens via `offline_access`.";
    PermissionOnline => "permission-online", "`permission-online`: refresh tokens via `online_access`.";
    PermissionPatient => "permission-patient", "`permission-patient`: `patient/` scopes.";
    PermissionUser => "permission-user", "`permission-user`: `user/` scopes.";
    PermissionV1 => "permission-v1", "`permission-v1`: SMART v1 scope syntax.";
    PermissionV2 => "permission-v2", "`permission-v2`: SMART v2 scope syntax.";
    SmartAppState => "smart-app-state", "`smart-app-state` (experimental).";
    ContextPassthroughBanner => "context-passthrough-banner", "Legacy SMART 1.0 name of `context-banner`.";
    ContextPassthroughStyle => "context-passthrough-style", "Legacy SMART 1.0 name of `context-style`.";
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a [`SmartConfiguration`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigurationSource {
    /// `/.well-known/smart-configuration`.
    WellKnown,
    /// The deprecated CapabilityStatement `oauth-uris` extension: no capabilities are known,
    /// v1 semantics are assumed and PKCE support is unknown.
    CapabilityStatement,
    /// Endpoints configured by hand.
    Manual,
}

/// How strictly a discovery document is validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Strictness {
    /// Missing `grant_types_supported`, `capabilities` or `code_challenge_methods_supported`
    /// and similar server lapses become [`SmartConfiguration::warnings`] (the default: real
    /// servers omit them).
    #[default]
    Lenient,
    /// Every spec requirement on the document is an error.
    Strict,
}

/// An entry of `associated_endpoints` (experimental).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssociatedEndpoint {
    /// The endpoint URL.
    pub url: Url,
    /// Its capabilities.
    pub capabilities: Vec<Capability>,
}

/// A server's SMART configuration, with endpoints resolved against the FHIR base URL.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SmartConfiguration {
    /// `issuer` (required with `sso-openid-connect`).
    pub issuer: Option<String>,
    /// `jwks_uri` (required with `sso-openid-connect`).
    pub jwks_uri: Option<Url>,
    /// `authorization_endpoint` (required with `launch-ehr` or `launch-standalone`).
    pub authorization_endpoint: Option<Url>,
    /// `token_endpoint` (required).
    pub token_endpoint: Url,
    /// `grant_types_supported`.
    pub grant_types_supported: Vec<String>,
    /// `token_endpoint_auth_methods_supported`.
    pub token_endpoint_auth_methods_supported: Vec<String>,
    /// `token_endpoint_auth_signing_alg_values_supported`.
    pub token_endpoint_auth_signing_alg_values_supported: Vec<String>,
    /// `registration_endpoint`.
    pub registration_endpoint: Option<Url>,
    /// `smart_app_state_endpoint` (deprecated).
    pub smart_app_state_endpoint: Option<Url>,
    /// `user_access_brand_bundle`.
    pub user_access_brand_bundle: Option<Url>,
    /// `user_access_brand_identifier`.
    pub user_access_brand_identifier: Option<String>,
    /// `scopes_supported`: a hint, not an exhaustive list.
    pub scopes_supported: Vec<String>,
    /// `response_types_supported`.
    pub response_types_supported: Vec<String>,
    /// `management_endpoint`.
    pub management_endpoint: Option<Url>,
    /// `introspection_endpoint`.
    pub introspection_endpoint: Option<Url>,
    /// `revocation_endpoint`.
    pub revocation_endpoint: Option<Url>,
    /// `capabilities`.
    pub capabilities: Vec<Capability>,
    /// `code_challenge_methods_supported`.
    pub code_challenge_methods_supported: Vec<String>,
    /// `associated_endpoints` (experimental).
    pub associated_endpoints: Vec<AssociatedEndpoint>,
    /// Members this crate does not model.
    pub extra: Map<String, Value>,
    /// Where this configuration came from.
    pub source: ConfigurationSource,
    /// What lenient validation let through.
    pub warnings: Vec<String>,
}

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
fn directory(base: &Url) -> Url {
    let mut dir = base.clone();
    if !dir.path().ends_with('/') {
        let path = format!("{}/", dir.path());
        dir.set_path(&path);
    }
    dir.set_query(None);
    dir.set_fragment(None);
    dir
}

/// Why a well-known document was refused: `Unusable` ones trigger the `/metadata` fallback.
enum Problem {
    Unusable(String),
    Invalid(String),
}

impl Problem {
    fn into_reason(self) -> String {
        match self {
            Self::Unusable(reason) | Self::Invalid(reason) => reason,
        }
    }
}

impl From<String> for Problem {
    fn from(reason: String) -> Self {
        Self::Invalid(reason)
    }
}

struct Reader<'a> {
    object: &'a Map<String, Value>,
    base: Url,
    strict: bool,
    warnings: Vec<String>,
}

impl Reader<'_> {
    fn text(&self, name: &str) -> Result<Option<String>, String> {
        match self.object.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(_) => Err(format!("`{name}` must be a string")),
        }
    }

    fn url(&self, name: &str) -> Result<Option<Url>, String> {
        match self.text(name)? {
            None => Ok(None),
            Some(text) if text.trim().is_empty() => Err(format!("`{name}` is empty")),
            Some(text) => self
                .base
                .join(text.trim())
                .map(Some)
                .map_err(|err| format!("`{name}` is not a URL: {err}")),
        }
    }

    fn list(&self, name: &str) -> Result<Option<Vec<String>>, String> {
        match self.object.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| {
                    item.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| format!("`{name}` must be an array of strings"))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(format!("`{name}` must be an array of strings")),
        }
    }

    /// A spec violation: an error in strict mode, a warning otherwise.
    fn lapse(&mut self, message: String) -> Result<(), String> {
        if self.strict {
            Err(message)
        } else {
            self.warnings.push(message);
            Ok(())
        }
    }

    fn required_list(&mut self, name: &str) -> Result<Vec<String>, String> {
        match self.list(name)? {
            Some(list) => Ok(list),
            None => {
                self.lapse(format!("`{name}` is missing"))?;
                Ok(Vec::new())
            }
        }
    }
}

const KNOWN_MEMBERS: &[&str] = &[
    "issuer",
    "jwks_uri",
    "authorization_endpoint",
    "token_endpoint",
    "grant_types_supported",
    "token_endpoint_auth_methods_supported",
    "token_endpoint_auth_signing_alg_values_supported",
    "registration_endpoint",
    "smart_app_state_endpoint",
    "user_access_brand_bundle",
    "user_access_brand_identifier",
    "scopes_supported",
    "response_types_supported",
    "management_endpoint",
    "introspection_endpoint",
    "revocation_endpoint",
    "capabilities",
    "code_challenge_methods_supported",
    "associated_endpoints",
];

impl SmartConfiguration {
    /// Endpoints configured by hand, for servers without discovery.
    pub fn manual(token_endpoint: Url, authorization_endpoint: Option<Url>) -> Self {
        Self {
            issuer: None,
            jwks_uri: None,
            authorization_endpoint,
            token_endpoint,
            grant_types_supported: Vec::new(),
            token_endpoint_auth_methods_supported: Vec::new(),
            token_endpoint_auth_signing_alg_values_supported: Vec::new(),
            registration_endpoint: None,
            smart_app_state_endpoint: None,
            user_access_brand_bundle: None,
            user_access_brand_identifier: None,
            scopes_supported: Vec::new(),
            response_types_supported: Vec::new(),
            management_endpoint: None,
            introspection_endpoint: None,
            revocation_endpoint: None,
            capabilities: Vec::new(),
            code_challenge_methods_supported: Vec::new(),
            associated_endpoints: Vec::new(),
            extra: Map::new(),
            source: ConfigurationSource::Manual,
            warnings: Vec::new(),
        }
    }

    /// Parses a `.well-known/smart-configuration` document; relative endpoints are resolved
    /// against `base` (the FHIR base URL).
    ///
    /// # Errors
    ///
    /// [`Error::Discovery`] naming the missing or malformed member.
    pub fn from_json(base: &Url, json: &[u8], strictness: Strictness) -> Result<Self, Error> {
        Self::parse_document(base, json, strictness).map_err(|problem| Error::Discovery {
            url: redact_url(base),
            reason: problem.into_reason(),
        })
    }

    fn parse_document(base: &Url, json: &[u8], strictness: Strictness) -> Result<Self, Problem> {
        let value: Value = serde_json::from_slice(json)
            .map_err(|err| Problem::Unusable(format!("not JSON: {err}")))?;
        let Value::Object(object) = value else {
            return Err(Problem::Unusable(String::from(
                "the document is not a JSON object",
            )));
        };
        let mut reader = Reader {
            object: &object,
            base: directory(base),
            strict: strictness == Strictness::Strict,
            warnings: Vec::new(),
        };
        let token_endpoint = reader
            .url("token_endpoint")?
            .ok_or_else(|| Problem::Unusable(String::from("`token_endpoint` is missing")))?;
        let capabilities: Vec<Capability> = reader
            .required_list("capabilities")?
            .iter()
            .map(|c| Capability::from(c.as_str()))
            .collect();
        let grant_types_supported = reader.required_list("grant_types_supported")?;
        let code_challenge_methods_supported =
            reader.required_list("code_challenge_methods_supported")?;
        if !code_challenge_methods_supported.is_empty()
            && !code_challenge_methods_supported.iter().any(|m| m == "S256")
        {
            reader.lapse(String::from(
                "`code_challenge_methods_supported` does not include `S256`",
            ))?;
        }
        if code_challenge_methods_supported
            .iter()
            .any(|m| m == "plain")
        {
            reader.lapse(String::from(
                "`code_challenge_methods_supported` includes `plain`, which SMART forbids",
            ))?;
        }
        let authorization_endpoint = reader.url("authorization_endpoint")?;
        let launches = capabilities
            .iter()
            .any(|c| matches!(c, Capability::LaunchEhr | Capability::LaunchStandalone));
        if launches && authorization_endpoint.is_none() {
            return Err(Problem::Invalid(String::from(
                "`authorization_endpoint` is missing but the server advertises launch-ehr or launch-standalone",
            )));
        }
        let issuer = reader.text("issuer")?;
        let jwks_uri = reader.url("jwks_uri")?;
        if capabilities.contains(&Capability::SsoOpenidConnect) {
            if issuer.is_none() {
                reader.lapse(String::from(
                    "`issuer` is missing but the server advertises sso-openid-connect",
                ))?;
            }
            if jwks_uri.is_none() {
                reader.lapse(String::from(
                    "`jwks_uri` is missing but the server advertises sso-openid-connect",
                ))?;
            }
        }
        let associated_endpoints = match object.get("associated_endpoints") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let url = item
                        .get("url")
                        .and_then(Value::as_str)
                        .and_then(|u| reader.base.join(u).ok())
                        .ok_or_else(|| {
                            format!("`associated_endpoints[{i}].url` is missing or not a URL")
                        })?;
                    let capabilities = item
                        .get("capabilities")
                        .and_then(Value::as_array)
                        .map(|caps| {
                            caps.iter()
                                .filter_map(Value::as_str)
                                .map(Capability::from)
                                .collect()
                        })
                        .unwrap_or_default();
                    Ok(AssociatedEndpoint { url, capabilities })
                })
                .collect::<Result<_, String>>()?,
            Some(_) => {
                return Err(Problem::Invalid(String::from(
                    "`associated_endpoints` must be an array",
                )));
            }
        };
        let extra = object
            .iter()
            .filter(|(name, _)| !KNOWN_MEMBERS.contains(&name.as_str()))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        Ok(Self {
            issuer,
            jwks_uri,
            authorization_endpoint,
            token_endpoint,
            grant_types_supported,
            token_endpoint_auth_methods_supported: reader
                .list("token_endpoint_auth_methods_supported")?
                .unwrap_or_default(),
            token_endpoint_auth_signing_alg_values_supported: reader
                .list("token_endpoint_auth_signing_alg_values_supported")?
                .unwrap_or_default(),
            registration_endpoint: reader.url("registration_endpoint")?,
            smart_app_state_endpoint: reader.url("smart_app_state_endpoint")?,
            user_access_brand_bundle: reader.url("user_access_brand_bundle")?,
            user_access_brand_identifier: reader.text("user_access_brand_identifier")?,
            scopes_supported: reader.list("scopes_supported")?.unwrap_or_default(),
            response_types_supported: reader.list("response_types_supported")?.unwrap_or_default(),
            management_endpoint: reader.url("management_endpoint")?,
            introspection_endpoint: reader.url("introspection_endpoint")?,
            revocation_endpoint: reader.url("revocation_endpoint")?,
            capabilities,
            code_challenge_methods_supported,
            associated_endpoints,
            extra,
            source: ConfigurationSource::WellKnown,
            warnings: reader.warnings,
        })
    }

    /// Parses the SMART endpoints from a CapabilityStatement (`rest[].security.extension`
    /// `oauth-uris`, with `valueUri`, `valueUrl` or `valueString`, and the old flat
    /// `oauth-uris#token` form).
    ///
    /// # Errors
    ///
    /// [`Error::Discovery`] when there is no token endpoint.
    pub fn from_capability_statement(base: &Url, json: &[u8]) -> Result<Self, Error> {
        Self::parse_capability_statement(base, json).map_err(|reason| Error::Discovery {
            url: redact_url(base),
            reason,
        })
    }

    fn parse_capability_statement(base: &Url, json: &[u8]) -> Result<Self, String> {
        let value: Value =
            serde_json::from_slice(json).map_err(|err| format!("not JSON: {err}"))?;
        let rest = value
            .get("rest")
            .and_then(Value::as_array)
            .ok_or_else(|| String::from("the CapabilityStatement has no `rest`"))?;
        let rest = rest
            .iter()
            .find(|r| r.get("mode").and_then(Value::as_str) == Some("server"))
            .or_else(|| rest.first())
            .ok_or_else(|| String::from("the CapabilityStatement `rest` is empty"))?;
        let extensions = rest
            .get("security")
            .and_then(|s| s.get("extension"))
            .and_then(Value::as_array)
            .ok_or_else(|| String::from("`rest.security.extension` is missing"))?;
        let value_of = |ext: &Value| {
            ["valueUri", "valueUrl", "valueString"]
                .iter()
                .find_map(|key| ext.get(*key).and_then(Value::as_str))
                .map(str::to_owned)
        };
        let mut endpoints: Vec<(String, String)> = Vec::new();
        for ext in extensions {
            let Some(url) = ext.get("url").and_then(Value::as_str) else {
                continue;
            };
            if url == OAUTH_URIS_EXTENSION {
                for sub in ext
                    .get("extension")
                    .and_then(Value::as_array)
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                {
                    if let (Some(name), Some(value)) =
                        (sub.get("url").and_then(Value::as_str), value_of(sub))
                    {
                        endpoints.push((name.to_owned(), value));
                    }
                }
            } else if let Some(name) = url
                .strip_prefix(OAUTH_URIS_EXTENSION)
                .and_then(|rest| rest.strip_prefix('#'))
                && let Some(value) = value_of(ext)
            {
                endpoints.push((name.to_owned(), value));
            }
        }
        let dir = directory(base);
        let find = |name: &str| -> Result<Option<Url>, String> {
            endpoints
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| {
                    dir.join(v.trim())
                        .map_err(|err| format!("oauth-uris `{name}` is not a URL: {err}"))
                })
                .transpose()
        };
        let token_endpoint =
            find("token")?.ok_or_else(|| String::from("oauth-uris has no `token` endpoint"))?;
        let mut config = Self::manual(token_endpoint, find("authorize")?);
        config.registration_endpoint = find("register")?;
        config.management_endpoint = find("manage")?;
        config.introspection_endpoint = find("introspect")?;
        config.revocation_endpoint = find("revoke")?;
        config.source = ConfigurationSource::CapabilityStatement;
        config.warnings.push(String::from(
            "endpoints from the deprecated CapabilityStatement oauth-uris extension: no capabilities known",
        ));
        Ok(config)
    }

    /// Whether the server lists `capability` (legacy `context-passthrough-*` names count as
    /// their 2.x equivalents).
    pub fn supports(&self, capability: &Capability) -> bool {
        let legacy = match capability {
            Capability::ContextBanner => Some(Capability::ContextPassthroughBanner),
            Capability::ContextStyle => Some(Capability::ContextPassthroughStyle),
            _ => None,
        };
        self.capabilities
            .iter()
            .any(|c| c == capability || Some(c) == legacy.as_ref())
    }

    fn supports_all(&self, capabilities: &[Capability]) -> bool {
        capabilities.iter().all(|c| self.supports(c))
    }

    fn supports_client_type(&self) -> bool {
        self.supports(&Capability::ClientPublic)
            || self.supports(&Capability::ClientConfidentialSymmetric)
    }

    /// Patient standalone launch: `launch-standalone`, a client type,
    /// `context-standalone-patient`, `permission-patient`.
    pub fn supports_patient_standalone(&self) -> bool {
        self.supports_client_type()
            && self.supports_all(&[
                Capability::LaunchStandalone,
                Capability::ContextStandalonePatient,
                Capability::PermissionPatient,
            ])
    }

    /// Patient EHR launch: `launch-ehr`, a client type, `context-ehr-patient`,
    /// `permission-patient`.
    pub fn supports_patient_ehr(&self) -> bool {
        self.supports_client_type()
            && self.supports_all(&[
                Capability::LaunchEhr,
                Capability::ContextEhrPatient,
                Capability::PermissionPatient,
            ])
    }

    /// Clinician standalone launch: `launch-standalone`, a client type, `permission-user`,
    /// `permission-patient`.
    pub fn supports_clinician_standalone(&self) -> bool {
        self.supports_client_type()
            && self.supports_all(&[
                Capability::LaunchStandalone,
                Capability::PermissionUser,
                Capability::PermissionPatient,
            ])
    }

    /// Clinician EHR launch: `launch-ehr`, a client type, `context-ehr-patient`,
    /// `context-ehr-encounter`, `permission-user`, `permission-patient`.
    pub fn supports_clinician_ehr(&self) -> bool {
        self.supports_client_type()
            && self.supports_all(&[
                Capability::LaunchEhr,
                Capability::ContextEhrPatient,
                Capability::ContextEhrEncounter,
                Capability::PermissionUser,
                Capability::PermissionPatient,
            ])
    }

    /// The scope syntax to request: v2 if `permission-v2` is listed, v1 if only
    /// `permission-v1` is (or the configuration came from a CapabilityStatement), else v2.
    pub fn scope_version(&self) -> crate::scopes::ScopeVersion {
        use crate::scopes::ScopeVersion;
        if self.supports(&Capability::PermissionV2) {
            ScopeVersion::V2
        } else if self.supports(&Capability::PermissionV1)
            || self.source == ConfigurationSource::CapabilityStatement
        {
            ScopeVersion::V1
        } else {
            ScopeVersion::V2
        }
    }

    /// The authorization endpoint, required for App Launch.
    ///
    /// # Errors
    ///
    /// [`Error::Discovery`] when the server has none (a Backend Services-only server).
    pub fn require_authorization_endpoint(&self) -> Result<&Url, Error> {
        self.authorization_endpoint
            .as_ref()
            .ok_or_else(|| Error::Discovery {
                url: redact_url(&self.token_endpoint),
                reason: String::from(
                    "`authorization_endpoint` is missing: the server supports no App Launch",
                ),
            })
    }
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

/// One cache entry: the last result and the lock that makes its discovery single-flight.
#[derive(Debug, Default)]
struct CacheSlot {
    value: Option<(Instant, SmartConfiguration)>,
    flight: Arc<tokio::sync::Mutex<()>>,
}

/// Discovery results cached per base URL and [`Strictness`] for a time-to-live, with a
/// forced refresh.
///
/// Concurrent lookups of one base wait for one discovery instead of each fetching the
/// document; lookups of other bases never wait for it (no lock is held across network I/O
/// except the per-base one).
#[derive(Debug)]
pub struct DiscoveryCache {
    ttl: Duration,
    entries: Mutex<HashMap<(String, Strictness), CacheSlot>>,
}

impl DiscoveryCache {
    /// A cache keeping results for `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::default(),
        }
    }

    fn entries(&self) -> MutexGuard<'_, HashMap<(String, Strictness), CacheSlot>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The fresh cached value for `key`, or the lock to hold while discovering it.
    fn lookup(
        &self,
        key: &(String, Strictness),
    ) -> Result<SmartConfiguration, Arc<tokio::sync::Mutex<()>>> {
        let mut entries = self.entries();
        let slot = entries.entry(key.clone()).or_default();
        match &slot.value {
            Some((at, config)) if at.elapsed() < self.ttl => Ok(config.clone()),
            _ => Err(Arc::clone(&slot.flight)),
        }
    }

    /// The configuration of `base`: cached while fresh, discovered otherwise.
    ///
    /// # Errors
    ///
    /// As [`discover`].
    pub async fn get(
        &self,
        http: &HttpClient,
        base: &Url,
        strictness: Strictness,
    ) -> Result<SmartConfiguration, Error> {
        let key = (base.to_string(), strictness);
        let flight = match self.lookup(&key) {
            Ok(config) => return Ok(config),
            Err(flight) => flight,
        };
        let _flight = flight.lock().await;
        // Another caller may have discovered it while this one waited.
        if let Ok(config) = self.lookup(&key) {
            return Ok(config);
        }
        let config = discover(http, base, strictness).await?;
        self.entries().entry(key).or_default().value = Some((Instant::now(), config.clone()));
        Ok(config)
    }

    /// Discovers `base` again, replacing any cached result.
    ///
    /// # Errors
    ///
    /// As [`discover`].
    pub async fn refresh(
        &self,
        http: &HttpClient,
        base: &Url,
        strictness: Strictness,
    ) -> Result<SmartConfiguration, Error> {
        if let Some(slot) = self.entries().get_mut(&(base.to_string(), strictness)) {
            slot.value = None;
        }
        self.get(http, base, strictness).await
    }
}

#[cfg(test)]
mod tests;
