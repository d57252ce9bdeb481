//! Timestamps: RFC 3339 (RFC 5424, rsyslog's high-precision formats) and BSD `Mmm dd
//! hh:mm:ss` (RFC 3164), whose missing year and zone come from the [`SyslogContext`].

use jiff::Timestamp;
use jiff::civil::{Date, DateTime, Time};

use super::{FUTURE_TOLERANCE, SyslogContext};

/// Parses an RFC 3339 timestamp token (`2026-11-30T22:00:01.123456+01:00`, `...Z`). A
/// timestamp without an offset is read in the context's zone. Leap seconds (`:60`) are
/// clamped to `:59`.
pub(super) fn parse_rfc3339(token: &[u8], ctx: &SyslogContext) -> Option<Timestamp> {
    if !looks_like_rfc3339(token) {
        return None;
    }
    let text = std::str::from_utf8(token).ok()?;
    if let Ok(timestamp) = text.parse::<Timestamp>() {
        return Some(timestamp);
    }
    // No offset: a civil time in the context's zone. Refuse anything with an offset that the
    // first parse rejected, rather than read it as civil time and drop the offset.
    let time_part = &text[10..];
    if time_part.contains(['Z', 'z', '+']) || time_part[1..].contains('-') {
        return None;
    }
    let datetime = text.parse::<DateTime>().ok()?;
    ctx.time_zone.to_ambiguous_timestamp(datetime).compatible().ok()
}

/// `YYYY-MM-DDT` at least: cheap to test before handing the token to jiff.
fn looks_like_rfc3339(token: &[u8]) -> bool {
    token.len() >= 19
        && token[..4].iter().all(u8::is_ascii_digit)
        && token[4] == b'-'
        && token[5..7].iter().all(u8::is_ascii_digit)
        && token[7] == b'-'
        && token[8..10].iter().all(u8::is_ascii_digit)
        && matches!(token[10], b'T' | b't')
}

/// The fields of a BSD timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct BsdTime {
    month: i8,
    day: i8,
    /// Cisco ASA and IOS (`service timestamps log datetime year`) write one.
    year: Option<i16>,
    hour: i8,
    minute: i8,
    second: i8,
    subsec_nanosecond: i32,
}

const MONTHS: [&[u8; 3]; 12] = [
    b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov", b"dec",
];

/// Parses `Mmm dd hh:mm:ss` at the start of `bytes`, and the variants: day padded with a space
/// or not at all (`Jun  4`, `Jun 4`), fractional seconds (`00:05:25.539`), a year before the
/// time (`Nov 30 2026 22:00:01`). Returns the fields and the rest after them.
pub(super) fn parse_bsd(bytes: &[u8]) -> Option<(BsdTime, &[u8])> {
    let month_name = bytes.get(..3)?;
    let month = MONTHS.iter().position(|name| month_name.eq_ignore_ascii_case(&name[..]))?;
    let rest = bytes.get(3..)?.strip_prefix(b" ")?;
    let rest = rest.strip_prefix(b" ").unwrap_or(rest);
    let (day, rest) = digits(rest, 1, 2)?;
    let mut rest = rest.strip_prefix(b" ")?;
    let mut year = None;
    if let Some((value, after)) = digits(rest, 4, 4)
        && let Some(after) = after.strip_prefix(b" ")
    {
        year = Some(i16::try_from(value).ok()?);
        rest = after;
    }
    let (hour, rest) = digits(rest, 2, 2)?;
    let (minute, rest) = digits(rest.strip_prefix(b":")?, 2, 2)?;
    let (second, mut rest) = digits(rest.strip_prefix(b":")?, 2, 2)?;
    let mut subsec_nanosecond = 0;
    if let Some(after_dot) = rest.strip_prefix(b".") {
        let n_digits = after_dot.iter().take_while(|byte| byte.is_ascii_digit()).count();
        if n_digits == 0 {
            return None;
        }
        // Nanoseconds from up to nine digits; further digits are read past and ignored.
        let kept = &after_dot[..n_digits.min(9)];
        let value = kept.iter().fold(0_i32, |acc, digit| acc * 10 + i32::from(digit - b'0'));
        subsec_nanosecond = value * 10_i32.pow(u32::try_from(9 - kept.len()).ok()?);
        rest = &after_dot[n_digits..];
    }
    // The time must end here: `22:00:01x` is no timestamp.
    if rest.first().is_some_and(u8::is_ascii_alphanumeric) {
        return None;
    }
    let narrow = |value: u32| i8::try_from(value).ok();
    let time = BsdTime {
        month: narrow(u32::try_from(month).ok()? + 1)?,
        day: narrow(day)?,
        year,
        hour: narrow(hour)?,
        minute: narrow(minute)?,
        second: narrow(second)?,
        subsec_nanosecond,
    };
    // Reject impossible fields now, so that a line that merely starts with a month name is
    // not taken for a timestamp.
    Time::new(time.hour, time.minute, time.second.min(59), 0).ok()?;
    if !(1..=31).contains(&time.day) || time.second > 60 {
        return None;
    }
    Some((time, rest))
}

