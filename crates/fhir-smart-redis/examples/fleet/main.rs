//! A fleet of worker processes sharing one SMART grant through Redis: each refresh of the
//! grant's rotating refresh token happens once, in one process, and no process ever presents
//! a refresh token twice (the authorization server revokes the grant when one is reused).
//!
//! ```sh
//! cargo run -p fhir-smart-redis --example fleet -- --processes 8 --tasks 50 --seconds 45
//! ```
//!
//! It starts what it needs: a `redis-server` on a free loopback port (unless `REDIS_URL` is
//! set) and the real-server tier of `sandbox/` with 4-second access tokens (oidc-provider
//! rotates refresh tokens and revokes the grant when a used one comes back; the FHIR server
//! verifies every access token). `--server testkit` uses fhir-testkit's in-process server instead, the same
//! rules, with a token endpoint that takes `--token-latency-ms` (100 by default). It launches
//! the app once (a standalone launch, logged in as the sandbox's patient user), and starts the
//! workers, which restore the launch's client from Redis and search for `--seconds` with
//! `--tasks` concurrent tasks each. It ends with
//! `refreshes: R token-requests: T invalid_grant: G requests: Q failed: F`, counted by the
//! authorization server (refreshes, token requests, refused refreshes) and the workers (FHIR
//! requests answered and failed); on the real tier it adds `reused: U unauthorized: A`, the
//! refresh tokens presented a second time (by the authorization server's digest of each) and
//! the FHIR requests answered 401.

// An example program reports on stdout/stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod servers;

use std::error::Error;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use fhir_core::auth::BoxFuture;
use fhir_smart::{
    AppLaunch, HttpClient, LaunchSession, SmartClient, StoreKey, StoredToken, TokenClientOptions,
    TokenStore,
};
use fhir_smart_redis::RedisTokenStore;

use servers::{ServerKind, Servers, start_redis};

const SCOPE: &str = "launch/patient patient/*.rs offline_access";
const USER: &str = "fleet-user";
/// Outlived quickly when a holder dies, yet far longer than a token request takes on a
/// loaded machine (a live holder whose lease lapsed could see its refresh token reused).
const LEASE_TTL: Duration = Duration::from_secs(4);

/// The command line: `--processes N --tasks M --seconds S` (and `--worker`, which the
/// fleet passes to the processes it starts).
struct Args {
    processes: usize,
    tasks: usize,
    /// The authorization and FHIR servers.
    server: ServerKind,
    seconds: u64,
    worker: bool,
    /// A control run: the workers share the store but not its lease (what a store without
    /// one does across processes); refresh tokens are then presented twice.
    without_lease: bool,
    /// How long fhir-testkit's token endpoint takes, in milliseconds (real ones take 50 to
    /// 300).
    token_latency_ms: u64,
    /// One worker kills itself (`SIGKILL`) the third time it holds the renewal lease, before
    /// its token request: the others must outlive its lease and carry on.
    kill_one: bool,
    /// Instead of the fleet run: `N` timed renewals, each with every task of every process
    /// asking for a token at the same instant (`--tasks` waiters per process).
    waiters_bench: Option<usize>,
    /// (Worker) the Unix time in milliseconds at which every task asks for a token at once.
    waiters_at: Option<u64>,
    /// How long each task waits between its requests, in milliseconds.
    pause_ms: u64,
}

