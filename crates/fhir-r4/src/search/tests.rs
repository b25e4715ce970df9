//! Each kind, modifier and prefix, and escaping in every position.

use super::*;
use crate::primitives::{Date, DateTime, Instant};
use crate::resources::{Observation, Patient};

fn pairs<R: Searchable>(search: &Search<R>) -> Vec<(String, String)> {
    search.pairs()
}

fn one<R: Searchable>(clause: Clause<R>) -> (String, String) {
    (clause.name().to_owned(), clause.value().to_owned())
}

fn pair(name: &str, value: &str) -> (String, String) {
    (name.to_owned(), value.to_owned())
}

#[test]
fn token_forms_escape_system_and_code_but_not_the_separator() {
    let code = observation::code();
    assert_eq!(
        one(code.eq(Token::new(r"urn:a|b,c", r"x$y\z"))),
        pair("code", r"urn:a\|b\,c|x\$y\\z")
    );
    assert_eq!(one(code.eq(Token::code("a,b"))), pair("code", r"a\,b"));
    assert_eq!(
        one(code.eq(Token::no_system("a|b"))),
        pair("code", r"|a\|b")
    );
    assert_eq!(
        one(code.eq(Token::system("urn:x$"))),
        pair("code", r"urn:x\$|")
    );
    assert_eq!(one(code.eq("plain")), pair("code", "plain"));
}

#[test]
fn token_modifiers() {
    let code = observation::code();
    let loinc = || Token::new("http://loinc.org", "8867-4");
    assert_eq!(
        one(code.not(loinc())),
        pair("code:not", "http://loinc.org|8867-4")
    );
    assert_eq!(
        one(code.above(loinc())),
        pair("code:above", "http://loinc.org|8867-4")
    );
    assert_eq!(
        one(code.below(loinc())),
        pair("code:below", "http://loinc.org|8867-4")
    );
    assert_eq!(
        one(code.text("heart, rate")),
        pair("code:text", r"heart\, rate")
    );
    assert_eq!(
        one(code.in_value_set("http://vs|1")),
        pair("code:in", r"http://vs\|1")
    );
    assert_eq!(
        one(code.not_in_value_set("http://vs")),
        pair("code:not-in", "http://vs")
    );
    assert_eq!(one(code.missing(true)), pair("code:missing", "true"));
    let identifier = patient::identifier();
    assert_eq!(
        one(identifier.of_type(
            Token::new("http://terminology.hl7.org/CodeSystem/v2-0203", "MR"),
            "12|3"
        )),
        pair(
            "identifier:of-type",
            r"http://terminology.hl7.org/CodeSystem/v2-0203|MR|12\|3"
        )
    );
    assert_eq!(
        one(identifier.of_type(Token::code("MR"), "1")),
        pair("identifier:of-type", "|MR|1")
    );
}

#[test]
fn or_lists_escape_each_value_and_join_with_commas() {
    assert_eq!(
        one(observation::code().eq([Token::new("s,1", "a"), Token::code("b|c")])),
        pair("code", r"s\,1|a,b\|c")
    );
    assert_eq!(
        one(patient::name().eq(vec!["O'Brien, Jr", r"back\slash"])),
        pair("name", r"O'Brien\, Jr,back\\slash")
    );
}

#[test]
fn string_modifiers() {
    let name = patient::name();
    assert_eq!(one(name.eq("a$b")), pair("name", r"a\$b"));
    assert_eq!(one(name.exact("Chalmers")), pair("name:exact", "Chalmers"));
    assert_eq!(one(name.contains("al,m")), pair("name:contains", r"al\,m"));
    assert_eq!(one(name.missing(false)), pair("name:missing", "false"));
}

