//! Tidy checks over the crates this task owns, run by `cargo test -p xtask`.

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::{Path, PathBuf};

    use crate::project_root;

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    fn files() -> Vec<PathBuf> {
        let mut files = Vec::new();
        for dir in ["crates/fhir-codegen", "crates/fhir-r4", "xtask"] {
            rust_files(&project_root().join(dir), &mut files);
        }
        assert!(files.len() > 100, "expected the generated files too");
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
}
