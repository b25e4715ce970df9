//! A `redis-server` of the test's own (no persistence, a free loopback port), stopped when
//! dropped; and token sets with a canary token.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fhir_smart::StoredToken;
use fhir_smart::token::TokenResponse;

/// The canary access token: it must never appear in Redis in the clear when encrypted, nor
/// in any error.
pub const ACCESS: &str = "canary-access-Rq81Zt";
/// The canary refresh token.
pub const REFRESH: &str = "canary-refresh-Wm27Kd";

pub struct RedisServer {
    child: Child,
    pub port: u16,
}

impl RedisServer {
    /// Starts `redis-server` on a free port and waits until it answers.
    pub fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Self::start_on(port)
    }

    /// Starts `redis-server` on `port` (to bring one back where another stopped).
    pub fn start_on(port: u16) -> Self {
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
            .expect("redis-server must be installed (.ci/run installs it from Debian)");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { child, port }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Stops the server (a crash, as far as clients can tell).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// A raw connection, to look at what is stored as another client would.
    pub async fn raw(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A token set with the canary tokens, `version` and an access token living `expires_in`.
pub fn token_set(version: u64, expires_in: u64, refresh: bool) -> StoredToken {
    let mut doc = serde_json::json!({
        "access_token": ACCESS, "token_type": "Bearer", "expires_in": expires_in,
        "scope": "system/*.rs",
    });
    if refresh {
        doc["refresh_token"] = REFRESH.into();
    }
    let response = TokenResponse::from_json(doc.to_string().as_bytes()).unwrap();
    let mut set = StoredToken::new(response, Duration::from_secs(300));
    set.version = version;
    set
}

pub fn key(subject: &str) -> fhir_smart::StoreKey {
    fhir_smart::StoreKey::for_user(
        &url::Url::parse("https://auth.example.org/token").unwrap(),
        "client",
        "system/*.rs",
        subject,
    )
}
