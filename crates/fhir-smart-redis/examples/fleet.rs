//! A fleet of worker processes sharing one SMART grant through Redis: each refresh of the
//! grant's rotating refresh token happens once, in one process, and no process ever presents
//! a refresh token twice (the authorization server revokes the grant when one is reused).
//!
//! ```sh
//! cargo run -p fhir-smart-redis --example fleet -- --processes 8 --tasks 50 --seconds 30
//! ```
//!
//! It starts what it needs: a `redis-server` on a free loopback port (unless `REDIS_URL` is
//! set) and fhir-testkit's SMART server (rotating refresh tokens, reuse revokes the grant,
//! 1-second access tokens, a token endpoint that takes `--token-latency-ms`, 100 by default),
//! launches the app once, and starts the workers, which restore the
//! launch's client from Redis and search for `--seconds` with `--tasks` concurrent tasks each.
//! It ends with `refreshes: R token-requests: T invalid_grant: G requests: Q failed: F`.

// An example program reports on stdout/stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::error::Error;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use fhir_core::auth::BoxFuture;
use fhir_smart::{
    AppLaunch, HttpClient, LaunchSession, StoreKey, StoredToken, TokenClientOptions, TokenStore,
};
use fhir_smart_redis::RedisTokenStore;
use fhir_testkit::{ClientRegistration, Sandbox};

const CLIENT_ID: &str = "fleet-app";
const REDIRECT: &str = "http://127.0.0.1/fleet/callback";
const SCOPE: &str = "patient/*.rs offline_access";
const USER: &str = "fleet-user";
const LEASE_TTL: Duration = Duration::from_secs(2);

/// The command line: `--processes N --tasks M --seconds S` (and `--worker`, which the
/// fleet passes to the processes it starts).
struct Args {
    processes: usize,
    tasks: usize,
    seconds: u64,
    worker: bool,
    /// A control run: the workers share the store but not its lease (what a store without
    /// one does across processes); refresh tokens are then presented twice.
    without_lease: bool,
    /// How long the token endpoint takes, in milliseconds (real ones take 50 to 300).
    token_latency_ms: u64,
    /// One worker kills itself (`SIGKILL`) the third time it holds the renewal lease, before
    /// its token request: the others must outlive its lease and carry on.
    kill_one: bool,
    /// Instead of the fleet run: `N` timed renewals, each with every task of every process
    /// asking for a token at the same instant (`--tasks` waiters per process).
    waiters_bench: Option<usize>,
    /// (Worker) the Unix time in milliseconds at which every task asks for a token at once.
    waiters_at: Option<u64>,
}