#[test]
fn date_prefixes_and_partial_dates() -> Result<(), Error> {
    let date = observation::date();
    let d = || DateValue::parse("2024-03");
    let cases = [
        (date.eq(d()?), "2024-03"),
        (date.ne(d()?), "ne2024-03"),
        (date.gt(d()?), "gt2024-03"),
        (date.lt(d()?), "lt2024-03"),
        (date.ge(d()?), "ge2024-03"),
        (date.le(d()?), "le2024-03"),
        (date.sa(d()?), "sa2024-03"),
        (date.eb(d()?), "eb2024-03"),
        (date.ap(d()?), "ap2024-03"),
    ];
    for (clause, value) in cases {
        assert_eq!(one(clause), pair("date", value));
    }
    let day: Date = "2024-03-15".parse().map_err(|_| Error::InvalidValue {
        kind: "date",
        text: String::new(),
    })?;
    assert_eq!(one(date.ge(day)), pair("date", "ge2024-03-15"));
    let at = "2024-03-15T10:00:00+01:00"
        .parse::<DateTime>()
        .ok()
        .map(DateValue::from);
    assert_eq!(
        at.map(|v| one(date.lt(v))),
        Some(pair("date", "lt2024-03-15T10:00:00+01:00"))
    );
    let instant = "2024-03-15T10:00:00.123Z".parse::<Instant>().ok();
    assert_eq!(
        instant.map(|v| one(date.eq(v))),
        Some(pair("date", "2024-03-15T10:00:00.123Z"))
    );
    assert_eq!(
        one(date.any_of([
            Prefix::Ge.with(d()?),
            Prefix::Lt.with(DateValue::parse("2025")?)
        ])),
        pair("date", "ge2024-03,lt2025")
    );
    assert_eq!(
        DateValue::parse("2024-13"),
        Err(Error::InvalidValue {
            kind: "date",
            text: "2024-13".into()
        })
    );
    assert!(DateValue::parse("2024-03-15,2025").is_err());
    assert!(DateValue::parse("2024-03-15T10:00:00").is_ok());
    assert!(DateValue::parse("2024-03-15T10:00:00+01:00Z").is_err());
    assert!(DateValue::parse("2024-03-15T25:00:00").is_err());
    Ok(())
}

#[test]
fn numbers_and_quantities() -> Result<(), Error> {
    let value = observation::value_quantity();
    assert_eq!(
        one(value.gt(Quantity::new(Number::parse("5.40")?).unit("http://unitsofmeasure.org", "mg"))),
        pair("value-quantity", "gt5.40|http://unitsofmeasure.org|mg")
    );
    assert_eq!(
        one(value.le(Quantity::new(100).code("a|b"))),
        pair("value-quantity", r"le100||a\|b")
    );
    assert_eq!(
        one(value.eq(Quantity::new(-1))),
        pair("value-quantity", "-1")
    );
    for ok in ["0", "-1.5", "1e3", "2.5E-3"] {
        assert!(Number::parse(ok).is_ok(), "{ok}");
    }
    for bad in ["", "1.", ".5", "1,2", "abc", "1e"] {
        assert!(Number::parse(bad).is_err(), "{bad}");
    }
    Ok(())
}

#[test]
fn references_chains_and_reverse_chains() {
    let subject = observation::subject();
    assert_eq!(
        one(subject.to::<Patient>("123")),
        pair("subject", "Patient/123")
    );
    assert_eq!(
        one(subject.typed::<Patient>("123")),
        pair("subject:Patient", "123")
    );
    assert_eq!(
        one(subject.eq([
            ReferenceValue::id("1"),
            ReferenceValue::url("http://x/Patient/a,b")
        ])),
        pair("subject", r"1,http://x/Patient/a\,b")
    );
    assert_eq!(
        one(subject.identifier(Token::new("urn:mrn", "7|8"))),
        pair("subject:identifier", r"urn:mrn|7\|8")
    );
    // The chained value is escaped once, by the inner parameter.
    assert_eq!(
        one(subject.chain(patient::name().contains("a,b"))),
        pair("subject:Patient.name:contains", r"a\,b")
    );
    assert_eq!(
        one(subject.chain(patient::general_practitioner().missing(true))),
        pair("subject:Patient.general-practitioner:missing", "true")
    );
    // Nested reverse chains: Patients with an Observation whose subject is a Patient with an
    // Observation coded 1,2.
    let nested: Clause<Patient> = observation::subject().has(
        observation::subject()
            .chain(observation::patient().has::<Patient>(observation::code().eq("1,2"))),
    );
    assert_eq!(
        one(nested),
        pair(
            "_has:Observation:subject:subject:Patient._has:Observation:patient:code",
            r"1\,2"
        )
    );
}

