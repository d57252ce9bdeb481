//! PAM messages, from any program: `pam_unix(sshd:auth): ...` (Linux-PAM 0.99 and later),
//! `sshd(pam_unix)[pid]: ...` (older Linux-PAM, the module in the program name), and the two
//! lines libpam writes itself (`PAM 2 more authentication failures; ...`, `PAM service(sshd)
//! ignoring max retries; 6 > 3`).
//!
//! A message of a PAM module that none of the shapes below matches is still recognised, as
//! `pam_message`, with its module, service and operation.

use super::{Action, Record, is_digits, parse_int};

const AUTH_FAILURE: Action = Action {
    name: "pam_auth_failure",
    category: &["authentication"],
    types: &["start"],
    outcome: Some("failure"),
    description: "A PAM module rejected the credentials of `user.name` (the account checked); `source.*` is PAM's rhost.",
    example: (
        "sshd",
        "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.9  user=root",
    ),
};
const MORE_FAILURES: Action = Action {
    name: "pam_more_auth_failures",
    category: &["authentication"],
    types: &["info"],
    outcome: Some("failure"),
    description: "libpam's summary of further failures in one conversation; the count is in `system.auth.pam.more_failures`.",
    example: (
        "sshd",
        "PAM 2 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.9  user=root",
    ),
};
const MAX_RETRIES: Action = Action {
    name: "pam_max_retries",
    category: &["authentication"],
    types: &["info"],
    outcome: Some("failure"),
    description: "A PAM conversation went over its retry limit.",
    example: ("sshd", "PAM service(sshd) ignoring max retries; 6 > 3"),
};
const USER_UNKNOWN: Action = Action {
    name: "pam_user_unknown",
    category: &["authentication"],
    types: &["info"],
    outcome: Some("failure"),
    description: "Authentication asked for an account that does not exist.",
    example: ("sshd", "pam_unix(sshd:auth): check pass; user unknown"),
};
const NO_PASSWORD: Action = Action {
    name: "pam_no_password",
    category: &["authentication"],
    types: &["info"],
    outcome: Some("failure"),
    description: "No password was given (the prompt was cancelled or timed out).",
    example: ("sudo", "pam_unix(sudo:auth): auth could not identify password for [alice]"),
};
const REQUIREMENT_NOT_MET: Action = Action {
    name: "pam_requirement_not_met",
    category: &["authentication"],
    types: &["info"],
    outcome: Some("failure"),
    description: "A pam_succeed_if condition failed for the user; `event.reason` is the condition.",
    example: (
        "sshd",
        "pam_succeed_if(sshd:auth): requirement \"uid >= 1000\" not met by user \"root\"",
    ),
};
const ACCOUNT_EXPIRED: Action = Action {
    name: "pam_account_expired",
    category: &["authentication"],
    types: &["info"],
    outcome: Some("failure"),
    description: "The account or its password has expired.",
    example: ("sshd", "pam_unix(sshd:account): account bob has expired (account expired)"),
};
const ACCOUNT_LOCKED: Action = Action {
    name: "pam_account_locked",
    category: &["authentication"],
    types: &["info"],
    outcome: Some("failure"),
    description: "pam_faillock locked the account after consecutive failures.",
    example: (
        "sshd",
        "pam_faillock(sshd:auth): Consecutive login failures for user root account temporarily locked",
    ),
};
const SESSION_OPEN: Action = Action {
    name: "pam_session_open",
    category: &["session"],
    types: &["start"],
    outcome: Some("success"),
    description: "A session opened (login, sudo, su, cron job); when another user opened it (`by alice`), `user.name` is that user and `user.target.name` the session's account.",
    example: (
        "sudo",
        "pam_unix(sudo:session): session opened for user root(uid=0) by alice(uid=1000)",
    ),
};
const SESSION_CLOSE: Action = Action {
    name: "pam_session_close",
    category: &["session"],
    types: &["end"],
    outcome: Some("success"),
    description: "A session closed.",
    example: ("CRON", "pam_unix(cron:session): session closed for user root"),
};
const PASSWORD_CHANGED: Action = Action {
    name: "pam_password_changed",
    category: &["iam"],
    types: &["user", "change"],
    outcome: Some("success"),
    description: "The password of `user.name` was changed.",
    example: ("passwd", "pam_unix(passwd:chauthtok): password changed for alice"),
};
const MESSAGE: Action = Action {
    name: "pam_message",
    category: &["authentication"],
    types: &["info"],
    outcome: None,
    description: "Another message of a PAM module: read `message`; the module, service and operation are set.",
    example: ("sudo", "pam_unix(sudo:auth): conversation failed"),
};

