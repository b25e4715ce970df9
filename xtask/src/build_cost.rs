//! `cargo xtask build-cost [--only <all|patient-observation>] [--profile <debug|release>]
//! [--keep]`: builds, from clean and in a target folder of its own, a tiny program that parses
//! and prints any resource with `fhir-r4`, and reports wall time, peak memory of the build and
//! binary size.
//!
//! The tiny programs live under `std::env::temp_dir()/fhir-build-cost`, outside the workspace,
//! so they build the way a user's crate would (no workspace profiles). Peak memory is
//! `/usr/bin/time`'s `%M`: the largest resident set of any process of the build (in practice
//! one `rustc`), not the sum over parallel processes.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Result, project_root};

/// The time program; its `%M` is the peak resident set in KiB.
const TIME: &str = "/usr/bin/time";

/// One tiny program: which resource types of `fhir-r4` it compiles in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Program {
    /// Every resource type (the `all-resources` feature, without the client).
    All,
    /// Only Patient and Observation.
    PatientObservation,
}

impl Program {
    const ALL: [Self; 2] = [Self::All, Self::PatientObservation];

    fn name(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::PatientObservation => "patient-observation",
        }
    }

    /// The crate (and binary) name.
    fn crate_name(self) -> String {
        format!("tiny-{}", self.name())
    }

    /// The `fhir-r4` dependency line's options after the path.
    fn features(self) -> &'static str {
        match self {
            // Models only: the default `client` feature would add the HTTP stack.
            Self::All => r#", default-features = false, features = ["all-resources"]"#,
            Self::PatientObservation => {
                r#", default-features = false, features = ["patient", "observation"]"#
            }
        }
    }
}

/// A cargo profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Profile {
    Debug,
    Release,
}

impl Profile {
    const ALL: [Self; 2] = [Self::Debug, Self::Release];

    fn name(self) -> &'static str {
        match self {
            Self::Debug => "debug",
            Self::Release => "release",
        }
    }
}

/// The command-line options.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Options {
    programs: Vec<Program>,
    profiles: Vec<Profile>,
    keep: bool,
}

fn parse_options(args: &[String]) -> Result<Options> {
    let mut options = Options {
        programs: Program::ALL.to_vec(),
        profiles: Profile::ALL.to_vec(),
        keep: false,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag, Some(value)),
            None => (arg.as_str(), None),
        };
        let mut value = |what: &str| {
            inline
                .or_else(|| args.next().map(String::as_str))
                .ok_or_else(|| format!("{flag} needs {what}"))
        };
        match flag {
            "--only" => {
                let v = value("all or patient-observation")?;
                let program = Program::ALL
                    .into_iter()
                    .find(|p| p.name() == v)
                    .ok_or_else(|| format!("--only: unknown program `{v}`"))?;
                options.programs = vec![program];
            }
            "--profile" => {
                let v = value("debug or release")?;
                let profile = Profile::ALL
                    .into_iter()
                    .find(|p| p.name() == v)
                    .ok_or_else(|| format!("--profile: unknown profile `{v}`"))?;
                options.profiles = vec![profile];
            }
            "--keep" if inline.is_none() => options.keep = true,
            _ => return Err(format!("build-cost: unknown option `{arg}`")),
        }
    }
    Ok(options)
}

/// The tiny program's `Cargo.toml`, depending on `fhir-r4` at `fhir_r4` (an absolute path).
fn cargo_toml(program: Program, fhir_r4: &Path) -> String {
    // A TOML basic string: escape what would end or break it.
    let path = fhir_r4
        .display()
        .to_string()
        .replace('\\', "\\\\")
        .replace('"', "\\\"");
    format!(
        "[package]\n\
         name = \"{name}\"\n\
         version = \"0.0.0\"\n\
         edition = \"2024\"\n\
         publish = false\n\
         \n\
         [dependencies]\n\
         fhir-r4 = {{ path = \"{path}\"{features} }}\n\
         \n\
         # A workspace of its own, like a user's crate.\n\
         [workspace]\n",
        name = program.crate_name(),
        features = program.features(),
    )
}

/// The tiny program's `src/main.rs`: stdin parsed as any resource, written back to stdout.
fn main_rs() -> &'static str {
    r#"//! Reads one FHIR R4 resource from stdin and writes it back to stdout.

use std::io::{Read, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut input = Vec::new();
    if let Err(err) = std::io::stdin().read_to_end(&mut input) {
        eprintln!("cannot read stdin: {err}");
        return ExitCode::FAILURE;
    }
    match fhir_r4::Resource::from_slice(&input) {
        Ok(resource) => {
            let mut output = resource.to_vec();
            output.push(b'\n');
            match std::io::stdout().write_all(&output) {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => {
                    eprintln!("cannot write stdout: {err}");
                    ExitCode::FAILURE
                }
            }
        }
        Err(err) => {
            eprintln!("{err}");
            ExitCode::FAILURE
        }
    }
}
"#
}

