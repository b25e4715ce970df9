//! Tidy checks over every crate of the workspace, run by `cargo test -p xtask`: each Rust file
//! starts with a module doc comment, no debugging leftovers, and every hand-written source
//! module is named in `ARCHITECTURE.md` (which keeps the code map honest, the way
//! rust-analyzer's tidy test keeps its architecture document), and a hand-written source
//! file longer than 550 lines says in its module doc why it is one file, and no two top-level
//! modules of a crate depend on each other in a circle beyond the few listed with their
//! reason.

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::{Path, PathBuf};

    use crate::project_root;

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if path.is_dir() {
                // Build output and Node projects are not ours to tidy.
                if name != "target" && name != "node_modules" {
                    rust_files(&path, out);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// Every crate directory under `crates/`, and `xtask`.
    fn crate_dirs() -> Vec<PathBuf> {
        let root = project_root();
        let mut dirs: Vec<PathBuf> = fs::read_dir(root.join("crates"))
            .unwrap()
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| path.join("Cargo.toml").is_file())
            .collect();
        dirs.sort();
        dirs.push(root.join("xtask"));
        dirs
    }

    fn files() -> Vec<PathBuf> {
        let mut files = Vec::new();
        for dir in crate_dirs() {
            rust_files(&dir, &mut files);
        }
        assert!(
            files.len() > 300,
            "expected every crate, generated files included"
        );
        files
    }

    #[test]
    fn every_module_starts_with_a_doc_comment() {
        for path in files() {
            let text = fs::read_to_string(&path).unwrap();
            let is_child_tests = path.file_name().is_some_and(|n| n == "tests.rs");
            assert!(
                text.starts_with("//!") || (is_child_tests && !text.is_empty()),
                "{} must start with `//!`",
                path.display()
            );
        }
    }

    /// Past this many lines, a hand-written source file states why it is one file: a module
    /// doc line starting with `//! One file:`.
    const LONG_FILE: usize = 550;

    #[test]
    fn long_files_say_why_they_are_one_file() {
        let mut unexplained = Vec::new();
        for path in files() {
            let relative = path.to_string_lossy().into_owned();
            let hand_written_source = relative.contains("/src/")
                && !relative.contains("/src/generated/")
                && path.file_name().is_some_and(|n| n != "tests.rs");
            if !hand_written_source {
                continue;
            }
            let text = fs::read_to_string(&path).unwrap();
            let lines = text.lines().count();
            let explained = text
                .lines()
                .take_while(|line| line.starts_with("//!"))
                .any(|line| line.starts_with("//! One file:"));
            if lines > LONG_FILE && !explained {
                unexplained.push(format!("{} ({lines} lines)", path.display()));
            }
        }
        assert!(
            unexplained.is_empty(),
            "split these by concern, or say why not (`//! One file: ...`):\n{}",
            unexplained.join("\n")
        );
    }

    #[test]
    fn no_debugging_leftovers() {
        let (todo, dbg) = (concat!("todo", "!("), concat!("dbg", "!("));
        for path in files() {
            let text = fs::read_to_string(&path).unwrap();
            assert!(
                !text.contains(todo) && !text.contains(dbg),
                "{}",
                path.display()
            );
        }
    }

    /// The part of ARCHITECTURE.md about one crate: from its `### ` heading naming the crate
    /// directory to the next heading.
    fn section<'a>(architecture: &'a str, crate_dir: &str) -> Option<&'a str> {
        let start = architecture
            .match_indices("\n### ")
            .map(|(at, _)| at + 1)
            .find(|&at| {
                let heading = architecture[at..].lines().next().unwrap_or("");
                heading.contains(&format!("`{crate_dir}`"))
                    || heading.contains(&format!("`{crate_dir}/`"))
            })?;
        let rest = &architecture[start + 4..];
        let end = rest
            .find("\n## ")
            .into_iter()
            .chain(rest.find("\n### "))
            .min();
        Some(&rest[..end.unwrap_or(rest.len())])
    }

    /// Whether `text` names `name` as a whole word (`read.rs`, not `thread.rs`).
    fn names(text: &str, name: &str) -> bool {
        text.match_indices(name).any(|(at, _)| {
            let before = text[..at].chars().next_back();
            !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
        })
    }

    /// How ARCHITECTURE.md must name the module in `file` (relative to `src/`): `wire.rs` for
    /// `response/wire.rs`, `interactions/` for `interactions/mod.rs`; `None` for crate roots,
    /// unit-test children and generated code (the map names `src/generated/` as a whole).
    fn module_name(relative: &Path) -> Option<String> {
        let parts: Vec<String> = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let file = parts.last()?;
        if parts.first().is_some_and(|p| p == "generated")
            || (parts.len() == 1 && (file == "lib.rs" || file == "main.rs"))
            || file == "tests.rs"
        {
            return None;
        }
        if file == "mod.rs" {
            return Some(format!("{}/", parts[parts.len() - 2]));
        }
        Some(file.clone())
    }

    #[test]
    fn every_source_module_is_in_the_architecture_map() {
        let root = project_root();
        let architecture = fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
        let mut missing = Vec::new();
        for dir in crate_dirs() {
            let crate_dir = dir
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let Some(section) = section(&architecture, &crate_dir) else {
                missing.push(format!("{crate_dir}: no `### \\`{crate_dir}\\`` section"));
                continue;
            };
            let mut sources = Vec::new();
            rust_files(&dir.join("src"), &mut sources);
            for path in sources {
                let relative = path.strip_prefix(dir.join("src")).unwrap();
                if let Some(name) = module_name(relative)
                    && !names(section, &name)
                {
                    missing.push(format!("{crate_dir}/src/{}", relative.display()));
                }
            }
        }
        assert!(
            missing.is_empty(),
            "ARCHITECTURE.md does not name these modules in their crate's section:\n{}",
            missing.join("\n")
        );
    }

    /// Circles between a crate's top-level modules that are known, each with why it stays;
    /// any other circle fails the test, and so does an entry here that no longer is one.
    const KNOWN_CIRCLES: &[(&str, &[&str], &str)] = &[
        (
            "crates/fhir-r4",
            &["paths", "search"],
            "a search within a compartment is both: paths build it from search parameters, and \
             the search query encodes the compartment",
        ),
        (
            "crates/fhir-r4-datatypes",
            &["json", "primitives"],
            "the JSON runtime reads and writes `Primitive` (value and extension side by side), \
             and each primitive implements the runtime's traits",
        ),
        (
            "crates/fhir-testkit",
            &["bulk", "fhir", "oauth", "state"],
            "the sandbox's one mutex-guarded `State` holds the OAuth and export state the \
             handlers keep, and the FHIR router dispatches to the export handlers",
        ),
    ];

    /// The crate-relative module (`client` for `src/client/builder.rs`) each `crate::x` names.
    fn module_edges(src: &Path) -> std::collections::BTreeMap<String, Vec<String>> {
        let mut files = Vec::new();
        rust_files(src, &mut files);
        let top = |path: &Path| -> Option<String> {
            let relative = path.strip_prefix(src).ok()?;
            let first = relative.components().next()?.as_os_str().to_string_lossy();
            let name = first.trim_end_matches(".rs").to_owned();
            (name != "lib" && name != "main" && name != "generated").then_some(name)
        };
        let modules: std::collections::BTreeSet<String> =
            files.iter().filter_map(|p| top(p)).collect();
        let mut edges: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for path in &files {
            let Some(from) = top(path) else { continue };
            if path.file_name().is_some_and(|n| n == "tests.rs") {
                continue;
            }
            let text = fs::read_to_string(path).unwrap();
            // Code only: comments and doc links do not make a dependency; inline tests neither.
            let code: String = text
                .split("#[cfg(test)]\nmod tests {")
                .next()
                .unwrap_or_default()
                .lines()
                .filter(|line| !line.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            for (at, _) in code.match_indices("crate::") {
                let name: String = code[at + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if name != from && modules.contains(&name) {
                    let targets = edges.entry(from.clone()).or_default();
                    if !targets.contains(&name) {
                        targets.push(name);
                    }
                }
            }
        }
        edges
    }

    /// The groups of modules that reach each other (strongly connected, more than one).
    fn circles(edges: &std::collections::BTreeMap<String, Vec<String>>) -> Vec<Vec<String>> {
        let reaches = |from: &str, to: &str| {
            let mut seen = std::collections::BTreeSet::new();
            let mut todo = vec![from.to_owned()];
            while let Some(at) = todo.pop() {
                for next in edges.get(&at).into_iter().flatten() {
                    if next == to {
                        return true;
                    }
                    if seen.insert(next.clone()) {
                        todo.push(next.clone());
                    }
                }
            }
            false
        };
        let mut groups: Vec<Vec<String>> = Vec::new();
        for module in edges.keys() {
            if groups.iter().any(|g| g.contains(module)) {
                continue;
            }
            let mut group: Vec<String> = edges
                .keys()
                .filter(|other| {
                    *other == module || (reaches(module, other) && reaches(other, module))
                })
                .cloned()
                .collect();
            group.sort();
            if group.len() > 1 {
                groups.push(group);
            }
        }
        groups
    }

    #[test]
    fn no_circles_between_modules_but_the_known_ones() {
        let root = project_root();
        let mut found = Vec::new();
        for dir in crate_dirs() {
            let crate_dir = dir
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            for group in circles(&module_edges(&dir.join("src"))) {
                found.push((crate_dir.clone(), group));
            }
        }
        let known: Vec<(String, Vec<String>)> = KNOWN_CIRCLES
            .iter()
            .map(|(krate, group, _)| {
                (
                    (*krate).to_owned(),
                    group.iter().map(|m| (*m).to_owned()).collect(),
                )
            })
            .collect();
        let new: Vec<_> = found.iter().filter(|f| !known.contains(f)).collect();
        let gone: Vec<_> = known.iter().filter(|k| !found.contains(k)).collect();
        assert!(
            new.is_empty(),
            "modules that depend on each other in a circle: {new:?}"
        );
        assert!(
            gone.is_empty(),
            "no longer circles, remove them from KNOWN_CIRCLES: {gone:?}"
        );
    }
}