#[test]
fn composites_join_components_in_order_each_escaped() {
    assert_eq!(
        one(observation::code_value_quantity().eq(
            Token::new("http://loinc.org", "8480-6$x"),
            Prefix::Gt.with(Quantity::new(140).unit("http://unitsofmeasure.org", "mm[Hg]")),
        )),
        pair(
            "code-value-quantity",
            r"http://loinc.org|8480-6\$x$gt140|http://unitsofmeasure.org|mm[Hg]"
        )
    );
    assert_eq!(
        one(observation::code_value_string().eq("a,b", String::from("x|y"))),
        pair("code-value-string", r"a\,b$x\|y")
    );
    assert_eq!(
        one(observation::code_value_concept().any_of([("a", "b$"), ("c", "d")])),
        pair("code-value-concept", r"a$b\$,c$d")
    );
}

#[test]
fn and_repeats_the_parameter_and_result_parameters_follow() {
    let q = Search::<Observation>::new()
        .and(observation::date().ge(DateValue::from(
            "2024".parse::<Date>().unwrap_or_else(|_| unreachable!()),
        )))
        .and(observation::date().lt(DateValue::from(
            "2025".parse::<Date>().unwrap_or_else(|_| unreachable!()),
        )))
        .and(common::last_updated().gt(DateValue::from(
            "2023".parse::<Date>().unwrap_or_else(|_| unreachable!()),
        )))
        .include(observation::patient())
        .include_target::<Patient, _>(observation::subject())
        .include_iterate(patient::general_practitioner())
        .sort(observation::date())
        .sort_desc(common::last_updated())
        .summary(Summary::Data)
        .elements(["status", "code"])
        .total(Total::Accurate)
        .contained(Contained::Both)
        .count(10);
    assert_eq!(
        pairs(&q),
        [
            pair("date", "ge2024"),
            pair("date", "lt2025"),
            pair("_lastUpdated", "gt2023"),
            pair("_include", "Observation:patient"),
            pair("_include", "Observation:subject:Patient"),
            pair("_include:iterate", "Patient:general-practitioner"),
            pair("_summary", "data"),
            pair("_elements", "status,code"),
            pair("_total", "accurate"),
            pair("_contained", "both"),
            pair("_count", "10"),
            pair("_sort", "date,-_lastUpdated"),
        ]
    );
    let rev = Search::<Patient>::new()
        .revinclude(observation::subject())
        .revinclude_iterate(observation::patient());
    assert_eq!(
        rev.to_query(),
        "_revinclude=Observation:subject&_revinclude:iterate=Observation:patient"
    );
}

#[test]
fn the_query_is_percent_encoded_once() {
    let q = Search::<Patient>::new()
        .and(patient::name().eq("O'Brien & Sons, Ltd"))
        .and(patient::identifier().eq(Token::new("urn:mrn", r"1\2")));
    assert_eq!(
        q.to_query(),
        "name=O'Brien%20%26%20Sons%5C,%20Ltd&identifier=urn:mrn%7C1%5C%5C2"
    );
}

#[test]
fn raw_checks_the_base_name() {
    let ok = Search::<Observation>::new()
        .raw("subject:Patient.name", "x")
        .and_then(|q| q.raw("code:text", "y"))
        .and_then(|q| q.raw("_lastUpdated", "gt2020"))
        .and_then(|q| q.raw("_include:iterate", "Observation:patient"))
        .map(|q| q.pairs().len());
    assert_eq!(ok, Ok(4));
    assert_eq!(
        Search::<Observation>::new().raw("birthdate", "2020").err(),
        Some(Error::UnknownParameter {
            resource_type: "Observation",
            name: "birthdate".into()
        })
    );
    let unchecked = Search::<Observation>::new().raw_unchecked("x-custom", "a|b");
    assert_eq!(unchecked.to_query(), "x-custom=a%7Cb");
}

#[test]
fn searches_are_sent_in_a_compartment_when_asked() {
    let Ok(compartment) = crate::paths::patient_compartment("p1") else {
        unreachable!("a valid id")
    };
    let q = Search::<Observation>::new().in_compartment(&compartment);
    assert_eq!(
        fhir_core::SearchQuery::compartment(&q),
        Some(("Patient", "p1"))
    );
}
