//! Postfix mail logs (`/var/log/mail.log`, `maillog`, or syslog), normalised to ECS.
//!
//! [`parse_program`] reads the message of a syslog line whose program is a Postfix daemon:
//! `postfix/<daemon>`, with a multi-instance name (`postfix-out/smtp`) or a master.cf service
//! name (`postfix/submission/smtpd`). Every other program is refused. `process.name` is the
//! daemon (the last part), `postfix.instance` the first part and `postfix.service` the middle
//! one, when there is one.
//!
//! Lines recognised, by daemon (the daemon is not checked: a line is read by its shape):
//! - smtpd: `connect from`, `disconnect from ... ehlo=1 auth=0/1 commands=2/3`, `lost
//!   connection|timeout|too many errors after STAGE from`, `improper command pipelining`,
//!   `NOQUEUE|QID: reject|reject_warning|milter-reject|discard|hold|...: STAGE from CLIENT:
//!   REPLY; from=<> to=<> proto= helo=<>`, `warning: CLIENT: SASL X authentication
//!   failed|aborted`, `QID: client=CLIENT[, sasl_method=, sasl_username=]`, `warning: hostname H
//!   does not resolve to address IP`, TLS `... TLS connection established from|to`;
//! - cleanup: `QID: message-id=<...>`, header/body checks (`QID: reject: header Subject: ...
//!   from CLIENT; from=<> to=<> proto= helo=<>: TEXT`), `milter-reject`;
//! - pickup: `QID: uid=N from=<...>`;
//! - qmgr: `QID: from=<...>, size=N, nrcpt=N (queue active)`, `status=expired`, `QID: removed`;
//! - smtp, lmtp, local, virtual, pipe, error, discard: `QID: to=<...>, [orig_to=<...>,]
//!   relay=..., delay=, delays=, dsn=, status=sent|bounced|deferred|... (REPLY)`, `connect to
//!   HOST[IP]:PORT: reason`, `QID: host H[IP] said: REPLY (in reply to X command)`, `QID: lost
//!   connection with ...`, `QID: conversation with ... timed out ...`;
//! - bounce: `QID: sender non-delivery notification: QID`;
//! - postscreen: `CONNECT from [IP]:PORT to [IP]:PORT`, `PASS NEW|OLD`, `DNSBL rank N for`,
//!   `PREGREET`, `HANGUP after`, `DISCONNECT`, `DENYLISTED`/`BLACKLISTED`,
//!   `ALLOWLISTED`/`WHITELISTED`, `ALLOWLIST VETO`, `COMMAND PIPELINING`, `NON-SMTP COMMAND`,
//!   `BARE NEWLINE`, `COMMAND ... LIMIT`, and its `NOQUEUE: reject:` lines;
//! - anvil, scache: `statistics: ...`; master: `daemon started`, `reload`, `terminating on
//!   signal`;
//! - any daemon: `warning:`, `error:`, `fatal:`, `panic:` lines, and any other line that starts
//!   with a queue id (kept with `postfix.queue_id`, action `message_log`).
//!
//! Queue ids are short (upper-case hex, `4F2A81C0A2B`) or long (`4Zq8Xk1HxKz9sRW`).
//!
//! # Fields
//!
//! | Field | Meaning |
//! |---|---|
//! | `source.ip`, `source.domain`, `source.address`, `source.port` | The SMTP client (`name[addr]:port`; the name `unknown` is dropped) |
//! | `destination.ip`, `destination.domain`, `destination.address`, `destination.port` | The relay a message went to, or the server the SMTP client connected to; postscreen's local end |
//! | `user.name` | `sasl_username=` |
//! | `email.from.address`, `email.to.address` | `from=<>` and `to=<>` (not set when empty: the null sender `<>`) |
//! | `email.message_id` | cleanup's `message-id=<...>` without the angle brackets |
//! | `email.local_id`, `postfix.queue_id` | The queue id |
//! | `tls.version`, `tls.version_protocol`, `tls.cipher`, `tls.established` | TLS lines |
//! | `log.level` | `warning`, `error`, `fatal` or `panic` for such lines |
//! | `postfix.status`, `postfix.dsn`, `postfix.delay` (seconds, float), `postfix.delays`, `postfix.relay`, `postfix.conn_use`, `postfix.orig_to` | Delivery lines |
//! | `postfix.size`, `postfix.nrcpt` | qmgr |
//! | `postfix.response` | The SMTP reply or reason: of a delivery (the text in parentheses), a reject, a remote server |
//! | `postfix.smtp_code` | The SMTP reply code (`554`) when the reply starts with one |
//! | `postfix.smtp_stage` | The SMTP command a line refers to (`RCPT`, `AUTH`, `END-OF-MESSAGE`, `RCPT TO`) |
//! | `postfix.access_action` | The verb of an access or content check (`reject`, `discard`, `hold`, `warning`...) |
//! | `postfix.proto`, `postfix.helo` | `proto=` and `helo=<>` of reject lines |
//! | `postfix.sasl_method` | The SASL mechanism (`PLAIN`, `LOGIN`) |
//! | `postfix.session.*` | The command counters of `disconnect from` (`postfix.session.auth: "0/1"`) |
//! | `postfix.check.class`, `postfix.check.content` | Header or body check: the class and the matched text |
//! | `postfix.postscreen.*` | `dnsbl_rank`, `pregreet_bytes`, `elapsed`, `test`, `verdict` (`NEW`/`OLD`) |
//! | `postfix.bounce_queue_id` | The queue id of a bounce message |
//! | `postfix.version`, `postfix.config_directory`, `postfix.signal` | master |
//! | `postfix.text` | The text of statistics, warnings and other unmapped lines |
//!
//! `event.dataset` is `postfix.log`, `event.kind` `event`; `event.action` and its
//! categorisation come from [`actions`] (also in `docs/parsers/postfix.md`).
//!
//! Parsing is prefix and separator matching on `&str`, linear in the message length, with no
//! panic on any input; every field is capped by [`EcsFields`].

use palisade_event::{Event, Value};

use crate::ecs::{EcsFields, cap, ip_text, is_digits};

/// The `event.dataset` of every event this module produces.
pub const DATASET: &str = "postfix.log";

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

macro_rules! actions {
    ($( $ident:ident = $name:literal, [$($cat:literal),*], [$($ty:literal),*], $outcome:expr,
        $description:literal, ($program:literal, $message:literal); )*) => {
        $(
            static $ident: Action = Action {
                name: $name,
                category: &[$($cat),*],
                types: &[$($ty),*],
                outcome: $outcome,
                description: $description,
                example: ($program, $message),
            };
        )*
        static ACTIONS: &[&Action] = &[$(&$ident),*];
    };
}

