//! systemd-logind: sessions (`New session 12 of user alice.`, and since systemd 256 `New
//! session '12' of user 'alice' with class 'user' and type 'tty'.`), seats and shutdown.

use super::{Action, Record};

const NEW_SESSION: Action = Action {
    name: "logind_new_session",
    category: &["session"],
    types: &["start"],
    outcome: Some("success"),
    description: "logind registered a login session `session.id` for `user.name` (ssh, console, graphical, cron with pam_systemd).",
    example: ("systemd-logind", "New session 12 of user alice."),
};
const SESSION_LOGGED_OUT: Action = Action {
    name: "logind_session_logged_out",
    category: &["session"],
    types: &["end"],
    outcome: Some("success"),
    description: "The user of session `session.id` logged out; processes may still run.",
    example: ("systemd-logind", "Session 12 logged out. Waiting for processes to exit."),
};
const REMOVED_SESSION: Action = Action {
    name: "logind_removed_session",
    category: &["session"],
    types: &["end"],
    outcome: Some("success"),
    description: "Session `session.id` is gone.",
    example: ("systemd-logind", "Removed session 12."),
};
const NEW_SEAT: Action = Action {
    name: "logind_new_seat",
    category: &["host"],
    types: &["info"],
    outcome: None,
    description: "logind found a seat (a set of screen, keyboard... for local logins).",
    example: ("systemd-logind", "New seat seat0."),
};
const SYSTEM_SHUTDOWN: Action = Action {
    name: "logind_system_shutdown",
    category: &["host"],
    types: &["end"],
    outcome: Some("success"),
    description: "The host is powering down, rebooting or halting.",
    example: ("systemd-logind", "System is rebooting."),
};
const POWER_KEY: Action = Action {
    name: "logind_power_key",
    category: &["host"],
    types: &["info"],
    outcome: None,
    description: "Someone pressed the power key: physical access to the host.",
    example: ("systemd-logind", "Power key pressed."),
};

/// The systemd-logind actions, in documentation order.
pub(super) static ACTIONS: &[Action] =
    &[NEW_SESSION, SESSION_LOGGED_OUT, REMOVED_SESSION, NEW_SEAT, SYSTEM_SHUTDOWN, POWER_KEY];

/// Parses one systemd-logind message.
pub(super) fn parse(message: &str) -> Option<Record> {
    let message = message.trim();
    if let Some(rest) = message.strip_prefix("New session ") {
        return new_session(rest);
    }
    if let Some(rest) = message.strip_prefix("Session ") {
        let (id, _) = rest.split_once(" logged out.")?;
        return session(&SESSION_LOGGED_OUT, id);
    }
    if let Some(rest) = message.strip_prefix("Removed session ") {
        return session(&REMOVED_SESSION, rest.strip_suffix('.').unwrap_or(rest));
    }
    if let Some(seat) = message.strip_prefix("New seat ") {
        let mut record = Record::new(&NEW_SEAT);
        record.name("system.auth.logind.seat", seat.strip_suffix('.').unwrap_or(seat));
        return Some(record);
    }
    if matches!(
        message,
        "System is powering down."
            | "System is rebooting."
            | "System is halting."
            | "System is rebooting with kexec."
    ) {
        return Some(Record::new(&SYSTEM_SHUTDOWN));
    }
    if message.starts_with("Power key pressed") {
        return Some(Record::new(&POWER_KEY));
    }
    None
}

/// `ID of user USER.` or `'ID' of user 'USER' with class 'C' and type 'T'.`
fn new_session(rest: &str) -> Option<Record> {
    let (id, rest) = rest.split_once(" of user ")?;
    let rest = rest.strip_suffix('.').unwrap_or(rest);
    let mut record = session(&NEW_SESSION, unquote(id))?;
    match rest.split_once(" with class ") {
        Some((user, details)) => {
            record.user("user.name", unquote(user));
            let (class, kind) = details.split_once(" and type ").unwrap_or((details, ""));
            record.name("system.auth.logind.session_class", unquote(class));
            record.name("system.auth.logind.session_type", unquote(kind));
        }
        None => record.user("user.name", unquote(rest)),
    }
    Some(record)
}

fn session(action: &'static Action, id: &str) -> Option<Record> {
    let id = unquote(id);
    // Session ids are short words: `12`, `c1`.
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|byte| byte.is_ascii_alphanumeric()) {
        return None;
    }
    let mut record = Record::new(action);
    record.name("session.id", id);
    Some(record)
}

fn unquote(text: &str) -> &str {
    text.strip_prefix('\'').and_then(|inner| inner.strip_suffix('\'')).unwrap_or(text)
}
