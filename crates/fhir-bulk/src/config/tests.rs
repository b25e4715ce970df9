//! Waits: `Retry-After` clamped, backoff doubling within its bounds.

use std::time::Duration;

use super::BulkConfig;

#[test]
fn retry_after_is_clamped_to_the_range() {
    let config =
        BulkConfig::new().retry_after_range(Duration::from_secs(2), Duration::from_secs(30));
    assert_eq!(config.wait(0, Some(Duration::ZERO)), Duration::from_secs(2));
    assert_eq!(
        config.wait(0, Some(Duration::from_secs(7))),
        Duration::from_secs(7)
    );
    // Epoch milliseconds read as seconds: tens of thousands of years.
    assert_eq!(
        config.wait(0, Some(Duration::from_secs(1_733_550_000_000))),
        Duration::from_secs(30)
    );
}

#[test]
fn backoff_doubles_and_stops_at_its_maximum() {
    let config = BulkConfig::new()
        .retry_after_range(Duration::from_millis(100), Duration::from_secs(30))
        .backoff(Duration::from_millis(500), Duration::from_secs(4));
    let waits: Vec<_> = (0..6).map(|retry| config.wait(retry, None)).collect();
    assert_eq!(
        waits,
        [500, 1000, 2000, 4000, 4000, 4000].map(Duration::from_millis)
    );
    assert_eq!(config.wait(u32::MAX, None), Duration::from_secs(4));
}