actions! {
    SMTP_CONNECT = "smtp_connect", ["email", "network"], ["connection", "start"], None,
        "A client connected to smtpd.",
        ("postfix/smtpd", "connect from mail.example.com[192.0.2.5]");
    SMTP_DISCONNECT = "smtp_disconnect", ["email", "network"], ["connection", "end"], None,
        "A client disconnected; the counters say which commands it sent (ok/total).",
        ("postfix/smtpd", "disconnect from unknown[203.0.113.9] ehlo=1 auth=0/1 quit=1 commands=2/3");
    SMTP_LOST_CONNECTION = "smtp_lost_connection", ["email", "network"], ["connection", "end"], None,
        "The client dropped the connection during a command.",
        ("postfix/smtpd", "lost connection after AUTH from unknown[203.0.113.9]");
    SMTP_TIMEOUT = "smtp_timeout", ["email", "network"], ["connection", "end"], None,
        "smtpd closed an idle client.",
        ("postfix/smtpd", "timeout after DATA (0 bytes) from unknown[203.0.113.9]");
    SMTP_TOO_MANY_ERRORS = "smtp_too_many_errors", ["email", "network"], ["connection", "end"], Some("failure"),
        "smtpd closed a client that made too many errors.",
        ("postfix/smtpd", "too many errors after RCPT from unknown[203.0.113.9]");
    SMTP_PROTOCOL_VIOLATION = "smtp_protocol_violation", ["email", "network"], ["protocol"], Some("failure"),
        "A client broke the SMTP protocol: pipelining before the greeting, a non-SMTP command, a bare newline, a command limit.",
        ("postfix/smtpd", "improper command pipelining after CONNECT from unknown[203.0.113.9]: EHLO x\\r\\n");
    SMTP_REJECT = "smtp_reject", ["email", "network"], ["denied"], Some("failure"),
        "smtpd or postscreen refused a command (client, HELO, sender, recipient, data restrictions).",
        ("postfix/smtpd", "NOQUEUE: reject: RCPT from unknown[203.0.113.9]: 554 5.7.1 <bob@example.org>: Relay access denied; from=<spam@example.net> to=<bob@example.org> proto=ESMTP helo=<example.net>");
    SMTP_REJECT_WARNING = "smtp_reject_warning", ["email", "network"], ["info"], None,
        "A restriction would have refused the command (warn_if_reject, soft_bounce tests).",
        ("postfix/smtpd", "NOQUEUE: reject_warning: RCPT from unknown[203.0.113.9]: 450 4.7.1 Client host rejected: cannot find your hostname; from=<a@example.net> to=<bob@example.org> proto=ESMTP helo=<x>");
    SMTP_ACCESS_ACTION = "smtp_access_action", ["email"], ["info"], None,
        "An access restriction acted on a message without refusing it (discard, hold, redirect, filter, warn, bcc...).",
        ("postfix/smtpd", "4F2A81C0A2B: hold: RCPT from mail.example.com[192.0.2.5]: <alice@example.com>: Sender address triggers HOLD action; from=<alice@example.com> to=<bob@example.org> proto=ESMTP helo=<mail.example.com>");
    MILTER_REJECT = "milter_reject", ["email"], ["denied"], Some("failure"),
        "A milter (spam or virus filter) refused the message.",
        ("postfix/cleanup", "4F2A81C0A2B: milter-reject: END-OF-MESSAGE from mail.example.com[192.0.2.5]: 5.7.1 Spam message rejected; from=<a@example.net> to=<bob@example.org> proto=ESMTP helo=<mail.example.com>");
    CONTENT_REJECT = "content_reject", ["email"], ["denied"], Some("failure"),
        "A header or body check refused the message.",
        ("postfix/cleanup", "4F2A81C0A2B: reject: header Subject: You won from mail.example.com[192.0.2.5]; from=<a@example.net> to=<bob@example.org> proto=ESMTP helo=<mail.example.com>: 5.7.1 Message content rejected");
    CONTENT_CHECK = "content_check", ["email"], ["info"], None,
        "A header or body check matched without refusing (warning, info, hold, discard, replace, redirect...).",
        ("postfix/cleanup", "4F2A81C0A2B: warning: header Subject: invoice from mail.example.com[192.0.2.5]; from=<a@example.net> to=<bob@example.org> proto=ESMTP helo=<mail.example.com>");
    SASL_AUTH_FAILED = "sasl_auth_failed", ["email", "authentication"], ["start"], Some("failure"),
        "A client failed SMTP AUTH: password guessing against mail accounts shows up here.",
        ("postfix/smtpd", "warning: unknown[203.0.113.9]: SASL LOGIN authentication failed: UGFzc3dvcmQ6");
    SASL_AUTH_ABORTED = "sasl_auth_aborted", ["email", "authentication"], ["start"], Some("failure"),
        "A client gave up during SMTP AUTH (sent `*`).",
        ("postfix/smtpd", "warning: unknown[203.0.113.9]: SASL LOGIN authentication aborted");
    SASL_MESSAGE_ACCEPTED = "sasl_message_accepted", ["email", "authentication"], ["start"], Some("success"),
        "An authenticated client (sasl_username) started a message: a successful SMTP AUTH that was used.",
        ("postfix/submission/smtpd", "4F2A81C0A2B: client=mail.example.com[192.0.2.5], sasl_method=PLAIN, sasl_username=alice");
    MESSAGE_ACCEPTED = "message_accepted", ["email"], ["info"], Some("success"),
        "smtpd gave a queue id to a message from a client.",
        ("postfix/smtpd", "4F2A81C0A2B: client=mail.example.com[192.0.2.5]");
    MESSAGE_SUBMITTED = "message_submitted", ["email"], ["info"], Some("success"),
        "pickup took a message submitted locally (sendmail command) by a uid.",
        ("postfix/pickup", "4F2A81C0A2B: uid=1000 from=<alice>");
    MESSAGE_ID = "message_id", ["email"], ["info"], None,
        "cleanup read the Message-ID header of a message.",
        ("postfix/cleanup", "4F2A81C0A2B: message-id=<20261201.abc@example.com>");
    MESSAGE_QUEUED = "message_queued", ["email"], ["info"], None,
        "qmgr put a message in the active queue: sender, size and recipient count.",
        ("postfix/qmgr", "4F2A81C0A2B: from=<alice@example.com>, size=1234, nrcpt=1 (queue active)");
    MESSAGE_EXPIRED = "message_expired", ["email"], ["info"], Some("failure"),
        "qmgr gave up on a message that stayed too long in the queue and returned it.",
        ("postfix/qmgr", "4F2A81C0A2B: from=<alice@example.com>, status=expired, returned to sender");
    MESSAGE_REMOVED = "message_removed", ["email"], ["info"], None,
        "A message left the queue (all recipients done).",
        ("postfix/qmgr", "4F2A81C0A2B: removed");
    DELIVERY_SENT = "delivery_sent", ["email"], ["info"], Some("success"),
        "A recipient was delivered (relayed, or to a mailbox).",
        ("postfix/smtp", "4F2A81C0A2B: to=<bob@example.org>, relay=mx.example.org[198.51.100.25]:25, delay=0.52, delays=0.1/0.01/0.2/0.21, dsn=2.0.0, status=sent (250 2.0.0 OK 1700000000 abc)");
    DELIVERY_BOUNCED = "delivery_bounced", ["email"], ["info"], Some("failure"),
        "A recipient failed for good; the sender gets a bounce.",
        ("postfix/smtp", "4F2A81C0A2B: to=<nobody@example.org>, relay=mx.example.org[198.51.100.25]:25, delay=1.2, delays=0.1/0/0.6/0.5, dsn=5.1.1, status=bounced (host mx.example.org[198.51.100.25] said: 550 5.1.1 User unknown (in reply to RCPT TO command))");
    DELIVERY_DEFERRED = "delivery_deferred", ["email"], ["info"], Some("failure"),
        "A delivery attempt failed for now; it will be retried.",
        ("postfix/smtp", "4F2A81C0A2B: to=<bob@example.org>, relay=none, delay=30, delays=0.1/0/30/0, dsn=4.4.1, status=deferred (connect to mx.example.org[198.51.100.25]:25: Connection timed out)");
    DELIVERY_STATUS = "delivery_status", ["email"], ["info"], None,
        "Any other delivery status (address verification: deliverable, undeliverable).",
        ("postfix/smtp", "4F2A81C0A2B: to=<bob@example.org>, relay=mx.example.org[198.51.100.25]:25, delay=0.3, delays=0/0/0.2/0.1, dsn=2.1.5, status=deliverable (250 2.1.5 Ok)");
    BOUNCE_NOTIFICATION = "bounce_notification", ["email"], ["info"], None,
        "bounce created a notification message (its queue id is postfix.bounce_queue_id).",
        ("postfix/bounce", "4F2A81C0A2B: sender non-delivery notification: 5B3C91C0A2C");
    SMTP_CONNECT_FAILED = "smtp_connect_failed", ["email", "network"], ["connection", "start"], Some("failure"),
        "The SMTP client could not connect to a remote server.",
        ("postfix/smtp", "connect to mx.example.org[198.51.100.25]:25: Connection timed out");
    SMTP_REMOTE_REPLY = "smtp_remote_reply", ["email", "network"], ["info"], Some("failure"),
        "A remote server refused a command of the SMTP client.",
        ("postfix/smtp", "4F2A81C0A2B: host mx.example.org[198.51.100.25] said: 450 4.7.1 Try again later (in reply to RCPT TO command)");
    SMTP_REMOTE_ERROR = "smtp_remote_error", ["email", "network"], ["connection", "end"], Some("failure"),
        "The SMTP client lost or timed out a connection to a remote server.",
        ("postfix/smtp", "4F2A81C0A2B: lost connection with mx.example.org[198.51.100.25] while receiving the initial server greeting");
    TLS_ESTABLISHED = "tls_established", ["email", "network"], ["connection", "protocol"], Some("success"),
        "A TLS session was set up with a client or server.",
        ("postfix/smtpd", "Anonymous TLS connection established from mail.example.com[192.0.2.5]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)");
    TLS_ERROR = "tls_error", ["email", "network"], ["protocol"], Some("failure"),
        "A TLS handshake failed.",
        ("postfix/smtpd", "SSL_accept error from unknown[203.0.113.9]: lost connection");
    CLIENT_DNS_MISMATCH = "client_dns_mismatch", ["email", "network"], ["info"], None,
        "The client's reverse DNS name does not map back to its address.",
        ("postfix/smtpd", "warning: hostname mail.example.net does not resolve to address 203.0.113.9");
    POSTSCREEN_CONNECT = "postscreen_connect", ["email", "network"], ["connection", "start"], None,
        "postscreen received a connection.",
        ("postfix/postscreen", "CONNECT from [203.0.113.9]:51234 to [192.0.2.25]:25");
    POSTSCREEN_PASS = "postscreen_pass", ["email", "network"], ["allowed"], Some("success"),
        "A client passed postscreen's tests (NEW) or was still allowed from the cache (OLD).",
        ("postfix/postscreen", "PASS NEW [203.0.113.9]:51234");
    POSTSCREEN_DNSBL = "postscreen_dnsbl", ["email", "network"], ["info"], None,
        "The client is listed on DNS blocklists with this combined score.",
        ("postfix/postscreen", "DNSBL rank 3 for [203.0.113.9]:51234");
    POSTSCREEN_PREGREET = "postscreen_pregreet", ["email", "network"], ["protocol"], Some("failure"),
        "The client talked before the greeting (a spambot sign).",
        ("postfix/postscreen", "PREGREET 11 after 0.09 from [203.0.113.9]:51234: EHLO example.net\\r\\n");
    POSTSCREEN_HANGUP = "postscreen_hangup", ["email", "network"], ["connection", "end"], None,
        "The client hung up during a postscreen test.",
        ("postfix/postscreen", "HANGUP after 0.5 from [203.0.113.9]:51234 in tests after SMTP handshake");
    POSTSCREEN_DISCONNECT = "postscreen_disconnect", ["email", "network"], ["connection", "end"], None,
        "postscreen closed a connection.",
        ("postfix/postscreen", "DISCONNECT [203.0.113.9]:51234");
    POSTSCREEN_DENYLISTED = "postscreen_denylisted", ["email", "network"], ["denied"], Some("failure"),
        "The client is on postscreen's access list as denied (DENYLISTED, BLACKLISTED before 3.6).",
        ("postfix/postscreen", "DENYLISTED [203.0.113.9]:51234");
    POSTSCREEN_ALLOWLISTED = "postscreen_allowlisted", ["email", "network"], ["allowed"], Some("success"),
        "The client is on postscreen's access list as allowed (ALLOWLISTED, WHITELISTED before 3.6).",
        ("postfix/postscreen", "ALLOWLISTED [192.0.2.5]:40000");
    POSTSCREEN_ALLOWLIST_VETO = "postscreen_allowlist_veto", ["email", "network"], ["info"], None,
        "An allowlisted client was still tested (a DNS allowlist veto).",
        ("postfix/postscreen", "ALLOWLIST VETO [203.0.113.9]:51234");
    STATISTICS = "statistics", ["email"], ["info"], None,
        "anvil or scache statistics (connection rates per client, cache hits).",
        ("postfix/anvil", "statistics: max connection rate 1/60s for (smtp:203.0.113.9) at Dec  1 10:00:00");
    DAEMON_STARTED = "daemon_started", ["process"], ["start"], Some("success"),
        "The Postfix master process started.",
        ("postfix/master", "daemon started -- version 3.8.5, configuration /etc/postfix");
    DAEMON_RELOADED = "daemon_reloaded", ["process", "configuration"], ["change"], Some("success"),
        "Postfix reloaded its configuration.",
        ("postfix/master", "reload -- version 3.8.5, configuration /etc/postfix");
    DAEMON_STOPPED = "daemon_stopped", ["process"], ["end"], Some("success"),
        "The Postfix master process stopped on a signal.",
        ("postfix/master", "terminating on signal 15");
    POSTFIX_WARNING = "postfix_warning", ["email"], ["info"], None,
        "Any other `warning:` line.",
        ("postfix/smtpd", "warning: database /etc/postfix/virtual.db is older than source file /etc/postfix/virtual");
    POSTFIX_ERROR = "postfix_error", ["email"], ["error"], Some("failure"),
        "An `error:`, `fatal:` or `panic:` line.",
        ("postfix/smtpd", "fatal: no SASL authentication mechanisms");
    MESSAGE_LOG = "message_log", ["email"], ["info"], None,
        "Any other line about a queued message (kept for its queue id).",
        ("postfix/smtp", "4F2A81C0A2B: enabling PIX workarounds: disable_esmtp delay_dotcrlf for mx.example.org[198.51.100.25]:25");
}

