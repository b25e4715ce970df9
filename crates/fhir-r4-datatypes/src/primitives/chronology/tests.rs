//! Chronological order, the calendar arithmetic and the system clock, judged where possible by
//! the `time` crate's independent calendar.

use std::cmp::Ordering;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::primitives::{Date, DateTime, Instant, Time};

fn dt(text: &str) -> DateTime {
    text.parse().unwrap()
}

fn hash_of<T: Hash>(value: &T) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

#[test]
fn offsets_are_compared_on_the_utc_line_not_as_text() {
    // 10:00+05:00 is 05:00Z: before 06:00Z, though its text sorts after.
    assert!(dt("2024-03-15T10:00:00+05:00") < dt("2024-03-15T06:00:00Z"));
    assert!(dt("2024-03-15T00:30:00-14:00") > dt("2024-03-15T14:00:00Z"));
    let mut instants: Vec<Instant> = [
        "2024-03-15T10:00:00+05:00",
        "2024-03-15T06:00:00Z",
        "2024-03-15T05:59:59.999Z",
    ]
    .iter()
    .map(|t| t.parse().unwrap())
    .collect();
    instants.sort();
    let texts: Vec<&str> = instants.iter().map(Instant::as_str).collect();
    assert_eq!(
        texts,
        [
            "2024-03-15T10:00:00+05:00",
            "2024-03-15T05:59:59.999Z",
            "2024-03-15T06:00:00Z"
        ]
    );
}

#[test]
fn the_same_instant_in_two_offsets_is_equal_and_hashes_alike() {
    let (a, b) = (
        dt("2024-03-15T10:00:00+01:00"),
        dt("2024-03-15T09:00:00.000Z"),
    );
    assert_eq!(a, b);
    assert_eq!(a.partial_cmp(&b), Some(Ordering::Equal));
    assert_eq!(hash_of(&a), hash_of(&b));
    // The text is kept as written.
    assert_eq!(a.as_str(), "2024-03-15T10:00:00+01:00");
    assert_ne!(dt("2024-03-15T09:00:00Z"), dt("2024-03-15T09:00:00.001Z"));
}

#[test]
fn fractions_of_any_length_compare_exactly() {
    assert!(dt("2024-01-01T00:00:00.05Z") < dt("2024-01-01T00:00:00.5Z"));
    assert!(dt("2024-01-01T00:00:00.1Z") < dt("2024-01-01T00:00:00.1000000000001Z"));
    assert_eq!(
        dt("2024-01-01T00:00:00.5Z"),
        dt("2024-01-01T00:00:00.50000Z")
    );
    assert!(dt("2024-01-01T00:00:00Z") < dt("2024-01-01T00:00:00.000000000001Z"));
}

#[test]
fn partial_dates_are_intervals() {
    assert_eq!(dt("2024").partial_cmp(&dt("2024-03")), None);
    assert_eq!(dt("2024-03").partial_cmp(&dt("2024-03-31")), None);
    assert!(dt("2024") < dt("2025-01"));
    assert!(dt("2024-12") < dt("2025"));
    assert!(dt("2024-02-29") < dt("2024-03"));
    assert_eq!(dt("2024-03"), dt("2024-03"));
    assert_ne!(dt("2024"), dt("2024-01"));
    let (a, b): (Date, Date) = ("2023".parse().unwrap(), "2023-12-31".parse().unwrap());
    assert_eq!(a.partial_cmp(&b), None);
    assert!(b < "2024".parse::<Date>().unwrap());
}

#[test]
fn a_date_without_zone_is_ordered_against_a_point_only_outside_every_zone() {
    let day = dt("2024-03-15");
    assert_eq!(day.partial_cmp(&dt("2024-03-15T10:00:00Z")), None);
    // The day ends at 2024-03-16T00:00 local; in the zone -14:00 that is 14:00Z.
    assert_eq!(day.partial_cmp(&dt("2024-03-16T13:59:59Z")), None);
    assert_eq!(
        day.partial_cmp(&dt("2024-03-16T14:00:00Z")),
        Some(Ordering::Less)
    );
    // It starts at 00:00 local; in the zone +14:00 that is the 14th at 10:00Z.
    assert_eq!(day.partial_cmp(&dt("2024-03-14T10:00:00Z")), None);
    assert_eq!(
        dt("2024-03-14T09:59:59Z").partial_cmp(&day),
        Some(Ordering::Less)
    );
    assert_ne!(day, dt("2024-03-15T00:00:00Z"));
}

#[test]
fn times_of_day_order_by_value() {
    let t = |text: &str| text.parse::<Time>().unwrap();
    assert!(t("09:59:59.999") < t("10:00:00"));
    assert!(t("10:00:00.05") < t("10:00:00.5"));
    assert_eq!(t("10:00:00.5"), t("10:00:00.50"));
    assert_eq!(hash_of(&t("10:00:00.5")), hash_of(&t("10:00:00.50")));
    assert_eq!(t("23:59:60").hms(), (23, 59, 60));
}

