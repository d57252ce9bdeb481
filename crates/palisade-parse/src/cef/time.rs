//! The date formats of CEF (`rt`, `start`, `end`) and LEEF (`devTime` with `devTimeFormat`).

use jiff::Timestamp;
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::{Offset, TimeZone};

const MONTHS: [&str; 12] =
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/// Reads a CEF time: milliseconds since the epoch, `MMM dd yyyy HH:mm:ss[.SSS] [zone]` (no zone
/// means UTC), or RFC 3339 (some devices send it). The year-less forms of the specification
/// (`MMM dd HH:mm:ss`) are not read.
pub(crate) fn cef_time(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    if text.is_empty() || text.len() > 64 {
        return None;
    }
    if crate::ecs::is_digits(text) {
        return Timestamp::from_millisecond(text.parse().ok()?).ok();
    }
    if let Ok(timestamp) = text.parse::<Timestamp>() {
        return Some(timestamp);
    }
    java_time(text, "MMM dd yyyy HH:mm:ss.SSS zzz")
        .or_else(|| java_time(text, "MMM dd yyyy HH:mm:ss.SSS"))
        .or_else(|| java_time(text, "MMM dd yyyy HH:mm:ss zzz"))
        .or_else(|| java_time(text, "MMM dd yyyy HH:mm:ss"))
}

/// Reads a LEEF `devTime`: with `devTimeFormat` (a Java `SimpleDateFormat` pattern), else
/// the default `MMM dd yyyy HH:mm:ss`, epoch milliseconds or seconds, or RFC 3339.
pub(crate) fn leef_time(text: &str, format: Option<&str>) -> Option<Timestamp> {
    let text = text.trim();
    if text.is_empty() || text.len() > 64 {
        return None;
    }
    if let Some(format) = format.filter(|format| !format.is_empty())
        && let Some(timestamp) = java_time(text, format)
    {
        return Some(timestamp);
    }
    if crate::ecs::is_digits(text) {
        let number: i64 = text.parse().ok()?;
        return if text.len() <= 10 {
            Timestamp::from_second(number).ok()
        } else {
            Timestamp::from_millisecond(number).ok()
        };
    }
    cef_time(text)
}

/// Parses `text` with a Java `SimpleDateFormat` pattern. Supported letters: `y` (`yyyy`,
/// `yy`), `M` (`M`, `MM`, `MMM`, `MMMM`), `d`, `H`, `k`, `h`/`K` with `a`, `m`, `s`, `S`
/// (a fraction of any length), `E` (a day name, skipped), `z` (`UTC`, `GMT`, `Z`, a few
/// North American abbreviations, `GMT+hh:mm`), `Z` and `X` (`Z`, `+hh`, `+hhmm`, `+hh:mm`),
/// quoted literals (`'T'`) and any other character as a literal. No zone means UTC. Other
/// letters (`w`, `D`, `u`, `G`...) make the pattern fail.
pub(crate) fn java_time(text: &str, pattern: &str) -> Option<Timestamp> {
    let mut input = text;
    let (mut year, mut month, mut day) = (None, None, None);
    let (mut hour, mut minute, mut second, mut nanos) = (0_i8, 0_i8, 0_i8, 0_i32);
    let mut pm = None;
    let mut twelve_hour = false;
    let mut offset: Option<Offset> = None;
    let mut rest = pattern;
    while let Some(letter) = rest.chars().next() {
        if letter == '\'' {
            let after = rest.get(1..)?;
            if let Some(tail) = after.strip_prefix('\'') {
                input = input.strip_prefix('\'')?;
                rest = tail;
                continue;
            }
            let end = after.find('\'')?;
            input = input.strip_prefix(after.get(..end)?)?;
            rest = after.get(end + 1..)?;
            continue;
        }
        if !letter.is_ascii_alphabetic() {
            input = input.strip_prefix(letter)?;
            rest = rest.get(letter.len_utf8()..)?;
            continue;
        }
        let count = rest.bytes().take_while(|byte| *byte == letter as u8).count();
        rest = rest.get(count..)?;
        match letter {
            'y' => {
                let (value, tail) = digits(input, if count == 2 { 2 } else { 4 })?;
                year = Some(if count == 2 { 2000 + value } else { value });
                input = tail;
            }
            'M' if count >= 3 => {
                let (value, tail) = month_name(input)?;
                month = Some(value);
                input = tail;
            }
            'M' => {
                let (value, tail) = digits(input, 2)?;
                month = Some(value);
                input = tail;
            }
            'd' => {
                let (value, tail) = digits(input, 2)?;
                day = Some(value);
                input = tail;
            }
            'H' | 'k' | 'h' | 'K' => {
                let (value, tail) = digits(input, 2)?;
                hour = i8::try_from(value).ok()?;
                twelve_hour = matches!(letter, 'h' | 'K');
                if letter == 'k' && hour == 24 {
                    hour = 0;
                }
                input = tail;
            }
            'm' => {
                let (value, tail) = digits(input, 2)?;
                minute = i8::try_from(value).ok()?;
                input = tail;
            }
            's' => {
                let (value, tail) = digits(input, 2)?;
                second = i8::try_from(value).ok()?;
                input = tail;
            }
            'S' => {
                let n_digits = input.bytes().take_while(u8::is_ascii_digit).count();
                if n_digits == 0 {
                    return None;
                }
                let fraction = input.get(..n_digits)?;
                let kept = fraction.get(..n_digits.min(9))?;
                let scale = 10_i32.pow(u32::try_from(9 - kept.len()).ok()?);
                nanos = kept.parse::<i32>().ok()? * scale;
                input = input.get(n_digits..)?;
            }
            'a' => {
                let lower = input.get(..2)?.to_ascii_lowercase();
                pm = Some(match lower.as_str() {
                    "am" => false,
                    "pm" => true,
                    _ => return None,
                });
                input = input.get(2..)?;
            }
            'E' => {
                let n_letters = input.bytes().take_while(u8::is_ascii_alphabetic).count();
                if n_letters == 0 {
                    return None;
                }
                input = input.get(n_letters..)?;
            }
            'z' | 'Z' | 'X' => {
                let (zone, tail) = zone(input)?;
                offset = Some(zone);
                input = tail;
            }
            _ => return None,
        }
    }
    if !input.trim().is_empty() {
        return None;
    }
    if twelve_hour {
        hour %= 12;
        if pm == Some(true) {
            hour += 12;
        }
    }
    let date =
        Date::new(i16::try_from(year?).ok()?, i8::try_from(month?).ok()?, i8::try_from(day?).ok()?)
            .ok()?;
    let time = Time::new(hour, minute, second, nanos).ok()?;
    let zone = TimeZone::fixed(offset.unwrap_or(Offset::UTC));
    DateTime::from_parts(date, time).to_zoned(zone).ok().map(|zoned| zoned.timestamp())
}

