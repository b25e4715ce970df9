use super::*;

#[test]
fn escape_handles_every_fhir_special_character() {
    assert_eq!(escape("plain"), "plain");
    assert_eq!(escape(r"a,b"), r"a\,b");
    assert_eq!(escape(r"a|b"), r"a\|b");
    assert_eq!(escape(r"a$b"), r"a\$b");
    assert_eq!(escape(r"a\b"), r"a\\b");
    assert_eq!(escape(r"\,"), r"\\\,");
}

#[test]
fn query_encoding_keeps_delimiters_from_breaking_the_query() {
    let params = SearchParams::new()
        .with("name", "a&b=c+d e#f%g")
        .with("code", "http://loinc.org|8867-4,8310-5")
        .with("given", "Zoë");
    assert_eq!(
        params.to_query(),
        "name=a%26b%3Dc%2Bd%20e%23f%25g&code=http://loinc.org%7C8867-4,8310-5&given=Zo%C3%AB"
    );
    // What the server decodes is exactly what was added.
    let decoded = SearchParams::parse(&params.to_query());
    assert_eq!(decoded, params);
}

#[test]
fn form_encoding_round_trips() {
    let params = SearchParams::new()
        .with("name", "a&b=c+d e")
        .with("_count", "10");
    assert_eq!(params.to_form(), "name=a%26b%3Dc%2Bd+e&_count=10");
    assert_eq!(SearchParams::parse(&params.to_form()), params);
}

#[test]
fn parse_accepts_a_leading_question_mark_and_plus_as_space() {
    let params = SearchParams::parse("?name=John+Smith&x=%2B");
    assert_eq!(params.get("name"), Some("John Smith"));
    assert_eq!(params.get("x"), Some("+"));
}

#[test]
fn token_parameters_escape_system_and_code() {
    let params = SearchParams::new().with_token("identifier", Some("urn:a|b"), "x,y");
    assert_eq!(params.get("identifier"), Some(r"urn:a\|b|x\,y"));
    let params = SearchParams::new().with_token("code", None, "1$2");
    assert_eq!(params.get("code"), Some(r"1\$2"));
}

#[test]
fn set_replaces_and_push_repeats() {
    let mut params = SearchParams::new()
        .with("date", "ge2020")
        .with("date", "le2021");
    assert_eq!(params.len(), 2);
    params.set("_count", "10");
    params.set("_count", "20");
    assert_eq!(params.to_query(), "date=ge2020&date=le2021&_count=20");
}
