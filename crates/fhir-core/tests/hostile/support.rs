//! What the hostile tests share: a timer whose waits take no time but count against the
//! deadline, peak-memory measurement, captured tracing output, and client builders.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fhir_core::retry::Timer;
use fhir_core::{Client, ClientBuilder};
use peakmem_alloc::PeakMemAllocTrait as _;

use crate::GLOBAL;

/// A timer that records each sleep, returns at once, and advances its monotonic clock by the
/// time slept, so that `Retry-After` waits count against the call deadline.
#[derive(Debug, Clone)]
pub struct VirtualTimer {
    start: Instant,
    slept: Arc<Mutex<Vec<Duration>>>,
}

impl Default for VirtualTimer {
    fn default() -> Self {
        Self {
            start: Instant::now(),
            slept: Arc::default(),
        }
    }
}

impl VirtualTimer {
    pub fn sleeps(&self) -> Vec<Duration> {
        self.slept.lock().unwrap().clone()
    }
}

impl Timer for VirtualTimer {
    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_704_067_200)
    }

    fn sleep(&self, duration: Duration) -> fhir_core::auth::BoxFuture<'static, ()> {
        self.slept.lock().unwrap().push(duration);
        Box::pin(async {})
    }

    fn monotonic(&self) -> Instant {
        let slept: Duration = self.slept.lock().unwrap().iter().sum();
        // Real time passes too (the attempts themselves).
        self.start + slept + self.start.elapsed()
    }
}

/// A builder for `base` with a virtual timer.
pub fn builder(base: &str, timer: &VirtualTimer) -> ClientBuilder {
    Client::builder(base).timer(timer.clone())
}

/// The tests of this binary run one at a time (each takes this lock first), so that a peak
/// measured by one is not another's allocation; they are quick, and the hostile servers
/// need no second core.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Waits for the other tests of this binary to finish; hold the guard for the whole test.
pub async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    SERIAL.lock().await
}

/// Runs `work` and returns its result and the peak of live heap bytes above what was
/// allocated when it started. Call it while holding [`serial`].
pub async fn peak_heap<F: std::future::Future>(work: F) -> (F::Output, usize) {
    GLOBAL.reset_peak_memory();
    let before = GLOBAL.get_peak_memory();
    let output = work.await;
    let peak = GLOBAL.get_peak_memory().saturating_sub(before);
    (output, peak)
}

pub const MIB: usize = 1 << 20;

/// Collects what `tracing` writes (every level) while `work` runs on this thread.
pub async fn captured_tracing<F: std::future::Future>(work: F) -> (F::Output, String) {
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Sink {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let sink = Sink::default();
    let writer = sink.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let output = {
        let _guard = tracing::subscriber::set_default(subscriber);
        work.await
    };
    let text = String::from_utf8_lossy(&sink.0.lock().unwrap()).into_owned();
    (output, text)
}

/// Awaits `work`, failing the test if it takes more than 20 s: the traps below hang forever
/// on a client without bounds, and a hang must fail, not stall the suite.
pub async fn bounded<F: std::future::Future>(work: F) -> F::Output {
    match tokio::time::timeout(Duration::from_secs(20), work).await {
        Ok(output) => output,
        Err(_) => panic!("the call did not end within 20 s"),
    }
}
