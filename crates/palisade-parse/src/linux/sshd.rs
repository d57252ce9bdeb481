//! OpenSSH server messages (`sshd`, and `sshd-session`/`sshd-auth` since OpenSSH 9.8).
//!
//! The user names in these lines come from the client, so they can hold spaces, quotes or
//! the words `from` and `port`: every line is read from its fixed end (`from ADDR port N
//! ssh2`) back to the user, and the user name is kept exactly as written (OpenSSH itself
//! escapes control characters before logging).

use super::{Action, Record, ip_text, is_digits, is_host_name, split_port, strip_preauth};

const LOGIN: Action = Action {
    name: "ssh_login",
    category: &["authentication", "session"],
    types: &["start"],
    outcome: Some("success"),
    description: "A user logged in over SSH; `system.auth.ssh.method` says how.",
    example: (
        "sshd",
        "Accepted publickey for alice from 192.0.2.10 port 50022 ssh2: ED25519 SHA256:Tk0g0tqhXyq1bXK3N3ZlzF2Wh5NnLw5LVXJvT9bbq5E",
    ),
};
const FAILED_PASSWORD: Action = Action {
    name: "ssh_failed_password",
    category: &["authentication"],
    types: &["start"],
    outcome: Some("failure"),
    description: "A wrong password for an SSH login (`system.auth.ssh.invalid_user` when the account does not exist).",
    example: ("sshd", "Failed password for invalid user admin from 203.0.113.9 port 52144 ssh2"),
};
const FAILED_PUBLICKEY: Action = Action {
    name: "ssh_failed_publickey",
    category: &["authentication"],
    types: &["start"],
    outcome: Some("failure"),
    description: "A public key the server refused for an SSH login.",
    example: (
        "sshd",
        "Failed publickey for bob from 198.51.100.7 port 40022 ssh2: RSA SHA256:m0e2Oq1bXK3N3ZlzF2Wh5NnLw5LVXJvT9bbq5Etk0g0",
    ),
};
const FAILED_AUTH: Action = Action {
    name: "ssh_failed_auth",
    category: &["authentication"],
    types: &["start"],
    outcome: Some("failure"),
    description: "A failed SSH authentication by another method (`none`, `keyboard-interactive/pam`, `hostbased`...), or reported through PAM.",
    example: ("sshd", "Failed none for invalid user 0 from 185.190.58.151 port 55495 ssh2"),
};
const PARTIAL: Action = Action {
    name: "ssh_partial_auth",
    category: &["authentication"],
    types: &["info"],
    outcome: Some("success"),
    description: "One authentication method of several required (AuthenticationMethods) passed.",
    example: (
        "sshd",
        "Partial publickey for carol from 192.0.2.44 port 61000 ssh2: ED25519 SHA256:Tk0g0tqhXyq1bXK3N3ZlzF2Wh5NnLw5LVXJvT9bbq5E",
    ),
};
const POSTPONED: Action = Action {
    name: "ssh_postponed_auth",
    category: &["authentication"],
    types: &["info"],
    outcome: None,
    description: "sshd is waiting for more from the client (keyboard-interactive prompts, a key signature).",
    example: (
        "sshd",
        "Postponed keyboard-interactive for alice from 192.0.2.10 port 50022 ssh2 [preauth]",
    ),
};
const INVALID_USER: Action = Action {
    name: "ssh_invalid_user",
    category: &["authentication"],
    types: &["info"],
    outcome: Some("failure"),
    description: "A client asked to log in as an account that does not exist: user enumeration or brute force.",
    example: ("sshd", "Invalid user webmaster from 173.234.31.186 port 38926"),
};
const USER_NOT_ALLOWED: Action = Action {
    name: "ssh_user_not_allowed",
    category: &["authentication"],
    types: &["info"],
    outcome: Some("failure"),
    description: "sshd refused the account by configuration (AllowUsers, DenyGroups...) or because it is locked; `event.reason` says which.",
    example: ("sshd", "User root from 203.0.113.9 not allowed because not listed in AllowUsers"),
};
const ROOT_LOGIN_REFUSED: Action = Action {
    name: "ssh_root_login_refused",
    category: &["authentication"],
    types: &["info"],
    outcome: Some("failure"),
    description: "A root login refused by PermitRootLogin.",
    example: ("sshd", "ROOT LOGIN REFUSED FROM 203.0.113.9 port 41112"),
};
const MAX_AUTH_ATTEMPTS: Action = Action {
    name: "ssh_max_auth_attempts",
    category: &["authentication"],
    types: &["info"],
    outcome: Some("failure"),
    description: "The client used up MaxAuthTries and was disconnected: a brute-force signal.",
    example: (
        "sshd",
        "error: maximum authentication attempts exceeded for root from 203.0.113.9 port 41112 ssh2 [preauth]",
    ),
};
const AUTH_TIMEOUT: Action = Action {
    name: "ssh_auth_timeout",
    category: &["authentication"],
    types: &["end"],
    outcome: Some("failure"),
    description: "The client did not authenticate within LoginGraceTime.",
    example: ("sshd", "Timeout before authentication for 203.0.113.9 port 41112"),
};
const CONNECTION: Action = Action {
    name: "ssh_connection",
    category: &["network"],
    types: &["connection", "start"],
    outcome: None,
    description: "A TCP connection reached sshd (logged at LogLevel VERBOSE); `destination.*` is the local end.",
    example: ("sshd", "Connection from 192.0.2.10 port 50022 on 10.0.0.5 port 22 rdomain \"\""),
};
const CONNECTION_CLOSED: Action = Action {
    name: "ssh_connection_closed",
    category: &["network"],
    types: &["connection", "end"],
    outcome: None,
    description: "The client closed the connection; with `[preauth]`, before logging in (often a brute-force client giving up).",
    example: (
        "sshd",
        "Connection closed by authenticating user root 203.0.113.9 port 41112 [preauth]",
    ),
};
const CONNECTION_RESET: Action = Action {
    name: "ssh_connection_reset",
    category: &["network"],
    types: &["connection", "end"],
    outcome: None,
    description: "The connection was reset by the client.",
    example: ("sshd", "Connection reset by 203.0.113.9 port 41112 [preauth]"),
};
const DISCONNECT: Action = Action {
    name: "ssh_disconnect",
    category: &["network"],
    types: &["connection", "end"],
    outcome: None,
    description: "sshd ended a connection (`Disconnected from`, `Disconnecting ...: REASON`).",
    example: ("sshd", "Disconnected from user alice 192.0.2.10 port 50022"),
};
const RECEIVED_DISCONNECT: Action = Action {
    name: "ssh_received_disconnect",
    category: &["network"],
    types: &["connection", "end"],
    outcome: None,
    description: "The client sent an SSH disconnect message; `event.reason` is its text, `system.auth.ssh.disconnect_code` its code.",
    example: ("sshd", "Received disconnect from 203.0.113.9 port 41112:11: Bye Bye [preauth]"),
};
const NO_IDENTIFICATION: Action = Action {
    name: "ssh_no_identification",
    category: &["network"],
    types: &["protocol"],
    outcome: Some("failure"),
    description: "A client connected and never sent an SSH banner: a port scanner or a probe.",
    example: ("sshd", "Did not receive identification string from 203.0.113.9 port 41112"),
};
const PROTOCOL_ERROR: Action = Action {
    name: "ssh_protocol_error",
    category: &["network"],
    types: &["protocol"],
    outcome: Some("failure"),
    description: "The SSH handshake failed: a bad banner, no common algorithm, a non-SSH client.",
    example: (
        "sshd",
        "Unable to negotiate with 203.0.113.9 port 41112: no matching key exchange method found. Their offer: diffie-hellman-group1-sha1 [preauth]",
    ),
};
const REVERSE_MAPPING_FAILED: Action = Action {
    name: "ssh_reverse_mapping_failed",
    category: &["network"],
    types: &["info"],
    outcome: None,
    description: "The client's reverse DNS name does not resolve back to its address (sshd warns: POSSIBLE BREAK-IN ATTEMPT).",
    example: (
        "sshd",
        "reverse mapping checking getaddrinfo for ns.example.com [173.234.31.186] failed - POSSIBLE BREAK-IN ATTEMPT!",
    ),
};
const SESSION_START: Action = Action {
    name: "ssh_session_start",
    category: &["session"],
    types: &["start"],
    outcome: Some("success"),
    description: "A shell, command or subsystem session started (LogLevel VERBOSE).",
    example: ("sshd", "Starting session: shell on pts/0 for alice from 192.0.2.10 port 50022 id 0"),
};
const SESSION_END: Action = Action {
    name: "ssh_session_end",
    category: &["session"],
    types: &["end"],
    outcome: Some("success"),
    description: "A session closed (LogLevel VERBOSE).",
    example: ("sshd", "Close session: user alice from 192.0.2.10 port 50022 id 0"),
};
const SERVER_LISTENING: Action = Action {
    name: "ssh_server_listening",
    category: &["process"],
    types: &["start"],
    outcome: Some("success"),
    description: "sshd started and listens on `server.address`:`server.port`.",
    example: ("sshd", "Server listening on :: port 22."),
};
const SERVER_STOPPED: Action = Action {
    name: "ssh_server_stopped",
    category: &["process"],
    types: &["end"],
    outcome: Some("success"),
    description: "sshd stopped on a signal.",
    example: ("sshd", "Received signal 15; terminating."),
};
const FATAL_ERROR: Action = Action {
    name: "ssh_fatal_error",
    category: &["network"],
    types: &["connection", "end"],
    outcome: Some("failure"),
    description: "The sshd process for a connection stopped on an error; `event.reason` is the text.",
    example: ("sshd", "fatal: Read from socket failed: Connection reset by peer [preauth]"),
};

