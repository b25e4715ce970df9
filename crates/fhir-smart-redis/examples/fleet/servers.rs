//! What a fleet run talks to: a Redis, and a SMART authorization server with its FHIR server,
//! either the real-server tier of `sandbox/` (oidc-provider and Medplum, in a sandbox of the
//! run's own) or fhir-testkit's in-process one (`--server testkit`).

use std::error::Error;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fhir_testkit::ClientRegistration;

/// The in-process server's app registration (the real tier has its own public client).
const TESTKIT_CLIENT_ID: &str = "fleet-app";
const TESTKIT_REDIRECT: &str = "http://127.0.0.1/fleet/callback";

/// Which authorization and FHIR servers a run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ServerKind {
    /// `sandbox/` (needs Node.js and npm): oidc-provider rotates refresh tokens and revokes
    /// the grant when a used one is presented again.
    Sandbox,
    /// fhir-testkit's server, the same rules, with a token endpoint that takes as long as
    /// `--token-latency-ms` says.
    Testkit,
}

impl std::str::FromStr for ServerKind {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "sandbox" => Ok(Self::Sandbox),
            "testkit" => Ok(Self::Testkit),
            other => Err(format!("--server is sandbox or testkit, not {other:?}")),
        }
    }
}

/// The running servers.
pub(crate) enum Servers {
    /// The real-server tier, stopped when dropped.
    Sandbox(fhir_e2e::OwnSandbox),
    /// The in-process server.
    Testkit(fhir_testkit::Sandbox),
}

/// Token requests the authorization server answered.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TokenCounts {
    /// `grant_type=refresh_token` requests, answered or refused.
    pub(crate) refreshes: u64,
    /// All token requests.
    pub(crate) total: u64,
    /// Refresh requests refused with `invalid_grant` (a refresh token presented twice);
    /// fhir-testkit's server refuses a refresh with nothing else.
    pub(crate) invalid_grant: u64,
    /// On the real tier: presentations of a refresh token presented before (counted by the
    /// authorization server, so also two that arrive together), and FHIR requests answered
    /// 401 (which the client renews and retries, so failures alone do not show them).
    pub(crate) real_tier: Option<(u64, u64)>,
}

impl Servers {
    /// Starts the servers with access tokens that live `access_token_ttl` (whole seconds on
    /// the real tier).
    pub(crate) async fn start(
        kind: ServerKind,
        access_token_ttl: Duration,
        token_latency: Duration,
    ) -> Result<Self, Box<dyn Error>> {
        Ok(match kind {
            ServerKind::Sandbox => {
                let ttl = access_token_ttl.as_secs().max(1).to_string();
                Self::Sandbox(fhir_e2e::OwnSandbox::start(&[("ACCESS_TOKEN_TTL", &ttl)])?)
            }
            ServerKind::Testkit => {
                let sandbox = fhir_testkit::Sandbox::builder()
                    .access_token_ttl(access_token_ttl)
                    .token_latency(token_latency)
                    .default_patient("pat-fleet")
                    .start()
                    .await;
                sandbox.register_client(ClientRegistration::public(
                    TESTKIT_CLIENT_ID,
                    [TESTKIT_REDIRECT],
                ));
                Self::Testkit(sandbox)
            }
        })
    }

    /// The FHIR base URL.
    pub(crate) fn fhir_base(&self) -> String {
        match self {
            Self::Sandbox(sandbox) => sandbox.fhir_base_url().to_owned(),
            Self::Testkit(sandbox) => sandbox.fhir_base_url(),
        }
    }

    /// The app's client id and redirect URI, registered with the authorization server.
    pub(crate) fn app_client(&self) -> (String, String) {
        match self {
            Self::Sandbox(sandbox) => (
                sandbox.var("SMART_PUBLIC_CLIENT_ID").to_owned(),
                sandbox.var("SMART_REDIRECT_URI").to_owned(),
            ),
            Self::Testkit(_) => (TESTKIT_CLIENT_ID.to_owned(), TESTKIT_REDIRECT.to_owned()),
        }
    }

    /// A user approves the authorization URL an app made: the app's callback URL.
    pub(crate) async fn approve(&self, authorize: &str) -> Result<String, Box<dyn Error>> {
        Ok(match self {
            Self::Sandbox(sandbox) => sandbox.log_in(authorize, "patient", None).await?,
            Self::Testkit(sandbox) => sandbox.approve(authorize).await?.to_string(),
        })
    }

    /// The token requests answered so far.
    pub(crate) async fn token_counts(&self) -> Result<TokenCounts, Box<dyn Error>> {
        Ok(match self {
            Self::Sandbox(sandbox) => {
                let requests = sandbox.token_requests().await?;
                let refresh = requests.of("refresh_token");
                let unauthorized = sandbox.unauthorized_requests().await?;
                if unauthorized.count > 0 {
                    eprintln!("401 answers by reason: {:?}", unauthorized.reasons);
                }
                TokenCounts {
                    refreshes: refresh.succeeded + refresh.failed,
                    total: requests.total(),
                    invalid_grant: refresh.invalid_grant,
                    real_tier: Some((requests.refresh_tokens_reused, unauthorized.count)),
                }
            }
            Self::Testkit(sandbox) => {
                let requests = sandbox.token_requests();
                let refreshes = requests.iter().filter(|r| r.grant_type == "refresh_token");
                TokenCounts {
                    refreshes: refreshes.clone().count() as u64,
                    total: requests.len() as u64,
                    invalid_grant: refreshes.filter(|r| !r.succeeded).count() as u64,
                    real_tier: None,
                }
            }
        })
    }
}

/// A `redis-server` this run started, killed when dropped.
pub(crate) struct RedisProcess(Child);

impl Drop for RedisProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `REDIS_URL`, or a `redis-server` started on a free loopback port.
pub(crate) fn start_redis() -> Result<(String, Option<RedisProcess>), Box<dyn Error>> {
    if let Ok(url) = std::env::var("REDIS_URL") {
        return Ok((url, None));
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|err| {
            format!("redis-server could not start ({err}); install it or set REDIS_URL")
        })?;
    let redis = RedisProcess(child);
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if started.elapsed() > Duration::from_secs(10) {
            return Err("redis-server did not start".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok((format!("redis://127.0.0.1:{port}/"), Some(redis)))
}