/// Returns every action this module produces.
pub fn actions() -> impl Iterator<Item = &'static Action> {
    ACTIONS.iter().copied()
}

/// Parses the message of one syslog line from `program` (the APP-NAME/TAG, without pid) and
/// adds the ECS fields it finds to `event`. Returns false, leaving `event` untouched, when the
/// message is not one this module understands.
///
/// # Example
/// ```
/// use palisade_event::Event;
///
/// let mut event = Event::new();
/// let message = "warning: unknown[203.0.113.9]: SASL LOGIN authentication failed: UGFzc3dvcmQ6";
/// assert!(palisade_parse::postfix::parse_program("postfix/smtpd", Some(2211), message, &mut event));
/// assert_eq!(event.get_str("event.action").as_deref(), Some("sasl_auth_failed"));
/// assert_eq!(event.get_str("source.ip").as_deref(), Some("203.0.113.9"));
/// ```
pub fn parse_program(program: &str, pid: Option<u32>, message: &str, event: &mut Event) -> bool {
    let Some(program) = Program::classify(program) else { return false };
    let message = message.trim_end_matches(['\r', '\n', ' ']);
    let Some(record) = recognise(message) else { return false };
    record.apply(&program, pid, event);
    true
}

/// A Postfix program name taken apart: `postfix-out/submission/smtpd`.
#[derive(Debug)]
struct Program<'a> {
    instance: &'a str,
    service: Option<&'a str>,
    daemon: &'a str,
}

