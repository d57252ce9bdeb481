//! logfmt lines: `key=value key2="quoted value with \"escapes\"" flag`, as go-kit/log,
//! logrus's text formatter, Prometheus, Grafana Loki, HashiCorp tools and the Heroku router
//! write them.
//!
//! [`parse_line`] keeps every key as written, with its value as text (logfmt has no types):
//! a bare key (`flag`) becomes `true`, `key=` an empty string, and a key that repeats
//! becomes a list of its values in order. Then the well-known keys are mapped to ECS:
//!
//! | Keys | ECS field |
//! |---|---|
//! | `ts`, `time`, `timestamp`, `t` (the first that parses) | the event time (`@timestamp`) |
//! | `level`, `lvl`, `severity` | `log.level` (as written) |
//! | `msg`, `message` | `message` |
//! | `caller` (`file.go:123`) | `log.origin.file.name`, `log.origin.file.line` |
//! | `logger` | `log.logger` |
//! | `err`, `error` | `error.message` |
//!
//! A key that is itself an ECS name (`message`) is not overwritten by a mapping. The module
//! sets no `event.dataset`: the caller knows which program wrote the line.
//!
//! Times: RFC 3339 with any offset (`2024-05-01T10:00:00.123Z`), the same without an offset
//! or with a space instead of `T` (read as UTC), or epoch numbers: 10 digits or fewer are
//! seconds (a fraction allowed: `1714557600.250`), 13 digits milliseconds, 16 microseconds,
//! 19 nanoseconds.
//!
//! A line is logfmt when it has at least one `key=value` pair and no more bare words than
//! pairs; otherwise (prose with an `a=b` in it, JSON, an empty line) [`parse_line`] returns
//! `None`. A quote that is never closed runs to the end of the line. Keys are capped at
//! [`crate::ecs::MAX_NAME_LEN`] bytes, values at [`crate::ecs::MAX_TEXT_LEN`], and only the first
//! [`MAX_PAIRS`] keys are kept (`logfmt.dropped_pairs` counts the rest). Parsing is one pass
//! over the line with no backtracking and no panic.

use jiff::Timestamp;
use jiff::civil::DateTime;
use palisade_event::{Event, Str, Value};

use crate::ecs::{EcsFields, MAX_NAME_LEN, MAX_TEXT_LEN, cap};

/// The most keys kept from one line.
pub const MAX_PAIRS: usize = 512;

/// One token of a logfmt line.
#[derive(Debug, PartialEq)]
enum Token<'a> {
    /// `key=value`, `key="value"` or `key=` (value unescaped).
    Pair(&'a str, String),
    /// A bare key: a flag.
    Flag(&'a str),
    /// Anything else: a stray quote, an `=` without a key.
    Garbage,
}

/// Splits a line into tokens, in one pass.
fn tokens(line: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut rest = line;
    loop {
        rest = rest.trim_start_matches([' ', '\t']);
        if rest.is_empty() {
            break;
        }
        let key_end = rest
            .find(|ch: char| ch == '=' || ch == '"' || ch.is_whitespace())
            .unwrap_or(rest.len());
        let key = rest.get(..key_end).unwrap_or_default();
        let after = rest.get(key_end..).unwrap_or_default();
        if let Some(value_text) = after.strip_prefix('=') {
            let (value, remaining) = value(value_text);
            out.push(if key.is_empty() { Token::Garbage } else { Token::Pair(key, value) });
            rest = remaining;
        } else if after.starts_with('"') {
            let (_, remaining) = quoted(after.get(1..).unwrap_or_default());
            out.push(Token::Garbage);
            rest = remaining;
        } else {
            if !key.is_empty() {
                out.push(Token::Flag(key));
            }
            // Any other white space (a vertical tab, a no-break space) separates tokens.
            let skip = after.chars().next().map_or(0, char::len_utf8);
            rest = after.get(skip..).unwrap_or_default();
        }
    }
    out
}

/// Reads a value after `=`: quoted, or up to the next white space.
fn value(text: &str) -> (String, &str) {
    if let Some(inner) = text.strip_prefix('"') {
        return quoted(inner);
    }
    let end = text.find(char::is_whitespace).unwrap_or(text.len());
    (text.get(..end).unwrap_or_default().to_owned(), text.get(end..).unwrap_or_default())
}

/// Reads a quoted value after its opening quote, resolving `\"`, `\\`, `\n`, `\r`, `\t` and
/// `\uXXXX`; other escapes are kept as written. Without a closing quote the value runs to the
/// end of the line.
fn quoted(text: &str) -> (String, &str) {
    let mut out = String::new();
    let mut chars = text.char_indices();
    while let Some((at, ch)) = chars.next() {
        match ch {
            '"' => return (out, text.get(at + 1..).unwrap_or_default()),
            '\\' => match chars.next() {
                Some((_, '"')) => out.push('"'),
                Some((_, '\\')) => out.push('\\'),
                Some((_, 'n')) => out.push('\n'),
                Some((_, 'r')) => out.push('\r'),
                Some((_, 't')) => out.push('\t'),
                Some((_, 'u')) => {
                    let hex: String = chars.clone().take(4).map(|(_, ch)| ch).collect();
                    match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                        Some(decoded) if hex.len() == 4 => {
                            out.push(decoded);
                            for _ in 0..4 {
                                chars.next();
                            }
                        }
                        _ => out.push_str("\\u"),
                    }
                }
                Some((_, other)) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            },
            other => out.push(other),
        }
    }
    (out, "")
}