/// The sshd actions, in documentation order.
pub(super) static ACTIONS: &[Action] = &[
    LOGIN,
    FAILED_PASSWORD,
    FAILED_PUBLICKEY,
    FAILED_AUTH,
    PARTIAL,
    POSTPONED,
    INVALID_USER,
    USER_NOT_ALLOWED,
    ROOT_LOGIN_REFUSED,
    MAX_AUTH_ATTEMPTS,
    AUTH_TIMEOUT,
    CONNECTION,
    CONNECTION_CLOSED,
    CONNECTION_RESET,
    DISCONNECT,
    RECEIVED_DISCONNECT,
    NO_IDENTIFICATION,
    PROTOCOL_ERROR,
    REVERSE_MAPPING_FAILED,
    SESSION_START,
    SESSION_END,
    SERVER_LISTENING,
    SERVER_STOPPED,
    FATAL_ERROR,
];

/// Parses one sshd message.
pub(super) fn parse(message: &str) -> Option<Record> {
    let (message, preauth) = strip_preauth(message);
    let mut record = parse_body(message)?;
    if preauth {
        record.flag("system.auth.ssh.preauth", true);
    }
    Some(record)
}

fn parse_body(message: &str) -> Option<Record> {
    // `error: ` is only the log level of some of the lines below.
    let body = message.strip_prefix("error: ").unwrap_or(message);
    let (first, rest) = body.split_once(' ')?;
    match first {
        "Accepted" => method_line(|_| &LOGIN, rest),
        "Failed" => method_line(
            |method| match method {
                "password" => &FAILED_PASSWORD,
                "publickey" => &FAILED_PUBLICKEY,
                _ => &FAILED_AUTH,
            },
            rest,
        ),
        "Partial" => method_line(|_| &PARTIAL, rest),
        "Postponed" => method_line(|_| &POSTPONED, rest),
        "Invalid" => invalid_user(rest.strip_prefix("user ")?),
        "input_userauth_request:" => {
            let user = rest.strip_prefix("invalid user ")?;
            let mut record = Record::new(&INVALID_USER);
            record.user("user.name", user);
            record.flag("system.auth.ssh.invalid_user", true);
            Some(record)
        }
        "maximum" => {
            let rest = rest.strip_prefix("authentication attempts exceeded ")?;
            attempt(&MAX_AUTH_ATTEMPTS, rest)
        }
        "PAM:" => pam_failure(rest),
        "User" => user_not_allowed(rest),
        "ROOT" => {
            let (address, port) = split_port(rest.strip_prefix("LOGIN REFUSED FROM ")?);
            let mut record = peer(&ROOT_LOGIN_REFUSED, address, port)?;
            record.user("user.name", "root");
            Some(record)
        }
        "Timeout" => {
            let (address, port) = split_port(rest.strip_prefix("before authentication for ")?);
            peer(&AUTH_TIMEOUT, address, port)
        }
        "Connection" => {
            if let Some(rest) = rest.strip_prefix("closed by ") {
                peer_with_user(&CONNECTION_CLOSED, rest)
            } else if let Some(rest) = rest.strip_prefix("reset by ") {
                peer_with_user(&CONNECTION_RESET, rest)
            } else {
                connection_from(rest.strip_prefix("from ")?)
            }
        }
        "Disconnected" => peer_with_user(&DISCONNECT, rest.strip_prefix("from ")?),
        "Disconnecting:" => disconnecting_plain(rest),
        "Disconnecting" => disconnecting_peer(rest),
        "Received" => {
            if let Some(rest) = rest.strip_prefix("disconnect from ") {
                received_disconnect(rest)
            } else {
                let signal = rest.strip_prefix("signal ")?.strip_suffix("; terminating.")?;
                is_digits(signal).then(|| Record::new(&SERVER_STOPPED))
            }
        }
        "Did" => {
            let rest = rest.strip_prefix("not receive identification string from ")?;
            let (address, port) = split_port(rest);
            peer(&NO_IDENTIFICATION, address, port)
        }
        "reverse" => reverse_mapping(rest.strip_prefix("mapping checking getaddrinfo for ")?),
        "Address" => address_maps(rest),
        "Server" => listening(rest.strip_prefix("listening on ")?),
        "Starting" => session_start(rest.strip_prefix("session: ")?),
        "Close" => session_end(rest.strip_prefix("session: user ")?),
        "fatal:" => {
            let mut record = Record::new(&FATAL_ERROR);
            record.text("event.reason", rest);
            Some(record)
        }
        "Bad" if rest.starts_with("protocol version identification ") => {
            let (reason, tail) = body.rsplit_once(" from ")?;
            let (address, port) = split_port(tail);
            let mut record = peer(&PROTOCOL_ERROR, address, port)?;
            record.text("event.reason", reason);
            Some(record)
        }
        "banner" => protocol_error_at(rest.strip_prefix("exchange: Connection from ")?),
        "ssh_dispatch_run_fatal:" => protocol_error_at(rest.strip_prefix("Connection from ")?),
        "Unable" => protocol_error_at(rest.strip_prefix("to negotiate with ")?),
        "Protocol" => protocol_error_at(rest.strip_prefix("major versions differ for ")?),
        "kex_exchange_identification:" => {
            let mut record = Record::new(&PROTOCOL_ERROR);
            record.text("event.reason", rest);
            Some(record)
        }
        _ => None,
    }
}

