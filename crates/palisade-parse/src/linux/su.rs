//! su's own log lines, in the util-linux wording (`(to root) alice on pts/0`, `FAILED SU (to
//! root) alice on pts/0`) and the older shadow-utils wording (`Successful su for root by
//! alice`, `+ pts/0 alice:root`). su's PAM lines (`pam_unix(su:session): ...`) are read by the
//! PAM parser.

use super::{Action, Record};

const SESSION: Action = Action {
    name: "su_session",
    category: &["authentication", "session"],
    types: &["start"],
    outcome: Some("success"),
    description: "`user.name` switched to `user.target.name` with su.",
    example: ("su", "(to root) alice on pts/0"),
};
const FAILURE: Action = Action {
    name: "su_failure",
    category: &["authentication"],
    types: &["start"],
    outcome: Some("failure"),
    description: "A failed su: wrong password or refused.",
    example: ("su", "FAILED SU (to root) mallory on pts/3"),
};

/// The su actions, in documentation order.
pub(super) static ACTIONS: &[Action] = &[SESSION, FAILURE];

/// Parses one su message.
pub(super) fn parse(message: &str) -> Option<Record> {
    let message = message.trim_start();
    if let Some(rest) = message.strip_prefix("FAILED SU ") {
        return switch(&FAILURE, rest);
    }
    if message.starts_with("(to ") {
        return switch(&SESSION, message);
    }
    if let Some(rest) = message.strip_prefix("Successful su for ") {
        return for_by(&SESSION, rest);
    }
    if let Some(rest) = message.strip_prefix("FAILED su for ") {
        return for_by(&FAILURE, rest);
    }
    if let Some(rest) = message.strip_prefix("+ ") {
        return tty_pair(&SESSION, rest);
    }
    if let Some(rest) = message.strip_prefix("- ") {
        return tty_pair(&FAILURE, rest);
    }
    if message.starts_with("pam_authenticate: ") {
        let mut record = Record::new(&FAILURE);
        record.text("event.reason", message);
        return Some(record);
    }
    None
}

/// `(to TARGET) USER on TTY`.
fn switch(action: &'static Action, text: &str) -> Option<Record> {
    let rest = text.strip_prefix("(to ")?;
    let (target, rest) = rest.split_once(") ")?;
    let (user, tty) = rest.rsplit_once(" on ")?;
    let mut record = record(action, user, target);
    tty_field(&mut record, tty);
    Some(record)
}

/// `TARGET by USER`.
fn for_by(action: &'static Action, text: &str) -> Option<Record> {
    let (target, user) = text.split_once(" by ")?;
    Some(record(action, user.trim(), target))
}

/// `TTY USER:TARGET`.
fn tty_pair(action: &'static Action, text: &str) -> Option<Record> {
    let (tty, users) = text.split_once(' ')?;
    let (user, target) = users.split_once(':')?;
    let mut record = record(action, user, target.trim());
    tty_field(&mut record, tty);
    Some(record)
}

fn record(action: &'static Action, user: &str, target: &str) -> Record {
    let mut record = Record::new(action);
    record.user("user.name", user);
    record.user("user.target.name", target);
    record.name("user.effective.name", target);
    record
}

/// su writes `none` (util-linux) or `???` (shadow) when there is no terminal.
fn tty_field(record: &mut Record, tty: &str) {
    if !matches!(tty, "none" | "???") {
        record.name("system.auth.tty", tty);
    }
}
