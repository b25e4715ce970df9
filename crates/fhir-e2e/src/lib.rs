//! The harness of the end-to-end tests: starts the real servers of `sandbox/` once per test
//! process (`sandbox/start.sh` installs with `npm ci` and is idempotent) and reads the URLs,
//! clients and keys it recorded in `sandbox/.run/env`.
//!
//! When `npm` is absent the tests skip with a loud message, except under CI (`CI` set), where a
//! missing Node toolchain is a failure: CI must run them.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// The variables `sandbox/start.sh` wrote, for a running sandbox.
#[derive(Debug)]
pub struct Sandbox {
    vars: HashMap<String, String>,
}

impl Sandbox {
    /// A variable of `sandbox/.run/env`, such as `FHIR_BASE_URL`.
    ///
    /// # Panics
    ///
    /// When the variable is missing: the sandbox scripts and the tests disagree.
    #[allow(clippy::panic)] // A test harness: a missing variable is a test failure.
    pub fn var(&self, name: &str) -> &str {
        match self.vars.get(name) {
            Some(value) => value,
            None => panic!("sandbox/.run/env has no {name}"),
        }
    }

    /// The FHIR base URL.
    pub fn fhir_base_url(&self) -> &str {
        self.var("FHIR_BASE_URL")
    }

    /// A fresh access token for the `backend-secret` client (client_credentials with
    /// client_secret_basic), for tests that are about FHIR rather than authentication.
    ///
    /// # Errors
    ///
    /// The token endpoint's answer when it is not a token.
    pub async fn backend_token(&self, scope: &str) -> Result<String, String> {
        let response = reqwest::Client::new()
            .post(self.var("SMART_TOKEN_URL"))
            .basic_auth(
                self.var("SMART_BACKEND_SECRET_CLIENT_ID"),
                Some(self.var("SMART_BACKEND_SECRET_CLIENT_SECRET")),
            )
            .form(&[("grant_type", "client_credentials"), ("scope", scope)])
            .send()
            .await
            .map_err(|err| err.to_string())?;
        let body: serde_json::Value = response.json().await.map_err(|err| err.to_string())?;
        body["access_token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("no access token in {body}"))
    }
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn npm_available() -> bool {
    Command::new("npm")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success())
}

/// Parses `export NAME='value'` lines.
fn parse_env(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter_map(|line| line.strip_prefix("export "))
        .filter_map(|assignment| assignment.split_once('='))
        .map(|(name, value)| {
            let value = value.trim();
            let value = value
                .strip_prefix('\'')
                .and_then(|rest| rest.strip_suffix('\''))
                .unwrap_or(value);
            (name.to_owned(), value.replace("'\\''", "'"))
        })
        .collect()
}

/// The running sandbox, started on first use; `None` (after a loud message) when Node is
/// not installed outside CI.
///
/// # Panics
///
/// When the sandbox cannot start, or when Node is missing under CI.
#[allow(clippy::panic, clippy::print_stderr)] // A test harness reports and fails loudly.
pub fn sandbox() -> Option<&'static Sandbox> {
    static SANDBOX: OnceLock<Option<Sandbox>> = OnceLock::new();
    SANDBOX
        .get_or_init(|| {
            if !npm_available() {
                if std::env::var_os("CI").is_some() {
                    panic!("npm is not installed, and CI must run the end-to-end tests");
                }
                eprintln!(
                    "\n*** SKIPPING end-to-end tests: `npm` is not installed, so the real FHIR and SMART servers \
                     of sandbox/ cannot run. Install Node.js 20 and npm to run them. ***\n"
                );
                return None;
            }
            let root = workspace_root();
            let output = Command::new("bash")
                .arg(root.join("sandbox/start.sh"))
                .current_dir(&root)
                .output()
                .unwrap_or_else(|err| panic!("cannot run sandbox/start.sh: {err}"));
            if !output.status.success() {
                panic!(
                    "sandbox/start.sh failed:\n{}\n{}",
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                );
            }
            let env = std::fs::read_to_string(root.join("sandbox/.run/env"))
                .unwrap_or_else(|err| panic!("cannot read sandbox/.run/env: {err}"));
            Some(Sandbox { vars: parse_env(&env) })
        })
        .as_ref()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_lines_are_parsed() {
        let vars = parse_env("# comment\nexport A='x y'\nexport B=plain\nexport C='it'\\''s'\n");
        assert_eq!(vars["A"], "x y");
        assert_eq!(vars["B"], "plain");
        assert_eq!(vars["C"], "it's");
    }
}
