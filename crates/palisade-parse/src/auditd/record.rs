//! Reading one audit record into its parts: node, type, time, serial, `key=value` pairs (with
//! the inner `msg='...'` pairs of user-space records), the enriched translations after the GS
//! byte, and the `avc:  denied  { ... } for` preamble.

use std::borrow::Cow;

/// The byte auditd puts between a record and its enriched translations (ASCII GS).
pub const ENRICHED_SEPARATOR: char = '\u{1d}';

/// Most pairs read from one record, so a forged line cannot build a huge event.
pub const MAX_PAIRS: usize = 512;

/// How a value was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quoting {
    /// `key="value"`.
    Double,
    /// `key='value'` (the `msg=` of user-space records).
    Single,
    /// `key=value`: a number, a hex-encoded string, `?`, `(null)`.
    Bare,
}

/// One `key=value` pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair<'a> {
    /// The key as written.
    pub key: &'a str,
    /// The value as written, without its quotes.
    pub raw: &'a str,
    /// How the value was quoted.
    pub quoting: Quoting,
    /// True for pairs read from inside `msg='...'`.
    pub inner: bool,
}

/// The preamble of an SELinux decision: `avc:  denied  { read write } for `.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Avc<'a> {
    /// `denied` or `granted`.
    pub result: &'a str,
    /// The permissions between the braces.
    pub permissions: Vec<&'a str>,
}

/// One record taken apart.
#[derive(Debug, Default)]
pub struct Record<'a> {
    /// `node=` before `type=`.
    pub node: Option<&'a str>,
    /// The record type as written (`SYSCALL`, `UNKNOWN[1334]`, or a kernel number).
    pub record_type: &'a str,
    /// Seconds and milliseconds since the epoch, from `audit(S.MMM:N)`.
    pub time: Option<(i64, i64)>,
    /// The serial number that groups the records of one event.
    pub serial: Option<i64>,
    /// The pairs, in order.
    pub pairs: Vec<Pair<'a>>,
    /// The enriched translations (`UID="root"`), in order.
    pub enriched: Vec<Pair<'a>>,
    /// The AVC preamble, when the body (or `msg='...'`) starts with one.
    pub avc: Option<Avc<'a>>,
}

/// Reads a native record: `[node=N ]type=T msg=audit(S.M:N): body` or the kernel's
/// `type=NNNN audit(S.M:N): body`. `None` when the line does not have that shape.
#[must_use]
pub fn parse_native(line: &str) -> Option<Record<'_>> {
    let mut rest = line.trim_start();
    let mut record = Record::default();
    if let Some(after) = rest.strip_prefix("node=") {
        let (node, after) = after.split_once(' ')?;
        record.node = Some(node);
        rest = after.trim_start();
    }
    let after = rest.strip_prefix("type=")?;
    let (record_type, after) = after.split_once(' ')?;
    if record_type.is_empty() {
        return None;
    }
    record.record_type = record_type;
    let after = after.trim_start();
    let after = after.strip_prefix("msg=").unwrap_or(after);
    let after = after.strip_prefix("audit(")?;
    let (stamp, body) = after.split_once(')')?;
    let (time, serial) = stamp.split_once(':')?;
    let (seconds, millis) = time.split_once('.').unwrap_or((time, "0"));
    let seconds = crate::ecs::parse_int(seconds)?;
    let millis = crate::ecs::parse_int(millis).filter(|millis| (0..1000).contains(millis))?;
    record.time = Some((seconds, millis));
    record.serial = Some(crate::ecs::parse_int(serial)?);
    let body = body.strip_prefix(':').unwrap_or(body);
    read_body(body, &mut record);
    Some(record)
}