impl<'a> Program<'a> {
    fn classify(raw: &'a str) -> Option<Self> {
        let mut name = raw.trim();
        if let Some(open) = name.find('[')
            && name.ends_with(']')
        {
            name = name.get(..open)?;
        }
        let (instance, rest) = name.split_once('/')?;
        let valid_instance = instance == "postfix"
            || instance.strip_prefix("postfix").is_some_and(|suffix| {
                suffix.starts_with(['-', '_', '.'])
                    && suffix.len() > 1
                    && suffix
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            });
        if !valid_instance || instance.len() > 64 {
            return None;
        }
        let (service, daemon) = match rest.rsplit_once('/') {
            Some((service, daemon)) => (Some(service), daemon),
            None => (None, rest),
        };
        let valid_part = |part: &str| {
            !part.is_empty()
                && part.len() <= 64
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        };
        if !valid_part(daemon) || service.is_some_and(|service| !valid_part(service)) {
            return None;
        }
        Some(Self { instance, service, daemon })
    }
}

/// The fields found for one line and its action, applied only once the line is recognised.
struct Record {
    action: &'static Action,
    fields: EcsFields,
}

impl Record {
    fn new(action: &'static Action) -> Self {
        Self { action, fields: EcsFields::new() }
    }

    fn apply(mut self, program: &Program<'_>, pid: Option<u32>, event: &mut Event) {
        let action = self.action;
        let fields = &mut self.fields;
        fields.categorize(DATASET, "event", action.category, action.types, action.outcome);
        fields.name("event.action", action.name);
        fields.name("process.name", program.daemon);
        if let Some(pid) = pid {
            fields.int("process.pid", i64::from(pid));
        }
        fields.name("postfix.instance", program.instance);
        if let Some(service) = program.service {
            fields.name("postfix.service", service);
        }
        self.fields.apply(event);
    }

    fn queue_id(&mut self, queue_id: &str) {
        self.fields.name("postfix.queue_id", queue_id);
        self.fields.name("email.local_id", queue_id);
    }

    /// Sets `source.*` from an SMTP client.
    fn client(&mut self, peer: &Peer<'_>) {
        self.peer(peer, "source");
    }

    /// Sets `destination.*` from a remote server.
    fn server(&mut self, peer: &Peer<'_>) {
        self.peer(peer, "destination");
    }

    fn peer(&mut self, peer: &Peer<'_>, side: &str) {
        let fields = &mut self.fields;
        let (ip, domain, address, port_field) = if side == "source" {
            ("source.ip", "source.domain", "source.address", "source.port")
        } else {
            ("destination.ip", "destination.domain", "destination.address", "destination.port")
        };
        if fields.ip(ip, peer.address) {
            fields.name(address, ip_text(peer.address).unwrap_or(peer.address));
        }
        if !peer.name.eq_ignore_ascii_case("unknown")
            && fields.host(domain, peer.name)
            && ip_text(peer.address).is_none()
        {
            fields.name(address, peer.name);
        }
        if let Some(port) = peer.port {
            fields.port(port_field, port);
        }
    }

    fn email(&mut self, field: &'static str, address: &str) {
        if !address.is_empty() {
            self.fields.name(field, address);
        }
    }

    /// Sets `postfix.response` and, when it starts with one, `postfix.smtp_code` and
    /// `postfix.dsn` from an SMTP reply (`550 5.1.1 text`).
    fn reply(&mut self, reply: &str) {
        let reply = reply.trim();
        self.fields.text("postfix.response", reply);
        let mut words = reply.splitn(3, ' ');
        let first = words.next().unwrap_or_default();
        let mut dsn_candidate = first;
        if first.len() == 3 && is_digits(first) {
            self.fields.int_text("postfix.smtp_code", first);
            dsn_candidate = words.next().unwrap_or_default();
        }
        if is_dsn(dsn_candidate) {
            self.fields.name("postfix.dsn", dsn_candidate);
        }
    }
}

/// An enhanced status code: `5.7.1`.
fn is_dsn(text: &str) -> bool {
    let mut parts = text.split('.');
    let class = parts.next().unwrap_or_default();
    matches!(class, "2" | "4" | "5")
        && parts.clone().count() == 2
        && parts.all(|part| is_digits(part) && part.len() <= 3)
}

/// An SMTP peer as Postfix writes it: `name[address]`, `name[address]:port`, `[address]:port`.
#[derive(Debug, PartialEq)]
struct Peer<'a> {
    name: &'a str,
    address: &'a str,
    port: Option<&'a str>,
}

/// Reads a peer at the start of `text`; returns it and the text after it.
fn take_peer(text: &str) -> Option<(Peer<'_>, &str)> {
    let open = text.find('[')?;
    let name = text.get(..open)?;
    if name.contains([' ', ',', ';']) {
        return None;
    }
    let after_open = text.get(open + 1..)?;
    let close = after_open.find(']')?;
    let address = after_open.get(..close)?;
    let mut rest = after_open.get(close + 1..)?;
    let mut port = None;
    if let Some(after_colon) = rest.strip_prefix(':') {
        let n_digits = after_colon.bytes().take_while(u8::is_ascii_digit).count();
        if n_digits > 0 {
            port = after_colon.get(..n_digits);
            rest = after_colon.get(n_digits..)?;
        }
    }
    Some((Peer { name, address, port }, rest))
}

/// Reads a peer that must be the whole of `text`.
fn whole_peer(text: &str) -> Option<Peer<'_>> {
    let (peer, rest) = take_peer(text)?;
    rest.is_empty().then_some(peer)
}

/// Splits `key=value` pairs separated by spaces or `, `, as Postfix writes them. A value in
/// angle brackets runs to a `>` followed by a separator, a `:` or the end (so addresses may
/// hold spaces); `status=` takes the rest of the line. Returns the pairs and the text that
/// did not parse as one.
fn key_values(text: &str) -> (Vec<(&str, &str)>, &str) {
    let mut pairs = Vec::new();
    let mut rest = text;
    while pairs.len() < 32 {
        rest = rest.trim_start_matches([' ', ',']);
        let Some((key, after)) = rest.split_once('=') else { break };
        let valid_key = !key.is_empty()
            && key.len() <= 32
            && key.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'));
        if !valid_key {
            break;
        }
        if key == "status" {
            pairs.push((key, after));
            rest = "";
            break;
        }
        if let Some(inner) = after.strip_prefix('<') {
            let bytes = inner.as_bytes();
            let close = bytes.iter().enumerate().position(|(index, &byte)| {
                byte == b'>' && matches!(bytes.get(index + 1), None | Some(b' ' | b',' | b':'))
            });
            let Some(close) = close else { break };
            pairs.push((key, inner.get(..close).unwrap_or_default()));
            rest = inner.get(close + 1..).unwrap_or_default();
        } else {
            let end = after.find([' ', ',']).unwrap_or(after.len());
            pairs.push((key, after.get(..end).unwrap_or_default()));
            rest = after.get(end..).unwrap_or_default();
        }
    }
    (pairs, rest)
}