/// The PAM actions, in documentation order.
pub(super) static ACTIONS: &[Action] = &[
    AUTH_FAILURE,
    MORE_FAILURES,
    MAX_RETRIES,
    USER_UNKNOWN,
    NO_PASSWORD,
    REQUIREMENT_NOT_MET,
    ACCOUNT_EXPIRED,
    ACCOUNT_LOCKED,
    SESSION_OPEN,
    SESSION_CLOSE,
    PASSWORD_CHANGED,
    MESSAGE,
];

/// Parses `pam_MODULE(SERVICE:OPERATION): TEXT` and libpam's own `PAM ...` lines, whatever
/// the program.
pub(super) fn parse(message: &str) -> Option<Record> {
    if let Some(rest) = message.strip_prefix("PAM ") {
        return libpam(rest);
    }
    if !message.starts_with("pam_") {
        return None;
    }
    let open = message.find('(')?;
    let module = &message[..open];
    if module.len() > 64
        || !module.bytes().all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-'))
    {
        return None;
    }
    let (inside, text) = message[open + 1..].split_once("):")?;
    let (service, operation) = inside.rsplit_once(':').unwrap_or((inside, ""));
    let mut record = parse_text(text.trim_start());
    record.name("system.auth.pam.module", module);
    record.name("system.auth.pam.service", service);
    record.name("system.auth.pam.operation", operation);
    Some(record)
}

/// Parses the message of `SERVICE(pam_MODULE)[pid]: TEXT`, the format of Linux-PAM before
/// 0.99. Always recognised: the program name already says it is PAM.
pub(super) fn parse_legacy(service: &str, module: &str, message: &str) -> Record {
    let mut record = parse_text(message.trim_start());
    record.name("system.auth.pam.module", module);
    record.name("system.auth.pam.service", service);
    record
}

/// `N more authentication failure[s]; KEY=VALUE...`, `service(S) ignoring max retries; N > M`.
fn libpam(rest: &str) -> Option<Record> {
    if let Some(rest) = rest.strip_prefix("service(") {
        let (service, rest) = rest.split_once(") ignoring max retries; ")?;
        let (retries, max) = rest.split_once(" > ")?;
        let mut record = Record::new(&MAX_RETRIES);
        record.name("system.auth.pam.service", service);
        if let Some(retries) = parse_int(retries) {
            record.int("system.auth.pam.retries", retries);
        }
        if let Some(max) = parse_int(max.trim()) {
            record.int("system.auth.pam.max_retries", max);
        }
        return Some(record);
    }
    let (count, rest) = rest.split_once(" more authentication failure")?;
    let count = parse_int(count)?;
    let rest = rest.strip_prefix('s').unwrap_or(rest);
    let mut record = Record::new(&MORE_FAILURES);
    record.int("system.auth.pam.more_failures", count);
    if let Some(pairs) = rest.strip_prefix(';') {
        key_values(&mut record, pairs);
    }
    Some(record)
}

