//! `cargo xtask roundtrip [PATH]...`: parses every resource under the paths as `Resource`,
//! writes it back, and compares the two as JSON (object key order ignored, numbers compared by
//! their literal text).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use fhir_r4::Resource;
use fhir_r4::json::{DecodeOptions, Peek, Reader};

use crate::{Result, spec};

/// A JSON value with numbers kept as text.
#[derive(Debug, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<Json>),
    Object(BTreeMap<String, Json>),
}

impl Json {
    fn parse(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes, DecodeOptions::default());
        let value = Self::read(&mut r).map_err(|e| e.to_string())?;
        r.finish().map_err(|e| e.to_string())?;
        Ok(value)
    }

    fn read(r: &mut Reader<'_>) -> std::result::Result<Self, fhir_r4::json::Error> {
        Ok(match r.peek()? {
            Peek::Null => {
                r.read_null()?;
                Self::Null
            }
            Peek::Bool => Self::Bool(r.read_bool()?),
            Peek::Number => Self::Number(r.read_number()?.to_owned()),
            Peek::String => Self::String(r.read_string()?),
            Peek::Array => {
                let mut items = Vec::new();
                r.begin_array()?;
                while r.next_item()? {
                    items.push(Self::read(r)?);
                }
                Self::Array(items)
            }
            Peek::Object => {
                let mut members = BTreeMap::new();
                r.begin_object()?;
                while let Some(key) = r.next_key()? {
                    let key = key.into_owned();
                    let value = Self::read(r)?;
                    members.insert(key, value);
                }
                Self::Object(members)
            }
        })
    }

    fn kind(&self) -> &'static str {
        match self {
            Self::Null => "null",
            Self::Bool(_) => "a boolean",
            Self::Number(_) => "a number",
            Self::String(_) => "a string",
            Self::Array(_) => "an array",
            Self::Object(_) => "an object",
        }
    }
}

fn short(value: &Json) -> String {
    match value {
        Json::Null => String::from("null"),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => n.clone(),
        Json::String(s) if s.len() > 40 => format!("{:?}…", s.chars().take(40).collect::<String>()),
        Json::String(s) => format!("{s:?}"),
        other => other.kind().to_owned(),
    }
}

/// The first difference between `input` and `output`, as (path, what differed).
fn diff(path: &str, input: &Json, output: &Json) -> Option<(String, String)> {
    match (input, output) {
        (Json::Object(a), Json::Object(b)) => {
            for (key, va) in a {
                let sub = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match b.get(key) {
                    Some(vb) => {
                        if let Some(d) = diff(&sub, va, vb) {
                            return Some(d);
                        }
                    }
                    None => return Some((sub, String::from("missing in output"))),
                }
            }
            b.keys().find(|key| !a.contains_key(*key)).map(|key| {
                let sub = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                (sub, String::from("added in output"))
            })
        }
        (Json::Array(a), Json::Array(b)) => {
            for (index, (va, vb)) in a.iter().zip(b).enumerate() {
                if let Some(d) = diff(&format!("{path}[{index}]"), va, vb) {
                    return Some(d);
                }
            }
            (a.len() != b.len()).then(|| {
                (
                    path.to_owned(),
                    format!("{} items in input, {} in output", a.len(), b.len()),
                )
            })
        }
        (a, b) if a == b => None,
        (a, b) => Some((
            path.to_owned(),
            format!("input {}, output {}", short(a), short(b)),
        )),
    }
}

#[derive(Default)]
struct Tally {
    files: usize,
    resources: usize,
    lossless: usize,
    failed: usize,
}

impl Tally {
    fn check(&mut self, origin: &str, bytes: &[u8]) {
        self.resources += 1;
        let failure = match Resource::from_slice(bytes) {
            Err(err) => Some(format!("{}: parse error: {err}", err.path)),
            Ok(resource) => {
                let output = resource.to_vec();
                match (Json::parse(bytes), Json::parse(&output)) {
                    (Ok(a), Ok(b)) => {
                        diff("", &a, &b).map(|(path, what)| format!("{path}: {what}"))
                    }
                    (Err(err), _) => Some(format!(".: input is not JSON: {err}")),
                    (_, Err(err)) => Some(format!(".: output is not JSON: {err}")),
                }
            }
        };
        match failure {
            None => self.lossless += 1,
            Some(message) => {
                self.failed += 1;
                println!("{origin}: {message}");
            }
        }
    }

    fn file(&mut self, path: &Path) {
        self.files += 1;
        let shown = path.display().to_string();
        let bytes = match fs::read(path) {
            Ok(bytes) => bytes,
            Err(err) => {
                self.resources += 1;
                self.failed += 1;
                println!("{shown}: cannot read: {err}");
                return;
            }
        };
        if path.extension().is_some_and(|e| e == "ndjson") {
            for (index, line) in bytes.split(|&b| b == b'\n').enumerate() {
                if !line.iter().all(u8::is_ascii_whitespace) {
                    self.check(&format!("{shown}:{}", index + 1), line);
                }
            }
        } else {
            self.check(&shown, &bytes);
        }
    }
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    if path.is_dir() {
        let entries =
            fs::read_dir(path).map_err(|err| format!("cannot list {}: {err}", path.display()))?;
        for entry in entries.flatten() {
            collect(&entry.path(), out)?;
        }
    } else if path
        .extension()
        .is_some_and(|e| e == "json" || e == "ndjson")
    {
        out.push(path.to_owned());
    } else if !path.exists() {
        return Err(format!("{} does not exist", path.display()));
    }
    Ok(())
}

/// Runs the round-trip; `Ok(false)` when anything failed.
pub(crate) fn run(args: &[String]) -> Result<bool> {
    let mut roots: Vec<PathBuf> = args.iter().map(PathBuf::from).collect();
    if roots.is_empty() {
        roots.push(spec::ensure()?.package_dir);
    }
    let mut files = Vec::new();
    for root in &roots {
        collect(root, &mut files)?;
    }
    files.sort();
    let mut tally = Tally::default();
    for file in &files {
        tally.file(file);
    }
    println!(
        "roundtrip: {} files, {} resources, {} lossless, {} failed",
        tally.files, tally.resources, tally.lossless, tally.failed
    );
    Ok(tally.failed == 0)
}

#[cfg(test)]
mod tests;