/// Reads the journald form that systemd-journald writes for audit records it forwards
/// (identifier `audit`): `TYPE body`, with no time or serial.
#[must_use]
pub fn parse_journald(message: &str) -> Option<Record<'_>> {
    let (record_type, body) = message.trim_start().split_once(' ')?;
    let valid_type = !record_type.is_empty()
        && record_type.len() <= 32
        && record_type
            .bytes()
            .all(|byte| byte.is_ascii_uppercase() || byte.is_ascii_digit() || byte == b'_')
        && record_type.bytes().next().is_some_and(|byte| byte.is_ascii_uppercase());
    let body_start = body.trim_start();
    let first = body_start.split(' ').next().unwrap_or("");
    if !valid_type || !(first.contains('=') || first == "avc:") {
        return None;
    }
    let mut record = Record { record_type, ..Record::default() };
    read_body(body, &mut record);
    Some(record)
}

fn read_body<'a>(body: &'a str, record: &mut Record<'a>) {
    let (main, enriched) = match body.split_once(ENRICHED_SEPARATOR) {
        Some((main, enriched)) => (main, Some(enriched)),
        None => (body, None),
    };
    read_pairs(main, false, record);
    if let Some(enriched) = enriched {
        let mut scratch = Record::default();
        read_pairs(enriched, false, &mut scratch);
        record.enriched = scratch.pairs;
    }
}

/// Reads the `avc:  denied  { a b } for ` preamble; returns it and the text after it.
fn read_avc(text: &str) -> Option<(Avc<'_>, &str)> {
    let rest = text.trim_start().strip_prefix("avc:")?.trim_start();
    let (result, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    let rest = rest.trim_start();
    let (permissions, rest) = match rest.strip_prefix('{') {
        Some(inner) => match inner.split_once('}') {
            Some((permissions, rest)) => (permissions, rest),
            None => (inner, ""),
        },
        None => ("", rest),
    };
    let rest = rest.trim_start();
    let rest = rest.strip_prefix("for ").unwrap_or(rest);
    let avc = Avc { result, permissions: permissions.split_whitespace().take(64).collect() };
    Some((avc, rest))
}

fn read_pairs<'a>(text: &'a str, inner: bool, record: &mut Record<'a>) {
    let mut rest = text;
    if let Some((avc, after)) = read_avc(rest) {
        if record.avc.is_none() {
            record.avc = Some(avc);
        }
        rest = after;
    }
    loop {
        rest = rest.trim_start_matches([' ', '\t']);
        if rest.is_empty() || record.pairs.len() >= MAX_PAIRS {
            return;
        }
        let word_end = rest.find([' ', '\t']).unwrap_or(rest.len());
        let eq = rest.find('=').filter(|&eq| eq < word_end && eq > 0);
        let Some(eq) = eq else {
            // A word that is not `key=value`: the rest of an unquoted value written with a
            // space (`op=adding user`), or a word to skip.
            let (word, after) = rest.split_at(word_end);
            if let Some(last) = record.pairs.last_mut()
                && last.quoting == Quoting::Bare
                && last.inner == inner
                && let Some(extended) = extend(text, last.raw, word)
            {
                last.raw = extended;
            }
            rest = after;
            continue;
        };
        let key = &rest[..eq];
        let after = &rest[eq + 1..];
        let (raw, quoting, after) = if let Some(quoted) = after.strip_prefix('"') {
            match quoted.split_once('"') {
                Some((value, after)) => (value, Quoting::Double, after),
                None => (quoted, Quoting::Double, ""),
            }
        } else if let Some(quoted) = after.strip_prefix('\'') {
            // The inner message runs to the last quote: its own values may hold quotes.
            match quoted.rfind('\'') {
                Some(end) => (&quoted[..end], Quoting::Single, &quoted[end + 1..]),
                None => (quoted, Quoting::Single, ""),
            }
        } else if let Some(braced) = after.strip_prefix('{') {
            // Enriched socket addresses: `SADDR={ saddr_fam=inet laddr=192.0.2.1 lport=80 }`.
            match braced.split_once('}') {
                Some((value, after)) => (value.trim(), Quoting::Double, after),
                None => (braced.trim(), Quoting::Double, ""),
            }
        } else {
            let end = after.find([' ', '\t']).unwrap_or(after.len());
            (&after[..end], Quoting::Bare, &after[end..])
        };
        if quoting == Quoting::Single && key == "msg" && !inner {
            read_pairs(raw, true, record);
        } else {
            record.pairs.push(Pair { key, raw, quoting, inner });
        }
        rest = after;
    }
}