/// A queue id: 5 to 20 upper-case hex digits (short form), or 12 to 20 letters and digits
/// with at least one of each (long form, `enable_long_queue_ids`).
fn is_queue_id(text: &str) -> bool {
    let bytes = text.as_bytes();
    if !(5..=20).contains(&bytes.len()) {
        return false;
    }
    let short = bytes.iter().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(b));
    let long = bytes.len() >= 12
        && bytes.iter().all(u8::is_ascii_alphanumeric)
        && bytes.iter().any(u8::is_ascii_digit)
        && bytes.iter().any(u8::is_ascii_alphabetic);
    short || long
}

/// Picks the parser for a message.
fn recognise(message: &str) -> Option<Record> {
    if let Some(rest) = message.strip_prefix("warning: ") {
        return Some(warning(rest));
    }
    for level in ["error", "fatal", "panic"] {
        if let Some(rest) = message.strip_prefix(level).and_then(|r| r.strip_prefix(": ")) {
            let mut record = Record::new(&POSTFIX_ERROR);
            record.fields.name("log.level", level);
            record.fields.text("postfix.text", rest);
            if let Some(peer) = peer_after_from(rest) {
                record.client(&peer);
            }
            return Some(record);
        }
    }
    if let Some(rest) = message.strip_prefix("NOQUEUE: ") {
        return access_check(None, rest);
    }
    if let Some((queue_id, rest)) = message.split_once(": ")
        && is_queue_id(queue_id)
    {
        return Some(queued(queue_id, rest));
    }
    smtpd(message).or_else(|| postscreen(message)).or_else(|| other(message))
}

/// Lines of smtpd (and the SMTP client) without a queue id.
fn smtpd(message: &str) -> Option<Record> {
    if let Some(rest) = message.strip_prefix("connect from ") {
        let mut record = Record::new(&SMTP_CONNECT);
        record.client(&whole_peer(rest)?);
        return Some(record);
    }
    if let Some(rest) = message.strip_prefix("disconnect from ") {
        let (peer, after) = take_peer(rest)?;
        let mut record = Record::new(&SMTP_DISCONNECT);
        record.client(&peer);
        let (pairs, _) = key_values(after.trim_start());
        for (key, value) in pairs {
            if key.len() <= 16 {
                record.fields.name(format!("postfix.session.{key}"), value);
            }
        }
        return Some(record);
    }
    for (prefix, action) in [
        ("lost connection after ", &SMTP_LOST_CONNECTION),
        ("timeout after ", &SMTP_TIMEOUT),
        ("too many errors after ", &SMTP_TOO_MANY_ERRORS),
        ("improper command pipelining after ", &SMTP_PROTOCOL_VIOLATION),
    ] {
        if let Some(rest) = message.strip_prefix(prefix) {
            let (stage, after) = rest.split_once(" from ")?;
            let (peer, after) = take_peer(after)?;
            let mut record = Record::new(action);
            // `DATA (0 bytes)`: the stage is the command.
            let command = stage.split(" (").next().unwrap_or(stage);
            record.fields.name("postfix.smtp_stage", command);
            record.client(&peer);
            if let Some(text) = after.strip_prefix(": ") {
                record.fields.text("postfix.text", text);
            }
            return Some(record);
        }
    }
    if let Some(rest) = message.strip_prefix("SSL_accept error from ") {
        let (peer, after) = take_peer(rest)?;
        let mut record = Record::new(&TLS_ERROR);
        record.client(&peer);
        record.fields.text("postfix.response", after.trim_start_matches([':', ' ']));
        return Some(record);
    }
    if let Some(rest) = message.strip_prefix("connect to ") {
        let (peer, after) = take_peer(rest)?;
        let reason = after.strip_prefix(": ")?;
        let mut record = Record::new(&SMTP_CONNECT_FAILED);
        record.server(&peer);
        record.fields.text("postfix.response", reason);
        return Some(record);
    }
    tls_established(message)
}

/// `Anonymous|Untrusted|Trusted|Verified TLS connection established from|to PEER: TLSv1.3 with
/// cipher NAME (256/256 bits)...`
fn tls_established(message: &str) -> Option<Record> {
    let (trust, rest) = message.split_once(" TLS connection established ")?;
    if !matches!(trust, "Anonymous" | "Untrusted" | "Trusted" | "Verified") {
        return None;
    }
    let (inbound, rest) = if let Some(rest) = rest.strip_prefix("from ") {
        (true, rest)
    } else {
        (false, rest.strip_prefix("to ")?)
    };
    let (peer, after) = take_peer(rest)?;
    let mut record = Record::new(&TLS_ESTABLISHED);
    if inbound {
        record.client(&peer);
    } else {
        record.server(&peer);
    }
    record.fields.name("postfix.tls_trust", trust);
    record.fields.flag("tls.established", true);
    let details = after.strip_prefix(": ").unwrap_or_default();
    let mut words = details.split(' ');
    if let Some(protocol) = words.next() {
        if let Some(version) = protocol.strip_prefix("TLSv") {
            record.fields.name("tls.version_protocol", "tls");
            record.fields.name("tls.version", version);
        } else if let Some(version) = protocol.strip_prefix("SSLv") {
            record.fields.name("tls.version_protocol", "ssl");
            record.fields.name("tls.version", version);
        }
    }
    if let Some((_, after_cipher)) = details.split_once(" with cipher ") {
        let cipher = after_cipher.split(' ').next().unwrap_or_default();
        record.fields.name("tls.cipher", cipher);
    }
    Some(record)
}

