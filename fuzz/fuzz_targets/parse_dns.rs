//! DNS logs (BIND query log, dnsmasq) must never panic, and an unrecognised message must
//! leave the event untouched.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_event::Event;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Some(event) = palisade_parse::dns::parse_line(&text, &jiff::tz::TimeZone::UTC) {
        let _ = event.to_json();
    }
    for program in ["named", "dnsmasq"] {
        let mut event = Event::new();
        if !palisade_parse::dns::parse_program(program, Some(1), &text, &mut event) {
            assert!(event.is_empty());
        }
    }
});
