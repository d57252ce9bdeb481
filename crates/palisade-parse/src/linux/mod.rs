//! Linux authentication logs (`/var/log/auth.log`, `/var/log/secure`, the same lines sent over
//! syslog) normalised to ECS fields.
//!
//! The input is what follows the syslog header: the program name (the APP-NAME or TAG, such
//! as `sshd`, `sudo`, `sshd(pam_unix)`, `CRON`, `systemd-logind`), the pid when the tag had one,
//! and the message text. [`parse_auth`] picks a parser by program and message shape and adds
//! the fields to an [`Event`]; it leaves the event untouched when nothing recognises the line,
//! so the caller keeps the raw message.
//!
//! One module per program: sshd (OpenSSH), PAM modules of any program
//! (`pam_unix(sshd:auth): ...`, `sshd(pam_unix)[pid]: ...`, `PAM 2 more authentication
//! failures; ...`), `sudo`, `su`, `cron`/`crond`/`crontab` and `systemd-logind`. The
//! syslog reduction `message repeated N times: [ ... ]` is unwrapped for every program.
//!
//! Parsing is prefix and suffix matching on `&str`, linear in the message length, with no
//! regular expression and no panic on any input. Every field is capped: names (users, hosts,
//! ttys, ids) at [`MAX_NAME_LEN`] bytes, free text (reasons, key signatures) at
//! [`MAX_TEXT_LEN`] and command lines at [`MAX_COMMAND_LEN`], cut on a character boundary.
//!
//! # Fields
//!
//! Every recognised line sets `event.dataset` = `system.auth`, `event.kind` = `event`,
//! `event.action`, `event.category` and `event.type` (lists), `event.outcome` where the line
//! states one, `process.name` (the program, without a path or a `(pam_unix)` suffix) and
//! `process.pid`. Then, where the line has them:
//!
//! | Field | Meaning |
//! |---|---|
//! | `user.name`, `user.id` | The account that acts or logs in (sudo and su: the invoking user). |
//! | `user.target.name`, `user.target.id`, `user.target.group.name` | The account (and sudo `GROUP=`) switched to (sudo `USER=`, su, PAM `session opened for user X by Y`), or the owner of an edited crontab. |
//! | `user.effective.name`, `user.effective.id`, `user.effective.group.name` | The same switched-to account, under the name Elastic's `system.auth` content uses. |
//! | `source.ip`, `source.port`, `source.address`, `source.domain` | The remote peer. `source.ip` is set only when the text parses as an IP address (IPv4, IPv6, `::ffff:a.b.c.d` kept as written); a PAM `rhost=` host name goes to `source.domain`. |
//! | `server.ip`, `server.address`, `server.port` | The address sshd listens on. |
//! | `destination.ip`, `destination.port` | The local end of an sshd connection (`Connection from ... on ...`). |
//! | `related.user`, `related.ip`, `related.hosts` | Every user name, IP address and host name seen on the line. |
//! | `process.command_line` | sudo `COMMAND=`, cron `CMD (...)`. |
//! | `process.working_directory` | sudo `PWD=`. |
//! | `process.real_user.id`, `process.user.id` | PAM `uid=` and `euid=`: the real and effective uid of the program that called PAM (sshd, su, sudo), not of `user.name`. |
//! | `event.reason` | Why: a disconnect reason, a sudo refusal, a failed PAM requirement. |
//! | `file.path` | The crontab cron reloaded. |
//! | `session.id` | The systemd-logind session id. |
//! | `system.auth.tty` | The terminal: PAM `tty=`, sudo `TTY=`, su `on pts/0`. |
//! | `system.auth.repeat_count` | From `message repeated N times: [ ... ]`: this one line stands for N more occurrences of the inner message, after the one logged before it. |
//! | `system.auth.ssh.method` | `password`, `publickey`, `keyboard-interactive/pam`, `none`, ... as written. |
//! | `system.auth.ssh.signature` | The key after `ssh2: `, e.g. `RSA SHA256:...` (type and fingerprint). |
//! | `system.auth.ssh.invalid_user` | `true` when sshd says the user does not exist. |
//! | `system.auth.ssh.preauth` | `true` when the line ends with `[preauth]`: before authentication completed. |
//! | `system.auth.ssh.disconnect_code` | The SSH disconnect reason code (`11` = by application). |
//! | `system.auth.pam.module`, `.service`, `.operation` | From `pam_unix(sshd:auth)`: module, PAM service, and the PAM call (`auth`, `account`, `session`, `chauthtok`, `setcred`). |
//! | `system.auth.pam.logname`, `system.auth.pam.ruser` | PAM `logname=` and `ruser=` when not empty. |
//! | `system.auth.pam.more_failures` | From `PAM N more authentication failures`. |
//! | `system.auth.pam.retries`, `system.auth.pam.max_retries` | From `PAM service(sshd) ignoring max retries; 6 > 3`. |
//! | `system.auth.logind.session_class`, `.session_type`, `.seat` | systemd-logind session class and type (systemd 256 and later), seat name. |
//! | `system.auth.cron.operation`, `system.auth.cron.text` | The verb and the text of a cron daemon message not otherwise mapped. |
//!
//! # Actions
//!
//! [`actions`] lists every `event.action` with its categorisation and an example; the table
//! below is the analyst's view (also in `docs/parsers/linux-auth.md`). Category and type are
//! ECS values; outcome `-` means not set (a purely informational line).
//!
//! | `event.action` | Lines | Category / type / outcome |
//! |---|---|---|
//! | `ssh_login` | `Accepted password\|publickey\|keyboard-interactive/pam for U from IP port N ssh2[: KEY]` | authentication, session / start / success |
//! | `ssh_failed_password` | `Failed password for [invalid user] U from IP port N ssh2` | authentication / start / failure |
//! | `ssh_failed_publickey` | `Failed publickey for U from IP port N ssh2: KEY` | authentication / start / failure |
//! | `ssh_failed_auth` | `Failed none\|keyboard-interactive/pam\|hostbased\|... for ...`, `error: PAM: Authentication failure for U from H` | authentication / start / failure |
//! | `ssh_partial_auth` | `Partial publickey for U from IP port N ssh2: KEY` (one factor of several passed) | authentication / info / success |
//! | `ssh_postponed_auth` | `Postponed keyboard-interactive for U from IP port N ssh2 [preauth]` | authentication / info / - |
//! | `ssh_invalid_user` | `Invalid user U from IP [port N]`, `input_userauth_request: invalid user U [preauth]` | authentication / info / failure |
//! | `ssh_user_not_allowed` | `User U from IP not allowed because ...`, `User U not allowed because account is locked` | authentication / info / failure |
//! | `ssh_root_login_refused` | `ROOT LOGIN REFUSED FROM IP [port N]` | authentication / info / failure |
//! | `ssh_max_auth_attempts` | `error: maximum authentication attempts exceeded for U from IP port N ssh2 [preauth]`, `Disconnecting[ authenticating user U IP port N]: Too many authentication failures [for U]` | authentication / info / failure |
//! | `ssh_auth_timeout` | `Timeout before authentication for IP port N` | authentication / end / failure |
//! | `ssh_connection` | `Connection from IP port N on IP port N` (LogLevel VERBOSE) | network / connection, start / - |
//! | `ssh_connection_closed` | `Connection closed by [authenticating\|invalid user U] IP [port N] [preauth]` | network / connection, end / - |
//! | `ssh_connection_reset` | `Connection reset by [authenticating\|invalid user U] IP [port N] [preauth]` | network / connection, end / - |
//! | `ssh_disconnect` | `Disconnected from [user\|authenticating user\|invalid user U] IP port N`, `Disconnecting ...: REASON` | network / connection, end / - |
//! | `ssh_received_disconnect` | `[error: ]Received disconnect from IP [port N]:CODE: REASON [preauth]` | network / connection, end / - |
//! | `ssh_no_identification` | `Did not receive identification string from IP [port N]` (a scanner or a dropped probe) | network / protocol / failure |
//! | `ssh_protocol_error` | `Bad protocol version identification ...`, `banner exchange: ...`, `kex_exchange_identification: ...`, `Unable to negotiate with IP port N: ...`, `Protocol major versions differ ...` | network / protocol / failure |
//! | `ssh_reverse_mapping_failed` | `reverse mapping checking getaddrinfo for H [IP] failed - POSSIBLE BREAK-IN ATTEMPT!`, `Address IP maps to H, but this does not map back to the address ...` | network / info / - |
//! | `ssh_session_start` | `Starting session: shell on pts/0 for U from IP port N id N` | session / start / success |
//! | `ssh_session_end` | `Close session: user U from IP port N id N` | session / end / success |
//! | `ssh_server_listening` | `Server listening on ADDR port N.` | process / start / success |
//! | `ssh_server_stopped` | `Received signal N; terminating.` | process / end / success |
//! | `ssh_fatal_error` | `fatal: ...` (e.g. `Read from socket failed: Connection reset by peer [preauth]`) | network / connection, end / failure |
//! | `pam_auth_failure` | `pam_unix(S:auth): authentication failure; logname= uid= euid= tty= ruser= rhost= [user=U]` | authentication / start / failure |
//! | `pam_more_auth_failures` | `PAM N more authentication failures; logname= ... user=U` | authentication / info / failure |
//! | `pam_max_retries` | `PAM service(S) ignoring max retries; N > M` | authentication / info / failure |
//! | `pam_user_unknown` | `check pass; user unknown`, `User 'U' not found` | authentication / info / failure |
//! | `pam_no_password` | `auth could not identify password for [U]` | authentication / info / failure |
//! | `pam_requirement_not_met` | `pam_succeed_if(S:auth): requirement "uid >= 1000" not met by user "U"` | authentication / info / failure |
//! | `pam_account_expired` | `account U has expired ...`, `expired password for user U ...` | authentication / info / failure |
//! | `pam_account_locked` | `pam_faillock(S:auth): Consecutive login failures for user U account temporarily locked` | authentication / info / failure |
//! | `pam_session_open` | `session opened for user U[(uid=N)] by [L](uid=N)` | session / start / success |
//! | `pam_session_close` | `session closed for user U` | session / end / success |
//! | `pam_password_changed` | `pam_unix(passwd:chauthtok): password changed for U` | iam / user, change / success |
//! | `pam_message` | Any other line of a PAM module (`pam_X(S:OP): ...`, `S(pam_X): ...`) | authentication / info / - |
//! | `sudo_command` | `U : TTY=T ; PWD=D ; USER=R ; COMMAND=C` | process / start / success |
//! | `sudo_command_continued` | `U : (command continued) ...` (sudo splits long command lines) | process / info / - |
//! | `sudo_auth_failure` | `U : N incorrect password attempts ; TTY=... ; COMMAND=C` | authentication / start / failure |
//! | `sudo_denied` | `U : user NOT in sudoers ; ...`, `command not allowed`, `a password is required`, ... | process / start / failure |
//! | `su_session` | `(to R) U on TTY`, `Successful su for R by U`, `+ TTY U:R` | authentication, session / start / success |
//! | `su_failure` | `FAILED SU (to R) U on TTY`, `FAILED su for R by U`, `- TTY U:R`, `pam_authenticate: Authentication failure` | authentication / start / failure |
//! | `cron_command` | `(U) CMD (C)` | process / start / success |
//! | `cron_command_end` | `(U) CMDEND (C)` (cronie) | process / end / success |
//! | `cron_reload` | `(U) RELOAD (crontabs/U)` | configuration / change / success |
//! | `crontab_replace` | crontab: `(U) REPLACE (O)` | configuration / change / success |
//! | `crontab_delete` | crontab: `(U) DELETE (O)` | configuration / deletion / success |
//! | `crontab_edit` | crontab: `(U) BEGIN EDIT (O)`, `(U) END EDIT (O)` | configuration / access / success |
//! | `crontab_list` | crontab: `(U) LIST (O)` | configuration / access / success |
//! | `cron_daemon` | Any other `(U) VERB (text)`: `(CRON) INFO (...)`, `(root) CMDOUT (...)`, `(CRON) DEATH (...)` | process / info / - |
//! | `logind_new_session` | `New session N of user U.`, `New session 'N' of user 'U' with class 'C' and type 'T'.` | session / start / success |
//! | `logind_session_logged_out` | `Session N logged out. Waiting for processes to exit.` | session / end / success |
//! | `logind_removed_session` | `Removed session N.` | session / end / success |
//! | `logind_new_seat` | `New seat seat0.` | host / info / - |
//! | `logind_system_shutdown` | `System is powering down.`, `System is rebooting.`, `System is halting.` | host / end / success |
//! | `logind_power_key` | `Power key pressed.` (also `short`, `long`) | host / info / - |