impl Args {
    fn parse() -> Result<Self, Box<dyn Error>> {
        let mut args = Self {
            processes: 8,
            tasks: 50,
            seconds: 30,
            worker: false,
            without_lease: false,
            token_latency_ms: 100,
            kill_one: false,
            waiters_bench: None,
            waiters_at: None,
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
                "--seconds" => args.seconds = value()?.parse()?,
                "--worker" => args.worker = true,
                "--without-lease" => args.without_lease = true,
                "--token-latency-ms" => args.token_latency_ms = value()?.parse()?,
                "--kill-one" => args.kill_one = true,
                "--waiters-bench" => args.waiters_bench = Some(value()?.parse()?),
                "--waiters-at" => args.waiters_at = Some(value()?.parse()?),
                "--help" | "-h" => {
                    println!(
                        "usage: fleet [--processes N] [--tasks M] [--seconds S] [--token-latency-ms L] [--without-lease] [--kill-one] [--waiters-bench RUNS]"
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

/// The app as both the fleet and its workers configure it.
fn app(fhir_base: &str, store: Arc<dyn TokenStore>) -> Result<AppLaunch, Box<dyn Error>> {
    let options = TokenClientOptions::default()
        .http(HttpClient::new().allow_loopback_http(true))
        // Renew as soon as a token expires, so that short-lived tokens make many refreshes.
        .min_token_reuse(Duration::ZERO)
        .refresh_skew(Duration::ZERO)
        // A holder that dies is outlived quickly (token requests take far less).
        .lease_ttl(LEASE_TTL);
    Ok(AppLaunch::new(CLIENT_ID, REDIRECT, SCOPE.parse()?)
        .fhir_base(fhir_base)
        .verify_id_token(false)
        .token_client_options(options)
        .store(store, USER))
}

struct RedisProcess(Child);

impl Drop for RedisProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_redis() -> Result<(String, Option<RedisProcess>), Box<dyn Error>> {
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
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if started.elapsed() > Duration::from_secs(10) {
            return Err("redis-server did not start".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok((
        format!("redis://127.0.0.1:{port}/"),
        Some(RedisProcess(child)),
    ))
}

async fn fleet(args: &Args) -> Result<(), Box<dyn Error>> {
    let (redis_url, _redis) = start_redis()?;
    // The bench renews on purpose: its tokens must not expire on their own meanwhile.
    let ttl = Duration::from_secs(if args.waiters_bench.is_some() { 300 } else { 1 });
    let sandbox = Sandbox::builder()
        .access_token_ttl(ttl)
        .token_latency(Duration::from_millis(args.token_latency_ms))
        .default_patient("pat-fleet")
        .start()
        .await;
    sandbox.register_client(ClientRegistration::public(CLIENT_ID, [REDIRECT]));
    // One launch; its token set goes to Redis, and the workers restore it from there.
    let store = RedisTokenStore::connect(&redis_url)
        .await?
        .namespace("fleet");
    let app = app(&sandbox.fhir_base_url(), Arc::new(store))?;
    let request = app.standalone().await?;
    let callback = sandbox.approve(request.url.as_str()).await?;
    let client = app.complete(request.pending, callback.as_str()).await?;
    let session = serde_json::to_string(&client.launch_session().ok_or("not a launch")?)?;
    let key = client.store_key().clone();
    drop(client);
    if let Some(runs) = args.waiters_bench {
        return waiters_bench(args, runs, &redis_url, &sandbox, &session, &key).await;
    }

    let exe = std::env::current_exe()?;
    let mut workers = Vec::new();
    for index in 0..args.processes {
        workers.push(
            Command::new(&exe)
                .args([
                    "--worker",
                    "--tasks",
                    &args.tasks.to_string(),
                    "--seconds",
                    &args.seconds.to_string(),
                ])
                .args(args.without_lease.then_some("--without-lease"))
                .args((args.kill_one && index == 0).then_some("--kill-one"))
                .env("FLEET_REDIS_URL", &redis_url)
                .env("FLEET_FHIR_BASE", sandbox.fhir_base_url())
                .env("FLEET_SESSION", &session)
                .stdout(Stdio::piped())
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
    let token_requests = sandbox.token_requests();
    let refreshes = token_requests
        .iter()
        .filter(|r| r.grant_type == "refresh_token")
        .count();
    let invalid_grant = token_requests
        .iter()
        .filter(|r| r.grant_type == "refresh_token" && !r.succeeded)
        .count();
    println!(
        "refreshes: {refreshes} token-requests: {} invalid_grant: {invalid_grant} requests: {requests} failed: {failed}",
        token_requests.len()
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
    redis_url: &str,
    sandbox: &Sandbox,
    session: &str,
    key: &StoreKey,
) -> Result<(), Box<dyn Error>> {
    let store = RedisTokenStore::connect(redis_url)
        .await?
        .namespace("fleet");
    let exe = std::env::current_exe()?;
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
        let before = sandbox.token_requests().len();
        // Far enough ahead for every process to start and restore its client.
        let at = unix_millis() + 3000;
        let mut workers = Vec::new();
        for _ in 0..args.processes {
            workers.push(
                Command::new(&exe)
                    .args(["--worker", "--tasks", &args.tasks.to_string()])
                    .args(["--waiters-at", &at.to_string()])
                    .env("FLEET_REDIS_URL", redis_url)
                    .env("FLEET_FHIR_BASE", sandbox.fhir_base_url())
                    .env("FLEET_SESSION", session)
                    .stdout(Stdio::piped())
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
        let refreshes = sandbox.token_requests().len() - before;
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
    let redis_url = std::env::var("FLEET_REDIS_URL")?;
    let fhir_base = std::env::var("FLEET_FHIR_BASE")?;
    let session: LaunchSession = serde_json::from_str(&std::env::var("FLEET_SESSION")?)?;
    let store = RedisTokenStore::connect(&redis_url)
        .await?
        .namespace("fleet");
    let smart = app(&fhir_base, Arc::new(store))?.restore(&session).await?;
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
    let redis_url = std::env::var("FLEET_REDIS_URL")?;
    let fhir_base = std::env::var("FLEET_FHIR_BASE")?;
    let session: LaunchSession = serde_json::from_str(&std::env::var("FLEET_SESSION")?)?;
    let store = RedisTokenStore::connect(&redis_url)
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
    let smart = app(&fhir_base, store)?.restore(&session).await?;
    let client = fhir_core::Client::builder(&fhir_base).auth(smart).build()?;
    let (requests, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
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
                tokio::time::sleep(Duration::from_millis(50)).await;
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
