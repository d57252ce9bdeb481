//! CEF and LEEF must never panic, bare or inside a syslog message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_event::Event;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Some(event) = palisade_parse::cef::parse_line(&text) {
        let _ = event.to_json();
    }
    let mut event = Event::new();
    if !palisade_parse::cef::parse_program("", None, &text, &mut event) {
        assert!(event.is_empty());
    }
});