impl Args {
    fn parse() -> Result<Self, Box<dyn Error>> {
        let mut args = Self {
            processes: 8,
            tasks: 50,
            server: ServerKind::Sandbox,
            seconds: 30,
            worker: false,
            without_lease: false,
            token_latency_ms: 100,
            kill_one: false,
            waiters_bench: None,
            waiters_at: None,
            pause_ms: 50,
        };
        let mut words = std::env::args().skip(1);
        while let Some(word) = words.next() {
            let mut value = || -> Result<String, Box<dyn Error>> {
                words
                    .next()
                    .ok_or_else(|| format!("{word} needs a value").into())
            };
            match word.as_str() {
                "--processes" => args.processes = value()?.parse()?,
                "--tasks" => args.tasks = value()?.parse()?,
                "--server" => args.server = value()?.parse()?,
                "--seconds" => args.seconds = value()?.parse()?,
                "--worker" => args.worker = true,
                "--without-lease" => args.without_lease = true,
                "--token-latency-ms" => args.token_latency_ms = value()?.parse()?,
                "--kill-one" => args.kill_one = true,
                "--waiters-bench" => args.waiters_bench = Some(value()?.parse()?),
                "--waiters-at" => args.waiters_at = Some(value()?.parse()?),
                "--pause-ms" => args.pause_ms = value()?.parse()?,
                "--help" | "-h" => {
                    println!(
                        "usage: fleet [--processes N] [--tasks M] [--seconds S] [--server sandbox|testkit] [--token-latency-ms L] [--pause-ms P] [--without-lease] [--kill-one] [--waiters-bench RUNS]"
                    );
                    std::process::exit(0);
                }
                other => return Err(format!("unknown argument {other}").into()),
            }
        }
        Ok(args)
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let args = Args::parse()?;
    if args.worker {
        return match args.waiters_at {
            Some(at) => waiter(&args, at).await,
            None => worker(&args).await,
        };
    }
    fleet(&args).await
}

/// How a worker's store treats the renewal lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LeaseMode {
    /// As the Redis store does.
    Normal,
    /// Not at all (the control run: what a store without a lease does across processes).
    Without,
    /// The worker is killed (`SIGKILL`, by itself) the third time it holds the lease,
    /// before its token request.
    DieHoldingIt,
}

/// A worker's Redis store, its lease as `mode` says.
#[derive(Debug)]
struct WorkerStore {
    store: RedisTokenStore,
    mode: LeaseMode,
    leases: AtomicU64,
}

impl TokenStore for WorkerStore {
    fn get<'a>(
        &'a self,
        key: &'a StoreKey,
    ) -> BoxFuture<'a, Result<Option<StoredToken>, fhir_smart::Error>> {
        self.store.get(key)
    }
    fn set<'a>(
        &'a self,
        key: &'a StoreKey,
        token: StoredToken,
    ) -> BoxFuture<'a, Result<(), fhir_smart::Error>> {
        self.store.set(key, token)
    }
    fn delete<'a>(&'a self, key: &'a StoreKey) -> BoxFuture<'a, Result<(), fhir_smart::Error>> {
        self.store.delete(key)
    }
    fn compare_and_set<'a>(
        &'a self,
        key: &'a StoreKey,
        expected: Option<u64>,
        token: StoredToken,
    ) -> BoxFuture<'a, Result<bool, fhir_smart::Error>> {
        self.store.compare_and_set(key, expected, token)
    }
    fn acquire_lease<'a>(
        &'a self,
        key: &'a StoreKey,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Option<fhir_smart::RenewalLease>, fhir_smart::Error>> {
        Box::pin(async move {
            if self.mode == LeaseMode::Without {
                return Ok(None);
            }
            let lease = self.store.acquire_lease(key, ttl).await?;
            if self.mode == LeaseMode::DieHoldingIt
                && self.leases.fetch_add(1, Ordering::SeqCst) == 2
            {
                eprintln!(
                    "worker {} killed while holding the lease",
                    std::process::id()
                );
                let _ = Command::new("kill")
                    .args(["-KILL", &std::process::id().to_string()])
                    .status();
                std::process::abort();
            }
            Ok(lease)
        })
    }
}

/// Where the workers find what the fleet set up: the servers, the app and the launch.
struct Fleet {
    redis_url: String,
    fhir_base: String,
    client_id: String,
    redirect: String,
    /// The launch's [`LaunchSession`], as JSON.
    session: String,
    /// How long before its expiry a token is renewed.
    refresh_skew: Duration,
}

