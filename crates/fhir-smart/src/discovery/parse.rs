//! Reading a configuration: the well-known document (strict or lenient, relative URLs
//! resolved below the base) and the CapabilityStatement `oauth-uris` fallback.

use serde_json::{Map, Value};
use url::Url;

use super::fetch::directory;
use super::{
    AssociatedEndpoint, Capability, ConfigurationSource, OAUTH_URIS_EXTENSION, SmartConfiguration,
    Strictness,
};
use crate::Error;
use crate::http::redact_url;

/// Why a well-known document was refused: `Unusable` ones trigger the `/metadata` fallback.
pub(super) enum Problem {
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

    pub(super) fn parse_document(
        base: &Url,
        json: &[u8],
        strictness: Strictness,
    ) -> Result<Self, Problem> {
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

    pub(super) fn parse_capability_statement(base: &Url, json: &[u8]) -> Result<Self, String> {
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
}