/// Reads `min..=max` ASCII digits.
fn digits(bytes: &[u8], min: usize, max: usize) -> Option<(u32, &[u8])> {
    let n_digits = bytes.iter().take(max).take_while(|byte| byte.is_ascii_digit()).count();
    if n_digits < min {
        return None;
    }
    let value =
        bytes[..n_digits].iter().fold(0_u32, |acc, digit| acc * 10 + u32::from(digit - b'0'));
    Some((value, &bytes[n_digits..]))
}

/// Turns a BSD timestamp into an instant: in the context's zone, with its own year when it
/// has one, else the year that puts it latest but not more than [`FUTURE_TOLERANCE`] after
/// the receipt (see [`SyslogContext`]). `None` for a date that exists in no candidate year
/// (`Feb 30`, `Jun 31`).
pub(super) fn resolve_bsd(time: BsdTime, ctx: &SyslogContext) -> Option<Timestamp> {
    let clock =
        Time::new(time.hour, time.minute, time.second.min(59), time.subsec_nanosecond).ok()?;
    let at_year = |year: i16| -> Option<Timestamp> {
        let date = Date::new(year, time.month, time.day).ok()?;
        ctx.time_zone.to_ambiguous_timestamp(date.to_datetime(clock)).compatible().ok()
    };
    if let Some(year) = time.year {
        return at_year(year);
    }
    let received_year = ctx.time_zone.to_datetime(ctx.received).year();
    let latest = ctx.received.saturating_add(FUTURE_TOLERANCE).ok()?;
    // From the next year down: eight years back always reach a leap year (2096 to 2104 is
    // the longest gap), so `Feb 29` resolves.
    (-1_i16..=8)
        .filter_map(|years_back| received_year.checked_sub(years_back))
        .filter_map(at_year)
        .find(|timestamp| *timestamp <= latest)
}

#[cfg(test)]
mod tests {
    use jiff::tz::TimeZone;

    use super::*;

    fn ctx(received: &str, zone: TimeZone) -> SyslogContext {
        SyslogContext::new(received.parse().unwrap(), zone)
    }

    fn bsd(text: &str, ctx: &SyslogContext) -> Option<String> {
        let (time, _) = parse_bsd(text.as_bytes())?;
        resolve_bsd(time, ctx).map(|timestamp| timestamp.to_string())
    }

    fn paris() -> TimeZone {
        TimeZone::posix("CET-1CEST,M3.5.0,M10.5.0/3").unwrap()
    }

    #[test]
    fn bsd_variants_parse() {
        let utc = ctx("2026-06-10T12:00:00Z", TimeZone::UTC);
        assert_eq!(bsd("Jun  4 01:02:03 host", &utc).as_deref(), Some("2026-06-04T01:02:03Z"));
        assert_eq!(bsd("Jun 4 01:02:03", &utc).as_deref(), Some("2026-06-04T01:02:03Z"));
        assert_eq!(bsd("jun 04 01:02:03", &utc).as_deref(), Some("2026-06-04T01:02:03Z"));
        assert_eq!(bsd("Mar  1 00:05:25.539:", &utc).as_deref(), Some("2026-03-01T00:05:25.539Z"));
        assert_eq!(
            bsd("Nov 30 2019 22:00:01: %ASA", &utc).as_deref(),
            Some("2019-11-30T22:00:01Z")
        );
        assert_eq!(
            bsd("Jan  1 00:00:00.1234567891", &utc).as_deref(),
            Some("2026-01-01T00:00:00.123456789Z")
        );
        for bad in [
            "Jun",
            "Jun 4",
            "June 4 01:02:03",
            "Jun 4 1:02:03",
            "Jun 4 01:02",
            "Jun 4 24:00:00",
            "Jun 4 01:60:00",
            "Jun 0 01:02:03",
            "Jun 32 01:02:03",
            "Jun 4 01:02:03x",
            "Jun 4 01:02:03.",
            "Jun   4 01:02:03",
        ] {
            assert_eq!(parse_bsd(bad.as_bytes()), None, "{bad}");
        }
        assert_eq!(bsd("Jun 31 01:02:03", &utc), None);
        assert_eq!(bsd("Feb 30 01:02:03", &utc), None);
    }

    #[test]
    fn bsd_time_is_read_in_the_context_zone() {
        let paris = ctx("2026-07-01T12:00:00Z", paris());
        assert_eq!(bsd("Jul  1 02:00:00", &paris).as_deref(), Some("2026-07-01T00:00:00Z"));
        assert_eq!(bsd("Jan 15 02:00:00", &paris).as_deref(), Some("2026-01-15T01:00:00Z"));
    }