mod cron;
mod logind;
mod pam;
mod sshd;
mod su;
mod sudo;

use std::net::IpAddr;

use crate::ecs::push_unique;
use palisade_event::{Event, Str, Value};

/// Longest user name, host name, tty or id kept, in bytes.
pub const MAX_NAME_LEN: usize = 256;
/// Longest free text kept (reasons, key signatures), in bytes.
pub const MAX_TEXT_LEN: usize = 2048;
/// Longest command line kept, in bytes.
pub const MAX_COMMAND_LEN: usize = 8192;

/// The `event.dataset` of every event this module produces.
pub const DATASET: &str = "system.auth";

/// One `event.action` value, with the categorisation every event of that action carries.
#[derive(Debug)]
pub struct Action {
    /// The `event.action` value (snake_case, stable).
    pub name: &'static str,
    /// `event.category` values.
    pub category: &'static [&'static str],
    /// `event.type` values.
    pub types: &'static [&'static str],
    /// `event.outcome`, when the line states one.
    pub outcome: Option<&'static str>,
    /// What the line means, for analysts.
    pub description: &'static str,
    /// An example line: program, then message.
    pub example: (&'static str, &'static str),
}

/// Returns every action this module produces, grouped by program.
pub fn actions() -> impl Iterator<Item = &'static Action> {
    sshd::ACTIONS
        .iter()
        .chain(pam::ACTIONS)
        .chain(sudo::ACTIONS)
        .chain(su::ACTIONS)
        .chain(cron::ACTIONS)
        .chain(logind::ACTIONS)
}