/// What `/usr/bin/time -f '%e %M'` measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Timing {
    /// Elapsed wall-clock seconds.
    wall_s: f64,
    /// Peak resident set in KiB.
    peak_kib: u64,
}

/// Parses the output of `/usr/bin/time -f '%e %M'`: the last non-empty line (GNU time puts a
/// "Command exited with non-zero status" line before it when the command fails).
fn parse_time(text: &str) -> Result<Timing> {
    let line = text
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .ok_or_else(|| String::from("/usr/bin/time printed nothing"))?;
    let mut fields = line.split_whitespace();
    let (Some(wall), Some(peak), None) = (fields.next(), fields.next(), fields.next()) else {
        return Err(format!("unexpected /usr/bin/time output: {line:?}"));
    };
    let wall_s = wall
        .parse::<f64>()
        .map_err(|err| format!("bad wall time {wall:?} from /usr/bin/time: {err}"))?;
    let peak_kib = peak
        .parse::<u64>()
        .map_err(|err| format!("bad peak memory {peak:?} from /usr/bin/time: {err}"))?;
    Ok(Timing { wall_s, peak_kib })
}

/// A budget from issue 7 / the fhir-r4 issue; `None` fields are not budgeted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Budget {
    wall_s: Option<f64>,
    peak_mb: Option<f64>,
}

fn budget(program: Program, profile: Profile) -> Option<Budget> {
    match (program, profile) {
        (Program::All, Profile::Release) => Some(Budget {
            wall_s: Some(100.0),
            peak_mb: Some(1300.0),
        }),
        (Program::PatientObservation, Profile::Release) => Some(Budget {
            wall_s: Some(30.0),
            peak_mb: None,
        }),
        (_, Profile::Debug) => None,
    }
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    program: Program,
    profile: Profile,
    /// `None` when the build failed.
    measured: Option<Measured>,
}

/// What one successful build cost.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Measured {
    timing: Timing,
    binary_bytes: u64,
}

/// Megabytes (10^6 bytes) from KiB.
fn kib_to_mb(kib: u64) -> f64 {
    kib as f64 * 1024.0 / 1e6
}

fn bytes_to_mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

/// The budget cell: the limits, then whether the measurement met them.
fn budget_cell(budget: Option<Budget>, measured: Option<&Measured>) -> String {
    let Some(budget) = budget else {
        return String::from("–");
    };
    let mut limits = Vec::new();
    let mut misses = Vec::new();
    if let Some(wall) = budget.wall_s {
        limits.push(format!("≤ {wall:.0} s"));
        if let Some(m) = measured.filter(|m| m.timing.wall_s > wall) {
            misses.push(format!("+{:.1} s", m.timing.wall_s - wall));
        }
    }
    if let Some(peak) = budget.peak_mb {
        limits.push(format!("≤ {:.1} GB", peak / 1000.0));
        let mb = measured.map(|m| kib_to_mb(m.timing.peak_kib));
        if let Some(mb) = mb.filter(|mb| *mb > peak) {
            misses.push(format!("+{:.0} MB", mb - peak));
        }
    }
    let verdict = match (measured, misses.is_empty()) {
        (None, _) => String::from("not measured"),
        (Some(_), true) => String::from("met"),
        (Some(_), false) => format!("**not met** ({})", misses.join(", ")),
    };
    format!("{}: {verdict}", limits.join(", "))
}

/// The Markdown table of the rows.
fn format_table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| Program | Profile | Wall s | Peak MB | Binary MB | Budget |\n\
         |---|---|---:|---:|---:|---|\n",
    );
    for row in rows {
        let (wall, peak, binary) = match &row.measured {
            Some(m) => (
                format!("{:.1}", m.timing.wall_s),
                format!("{:.0}", kib_to_mb(m.timing.peak_kib)),
                format!("{:.1}", bytes_to_mb(m.binary_bytes)),
            ),
            None => (
                String::from("build failed"),
                String::from("–"),
                String::from("–"),
            ),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {wall} | {peak} | {binary} | {} |",
            row.program.name(),
            row.profile.name(),
            budget_cell(budget(row.program, row.profile), row.measured.as_ref()),
        );
    }
    out
}

fn write(path: &Path, text: &str) -> Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)
            .map_err(|err| format!("cannot create {}: {err}", parent.display()))?;
    }
    fs::write(path, text).map_err(|err| format!("cannot write {}: {err}", path.display()))
}

fn remove_dir(path: &Path) -> Result<()> {
    match fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(format!("cannot remove {}: {err}", path.display())),
    }
}

