//! The `export` example as users run it: a child process against the in-process sandbox,
//! authenticated with Backend Services from `SMART_*` variables; then killed (`SIGKILL`)
//! in the middle of an export to a directory and run again.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fhir_smart::keys::{SigningAlgorithm, SigningKey, public_jwks_json};
use fhir_testkit::{ClientRegistration, ExportRequestKind, Sandbox, SandboxBuilder};

/// A sandbox with a Backend Services client, and the example's command configured for it.
struct Setup {
    sandbox: Sandbox,
    _key_dir: tempfile::TempDir,
    env: Vec<(&'static str, String)>,
}

async fn setup(builder: SandboxBuilder) -> Setup {
    let sandbox = builder.start().await;
    let key = SigningKey::generate(SigningAlgorithm::Es384, "bulk-key-1").unwrap();
    let jwks: serde_json::Value = serde_json::from_str(&public_jwks_json([&key]).unwrap()).unwrap();
    sandbox.register_client(ClientRegistration::backend("bulk-etl", jwks));
    let key_dir = tempfile::tempdir().unwrap();
    let key_path = key_dir.path().join("key.pem");
    std::fs::write(&key_path, key.to_pkcs8_pem().unwrap().expose_secret()).unwrap();
    let env = vec![
        ("SMART_ISS", sandbox.fhir_base_url()),
        ("SMART_CLIENT_ID", "bulk-etl".to_owned()),
        ("SMART_PRIVATE_KEY", key_path.display().to_string()),
        ("SMART_KID", "bulk-key-1".to_owned()),
        ("SMART_SCOPE", "system/*.rs".to_owned()),
    ];
    Setup {
        sandbox,
        _key_dir: key_dir,
        env,
    }
}

impl Setup {
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(fhir_testkit::example_binary("export"));
        command
            .args(args)
            .env_remove("FHIR_BASE_URL")
            .env_remove("SMART_CLIENT_SECRET")
            .env_remove("SMART_JKU")
            .env_remove("SMART_ALG")
            .envs(self.env.iter().map(|(name, value)| (*name, value)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    /// Runs the example to its end (off the runtime's threads: the sandbox answers on them).
    async fn run(&self, args: &[&str]) -> (bool, String, String) {
        let mut command = self.command(args);
        let output = tokio::task::spawn_blocking(move || command.output().unwrap())
            .await
            .unwrap();
        (
            output.status.success(),
            String::from_utf8(output.stdout).unwrap(),
            String::from_utf8(output.stderr).unwrap(),
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_exports_every_type_with_backend_services() {
    let setup = setup(Sandbox::builder().export_polls(1)).await;
    let (ok, stdout, stderr) = setup.run(&["--system", "--concurrency", "2"]).await;
    assert!(ok, "the example failed:\n{stdout}\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "Encounter: 40",
            "Observation: 100",
            "Patient: 20",
            "Practitioner: 1",
            "resources: 161 files: 5 errors: 0 deleted: 0",
        ],
        "{stderr}"
    );
    let grants: Vec<_> = setup
        .sandbox
        .token_requests()
        .into_iter()
        .map(|request| (request.grant_type, request.succeeded))
        .collect();
    assert_eq!(grants, [("client_credentials".to_owned(), true)]);
    // Plain lines on a pipe (no progress bar escapes), one per file at least.
    assert!(stderr.lines().count() >= 5, "{stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "terminal escapes on a pipe: {stderr}"
    );

    // A typed failure exits non-zero with the error's text.
    let (ok, _, stderr) = setup.run(&["--group", "nobody"]).await;
    assert!(!ok);
    assert!(
        stderr.contains("error:") && stderr.contains("404"),
        "{stderr}"
    );
}

fn done_files(dir: &Path) -> BTreeMap<String, u64> {
    let Ok(bytes) = std::fs::read(dir.join(fhir_bulk::STATE_FILE)) else {
        return BTreeMap::new();
    };
    let state: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    serde_json::from_value(state["done"].clone()).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_killed_mid_download_resumes_and_writes_the_same_data() {
    // 17 files of at most 10 lines, each answered after 150 ms, one at a time: ~2.5 s.
    let builder = Sandbox::builder()
        .export_polls(0)
        .export_max_lines_per_file(10)
        .export_download_delay(Duration::from_millis(150));
    let setup = setup(builder).await;
    let out = tempfile::tempdir().unwrap();
    let out_arg = out.path().display().to_string();
    let args = ["--system", "--concurrency", "1", "--out", out_arg.as_str()];

    let mut child = setup.command(&args).spawn().unwrap();
    let started = Instant::now();
    while done_files(out.path()).len() < 3 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no progress: {:?}",
            child.try_wait()
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the export ended before it was killed"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    let status = child.wait().unwrap();
    assert!(!status.success());
    let done_before = done_files(out.path());
    assert!(done_before.len() < 17, "killed too late: {done_before:?}");

    let (ok, stdout, stderr) = setup.run(&args).await;
    assert!(ok, "the rerun failed:\n{stdout}\n{stderr}");
    assert_eq!(
        stdout.lines().last(),
        Some("resources: 161 files: 17 errors: 0 deleted: 0"),
        "{stdout}"
    );

    let requests = setup.sandbox.export_requests();
    let kick_offs = requests
        .iter()
        .filter(|r| r.kind == ExportRequestKind::KickOff)
        .count();
    assert_eq!(
        kick_offs, 1,
        "the rerun resumed the job from its status URL"
    );
    let mut downloads: BTreeMap<String, usize> = BTreeMap::new();
    for request in requests
        .iter()
        .filter(|r| r.kind == ExportRequestKind::File)
    {
        let index = request
            .path
            .rsplit('/')
            .next()
            .unwrap()
            .trim_end_matches(".ndjson");
        *downloads.entry(index.to_owned()).or_default() += 1;
    }
    assert_eq!(downloads.len(), 17);
    for name in done_before.keys() {
        // `Observation.004.ndjson` is the output entry 4, the sandbox's file 4.
        let index: usize = name.split('.').nth(1).unwrap().parse().unwrap();
        assert_eq!(
            downloads[&index.to_string()],
            1,
            "{name} was complete before the kill and was downloaded again"
        );
    }

    // The directory holds exactly what the server serves, byte for byte.
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join(fhir_bulk::MANIFEST_FILE)).unwrap())
            .unwrap();
    let token = setup.sandbox.issue_access_token("system/*.rs");
    let http = reqwest::Client::new();
    let mut per_type: BTreeMap<String, usize> = BTreeMap::new();
    for (index, entry) in manifest["output"].as_array().unwrap().iter().enumerate() {
        let kind = entry["type"].as_str().unwrap();
        let served = http
            .get(entry["url"].as_str().unwrap())
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let written = std::fs::read(out.path().join(format!("{kind}.{index:03}.ndjson"))).unwrap();
        assert_eq!(
            written, served,
            "{kind} file {index} differs from the server's"
        );
        *per_type.entry(kind.to_owned()).or_default() +=
            written.iter().filter(|b| **b == b'\n').count();
    }
    assert_eq!(
        per_type,
        setup.sandbox.resource_counts().into_iter().collect()
    );
    let leftovers: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".part") || name.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