    #[test]
    fn december_read_in_january_is_last_year() {
        let january = ctx("2027-01-02T10:00:00Z", TimeZone::UTC);
        assert_eq!(bsd("Dec 31 23:59:59", &january).as_deref(), Some("2026-12-31T23:59:59Z"));
        assert_eq!(bsd("Jan  2 09:00:00", &january).as_deref(), Some("2027-01-02T09:00:00Z"));
        // A few days ahead: clock skew, still this year.
        assert_eq!(bsd("Jan  4 09:00:00", &january).as_deref(), Some("2027-01-04T09:00:00Z"));
        // More than FUTURE_TOLERANCE ahead: last year.
        assert_eq!(bsd("Jan  6 09:00:00", &january).as_deref(), Some("2026-01-06T09:00:00Z"));
        assert_eq!(bsd("Jun 20 09:00:00", &january).as_deref(), Some("2026-06-20T09:00:00Z"));
    }

    #[test]
    fn january_just_before_new_year_is_next_year() {
        let new_years_eve = ctx("2026-12-31T23:59:00Z", TimeZone::UTC);
        assert_eq!(bsd("Jan  1 00:00:30", &new_years_eve).as_deref(), Some("2027-01-01T00:00:30Z"));
        assert_eq!(bsd("Dec 31 23:58:00", &new_years_eve).as_deref(), Some("2026-12-31T23:58:00Z"));
    }

    #[test]
    fn received_year_is_taken_in_the_context_zone() {
        // 23:30 UTC on December 31 is already January 1 in Paris.
        let paris = ctx("2026-12-31T23:30:00Z", paris());
        assert_eq!(bsd("Jan  1 00:10:00", &paris).as_deref(), Some("2026-12-31T23:10:00Z"));
    }

    #[test]
    fn february_29_goes_to_the_latest_leap_year() {
        let leap = ctx("2028-03-01T00:00:00Z", TimeZone::UTC);
        assert_eq!(bsd("Feb 29 12:00:00", &leap).as_deref(), Some("2028-02-29T12:00:00Z"));
        let before = ctx("2028-02-27T00:00:00Z", TimeZone::UTC);
        assert_eq!(bsd("Feb 29 12:00:00", &before).as_deref(), Some("2028-02-29T12:00:00Z"));
        let long_before = ctx("2028-02-10T00:00:00Z", TimeZone::UTC);
        assert_eq!(bsd("Feb 29 12:00:00", &long_before).as_deref(), Some("2024-02-29T12:00:00Z"));
        let common = ctx("2027-03-01T00:00:00Z", TimeZone::UTC);
        assert_eq!(bsd("Feb 29 12:00:00", &common).as_deref(), Some("2024-02-29T12:00:00Z"));
        let next = ctx("2029-01-01T00:00:00Z", TimeZone::UTC);
        assert_eq!(bsd("Feb 29 12:00:00", &next).as_deref(), Some("2028-02-29T12:00:00Z"));
        // 2100 is not a leap year: from 2101 the latest is 2096.
        let century = ctx("2101-01-01T00:00:00Z", TimeZone::UTC);
        assert_eq!(bsd("Feb 29 12:00:00", &century).as_deref(), Some("2096-02-29T12:00:00Z"));
        assert_eq!(bsd("Feb 28 12:00:00", &common).as_deref(), Some("2027-02-28T12:00:00Z"));
    }

    #[test]
    fn extreme_received_times_do_not_panic() {
        for received in [Timestamp::MIN, Timestamp::MAX] {
            let edge = SyslogContext::new(received, TimeZone::UTC);
            let _ = bsd("Jan  1 00:00:00", &edge);
            let _ = bsd("Dec 31 23:59:59", &edge);
            let _ = bsd("Feb 29 00:00:00", &edge);
        }
    }

    #[test]
    fn rfc3339_with_and_without_offset() {
        let paris = ctx("2026-07-01T12:00:00Z", paris());
        let read = |text: &str| parse_rfc3339(text.as_bytes(), &paris).map(|ts| ts.to_string());
        assert_eq!(
            read("2026-11-30T22:00:01.123456+01:00").as_deref(),
            Some("2026-11-30T21:00:01.123456Z")
        );
        assert_eq!(read("2026-11-30T22:00:01Z").as_deref(), Some("2026-11-30T22:00:01Z"));
        assert_eq!(read("2026-11-30t22:00:01z").as_deref(), Some("2026-11-30T22:00:01Z"));
        assert_eq!(read("2026-07-01T02:00:00").as_deref(), Some("2026-07-01T00:00:00Z"));
        assert_eq!(read("2026-12-31T23:59:60Z").as_deref(), Some("2026-12-31T23:59:59Z"));
        assert_eq!(read("2026-11-30"), None);
        assert_eq!(read("2026-11-30T25:00:00Z"), None);
        assert_eq!(read("2026-11-30T22:00:01+99:00"), None);
        assert_eq!(read("not a timestamp at all"), None);
    }
}
