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

#[test]
fn decimals_order_by_exact_value_then_text() {
    let d = |text: &str| text.parse::<Decimal>().unwrap();
    // The derived order compared text: "10" < "9".
    assert!(d("9") < d("10"));
    assert!(d("-10") < d("-9"));
    assert!(d("-0.5") < d("0"));
    assert!(d("0.09") < d("0.1"));
    assert!(d("1e2") > d("99.999999999999999999999"));
    assert!(d("12345678901234567890.123456789") < d("12345678901234567890.12345679"));
    assert!(d("1e-999999999999999999999999") > d("0"));
    assert!(d("-1e999999999999999999999999") < d("-1e99"));
    assert!(d("1.5").same_value(&d("1.50")));
    assert!(d("-0").same_value(&d("0.0e5")));
    assert!(d("100").same_value(&d("1e2")));
    assert!(!d("1.5").same_value(&d("1.51")));
    // Equal values differ as text, and equality is of the text.
    assert_ne!(d("1.5"), d("1.50"));
    assert!(d("1.5") < d("1.50") && d("1.50") < d("1.6"));
}

#[test]
fn decimals_from_numbers_are_exact() {
    assert_eq!(Decimal::from(u64::MAX).as_str(), "18446744073709551615");
    assert_eq!(Decimal::from(i64::MIN).as_str(), "-9223372036854775808");
    assert_eq!(Decimal::from(7u8).as_str(), "7");
    for (value, text) in [
        (0.1, "0.1"),
        (72.5, "72.5"),
        (1e-9, "0.000000001"),
        (-0.0, "-0"),
        (1e21, "1000000000000000000000"),
    ] {
        let decimal = Decimal::try_from(value).unwrap();
        assert_eq!(decimal.as_str(), text);
        assert_eq!(decimal.to_f64().to_bits(), value.to_bits(), "{text}");
    }
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        assert!(Decimal::try_from(bad).is_err());
    }
    assert_eq!(Decimal::try_from("1.50").unwrap().as_str(), "1.50");
}
