//! Memory budgets: a two-word `Resource`, a compact `Extension`, no struct over 1 KB.

use std::mem::size_of;

use fhir_r4::Resource;
use fhir_r4::datatypes::{CodeableConcept, ElementDefinition, Extension, Reference};
use fhir_r4::resources::{
    ActivityDefinition, Bundle, ExplanationOfBenefit, Measure, Observation, Patient,
    PlanDefinition, Questionnaire, ResearchDefinition, ResearchElementDefinition,
};

#[test]
fn resource_is_two_words() {
    assert!(size_of::<Resource>() <= 16, "{}", size_of::<Resource>());
}

#[test]
fn extension_is_small() {
    assert!(size_of::<Extension>() <= 128, "{}", size_of::<Extension>());
}

#[test]
fn large_structs_stay_under_one_kilobyte() {
    // The largest generated structs (measured over all of them when the layout changed), and
    // a few common ones.
    for (name, size) in [
        ("ActivityDefinition", size_of::<ActivityDefinition>()),
        ("Measure", size_of::<Measure>()),
        (
            "ResearchElementDefinition",
            size_of::<ResearchElementDefinition>(),
        ),
        ("ResearchDefinition", size_of::<ResearchDefinition>()),
        ("PlanDefinition", size_of::<PlanDefinition>()),
        ("ElementDefinition", size_of::<ElementDefinition>()),
        ("Patient", size_of::<Patient>()),
        ("Observation", size_of::<Observation>()),
        ("Bundle", size_of::<Bundle>()),
        ("Questionnaire", size_of::<Questionnaire>()),
        ("ExplanationOfBenefit", size_of::<ExplanationOfBenefit>()),
        ("CodeableConcept", size_of::<CodeableConcept>()),
        ("Reference", size_of::<Reference>()),
    ] {
        assert!(size <= 1024, "{name} is {size} bytes");
    }
}

#[test]
fn an_empty_repeating_element_is_one_pointer() {
    assert_eq!(size_of::<fhir_r4::ThinVec<Extension>>(), 8);
}

#[test]
#[ignore = "prints the sizes; run with --ignored --nocapture"]
fn print_sizes() {
    for (name, size) in [
        ("ActivityDefinition", size_of::<ActivityDefinition>()),
        ("Measure", size_of::<Measure>()),
        (
            "ResearchElementDefinition",
            size_of::<ResearchElementDefinition>(),
        ),
        ("PlanDefinition", size_of::<PlanDefinition>()),
        ("Patient", size_of::<Patient>()),
        ("Observation", size_of::<Observation>()),
        ("Extension", size_of::<Extension>()),
    ] {
        println!("{name}: {size}");
    }
}