/// postscreen's lines.
fn postscreen(message: &str) -> Option<Record> {
    if let Some(rest) = message.strip_prefix("CONNECT from ") {
        let (peer, after) = take_peer(rest)?;
        let mut record = Record::new(&POSTSCREEN_CONNECT);
        record.client(&peer);
        if let Some(local) = after.strip_prefix(" to ").and_then(whole_peer) {
            record.server(&local);
        }
        return Some(record);
    }
    if let Some(rest) = message.strip_prefix("PASS ") {
        let (verdict, rest) = rest.split_once(' ')?;
        if !matches!(verdict, "NEW" | "OLD") {
            return None;
        }
        let mut record = Record::new(&POSTSCREEN_PASS);
        record.client(&whole_peer(rest)?);
        record.fields.name("postfix.postscreen.verdict", verdict);
        return Some(record);
    }
    if let Some(rest) = message.strip_prefix("DNSBL rank ") {
        let (rank, rest) = rest.split_once(" for ")?;
        let mut record = Record::new(&POSTSCREEN_DNSBL);
        if !record.fields.int_text("postfix.postscreen.dnsbl_rank", rank) {
            return None;
        }
        record.client(&whole_peer(rest)?);
        return Some(record);
    }
    if let Some(rest) = message.strip_prefix("PREGREET ") {
        let (count, rest) = rest.split_once(" after ")?;
        let (elapsed, rest) = rest.split_once(" from ")?;
        let (peer, after) = take_peer(rest)?;
        let mut record = Record::new(&POSTSCREEN_PREGREET);
        record.fields.int_text("postfix.postscreen.pregreet_bytes", count);
        record.fields.name("postfix.postscreen.elapsed", elapsed);
        record.client(&peer);
        if let Some(text) = after.strip_prefix(": ") {
            record.fields.text("postfix.text", text);
        }
        return Some(record);
    }
    if let Some(rest) = message.strip_prefix("HANGUP after ") {
        let (elapsed, rest) = rest.split_once(" from ")?;
        let (peer, after) = take_peer(rest)?;
        let mut record = Record::new(&POSTSCREEN_HANGUP);
        record.fields.name("postfix.postscreen.elapsed", elapsed);
        record.client(&peer);
        if let Some(test) = after.strip_prefix(" in ") {
            record.fields.text("postfix.postscreen.test", test);
        }
        return Some(record);
    }
    for (prefix, action) in [
        ("DISCONNECT ", &POSTSCREEN_DISCONNECT),
        ("DENYLISTED ", &POSTSCREEN_DENYLISTED),
        ("BLACKLISTED ", &POSTSCREEN_DENYLISTED),
        ("ALLOWLISTED ", &POSTSCREEN_ALLOWLISTED),
        ("WHITELISTED ", &POSTSCREEN_ALLOWLISTED),
        ("ALLOWLIST VETO ", &POSTSCREEN_ALLOWLIST_VETO),
        ("WHITELIST VETO ", &POSTSCREEN_ALLOWLIST_VETO),
    ] {
        if let Some(rest) = message.strip_prefix(prefix) {
            let mut record = Record::new(action);
            record.client(&whole_peer(rest)?);
            return Some(record);
        }
    }
    for prefix in [
        "COMMAND PIPELINING from ",
        "NON-SMTP COMMAND from ",
        "BARE NEWLINE from ",
        "COMMAND TIME LIMIT from ",
        "COMMAND COUNT LIMIT from ",
        "COMMAND LENGTH LIMIT from ",
    ] {
        if let Some(rest) = message.strip_prefix(prefix) {
            let (peer, after) = take_peer(rest)?;
            let mut record = Record::new(&SMTP_PROTOCOL_VIOLATION);
            record.client(&peer);
            let violation = prefix.strip_suffix(" from ").unwrap_or(prefix);
            record.fields.name("postfix.postscreen.test", violation);
            if let Some(after) = after.strip_prefix(" after ") {
                let (command, text) = match after.split_once(": ") {
                    Some((command, text)) => (command, Some(text)),
                    None => (after, None),
                };
                record.fields.name("postfix.smtp_stage", command);
                if let Some(text) = text {
                    record.fields.text("postfix.text", text);
                }
            }
            return Some(record);
        }
    }
    None
}

/// master, anvil, scache.
fn other(message: &str) -> Option<Record> {
    if let Some(rest) = message.strip_prefix("statistics: ") {
        let mut record = Record::new(&STATISTICS);
        record.fields.text("postfix.text", rest);
        // anvil: `... for (smtp:203.0.113.9) at ...`
        if let Some((_, after)) = rest.split_once(" for (")
            && let Some((service_client, _)) = after.split_once(')')
            && let Some((_, client)) = service_client.split_once(':')
        {
            record.fields.related_ip(client);
        }
        return Some(record);
    }
    for (prefix, action) in
        [("daemon started -- ", &DAEMON_STARTED), ("reload -- ", &DAEMON_RELOADED)]
    {
        if let Some(rest) = message.strip_prefix(prefix) {
            let mut record = Record::new(action);
            for part in rest.split(", ") {
                if let Some(version) = part.strip_prefix("version ") {
                    record.fields.name("postfix.version", version);
                } else if let Some(directory) = part.strip_prefix("configuration ") {
                    record.fields.text("postfix.config_directory", directory);
                }
            }
            return Some(record);
        }
    }
    if let Some(signal) = message.strip_prefix("terminating on signal ") {
        let mut record = Record::new(&DAEMON_STOPPED);
        if !is_digits(signal) {
            return None;
        }
        record.fields.int_text("postfix.signal", signal);
        return Some(record);
    }
    None
}

/// The first `from NAME[ADDR]` in a text, or a leading `NAME[ADDR]: `.
fn peer_after_from(text: &str) -> Option<Peer<'_>> {
    if let Some((peer, after)) = take_peer(text)
        && after.starts_with(':')
    {
        return Some(peer);
    }
    let (_, after) = text.split_once(" from ")?;
    take_peer(after).map(|(peer, _)| peer)
}

/// `warning: ...` lines.
fn warning(rest: &str) -> Record {
    // `NAME[ADDR]: SASL METHOD authentication failed: REASON[, sasl_username=U]`
    if let Some((peer, after)) = take_peer(rest)
        && let Some(sasl) = after.strip_prefix(": SASL ")
        && let Some((method, outcome)) = sasl.split_once(" authentication ")
        && !method.contains(' ')
    {
        let aborted = outcome.starts_with("aborted");
        let failed = outcome.strip_prefix("failed");
        if aborted || failed.is_some() {
            let mut record =
                Record::new(if aborted { &SASL_AUTH_ABORTED } else { &SASL_AUTH_FAILED });
            record.fields.name("log.level", "warning");
            record.client(&peer);
            record.fields.name("postfix.sasl_method", method);
            record.fields.name("postfix.smtp_stage", "AUTH");
            if let Some(reason) = failed.and_then(|f| f.strip_prefix(": ")) {
                let (reason, user) = match reason.rsplit_once(", sasl_username=") {
                    Some((reason, user)) => (reason, Some(user)),
                    None => (reason, None),
                };
                record.fields.text("postfix.response", reason);
                if let Some(user) = user {
                    record.fields.user("user.name", user);
                }
            }
            return record;
        }
    }
    // `hostname H does not resolve to address IP[: reason]`
    if let Some(after) = rest.strip_prefix("hostname ")
        && let Some((host, address)) = after.split_once(" does not resolve to address ")
    {
        let address = address.split(':').next().filter(|a| ip_text(a).is_some()).unwrap_or(
            // IPv6 addresses hold colons: take the address up to `: `.
            address.split(": ").next().unwrap_or(address),
        );
        if let Some(record) = dns_mismatch(host, address, rest) {
            return record;
        }
    }
    // `IP: hostname H verification failed: ...`, `IP: address not listed for hostname H`
    if let Some((address, after)) = rest.split_once(": ")
        && ip_text(address).is_some()
    {
        let host = after
            .strip_prefix("hostname ")
            .and_then(|h| h.split_once(" verification failed").map(|(host, _)| host))
            .or_else(|| after.strip_prefix("address not listed for hostname "));
        if let Some(host) = host
            && let Some(record) = dns_mismatch(host, address, rest)
        {
            return record;
        }
    }
    // smtpd: `non-SMTP command from NAME[ADDR]: TEXT` (an HTTP client, a scanner).
    if let Some(after) = rest.strip_prefix("non-SMTP command from ")
        && let Some((peer, text)) = take_peer(after)
    {
        let mut record = Record::new(&SMTP_PROTOCOL_VIOLATION);
        record.fields.name("log.level", "warning");
        record.client(&peer);
        if let Some(text) = text.strip_prefix(": ") {
            record.fields.text("postfix.text", text);
        }
        return record;
    }
    let mut record = Record::new(&POSTFIX_WARNING);
    record.fields.name("log.level", "warning");
    record.fields.text("postfix.text", rest);
    if let Some(peer) = peer_after_from(rest) {
        record.client(&peer);
    }
    record
}

fn dns_mismatch(host: &str, address: &str, text: &str) -> Option<Record> {
    let ip = ip_text(address)?;
    let mut record = Record::new(&CLIENT_DNS_MISMATCH);
    record.fields.name("log.level", "warning");
    record.fields.ip("source.ip", address);
    record.fields.name("source.address", ip);
    record.fields.host("source.domain", host);
    record.fields.text("postfix.text", text);
    Some(record)
}

