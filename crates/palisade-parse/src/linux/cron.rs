//! cron (Debian `CRON`/`cron`, cronie `crond`/`CROND`) and crontab(1) lines, all of the shape
//! `(USER) VERB (TEXT)`: `(root) CMD (run-parts /etc/cron.hourly)`, `(root) REPLACE (bob)`,
//! `(CRON) INFO (pidfile fd = 3)`. Their PAM lines (`pam_unix(cron:session): ...`) are read
//! by the PAM parser.

use super::{Action, Record};

const COMMAND: Action = Action {
    name: "cron_command",
    category: &["process"],
    types: &["start"],
    outcome: Some("success"),
    description: "cron started a job: `process.command_line` as `user.name`.",
    example: ("CRON", "(root) CMD (   cd / && run-parts --report /etc/cron.hourly)"),
};
const COMMAND_END: Action = Action {
    name: "cron_command_end",
    category: &["process"],
    types: &["end"],
    outcome: Some("success"),
    description: "A cron job ended (cronie).",
    example: ("CROND", "(root) CMDEND (run-parts /etc/cron.hourly)"),
};
const RELOAD: Action = Action {
    name: "cron_reload",
    category: &["configuration"],
    types: &["change"],
    outcome: Some("success"),
    description: "cron re-read a changed crontab, `file.path`.",
    example: ("cron", "(root) RELOAD (crontabs/root)"),
};
const CRONTAB_REPLACE: Action = Action {
    name: "crontab_replace",
    category: &["configuration"],
    types: &["change"],
    outcome: Some("success"),
    description: "`user.name` installed a new crontab for `user.target.name`: a persistence technique (ATT&CK T1053.003).",
    example: ("crontab", "(root) REPLACE (bob)"),
};
const CRONTAB_DELETE: Action = Action {
    name: "crontab_delete",
    category: &["configuration"],
    types: &["deletion"],
    outcome: Some("success"),
    description: "`user.name` removed the crontab of `user.target.name`.",
    example: ("crontab", "(bob) DELETE (bob)"),
};
const CRONTAB_EDIT: Action = Action {
    name: "crontab_edit",
    category: &["configuration"],
    types: &["access"],
    outcome: Some("success"),
    description: "`user.name` opened or closed the crontab of `user.target.name` in an editor (`crontab -e`).",
    example: ("crontab", "(bob) BEGIN EDIT (bob)"),
};
const CRONTAB_LIST: Action = Action {
    name: "crontab_list",
    category: &["configuration"],
    types: &["access"],
    outcome: Some("success"),
    description: "`user.name` listed the crontab of `user.target.name` (`crontab -l`).",
    example: ("crontab", "(bob) LIST (bob)"),
};
const DAEMON: Action = Action {
    name: "cron_daemon",
    category: &["process"],
    types: &["info"],
    outcome: None,
    description: "Another cron message: `system.auth.cron.operation` is the verb (`INFO`, `STARTUP`, `CMDOUT`, `ERROR`...), `system.auth.cron.text` the text.",
    example: ("cron", "(CRON) INFO (Running @reboot jobs)"),
};

/// The cron actions, in documentation order.
pub(super) static ACTIONS: &[Action] = &[
    COMMAND,
    COMMAND_END,
    RELOAD,
    CRONTAB_REPLACE,
    CRONTAB_DELETE,
    CRONTAB_EDIT,
    CRONTAB_LIST,
    DAEMON,
];

/// Parses one cron or crontab message.
pub(super) fn parse(message: &str) -> Option<Record> {
    let rest = message.trim_start().strip_prefix('(')?;
    let (user, rest) = rest.split_once(") ")?;
    let (verb, text) = rest.split_once(" (")?;
    if user.is_empty() || !is_verb(verb) {
        return None;
    }
    // A line cut short loses the closing parenthesis; the text is kept as far as it goes.
    let text = text.strip_suffix(')').unwrap_or(text);
    // `CRON` is the daemon itself, `*system*` (and anacron's `*system*NAME`) /etc/crontab.
    let user = if user == "CRON" || user.starts_with("*system*") { "" } else { user };
    let mut record = match verb {
        "CMD" => command(&COMMAND, text),
        "CMDEND" => command(&COMMAND_END, text),
        "RELOAD" => {
            let mut record = Record::new(&RELOAD);
            record.text("file.path", text);
            record
        }
        "REPLACE" => crontab(&CRONTAB_REPLACE, text),
        "DELETE" => crontab(&CRONTAB_DELETE, text),
        "BEGIN EDIT" | "END EDIT" => crontab(&CRONTAB_EDIT, text),
        "LIST" => crontab(&CRONTAB_LIST, text),
        _ => {
            let mut record = Record::new(&DAEMON);
            record.name("system.auth.cron.operation", verb);
            record.text("system.auth.cron.text", text);
            record
        }
    };
    record.user("user.name", user);
    Some(record)
}

fn command(action: &'static Action, command_line: &str) -> Record {
    let mut record = Record::new(action);
    // The spaces after `(` come from the alignment of the crontab line.
    record.command_line(command_line.trim_start());
    record
}

/// A crontab(1) operation on the crontab of the user in parentheses.
fn crontab(action: &'static Action, owner: &str) -> Record {
    let mut record = Record::new(action);
    record.user("user.target.name", owner);
    record
}

/// cron verbs are short words in capitals (`CMD`, `BEGIN EDIT`), except Debian's `info`.
fn is_verb(verb: &str) -> bool {
    !verb.is_empty()
        && verb.len() <= 32
        && verb.bytes().all(|byte| byte.is_ascii_alphabetic() || matches!(byte, b' ' | b'_'))
}