/// Parses the message of one auth-log line from `program` (the syslog APP-NAME/TAG, e.g.
/// "sshd", "sudo", "sshd(pam_unix)", "CRON", "systemd-logind") into ECS fields added to
/// `event`.
///
/// Returns false (and leaves `event` untouched) when no parser recognises the message.
///
/// # Example
/// ```
/// use palisade_event::Event;
///
/// let mut event = Event::new();
/// let message = "Failed password for invalid user admin from 203.0.113.9 port 52144 ssh2";
/// assert!(palisade_parse::linux::parse_auth("sshd", Some(4242), message, &mut event));
/// assert_eq!(event.get_str("event.action").as_deref(), Some("ssh_failed_password"));
/// assert_eq!(event.get_str("user.name").as_deref(), Some("admin"));
/// assert_eq!(event.get_str("source.ip").as_deref(), Some("203.0.113.9"));
/// ```
pub fn parse_auth(program: &str, pid: Option<u32>, message: &str, event: &mut Event) -> bool {
    let program = Program::classify(program);
    let Some(record) = recognise(&program, message, true) else { return false };
    record.apply(&program, pid, event);
    true
}

/// Picks the parser for a line. `unwrap_repeats` is false inside a `message repeated` line so
/// that a nested marker cannot recurse.
fn recognise(program: &Program<'_>, message: &str, unwrap_repeats: bool) -> Option<Record> {
    let message = message.trim_end();
    if unwrap_repeats && let Some((count, inner)) = repeated(message) {
        let mut record = recognise(program, inner, false)?;
        record.int("system.auth.repeat_count", count);
        return Some(record);
    }
    if let Some(module) = program.pam_module {
        return Some(pam::parse_legacy(program.name, module, message));
    }
    if let Some(record) = pam::parse(message) {
        return Some(record);
    }
    match program.kind {
        ProgramKind::Sshd => sshd::parse(message),
        ProgramKind::Sudo => sudo::parse(message),
        ProgramKind::Su => su::parse(message),
        ProgramKind::Cron => cron::parse(message),
        ProgramKind::Logind => logind::parse(message),
        ProgramKind::Other => None,
    }
}

