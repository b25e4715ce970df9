//! Conversions to and from chrono, time and jiff: the instant and offset survive both ways,
//! imprecise values and years FHIR cannot write are typed errors.
#![cfg(any(feature = "chrono", feature = "time", feature = "jiff"))]

use crate::primitives::{ConversionError, Date, DateTime, Instant, Precision};

const TEXTS: [&str; 4] = [
    "2024-03-15T10:30:00+05:30",
    "2024-02-29T23:59:59.123456789-14:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59.5+14:00",
];

fn instant(text: &str) -> Instant {
    text.parse().unwrap()
}

fn imprecise(error: ConversionError, needs: Precision) {
    assert!(
        matches!(error, ConversionError::Imprecise { needs: n, .. } if n == needs),
        "{error:?}"
    );
}

#[cfg(feature = "chrono")]
#[test]
fn chrono_round_trips_keep_the_instant_and_offset() {
    for text in TEXTS {
        let theirs = chrono::DateTime::<chrono::FixedOffset>::try_from(&instant(text)).unwrap();
        assert_eq!(theirs, chrono::DateTime::parse_from_rfc3339(text).unwrap());
        let back = Instant::try_from(theirs).unwrap();
        assert_eq!(back, instant(text));
        assert_eq!(back.offset_minutes(), instant(text).offset_minutes());
    }
    let utc = chrono::DateTime::<chrono::Utc>::from_timestamp(0, 0).unwrap();
    assert_eq!(
        Instant::try_from(utc).unwrap().as_str(),
        "1970-01-01T00:00:00Z"
    );
    imprecise(
        chrono::DateTime::<chrono::FixedOffset>::try_from(&"2024-03".parse::<DateTime>().unwrap())
            .unwrap_err(),
        Precision::Second,
    );
    let beyond = chrono::NaiveDate::from_ymd_opt(10_000, 1, 1).unwrap();
    assert!(matches!(
        Date::try_from(beyond),
        Err(ConversionError::OutOfRange { .. })
    ));
    let day = chrono::NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
    assert_eq!(Date::try_from(day).unwrap().as_str(), "2024-02-29");
    assert_eq!(
        chrono::NaiveDate::try_from(&Date::try_from(day).unwrap()).unwrap(),
        day
    );
    imprecise(
        chrono::NaiveDate::try_from(&"2024".parse::<Date>().unwrap()).unwrap_err(),
        Precision::Day,
    );
}

#[cfg(feature = "time")]
#[test]
fn time_round_trips_keep_the_instant_and_offset() {
    use time::format_description::well_known::Rfc3339;
    for text in TEXTS {
        let theirs = time::OffsetDateTime::try_from(&instant(text)).unwrap();
        assert_eq!(theirs, time::OffsetDateTime::parse(text, &Rfc3339).unwrap());
        let back = Instant::try_from(theirs).unwrap();
        assert_eq!(back, instant(text));
        assert_eq!(back.offset_minutes(), instant(text).offset_minutes());
    }
    let day = time::Date::from_calendar_date(2024, time::Month::February, 29).unwrap();
    assert_eq!(Date::try_from(day).unwrap().as_str(), "2024-02-29");
    assert_eq!(
        time::Date::try_from(&Date::try_from(day).unwrap()).unwrap(),
        day
    );
    let before = time::Date::from_calendar_date(0, time::Month::January, 1).unwrap();
    assert!(matches!(
        Date::try_from(before),
        Err(ConversionError::OutOfRange { .. })
    ));
    imprecise(
        time::OffsetDateTime::try_from(&"2024-03-15".parse::<DateTime>().unwrap()).unwrap_err(),
        Precision::Second,
    );
}

#[cfg(feature = "jiff")]
#[test]
fn jiff_round_trips_keep_the_instant() {
    // jiff's timestamps end at 9999-12-30T22:00Z: the last text is out of its range.
    let beyond = jiff::Timestamp::try_from(&instant(TEXTS[3])).unwrap_err();
    assert!(
        matches!(beyond, ConversionError::OutOfRange { .. }),
        "{beyond:?}"
    );
    for text in &TEXTS[..3] {
        let theirs = jiff::Timestamp::try_from(&instant(text)).unwrap();
        assert_eq!(theirs, text.parse::<jiff::Timestamp>().unwrap());
        assert_eq!(Instant::try_from(theirs).unwrap(), instant(text));
    }
    let zoned = "2024-03-15T10:30:00+05:30[+05:30]"
        .parse::<jiff::Zoned>()
        .unwrap();
    let ours = Instant::try_from(&zoned).unwrap();
    assert_eq!(ours, instant("2024-03-15T10:30:00+05:30"));
    assert_eq!(ours.offset_minutes(), Some(330));
    let day = jiff::civil::date(2024, 2, 29);
    assert_eq!(Date::try_from(day).unwrap().as_str(), "2024-02-29");
    assert_eq!(
        jiff::civil::Date::try_from(&Date::try_from(day).unwrap()).unwrap(),
        day
    );
    imprecise(
        jiff::civil::Date::try_from(&"2024-02".parse::<Date>().unwrap()).unwrap_err(),
        Precision::Day,
    );
    let before = "-000001-01-01T00:00:00Z"
        .parse::<jiff::Timestamp>()
        .unwrap();
    assert!(matches!(
        Instant::try_from(before),
        Err(ConversionError::OutOfRange { .. })
    ));
}