/// The parts of `for [invalid user ]U from ADDR port N ssh2[: SIGNATURE]`.
struct Attempt<'a> {
    user: &'a str,
    invalid_user: bool,
    address: &'a str,
    port: Option<&'a str>,
    signature: Option<&'a str>,
}

fn parse_attempt(text: &str) -> Option<Attempt<'_>> {
    let rest = text.strip_prefix("for ")?;
    // `illegal user` is the wording of OpenSSH before 3.8 and of some PAM messages.
    let (rest, invalid_user) =
        match rest.strip_prefix("invalid user ").or_else(|| rest.strip_prefix("illegal user ")) {
            Some(rest) => (rest, true),
            None => (rest, false),
        };
    // The last ` from ` is the real one: a user name can contain the word.
    let (user, tail) = rest.rsplit_once(" from ")?;
    // The key signature follows `: `, which no address contains (IPv6 uses bare colons).
    let (tail, signature) = match tail.split_once(": ") {
        Some((tail, signature)) => (tail, Some(signature)),
        None => (tail, None),
    };
    let tail = tail.strip_suffix(" ssh2").or_else(|| tail.strip_suffix(" ssh1")).unwrap_or(tail);
    let (address, port) = split_port(tail);
    is_address(address).then_some(Attempt { user, invalid_user, address, port, signature })
}

