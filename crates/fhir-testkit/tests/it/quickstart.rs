//! The README's first command, `cargo run --example quickstart`, as a newcomer runs it: the
//! example binary against the embedded sandbox, every step reported.

use std::process::Command;

#[test]
fn the_quickstart_runs_end_to_end_on_the_embedded_sandbox() {
    let output = Command::new(fhir_testkit::example_binary("quickstart"))
        .env_remove("SMART_ISS")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    let line = |prefix: &str| -> &str {
        lines
            .iter()
            .find(|line| line.starts_with(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` line in {stdout}"))
    };
    assert!(line("token: ok").contains("system/*.cruds"), "{stdout}");
    let search = line("search: ");
    assert!(search.ends_with("pages of 5"), "{search}");
    let read = line("read: Patient/");
    // The typed read prints the name through `HumanName`'s `Display`.
    assert!(
        read.split_whitespace().count() >= 4,
        "a name and a version: {read}"
    );
    assert!(
        line("create: Observation/").contains("for Patient/"),
        "{stdout}"
    );
}
