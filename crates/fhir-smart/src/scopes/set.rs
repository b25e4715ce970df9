//! [`Scopes`](super::Scopes): a set of scopes in insertion order, its v1/v2 conversions, and
//! what it covers.

use super::*;

/// A set of scopes, in insertion order and without duplicates.
///
/// Parsing splits on runs of whitespace; `Display` joins with single spaces.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scopes(Vec<Scope>);

impl Scopes {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `scope` unless it is already present.
    pub fn push(&mut self, scope: impl Into<Scope>) {
        let scope = scope.into();
        if !self.0.contains(&scope) {
            self.0.push(scope);
        }
    }

    /// Adds `scope` (builder style).
    #[must_use]
    pub fn with(mut self, scope: impl Into<Scope>) -> Self {
        self.push(scope);
        self
    }

    /// The scopes, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Scope> {
        self.0.iter()
    }

    /// The number of scopes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there is no scope.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `scope` is present exactly.
    pub fn contains(&self, scope: &Scope) -> bool {
        self.0.contains(scope)
    }

    /// Whether a `patient/` resource scope is present.
    pub fn has_patient_scope(&self) -> bool {
        self.0
            .iter()
            .any(|s| matches!(s, Scope::Resource(r) if r.context == ScopeContext::Patient))
    }

    /// The syntax of the resource scopes, or `None` when there are none or they are mixed
    /// (see [`Scopes::is_mixed`]).
    pub fn version(&self) -> Option<ScopeVersion> {
        let mut versions = self.resource_scopes().map(|r| r.permissions.version());
        let first = versions.next()?;
        versions.all(|v| v == first).then_some(first)
    }

    /// Whether v1 and v2 resource scopes are mixed (some servers reject such requests).
    pub fn is_mixed(&self) -> bool {
        let mut versions = self.resource_scopes().map(|r| r.permissions.version());
        match versions.next() {
            Some(first) => versions.any(|v| v != first),
            None => false,
        }
    }

    pub(super) fn resource_scopes(&self) -> impl Iterator<Item = &ResourceScope> {
        self.0.iter().filter_map(|s| match s {
            Scope::Resource(r) => Some(r),
            _ => None,
        })
    }

    /// Every resource scope rewritten in v2 syntax.
    #[must_use]
    pub fn to_v2(&self) -> Self {
        self.0
            .iter()
            .map(|s| match s {
                Scope::Resource(r) => Scope::Resource(r.to_v2()),
                other => other.clone(),
            })
            .collect()
    }

    /// The shortest equivalent form: v2 resource scopes with the same context, type and
    /// query are merged (`patient/Observation.r patient/Observation.s` →
    /// `patient/Observation.rs`), in order of first appearance.
    #[must_use]
    pub fn factored(&self) -> Self {
        let mut out: Vec<Scope> = Vec::with_capacity(self.0.len());
        for scope in &self.0 {
            if let Scope::Resource(r) = scope
                && let Permissions::V2(interactions) = r.permissions
                && let Some(Scope::Resource(existing)) = out.iter_mut().find(|s| {
                    matches!(s, Scope::Resource(e) if e.context == r.context
                        && e.resource_type == r.resource_type
                        && e.query == r.query
                        && e.permissions.version() == ScopeVersion::V2)
                })
            {
                existing.permissions =
                    Permissions::V2(existing.permissions.interactions().union(interactions));
                continue;
            }
            out.push(scope.clone());
        }
        out.into_iter().collect()
    }

    /// Every resource scope rewritten in v1 syntax.
    ///
    /// # Errors
    ///
    /// A [`ScopeParseError`] naming the first scope with no v1 equivalent (such as `.r` or a
    /// granular query).
    pub fn to_v1(&self) -> Result<Self, ScopeParseError> {
        self.0
            .iter()
            .map(|s| match s {
                Scope::Resource(r) => {
                    r.to_v1()
                        .map(Scope::Resource)
                        .ok_or_else(|| ScopeParseError {
                            scope: r.to_string(),
                            position: 0,
                            reason: String::from("no v1 equivalent (only rs, cud and cruds map)"),
                        })
                }
                other => Ok(other.clone()),
            })
            .collect()
    }

    /// Whether these (granted) scopes allow `interaction` on `resource_type` in `context`,
    /// using the union of every matching scope without a query.
    pub fn permits(
        &self,
        context: ScopeContext,
        resource_type: &str,
        interaction: Interaction,
    ) -> bool {
        self.granted_for(context, resource_type, None)
            .contains(interaction)
    }

    pub(super) fn granted_for(
        &self,
        context: ScopeContext,
        resource_type: &str,
        query: Option<&str>,
    ) -> Interactions {
        self.resource_scopes()
            .filter(|g| {
                g.context == context
                    && (g.resource_type == "*" || g.resource_type == resource_type)
                    && (g.query.is_none() || g.query.as_deref() == query)
            })
            .fold(Interactions::NONE, |acc, g| {
                acc.union(g.permissions.interactions())
            })
    }

    /// Whether these (granted) scopes cover `requested`.
    ///
    /// A resource scope is covered by the union of the granted scopes with the same context,
    /// the same type or `*`, and no query or the same query; v1 and v2 syntax are equivalent.
    /// Any other scope must be granted exactly.
    pub fn covers_scope(&self, requested: &Scope) -> bool {
        match requested {
            Scope::Resource(r) => self
                .granted_for(r.context, &r.resource_type, r.query.as_deref())
                .is_superset(r.permissions.interactions()),
            other => self.0.contains(other),
        }
    }

    /// Whether these (granted) scopes cover every scope of `requested`.
    pub fn covers(&self, requested: &Scopes) -> bool {
        requested.iter().all(|s| self.covers_scope(s))
    }

    /// The requested scopes these (granted) scopes do not cover (down-scoping is normal).
    pub fn missing(&self, requested: &Scopes) -> Vec<Scope> {
        requested
            .iter()
            .filter(|s| !self.covers_scope(s))
            .cloned()
            .collect()
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        let mut scopes = Self::new();
        for scope in iter {
            scopes.push(scope);
        }
        scopes
    }
}

impl<'a> IntoIterator for &'a Scopes {
    type Item = &'a Scope;
    type IntoIter = std::slice::Iter<'a, Scope>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl FromStr for Scopes {
    type Err = ScopeParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut scopes = Self::new();
        let mut rest = text;
        while let Some(start) = rest.find(|c: char| !c.is_whitespace()) {
            let word_and_after = &rest[start..];
            let end = word_and_after
                .find(char::is_whitespace)
                .unwrap_or(word_and_after.len());
            let offset = text.len() - word_and_after.len();
            scopes.push(Scope::parse_at(&word_and_after[..end], offset)?);
            rest = &word_and_after[end..];
        }
        Ok(scopes)
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, scope) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            scope.fmt(f)?;
        }
        Ok(())
    }
}

impl serde::Serialize for Scopes {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Scopes {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}