#[test]
fn accessors_read_the_fields() {
    let value = dt("2024-03-15T10:30:05.5+05:30");
    assert_eq!(
        (value.year(), value.month(), value.day()),
        (2024, Some(3), Some(15))
    );
    assert_eq!(value.hms(), Some((10, 30, 5)));
    assert_eq!(value.offset_minutes(), Some(330));
    assert_eq!(dt("2024-03-15T10:30:05-03:00").offset_minutes(), Some(-180));
    let year = dt("1999");
    assert_eq!(
        (year.year(), year.month(), year.day(), year.hms()),
        (1999, None, None, None)
    );
    assert!(dt("2024-03").to_instant().is_none());
    assert_eq!(value.to_instant().unwrap().as_str(), value.as_str());
}

/// Day arithmetic against `time`'s calendar over the whole range FHIR can write.
#[test]
fn day_arithmetic_matches_an_independent_calendar() {
    use super::super::calendar::{civil_from_days, days_from_civil};
    let first = time::Date::from_calendar_date(1, time::Month::January, 1).unwrap();
    let last = time::Date::from_calendar_date(9999, time::Month::December, 31).unwrap();
    let epoch = time::Date::from_calendar_date(1970, time::Month::January, 1).unwrap();
    let mut day = first;
    let mut checked = 0;
    while day <= last {
        let days = i64::from((day - epoch).whole_days() as i32);
        let expected = (
            i64::from(day.year()),
            u32::from(u8::from(day.month())),
            u32::from(day.day()),
        );
        assert_eq!(civil_from_days(days), expected, "{day}");
        assert_eq!(
            days_from_civil(expected.0, expected.1, expected.2),
            days,
            "{day}"
        );
        checked += 1;
        // Every day near the edges and leap days, a prime stride elsewhere.
        let stride = if day.year() < 3
            || day.year() > 9997
            || (day.month() == time::Month::February && day.day() >= 28)
        {
            1
        } else {
            13
        };
        day = match day.checked_add(time::Duration::days(stride)) {
            Some(next) => next,
            None => break,
        };
    }
    assert!(checked > 280_000, "{checked}");
}

#[test]
fn system_time_round_trips_to_the_nanosecond() {
    let cases = [
        (UNIX_EPOCH, "1970-01-01T00:00:00Z"),
        (
            UNIX_EPOCH + Duration::from_millis(1500),
            "1970-01-01T00:00:01.5Z",
        ),
        (
            UNIX_EPOCH - Duration::from_millis(250),
            "1969-12-31T23:59:59.75Z",
        ),
        (
            UNIX_EPOCH + Duration::new(1_709_164_800, 123_456_789),
            "2024-02-29T00:00:00.123456789Z",
        ),
        (
            UNIX_EPOCH - Duration::from_secs(62_135_596_800),
            "0001-01-01T00:00:00Z",
        ),
    ];
    for (time, text) in cases {
        let instant = Instant::from(time);
        assert_eq!(instant.as_str(), text);
        assert_eq!(instant.to_system_time(), Some(time), "{text}");
        assert_eq!(DateTime::from(time).as_str(), text);
    }
    // Judged by `time`'s formatter, for a spread of instants.
    for step in 0..2_000i64 {
        let seconds = -62_135_596_800 + step * 126_717_949_331 % 315_537_897_600;
        let nanos = u32::try_from(step * 7_919 % 1_000_000_000).unwrap();
        let theirs = time::OffsetDateTime::from_unix_timestamp_nanos(
            i128::from(seconds) * 1_000_000_000 + i128::from(nanos),
        )
        .unwrap();
        let ours = Instant::from(if seconds >= 0 {
            UNIX_EPOCH + Duration::new(seconds.unsigned_abs(), nanos)
        } else {
            UNIX_EPOCH - Duration::from_secs(seconds.unsigned_abs())
                + Duration::from_nanos(u64::from(nanos))
        });
        let parsed = time::OffsetDateTime::parse(
            ours.as_str(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        assert_eq!(parsed, theirs, "{}", ours.as_str());
    }
}

#[test]
fn clock_readings_fhir_cannot_write_saturate() {
    let far = UNIX_EPOCH + Duration::from_secs(400_000_000_000);
    assert_eq!(
        Instant::from(far).as_str(),
        "9999-12-31T23:59:59.999999999Z"
    );
    let before = UNIX_EPOCH - Duration::from_secs(70_000_000_000);
    assert_eq!(Instant::from(before).as_str(), "0001-01-01T00:00:00Z");
}

#[test]
fn now_is_an_instant_in_utc_that_moves_forward() {
    let a = Instant::now();
    let b = DateTime::now();
    assert!(a.as_str().ends_with('Z'));
    assert!(DateTime::from(a.clone()) <= b);
    let back = a.to_system_time().unwrap();
    assert!(SystemTime::now().duration_since(back).unwrap() < Duration::from_secs(60));
    assert!(dt("2024-03").to_system_time().is_none());
}
