//! TODO(helper): module documentation.

use palisade_event::Event;

use crate::error::Result;

/// Reads Windows events rendered as XML (`<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event">`,
/// one or many, with or without an `<Events>` wrapper, as `wevtutil qe /f:xml` and
/// `Get-WinEvent | ... ToXml()` write them) into events with the same field names as EVTX
/// input (`EventID`, `Channel`, `Provider_Name`, the EventData names...).
#[must_use]
pub fn read_xml(text: &str) -> Vec<Result<Event>> {
    let _ = text;
    Vec::new()
}