/// `Accepted|Failed|Partial|Postponed METHOD for ...`; `action_of` picks the action from the
/// method.
fn method_line(action_of: impl Fn(&str) -> &'static Action, rest: &str) -> Option<Record> {
    let (method, rest) = rest.split_once(' ')?;
    if method.is_empty() || method.len() > 64 {
        return None;
    }
    let mut record = attempt(action_of(method), rest)?;
    record.name("system.auth.ssh.method", method);
    Some(record)
}

/// A record from `for [invalid user ]U from ADDR port N ssh2[: SIGNATURE]`.
fn attempt(action: &'static Action, text: &str) -> Option<Record> {
    let attempt = parse_attempt(text)?;
    let mut record = peer(action, attempt.address, attempt.port)?;
    record.user("user.name", attempt.user);
    if attempt.invalid_user {
        record.flag("system.auth.ssh.invalid_user", true);
    }
    if let Some(signature) = attempt.signature {
        record.text("system.auth.ssh.signature", signature);
    }
    Some(record)
}

/// `PAM: Authentication failure for [illegal user ]U from HOST` (sshd with UsePAM on some
/// systems) and other `PAM: REASON for U from HOST` lines.
fn pam_failure(rest: &str) -> Option<Record> {
    let at = rest.find(" for ")?;
    let (reason, tail) = (&rest[..at], &rest[at + 1..]);
    let mut record = attempt(&FAILED_AUTH, tail)?;
    record.text("event.reason", reason);
    Some(record)
}

