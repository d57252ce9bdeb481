//! Linux audit records (auditd's `/var/log/audit/audit.log`, and the same records carried by
//! syslog) normalised to ECS fields.
//!
//! [`parse_line`] reads one native line: `[node=HOST ]type=TYPE msg=audit(SECONDS.MILLIS:SERIAL):
//! key=value ...`, in the RAW or the ENRICHED log format (after a GS byte, `0x1d`, come
//! translations such as `UID="root" AUID="alice"`). [`parse_program`] reads the records syslog
//! carries: from `audisp-syslog`, `audispd`, `audit`, `auditd` (the native form, or the
//! `TYPE key=value ...` form systemd-journald forwards under the identifier `audit`) and from
//! `kernel` (`[ 12.3] audit: type=1400 audit(S.M:N): ...`, the kernel's own copy when no
//! auditd reads it, numeric types mapped to names). Anything else is left alone.
//!
//! One line is one record: the records of one kernel event (SYSCALL, EXECVE, CWD, PATH,
//! PROCTITLE, EOE) are not joined, but they share `auditd.log.sequence` (the serial) and
//! `@timestamp`, so a query can group them.
//!
//! Values are read as audit writes them: `"quoted"` (kept as is), `'single quoted'` (the inner
//! message of user-space records, whose own `key=value` pairs are read as if they were the
//! record's), and unquoted. An unquoted value of a key audit encodes (`proctitle`, `name`,
//! `comm`, `exe`, `cwd`, `cmd`, `acct`, `key`, `data`, the EXECVE arguments...) is decoded when
//! it is even-length upper-case hex, and the hex kept as `auditd.log.<key>_hex`. `?` and
//! `(null)` mean "no value" and are dropped; `auid`/`ses` 4294967295 mean unset.
//!
//! Parsing is a single pass over the line with no regular expression and no panic on any
//! input; at most [`record::MAX_PAIRS`] pairs are read per record and every value is capped
//! by [`EcsFields`] (EXECVE arguments at [`MAX_TEXT_LEN`] each, [`MAX_ARGS`] of them).
//!
//! # Fields
//!
//! | Field | From |
//! |---|---|
//! | `@timestamp` | `audit(SECONDS.MILLIS:...)` (UTC epoch) |
//! | `event.action` | the record type in snake case ([`RECORD_TYPES`]; an unknown type gives its lowercased name, `UNKNOWN[1334]` gives `unknown_1334`) |
//! | `event.category`, `event.type` | per record type ([`RECORD_TYPES`]); AVC records say `denied` or `allowed` |
//! | `event.outcome` | `success=yes\|no`, `res=success\|failed\|1\|0`, an AVC `denied`/`granted`, AppArmor `DENIED`/`ALLOWED` |
//! | `auditd.log.record_type`, `auditd.log.sequence` | the type name, the serial |
//! | `host.name` | `node=` |
//! | `user.id`, `user.audit.id`, `user.effective.id`, `group.id`, `user.effective.group.id` | `uid`, `auid`, `euid`, `gid`, `egid` |
//! | `user.name` | `acct=`, else the enriched `UID` |
//! | `user.audit.name`, `user.effective.name`, `group.name` | the enriched `AUID`, `EUID`, `GID` |
//! | `process.pid`, `process.parent.pid` | `pid`, `ppid` |
//! | `process.name`, `process.executable`, `process.title` | `comm`, `exe`, `proctitle` (decoded, NULs as spaces) |
//! | `process.working_directory` | `cwd` |
//! | `process.args`, `process.args_count`, `process.command_line` | EXECVE `argc`, `a0`, `a1`... (and `aN[i]` chunks); USER_CMD `cmd` |
//! | `file.path`, `file.inode`, `file.mode`, `file.uid`, `file.gid` | PATH `name`, `inode`, `mode` (permission bits), `ouid`, `ogid`; `name`/`path` of other records when absolute |
//! | `source.ip`, `source.domain` | `addr`, `hostname` (when a host name) |
//! | `auditd.log.key`, `tags` | `key` (several keys, joined by `0x01`, give several tags) |
//! | `auditd.log.avc.result`, `auditd.log.avc.permissions` | `avc:  denied  { read write }` |
//! | `auditd.log.enriched.<key>` | other enriched translations (`ARCH`, `SYSCALL`, `SUID`...) |
//! | `auditd.log.<key>` | every other pair (`syscall`, `arch`, `exit`, `ses`, `tty`, `subj`, `op`, `terminal`...) |