impl Fleet {
    /// A worker's command line (`--worker`, then what the caller adds), with the
    /// environment that tells it where everything is.
    fn worker(&self) -> Result<Command, Box<dyn Error>> {
        let mut command = Command::new(std::env::current_exe()?);
        command
            .arg("--worker")
            .env("FLEET_REDIS_URL", &self.redis_url)
            .env("FLEET_FHIR_BASE", &self.fhir_base)
            .env("FLEET_CLIENT_ID", &self.client_id)
            .env("FLEET_REDIRECT", &self.redirect)
            .env("FLEET_SESSION", &self.session)
            .env(
                "FLEET_REFRESH_SKEW_MS",
                self.refresh_skew.as_millis().to_string(),
            )
            .stdout(Stdio::piped());
        Ok(command)
    }

    /// The worker's side: what [`Fleet::worker`] passed.
    fn from_env() -> Result<Self, Box<dyn Error>> {
        let var = |name: &str| std::env::var(name).map_err(|err| format!("{name}: {err}"));
        Ok(Self {
            redis_url: var("FLEET_REDIS_URL")?,
            fhir_base: var("FLEET_FHIR_BASE")?,
            client_id: var("FLEET_CLIENT_ID")?,
            redirect: var("FLEET_REDIRECT")?,
            session: var("FLEET_SESSION")?,
            refresh_skew: Duration::from_millis(var("FLEET_REFRESH_SKEW_MS")?.parse()?),
        })
    }

    /// The launch's client, restored from the shared store.
    async fn restore(&self, store: Arc<dyn TokenStore>) -> Result<SmartClient, Box<dyn Error>> {
        let session: LaunchSession = serde_json::from_str(&self.session)?;
        let app = app(self, store)?;
        Ok(app.restore(&session).await?)
    }
}

/// The app as both the fleet and its workers configure it.
fn app(fleet: &Fleet, store: Arc<dyn TokenStore>) -> Result<AppLaunch, Box<dyn Error>> {
    let options = TokenClientOptions::default()
        .http(HttpClient::new().allow_loopback_http(true))
        // Renew as soon as a token (nearly) expires, so that short-lived tokens make many
        // refreshes.
        .min_token_reuse(Duration::ZERO)
        .refresh_skew(fleet.refresh_skew)
        .lease_ttl(LEASE_TTL);
    Ok(
        AppLaunch::new(&fleet.client_id, &fleet.redirect, SCOPE.parse()?)
            .fhir_base(&fleet.fhir_base)
            .verify_id_token(false)
            .token_client_options(options)
            .store(store, USER),
    )
}

