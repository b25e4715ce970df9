use serde_json::json;

use super::*;

fn store() -> Store {
    let mut store = Store::default();
    store.put(json!({"resourceType": "Patient", "id": "a", "name": [{"family": "Smith", "given": ["Ann"]}],
                     "identifier": [{"system": "urn:mrn", "value": "1,2"}], "gender": "female"}), None);
    store.put(json!({"resourceType": "Patient", "id": "b", "name": [{"family": "Smythe", "given": ["Bob"]}],
                     "identifier": [{"system": "urn:other", "value": "9"}], "gender": "male"}), None);
    store.put(
        json!({"resourceType": "Observation", "id": "o", "subject": {"reference": "Patient/a"},
                     "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]}}),
        None,
    );
    store
}

fn ids(result: &SearchResult) -> Vec<&str> {
    result
        .matches
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect()
}

fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn versions_increase_and_deletes_are_remembered() {
    let mut store = store();
    let updated = store.put(json!({"resourceType": "Patient", "id": "a"}), None);
    assert_eq!(updated["meta"]["versionId"], "2");
    assert!(store.delete("Patient", "a"));
    assert!(store.current("Patient", "a").unwrap().resource.is_none());
    assert_eq!(
        store
            .version("Patient", "a", 1)
            .unwrap()
            .resource
            .as_ref()
            .unwrap()["id"],
        "a"
    );
    assert!(
        !store.delete("Patient", "a"),
        "deleting twice finds nothing"
    );
}

#[test]
fn string_search_is_a_case_insensitive_prefix() {
    let store = store();
    assert_eq!(
        ids(&store.search("Patient", &params(&[("name", "sm")]))),
        ["a", "b"]
    );
    assert_eq!(
        ids(&store.search("Patient", &params(&[("family", "smy")]))),
        ["b"]
    );
    assert_eq!(
        ids(&store.search("Patient", &params(&[("given", "ann,bob")]))),
        ["a", "b"]
    );
}

#[test]
fn token_search_handles_systems_and_escapes() {
    let store = store();
    assert_eq!(
        ids(&store.search("Patient", &params(&[("identifier", r"urn:mrn|1\,2")]))),
        ["a"]
    );
    assert!(
        store
            .search("Patient", &params(&[("identifier", "urn:mrn|9")]))
            .matches
            .is_empty()
    );
    assert_eq!(
        ids(&store.search("Patient", &params(&[("identifier", "9")]))),
        ["b"]
    );
    assert_eq!(
        ids(&store.search(
            "Observation",
            &params(&[("code", "http://loinc.org|8867-4")])
        )),
        ["o"]
    );
}

#[test]
fn reference_search_accepts_ids_and_references() {
    let store = store();
    assert_eq!(
        ids(&store.search("Observation", &params(&[("patient", "a")]))),
        ["o"]
    );
    assert_eq!(
        ids(&store.search("Observation", &params(&[("subject", "Patient/a")]))),
        ["o"]
    );
    assert!(
        store
            .search("Observation", &params(&[("subject", "Patient/b")]))
            .matches
            .is_empty()
    );
}

#[test]
fn paging_and_ignored_parameters() {
    let store = store();
    let page = store.search(
        "Patient",
        &params(&[("_count", "1"), ("_offset", "1"), ("_foo", "x")]),
    );
    assert_eq!(page.total, 2);
    assert_eq!(ids(&page), ["b"]);
    assert_eq!(page.ignored, ["_foo"]);
}
