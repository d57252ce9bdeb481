//! PRI: `<` facility × 8 + severity `>` at the start of a message, and the names of both.

/// A syslog facility (RFC 5424 table 1), named as syslog.conf selectors and rsyslog's
/// `syslogfacility-text` name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[allow(missing_docs)] // The variants are the names themselves.
pub enum Facility {
    Kern,
    User,
    Mail,
    Daemon,
    Auth,
    Syslog,
    Lpr,
    News,
    Uucp,
    Cron,
    Authpriv,
    Ftp,
    Ntp,
    Audit,
    Alert,
    Clock,
    Local0,
    Local1,
    Local2,
    Local3,
    Local4,
    Local5,
    Local6,
    Local7,
}

const FACILITIES: [(Facility, &str); 24] = [
    (Facility::Kern, "kern"),
    (Facility::User, "user"),
    (Facility::Mail, "mail"),
    (Facility::Daemon, "daemon"),
    (Facility::Auth, "auth"),
    (Facility::Syslog, "syslog"),
    (Facility::Lpr, "lpr"),
    (Facility::News, "news"),
    (Facility::Uucp, "uucp"),
    (Facility::Cron, "cron"),
    (Facility::Authpriv, "authpriv"),
    (Facility::Ftp, "ftp"),
    (Facility::Ntp, "ntp"),
    (Facility::Audit, "audit"),
    (Facility::Alert, "alert"),
    (Facility::Clock, "clock"),
    (Facility::Local0, "local0"),
    (Facility::Local1, "local1"),
    (Facility::Local2, "local2"),
    (Facility::Local3, "local3"),
    (Facility::Local4, "local4"),
    (Facility::Local5, "local5"),
    (Facility::Local6, "local6"),
    (Facility::Local7, "local7"),
];

impl Facility {
    /// Returns the facility of a code from 0 to 23.
    #[must_use]
    pub fn from_code(code: u8) -> Option<Self> {
        FACILITIES.get(usize::from(code)).map(|(facility, _)| *facility)
    }

    /// Returns the numeric code (0 to 23).
    #[must_use]
    pub fn code(self) -> u8 {
        self as u8
    }

    /// Returns the keyword: `kern`, `user`, ..., `authpriv`, ..., `local7`.
    #[must_use]
    pub fn name(self) -> &'static str {
        FACILITIES[usize::from(self.code())].1
    }
}

/// A syslog severity (RFC 5424 table 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[allow(missing_docs)] // The variants are the names themselves.
pub enum Severity {
    Emergency,
    Alert,
    Critical,
    Error,
    Warning,
    Notice,
    Informational,
    Debug,
}

const SEVERITIES: [(Severity, &str); 8] = [
    (Severity::Emergency, "Emergency"),
    (Severity::Alert, "Alert"),
    (Severity::Critical, "Critical"),
    (Severity::Error, "Error"),
    (Severity::Warning, "Warning"),
    (Severity::Notice, "Notice"),
    (Severity::Informational, "Informational"),
    (Severity::Debug, "Debug"),
];

impl Severity {
    /// Returns the severity of a code from 0 to 7.
    #[must_use]
    pub fn from_code(code: u8) -> Option<Self> {
        SEVERITIES.get(usize::from(code)).map(|(severity, _)| *severity)
    }

    /// Returns the numeric code (0 to 7).
    #[must_use]
    pub fn code(self) -> u8 {
        self as u8
    }

    /// Returns the name as ECS writes it in its example and Elastic's syslog parsers emit
    /// it: `Emergency`, `Alert`, `Critical`, `Error`, `Warning`, `Notice`, `Informational`,
    /// `Debug`.
    #[must_use]
    pub fn name(self) -> &'static str {
        SEVERITIES[usize::from(self.code())].1
    }
}

/// What the start of a message said about its priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pri {
    /// No `<digits>` at the start (files usually have none).
    Missing,
    /// A PRI from 0 to 191.
    Valid(Facility, Severity),
    /// `<` one to three digits `>` but above 191: read past, with no facility or severity.
    OutOfRange,
}

/// Reads the PRI at the start of `bytes`: `<` one to three digits `>`. Leading zeros are
/// accepted (RFC 5424 forbids them, some senders write them). Returns the rest after `>`, or
/// all of `bytes` when there is no PRI.
pub(crate) fn parse_pri(bytes: &[u8]) -> (Pri, &[u8]) {
    let Some(rest) = bytes.strip_prefix(b"<") else { return (Pri::Missing, bytes) };
    let n_digits = rest.iter().take(4).take_while(|byte| byte.is_ascii_digit()).count();
    if !(1..=3).contains(&n_digits) || rest.get(n_digits) != Some(&b'>') {
        return (Pri::Missing, bytes);
    }
    let value =
        rest[..n_digits].iter().fold(0_u16, |acc, digit| acc * 10 + u16::from(digit - b'0'));
    let after = &rest[n_digits + 1..];
    let pri = u8::try_from(value)
        .ok()
        .and_then(|value| {
            Some(Pri::Valid(Facility::from_code(value / 8)?, Severity::from_code(value % 8)?))
        })
        .unwrap_or(Pri::OutOfRange);
    (pri, after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pri_splits_into_facility_and_severity() {
        assert_eq!(parse_pri(b"<13>x"), (Pri::Valid(Facility::User, Severity::Notice), &b"x"[..]));
        assert_eq!(parse_pri(b"<0>"), (Pri::Valid(Facility::Kern, Severity::Emergency), &b""[..]));
        assert_eq!(parse_pri(b"<191>"), (Pri::Valid(Facility::Local7, Severity::Debug), &b""[..]));
        assert_eq!(
            parse_pri(b"<086>"),
            (Pri::Valid(Facility::Authpriv, Severity::Informational), &b""[..])
        );
    }

    #[test]
    fn out_of_range_and_malformed_pri() {
        assert_eq!(parse_pri(b"<192>x"), (Pri::OutOfRange, &b"x"[..]));
        assert_eq!(parse_pri(b"<999>x"), (Pri::OutOfRange, &b"x"[..]));
        assert_eq!(parse_pri(b"<1000>x"), (Pri::Missing, &b"<1000>x"[..]));
        assert_eq!(parse_pri(b"<>x"), (Pri::Missing, &b"<>x"[..]));
        assert_eq!(parse_pri(b"<13"), (Pri::Missing, &b"<13"[..]));
        assert_eq!(parse_pri(b"<a>"), (Pri::Missing, &b"<a>"[..]));
        assert_eq!(parse_pri(b""), (Pri::Missing, &b""[..]));
    }

    #[test]
    fn names_follow_codes() {
        for code in 0..24 {
            let facility = Facility::from_code(code).unwrap();
            assert_eq!(facility.code(), code);
        }
        assert_eq!(Facility::Authpriv.name(), "authpriv");
        assert_eq!(Facility::Local7.name(), "local7");
        assert_eq!(Facility::from_code(24), None);
        for code in 0..8 {
            assert_eq!(Severity::from_code(code).unwrap().code(), code);
        }
        assert_eq!(Severity::Error.name(), "Error");
        assert_eq!(Severity::from_code(8), None);
    }
}