/// `Invalid user U from ADDR[ port N]`.
fn invalid_user(rest: &str) -> Option<Record> {
    // An empty user name leaves `Invalid user  from ...`; a single space is tolerated too.
    let (user, tail) = match rest.strip_prefix("from ") {
        Some(tail) if !tail.contains(" from ") => ("", tail),
        _ => rest.rsplit_once(" from ")?,
    };
    let (address, port) = split_port(tail);
    let mut record = peer(&INVALID_USER, address, port)?;
    record.user("user.name", user);
    record.flag("system.auth.ssh.invalid_user", true);
    Some(record)
}

/// `User U from ADDR not allowed because REASON`, `User U not allowed because REASON`.
fn user_not_allowed(rest: &str) -> Option<Record> {
    let (left, reason) = rest.rsplit_once(" not allowed because ")?;
    let mut record = Record::new(&USER_NOT_ALLOWED);
    match left.rsplit_once(" from ") {
        Some((user, address)) if is_address(address) => {
            record.user("user.name", user);
            record.source(address);
        }
        _ => record.user("user.name", left),
    }
    record.text("event.reason", reason);
    Some(record)
}

/// A record with the peer address and port; `None` when the address is not one.
fn peer(action: &'static Action, address: &str, port: Option<&str>) -> Option<Record> {
    if !is_address(address) {
        return None;
    }
    let mut record = Record::new(action);
    // sshd writes `UNKNOWN port 65535` for a peer whose address it lost: neither is real.
    if address != "UNKNOWN" {
        record.source(address);
        if let Some(port) = port {
            record.port("source.port", port);
        }
    }
    Some(record)
}

