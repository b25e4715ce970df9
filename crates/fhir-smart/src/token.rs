//! Token responses (`access_token`, launch context, …) and their parsing.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::TokenEndpointError;
use crate::redact::SentSecrets;
use crate::scopes::Scopes;
use crate::secret::{AccessToken, IdToken, RefreshToken};
use crate::{Error, http::HttpResponse};

/// A `fhirContext` entry of a token response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FhirContext {
    /// A relative reference (`Questionnaire/123`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// A canonical URL, possibly with `|version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canonical: Option<String>,
    /// A FHIR Identifier object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier: Option<Value>,
    /// The resource type.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    /// The role; absent means `launch`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Other members.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl FhirContext {
    /// The role, with the default `launch` when absent.
    pub fn role(&self) -> &str {
        self.role.as_deref().unwrap_or("launch")
    }
}

/// An `authorization_details` entry of type `smart_on_fhir` (experimental, RFC 9396).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuthorizationDetail {
    /// The detail type (`smart_on_fhir`).
    #[serde(rename = "type")]
    pub detail_type: String,
    /// The FHIR base URLs this detail applies to.
    #[serde(default)]
    pub locations: Vec<String>,
    /// The FHIR versions of those servers.
    #[serde(default, rename = "fhirVersions")]
    pub fhir_versions: Vec<String>,
    /// The scope granted at these locations.
    #[serde(default)]
    pub scope: Option<String>,
    /// The patient in context at these locations.
    #[serde(default)]
    pub patient: Option<String>,
    /// The encounter in context at these locations.
    #[serde(default)]
    pub encounter: Option<String>,
    /// `fhirContext` at these locations.
    #[serde(default, rename = "fhirContext")]
    pub fhir_context: Vec<FhirContext>,
    /// Other members.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The launch context that applies to one FHIR server.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct LaunchContext {
    /// The granted scope.
    pub scope: Option<String>,
    /// The patient in context.
    pub patient: Option<String>,
    /// The encounter in context.
    pub encounter: Option<String>,
    /// `fhirContext` entries.
    pub fhir_context: Vec<FhirContext>,
}

/// A successful token response.
///
/// `Debug` redacts the tokens; unknown members are kept in [`extra`](Self::extra).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TokenResponse {
    /// The access token.
    pub access_token: AccessToken,
    /// The token type as sent (compared case-insensitively to `bearer`).
    pub token_type: String,
    /// Lifetime in seconds, when sent (as a number or a numeric string).
    pub expires_in: Option<u64>,
    /// The granted scope string, as sent (may differ from the request).
    pub scope: Option<String>,
    /// The refresh token.
    pub refresh_token: Option<RefreshToken>,
    /// The OpenID Connect id_token.
    pub id_token: Option<IdToken>,
    /// The patient in context (an id on the `aud` server).
    pub patient: Option<String>,
    /// The encounter in context.
    pub encounter: Option<String>,
    /// `fhirContext` entries.
    pub fhir_context: Vec<FhirContext>,
    /// `need_patient_banner`.
    pub need_patient_banner: Option<bool>,
    /// `smart_style_url`.
    pub smart_style_url: Option<String>,
    /// `intent`.
    pub intent: Option<String>,
    /// `tenant`.
    pub tenant: Option<String>,
    /// `authorization_details` (experimental, RFC 9396), unparsed.
    pub authorization_details: Option<Value>,
    /// Any other member (extension context).
    pub extra: Map<String, Value>,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &self.access_token)
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .field("refresh_token", &self.refresh_token)
            .field("id_token", &self.id_token)
            .field("patient", &self.patient)
            .field("encounter", &self.encounter)
            .field("fhir_context", &self.fhir_context)
            .field("need_patient_banner", &self.need_patient_banner)
            .field("smart_style_url", &self.smart_style_url)
            .field("intent", &self.intent)
            .field("tenant", &self.tenant)
            .field("extra", &self.extra.keys().collect::<Vec<_>>())
            .finish()
    }
}

const KNOWN: &[&str] = &[
    "access_token",
    "token_type",
    "expires_in",
    "scope",
    "refresh_token",
    "id_token",
    "patient",
    "encounter",
    "fhirContext",
    "need_patient_banner",
    "smart_style_url",
    "intent",
    "tenant",
    "authorization_details",
];

fn invalid(reason: impl Into<String>) -> Error {
    Error::InvalidTokenResponse {
        reason: reason.into(),
    }
}

impl TokenResponse {
    /// Parses a token response body (the JSON of an HTTP 200 answer).
    ///
    /// An `error` member makes it an error even on 200.
    ///
    /// # Errors
    ///
    /// [`Error::TokenEndpoint`] for an `error` member, [`Error::InvalidTokenResponse`] naming
    /// the member that is missing or malformed (never its value).
    pub fn from_json(body: &[u8]) -> Result<Self, Error> {
        Self::from_json_sent(body, &SentSecrets::default())
    }

