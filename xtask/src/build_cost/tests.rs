//! Tests of the pure parts of `build-cost`: options, `/usr/bin/time` output, the tiny crates'
//! text and the table.

use std::path::Path;

use super::*;

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| (*a).to_owned()).collect()
}

#[test]
fn options_default_to_everything() {
    let options = parse_options(&[]).unwrap();
    assert_eq!(options.programs, Program::ALL);
    assert_eq!(options.profiles, Profile::ALL);
    assert!(!options.keep);
}

#[test]
fn options_select_a_subset() {
    let options = parse_options(&strings(&[
        "--only",
        "patient-observation",
        "--profile=release",
        "--keep",
    ]))
    .unwrap();
    assert_eq!(options.programs, [Program::PatientObservation]);
    assert_eq!(options.profiles, [Profile::Release]);
    assert!(options.keep);
    let options = parse_options(&strings(&["--only=all", "--profile", "debug"])).unwrap();
    assert_eq!(options.programs, [Program::All]);
    assert_eq!(options.profiles, [Profile::Debug]);
}

#[test]
fn bad_options_are_errors() {
    assert!(parse_options(&strings(&["--only"])).is_err());
    assert!(parse_options(&strings(&["--only", "everything"])).is_err());
    assert!(parse_options(&strings(&["--profile", "bench"])).is_err());
    assert!(parse_options(&strings(&["--keep=yes"])).is_err());
    assert!(parse_options(&strings(&["--fast"])).is_err());
}

#[test]
fn time_output_is_parsed() {
    assert_eq!(
        parse_time("49.62 362148\n").unwrap(),
        Timing {
            wall_s: 49.62,
            peak_kib: 362_148
        }
    );
}

#[test]
fn time_output_of_a_failed_command_uses_the_last_line() {
    let text = "Command exited with non-zero status 101\n3.10 81234\n\n";
    assert_eq!(
        parse_time(text).unwrap(),
        Timing {
            wall_s: 3.1,
            peak_kib: 81_234
        }
    );
}

#[test]
fn odd_time_output_is_an_error() {
    for text in [
        "",
        "\n\n",
        "12.5",
        "12.5 100 7",
        "fast 100",
        "1.0 lots",
        "1.0 -5",
    ] {
        assert!(parse_time(text).is_err(), "{text:?}");
    }
}

#[test]
fn cargo_toml_of_all_resources_selects_the_models_without_the_client() {
    let text = cargo_toml(Program::All, Path::new("/work/main/crates/fhir-r4"));
    assert!(text.contains("name = \"tiny-all\"\n"), "{text}");
    assert!(
        text.contains(
            "fhir-r4 = { path = \"/work/main/crates/fhir-r4\", default-features = false, features = [\"all-resources\"] }\n"
        ),
        "{text}"
    );
    assert!(text.contains("\n[workspace]\n"), "{text}");
}

#[test]
fn cargo_toml_of_patient_observation_selects_two_features() {
    let text = cargo_toml(
        Program::PatientObservation,
        Path::new("/work/main/crates/fhir-r4"),
    );
    assert!(
        text.contains("name = \"tiny-patient-observation\"\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "fhir-r4 = { path = \"/work/main/crates/fhir-r4\", default-features = false, \
             features = [\"patient\", \"observation\"] }\n"
        ),
        "{text}"
    );
}

#[test]
fn cargo_toml_escapes_the_path() {
    let text = cargo_toml(Program::All, Path::new(r#"/odd"dir\fhir-r4"#));
    assert!(text.contains(r#"path = "/odd\"dir\\fhir-r4""#), "{text}");
}

#[test]
fn main_rs_parses_and_prints_a_resource() {
    let text = main_rs();
    assert!(text.starts_with("//!"));
    assert!(text.contains("fhir_r4::Resource::from_slice(&input)"));
    assert!(text.contains("resource.to_vec()"));
    assert!(text.contains("read_to_end"));
}

fn row(program: Program, profile: Profile, wall_s: f64, peak_kib: u64, bytes: u64) -> Row {
    Row {
        program,
        profile,
        measured: Some(Measured {
            timing: Timing { wall_s, peak_kib },
            binary_bytes: bytes,
        }),
    }
}

#[test]
fn table_has_one_row_per_build_and_reports_budgets() {
    let rows = [
        row(Program::All, Profile::Debug, 80.04, 900_000, 34_000_000),
        row(Program::All, Profile::Release, 133.0, 1_435_000, 9_500_000),
        row(
            Program::PatientObservation,
            Profile::Release,
            25.0,
            350_000,
            1_200_000,
        ),
        Row {
            program: Program::PatientObservation,
            profile: Profile::Debug,
            measured: None,
        },
    ];
    let table = format_table(&rows);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines,
        [
            "| Program | Profile | Wall s | Peak MB | Binary MB | Budget |",
            "|---|---|---:|---:|---:|---|",
            "| all | debug | 80.0 | 922 | 34.0 | – |",
            "| all | release | 133.0 | 1469 | 9.5 | ≤ 100 s, ≤ 1.3 GB: **not met** (+33.0 s, +169 MB) |",
            "| patient-observation | release | 25.0 | 358 | 1.2 | ≤ 30 s: met |",
            "| patient-observation | debug | build failed | – | – | – |",
        ]
    );
}

#[test]
fn budget_without_a_measurement_is_not_judged() {
    assert_eq!(
        budget_cell(budget(Program::All, Profile::Release), None),
        "≤ 100 s, ≤ 1.3 GB: not measured"
    );
    assert_eq!(budget_cell(budget(Program::All, Profile::Debug), None), "–");
}