/// `[authenticating user U |invalid user U |user U ]ADDR[ port N]`.
fn peer_with_user(action: &'static Action, text: &str) -> Option<Record> {
    let (rest, port) = split_port(text);
    let (prefix, address) = match rest.rsplit_once(' ') {
        Some((prefix, address)) => (Some(prefix), address),
        None => (None, rest),
    };
    let mut record = peer(action, address, port)?;
    if let Some(prefix) = prefix {
        if let Some(user) = prefix.strip_prefix("authenticating user ") {
            record.user("user.name", user);
        } else if let Some(user) = prefix.strip_prefix("invalid user ") {
            record.user("user.name", user);
            record.flag("system.auth.ssh.invalid_user", true);
        } else if let Some(user) = prefix.strip_prefix("user ") {
            record.user("user.name", user);
        } else {
            return None;
        }
    }
    Some(record)
}

/// `Connection from ADDR port N on ADDR port N[ rdomain "..."]`.
fn connection_from(rest: &str) -> Option<Record> {
    let (remote, local) = rest.split_once(" on ")?;
    let local = local.split_once(" rdomain ").map_or(local, |(local, _)| local);
    let (address, port) = split_port(remote);
    let mut record = peer(&CONNECTION, address, port)?;
    let (local_address, local_port) = split_port(local);
    if let Some(ip) = ip_text(local_address) {
        record.name("destination.ip", ip);
        if let Some(port) = local_port {
            record.port("destination.port", port);
        }
    }
    Some(record)
}

/// `Disconnecting: Too many authentication failures[ for U]`, `Disconnecting: REASON`.
fn disconnecting_plain(reason: &str) -> Option<Record> {
    if let Some(rest) = reason.strip_prefix("Too many authentication failures") {
        let mut record = Record::new(&MAX_AUTH_ATTEMPTS);
        if let Some(user) = rest.strip_prefix(" for ") {
            let user = user.strip_prefix("invalid user ").unwrap_or(user);
            record.user("user.name", user);
        }
        return Some(record);
    }
    let mut record = Record::new(&DISCONNECT);
    record.text("event.reason", reason);
    Some(record)
}

/// `Disconnecting [authenticating |invalid ]user U ADDR port N: REASON`.
fn disconnecting_peer(rest: &str) -> Option<Record> {
    let (peer_text, reason) = split_after_port(rest)?;
    let action = if reason.starts_with("Too many authentication failures") {
        &MAX_AUTH_ATTEMPTS
    } else {
        &DISCONNECT
    };
    let mut record = peer_with_user(action, peer_text)?;
    record.text("event.reason", reason);
    Some(record)
}

/// `ADDR port N:CODE: REASON` (OpenSSH 7.3 and later) or `ADDR: CODE: REASON`.
fn received_disconnect(rest: &str) -> Option<Record> {
    let (peer_text, after) = match split_after_port(rest) {
        Some(parts) => parts,
        None => rest.split_once(": ")?,
    };
    let (address, port) = split_port(peer_text);
    let mut record = peer(&RECEIVED_DISCONNECT, address, port)?;
    let (code, reason) = after.split_once(':').unwrap_or((after, ""));
    let code = code.trim();
    if is_digits(code)
        && let Ok(code) = code.parse::<u32>()
    {
        record.int("system.auth.ssh.disconnect_code", i64::from(code));
    }
    record.text("event.reason", reason.trim());
    Some(record)
}

/// `HOST [IP] failed - POSSIBLE BREAK-IN ATTEMPT!`.
fn reverse_mapping(rest: &str) -> Option<Record> {
    let (host, tail) = rest.split_once(" [")?;
    let (ip, _) = tail.split_once(']')?;
    reverse_record(ip, host)
}

/// `Address IP maps to HOST, but this does not map back to the address ...`.
fn address_maps(rest: &str) -> Option<Record> {
    let (ip, tail) = rest.split_once(" maps to ")?;
    let (host, _) = tail.split_once(", but this does not map back")?;
    reverse_record(ip, host)
}

fn reverse_record(ip: &str, host: &str) -> Option<Record> {
    ip_text(ip)?;
    let mut record = Record::new(&REVERSE_MAPPING_FAILED);
    record.source(ip);
    record.domain("source.domain", host);
    Some(record)
}

