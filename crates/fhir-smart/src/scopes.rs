//! SMART scopes: parse, build, convert between v1 and v2, and check what a grant covers.
//!
//! ```
//! use fhir_smart::scopes::{Interaction, ScopeContext, Scopes};
//!
//! let granted: Scopes = "launch/patient patient/Observation.rs patient/Patient.read".parse()?;
//! assert!(granted.permits(ScopeContext::Patient, "Observation", Interaction::Search));
//! assert!(!granted.permits(ScopeContext::Patient, "Observation", Interaction::Create));
//! assert_eq!(granted.to_v2().to_string(), "launch/patient patient/Observation.rs patient/Patient.rs");
//! # Ok::<(), fhir_smart::scopes::ScopeParseError>(())
//! ```

use std::fmt;
use std::str::FromStr;

mod parse;
mod set;

use parse::*;
pub use set::Scopes;

/// The prefix of SMART scopes in URI form.
pub const SMART_SCOPE_URI_PREFIX: &str = "http://smarthealthit.org/fhir/scopes/";
/// The prefix of OpenID Connect scopes in URI form.
pub const OPENID_SCOPE_URI_PREFIX: &str = "http://openid.net/specs/openid-connect-core-1_0#";

/// A scope string could not be parsed; says which scope and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid scope `{scope}` at position {position}: {reason}")]
#[non_exhaustive]
pub struct ScopeParseError {
    /// The offending scope.
    pub scope: String,
    /// The byte offset of the problem in the parsed input.
    pub position: usize,
    /// What is wrong.
    pub reason: String,
}

/// The context part of a resource scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ScopeContext {
    /// `patient/`: data about the patient in context.
    Patient,
    /// `user/`: data the user may access.
    User,
    /// `system/`: Backend Services.
    System,
}

impl ScopeContext {
    /// The context as written in a scope.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Patient => "patient",
            Self::User => "user",
            Self::System => "system",
        }
    }
}

/// The scope syntax generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScopeVersion {
    /// SMART v1: `.read`, `.write`, `.*`.
    V1,
    /// SMART v2: `.cruds` and granular `?query` scopes.
    V2,
}

/// One FHIR interaction class of a v2 permission letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Interaction {
    /// `c`: type-level create.
    Create,
    /// `r`: read, vread, instance history.
    Read,
    /// `u`: update, update-as-create, patch.
    Update,
    /// `d`: delete.
    Delete,
    /// `s`: search and history at type or system level.
    Search,
}

impl Interaction {
    const ALL: [Self; 5] = [
        Self::Create,
        Self::Read,
        Self::Update,
        Self::Delete,
        Self::Search,
    ];

    fn bit(self) -> u8 {
        match self {
            Self::Create => 1,
            Self::Read => 2,
            Self::Update => 4,
            Self::Delete => 8,
            Self::Search => 16,
        }
    }

    fn letter(self) -> char {
        match self {
            Self::Create => 'c',
            Self::Read => 'r',
            Self::Update => 'u',
            Self::Delete => 'd',
            Self::Search => 's',
        }
    }
}

/// A set of [`Interaction`]s, written in the canonical `cruds` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Interactions(u8);

impl Interactions {
    /// No interaction.
    pub const NONE: Self = Self(0);
    /// `rs`: the v2 equivalent of v1 `read`.
    pub const READ_SEARCH: Self = Self(2 | 16);
    /// `cud`: the v2 equivalent of v1 `write`.
    pub const WRITE: Self = Self(1 | 4 | 8);
    /// `cruds`: every interaction, the v2 equivalent of v1 `*`.
    pub const ALL: Self = Self(31);

    /// The set holding `interactions`.
    pub fn of(interactions: &[Interaction]) -> Self {
        Self(interactions.iter().fold(0, |acc, i| acc | i.bit()))
    }

    /// Whether `interaction` is in the set.
    pub fn contains(self, interaction: Interaction) -> bool {
        self.0 & interaction.bit() != 0
    }

    /// Whether every interaction of `other` is in this set.
    pub fn is_superset(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The union of two sets.
    #[must_use]
    pub fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }
}

