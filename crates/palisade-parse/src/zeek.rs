//! TODO(helper): module documentation.

use palisade_event::Event;
use serde_json::Value as Json;

/// True when `document` is a record of this format (checked on a few distinctive keys, so
/// that auto-detection is safe).
#[must_use]
pub fn looks_like(document: &Json) -> bool {
    let _ = document;
    false
}

/// Converts one record into an event: every original field flattened to its dotted name, plus
/// the ECS fields, `event.dataset` and `@timestamp`.
#[must_use]
pub fn from_json(document: &Json) -> Event {
    crate::format::json::event_from_generic(document)
}

/// What one line of a Zeek TSV log gave.
#[derive(Debug)]
pub enum TsvLine {
    /// A `#` header or footer line, remembered by the reader.
    Header,
    /// A record.
    Event(Event),
    /// A line the reader could not read (no `#fields` header yet, or a wrong column count).
    Unparsed,
}

/// Reads a Zeek TSV log line by line, keeping the header (`#separator`, `#fields`, `#types`,
/// `#path`) it needs to name the columns.
#[derive(Debug, Default)]
pub struct TsvReader {}

impl TsvReader {
    /// Returns a reader that has seen no header yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads one line.
    pub fn line(&mut self, line: &str) -> TsvLine {
        let _ = line;
        TsvLine::Unparsed
    }
}