/// `ADDR port N.`
fn listening(rest: &str) -> Option<Record> {
    let (address, port) = split_port(rest.strip_suffix('.').unwrap_or(rest));
    let ip = ip_text(address)?;
    let mut record = Record::new(&SERVER_LISTENING);
    record.name("server.ip", ip);
    record.name("server.address", address);
    if let Some(port) = port {
        record.port("server.port", port);
    }
    Some(record)
}

/// `shell on pts/0 for U from ADDR port N id N` (also `command`, `subsystem 'sftp'`,
/// `forced-command (config) '...'`).
fn session_start(rest: &str) -> Option<Record> {
    let (left, address, port) = session_tail(rest)?;
    let (kind, user) = left.rsplit_once(" for ")?;
    let mut record = peer(&SESSION_START, address, port)?;
    record.user("user.name", user);
    if let Some((_, tty)) = kind.rsplit_once(" on ")
        && !tty.contains([' ', '\'', '"'])
    {
        record.name("system.auth.tty", tty);
    }
    Some(record)
}

/// `U from ADDR port N id N`.
fn session_end(rest: &str) -> Option<Record> {
    let (user, address, port) = session_tail(rest)?;
    let mut record = peer(&SESSION_END, address, port)?;
    record.user("user.name", user);
    Some(record)
}

/// Splits `LEFT from ADDR port N id N` into LEFT, the address and the port.
fn session_tail(rest: &str) -> Option<(&str, &str, Option<&str>)> {
    let (rest, id) = rest.rsplit_once(" id ")?;
    if !is_digits(id) {
        return None;
    }
    let (left, tail) = rest.rsplit_once(" from ")?;
    let (address, port) = split_port(tail);
    Some((left, address, port))
}

/// `ADDR port N: REASON` of a failed handshake.
fn protocol_error_at(rest: &str) -> Option<Record> {
    let (peer_text, reason) = split_after_port(rest)?;
    let (address, port) = split_port(peer_text);
    let mut record = peer(&PROTOCOL_ERROR, address, port)?;
    record.text("event.reason", reason);
    Some(record)
}

/// Splits `... port N: REST` (or `... port N:REST`) after the first ` port N:`; an IPv6
/// address before it has colons but never ` port `.
fn split_after_port(text: &str) -> Option<(&str, &str)> {
    for (at, _) in text.match_indices(" port ") {
        let after = &text[at + 6..];
        let n_digits = after.bytes().take_while(u8::is_ascii_digit).count();
        if n_digits > 0
            && let Some(rest) = after[n_digits..].strip_prefix(':')
        {
            return Some((&text[..at + 6 + n_digits], rest.trim_start()));
        }
    }
    None
}

/// An address sshd logs: an IP address, a host name (UseDNS), or `UNKNOWN`.
fn is_address(text: &str) -> bool {
    text == "UNKNOWN" || ip_text(text).is_some() || is_host_name(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempt_reads_user_from_the_end() {
        let attempt =
            parse_attempt("for root from 1.2.3.4 from 5.6.7.8 port 22 ssh2").expect("parses");
        assert_eq!(attempt.user, "root from 1.2.3.4");
        assert_eq!(attempt.address, "5.6.7.8");
        assert_eq!(attempt.port, Some("22"));
        let attempt =
            parse_attempt("for invalid user  0101 from 2001:db8::1 port 9 ssh2: RSA SHA256:x")
                .expect("parses");
        assert!(attempt.invalid_user);
        assert_eq!(attempt.user, " 0101");
        assert_eq!(attempt.address, "2001:db8::1");
        assert_eq!(attempt.signature, Some("RSA SHA256:x"));
        assert!(parse_attempt("for root from not an address port 22 ssh2").is_none());
    }

    #[test]
    fn split_after_port_skips_ipv6_colons() {
        assert_eq!(
            split_after_port("2001:db8::1 port 22:11: bye"),
            Some(("2001:db8::1 port 22", "11: bye"))
        );
        assert_eq!(split_after_port("1.2.3.4: 11: bye"), None);
    }
}