impl fmt::Display for Interactions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for interaction in Interaction::ALL {
            if self.contains(interaction) {
                write!(f, "{}", interaction.letter())?;
            }
        }
        Ok(())
    }
}

/// A v1 permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum V1Permission {
    /// `.read`, equivalent to v2 `.rs`.
    Read,
    /// `.write`, equivalent to v2 `.cud`.
    Write,
    /// `.*`, equivalent to v2 `.cruds`.
    All,
}

/// The permission part of a resource scope, in the syntax it was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permissions {
    /// v1 syntax.
    V1(V1Permission),
    /// v2 syntax: a non-empty, in-order subset of `cruds`.
    V2(Interactions),
}

impl Permissions {
    /// The interactions granted, whatever the syntax.
    pub fn interactions(self) -> Interactions {
        match self {
            Self::V1(V1Permission::Read) => Interactions::READ_SEARCH,
            Self::V1(V1Permission::Write) => Interactions::WRITE,
            Self::V1(V1Permission::All) => Interactions::ALL,
            Self::V2(interactions) => interactions,
        }
    }

    /// The syntax generation.
    pub fn version(self) -> ScopeVersion {
        match self {
            Self::V1(_) => ScopeVersion::V1,
            Self::V2(_) => ScopeVersion::V2,
        }
    }
}

impl fmt::Display for Permissions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::V1(V1Permission::Read) => f.write_str("read"),
            Self::V1(V1Permission::Write) => f.write_str("write"),
            Self::V1(V1Permission::All) => f.write_str("*"),
            Self::V2(interactions) => interactions.fmt(f),
        }
    }
}

/// A FHIR resource scope: `<context>/<type>.<permissions>[?<query>]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResourceScope {
    /// `patient`, `user` or `system`.
    pub context: ScopeContext,
    /// A FHIR resource type, or `*` for all types.
    pub resource_type: String,
    /// The permissions.
    pub permissions: Permissions,
    /// The granular (v2) query after `?`, kept verbatim (for example
    /// `category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory`).
    pub query: Option<String>,
}

impl ResourceScope {
    /// A v2 scope such as `patient/Observation.rs`.
    pub fn v2(
        context: ScopeContext,
        resource_type: impl Into<String>,
        interactions: Interactions,
    ) -> Self {
        Self {
            context,
            resource_type: resource_type.into(),
            permissions: Permissions::V2(interactions),
            query: None,
        }
    }

    /// A v1 scope such as `patient/Observation.read`.
    pub fn v1(
        context: ScopeContext,
        resource_type: impl Into<String>,
        permission: V1Permission,
    ) -> Self {
        Self {
            context,
            resource_type: resource_type.into(),
            permissions: Permissions::V1(permission),
            query: None,
        }
    }

    /// Adds a granular query (v2 only), such as `category=…|laboratory`.
    #[must_use]
    pub fn with_query(mut self, query: impl Into<String>) -> Self {
        self.query = Some(query.into());
        self
    }

    /// The same scope in v2 syntax (`.read` → `.rs`, `.write` → `.cud`, `.*` → `.cruds`).
    #[must_use]
    pub fn to_v2(&self) -> Self {
        Self {
            permissions: Permissions::V2(self.permissions.interactions()),
            ..self.clone()
        }
    }

    /// The same scope in v1 syntax, when one exists: only `rs`, `cud` and `cruds` without a
    /// query map back.
    pub fn to_v1(&self) -> Option<Self> {
        if self.query.is_some() {
            return None;
        }
        let permission = match self.permissions {
            Permissions::V1(permission) => permission,
            Permissions::V2(Interactions::READ_SEARCH) => V1Permission::Read,
            Permissions::V2(Interactions::WRITE) => V1Permission::Write,
            Permissions::V2(Interactions::ALL) => V1Permission::All,
            Permissions::V2(_) => return None,
        };
        Some(Self {
            permissions: Permissions::V1(permission),
            ..self.clone()
        })
    }
}

impl fmt::Display for ResourceScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}.{}",
            self.context.as_str(),
            self.resource_type,
            self.permissions
        )?;
        if let Some(query) = &self.query {
            write!(f, "?{query}")?;
        }
        Ok(())
    }
}

