//! The harness of the end-to-end tests: starts the real servers of `sandbox/` once per test
//! process (`sandbox/start.sh` installs with `npm ci` and is idempotent) and reads the URLs,
//! clients and keys it recorded in `sandbox/.run/env`.
//!
//! When `npm` is absent the tests skip with a loud message, except under CI (`CI` set), where a
//! missing Node toolchain is a failure: CI must run them.
//!
//! A test that needs other settings (such as 1-second access tokens) starts a sandbox of its
//! own with [`OwnSandbox::start`], in a run directory of its own, and leaves the shared one
//! alone.

mod browser;
mod token_requests;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

pub use token_requests::{GrantTypeCounts, TokenRequests, Unauthorized};

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

/// Whether the end-to-end tests can run here: `false` (after a loud message) when Node is
/// not installed outside CI.
///
/// # Panics
///
/// When Node is missing under CI.
#[allow(clippy::panic, clippy::print_stderr)] // A test harness reports and fails loudly.
pub fn available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        if npm_available() {
            return true;
        }
        if std::env::var_os("CI").is_some() {
            panic!("npm is not installed, and CI must run the end-to-end tests");
        }
        eprintln!(
            "\n*** SKIPPING end-to-end tests: `npm` is not installed, so the real FHIR and SMART servers \
             of sandbox/ cannot run. Install Node.js 20 and npm to run them. ***\n"
        );
        false
    })
}

/// Runs `sandbox/start.sh` with `settings` (its environment variables, such as
/// `ACCESS_TOKEN_TTL`) for the sandbox of `run_dir` (the shared `sandbox/.run` when `None`)
/// and reads the env file it wrote.
fn start(run_dir: Option<&Path>, settings: &[(&str, &str)]) -> Result<Sandbox, String> {
    let root = workspace_root();
    let mut command = Command::new("bash");
    command
        .arg(root.join("sandbox/start.sh"))
        .current_dir(&root);
    if let Some(run_dir) = run_dir {
        command.env("SANDBOX_RUN_DIR", run_dir);
    }
    command.envs(settings.iter().copied());
    let output = command
        .output()
        .map_err(|err| format!("cannot run sandbox/start.sh: {err}"))?;
    if !output.status.success() {
        return Err(format!(
            "sandbox/start.sh failed:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let env_file = run_dir.map_or_else(|| root.join("sandbox/.run"), Path::to_path_buf);
    let env = std::fs::read_to_string(env_file.join("env"))
        .map_err(|err| format!("cannot read the sandbox's env file: {err}"))?;
    Ok(Sandbox {
        vars: parse_env(&env),
    })
}

/// The shared running sandbox (default settings), started on first use; `None` when the
/// tests cannot run here (see [`available`]).
///
/// # Panics
///
/// When the sandbox cannot start, or when Node is missing under CI.
#[allow(clippy::panic)] // A test harness reports and fails loudly.
pub fn sandbox() -> Option<&'static Sandbox> {
    static SANDBOX: OnceLock<Option<Sandbox>> = OnceLock::new();
    SANDBOX
        .get_or_init(|| available().then(|| start(None, &[]).unwrap_or_else(|err| panic!("{err}"))))
        .as_ref()
}

/// A sandbox of one's own: started with its own settings in its own run directory (beside
/// the shared one, which keeps running), stopped and removed when dropped.
#[derive(Debug)]
pub struct OwnSandbox {
    sandbox: Sandbox,
    run_dir: PathBuf,
}

impl OwnSandbox {
    /// Starts a sandbox with `settings`, the environment variables of `sandbox/start.sh`
    /// (such as `("ACCESS_TOKEN_TTL", "1")`).
    ///
    /// # Errors
    ///
    /// When it cannot start (the script's output says why), or Node is not installed.
    pub fn start(settings: &[(&str, &str)]) -> Result<Self, String> {
        static STARTED: AtomicU32 = AtomicU32::new(0);
        if !npm_available() {
            return Err("npm is not installed: the sandbox needs Node.js 20 and npm".to_owned());
        }
        reap_abandoned();
        let run_dir = workspace_root().join(format!(
            "sandbox/.run-{}-{}",
            std::process::id(),
            STARTED.fetch_add(1, Ordering::Relaxed)
        ));
        // Stopped (and the directory removed) on drop, also when the start fails half way.
        let mut own = Self {
            sandbox: Sandbox {
                vars: HashMap::new(),
            },
            run_dir,
        };
        own.sandbox = start(Some(&own.run_dir), settings)?;
        Ok(own)
    }
}

/// Stops and removes the sandboxes of processes that died before dropping their
/// [`OwnSandbox`] (killed, or aborted): their run directory is named by their pid.
fn reap_abandoned() {
    let sandbox_dir = workspace_root().join("sandbox");
    let Ok(entries) = std::fs::read_dir(&sandbox_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|name| name.strip_prefix(".run-"))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        // Only where a live process shows in /proc (Linux); elsewhere nothing is reaped.
        let proc = Path::new("/proc");
        if !proc.is_dir() || proc.join(pid.to_string()).exists() {
            continue;
        }
        let run_dir = entry.path();
        let _ = Command::new("bash")
            .arg(sandbox_dir.join("stop.sh"))
            .env("SANDBOX_RUN_DIR", &run_dir)
            .output();
        let _ = std::fs::remove_dir_all(&run_dir);
    }
}

impl std::ops::Deref for OwnSandbox {
    type Target = Sandbox;

    fn deref(&self) -> &Sandbox {
        &self.sandbox
    }
}

impl Drop for OwnSandbox {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(workspace_root().join("sandbox/stop.sh"))
            .env("SANDBOX_RUN_DIR", &self.run_dir)
            .output();
        let _ = std::fs::remove_dir_all(&self.run_dir);
    }
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