pub mod record;
mod types;

use palisade_event::{Event, Timestamp, Value};

use self::record::{Pair, Quoting, Record, value_text};
pub use self::types::{RECORD_TYPES, RecordType};
use crate::ecs::{EcsFields, MAX_TEXT_LEN, cap, ip_text, is_digits, is_host_name, parse_int};

/// The `event.dataset` of every event this module produces.
pub const DATASET: &str = "auditd.log";

/// Most EXECVE arguments kept in `process.args`.
pub const MAX_ARGS: usize = 256;

/// The `auid`/`ses` value that means "not set".
const UNSET: &str = "4294967295";

/// Keys whose unquoted values audit writes in hex (auparse's escaped fields).
const ENCODED_KEYS: &[&str] = &[
    "proctitle",
    "name",
    "comm",
    "exe",
    "cwd",
    "cmd",
    "acct",
    "path",
    "key",
    "dir",
    "file",
    "data",
    "vm",
    "root_dir",
    "new-disk",
    "old-disk",
    "sw",
    "watch",
    "ocomm",
    "old-chardev",
    "new-chardev",
    "device",
    "grp",
    "new_group",
];

/// Returns the `event.action` for a record type: its name in snake case (lower case, any
/// other character than a letter or digit as `_`, no leading, trailing or doubled `_`).
#[must_use]
pub fn action_for(record_type: &str) -> String {
    if let Some(known) = types::by_name(record_type) {
        return known.action.to_owned();
    }
    let mut action = String::with_capacity(record_type.len());
    for ch in cap(record_type, 64).chars() {
        if ch.is_ascii_alphanumeric() {
            action.push(ch.to_ascii_lowercase());
        } else if !action.is_empty() && !action.ends_with('_') {
            action.push('_');
        }
    }
    while action.ends_with('_') {
        action.pop();
    }
    if action.is_empty() { "unknown".to_owned() } else { action }
}

/// Parses one line of `/var/log/audit/audit.log` (`type=... msg=audit(SECONDS.MILLIS:SERIAL): ...`)
/// into an event with `event.original` and `@timestamp` set. `None` when it is not one.
///
/// # Example
/// ```
/// let line = r#"type=USER_LOGIN msg=audit(1700000000.123:456): pid=2 uid=0 auid=1000 ses=3 msg='op=login acct="alice" exe="/usr/sbin/sshd" hostname=? addr=203.0.113.9 terminal=ssh res=failed'"#;
/// let event = palisade_parse::auditd::parse_line(line).expect("an audit record");
/// assert_eq!(event.get_str("event.action").as_deref(), Some("user_login"));
/// assert_eq!(event.get_str("event.outcome").as_deref(), Some("failure"));
/// assert_eq!(event.get_str("source.ip").as_deref(), Some("203.0.113.9"));
/// assert_eq!(event.get_str("user.name").as_deref(), Some("alice"));
/// ```
#[must_use]
pub fn parse_line(line: &str) -> Option<Event> {
    let line = line.trim_end_matches(['\n', '\r']);
    let record = record::parse_native(line)?;
    let timestamp = record_time(&record);
    let mut event = build(&record).into_event();
    event.insert("event.original", Value::from(line));
    event.set_timestamp(timestamp);
    Some(event)
}

/// Parses the message of one syslog line from `program` (the APP-NAME/TAG, without pid) and
/// adds the ECS fields it finds to `event`. Returns false, leaving `event` untouched, when the
/// message is not one this module understands. The audit time, when the message has one,
/// replaces the syslog time.
pub fn parse_program(program: &str, pid: Option<u32>, message: &str, event: &mut Event) -> bool {
    let _ = pid;
    let record = match program.trim() {
        "audisp-syslog" | "audispd" | "auditd" => record::parse_native(message),
        "audit" => record::parse_native(message).or_else(|| record::parse_journald(message)),
        "kernel" => kernel_record(message),
        _ => None,
    };
    let Some(record) = record else { return false };
    let timestamp = record_time(&record);
    build(&record).apply(event);
    if timestamp.is_some() {
        event.set_timestamp(timestamp);
    }
    true
}