/// Parses one logfmt line (`key=value key2="quoted value"`) into an event with
/// `event.original` set. `None` when it is not one.
///
/// # Example
/// ```
/// let line = r#"ts=2024-05-01T10:00:00.5Z caller=main.go:42 level=warn msg="disk \"/\" almost full" pct=93"#;
/// let event = palisade_parse::logfmt::parse_line(line).unwrap();
/// assert_eq!(event.get_str("log.level").as_deref(), Some("warn"));
/// assert_eq!(event.get_str("message").as_deref(), Some("disk \"/\" almost full"));
/// assert_eq!(event.get_str("pct").as_deref(), Some("93"));
/// assert!(event.timestamp().is_some());
/// ```
#[must_use]
pub fn parse_line(line: &str) -> Option<Event> {
    let line = line.trim_end_matches(['\n', '\r']);
    let tokens = tokens(line);
    let n_pairs = tokens.iter().filter(|token| matches!(token, Token::Pair(..))).count();
    let n_bare = tokens.len() - n_pairs;
    if n_pairs == 0 || n_bare > n_pairs {
        return None;
    }
    let mut fields: Vec<(Str, Value)> = Vec::with_capacity(tokens.len().min(MAX_PAIRS) + 1);
    let mut n_dropped = 0_i64;
    for token in &tokens {
        let (key, value) = match token {
            Token::Pair(key, value) => (*key, Value::from(cap(value, MAX_TEXT_LEN))),
            Token::Flag(key) => (*key, Value::Bool(true)),
            Token::Garbage => continue,
        };
        if fields.len() >= MAX_PAIRS {
            n_dropped += 1;
            continue;
        }
        fields.push((Str::copy(cap(key, MAX_NAME_LEN)), value));
    }
    let first = |names: &[&str]| {
        tokens.iter().find_map(|token| match token {
            Token::Pair(key, value) if names.contains(key) && !value.is_empty() => {
                Some(value.as_str())
            }
            _ => None,
        })
    };
    let mut ecs = EcsFields::new();
    if let Some(level) = first(&["level", "lvl", "severity"]) {
        ecs.name("log.level", level);
    }
    if let Some(message) = first(&["msg", "message"]) {
        ecs.text("message", message);
    }
    if let Some(caller) = first(&["caller"]) {
        match caller.rsplit_once(':') {
            Some((file, line))
                if !file.is_empty() && ecs.int_text("log.origin.file.line", line) =>
            {
                ecs.name("log.origin.file.name", file);
            }
            _ => ecs.name("log.origin.file.name", caller),
        }
    }
    if let Some(logger) = first(&["logger"]) {
        ecs.name("log.logger", logger);
    }
    if let Some(error) = first(&["err", "error"]) {
        ecs.text("error.message", error);
    }
    let timestamp = tokens.iter().find_map(|token| match token {
        Token::Pair(key, value) if matches!(*key, "ts" | "time" | "timestamp" | "t") => {
            parse_time(value)
        }
        _ => None,
    });
    if n_dropped > 0 {
        ecs.int("logfmt.dropped_pairs", n_dropped);
    }
    let mut event = Event::from_fields(fields);
    // A key already named like the ECS field (`message=...`) stays as written.
    let mut mapped = Event::new();
    ecs.apply(&mut mapped);
    for (name, value) in mapped.fields() {
        if event.get(name).is_none() {
            event.insert(Str::copy(name), value.clone());
        }
    }
    event.insert("event.original", Value::from(line));
    event.set_timestamp(timestamp);
    Some(event)
}