/// The span of `text` from the start of `value` to the end of `word`, both subslices of it.
fn extend<'a>(text: &'a str, value: &str, word: &str) -> Option<&'a str> {
    let base = text.as_ptr() as usize;
    let start = (value.as_ptr() as usize).checked_sub(base)?;
    let end = (word.as_ptr() as usize).checked_sub(base)? + word.len();
    text.get(start..end)
}

/// Decodes audit's hex encoding of a string (`2F746D70` → `/tmp`) when `raw` is non-empty,
/// even-length upper-case hex; `None` otherwise.
#[must_use]
pub fn decode_hex(raw: &str) -> Option<Vec<u8>> {
    if raw.is_empty() || !raw.len().is_multiple_of(2) {
        return None;
    }
    let nibble = |byte: u8| match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    };
    raw.as_bytes()
        .chunks_exact(2)
        .map(|pair| Some(nibble(*pair.first()?)? << 4 | nibble(*pair.get(1)?)?))
        .collect()
}

/// The value of a pair as text: hex-decoded when the key is one audit encodes and the value
/// is unquoted hex, else as written.
#[must_use]
pub fn value_text<'a>(pair: &Pair<'a>, encoded: bool) -> (Cow<'a, str>, bool) {
    if encoded
        && pair.quoting == Quoting::Bare
        && let Some(bytes) = decode_hex(pair.raw)
    {
        return (Cow::Owned(String::from_utf8_lossy(&bytes).into_owned()), true);
    }
    (Cow::Borrowed(pair.raw), false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_records_split_into_parts() {
        let record = parse_native("node=web1 type=USER_AUTH msg=audit(1700000000.123:456): pid=1 uid=0 msg='op=PAM:authentication acct=\"alice\" res=failed'\u{1d}UID=\"root\"").expect("record");
        assert_eq!(record.node, Some("web1"));
        assert_eq!(record.record_type, "USER_AUTH");
        assert_eq!(record.time, Some((1_700_000_000, 123)));
        assert_eq!(record.serial, Some(456));
        let keys: Vec<&str> = record.pairs.iter().map(|pair| pair.key).collect();
        assert_eq!(keys, ["pid", "uid", "op", "acct", "res"]);
        assert_eq!(record.enriched.first().map(|pair| pair.raw), Some("root"));
    }

    #[test]
    fn unquoted_values_with_spaces_are_joined() {
        let record = parse_native(
            "type=ADD_USER msg=audit(1.000:2): msg='op=adding user id=1001 res=success'",
        )
        .expect("record");
        assert_eq!(record.pairs.first().map(|pair| pair.raw), Some("adding user"));
    }

    #[test]
    fn avc_preamble_is_read() {
        let record = parse_native(
            "type=AVC msg=audit(1.5:2): avc:  denied  { read write } for  pid=3 comm=\"x\"",
        )
        .expect("record");
        let avc = record.avc.expect("avc");
        assert_eq!((avc.result, avc.permissions), ("denied", vec!["read", "write"]));
        assert_eq!(record.pairs.len(), 2);
    }

    #[test]
    fn hex_decoding_needs_even_upper_case_hex() {
        assert_eq!(decode_hex("2F746D70"), Some(b"/tmp".to_vec()));
        assert_eq!(decode_hex("2F7"), None);
        assert_eq!(decode_hex("2f74"), None);
        assert_eq!(decode_hex(""), None);
    }

    #[test]
    fn malformed_stamps_are_refused() {
        assert!(parse_native("type=X msg=audit(abc:1): a=b").is_none());
        assert!(parse_native("type=X msg=audit(1.2000:1): a=b").is_none());
        assert!(parse_native("type=X msg=audit(1.2:): a=b").is_none());
        assert!(parse_native("hello").is_none());
    }
}