/// `[ 12.345678] audit: type=1400 audit(1700000000.123:45): ...`: the kernel's own copy.
fn kernel_record(message: &str) -> Option<Record<'_>> {
    let mut rest = message.trim_start();
    if let Some(inner) = rest.strip_prefix('[')
        && let Some((uptime, after)) = inner.split_once(']')
        && uptime.trim().bytes().all(|byte| byte.is_ascii_digit() || byte == b'.')
    {
        rest = after.trim_start();
    }
    let rest = rest.strip_prefix("audit: ")?;
    let after = rest.strip_prefix("type=")?;
    let number = after.split(' ').next().unwrap_or("");
    if !crate::ecs::is_digits(number) {
        return None;
    }
    let mut record = record::parse_native(rest)?;
    record.record_type = match number.parse::<u32>().ok().and_then(types::by_number) {
        Some(known) => known.name,
        None => number,
    };
    Some(record)
}

fn record_time(record: &Record<'_>) -> Option<Timestamp> {
    let (seconds, millis) = record.time?;
    let nanos = i32::try_from(millis * 1_000_000).ok()?;
    Timestamp::new(seconds, nanos).ok()
}

/// The state of a record being mapped.
struct Mapper<'a> {
    fields: EcsFields,
    record_type: &'a str,
    outcome: Option<&'static str>,
    has_acct: bool,
    has_id: bool,
    args: Vec<(usize, String)>,
    tags: Vec<String>,
    unknown_keys: usize,
}

fn build(record: &Record<'_>) -> EcsFields {
    let record_type_name = match crate::ecs::is_digits(record.record_type) {
        // A number the catalogue does not know: name it as auditd does.
        true => format!("UNKNOWN[{}]", record.record_type),
        false => record.record_type.to_owned(),
    };
    let known = types::by_name(&record_type_name);
    let mut mapper = Mapper {
        fields: EcsFields::new(),
        record_type: record.record_type,
        outcome: None,
        has_acct: record.pairs.iter().any(|pair| pair.key == "acct" && !is_none(pair.raw)),
        has_id: record.enriched.iter().any(|pair| pair.key == "ID" && !is_none(pair.raw)),
        args: Vec::new(),
        tags: Vec::new(),
        unknown_keys: 0,
    };
    let mut types_override: Option<&'static [&'static str]> = None;
    if let Some(avc) = &record.avc {
        mapper.fields.name("auditd.log.avc.result", avc.result);
        mapper.fields.names("auditd.log.avc.permissions", avc.permissions.iter().copied());
        match avc.result {
            "denied" => {
                mapper.outcome = Some("failure");
                types_override = Some(&["denied"]);
            }
            "granted" => {
                mapper.outcome = Some("success");
                types_override = Some(&["allowed"]);
            }
            _ => {}
        }
    }
    for pair in &record.pairs {
        if pair.key == "apparmor" {
            match pair.raw {
                "DENIED" => {
                    mapper.outcome = Some("failure");
                    types_override = Some(&["denied"]);
                }
                "ALLOWED" => {
                    mapper.outcome = Some("success");
                    types_override = Some(&["allowed"]);
                }
                _ => {}
            }
        }
        mapper.pair(pair);
    }
    for pair in &record.enriched {
        mapper.enriched(pair);
    }
    let Mapper { mut fields, outcome, mut args, tags, .. } = mapper;
    let action = action_for(&record_type_name);
    let (category, mut kinds): (&[&str], &[&str]) =
        known.map_or((&[], &[]), |known| (known.category, known.types));
    if known.is_some_and(|known| known.category == ["intrusion_detection"])
        && let Some(types_override) = types_override
    {
        kinds = types_override;
    }
    fields.categorize(DATASET, "event", category, kinds, outcome);
    fields.name("event.action", &action);
    fields.name("auditd.log.record_type", &record_type_name);
    if let Some(serial) = record.serial {
        fields.int("auditd.log.sequence", serial);
    }
    if let Some(node) = record.node {
        fields.name("host.name", node);
        fields.related_host(node);
    }
    if !args.is_empty() {
        args.sort_by_key(|(index, _)| *index);
        let mut command_line = String::new();
        for (_, arg) in &args {
            if command_line.len() >= MAX_TEXT_LEN {
                break;
            }
            if !command_line.is_empty() {
                command_line.push(' ');
            }
            command_line.push_str(cap(arg, MAX_TEXT_LEN));
        }
        fields.set(
            "process.args",
            Value::List(
                args.iter()
                    .take(MAX_ARGS)
                    .map(|(_, arg)| Value::from(cap(arg, MAX_TEXT_LEN)))
                    .collect(),
            ),
        );
        fields.text("process.command_line", &command_line);
    }
    if !tags.is_empty() {
        fields.names("tags", tags.iter().map(String::as_str));
        if tags.len() == 1 {
            fields.text("auditd.log.key", tags.first().map_or("", String::as_str));
        } else {
            fields.names("auditd.log.key", tags.iter().map(String::as_str));
        }
    }
    fields
}

