use super::files::range_start;
use super::params::utc_instant;

#[test]
fn instants_are_compared_in_utc_only() {
    assert_eq!(
        utc_instant("_since", "2025-01-01T00:00:05.123Z").ok(),
        Some("2025-01-01T00:00:05Z".to_owned())
    );
    assert!(utc_instant("_since", "2025-01-01T00:00:05+00:00").is_ok());
    assert!(utc_instant("_since", "2025-01-01T00:00:05+02:00").is_err());
    assert!(utc_instant("_since", "2025-01-01").is_err());
    assert!(utc_instant("_since", "2025-01-01T00:00:0xZ").is_err());
}

#[test]
fn ranges_start_where_asked() {
    assert_eq!(range_start("bytes=10-"), Some(10));
    assert_eq!(range_start("bytes=0-99"), Some(0));
    assert_eq!(range_start("items=1-"), None);
    assert_eq!(range_start("bytes=-5"), None);
}
