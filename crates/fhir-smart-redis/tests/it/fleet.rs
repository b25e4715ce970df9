//! The `fleet` example as users run it: OS processes sharing one rotating SMART grant
//! through Redis against the real-server tier (oidc-provider rotates refresh tokens and
//! revokes the grant when a used one is presented again; Medplum checks every access token;
//! 3-second access tokens, renewed a second early), in a sandbox of the example's own. With the lease every refresh
//! is presented once, also when a process is killed holding it; without it (the control)
//! processes present the same refresh token and the grant is revoked. The counts come from
//! the authorization server.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `cargo test` builds the examples beside the test binaries (`target/<profile>/examples`).
fn example() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile = exe.parent().and_then(Path::parent).unwrap();
    let path = profile
        .join("examples")
        .join(format!("fleet{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is missing: run the tests with `cargo test -p fhir-smart-redis` (a plain `--test it` builds no examples)",
        path.display()
    );
    path
}

#[derive(Debug)]
struct Summary {
    refreshes: u64,
    invalid_grant: u64,
    requests: u64,
    failed: u64,
}

fn run(args: &[&str]) -> Summary {
    let output = Command::new(example())
        .args(args)
        .env_remove("REDIS_URL")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line = stdout.lines().last().unwrap_or_default().to_owned();
    let number = |name: &str| -> u64 {
        line.split_whitespace()
            .skip_while(|word| *word != name)
            .nth(1)
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {line:?}"))
    };
    assert!(line.starts_with("refreshes: "), "{line}");
    Summary {
        refreshes: number("refreshes:"),
        invalid_grant: number("invalid_grant:"),
        requests: number("requests:"),
        failed: number("failed:"),
    }
}

#[test]
fn a_fleet_presents_each_refresh_token_once_even_when_a_holder_dies() {
    if !fhir_e2e::available() {
        return;
    }
    // 8 processes x 50 tasks, long enough for at least 20 refreshes.
    let fleet = run(&["--processes", "8", "--tasks", "50", "--seconds", "48"]);
    assert!(fleet.refreshes >= 20, "{fleet:?}");
    assert_eq!((fleet.invalid_grant, fleet.failed), (0, 0), "{fleet:?}");
    assert!(fleet.requests > 1000, "{fleet:?}");
    // One refresh request per renewal: a second request for the same renewal would present
    // a used refresh token (an `invalid_grant`, none above), and no renewal is repeated
    // needlessly: a token is renewed no sooner than a second after it arrives, so a
    // 48-second run has at most 48 renewals (plus the launch's token and the workers' start).
    assert!(fleet.refreshes <= 48 + 3, "{fleet:?}");

    // One process is killed while it holds the lease: the others outlive its lease.
    let killed = run(&[
        "--processes",
        "4",
        "--tasks",
        "20",
        "--seconds",
        "16",
        "--kill-one",
    ]);
    assert_eq!(killed.invalid_grant, 0, "{killed:?}");
    assert_eq!(killed.failed, 1, "only the killed worker: {killed:?}");
    assert!(killed.refreshes >= 4, "{killed:?}");

    // The control: the same fleet without the lease presents refresh tokens twice.
    let control = run(&[
        "--processes",
        "4",
        "--tasks",
        "10",
        "--seconds",
        "4",
        "--without-lease",
    ]);
    assert!(
        control.invalid_grant > 0,
        "without the lease, nothing would be tested: {control:?}"
    );
}

#[test]
fn a_fleet_on_the_in_process_server_presents_each_refresh_token_once() {
    let fleet = run(&[
        "--server",
        "testkit",
        "--processes",
        "4",
        "--tasks",
        "10",
        "--seconds",
        "4",
    ]);
    assert!(fleet.refreshes >= 2, "{fleet:?}");
    assert_eq!((fleet.invalid_grant, fleet.failed), (0, 0), "{fleet:?}");
}