/// Splits `message repeated 5 times: [ inner]` (rsyslog's repeated-message reduction).
fn repeated(message: &str) -> Option<(i64, &str)> {
    let rest = message.strip_prefix("message repeated ")?;
    let (count, rest) = rest.split_once(" times: [")?;
    let count = parse_int(count)?;
    // A line cut short loses the closing bracket; the inner message is still worth reading.
    let inner = rest.strip_suffix(']').unwrap_or(rest);
    Some((count, inner.strip_prefix(' ').unwrap_or(inner)))
}

/// The programs this module knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ProgramKind {
    Sshd,
    Sudo,
    Su,
    Cron,
    Logind,
    Other,
}

/// A program name taken apart: `/usr/sbin/sshd` → `sshd`; `sshd(pam_unix)` → `sshd` with
/// the PAM module `pam_unix` (the format of Linux-PAM before 0.99).
#[derive(Debug)]
struct Program<'a> {
    name: &'a str,
    kind: ProgramKind,
    pam_module: Option<&'a str>,
}

impl<'a> Program<'a> {
    fn classify(raw: &'a str) -> Self {
        let mut name = raw.trim();
        // Tolerate a caller that left the pid on the tag: `sshd[123]`.
        if let Some(open) = name.find('[')
            && name.ends_with(']')
        {
            name = &name[..open];
        }
        let mut pam_module = None;
        if let Some(open) = name.find('(')
            && let Some(inner) = name[open + 1..].strip_suffix(')')
            && inner.starts_with("pam_")
        {
            pam_module = Some(inner);
            name = &name[..open];
        }
        if let Some(slash) = name.rfind('/') {
            name = &name[slash + 1..];
        }
        let kind =
            if ["sshd", "sshd-session", "sshd-auth"].iter().any(|n| name.eq_ignore_ascii_case(n)) {
                ProgramKind::Sshd
            } else if name.eq_ignore_ascii_case("sudo") {
                ProgramKind::Sudo
            } else if name.eq_ignore_ascii_case("su") {
                ProgramKind::Su
            } else if ["cron", "crond", "crontab"].iter().any(|n| name.eq_ignore_ascii_case(n)) {
                ProgramKind::Cron
            } else if name.eq_ignore_ascii_case("systemd-logind") {
                ProgramKind::Logind
            } else {
                ProgramKind::Other
            };
        Self { name: cap(name, MAX_NAME_LEN), kind, pam_module }
    }
}