/// `?`, `(null)` and `(none)` stand for no value.
fn is_none(raw: &str) -> bool {
    matches!(raw, "?" | "(null)" | "(none)" | "")
}

impl Mapper<'_> {
    fn pair(&mut self, pair: &Pair<'_>) {
        let key = pair.key;
        if is_none(pair.raw) {
            return;
        }
        // EXECVE arguments: `a0=...`, `a1_len=N`, `a1[0]=...`.
        if self.record_type == "EXECVE"
            && let Some(rest) = key.strip_prefix('a')
        {
            if rest.ends_with("_len") {
                self.fields.name(format!("auditd.log.{}", clean_key(key)), pair.raw);
                return;
            }
            let (index, chunked) = match rest.split_once('[') {
                Some((index, chunk)) if chunk.ends_with(']') => (index, true),
                Some(_) => ("", false),
                None => (rest, false),
            };
            if let Some(index) = parse_int(index).and_then(|index| usize::try_from(index).ok()) {
                let (text, _) = value_text(pair, true);
                let n_args = self.args.len();
                match self.args.last_mut() {
                    Some((last, arg)) if chunked && *last == index => {
                        let room = MAX_TEXT_LEN.saturating_sub(arg.len());
                        arg.push_str(cap(&text, room));
                    }
                    _ if n_args < MAX_ARGS => self.args.push((index, text.into_owned())),
                    _ => {}
                }
                return;
            }
        }
        let encoded = ENCODED_KEYS.contains(&key);
        let (text, decoded) = value_text(pair, encoded);
        if decoded {
            self.fields.text(format!("auditd.log.{}_hex", clean_key(key)), pair.raw);
        }
        let text = text.as_ref();
        let fields = &mut self.fields;
        match key {
            "auid" | "ses" if text == UNSET || text == "-1" => {
                fields.name(format!("auditd.log.{key}"), "unset");
            }
            "uid" | "auid" | "euid" | "gid" | "egid" if is_digits(text) => {
                let field = match key {
                    "uid" => "user.id",
                    "auid" => "user.audit.id",
                    "euid" => "user.effective.id",
                    "gid" => "group.id",
                    _ => "user.effective.group.id",
                };
                fields.name(field, text);
            }
            "pid" => {
                if !fields.int_text("process.pid", text) {
                    fields.name("auditd.log.pid", text);
                }
            }
            "ppid" => {
                if !fields.int_text("process.parent.pid", text) {
                    fields.name("auditd.log.ppid", text);
                }
            }
            "comm" => fields.name("process.name", text),
            "exe" => fields.text("process.executable", text),
            "proctitle" => {
                let title = text.replace('\0', " ");
                fields.text("process.title", title.trim_end());
            }
            "cwd" => fields.text("process.working_directory", text),
            "cmd" => fields.text("process.command_line", text),
            "argc" if self.record_type == "EXECVE" => {
                if !fields.int_text("process.args_count", text) {
                    fields.name("auditd.log.argc", text);
                }
            }
            "name" | "path" if self.record_type == "PATH" || text.starts_with('/') => {
                fields.text("file.path", text);
            }
            "inode" | "ino" => fields.name("file.inode", text),
            "mode" if self.record_type == "PATH" => {
                fields.name("auditd.log.mode", text);
                if let Ok(mode) = u32::from_str_radix(text, 8) {
                    fields.name("file.mode", &format!("{:04o}", mode & 0o7777));
                }
            }
            "ouid" => fields.name("file.uid", text),
            "ogid" => fields.name("file.gid", text),
            "acct" => fields.user("user.name", text),
            "addr" => {
                if !fields.ip("source.ip", text) {
                    fields.name("auditd.log.addr", text);
                }
            }
            "hostname" => {
                if ip_text(text).is_some() {
                    fields.related_ip(text);
                } else if !fields.host("source.domain", text) {
                    fields.name("auditd.log.hostname", text);
                }
            }
            "key" => {
                for key in text.split('\u{1}').filter(|key| !is_none(key)).take(16) {
                    self.tags.push(cap(key, 256).to_owned());
                }
            }
            "success" => {
                self.outcome = match text {
                    "yes" => Some("success"),
                    "no" => Some("failure"),
                    _ => self.outcome,
                };
                fields.name("auditd.log.success", text);
            }
            "res" | "result" => {
                self.outcome = match text {
                    "success" | "1" => Some("success"),
                    "failed" | "0" => Some("failure"),
                    _ => self.outcome,
                };
                fields.name("auditd.log.res", text);
            }
            _ => {
                if self.unknown_keys < record::MAX_PAIRS {
                    self.unknown_keys += 1;
                    let field = format!("auditd.log.{}", clean_key(key));
                    if pair.quoting == Quoting::Bare {
                        fields.name(&field, text);
                    } else {
                        fields.text(&field, text);
                    }
                }
            }
        }
    }

    fn enriched(&mut self, pair: &Pair<'_>) {
        let text = pair.raw;
        if is_none(text) || text == "unset" {
            return;
        }
        let fields = &mut self.fields;
        match pair.key {
            // The account a record is about: `acct=`, else the `id=` of USER_LOGIN, else the
            // uid of the process.
            "ID" if !self.has_acct => fields.user("user.name", text),
            "UID" if self.has_acct || self.has_id => fields.related_user(text),
            "UID" => fields.user("user.name", text),
            "AUID" => fields.user("user.audit.name", text),
            "EUID" => fields.user("user.effective.name", text),
            "GID" => fields.name("group.name", text),
            "EGID" => fields.name("user.effective.group.name", text),
            "OUID" => fields.name("file.owner", text),
            "OGID" => fields.name("file.group", text),
            key => {
                if self.unknown_keys < record::MAX_PAIRS {
                    self.unknown_keys += 1;
                    let key = clean_key(key).to_ascii_lowercase();
                    fields.text(format!("auditd.log.enriched.{key}"), text);
                }
            }
        }
    }
}