async fn fleet(args: &Args) -> Result<(), Box<dyn Error>> {
    let (redis_url, _redis) = start_redis()?;
    // The bench renews on purpose: its tokens must not expire on their own meanwhile.
    // oidc-provider counts a token's life from the start of the second it was issued in
    // (`iat` is whole seconds), and a busy FHIR server checks it after its queue (most of a
    // second when the fleet saturates it), so there tokens live 4 s and are renewed 2 s
    // early (half their life, the most fhir-smart allows): a renewal every 2 seconds or
    // so, and at least a second to spare.
    let (ttl, refresh_skew) = match (args.waiters_bench, args.server) {
        (Some(_), _) => (Duration::from_secs(300), Duration::ZERO),
        (None, ServerKind::Sandbox) => (Duration::from_secs(4), Duration::from_secs(2)),
        (None, ServerKind::Testkit) => (Duration::from_secs(1), Duration::ZERO),
    };
    let servers = Servers::start(
        args.server,
        ttl,
        Duration::from_millis(args.token_latency_ms),
    )
    .await?;
    let (client_id, redirect) = servers.app_client();
    // One launch; its token set goes to Redis, and the workers restore it from there.
    let store = RedisTokenStore::connect(&redis_url)
        .await?
        .namespace("fleet");
    let mut fleet = Fleet {
        redis_url,
        fhir_base: servers.fhir_base(),
        client_id,
        redirect,
        session: String::new(),
        refresh_skew,
    };
    let app = app(&fleet, Arc::new(store))?;
    let request = app.standalone().await?;
    let callback = servers.approve(request.url.as_str()).await?;
    let client = app.complete(request.pending, &callback).await?;
    fleet.session = serde_json::to_string(&client.launch_session().ok_or("not a launch")?)?;
    let key = client.store_key().clone();
    drop(client);
    if let Some(runs) = args.waiters_bench {
        return waiters_bench(args, runs, &fleet, &servers, &key).await;
    }

    let mut workers = Vec::new();
    for index in 0..args.processes {
        workers.push(
            fleet
                .worker()?
                .args(["--tasks", &args.tasks.to_string()])
                .args(["--seconds", &args.seconds.to_string()])
                .args(["--pause-ms", &args.pause_ms.to_string()])
                .args(args.without_lease.then_some("--without-lease"))
                .args((args.kill_one && index == 0).then_some("--kill-one"))
                .spawn()?,
        );
    }
    let (mut requests, mut failed) = (0u64, 0u64);
    for worker in workers {
        let output = tokio::task::spawn_blocking(move || worker.wait_with_output()).await??;
        let text = String::from_utf8_lossy(&output.stdout);
        let line = text.lines().last().unwrap_or_default();
        let number = |name: &str| -> u64 {
            line.split_whitespace()
                .skip_while(|word| *word != name)
                .nth(1)
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        };
        if !output.status.success() || !line.starts_with("worker ") {
            eprintln!("a worker failed: {} {line}", output.status);
            failed += 1;
        }
        requests += number("requests:");
        failed += number("failed:");
    }
    let tokens = servers.token_counts().await?;
    let real_tier = tokens
        .real_tier
        .map(|(reused, unauthorized)| format!(" reused: {reused} unauthorized: {unauthorized}"))
        .unwrap_or_default();
    println!(
        "refreshes: {} token-requests: {} invalid_grant: {} requests: {requests} failed: {failed}{real_tier}",
        tokens.refreshes, tokens.total, tokens.invalid_grant
    );
    Ok(())
}

fn unix_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// `runs` renewals, each asked for by every task of every process at one instant: how long
/// until the last of them has the renewed token, and how many refreshes it took.
async fn waiters_bench(
    args: &Args,
    runs: usize,
    fleet: &Fleet,
    servers: &Servers,
    key: &StoreKey,
) -> Result<(), Box<dyn Error>> {
    let store = RedisTokenStore::connect(&fleet.redis_url)
        .await?
        .namespace("fleet");
    let mut times = Vec::new();
    for run in 1..=runs {
        // The stored set expires now: the next token anyone asks for is a renewal.
        let mut set = store
            .get(key)
            .await?
            .ok_or("the launch's token set is not stored")?;
        set.expires_at = set.issued_at;
        set.reuse_until = 0;
        store.set(key, set).await?;
        let before = servers.token_counts().await?.total;
        // Far enough ahead for every process to start and restore its client.
        let at = unix_millis() + 3000;
        let mut workers = Vec::new();
        for _ in 0..args.processes {
            workers.push(
                fleet
                    .worker()?
                    .args(["--tasks", &args.tasks.to_string()])
                    .args(["--waiters-at", &at.to_string()])
                    .spawn()?,
            );
        }
        let mut slowest = 0u64;
        for worker in workers {
            let output = tokio::task::spawn_blocking(move || worker.wait_with_output()).await??;
            let text = String::from_utf8_lossy(&output.stdout);
            let waited = text
                .lines()
                .last()
                .and_then(|line| line.strip_prefix("worker waited-ms: "))
                .and_then(|ms| ms.trim().parse::<u64>().ok())
                .ok_or_else(|| format!("a worker failed: {} {text}", output.status))?;
            slowest = slowest.max(waited);
        }
        let refreshes = servers.token_counts().await?.total - before;
        println!(
            "run {run}: {} waiters in {} processes had the renewed token after {slowest} ms ({refreshes} refresh)",
            args.tasks * args.processes,
            args.processes
        );
        if refreshes != 1 {
            return Err(format!("{refreshes} refreshes for one renewal").into());
        }
        times.push(slowest);
    }
    times.sort_unstable();
    println!(
        "waiters: {} processes: {} runs: {runs} best: {} ms median: {} ms",
        args.tasks * args.processes,
        args.processes,
        times.first().copied().unwrap_or(0),
        times.get(times.len() / 2).copied().unwrap_or(0)
    );
    Ok(())
}

