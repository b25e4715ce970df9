//! Unit tests of the primitive types.

use super::{Date, DateTime, Decimal, Instant, PositiveInt, Precision, Time, UnsignedInt};

#[test]
fn dates_keep_their_precision() {
    assert_eq!("2024".parse::<Date>().unwrap().precision(), Precision::Year);
    assert_eq!(
        "2024-02".parse::<Date>().unwrap().precision(),
        Precision::Month
    );
    assert_eq!(
        "2024-02-29".parse::<Date>().unwrap().precision(),
        Precision::Day
    );
    for bad in [
        "2023-02-29",
        "2024-13",
        "24",
        "2024-1-01",
        "0000",
        "2024-01-01T00:00:00Z",
    ] {
        assert!(bad.parse::<Date>().is_err(), "{bad}");
    }
}

#[test]
fn date_times_need_a_zone_with_a_time() {
    for good in [
        "2015",
        "2015-02-07",
        "2015-02-07T13:28:17.239+02:00",
        "2017-01-01T00:00:00Z",
    ] {
        assert!(good.parse::<DateTime>().is_ok(), "{good}");
    }
    for bad in [
        "2015-02-07T13:28:17",
        "2015-02-07T25:00:00Z",
        "2015-02T10:00:00Z",
        "2015-02-07T13:28:17+15:00",
    ] {
        assert!(bad.parse::<DateTime>().is_err(), "{bad}");
    }
}

#[test]
fn instants_are_complete() {
    assert!("2015-02-07T13:28:17.239+02:00".parse::<Instant>().is_ok());
    assert!("2015-02-07".parse::<Instant>().is_err());
}

#[test]
fn times_have_no_zone() {
    assert!("13:28:17.5".parse::<Time>().is_ok());
    assert!("13:28".parse::<Time>().is_err());
    assert!("13:28:17Z".parse::<Time>().is_err());
}

#[test]
fn decimals_keep_their_text() {
    assert_eq!("1.50".parse::<Decimal>().unwrap().as_str(), "1.50");
    assert_eq!("-0.0e-3".parse::<Decimal>().unwrap().to_string(), "-0.0e-3");
    assert!((Decimal::from(3).to_f64() - 3.0).abs() < f64::EPSILON);
    for bad in ["1.", ".5", "01", "1e", "abc", ""] {
        assert!(bad.parse::<Decimal>().is_err(), "{bad}");
    }
}

#[test]
fn integers_are_range_checked() {
    assert!(PositiveInt::new(0).is_none());
    assert_eq!(PositiveInt::new(1).map(PositiveInt::get), Some(1));
    assert!(UnsignedInt::new(2_147_483_648).is_none());
    assert_eq!(UnsignedInt::new(0).map(UnsignedInt::get), Some(0));
}
