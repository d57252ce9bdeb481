//! Reading login events, as the login detectors ([`super::brute_force`],
//! [`super::password_spraying`], [`super::impossible_travel`], [`super::new_geo_login`]) all
//! do: the outcome, from ECS `event.category: authentication` with `event.outcome` or from a
//! Windows Security log event id, then the user, the host and the source address, each from
//! the ECS field first and the Windows one after.
//!
//! Users and hosts are lower-cased (Windows account and computer names are case-insensitive,
//! and a guesser's `Admin` and `admin` are the same target); source addresses are
//! canonical (an IPv4-mapped IPv6 address reads as IPv4).

use std::borrow::Cow;
use std::net::IpAddr;

use jiff::SignedDuration;
use palisade_event::{Event, Str};

use super::util::{has, holds, number, text};

/// Two failures of one connection (same host and process id) this close together are one
/// attempt: sshd logs a failed password twice, once itself and once through `pam_unix`.
pub const SAME_ATTEMPT: SignedDuration = SignedDuration::from_secs(1);

/// How a login ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The user got in.
    Success,
    /// The credentials were refused.
    Failure,
}

/// The outcome of a login event: ECS `event.category: authentication` with `event.outcome`,
/// or a Windows Security log event (4624 success, 4625 and 4771 failure, 4776 by its status).
/// An ECS authentication event whose outcome is neither still gets the Windows reading.
#[must_use]
pub fn outcome(event: &Event) -> Option<Outcome> {
    judge(event).0
}

/// [`outcome`] and [`is_success`] together, each field read once: the login detectors ask
/// both of every event.
fn judge(event: &Event) -> (Option<Outcome>, bool) {
    let authentication = has(event, "event.category", "authentication");
    if authentication {
        // Looked up once for both answers.
        let ecs_outcome = event.get("event.outcome");
        if holds(ecs_outcome, "success") {
            return (Some(Outcome::Success), true);
        }
        if holds(ecs_outcome, "failure") {
            return (Some(Outcome::Failure), false);
        }
    }
    let Some(event_id) = number(event, "EventID") else { return (None, false) };
    if let Some(channel) = text(event, "Channel")
        && !channel.eq_ignore_ascii_case("Security")
    {
        return (None, false);
    }
    // An ECS authentication event is a success by its `event.outcome` alone.
    let success = !authentication && event_id == 4624.0;
    // `as` saturates, and NaN becomes 0: odd values land on no event id.
    #[allow(clippy::cast_possible_truncation)]
    let outcome = match event_id as i64 {
        4624 => Some(Outcome::Success),
        4625 | 4771 => Some(Outcome::Failure),
        4776 => {
            // The NTLM validation's status: 0x0 when the credentials were good.
            text(event, "Status").map(|status| {
                let status = status.trim().trim_start_matches("0x").trim_start_matches("0X");
                let good = !status.is_empty() && status.bytes().all(|byte| byte == b'0');
                if good { Outcome::Success } else { Outcome::Failure }
            })
        }
        _ => None,
    };
    (outcome, success)
}

/// True for a successful login: ECS `event.category: authentication` with
/// `event.outcome: success`, or Windows 4624 in the Security log.
///
/// Stricter than [`outcome`] being a success, on purpose: an ECS authentication event is
/// judged by its `event.outcome` alone, and NTLM validations (4776) are not logins from a
/// place. The detectors that follow where users log in from use this one.
#[must_use]
pub fn is_success(event: &Event) -> bool {
    judge(event).1
}

/// The user who logged in (`user.name`, else `TargetUserName`), trimmed and lower-cased.
#[must_use]
pub fn user(event: &Event) -> Option<String> {
    user_field(event).map(|user| lower(user.trim()))
}

/// The text of the user field [`user`] reads, as it is.
fn user_field(event: &Event) -> Option<Cow<'_, str>> {
    text(event, "user.name").or_else(|| text(event, "TargetUserName"))
}

/// `text` lower-cased; ASCII text (nearly every user and host name) without the Unicode
/// tables.
fn lower(text: &str) -> String {
    if text.is_ascii() { text.to_ascii_lowercase() } else { text.to_lowercase() }
}