    /// [`from_json`](Self::from_json), redacting the credentials of the request in an error.
    fn from_json_sent(body: &[u8], sent: &SentSecrets) -> Result<Self, Error> {
        let value: Value =
            serde_json::from_slice(body).map_err(|_| invalid("the body is not JSON"))?;
        let Value::Object(mut object) = value else {
            return Err(invalid("the body is not a JSON object"));
        };
        if object.contains_key("error") {
            return Err(TokenEndpointError::from_response(
                200,
                Some(String::from("application/json")),
                body,
                sent,
            )
            .into());
        }
        let text = |object: &Map<String, Value>, name: &str| -> Result<Option<String>, Error> {
            match object.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(text)) => Ok(Some(text.clone())),
                Some(_) => Err(invalid(format!("`{name}` must be a string"))),
            }
        };
        let access_token = text(&object, "access_token")?
            .filter(|t| !t.is_empty())
            .ok_or_else(|| invalid("`access_token` is missing or empty"))?;
        let token_type =
            text(&object, "token_type")?.ok_or_else(|| invalid("`token_type` is missing"))?;
        if !token_type.eq_ignore_ascii_case("bearer") {
            // The value is not printed: a hostile server could echo a credential in it.
            return Err(invalid("unsupported `token_type` (expected bearer)"));
        }
        let expires_in = match object.get("expires_in") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => Some(
                n.as_u64()
                    .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
                    .ok_or_else(|| invalid("`expires_in` must be a non-negative number"))?,
            ),
            Some(Value::String(s)) => Some(
                s.trim()
                    .parse::<u64>()
                    .map_err(|_| invalid("`expires_in` is not a number"))?,
            ),
            Some(_) => return Err(invalid("`expires_in` must be a number")),
        };
        let need_patient_banner = match object.get("need_patient_banner") {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Some(true),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Some(false),
            Some(_) => return Err(invalid("`need_patient_banner` must be a boolean")),
        };
        let fhir_context = match object.get("fhirContext") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => {
                // SMART 2.0.0 sent bare reference strings; 2.1+ sends objects.
                let entries = items
                    .iter()
                    .map(|item| match item {
                        Value::String(reference) => Ok(FhirContext {
                            reference: Some(reference.clone()),
                            canonical: None,
                            identifier: None,
                            resource_type: None,
                            role: None,
                            extra: Map::new(),
                        }),
                        other => {
                            serde_json::from_value::<FhirContext>(other.clone()).map_err(|_| {
                                invalid("`fhirContext` entries must be objects or references")
                            })
                        }
                    })
                    .collect::<Result<Vec<_>, Error>>()?;
                if let Some(i) = entries.iter().position(|e| {
                    e.reference.is_none() && e.canonical.is_none() && e.identifier.is_none()
                }) {
                    return Err(invalid(format!(
                        "`fhirContext[{i}]` has no reference, canonical or identifier"
                    )));
                }
                entries
            }
            Some(_) => return Err(invalid("`fhirContext` must be an array")),
        };
        let response = Self {
            access_token: AccessToken::new(access_token),
            token_type,
            expires_in,
            scope: text(&object, "scope")?,
            refresh_token: text(&object, "refresh_token")?.map(RefreshToken::new),
            id_token: text(&object, "id_token")?.map(IdToken::new),
            patient: text(&object, "patient")?,
            encounter: text(&object, "encounter")?,
            fhir_context,
            need_patient_banner,
            smart_style_url: text(&object, "smart_style_url")?,
            intent: text(&object, "intent")?,
            tenant: text(&object, "tenant")?,
            authorization_details: object.get("authorization_details").cloned(),
            extra: Map::new(),
        };
        object.retain(|name, _| !KNOWN.contains(&name.as_str()));
        Ok(Self {
            extra: object,
            ..response
        })
    }

    /// Classifies an HTTP answer of the token endpoint: 200 is parsed, anything else is a
    /// [`TokenEndpointError`] (JSON OAuth error or raw body).
    /// Credentials of the request (`sent`) are redacted wherever an error echoes them.
    pub(crate) fn from_http(response: &HttpResponse, sent: &SentSecrets) -> Result<Self, Error> {
        if response.status == 200 {
            Self::from_json_sent(&response.body, sent)
        } else {
            Err(TokenEndpointError::from_response(
                response.status,
                response.content_type.clone(),
                &response.body,
                sent,
            )
            .into())
        }
    }

    /// The `authorization_details` entries that parse (others are skipped).
    pub fn authorization_details(&self) -> Vec<AuthorizationDetail> {
        match &self.authorization_details {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|item| serde_json::from_value(item.clone()).ok())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The context for the FHIR server at `location`: values of a matching
    /// `authorization_details` entry override the top-level ones.
    pub fn context_for(&self, location: &str) -> LaunchContext {
        let mut context = LaunchContext {
            scope: self.scope.clone(),
            patient: self.patient.clone(),
            encounter: self.encounter.clone(),
            fhir_context: self.fhir_context.clone(),
        };
        let same = |a: &str| a.trim_end_matches('/') == location.trim_end_matches('/');
        if let Some(detail) = self
            .authorization_details()
            .into_iter()
            .find(|d| d.locations.iter().any(|l| same(l)))
        {
            context.scope = detail.scope.or(context.scope);
            context.patient = detail.patient.or(context.patient);
            context.encounter = detail.encounter.or(context.encounter);
            if !detail.fhir_context.is_empty() {
                context.fhir_context = detail.fhir_context;
            }
        }
        context
    }

    /// The granted scopes, parsed.
    ///
    /// # Errors
    ///
    /// [`Error::Scope`] when the server sent a malformed scope.
    pub fn granted_scopes(&self) -> Result<Option<Scopes>, Error> {
        Ok(self.scope.as_deref().map(str::parse).transpose()?)
    }
}

#[cfg(test)]
mod tests;
