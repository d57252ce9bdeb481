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
