//! Paths of every interaction, id validation, percent-encoding and compartments.

use super::*;
use crate::resources::{Observation, Patient};
use crate::search::{Token, observation};

#[test]
fn instance_and_type_interactions() -> Result<(), PathError> {
    let cases = [
        (read::<Patient>("a-1.B")?, Method::Get, "Patient/a-1.B"),
        (
            vread::<Patient>("1", "2")?,
            Method::Get,
            "Patient/1/_history/2",
        ),
        (update::<Patient>("1")?, Method::Put, "Patient/1"),
        (patch::<Patient>("1")?, Method::Patch, "Patient/1"),
        (delete::<Patient>("1")?, Method::Delete, "Patient/1"),
        (create::<Patient>(), Method::Post, "Patient"),
        (
            history_instance::<Patient>("1")?,
            Method::Get,
            "Patient/1/_history",
        ),
        (history_type::<Patient>(), Method::Get, "Patient/_history"),
        (history_system(), Method::Get, "_history"),
        (
            operation_instance::<Patient>(Method::Get, "1", "everything")?,
            Method::Get,
            "Patient/1/$everything",
        ),
        (
            operation_type::<Observation>(Method::Post, "$lastn")?,
            Method::Post,
            "Observation/$lastn",
        ),
        (
            operation_system(Method::Post, "validate-code")?,
            Method::Post,
            "$validate-code",
        ),
    ];
    for (path, method, text) in cases {
        assert_eq!((path.method, path.to_string()), (method, text.to_owned()));
    }
    Ok(())
}

#[test]
fn ids_and_operation_names_are_checked() {
    for bad in ["", "a/b", "a b", "é", "a?b", &"x".repeat(65)] {
        assert_eq!(
            read::<Patient>(bad),
            Err(PathError::InvalidId {
                what: "id",
                value: bad.to_owned()
            })
        );
    }
    assert!(read::<Patient>(&"x".repeat(64)).is_ok());
    assert_eq!(
        vread::<Patient>("1", "v/2"),
        Err(PathError::InvalidId {
            what: "version id",
            value: "v/2".into()
        })
    );
    assert_eq!(
        operation_system(Method::Get, "../x"),
        Err(PathError::InvalidOperation {
            name: "../x".into()
        })
    );
    assert!(patient_compartment("a/b").is_err());
}

#[test]
fn searches_by_get_post_conditional_and_in_compartments() -> Result<(), PathError> {
    let q = Search::<Observation>::new()
        .and(observation::code().eq(Token::new("http://loinc.org", "8867-4")))
        .count(2);
    assert_eq!(
        search(&q).to_string(),
        "Observation?code=http://loinc.org%7C8867-4&_count=2"
    );
    let post = search_post(&q);
    assert_eq!(
        (post.method, post.path.as_str(), post.query.as_str()),
        (
            Method::Post,
            "Observation/_search",
            "code=http://loinc.org%7C8867-4&_count=2"
        )
    );
    let compartment = patient_compartment("p1")?;
    assert_eq!(
        compartment.search(&q).to_string(),
        "Patient/p1/Observation?code=http://loinc.org%7C8867-4&_count=2"
    );
    assert_eq!(compartment.everything().to_string(), "Patient/p1/*");
    let inside = q.clone().in_compartment(&compartment);
    assert_eq!(
        search(&inside).to_string(),
        "Patient/p1/Observation?code=http://loinc.org%7C8867-4&_count=2"
    );
    assert_eq!(search_post(&inside).path, "Patient/p1/Observation/_search");
    assert_eq!(
        conditional(Method::Put, &q).to_string(),
        "Observation?code=http://loinc.org%7C8867-4&_count=2"
    );
    assert_eq!(
        <Observation as InCompartment<Patient>>::PARAMS,
        ["subject", "performer"]
    );
    Ok(())
}
