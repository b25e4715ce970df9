//! The `fleet` example as users run it: OS processes sharing one rotating SMART grant
//! through Redis against the real-server tier, in a sandbox of the example's own:
//! oidc-provider rotates refresh tokens and revokes the grant when a used one is presented
//! again, the FHIR server verifies every access token, and tokens live 4 s (renewed 2 s
//! early). With the lease every refresh token is presented once, also when a process is
//! killed holding the lease; without it (the control) processes present the same refresh
//! token and the grant is revoked. The counts come from the servers: token requests and
//! refresh tokens presented twice from the authorization server, 401 answers from the FHIR
//! server.

use std::process::Command;

#[derive(Debug)]
struct Summary {
    refreshes: u64,
    invalid_grant: u64,
    requests: u64,
    failed: u64,
    /// Real tier only: refresh tokens presented a second time, and 401 answers.
    reused: Option<u64>,
    unauthorized: Option<u64>,
}

fn run(args: &[&str]) -> Summary {
    let output = Command::new(fhir_testkit::example_binary("fleet"))
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
    let optional = |name: &str| -> Option<u64> {
        line.split_whitespace()
            .skip_while(|word| *word != name)
            .nth(1)
            .and_then(|n| n.parse().ok())
    };
    let number =
        |name: &str| -> u64 { optional(name).unwrap_or_else(|| panic!("no {name} in {line:?}")) };
    assert!(line.starts_with("refreshes: "), "{line}");
    Summary {
        refreshes: number("refreshes:"),
        invalid_grant: number("invalid_grant:"),
        requests: number("requests:"),
        failed: number("failed:"),
        reused: optional("reused:"),
        unauthorized: optional("unauthorized:"),
    }
}

#[test]
fn a_fleet_presents_each_refresh_token_once_even_when_a_holder_dies() {
    if !fhir_e2e::available() {
        return;
    }
    // 8 processes x 50 tasks, each task a request a second (about as many as the FHIR
    // server answers without a queue), long enough for at least 20 refreshes.
    let fleet = run(&[
        "--processes",
        "8",
        "--tasks",
        "50",
        "--seconds",
        "54",
        "--pause-ms",
        "1000",
    ]);
    assert!(fleet.refreshes >= 20, "{fleet:?}");
    assert_eq!((fleet.invalid_grant, fleet.failed), (0, 0), "{fleet:?}");
    // The authorization server saw no refresh token twice (not even two at once, which it
    // might let through).
    assert_eq!(fleet.reused, Some(0), "{fleet:?}");
    // Every request ended authorized (`failed` is 0). A few are answered 401 first and
    // retried with the renewed token: oidc-provider counts a token's 4 s from the start of
    // the second it was issued in, so a token renewed 2 s early may still expire while a
    // request waits in the busy FHIR server's queue. More than 1 in 50 would mean renewals
    // come late.
    let unauthorized = fleet.unauthorized.unwrap_or(u64::MAX);
    assert!(unauthorized * 50 <= fleet.requests, "{fleet:?}");
    assert!(fleet.requests > 1000, "{fleet:?}");
    // One refresh request per renewal: a second request for the same renewal would present
    // a used refresh token (`reused`, none above), and no renewal is repeated needlessly: a
    // token is renewed no sooner than a second after it arrives (in practice about two), so
    // a 54-second run has at most 54 renewals (plus the launch's token and the workers'
    // start).
    assert!(fleet.refreshes <= 54 + 3, "{fleet:?}");

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
    assert_eq!(killed.reused, Some(0), "{killed:?}");
    assert_eq!(killed.failed, 1, "only the killed worker: {killed:?}");
    assert!(killed.refreshes >= 4, "{killed:?}");

    // The control: the same fleet without the lease presents refresh tokens twice. The race
    // it loses is a matter of timing, so it gets three tries to show (one nearly always does).
    let mut controls = Vec::new();
    let raced = (0..3).any(|_| {
        let control = run(&[
            "--processes",
            "4",
            "--tasks",
            "10",
            "--seconds",
            "4",
            "--without-lease",
        ]);
        let raced = control.invalid_grant > 0 && control.reused.is_some_and(|reused| reused > 0);
        controls.push(control);
        raced
    });
    assert!(
        raced,
        "without the lease, nothing would be tested: {controls:?}"
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
