//! TODO(helper): module documentation.

use palisade_event::Event;

/// Parses the message of one syslog line from `program` (the APP-NAME/TAG, without pid) and
/// adds the ECS fields it finds to `event`. Returns false, leaving `event` untouched, when the
/// message is not one this module understands.
pub fn parse_program(program: &str, pid: Option<u32>, message: &str, event: &mut Event) -> bool {
    let _ = (program, pid, message, event);
    false
}

