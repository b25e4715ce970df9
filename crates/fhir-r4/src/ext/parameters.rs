//! Building and reading [`Parameters`], the resource operations take and return.

use crate::Resource;
use crate::datatypes::OpenValue;
use crate::primitives::Primitive;
use crate::resources::{Parameters, ParametersParameter};

impl Parameters {
    /// An empty `Parameters` resource, to fill with the `with_*` builders and read by name.
    ///
    /// ```
    /// use fhir_r4::Resource;
    /// use fhir_r4::datatypes::OpenValue;
    /// use fhir_r4::resources::{Parameters, ParametersParameter};
    ///
    /// let patient = Resource::from_slice(br#"{"resourceType": "Patient", "id": "p1"}"#).unwrap();
    /// let input = Parameters::new()
    ///     .with_value("mode", OpenValue::Code("create".into()))
    ///     .with_value("count", OpenValue::Integer(10.into()))
    ///     .with_resource("resource", patient)
    ///     .with_part("match", vec![ParametersParameter::new_value(
    ///         "system",
    ///         OpenValue::Uri("urn:mrn".into()),
    ///     )]);
    /// assert_eq!(input.value_str("mode"), Some("create"));
    /// assert_eq!(input.value_integer("count"), Some(10));
    /// assert_eq!(input.resource("resource").and_then(Resource::id), Some("p1"));
    /// let system = input.get("match").and_then(|m| m.get_part("system"));
    /// assert_eq!(system.and_then(ParametersParameter::value_str), Some("urn:mrn"));
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `parameter`.
    #[must_use]
    pub fn with_parameter(mut self, parameter: ParametersParameter) -> Self {
        self.parameter.push(parameter);
        self
    }

    /// Adds a parameter `name` with a datatype value (`valueInteger`, `valueCode`, …).
    #[must_use]
    pub fn with_value(self, name: &str, value: OpenValue) -> Self {
        self.with_parameter(ParametersParameter::new_value(name, value))
    }

    /// Adds a parameter `name` holding a whole resource.
    #[must_use]
    pub fn with_resource(self, name: &str, resource: impl Into<Resource>) -> Self {
        self.with_parameter(ParametersParameter::new_resource(name, resource))
    }

    /// Adds a multi-part parameter `name` made of `parts`.
    #[must_use]
    pub fn with_part(self, name: &str, parts: Vec<ParametersParameter>) -> Self {
        self.with_parameter(ParametersParameter::new_part(name, parts))
    }

    /// The first parameter called `name`.
    pub fn get(&self, name: &str) -> Option<&ParametersParameter> {
        self.parameter
            .iter()
            .find(|parameter| parameter.name_str() == Some(name))
    }

    /// Every parameter called `name`, in order (operations repeat names for lists).
    pub fn get_all<'a>(
        &'a self,
        name: &'a str,
    ) -> impl Iterator<Item = &'a ParametersParameter> + 'a {
        self.parameter
            .iter()
            .filter(move |parameter| parameter.name_str() == Some(name))
    }

    /// The value of the first parameter called `name`.
    pub fn value(&self, name: &str) -> Option<&OpenValue> {
        self.get(name)?.value.as_ref()
    }

    /// The text of the first parameter called `name`, when its value is a string-like
    /// primitive (`string`, `code`, `uri`, `url`, `canonical`, `id`, `oid`, `uuid`,
    /// `markdown`, `base64Binary`).
    pub fn value_str(&self, name: &str) -> Option<&str> {
        self.get(name)?.value_str()
    }

    /// The value of the first parameter called `name`, when it is a `boolean`.
    pub fn value_bool(&self, name: &str) -> Option<bool> {
        match self.value(name)? {
            OpenValue::Boolean(value) => value.value().copied(),
            _ => None,
        }
    }

    /// The value of the first parameter called `name`, when it is an `integer`.
    pub fn value_integer(&self, name: &str) -> Option<i32> {
        match self.value(name)? {
            OpenValue::Integer(value) => value.value().copied(),
            _ => None,
        }
    }

    /// The resource of the first parameter called `name` (`return`, `resource`, …).
    pub fn resource(&self, name: &str) -> Option<&Resource> {
        self.get(name)?.resource.as_ref()
    }

    /// The resource of the first parameter called `name`, by value.
    pub fn into_resource(self, name: &str) -> Option<Resource> {
        self.parameter
            .into_iter()
            .find(|parameter| parameter.name_str() == Some(name))?
            .resource
    }
}

impl ParametersParameter {
    fn named(name: &str) -> Self {
        Self {
            name: Some(Primitive::from(name)),
            ..Self::default()
        }
    }

    /// A parameter `name` with a datatype value.
    pub fn new_value(name: &str, value: OpenValue) -> Self {
        Self {
            value: Some(value),
            ..Self::named(name)
        }
    }

    /// A parameter `name` holding a whole resource.
    pub fn new_resource(name: &str, resource: impl Into<Resource>) -> Self {
        Self {
            resource: Some(resource.into()),
            ..Self::named(name)
        }
    }

    /// A multi-part parameter `name`.
    pub fn new_part(name: &str, parts: Vec<ParametersParameter>) -> Self {
        Self {
            part: parts.into(),
            ..Self::named(name)
        }
    }

    /// The parameter's name.
    pub fn name_str(&self) -> Option<&str> {
        self.name.as_ref()?.value().map(String::as_str)
    }

    /// The text of the value when it is a string-like primitive (see
    /// [`Parameters::value_str`]).
    pub fn value_str(&self) -> Option<&str> {
        use OpenValue as V;
        let text = match self.value.as_ref()? {
            V::String(p)
            | V::Code(p)
            | V::Uri(p)
            | V::Url(p)
            | V::Canonical(p)
            | V::Id(p)
            | V::Oid(p)
            | V::Uuid(p)
            | V::Markdown(p)
            | V::Base64Binary(p) => p,
            _ => return None,
        };
        text.value().map(String::as_str)
    }

    /// The first part called `name`.
    pub fn get_part(&self, name: &str) -> Option<&ParametersParameter> {
        self.part.iter().find(|part| part.name_str() == Some(name))
    }
}

#[cfg(all(test, feature = "patient"))]
mod tests;
