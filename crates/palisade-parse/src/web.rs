//! TODO(helper): module documentation.

use palisade_event::Event;

/// Parses the message of one syslog line from `program` (the APP-NAME/TAG, without pid) and
/// adds the ECS fields it finds to `event`. Returns false, leaving `event` untouched, when the
/// message is not one this module understands.
pub fn parse_program(program: &str, pid: Option<u32>, message: &str, event: &mut Event) -> bool {
    let _ = (program, pid, message, event);
    false
}


/// Which server wrote an access log, when the caller knows (it decides `event.dataset`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebServer {
    /// nginx: `nginx.access`.
    Nginx,
    /// Apache httpd: `apache.access`.
    Apache,
    /// Not known (auto-detected): `web.access`.
    Unknown,
}

/// Parses one access-log line (combined, common, vhost_combined) into an event with
/// `event.original` and `@timestamp` set. `None` when it is not one.
#[must_use]
pub fn parse_line(line: &str, server: WebServer) -> Option<Event> {
    let _ = (line, server);
    None
}