/// `VERB: STAGE from PEER: REPLY; from=<> to=<> proto= helo=<>` (smtpd, postscreen, milter)
/// or, for cleanup, `VERB: header|body TEXT from PEER; from=<> ...: REPLY`.
fn access_check(queue_id: Option<&str>, rest: &str) -> Option<Record> {
    let (verb, rest) = rest.split_once(": ")?;
    if verb.is_empty()
        || verb.len() > 24
        || !verb.bytes().all(|b| b.is_ascii_lowercase() || matches!(b, b'_' | b'-'))
    {
        return None;
    }
    if let Some(record) = content_check(queue_id, verb, rest) {
        return Some(record);
    }
    let (stage, rest) = rest.split_once(" from ")?;
    if stage.is_empty()
        || stage.len() > 24
        || !stage.bytes().all(|b| b.is_ascii_uppercase() || b == b'-')
    {
        return None;
    }
    let (peer, rest) = take_peer(rest)?;
    let rest = rest.strip_prefix(": ").unwrap_or(rest);
    let action = match verb {
        "reject" => &SMTP_REJECT,
        "reject_warning" => &SMTP_REJECT_WARNING,
        "milter-reject" => &MILTER_REJECT,
        _ => &SMTP_ACCESS_ACTION,
    };
    let mut record = Record::new(action);
    if let Some(queue_id) = queue_id {
        record.queue_id(queue_id);
    }
    record.fields.name("postfix.access_action", verb);
    record.fields.name("postfix.smtp_stage", stage);
    record.client(&peer);
    let (reply, tail) = split_tail(rest);
    record.reply(reply);
    envelope(&mut record, tail);
    Some(record)
}

/// Splits `REPLY; from=<...> ...` at the envelope part (`; from=<`, `; to=<`, `; proto=`).
fn split_tail(text: &str) -> (&str, &str) {
    for marker in ["; from=<", "; to=<", "; proto=", "; helo=<"] {
        if let Some(at) = text.find(marker) {
            return (text.get(..at).unwrap_or(text), text.get(at + 2..).unwrap_or_default());
        }
    }
    (text, "")
}

/// The envelope of a reject line: `from=<> to=<> proto= helo=<>` (smtpd) or with commas
/// (postscreen). Returns what follows it.
fn envelope<'a>(record: &mut Record, tail: &'a str) -> &'a str {
    let (pairs, rest) = key_values(tail);
    for (key, value) in pairs {
        match key {
            "from" => record.email("email.from.address", value),
            "to" => record.email("email.to.address", value),
            "proto" => record.fields.name("postfix.proto", value),
            "helo" => record.fields.name("postfix.helo", value),
            _ => {}
        }
    }
    rest
}

/// cleanup's header/body checks: `reject: header Subject: TEXT from PEER; from=<> to=<>
/// proto=ESMTP helo=<>: 5.7.1 REPLY`.
fn content_check(queue_id: Option<&str>, verb: &str, rest: &str) -> Option<Record> {
    let (class, rest) = rest.split_once(' ')?;
    if !matches!(class, "header" | "body" | "mime-header" | "nested-header") {
        return None;
    }
    let (before, tail) = split_tail(rest);
    let (content, peer) = match before.rsplit_once(" from ") {
        Some((content, peer_text)) => (content, whole_peer(peer_text)),
        None => (before, None),
    };
    let action = if verb == "reject" { &CONTENT_REJECT } else { &CONTENT_CHECK };
    let mut record = Record::new(action);
    if let Some(queue_id) = queue_id {
        record.queue_id(queue_id);
    }
    record.fields.name("postfix.access_action", verb);
    record.fields.name("postfix.check.class", class);
    record.fields.text("postfix.check.content", content);
    if let Some(peer) = peer {
        record.client(&peer);
    }
    let after = envelope(&mut record, tail);
    if let Some(reply) = after.strip_prefix(": ").or_else(|| after.strip_prefix(':')) {
        record.reply(reply);
    }
    Some(record)
}

/// A line that starts with a queue id.
fn queued(queue_id: &str, rest: &str) -> Record {
    let record = queued_record(queue_id, rest);
    record.unwrap_or_else(|| {
        let mut record = Record::new(&MESSAGE_LOG);
        record.queue_id(queue_id);
        record.fields.text("postfix.text", rest);
        record
    })
}

fn queued_record(queue_id: &str, rest: &str) -> Option<Record> {
    if rest == "removed" {
        let mut record = Record::new(&MESSAGE_REMOVED);
        record.queue_id(queue_id);
        return Some(record);
    }
    if let Some(id) =
        rest.strip_prefix("message-id=").or_else(|| rest.strip_prefix("resent-message-id="))
    {
        let mut record = Record::new(&MESSAGE_ID);
        record.queue_id(queue_id);
        let id = id.trim();
        let id = id.strip_prefix('<').and_then(|i| i.strip_suffix('>')).unwrap_or(id);
        record.fields.text("email.message_id", id);
        return Some(record);
    }
    if rest.starts_with("client=") {
        return client_line(queue_id, rest);
    }
    if rest.starts_with("uid=") {
        let (pairs, _) = key_values(rest);
        let mut record = Record::new(&MESSAGE_SUBMITTED);
        record.queue_id(queue_id);
        for (key, value) in pairs {
            match key {
                "uid" => {
                    record.fields.name("user.id", value);
                }
                "from" => record.email("email.from.address", value),
                _ => {}
            }
        }
        return Some(record);
    }
    if rest.starts_with("from=<") {
        return qmgr(queue_id, rest);
    }
    if rest.starts_with("to=<") {
        return delivery(queue_id, rest);
    }
    for kind in ["sender", "postmaster"] {
        if let Some(after) = rest.strip_prefix(kind).and_then(|r| r.strip_prefix(' '))
            && let Some((_, bounce_id)) = after.split_once(" notification: ")
            && is_queue_id(bounce_id)
        {
            let mut record = Record::new(&BOUNCE_NOTIFICATION);
            record.queue_id(queue_id);
            record.fields.name("postfix.bounce_queue_id", bounce_id);
            record.fields.text("postfix.text", rest);
            return Some(record);
        }
    }
    if let Some(after) = rest.strip_prefix("host ") {
        let (peer, after) = take_peer(after)?;
        let reply = after
            .strip_prefix(" said: ")
            .or_else(|| after.strip_prefix(" refused to talk to me: "))?;
        let mut record = Record::new(&SMTP_REMOTE_REPLY);
        record.queue_id(queue_id);
        record.server(&peer);
        let reply = match reply.rsplit_once(" (in reply to ") {
            Some((reply, command)) => {
                let command = command.strip_suffix(")").unwrap_or(command);
                let command = command.strip_suffix(" command").unwrap_or(command);
                record.fields.name("postfix.smtp_stage", command);
                reply
            }
            None => reply,
        };
        record.reply(reply);
        return Some(record);
    }
    for prefix in ["lost connection with ", "conversation with "] {
        if let Some(after) = rest.strip_prefix(prefix) {
            let (peer, _) = take_peer(after)?;
            let mut record = Record::new(&SMTP_REMOTE_ERROR);
            record.queue_id(queue_id);
            record.server(&peer);
            record.fields.text("postfix.response", rest);
            return Some(record);
        }
    }
    if let Some(record) = access_check(Some(queue_id), rest) {
        return Some(record);
    }
    None
}