/// The host logged in to (`host.name`, else `Computer`, `host.hostname`,
/// `observer.hostname`), trimmed and lower-cased.
#[must_use]
pub fn host(event: &Event) -> Option<String> {
    host_field(event).map(|host| lower(host.trim()))
}

/// The text of the host field [`host`] reads, as it is.
fn host_field(event: &Event) -> Option<Cow<'_, str>> {
    ["host.name", "Computer", "host.hostname", "observer.hostname"]
        .iter()
        .find_map(|field| text(event, field))
}

/// The address the login came from (`source.ip`, else `IpAddress`), canonical: the first of
/// the two fields that holds an address.
#[must_use]
pub fn source_ip(event: &Event) -> Option<IpAddr> {
    source_field(event).map(|(ip, _)| ip)
}

/// [`source_ip`] and its text as `IpAddr`'s `Display` writes it (see [`source_field`]).
fn source_address(event: &Event) -> Option<(IpAddr, Str)> {
    source_field(event).map(|(ip, written)| {
        (ip, written.map_or_else(|| Str::from(ip.to_string()), |text| Str::copy(&text)))
    })
}

/// [`source_ip`], with the field's trimmed text when that is already how `Display` writes the
/// address: an IPv4 address as the event wrote it (its parser takes only the one spelling
/// `Display` gives). Nothing is copied or formatted for callers that want only the address.
fn source_field(event: &Event) -> Option<(IpAddr, Option<Cow<'_, str>>)> {
    ["source.ip", "IpAddress"].iter().find_map(|field| {
        let text = text(event, field)?;
        if let Ok(ip) = text.trim().parse::<std::net::Ipv4Addr>() {
            let written = match text {
                Cow::Borrowed(text) => Cow::Borrowed(text.trim()),
                Cow::Owned(text) => Cow::Owned(text.trim().to_owned()),
            };
            return Some((IpAddr::V4(ip), Some(written)));
        }
        Some((text.trim().parse::<IpAddr>().ok()?.to_canonical(), None))
    })
}

/// What the login detectors read of one event, read once per event and shared by all of
/// them through [`super::Seen`]: four detectors each reading the same five fields was a
/// tenth of the CPU of ingesting authentication events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// As [`outcome`]; `None` for events that are not logins, whose other facts are not read.
    pub outcome: Option<Outcome>,
    /// As [`is_success`].
    pub success: bool,
    /// As [`user`]. The names are [`Str`]s, inline when short (most names, every address):
    /// read for every login, three strings each were three allocations and frees.
    pub user: Option<Str>,
    /// As [`host`].
    pub host: Option<Str>,
    /// As [`source_ip`].
    pub source_ip: Option<IpAddr>,
    /// `source_ip` written out.
    pub source: Option<Str>,
    /// As [`connection`], with [`host`].
    pub connection: Option<u64>,
}

impl Facts {
    /// Reads the facts of `event`.
    #[must_use]
    pub fn read(event: &Event) -> Self {
        let (outcome, success) = judge(event);
        // A success in the sense of `is_success` is always an outcome: nothing else to read.
        if outcome.is_none() {
            return Self::default();
        }
        let host = host_field(event).map(|host| Str::lowercase(host.trim()));
        let (source_ip, source) = source_address(event).unzip();
        Self {
            outcome,
            success,
            user: user_field(event).map(|user| Str::lowercase(user.trim())),
            connection: connection(event, host.as_deref()),
            host,
            source,
            source_ip,
        }
    }
}

/// A tag for the connection a login line belongs to: the host (as [`host`] reads it, empty
/// when there is none) and `process.pid` hashed together, to recognise the second line
/// that one attempt can log (see [`SAME_ATTEMPT`]). `None` without a finite process id.
#[must_use]
pub fn connection(event: &Event, host: Option<&str>) -> Option<u64> {
    number(event, "process.pid")
        .filter(|pid| pid.is_finite())
        .map(|pid| connection_tag(host.unwrap_or(""), pid))
}