/// The fields one parser found, applied to the event only once the whole line is recognised.
#[derive(Debug)]
struct Record {
    action: &'static Action,
    /// What the line said; [`Record::apply`] adds the action's and the program's fields to
    /// the same vector, which is made with room for them.
    fields: Vec<(Str, Value)>,
    related_users: Vec<palisade_event::Str>,
    related_ips: Vec<palisade_event::Str>,
    related_hosts: Vec<palisade_event::Str>,
}

impl Record {
    fn new(action: &'static Action) -> Self {
        Self {
            action,
            fields: Vec::with_capacity(20),
            related_users: Vec::new(),
            related_ips: Vec::new(),
            related_hosts: Vec::new(),
        }
    }

    /// Sets a short field (a name, an id, a tty), capped at [`MAX_NAME_LEN`]; empty values
    /// are skipped.
    fn name(&mut self, field: &'static str, value: &str) {
        if !value.is_empty() {
            self.fields.push((Str::literal(field), Value::from(cap(value, MAX_NAME_LEN))));
        }
    }

    /// Sets a free-text field, capped at [`MAX_TEXT_LEN`]; empty values are skipped.
    fn text(&mut self, field: &'static str, value: &str) {
        if !value.is_empty() {
            self.fields.push((Str::literal(field), Value::from(cap(value, MAX_TEXT_LEN))));
        }
    }

    /// Sets `process.command_line`, capped at [`MAX_COMMAND_LEN`].
    fn command_line(&mut self, value: &str) {
        if !value.is_empty() {
            self.fields
                .push(("process.command_line".into(), Value::from(cap(value, MAX_COMMAND_LEN))));
        }
    }

    fn int(&mut self, field: &'static str, value: i64) {
        self.fields.push((Str::literal(field), Value::Int(value)));
    }

