use std::time::{Duration, UNIX_EPOCH};

use http::HeaderValue;

use super::*;

fn headers(value: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::RETRY_AFTER,
        HeaderValue::from_str(value).unwrap(),
    );
    headers
}

#[test]
fn retry_after_in_seconds() {
    assert_eq!(
        parse_retry_after(&headers("120"), SystemTime::now()),
        Some(Duration::from_secs(120))
    );
    assert_eq!(
        parse_retry_after(&headers(" 0 "), SystemTime::now()),
        Some(Duration::ZERO)
    );
}

#[test]
fn retry_after_as_http_date() {
    // Sun, 06 Nov 1994 08:49:37 GMT is 784111777 seconds after the epoch.
    let now = UNIX_EPOCH + Duration::from_secs(784_111_777 - 30);
    let wait = parse_retry_after(&headers("Sun, 06 Nov 1994 08:49:37 GMT"), now);
    assert_eq!(wait, Some(Duration::from_secs(30)));
    let later = UNIX_EPOCH + Duration::from_secs(784_111_777 + 30);
    let wait = parse_retry_after(&headers("Sun, 06 Nov 1994 08:49:37 GMT"), later);
    assert_eq!(wait, Some(Duration::ZERO), "a date in the past means now");
}

#[test]
fn malformed_retry_after_is_ignored() {
    assert_eq!(parse_retry_after(&headers("soon"), SystemTime::now()), None);
    assert_eq!(parse_retry_after(&headers("-5"), SystemTime::now()), None);
    assert_eq!(
        parse_retry_after(&HeaderMap::new(), SystemTime::now()),
        None
    );
}

#[test]
fn backoff_doubles_and_is_capped_without_jitter() {
    let policy = RetryPolicy::default()
        .jitter(false)
        .initial_backoff(Duration::from_millis(100))
        .max_backoff(Duration::from_millis(1000));
    let delays: Vec<u128> = (0..6)
        .map(|retry| policy.backoff(retry).as_millis())
        .collect();
    assert_eq!(delays, [100, 200, 400, 800, 1000, 1000]);
    assert_eq!(policy.backoff(u32::MAX), Duration::from_millis(1000));
}

#[test]
fn jittered_backoff_stays_within_the_exponential_bound() {
    let policy = RetryPolicy::default()
        .initial_backoff(Duration::from_millis(100))
        .max_backoff(Duration::from_secs(5));
    let mut distinct = std::collections::HashSet::new();
    for _ in 0..200 {
        let delay = policy.backoff(2);
        assert!(delay <= Duration::from_millis(400), "{delay:?}");
        distinct.insert(delay);
    }
    assert!(distinct.len() > 10, "jitter should spread the delays");
}

#[test]
fn retry_after_beyond_the_cap_ends_retries() {
    let policy = RetryPolicy::default().max_retry_after(Duration::from_secs(10));
    assert_eq!(
        policy.delay(0, Some(Duration::from_secs(3))),
        Some(Duration::from_secs(3))
    );
    assert_eq!(policy.delay(0, Some(Duration::from_secs(11))), None);
    assert!(policy.delay(0, None).is_some());
}
