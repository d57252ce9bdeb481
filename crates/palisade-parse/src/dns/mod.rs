//! TODO(helper): module documentation.

use palisade_event::Event;

/// Parses the message of one syslog line from `program` (the APP-NAME/TAG, without pid) and
/// adds the ECS fields it finds to `event`. Returns false, leaving `event` untouched, when the
/// message is not one this module understands.
pub fn parse_program(program: &str, pid: Option<u32>, message: &str, event: &mut Event) -> bool {
    let _ = (program, pid, message, event);
    false
}


/// Parses one line of a BIND query log file (`DD-Mon-YYYY HH:MM:SS.mmm client ...: query: ...`),
/// whose time has no zone: it is read in `time_zone`. `None` when it is not one.
#[must_use]
pub fn parse_line(line: &str, time_zone: &jiff::tz::TimeZone) -> Option<Event> {
    let _ = (line, time_zone);
    None
}