/// A stable hash (FNV-1a) of a host and a process id: saved with the detectors' state, so it
/// must not depend on a per-process random seed.
fn connection_tag(host: &str, pid: f64) -> u64 {
    #[allow(clippy::cast_possible_truncation)] // a pid that does not fit is garbage anyway
    let pid = pid as i64;
    // The host's bytes, a zero, then the pid's: three plain loops, which a chain of byte
    // iterators did not compile to.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut add = |bytes: &[u8]| {
        for &byte in bytes {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    add(host.as_bytes());
    add(&[0]);
    add(&pid.to_le_bytes());
    hash
}

#[cfg(test)]
mod tests {
    use palisade_event::Value;

    use super::*;

    /// The connection tag is saved with the detectors' state: it stays FNV-1a over the
    /// host's bytes, a zero and the pid's little-endian bytes, as state saved by earlier
    /// versions has it.
    #[test]
    fn the_connection_tag_is_fnv1a_of_host_and_pid() {
        let reference = |host: &str, pid: i64| {
            let mut bytes = host.as_bytes().to_vec();
            bytes.push(0);
            bytes.extend_from_slice(&pid.to_le_bytes());
            bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
                (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
            })
        };
        for host in ["", "h", "bastion.example.com", "ünïcode-host"] {
            for pid in [0_i64, 1, 4_242, 65_535, -7, i64::MAX] {
                #[allow(clippy::cast_precision_loss)]
                let tag = connection_tag(host, pid as f64);
                #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
                let expected = reference(host, (pid as f64) as i64);
                assert_eq!(tag, expected, "{host} {pid}");
            }
        }
        // One value worked out apart, by hand from the definition of FNV-1a.
        assert_eq!(connection_tag("h", 4_242.0), 0x6474_8b04_a148_7b57);
    }

    #[test]
    fn an_address_reads_as_display_writes_it() {
        for written in ["192.0.2.7", " 10.0.0.1 ", "::ffff:198.51.100.9", "2001:DB8::1", "0.0.0.0"]
        {
            let event = Event::from_fields(vec![("source.ip".into(), Value::from(written))]);
            let (ip, text) = source_address(&event).expect(written);
            assert_eq!(&*text, ip.to_string(), "{written}");
            assert_eq!(Some(ip), written.trim().parse::<IpAddr>().ok().map(|ip| ip.to_canonical()));
        }
        for refused in ["010.0.0.1", "1.2.3", "1.2.3.256", "host"] {
            let event = Event::from_fields(vec![("source.ip".into(), Value::from(refused))]);
            assert_eq!(source_address(&event), None, "{refused}");
        }
    }

    #[test]
    fn fields_are_read_ecs_first_and_normalised() {
        let event = Event::from_fields(vec![
            ("TargetUserName".into(), Value::from("Administrator")),
            ("user.name".into(), Value::from(" JDoe ")),
            ("Computer".into(), Value::from("FS01.corp.example")),
            ("IpAddress".into(), Value::from("-")),
            ("source.ip".into(), Value::from("::ffff:192.0.2.7")),
            ("process.pid".into(), Value::Int(4_242)),
        ]);
        assert_eq!(user(&event).as_deref(), Some("jdoe"));
        assert_eq!(host(&event).as_deref(), Some("fs01.corp.example"));
        assert_eq!(source_ip(&event), Some("192.0.2.7".parse().unwrap()));
        let tag = connection(&event, host(&event).as_deref());
        assert!(tag.is_some());
        assert_ne!(tag, connection(&event, None));
        assert_eq!(connection(&Event::new(), Some("h")), None);
    }

    #[test]
    fn facts_are_the_readings_of_each_function() {
        let events = [
            Event::from_fields(vec![
                ("event.category".into(), Value::from("authentication")),
                ("event.outcome".into(), Value::from("failure")),
                ("user.name".into(), Value::from("Root")),
                ("host.name".into(), Value::from("Bastion")),
                ("source.ip".into(), Value::from("::ffff:203.0.113.9")),
                ("process.pid".into(), Value::Int(77)),
            ]),
            Event::from_fields(vec![
                ("EventID".into(), Value::Int(4624)),
                ("TargetUserName".into(), Value::from("svc")),
                ("IpAddress".into(), Value::from("192.0.2.4")),
            ]),
            Event::from_fields(vec![("EventID".into(), Value::Int(4688))]),
            Event::new(),
        ];
        for event in &events {
            let facts = Facts::read(event);
            assert_eq!(facts.outcome, outcome(event));
            assert_eq!(facts.success, is_success(event));
            if facts.outcome.is_some() {
                assert_eq!(facts.user.as_deref(), user(event).as_deref());
                assert_eq!(facts.host.as_deref(), host(event).as_deref());
                assert_eq!(facts.source_ip, source_ip(event));
                assert_eq!(
                    facts.source.as_deref(),
                    source_ip(event).map(|ip| ip.to_string()).as_deref()
                );
                assert_eq!(facts.connection, connection(event, host(event).as_deref()));
            } else {
                assert_eq!(facts, Facts::default());
            }
        }
        assert_eq!(Facts::read(&events[0]).source.as_deref(), Some("203.0.113.9"));
        assert!(Facts::read(&events[1]).success);
    }

    #[test]
    fn outcomes_and_successes_of_each_kind_of_login() {
        use Outcome::{Failure, Success};
        let auth = |outcome: &str| {
            vec![
                ("event.category", Value::List(vec![Value::from("Authentication")])),
                ("event.outcome", Value::from(outcome)),
            ]
        };
        let windows = |id: Value, more: &[(&'static str, &str)]| {
            let mut fields = vec![("EventID", id)];
            fields.extend(more.iter().map(|(name, value)| (*name, Value::from(*value))));
            fields
        };
        type Case = (Vec<(&'static str, Value)>, Option<Outcome>, bool);
        let cases: Vec<Case> = vec![
            (auth("success"), Some(Success), true),
            (auth("FAILURE"), Some(Failure), false),
            (auth("unknown"), None, false),
            (windows(Value::Int(4624), &[]), Some(Success), true),
            (windows(Value::from("4624"), &[("Channel", "security")]), Some(Success), true),
            (windows(Value::Int(4624), &[("Channel", "System")]), None, false),
            (windows(Value::Int(4624), &[("Channel", "-")]), Some(Success), true),
            (windows(Value::Int(4625), &[]), Some(Failure), false),
            (windows(Value::Int(4771), &[("Channel", "Security")]), Some(Failure), false),
            (windows(Value::Int(4776), &[("Status", "0x0")]), Some(Success), false),
            (windows(Value::Int(4776), &[("Status", "0xC000006A")]), Some(Failure), false),
            (windows(Value::Int(4776), &[]), None, false),
            (windows(Value::Int(4688), &[]), None, false),
            (vec![("event.outcome", Value::from("success"))], None, false),
        ];
        for (fields, expected_outcome, expected_success) in cases {
            let event = Event::from_fields(
                fields.iter().map(|(name, value)| ((*name).into(), value.clone())).collect(),
            );
            assert_eq!(outcome(&event), expected_outcome, "{fields:?}");
            assert_eq!(is_success(&event), expected_success, "{fields:?}");
            let facts = Facts::read(&event);
            assert_eq!((facts.outcome, facts.success), (expected_outcome, expected_success));
        }
    }

    #[test]
    fn is_success_is_stricter_than_outcome() {
        // An ECS authentication event without a usable outcome, on a Windows logon.
        let event = Event::from_fields(vec![
            ("event.category".into(), Value::from("authentication")),
            ("event.outcome".into(), Value::from("unknown")),
            ("EventID".into(), Value::Int(4624)),
        ]);
        assert_eq!(outcome(&event), Some(Outcome::Success));
        assert!(!is_success(&event));
        let ntlm = Event::from_fields(vec![
            ("EventID".into(), Value::Int(4776)),
            ("Status".into(), Value::from("0x0")),
        ]);
        assert_eq!(outcome(&ntlm), Some(Outcome::Success));
        assert!(!is_success(&ntlm));
    }
}