/// A waiter process: restores the client, then every task asks for a token at `at` (Unix
/// milliseconds); prints how long the last one waited.
async fn waiter(args: &Args, at: u64) -> Result<(), Box<dyn Error>> {
    let fleet = Fleet::from_env()?;
    let store = RedisTokenStore::connect(&fleet.redis_url)
        .await?
        .namespace("fleet");
    let smart = fleet.restore(Arc::new(store)).await?;
    let now = unix_millis();
    if now >= at {
        return Err("the process started after the waiters' instant".into());
    }
    tokio::time::sleep(Duration::from_millis(at - now)).await;
    let mut tasks = Vec::new();
    for _ in 0..args.tasks {
        let smart = smart.clone();
        tasks.push(tokio::spawn(async move {
            smart
                .access_token()
                .await
                .map(|_| unix_millis().saturating_sub(at))
        }));
    }
    let mut slowest = 0;
    for task in tasks {
        slowest = slowest.max(task.await??);
    }
    println!("worker waited-ms: {slowest}");
    Ok(())
}

/// The sources of `err`, joined (the auth provider's reason sits below fhir-core's error).
fn error_chain(err: &dyn Error) -> String {
    let mut causes = Vec::new();
    let mut source = err.source();
    while let Some(cause) = source {
        causes.push(cause.to_string());
        source = cause.source();
    }
    causes.join(": ")
}

async fn worker(args: &Args) -> Result<(), Box<dyn Error>> {
    let fleet = Fleet::from_env()?;
    let store = RedisTokenStore::connect(&fleet.redis_url)
        .await?
        .namespace("fleet");
    let mode = if args.without_lease {
        LeaseMode::Without
    } else if args.kill_one {
        LeaseMode::DieHoldingIt
    } else {
        LeaseMode::Normal
    };
    let store: Arc<dyn TokenStore> = Arc::new(WorkerStore {
        store,
        mode,
        leases: AtomicU64::new(0),
    });
    let smart = fleet.restore(store).await?;
    let client = fhir_core::Client::builder(&fleet.fhir_base)
        .auth(smart)
        .build()?;
    let (requests, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let pause = Duration::from_millis(args.pause_ms);
    let mut tasks = Vec::new();
    for _ in 0..args.tasks {
        let (client, requests, failed) =
            (client.clone(), Arc::clone(&requests), Arc::clone(&failed));
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                match client.search_json("Patient").count(1).send().await {
                    Ok(_) => requests.fetch_add(1, Ordering::Relaxed),
                    Err(err) => {
                        // The first failures of each worker say why; the count says how many.
                        if failed.fetch_add(1, Ordering::Relaxed) < 3 {
                            eprintln!("request failed: {err}: {}", error_chain(&err));
                        }
                        0
                    }
                };
                tokio::time::sleep(pause).await;
            }
        }));
    }
    for task in tasks {
        task.await?;
    }
    println!(
        "worker requests: {} failed: {}",
        requests.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed)
    );
    Ok(())
}
