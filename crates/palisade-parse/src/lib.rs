//! Parsers: bytes in, [`palisade_event::Event`]s out. Synchronous and free of IO: callers read
//! files or sockets and hand the bytes over.
//!
//! - [`format::evtx`]: Windows `.evtx` files, through the `evtx` crate, in parallel chunks.
//! - [`format::windows`]: the flattening of a Windows event (System, EventData, UserData)
//!   into the field names Sigma rules use (`EventID`, `Channel`, `Provider_Name`, `Image`...).
//! - [`format::json`]: JSON documents and JSON lines in three shapes: the evtx_dump shape
//!   (`{"Event": {...}}`), the Winlogbeat shape (`{"winlog": {...}}`) and generic/ECS JSON,
//!   flattened to dotted names.
//! - [`syslog`]: syslog over TCP/TLS framing (RFC 6587) and messages in RFC 5424 and RFC 3164
//!   (BSD) formats with their common variants, mapped to ECS `log.syslog.*` fields.
//! - [`linux`]: Linux authentication logs (sshd, PAM, sudo, su, cron, systemd-logind) from
//!   `auth.log`/`secure` or syslog, mapped to ECS (`event.action`, `user.*`, `source.*`).
//!
//! Parsers never panic. A record that cannot be read becomes an error with its position; the
//! caller decides whether to keep it raw.
#![warn(missing_docs)]

pub mod auditd;
pub mod cef;
pub mod cloudtrail;
pub mod dhcp;
pub mod dns;
pub mod ecs;
mod error;
pub mod firewall;
pub mod format;
pub mod line;
pub mod linux;
pub mod logfmt;
pub mod postfix;
pub mod source;
pub mod suricata;
pub mod syslog;
pub mod text;
pub mod web;
pub mod zeek;

pub use error::{ParseError, Result};