    fn flag(&mut self, field: &'static str, value: bool) {
        self.fields.push((Str::literal(field), Value::Bool(value)));
    }

    /// Sets a user field (`user.name`, `user.target.name`...) and adds it to `related.user`.
    fn user(&mut self, field: &'static str, value: &str) {
        if value.is_empty() {
            return;
        }
        let value = cap(value, MAX_NAME_LEN);
        self.name(field, value);
        push_unique(&mut self.related_users, value);
    }

    /// Adds a user name to `related.user` only.
    fn related_user(&mut self, value: &str) {
        if !value.is_empty() {
            push_unique(&mut self.related_users, cap(value, MAX_NAME_LEN));
        }
    }

    /// Sets the remote peer from an address as written: an IP address goes to `source.ip`, a
    /// host name to `source.domain`, both to `source.address`. `UNKNOWN` (sshd's word for a
    /// peer whose address it lost) and text that is neither are skipped.
    fn source(&mut self, address: &str) {
        self.endpoint(address, "source.ip", Some("source.domain"), "source.address");
    }

    /// Sets an IP endpoint (`server.*`, `destination.*`) when `address` is an IP address.
    fn endpoint(
        &mut self,
        address: &str,
        ip_field: &'static str,
        domain_field: Option<&'static str>,
        address_field: &'static str,
    ) {
        let address = address.trim();
        if address.is_empty() || address == "UNKNOWN" || address.len() > MAX_NAME_LEN {
            return;
        }
        if let Some(ip) = ip_text(address) {
            self.name(ip_field, ip);
            self.name(address_field, address);
            push_unique(&mut self.related_ips, ip);
        } else if let Some(domain_field) = domain_field
            && is_host_name(address)
        {
            self.domain(domain_field, address);
            self.name(address_field, address);
        }
    }

    /// Sets a host-name field and adds it to `related.hosts`; text that is not a host name
    /// is skipped.
    fn domain(&mut self, field: &'static str, host: &str) {
        if is_host_name(host) {
            self.name(field, host);
            push_unique(&mut self.related_hosts, host);
        }
    }

    /// Sets a port field from its decimal text; returns false when it is not a port number.
    fn port(&mut self, field: &'static str, digits: &str) -> bool {
        match digits.parse::<u16>() {
            Ok(port) if is_digits(digits) => {
                self.int(field, i64::from(port));
                true
            }
            _ => false,
        }
    }

    fn apply(self, program: &Program<'_>, pid: Option<u32>, event: &mut Event) {
        let action = self.action;
        let mut fields = self.fields;
        fields.push(("event.dataset".into(), Value::literal(DATASET)));
        fields.push(("event.kind".into(), Value::literal("event")));
        fields.push(("event.action".into(), Value::literal(action.name)));
        if !action.category.is_empty() {
            fields.push(("event.category".into(), crate::ecs::literals(action.category)));
        }
        if !action.types.is_empty() {
            fields.push(("event.type".into(), crate::ecs::literals(action.types)));
        }
        if let Some(outcome) = action.outcome {
            fields.push(("event.outcome".into(), Value::literal(outcome)));
        }
        if !program.name.is_empty() {
            fields.push(("process.name".into(), Value::from(program.name)));
        }
        if let Some(pid) = pid {
            fields.push(("process.pid".into(), Value::Int(i64::from(pid))));
        }
        for (name, values) in [
            ("related.user", self.related_users),
            ("related.ip", self.related_ips),
            ("related.hosts", self.related_hosts),
        ] {
            if !values.is_empty() {
                fields.push((name.into(), crate::ecs::moved_list(values)));
            }
        }
        event.extend(fields);
    }
}

/// Cuts `text` to at most `max` bytes on a character boundary.
fn cap(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit())
}

/// Parses a non-negative decimal count (no sign, at most 18 digits so it fits an i64).
fn parse_int(text: &str) -> Option<i64> {
    if !is_digits(text) || text.len() > 18 {
        return None;
    }
    text.parse().ok()
}

/// Returns the IP address in `address` as it should be stored in an `*.ip` field, or `None`
/// when it is not one. An IPv6 zone (`fe80::1%eth0`) is dropped from the IP, which must parse.
fn ip_text(address: &str) -> Option<&str> {
    let ip = address.split_once('%').map_or(address, |(ip, _zone)| ip);
    ip.parse::<IpAddr>().is_ok().then_some(ip)
}