/// A key made safe for a field name: letters, digits and `_` (others become `_`), at most
/// 64 bytes.
fn clean_key(key: &str) -> String {
    cap(key, 64)
        .chars()
        .map(|ch| if ch.is_ascii_alphanumeric() || ch == '_' { ch } else { '_' })
        .collect()
}

/// True when `text` is a host name (not an IP address): used by tests and docs.
#[must_use]
pub fn is_domain(text: &str) -> bool {
    ip_text(text).is_none() && is_host_name(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_are_snake_case() {
        assert_eq!(action_for("USER_LOGIN"), "user_login");
        assert_eq!(action_for("UNKNOWN[1334]"), "unknown_1334");
        assert_eq!(action_for("MY-TYPE"), "my_type");
        assert_eq!(action_for("!!"), "unknown");
    }

    #[test]
    fn kernel_numbers_become_names() {
        let record =
            kernel_record("[ 5.1] audit: type=1400 audit(1700000000.000:7): apparmor=\"DENIED\"")
                .expect("record");
        assert_eq!(record.record_type, "AVC");
        assert!(kernel_record("audit: initializing netlink subsys (disabled)").is_none());
    }

    #[test]
    fn execve_chunks_are_joined() {
        let line = "type=EXECVE msg=audit(1.000:9): argc=2 a0=\"echo\" a1_len=6 a1[0]=\"abc\" a1[1]=\"def\"";
        let event = parse_line(line).expect("event");
        assert_eq!(event.get_str("process.command_line").as_deref(), Some("echo abcdef"));
    }

    #[test]
    fn keys_split_on_0x01() {
        // `key=` with two keys is hex-encoded with 0x01 between them.
        let line = "type=SYSCALL msg=audit(1.000:9): syscall=59 key=65786563016964656E74";
        let event = parse_line(line).expect("event");
        assert_eq!(
            event.get("tags"),
            Some(&Value::List(vec![Value::from("exec"), Value::from("ident")]))
        );
    }
}
