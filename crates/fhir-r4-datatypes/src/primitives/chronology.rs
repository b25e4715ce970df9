//! Chronological comparison of dates and times, by what they mean rather than their text.
//!
//! A value with a time and an offset is a point on the UTC time line. A value without a time
//! (`2024`, `2024-03`, `2024-03-15`) is an interval of local time in an unknown time zone: two
//! such values compare by the calendar (they share the reader's zone), and one compares with a
//! point only when it lies before or after the whole interval in every zone (±14 hours). Values
//! whose intervals overlap, such as `2024` and `2024-03`, are incomparable.

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};

use super::calendar::{self, Fields, TimeOfDay};

/// The widest offset from UTC the grammar allows, in seconds.
const MAX_OFFSET_SECONDS: i64 = 14 * 3600;

/// Where a date or date-time sits in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Span<'a> {
    /// A point: seconds since 1970-01-01T00:00:00Z and the fractional digits.
    Point { seconds: i64, fraction: &'a str },
    /// Local time `[start, end)` in seconds since 1970-01-01T00:00:00, zone unknown.
    Local { start: i64, end: i64 },
}

impl Span<'_> {
    /// The span of text the `date` / `dateTime` / `instant` grammar accepted.
    pub(crate) fn of(text: &str) -> Option<Span<'_>> {
        calendar::fields(text).map(span)
    }
}

fn span(fields: Fields<'_>) -> Span<'_> {
    let year = i64::from(fields.year);
    let day_start =
        |year: i64, month: u32, day: u32| calendar::days_from_civil(year, month, day) * 86_400;
    match (fields.month, fields.day, fields.time) {
        (Some(month), Some(day), Some((time, offset))) => Span::Point {
            seconds: day_start(year, month.into(), day.into())
                + i64::from(time.hour) * 3600
                + i64::from(time.minute) * 60
                + i64::from(time.second)
                - i64::from(offset) * 60,
            fraction: time.fraction,
        },
        (Some(month), Some(day), None) => {
            let start = day_start(year, month.into(), day.into());
            Span::Local {
                start,
                end: start + 86_400,
            }
        }
        (Some(month), None, _) => {
            let (next_year, next_month) = if month == 12 {
                (year + 1, 1)
            } else {
                (year, u32::from(month) + 1)
            };
            Span::Local {
                start: day_start(year, month.into(), 1),
                end: day_start(next_year, next_month, 1),
            }
        }
        _ => Span::Local {
            start: day_start(year, 1, 1),
            end: day_start(year + 1, 1, 1),
        },
    }
}

/// Whether point `(seconds, fraction)` is before, after or inside `[start, end)` of local time
/// in every possible zone.
fn point_against_local(seconds: i64, start: i64, end: i64) -> Option<Ordering> {
    if seconds < start - MAX_OFFSET_SECONDS {
        Some(Ordering::Less)
    } else if seconds >= end + MAX_OFFSET_SECONDS {
        Some(Ordering::Greater)
    } else {
        None
    }
}

/// The chronological order of two spans; `None` when precision or an unknown zone leaves it open.
pub(crate) fn compare(a: Span<'_>, b: Span<'_>) -> Option<Ordering> {
    match (a, b) {
        (
            Span::Point { seconds, fraction },
            Span::Point {
                seconds: other,
                fraction: other_fraction,
            },
        ) => Some(
            seconds
                .cmp(&other)
                .then_with(|| fraction.cmp(other_fraction)),
        ),
        (Span::Local { start, end }, Span::Local { start: s2, end: e2 }) => {
            if (start, end) == (s2, e2) {
                Some(Ordering::Equal)
            } else if end <= s2 {
                Some(Ordering::Less)
            } else if e2 <= start {
                Some(Ordering::Greater)
            } else {
                None
            }
        }
        (Span::Point { seconds, .. }, Span::Local { start, end }) => {
            point_against_local(seconds, start, end)
        }
        (Span::Local { start, end }, Span::Point { seconds, .. }) => {
            point_against_local(seconds, start, end).map(Ordering::reverse)
        }
    }
}

/// Hashes a span consistently with [`compare`] returning `Equal`.
pub(crate) fn hash<H: Hasher>(span: Option<Span<'_>>, text: &str, state: &mut H) {
    match span {
        Some(Span::Point { seconds, fraction }) => {
            0u8.hash(state);
            seconds.hash(state);
            fraction.hash(state);
        }
        Some(Span::Local { start, end }) => {
            1u8.hash(state);
            start.hash(state);
            end.hash(state);
        }
        None => text.hash(state),
    }
}

/// The order of two times of day (the grammar accepted both).
pub(crate) fn compare_times(a: &str, b: &str) -> Ordering {
    match (calendar::time_of_day(a), calendar::time_of_day(b)) {
        (Some((a, _)), Some((b, _))) => a.cmp(&b),
        // Unreachable for validated values; fall back on the text rather than panic.
        _ => a.cmp(b),
    }
}

/// The time of day of validated `time` text, for hashing consistently with [`compare_times`].
pub(crate) fn time_key(text: &str) -> Option<TimeOfDay<'_>> {
    calendar::time_of_day(text).map(|(time, _)| time)
}

#[cfg(test)]
mod tests;