/// Reads the text after the `module(service:operation): ` prefix.
fn parse_text(text: &str) -> Record {
    if let Some(pairs) = text.strip_prefix("authentication failure;") {
        let mut record = Record::new(&AUTH_FAILURE);
        key_values(&mut record, pairs);
        return record;
    }
    if text.starts_with("check pass; user unknown") {
        return Record::new(&USER_UNKNOWN);
    }
    if let Some(rest) = text.strip_prefix("session opened for user ") {
        return session_opened(rest);
    }
    if let Some(user) = text.strip_prefix("session closed for user ") {
        let mut record = Record::new(&SESSION_CLOSE);
        record.user("user.name", unquote(user.trim()));
        return record;
    }
    if let Some(user) = text.strip_prefix("password changed for ") {
        let mut record = Record::new(&PASSWORD_CHANGED);
        record.user("user.name", unquote(user.trim()));
        return record;
    }
    if let Some(user) = text
        .strip_prefix("account ")
        .and_then(|rest| rest.split_once(" has expired"))
        .map(|(user, _)| user)
        .or_else(|| {
            let rest = text.strip_prefix("expired password for user ")?;
            Some(rest.split_once(" (").map_or(rest, |(user, _)| user))
        })
    {
        let mut record = Record::new(&ACCOUNT_EXPIRED);
        record.user("user.name", unquote(user));
        return record;
    }
    if let Some(rest) = text.strip_prefix("auth could not identify password for [") {
        let mut record = Record::new(&NO_PASSWORD);
        record.user("user.name", rest.strip_suffix(']').unwrap_or(rest));
        return record;
    }
    if let Some(rest) = text.strip_prefix("requirement \"")
        && let Some((requirement, user)) = rest.rsplit_once("\" not met by user ")
    {
        let mut record = Record::new(&REQUIREMENT_NOT_MET);
        record.text("event.reason", requirement);
        record.user("user.name", unquote(user));
        return record;
    }
    if let Some(rest) = text.strip_prefix("Consecutive login failures for user ")
        && let Some((user, _)) = rest.rsplit_once(" account temporarily locked")
    {
        let mut record = Record::new(&ACCOUNT_LOCKED);
        record.user("user.name", unquote(user));
        return record;
    }
    if let Some(rest) = text.strip_prefix("User '")
        && let Some(user) = rest.strip_suffix("' not found")
    {
        let mut record = Record::new(&USER_UNKNOWN);
        record.user("user.name", user);
        return record;
    }
    Record::new(&MESSAGE)
}

/// `U[(uid=N)] by [L](uid=N)` after `session opened for user `.
fn session_opened(rest: &str) -> Record {
    let mut record = Record::new(&SESSION_OPEN);
    let rest = rest.trim();
    let (for_part, by_part) = match rest.rsplit_once(" by ") {
        Some((for_part, by_part)) => (for_part, Some(by_part)),
        None => (rest, None),
    };
    let (for_name, for_uid) = name_and_uid(for_part);
    let (by_name, by_uid) = by_part.map_or(("", None), name_and_uid);
    // login(1) puts the placeholder `LOGIN` in utmp before anyone has logged in, and
    // getlogin() returns it: it names no user.
    let by_name = if by_name == "LOGIN" { "" } else { by_name };
    if !by_name.is_empty() && by_name != for_name {
        record.user("user.name", by_name);
        record.user("user.target.name", for_name);
        record.user("user.effective.name", for_name);
        if let Some(uid) = for_uid {
            record.name("user.target.id", uid);
            record.name("user.effective.id", uid);
        }
    } else {
        record.user("user.name", for_name);
        if let Some(uid) = for_uid {
            record.name("user.id", uid);
        }
    }
    // The uid after `by` is getuid() of the program that opened the session.
    if let Some(uid) = by_uid {
        record.name("process.real_user.id", uid);
    }
    record
}

/// Splits `name(uid=N)` (either part may be missing) and drops quotes around the name.
fn name_and_uid(text: &str) -> (&str, Option<&str>) {
    if let Some(inner) = text.strip_suffix(')')
        && let Some((name, uid)) = inner.rsplit_once("(uid=")
        && is_digits(uid)
    {
        return (unquote(name), Some(uid));
    }
    (unquote(text), None)
}

/// Reads `logname=L uid=N euid=N tty=T ruser=R rhost=H  user=U`. `user=` comes last and
/// takes the rest of the line, because a user name may contain spaces.
fn key_values(record: &mut Record, pairs: &str) {
    let mut rest = pairs.trim_start();
    while !rest.is_empty() {
        if let Some(user) = rest.strip_prefix("user=") {
            record.user("user.name", user.trim_end());
            return;
        }
        let (token, tail) = rest.split_once(' ').unwrap_or((rest, ""));
        rest = tail.trim_start();
        let Some((key, value)) = token.split_once('=') else { continue };
        match key {
            "logname" => {
                record.name("system.auth.pam.logname", value);
                record.related_user(value);
            }
            "ruser" => {
                record.name("system.auth.pam.ruser", value);
                record.related_user(value);
            }
            "uid" if is_digits(value) => record.name("process.real_user.id", value),
            "euid" if is_digits(value) => record.name("process.user.id", value),
            "tty" => record.name("system.auth.tty", value),
            "rhost" => record.source(value),
            _ => {}
        }
    }
}

fn unquote(text: &str) -> &str {
    text.strip_prefix('"').and_then(|inner| inner.strip_suffix('"')).unwrap_or(text)
}