/// Reads 1 to `max` digits.
fn digits(text: &str, max: usize) -> Option<(i32, &str)> {
    let n_digits = text.bytes().take(max).take_while(u8::is_ascii_digit).count();
    if n_digits == 0 {
        return None;
    }
    Some((text.get(..n_digits)?.parse().ok()?, text.get(n_digits..)?))
}

fn month_name(text: &str) -> Option<(i32, &str)> {
    let n_letters = text.bytes().take_while(u8::is_ascii_alphabetic).count();
    let word = text.get(..n_letters)?.to_ascii_lowercase();
    let prefix = word.get(..3)?;
    let idx = MONTHS.iter().position(|month| *month == prefix)?;
    Some((i32::try_from(idx).ok()? + 1, text.get(n_letters..)?))
}

/// A zone name or offset at the start of `text`.
fn zone(text: &str) -> Option<(Offset, &str)> {
    let n_letters = text.bytes().take_while(u8::is_ascii_alphabetic).count();
    let (name, tail) = (text.get(..n_letters)?, text.get(n_letters..)?);
    let named: Option<i8> = match name.to_ascii_uppercase().as_str() {
        "" => None,
        "Z" | "UTC" | "GMT" | "UT" => Some(0),
        "EDT" => Some(-4),
        "EST" | "CDT" => Some(-5),
        "CST" | "MDT" => Some(-6),
        "MST" | "PDT" => Some(-7),
        "PST" => Some(-8),
        _ => return None,
    };
    match (named, tail.chars().next()) {
        // `GMT+01:00`
        (Some(0), Some('+' | '-')) => numeric_offset(tail),
        (Some(hours), _) => Some((Offset::from_hours(hours).ok()?, tail)),
        (None, _) => numeric_offset(text),
    }
}

/// `+hh`, `+hhmm` or `+hh:mm`.
fn numeric_offset(text: &str) -> Option<(Offset, &str)> {
    let sign = match text.chars().next()? {
        '+' => 1,
        '-' => -1,
        _ => return None,
    };
    let (hours, tail) = digits(text.get(1..)?, 2)?;
    let tail = tail.strip_prefix(':').unwrap_or(tail);
    let (minutes, tail) = match digits(tail, 2) {
        Some((minutes, rest)) => (minutes, rest),
        None => (0, tail),
    };
    let seconds = sign * (hours * 3600 + minutes * 60);
    Some((Offset::from_seconds(seconds).ok()?, tail))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, pattern: &str) -> Option<String> {
        java_time(text, pattern).map(|ts| ts.to_string())
    }

    #[test]
    fn cef_forms() {
        let at = |text: &str| cef_time(text).map(|ts| ts.to_string());
        assert_eq!(at("1714557600123").as_deref(), Some("2024-05-01T10:00:00.123Z"));
        assert_eq!(at("May 01 2024 10:00:00").as_deref(), Some("2024-05-01T10:00:00Z"));
        assert_eq!(at("May 01 2024 12:00:00.5 +0200").as_deref(), Some("2024-05-01T10:00:00.5Z"));
        assert_eq!(at("May 01 2024 05:00:00 EST").as_deref(), Some("2024-05-01T10:00:00Z"));
        assert_eq!(at("May 01 10:00:00"), None);
        assert_eq!(at("2024-05-01T10:00:00Z").as_deref(), Some("2024-05-01T10:00:00Z"));
    }

    #[test]
    fn java_patterns() {
        assert_eq!(
            at("2024-05-01T12:00:00.250+02:00", "yyyy-MM-dd'T'HH:mm:ss.SSSXXX").as_deref(),
            Some("2024-05-01T10:00:00.25Z")
        );
        assert_eq!(
            at("01/05/24 10:00:00 PM", "dd/MM/yy hh:mm:ss a").as_deref(),
            Some("2024-05-01T22:00:00Z")
        );
        assert_eq!(
            at("Wed, 01 May 2024 10:00:00 GMT", "EEE, dd MMM yyyy HH:mm:ss zzz").as_deref(),
            Some("2024-05-01T10:00:00Z")
        );
        assert_eq!(at("2024-05-01", "yyyy-MM-dd w"), None);
        assert_eq!(at("2024-13-01 10:00:00", "yyyy-MM-dd HH:mm:ss"), None);
    }
}