/// Reads a logfmt time: RFC 3339 (with or without an offset; none means UTC) or an epoch
/// number in seconds, milliseconds, microseconds or nanoseconds chosen by its digit count.
#[must_use]
pub fn parse_time(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    if text.is_empty() || text.len() > 64 {
        return None;
    }
    if let Ok(timestamp) = text.parse::<Timestamp>() {
        return Some(timestamp);
    }
    if let Ok(civil) = text.parse::<DateTime>() {
        return civil.to_zoned(jiff::tz::TimeZone::UTC).ok().map(|zoned| zoned.timestamp());
    }
    epoch(text)
}

fn epoch(text: &str) -> Option<Timestamp> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if !crate::ecs::is_digits(whole) || !(fraction.is_empty() || crate::ecs::is_digits(fraction)) {
        return None;
    }
    let number: i64 = whole.parse().ok()?;
    match (whole.len(), fraction.is_empty()) {
        (1..=10, _) => {
            let digits = fraction.get(..fraction.len().min(9)).unwrap_or_default();
            let nanos = if digits.is_empty() {
                0
            } else {
                let scale = 10_i32.pow(u32::try_from(9 - digits.len()).ok()?);
                digits.parse::<i32>().ok()? * scale
            };
            Timestamp::new(number, nanos).ok()
        }
        (13, true) => Timestamp::from_millisecond(number).ok(),
        (16, true) => Timestamp::from_microsecond(number).ok(),
        (19, true) => Timestamp::from_nanosecond(i128::from(number)).ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizes_pairs_flags_and_quotes() {
        let got = tokens(r#"a=1 b="x \"y\" = z" flag c= "stray" =v d=é"#);
        assert_eq!(
            got,
            vec![
                Token::Pair("a", "1".into()),
                Token::Pair("b", "x \"y\" = z".into()),
                Token::Flag("flag"),
                Token::Pair("c", String::new()),
                Token::Garbage,
                Token::Garbage,
                Token::Pair("d", "é".into()),
            ]
        );
    }

    #[test]
    fn unterminated_quote_runs_to_the_end() {
        assert_eq!(quoted(r"abc \u00e9\u12 \q"), ("abc é\\u12 \\q".to_owned(), ""));
        assert_eq!(tokens("k=\"open value"), vec![Token::Pair("k", "open value".into())]);
    }

    #[test]
    fn prose_is_not_logfmt() {
        assert!(parse_line("the value a=b was wrong here").is_none());
        assert!(parse_line(r#"{"level":"info"}"#).is_none());
        assert!(parse_line("").is_none());
        assert!(parse_line("a=b").is_some());
    }

    #[test]
    fn times() {
        let at = |text: &str| parse_time(text).map(|ts| ts.to_string());
        assert_eq!(at("2024-05-01T10:00:00+02:00").as_deref(), Some("2024-05-01T08:00:00Z"));
        assert_eq!(at("2024-05-01 10:00:00.5").as_deref(), Some("2024-05-01T10:00:00.5Z"));
        assert_eq!(at("1714557600").as_deref(), Some("2024-05-01T10:00:00Z"));
        assert_eq!(at("1714557600.25").as_deref(), Some("2024-05-01T10:00:00.25Z"));
        assert_eq!(at("1714557600123").as_deref(), Some("2024-05-01T10:00:00.123Z"));
        assert_eq!(at("1714557600123456789").as_deref(), Some("2024-05-01T10:00:00.123456789Z"));
        assert_eq!(at("17145576001"), None);
        assert_eq!(at("yesterday"), None);
    }
}