/// `client=NAME[ADDR][:PORT][, sasl_method=M, sasl_username=U][, orig_queue_id=..., orig_client=...]`
fn client_line(queue_id: &str, rest: &str) -> Option<Record> {
    let (pairs, _) = key_values(rest);
    let user = pairs.iter().find(|(key, _)| *key == "sasl_username").map(|(_, value)| *value);
    let action = if user.is_some_and(|user| !user.is_empty()) {
        &SASL_MESSAGE_ACCEPTED
    } else {
        &MESSAGE_ACCEPTED
    };
    let mut record = Record::new(action);
    record.queue_id(queue_id);
    for (key, value) in pairs {
        match key {
            "client" => record.client(&whole_peer(value)?),
            "sasl_method" => record.fields.name("postfix.sasl_method", value),
            "sasl_username" => record.fields.user("user.name", value),
            "sasl_sender" => record.email("postfix.sasl_sender", value),
            "orig_queue_id" => record.fields.name("postfix.orig_queue_id", value),
            "orig_client" => {
                if let Some(peer) = whole_peer(value) {
                    record.fields.related_ip(peer.address);
                }
                record.fields.name("postfix.orig_client", value);
            }
            _ => {}
        }
    }
    Some(record)
}

/// qmgr: `from=<A>, size=N, nrcpt=N (queue active)`, `from=<A>, status=expired, returned to
/// sender`.
fn qmgr(queue_id: &str, rest: &str) -> Option<Record> {
    let (pairs, _) = key_values(rest);
    let status = pairs.iter().find(|(key, _)| *key == "status").map(|(_, value)| *value);
    let mut record = Record::new(if status.is_some() { &MESSAGE_EXPIRED } else { &MESSAGE_QUEUED });
    record.queue_id(queue_id);
    for (key, value) in pairs {
        match key {
            "from" => record.email("email.from.address", value),
            "size" => {
                record.fields.int_text("postfix.size", value);
            }
            "nrcpt" => {
                record.fields.int_text("postfix.nrcpt", value);
            }
            "status" => {
                let (status, text) = value.split_once(", ").unwrap_or((value, ""));
                record.fields.name("postfix.status", status);
                record.fields.text("postfix.response", text);
            }
            _ => {}
        }
    }
    Some(record)
}

/// Delivery agents: `to=<A>, [orig_to=<B>,] relay=R, [conn_use=N,] delay=D, delays=a/b/c/d,
/// dsn=X.Y.Z, status=S (REPLY)`.
fn delivery(queue_id: &str, rest: &str) -> Option<Record> {
    let (pairs, _) = key_values(rest);
    let (_, status_text) = pairs.iter().find(|(key, _)| *key == "status")?;
    let (status, reply) = match status_text.split_once(' ') {
        Some((status, reply)) => (status, reply.trim()),
        None => (*status_text, ""),
    };
    let action = match status {
        "sent" => &DELIVERY_SENT,
        "bounced" => &DELIVERY_BOUNCED,
        "deferred" => &DELIVERY_DEFERRED,
        "expired" => &MESSAGE_EXPIRED,
        _ => &DELIVERY_STATUS,
    };
    let mut record = Record::new(action);
    record.queue_id(queue_id);
    for &(key, value) in &pairs {
        match key {
            "to" => record.email("email.to.address", value),
            "orig_to" => record.email("postfix.orig_to", value),
            "relay" => {
                record.fields.name("postfix.relay", value);
                if let Some(peer) = whole_peer(value) {
                    record.server(&peer);
                }
            }
            "conn_use" => {
                record.fields.int_text("postfix.conn_use", value);
            }
            "delay" => {
                if let Ok(delay) = value.parse::<f64>()
                    && delay.is_finite()
                    && value.bytes().all(|b| b.is_ascii_digit() || b == b'.')
                {
                    record.fields.set("postfix.delay", Value::Float(delay));
                }
            }
            "delays" => record.fields.name("postfix.delays", value),
            "dsn" if is_dsn(value) => record.fields.name("postfix.dsn", value),
            _ => {}
        }
    }
    record.fields.name("postfix.status", status);
    let reply = reply.strip_prefix('(').and_then(|r| r.strip_suffix(')')).unwrap_or(reply);
    record.fields.text("postfix.response", cap(reply, crate::ecs::MAX_TEXT_LEN));
    if let Some(code) = reply.get(..3)
        && is_digits(code)
        && reply.get(3..4) == Some(" ")
    {
        record.fields.int_text("postfix.smtp_code", code);
    }
    Some(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programs_are_postfix_daemons_only() {
        let program = Program::classify("postfix/submission/smtpd").unwrap();
        assert_eq!(
            (program.instance, program.service, program.daemon),
            ("postfix", Some("submission"), "smtpd")
        );
        let program = Program::classify("postfix-out/smtp").unwrap();
        assert_eq!((program.instance, program.daemon), ("postfix-out", "smtp"));
        assert!(Program::classify("postfix").is_none());
        assert!(Program::classify("postfixx/smtpd").is_none());
        assert!(Program::classify("postfix/").is_none());
        assert!(Program::classify("sshd").is_none());
        assert!(Program::classify("postfix/smtpd[123]").is_some());
    }

    #[test]
    fn peers() {
        let (peer, rest) = take_peer("unknown[2001:db8::25]:587: x").unwrap();
        assert_eq!(peer, Peer { name: "unknown", address: "2001:db8::25", port: Some("587") });
        assert_eq!(rest, ": x");
        let peer = whole_peer("[203.0.113.9]:51234").unwrap();
        assert_eq!((peer.name, peer.address, peer.port), ("", "203.0.113.9", Some("51234")));
        assert!(whole_peer("a b[1.2.3.4]").is_none());
        assert!(whole_peer("none").is_none());
    }

    #[test]
    fn key_values_handle_brackets_and_status() {
        let (pairs, rest) =
            key_values("to=<a b@example.org>, relay=x[1.2.3.4]:25, status=sent (250 ok, fine)");
        assert_eq!(
            pairs,
            vec![
                ("to", "a b@example.org"),
                ("relay", "x[1.2.3.4]:25"),
                ("status", "sent (250 ok, fine)")
            ]
        );
        assert_eq!(rest, "");
        let (pairs, rest) = key_values("from=<>, size=10, nrcpt=1 (queue active)");
        assert_eq!(pairs, vec![("from", ""), ("size", "10"), ("nrcpt", "1")]);
        assert_eq!(rest, "(queue active)");
        let (pairs, rest) = key_values("helo=<x>: 5.7.1 no");
        assert_eq!(pairs, vec![("helo", "x")]);
        assert_eq!(rest, ": 5.7.1 no");
        assert_eq!(key_values("helo=<unterminated").0, vec![]);
    }

    #[test]
    fn queue_ids() {
        assert!(is_queue_id("4F2A81C0A2B"));
        assert!(is_queue_id("4Zq8Xk1HxKz9sRW"));
        assert!(!is_queue_id("warning"));
        assert!(!is_queue_id("statistics"));
        assert!(!is_queue_id("NOQUEUE"));
        assert!(!is_queue_id("connect"));
        assert!(is_dsn("5.7.1"));
        assert!(!is_dsn("5.7"));
        assert!(!is_dsn("250"));
    }

    #[test]
    fn every_action_example_gives_its_action() {
        for action in actions() {
            let mut event = Event::new();
            let (program, message) = action.example;
            assert!(
                parse_program(program, Some(1), message, &mut event),
                "{}: {message}",
                action.name
            );
            assert_eq!(event.get_str("event.action").as_deref(), Some(action.name), "{message}");
        }
    }
}
