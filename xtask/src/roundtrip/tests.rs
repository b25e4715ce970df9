use super::{Json, diff};

fn first_difference(input: &str, output: &str) -> Option<(String, String)> {
    diff(
        "",
        &Json::parse(input.as_bytes()).unwrap(),
        &Json::parse(output.as_bytes()).unwrap(),
    )
}

#[test]
fn key_order_is_ignored() {
    assert_eq!(
        first_difference(r#"{"a":1,"b":[true,null]}"#, r#"{"b":[true,null],"a":1}"#),
        None
    );
}

#[test]
fn numbers_compare_by_their_text() {
    assert_eq!(
        first_difference(r#"{"v":{"x":1.50}}"#, r#"{"v":{"x":1.5}}"#),
        Some((String::from("v.x"), String::from("input 1.50, output 1.5")))
    );
}

#[test]
fn missing_added_and_array_items_are_reported_with_paths() {
    assert_eq!(
        first_difference(r#"{"a":[{"b":1}]}"#, r#"{"a":[{}]}"#),
        Some((String::from("a[0].b"), String::from("missing in output")))
    );
    assert_eq!(
        first_difference(r#"{}"#, r#"{"c":"x"}"#),
        Some((String::from("c"), String::from("added in output")))
    );
    assert_eq!(
        first_difference(r#"{"a":[1]}"#, r#"{"a":[1,2]}"#),
        Some((
            String::from("a"),
            String::from("1 items in input, 2 in output")
        ))
    );
}