/// A DNS-like host name: labels of letters, digits, `-` and `_` joined by dots (one trailing
/// dot allowed), at most 253 bytes, the last label not all digits (so that a cut IPv4
/// address such as `5.36.` is not taken for a name).
fn is_host_name(text: &str) -> bool {
    let name = text.strip_suffix('.').unwrap_or(text);
    if name.is_empty() || name.len() > 253 {
        return false;
    }
    let valid_labels = name.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && label.bytes().all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_'))
    });
    valid_labels && name.rsplit('.').next().is_some_and(|last| !is_digits(last))
}

/// Splits `ADDR port N` into the address and the port text; `ADDR` alone gives no port.
fn split_port(text: &str) -> (&str, Option<&str>) {
    match text.rsplit_once(" port ") {
        Some((address, port)) if is_digits(port) => (address, Some(port)),
        _ => (text, None),
    }
}

/// Strips a trailing ` [preauth]` (sshd's marker for its pre-authentication child).
fn strip_preauth(message: &str) -> (&str, bool) {
    match message.strip_suffix("[preauth]") {
        Some(rest) => (rest.trim_end(), true),
        None => (message, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_cuts_on_char_boundaries() {
        assert_eq!(cap("abc", 5), "abc");
        assert_eq!(cap("abcdef", 3), "abc");
        assert_eq!(cap("aé", 2), "a");
    }

    #[test]
    fn programs_are_classified_without_path_pid_or_pam_suffix() {
        let program = Program::classify("/usr/sbin/sshd");
        assert_eq!((program.name, program.kind), ("sshd", ProgramKind::Sshd));
        let program = Program::classify("sshd(pam_unix)");
        assert_eq!(
            (program.name, program.kind, program.pam_module),
            ("sshd", ProgramKind::Sshd, Some("pam_unix"))
        );
        let program = Program::classify("CRON[123]");
        assert_eq!((program.name, program.kind), ("CRON", ProgramKind::Cron));
        assert_eq!(Program::classify("kernel").kind, ProgramKind::Other);
    }

    #[test]
    fn host_names_exclude_cut_addresses() {
        assert!(is_host_name("ec2-52-80-34-196.cn-north-1.compute.amazonaws.com.cn"));
        assert!(is_host_name("localhost"));
        assert!(is_host_name("host.example."));
        assert!(!is_host_name("5.36."));
        assert!(!is_host_name("5.36.59.76"));
        assert!(!is_host_name("a..b"));
        assert!(!is_host_name("not a host"));
    }

    #[test]
    fn ip_text_accepts_mapped_and_zoned_addresses() {
        assert_eq!(ip_text("::ffff:10.0.0.1"), Some("::ffff:10.0.0.1"));
        assert_eq!(ip_text("fe80::1%eth0"), Some("fe80::1"));
        assert_eq!(ip_text("host.example"), None);
        assert_eq!(ip_text("1.2.3"), None);
    }

    #[test]
    fn repeated_lines_unwrap_even_when_truncated() {
        assert_eq!(repeated("message repeated 5 times: [ Failed x]"), Some((5, "Failed x")));
        assert_eq!(repeated("message repeated 2 times: [ Failed"), Some((2, "Failed")));
        assert_eq!(repeated("message repeated many times: [ x]"), None);
    }

    #[test]
    fn split_port_needs_digits() {
        assert_eq!(split_port("1.2.3.4 port 22"), ("1.2.3.4", Some("22")));
        assert_eq!(split_port("1.2.3.4"), ("1.2.3.4", None));
        assert_eq!(split_port("1.2.3.4 port x"), ("1.2.3.4 port x", None));
    }

    #[test]
    fn every_action_example_gives_its_action() {
        for action in actions() {
            let mut event = Event::new();
            let (program, message) = action.example;
            assert!(
                parse_auth(program, Some(1), message, &mut event),
                "{}: {message}",
                action.name
            );
            assert_eq!(event.get_str("event.action").as_deref(), Some(action.name), "{message}");
        }
    }
}