/// Writes the tiny crate for `program` under `root`; returns its directory.
fn write_crate(root: &Path, program: Program) -> Result<PathBuf> {
    let dir = root.join(program.crate_name());
    let fhir_r4 = project_root().join("crates/fhir-r4");
    write(&dir.join("Cargo.toml"), &cargo_toml(program, &fhir_r4))?;
    write(&dir.join("src/main.rs"), main_rs())?;
    // The workspace's toolchain and dependency versions, so the figures describe them.
    for file in ["rust-toolchain.toml", "Cargo.lock"] {
        let from = project_root().join(file);
        if from.exists() {
            fs::copy(&from, dir.join(file)).map_err(|err| {
                format!("cannot copy {} to {}: {err}", from.display(), dir.display())
            })?;
        }
    }
    Ok(dir)
}

/// The cargo that runs this task (the workspace's toolchain), or `cargo` from `PATH`.
fn cargo_program() -> std::ffi::OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// Runs `cmd` in `dir` without the variables that would make a clean build not clean.
fn clean_env<'a>(cmd: &'a mut Command, dir: &Path) -> &'a mut Command {
    cmd.current_dir(dir)
        .env_remove("RUSTC_WRAPPER")
        .env_remove("CARGO_BUILD_RUSTC_WRAPPER")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_INCREMENTAL")
}

/// The last `lines` lines of `text`.
fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Builds `program` in `profile` from clean; `Ok(None)` when the build failed.
fn measure(
    root: &Path,
    dir: &Path,
    program: Program,
    profile: Profile,
) -> Result<Option<Measured>> {
    let target = root.join(format!("target-{}-{}", program.name(), profile.name()));
    remove_dir(&target)?;
    let time_file = root.join(format!("time-{}-{}.txt", program.name(), profile.name()));
    let mut timed = Command::new(TIME);
    clean_env(&mut timed, dir)
        .args(["-f", "%e %M", "-o"])
        .arg(&time_file)
        .arg(cargo_program())
        .arg("build")
        .arg("--target-dir")
        .arg(&target);
    if profile == Profile::Release {
        timed.arg("--release");
    }
    let output = timed
        .output()
        .map_err(|err| format!("cannot run {TIME}: {err}"))?;
    if !output.status.success() {
        eprintln!(
            "build-cost: {} ({}) failed with {}:\n{}",
            program.name(),
            profile.name(),
            output.status,
            tail(&String::from_utf8_lossy(&output.stderr), 30)
        );
        return Ok(None);
    }
    let text = fs::read_to_string(&time_file)
        .map_err(|err| format!("cannot read {}: {err}", time_file.display()))?;
    let timing = parse_time(&text)?;
    let binary = target.join(profile.name()).join(program.crate_name());
    let binary_bytes = fs::metadata(&binary)
        .map_err(|err| format!("cannot read {}: {err}", binary.display()))?
        .len();
    Ok(Some(Measured {
        timing,
        binary_bytes,
    }))
}

fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| String::from("?"))
}

/// Runs the measurements; `Ok(false)` when a build failed. Budgets are reported, not enforced.
pub(crate) fn run(args: &[String]) -> Result<bool> {
    let options = parse_options(args)?;
    if !Path::new(TIME).exists() {
        return Err(format!(
            "{TIME} is missing; it measures the build's peak memory (install GNU time, \
             e.g. `apt-get install time`)"
        ));
    }
    let root = std::env::temp_dir().join("fhir-build-cost");
    remove_dir(&root)?;
    let mut rows = Vec::new();
    for &program in &options.programs {
        let dir = write_crate(&root, program)?;
        eprintln!(
            "build-cost: {}: fetching dependencies (not timed)",
            program.name()
        );
        let status = clean_env(&mut Command::new(cargo_program()), &dir)
            .arg("fetch")
            .status()
            .map_err(|err| format!("cannot run cargo fetch: {err}"))?;
        if !status.success() {
            return Err(format!(
                "cargo fetch in {} failed with {status}",
                dir.display()
            ));
        }
        for &profile in &options.profiles {
            eprintln!(
                "build-cost: {} ({}): clean build (load average {})…",
                program.name(),
                profile.name(),
                load_average()
            );
            let measured = measure(&root, &dir, program, profile)?;
            if let Some(m) = &measured {
                eprintln!(
                    "build-cost: {} ({}): {:.1} s, {:.0} MB peak, binary {:.1} MB",
                    program.name(),
                    profile.name(),
                    m.timing.wall_s,
                    kib_to_mb(m.timing.peak_kib),
                    bytes_to_mb(m.binary_bytes)
                );
            }
            rows.push(Row {
                program,
                profile,
                measured,
            });
        }
    }
    println!("{}", format_table(&rows));
    println!(
        "MB = 10^6 bytes; peak = largest resident set of one build process (/usr/bin/time %M)."
    );
    if options.keep {
        eprintln!("build-cost: kept {}", root.display());
    } else {
        remove_dir(&root)?;
    }
    Ok(rows.iter().all(|row| row.measured.is_some()))
}

#[cfg(test)]
mod tests;
