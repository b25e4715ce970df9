//! Constructors and `with_*` builders for the everyday datatypes, so that writing a model is
//! as short as writing its JSON: no `Box::new`, no `..Default::default()`, no `.into()` on
//! every string.
//!
//! ```
//! use fhir_r4_datatypes::codes::{ContactPointUse, NameUse};
//! use fhir_r4_datatypes::datatypes::{CodeableConcept, Coding, ContactPoint, HumanName, Quantity};
//!
//! let heart_rate = CodeableConcept::from(Coding::new("http://loinc.org", "8867-4").with_display("Heart rate"));
//! let bpm = Quantity::ucum(72, "/min").with_unit("beats/minute");
//! let name = HumanName::new("Chalmers", ["Peter", "James"]).with_use(NameUse::Official);
//! let phone = ContactPoint::phone("(03) 5555 6473").with_use(ContactPointUse::Work);
//! assert_eq!(heart_rate.to_string(), "Heart rate");
//! assert_eq!(bpm.to_string(), "72 beats/minute");
//! assert_eq!(name.to_string(), "Peter James Chalmers");
//! assert_eq!(phone.to_string(), "(03) 5555 6473");
//! ```

use crate::codes::{
    ContactPointSystem, ContactPointUse, IdentifierUse, NameUse, QuantityComparator,
};
use crate::datatypes::{
    CodeableConcept, Coding, ContactPoint, HumanName, Identifier, Period, Quantity, Reference,
};
use crate::primitives::{DateTime, Decimal, Primitive};

/// The code system of UCUM units, `http://unitsofmeasure.org`.
pub const UCUM: &str = "http://unitsofmeasure.org";

fn text(value: impl Into<String>) -> Option<Primitive<String>> {
    Some(Primitive::new(value.into()))
}

impl Coding {
    /// The code `code` of the code system `system`.
    pub fn new(system: impl Into<String>, code: impl Into<String>) -> Self {
        Self {
            system: text(system),
            code: text(code),
            ..Self::default()
        }
    }

    /// With the text shown for the code.
    #[must_use]
    pub fn with_display(mut self, display: impl Into<String>) -> Self {
        self.display = text(display);
        self
    }

    /// With the version of the code system.
    #[must_use]
    pub fn with_version(mut self, version: impl Into<String>) -> Self {
        self.version = text(version);
        self
    }
}

impl From<Coding> for CodeableConcept {
    /// A concept of the one coding.
    fn from(coding: Coding) -> Self {
        Self {
            coding: crate::thin_vec![coding],
            ..Self::default()
        }
    }
}

impl CodeableConcept {
    /// A concept given only as text.
    pub fn from_text(value: impl Into<String>) -> Self {
        Self {
            text: text(value),
            ..Self::default()
        }
    }

    /// With one more coding (the same concept in another code system).
    #[must_use]
    pub fn with_coding(mut self, coding: Coding) -> Self {
        self.coding.push(coding);
        self
    }

    /// With the text as the user entered or saw it.
    #[must_use]
    pub fn with_text(mut self, value: impl Into<String>) -> Self {
        self.text = text(value);
        self
    }
}

impl Quantity {
    /// `value` in the UCUM unit `code` (`Quantity::ucum(72, "/min")`,
    /// `Quantity::ucum(Decimal::try_from(7.2)?, "mmol/L")`): the code is also the
    /// human-readable unit until [`with_unit`](Self::with_unit) says otherwise.
    pub fn ucum(value: impl Into<Decimal>, code: impl Into<String>) -> Self {
        let code = code.into();
        Self {
            value: Some(Primitive::new(value.into())),
            unit: text(code.clone()),
            system: text(UCUM),
            code: text(code),
            ..Self::default()
        }
    }

    /// `value` with a human-readable unit and no coded unit.
    pub fn new(value: impl Into<Decimal>, unit: impl Into<String>) -> Self {
        Self {
            value: Some(Primitive::new(value.into())),
            unit: text(unit),
            ..Self::default()
        }
    }

    /// With the human-readable unit.
    #[must_use]
    pub fn with_unit(mut self, unit: impl Into<String>) -> Self {
        self.unit = text(unit);
        self
    }

    /// With a comparator: the real value is `<`, `<=`, `>=` or `>` the value.
    #[must_use]
    pub fn with_comparator(mut self, comparator: QuantityComparator) -> Self {
        self.comparator = Some(Primitive::new(comparator));
        self
    }
}

impl Reference {
    /// A reference by its text (`"Patient/123"`, an absolute URL, or a `urn:uuid:`); see
    /// [`Reference::to`] for a typed one.
    pub fn new(reference: impl Into<String>) -> Self {
        Self {
            reference: text(reference),
            ..Self::default()
        }
    }

    /// With the text shown for the target.
    #[must_use]
    pub fn with_display(mut self, display: impl Into<String>) -> Self {
        self.display = text(display);
        self
    }
}

impl Identifier {
    /// The identifier `value` in the namespace `system`.
    pub fn new(system: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            system: text(system),
            value: text(value),
            ..Self::default()
        }
    }

    /// With its purpose (`usual`, `official`, …).
    #[must_use]
    pub fn with_use(mut self, use_: IdentifierUse) -> Self {
        self.use_ = Some(Primitive::new(use_));
        self
    }

    /// With its type (`MR` for a medical record number, …).
    #[must_use]
    pub fn with_type(mut self, type_: impl Into<CodeableConcept>) -> Self {
        self.type_ = Some(Box::new(type_.into()));
        self
    }
}

impl ContactPoint {
    /// A contact point of `system` (phone, email, …) with `value`.
    pub fn new(system: ContactPointSystem, value: impl Into<String>) -> Self {
        Self {
            system: Some(Primitive::new(system)),
            value: text(value),
            ..Self::default()
        }
    }

    /// A phone number.
    pub fn phone(number: impl Into<String>) -> Self {
        Self::new(ContactPointSystem::Phone, number)
    }

    /// An email address.
    pub fn email(address: impl Into<String>) -> Self {
        Self::new(ContactPointSystem::Email, address)
    }

    /// With its purpose (`home`, `work`, `mobile`, …).
    #[must_use]
    pub fn with_use(mut self, use_: ContactPointUse) -> Self {
        self.use_ = Some(Primitive::new(use_));
        self
    }
}

impl HumanName {
    /// A name of `family` and `given` names, in order.
    pub fn new<G: Into<String>>(
        family: impl Into<String>,
        given: impl IntoIterator<Item = G>,
    ) -> Self {
        Self {
            family: text(family),
            given: given
                .into_iter()
                .map(|name| Primitive::new(name.into()))
                .collect(),
            ..Self::default()
        }
    }

    /// With its purpose (`official`, `usual`, `maiden`, …).
    #[must_use]
    pub fn with_use(mut self, use_: NameUse) -> Self {
        self.use_ = Some(Primitive::new(use_));
        self
    }

    /// With the full name as written.
    #[must_use]
    pub fn with_text(mut self, value: impl Into<String>) -> Self {
        self.text = text(value);
        self
    }
}

impl Period {
    /// The period from `start` to `end`, either open.
    pub fn new(start: Option<DateTime>, end: Option<DateTime>) -> Self {
        Self {
            start: start.map(Primitive::new),
            end: end.map(Primitive::new),
            ..Self::default()
        }
    }

    /// The period from `start`, not (yet) ended.
    pub fn starting(start: DateTime) -> Self {
        Self::new(Some(start), None)
    }
}

#[cfg(test)]
mod tests;
