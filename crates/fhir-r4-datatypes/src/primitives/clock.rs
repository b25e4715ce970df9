//! Between the system clock and FHIR: `Instant::now()`, `DateTime::now()`, `From<SystemTime>`
//! (UTC, exact to the nanosecond, trailing zeros of the fraction dropped) and back.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::calendar;
use super::chronology::Span;
use super::datetime::{DateTime, Instant};

/// Seconds from 1970 to 0001-01-01T00:00:00Z and to 10000-01-01T00:00:00Z: the years FHIR
/// can write.
const FIRST_SECOND: i64 = -62_135_596_800;
const END_SECOND: i64 = 253_402_300_800;

/// `time` as `YYYY-MM-DDThh:mm:ss[.fffffffff]Z`, saturated to the years 0001–9999.
fn utc_text(time: SystemTime) -> String {
    let (seconds, nanos) = match time.duration_since(UNIX_EPOCH) {
        Ok(after) => (
            i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
            after.subsec_nanos(),
        ),
        Err(before) => {
            let before = before.duration();
            let seconds = i64::try_from(before.as_secs()).unwrap_or(i64::MAX);
            match before.subsec_nanos() {
                0 => (-seconds, 0),
                nanos => (-seconds - 1, 1_000_000_000 - nanos),
            }
        }
    };
    let (seconds, nanos) = if seconds < FIRST_SECOND {
        (FIRST_SECOND, 0)
    } else if seconds >= END_SECOND {
        (END_SECOND - 1, 999_999_999)
    } else {
        (seconds, nanos)
    };
    let (year, month, day) = calendar::civil_from_days(seconds.div_euclid(86_400));
    let of_day = seconds.rem_euclid(86_400);
    let mut text = format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60
    );
    if nanos > 0 {
        let fraction = format!("{nanos:09}");
        text.push('.');
        text.push_str(fraction.trim_end_matches('0'));
    }
    text.push('Z');
    text
}

/// The system time of a point span (fractional digits past the nanosecond are dropped).
fn system_time(span: Option<Span<'_>>) -> Option<SystemTime> {
    let Some(Span::Point { seconds, fraction }) = span else {
        return None;
    };
    let nanos: u32 = format!("{:0<9}", fraction.get(..9).unwrap_or(fraction))
        .parse()
        .ok()?;
    let whole = Duration::from_secs(seconds.unsigned_abs());
    let at = if seconds >= 0 {
        UNIX_EPOCH.checked_add(whole)?
    } else {
        UNIX_EPOCH.checked_sub(whole)?
    };
    at.checked_add(Duration::from_nanos(u64::from(nanos)))
}

impl From<SystemTime> for Instant {
    /// The instant in UTC, exact to the nanosecond. A clock reading outside the years
    /// 0001–9999, which FHIR cannot write, saturates to the first or last representable instant.
    fn from(time: SystemTime) -> Self {
        Instant::from_valid(utc_text(time))
    }
}

impl From<SystemTime> for DateTime {
    /// As [`Instant`]'s conversion: UTC, to the nanosecond.
    fn from(time: SystemTime) -> Self {
        DateTime::from(Instant::from(time))
    }
}

impl Instant {
    /// The current time, in UTC.
    ///
    /// ```
    /// use fhir_r4_datatypes::primitives::Instant;
    ///
    /// let before = Instant::now();
    /// assert!(before.as_str().ends_with('Z'));
    /// assert!(before <= Instant::now());
    /// ```
    pub fn now() -> Self {
        Self::from(SystemTime::now())
    }

    /// The instant as a [`SystemTime`] (fractional digits past the nanosecond dropped); `None`
    /// only where the platform's `SystemTime` cannot hold it.
    pub fn to_system_time(&self) -> Option<SystemTime> {
        system_time(Span::of(self.as_str()))
    }
}

impl DateTime {
    /// The current time, in UTC, to the nanosecond.
    pub fn now() -> Self {
        Self::from(SystemTime::now())
    }

    /// The value as a [`SystemTime`] when it has a time (and so a zone); `None` for a partial
    /// date, which is not one point in time.
    pub fn to_system_time(&self) -> Option<SystemTime> {
        system_time(Span::of(self.as_str()))
    }
}
