//! SMART discovery: `{base}/.well-known/smart-configuration`, with the CapabilityStatement
//! `oauth-uris` fallback at `{base}/metadata`.

use std::fmt;

use serde_json::{Map, Value};
use url::Url;

use crate::Error;
use crate::http::redact_url;

mod cache;
mod fetch;
mod parse;

pub use cache::DiscoveryCache;
pub use fetch::{discover, well_known_url};

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

#[cfg(test)]
mod tests;