/// The resource named by a `launch/<type>` context scope.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LaunchScope {
    /// `launch/patient`.
    Patient,
    /// `launch/encounter`.
    Encounter,
    /// `launch/<type>` for another resource type (experimental); written in lowercase.
    Other(String),
}

/// One scope.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scope {
    /// A FHIR resource scope.
    Resource(ResourceScope),
    /// `launch`: an EHR launch context is requested.
    Launch,
    /// `launch/<type>[?role=<uri>]`: a standalone-launch context request.
    LaunchContext {
        /// The resource type in context.
        context: LaunchScope,
        /// The optional `role` (one per scope).
        role: Option<String>,
    },
    /// `openid`.
    OpenId,
    /// `fhirUser`.
    FhirUser,
    /// `profile` (SMART v1 identity scope).
    Profile,
    /// `offline_access`.
    OfflineAccess,
    /// `online_access`.
    OnlineAccess,
    /// Any other scope (a full URI, a `__` extension, a server-specific scope), kept verbatim.
    Other(String),
}

impl Scope {
    /// The scope in URI form (SMART App Launch, appendix), for servers that want URIs.
    pub fn to_uri(&self) -> String {
        match self {
            Self::OpenId | Self::Profile => format!("{OPENID_SCOPE_URI_PREFIX}{self}"),
            Self::Other(other) => other.clone(),
            _ => format!("{SMART_SCOPE_URI_PREFIX}{self}"),
        }
    }

    fn parse_at(text: &str, offset: usize) -> Result<Self, ScopeParseError> {
        let error = |at: usize, reason: &str| ScopeParseError {
            scope: text.to_owned(),
            position: offset + at,
            reason: reason.to_owned(),
        };
        Ok(match text {
            "launch" => Self::Launch,
            "openid" => Self::OpenId,
            "fhirUser" => Self::FhirUser,
            "profile" => Self::Profile,
            "offline_access" => Self::OfflineAccess,
            "online_access" => Self::OnlineAccess,
            _ => {
                if let Some(rest) = text.strip_prefix("launch/") {
                    return parse_launch(rest, 7).map_err(|(at, reason)| error(at, reason));
                }
                for context in [
                    ScopeContext::Patient,
                    ScopeContext::User,
                    ScopeContext::System,
                ] {
                    if let Some(rest) = text
                        .strip_prefix(context.as_str())
                        .and_then(|rest| rest.strip_prefix('/'))
                    {
                        let start = context.as_str().len() + 1;
                        return parse_resource(context, rest, start)
                            .map(Self::Resource)
                            .map_err(|(at, reason)| error(at, reason));
                    }
                }
                Self::Other(text.to_owned())
            }
        })
    }
}

impl FromStr for Scope {
    type Err = ScopeParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.is_empty() || text.contains(char::is_whitespace) {
            return Err(ScopeParseError {
                scope: text.to_owned(),
                position: 0,
                reason: String::from("a scope is one non-empty word"),
            });
        }
        Self::parse_at(text, 0)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Resource(scope) => scope.fmt(f),
            Self::Launch => f.write_str("launch"),
            Self::LaunchContext { context, role } => {
                match context {
                    LaunchScope::Patient => f.write_str("launch/patient")?,
                    LaunchScope::Encounter => f.write_str("launch/encounter")?,
                    LaunchScope::Other(name) => write!(f, "launch/{}", name.to_ascii_lowercase())?,
                }
                if let Some(role) = role {
                    write!(f, "?role={role}")?;
                }
                Ok(())
            }
            Self::OpenId => f.write_str("openid"),
            Self::FhirUser => f.write_str("fhirUser"),
            Self::Profile => f.write_str("profile"),
            Self::OfflineAccess => f.write_str("offline_access"),
            Self::OnlineAccess => f.write_str("online_access"),
            Self::Other(other) => f.write_str(other),
        }
    }
}

impl From<ResourceScope> for Scope {
    fn from(scope: ResourceScope) -> Self {
        Self::Resource(scope)
    }
}

#[cfg(test)]
mod tests;
