//! The calendar fields of a date, date-time, instant or time, read from text the grammar has
//! already accepted, and the day arithmetic between civil dates and days since 1970-01-01
//! (Howard Hinnant's `days_from_civil` / `civil_from_days`, exact over the whole proleptic
//! Gregorian calendar).

/// A time of day as written: the fraction keeps its digits (trailing zeros dropped), so any
/// number of fractional digits compares exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct TimeOfDay<'a> {
    pub(crate) hour: u8,
    pub(crate) minute: u8,
    pub(crate) second: u8,
    /// Fractional digits without trailing zeros (`""` for none). Lexicographic order of these
    /// strings is numeric order of the fractions.
    pub(crate) fraction: &'a str,
}

/// The fields of a date or date-time: year always, month and day when given, a time of day and
/// an offset from UTC (in minutes) only together.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields<'a> {
    pub(crate) year: u16,
    pub(crate) month: Option<u8>,
    pub(crate) day: Option<u8>,
    pub(crate) time: Option<(TimeOfDay<'a>, i32)>,
}

fn number(text: &str, from: usize, len: usize) -> Option<u32> {
    text.get(from..from + len)?.parse().ok()
}

/// `hh:mm:ss(.f+)?` at the start of `text`, and the rest of the text after it.
pub(crate) fn time_of_day(text: &str) -> Option<(TimeOfDay<'_>, &str)> {
    let hour = u8::try_from(number(text, 0, 2)?).ok()?;
    let minute = u8::try_from(number(text, 3, 2)?).ok()?;
    let second = u8::try_from(number(text, 6, 2)?).ok()?;
    let rest = text.get(8..)?;
    let (fraction, rest) = match rest.strip_prefix('.') {
        Some(after) => {
            let digits = after.bytes().take_while(u8::is_ascii_digit).count();
            (after.get(..digits)?, after.get(digits..)?)
        }
        None => ("", rest),
    };
    let time = TimeOfDay {
        hour,
        minute,
        second,
        fraction: fraction.trim_end_matches('0'),
    };
    Some((time, rest))
}

/// `Z` or `±hh:mm` as minutes east of UTC.
fn offset(zone: &str) -> Option<i32> {
    if zone == "Z" {
        return Some(0);
    }
    let sign = match zone.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let hours = i32::try_from(number(zone, 1, 2)?).ok()?;
    let minutes = i32::try_from(number(zone, 4, 2)?).ok()?;
    Some(sign * (hours * 60 + minutes))
}

/// The fields of a `date`, `dateTime` or `instant` the grammar accepted; `None` otherwise.
pub(crate) fn fields(text: &str) -> Option<Fields<'_>> {
    let year = u16::try_from(number(text, 0, 4)?).ok()?;
    let month = if text.len() > 4 {
        Some(u8::try_from(number(text, 5, 2)?).ok()?)
    } else {
        None
    };
    let day = if text.len() > 7 {
        Some(u8::try_from(number(text, 8, 2)?).ok()?)
    } else {
        None
    };
    let time = match text.get(10..) {
        Some(rest) if !rest.is_empty() => {
            let (time, zone) = time_of_day(rest.strip_prefix('T')?)?;
            Some((time, offset(zone)?))
        }
        _ => None,
    };
    Some(Fields {
        year,
        month,
        day,
        time,
    })
}

/// Days from 1970-01-01 to `year-month-day` (negative before).
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let (month, day) = (i64::from(month), i64::from(day));
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The civil date `days` after 1970-01-01.
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // Both are in range by construction (1..=31, 1..=12).
    (year, month as u32, day as u32)
}
