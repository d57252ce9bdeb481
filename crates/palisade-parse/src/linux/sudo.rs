//! sudo's own log lines: `USER : [REASON ; ]TTY=T ; PWD=D ; USER=R ; [GROUP=G ; ][TSID=N ; ]
//! [ENV=... ; ]COMMAND=C`. `COMMAND=` comes last and takes the rest of the line, ` ; `
//! included. sudo's PAM lines (`pam_unix(sudo:session): ...`) are read by the PAM parser.

use super::{Action, Record};

const COMMAND: Action = Action {
    name: "sudo_command",
    category: &["process"],
    types: &["start"],
    outcome: Some("success"),
    description: "`user.name` ran `process.command_line` as `user.target.name` in `process.working_directory`.",
    example: (
        "sudo",
        "alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx",
    ),
};
const COMMAND_CONTINUED: Action = Action {
    name: "sudo_command_continued",
    category: &["process"],
    types: &["info"],
    outcome: None,
    description: "The next part of a command line too long for one syslog line.",
    example: ("sudo", "alice : (command continued) --verbose --output=/tmp/out.txt"),
};
const AUTH_FAILURE: Action = Action {
    name: "sudo_auth_failure",
    category: &["authentication"],
    types: &["start"],
    outcome: Some("failure"),
    description: "`user.name` typed a wrong password for sudo; `event.reason` gives the count.",
    example: (
        "sudo",
        "alice : 3 incorrect password attempts ; TTY=pts/2 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id",
    ),
};
const DENIED: Action = Action {
    name: "sudo_denied",
    category: &["process"],
    types: &["start"],
    outcome: Some("failure"),
    description: "sudo refused the command (`user NOT in sudoers`, `command not allowed`...); `event.reason` says why.",
    example: (
        "sudo",
        "mallory : user NOT in sudoers ; TTY=pts/1 ; PWD=/home/mallory ; USER=root ; COMMAND=/bin/bash",
    ),
};

/// The sudo actions, in documentation order.
pub(super) static ACTIONS: &[Action] = &[COMMAND, COMMAND_CONTINUED, AUTH_FAILURE, DENIED];

/// Parses one sudo message.
pub(super) fn parse(message: &str) -> Option<Record> {
    // sudo pads the user name on the left: `    tsg : user NOT in sudoers ; ...`.
    let (user, rest) = message.trim_start().split_once(" : ")?;
    if user.is_empty() || user.contains(char::is_whitespace) {
        return None;
    }
    if let Some(command) = rest.strip_prefix("(command continued) ") {
        let mut record = Record::new(&COMMAND_CONTINUED);
        record.user("user.name", user);
        record.command_line(command);
        return Some(record);
    }
    let mut reason = None;
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    let mut command = None;
    let mut rest = rest;
    while !rest.is_empty() {
        if let Some(text) = rest.strip_prefix("COMMAND=") {
            command = Some(text);
            break;
        }
        let (segment, tail) = rest.split_once(" ; ").unwrap_or((rest, ""));
        rest = tail;
        match segment.split_once('=') {
            Some((key, value)) if is_key(key) => pairs.push((key, value)),
            _ if reason.is_none() && pairs.is_empty() => reason = Some(segment),
            _ => {}
        }
    }
    // Every audit line ends with `COMMAND=`. Without it the line is something else
    // (`unable to resolve host ...`) or was cut short, and its last value may be cut too.
    let command = command?;
    let action = match reason {
        None => &COMMAND,
        Some(reason)
            if reason.contains("incorrect password attempt")
                || reason.contains("authentication failure") =>
        {
            &AUTH_FAILURE
        }
        Some(_) => &DENIED,
    };
    let mut record = Record::new(action);
    record.user("user.name", user);
    if let Some(reason) = reason {
        record.text("event.reason", reason);
    }
    for (key, value) in pairs {
        match key {
            "TTY" if value != "unknown" => record.name("system.auth.tty", value),
            "PWD" => record.text("process.working_directory", value),
            "USER" => {
                record.user("user.target.name", value);
                record.name("user.effective.name", value);
            }
            "GROUP" => {
                record.name("user.target.group.name", value);
                record.name("user.effective.group.name", value);
            }
            _ => {}
        }
    }
    record.command_line(command);
    Some(record)
}

/// sudo's setting names are upper-case words (`TTY`, `PWD`, `USER`, `GROUP`, `TSID`, `ENV`,
/// `CHROOT`, `CWD`...).
fn is_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= 16 && key.bytes().all(|byte| byte.is_ascii_uppercase())
}
