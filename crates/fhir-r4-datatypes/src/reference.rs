//! Helpers on [`Reference`]: typed construction and reading of literal references.

use fhir_core::TypedResource;

use crate::datatypes::Reference;
use crate::primitives::Primitive;

impl Reference {
    /// A relative literal reference to the resource of type `T` with logical id `id`
    /// (`Reference::to::<Patient>("123")` refers to `Patient/123`).
    pub fn to<T: TypedResource>(id: &str) -> Self {
        Self {
            reference: Some(Primitive::new(format!("{}/{id}", T::RESOURCE_TYPE))),
            ..Self::default()
        }
    }

    /// A relative literal reference to `resource`, or `None` when it has no id yet.
    pub fn to_resource<T: TypedResource>(resource: &T) -> Option<Self> {
        resource.id().map(Self::to::<T>)
    }

    /// A reference to the resource of another entry of the same transaction or batch: its
    /// `urn:uuid:` full URL for a create, which the server rewrites to the new `Type/id`
    /// ([`EntryHandle::reference`](fhir_core::EntryHandle::reference)).
    ///
    /// With the `client` feature (which `fhir-r4`'s `client` feature turns on); the `typed_rest`
    /// example of `fhir-r4` builds a transaction this way.
    #[cfg(feature = "client")]
    pub fn from_handle(handle: &fhir_core::EntryHandle) -> Self {
        Self {
            reference: Some(Primitive::from(handle.reference())),
            ..Self::default()
        }
    }

    /// The literal reference text (`Patient/123`, `#contained`, `urn:uuid:…`), if any.
    pub fn reference_str(&self) -> Option<&str> {
        self.reference.as_ref()?.value.as_deref()
    }

    /// The type and id of a relative literal reference (`Patient/123` → `("Patient", "123")`),
    /// also when it carries a version (`Patient/123/_history/2`); `None` for other forms.
    pub fn target(&self) -> Option<(&str, &str)> {
        let text = self.reference_str()?;
        let mut parts = text.split('/');
        let (resource_type, id) = (parts.next()?, parts.next()?);
        let valid_type = resource_type
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_uppercase())
            && resource_type.chars().all(|c| c.is_ascii_alphanumeric());
        match (parts.next(), parts.next(), parts.next()) {
            (None, None, None) | (Some("_history"), Some(_), None)
                if valid_type && !id.is_empty() =>
            {
                Some((resource_type, id))
            }
            _ => None,
        }
    }

    /// The id of the referenced resource when it is of type `T`.
    pub fn id_of<T: TypedResource>(&self) -> Option<&str> {
        match self.target()? {
            (resource_type, id) if resource_type == T::RESOURCE_TYPE => Some(id),
            _ => None,
        }
    }
}
