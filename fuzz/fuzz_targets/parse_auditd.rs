//! auditd: native audit.log lines and syslog-carried audit messages must never panic, and an
//! unrecognised message must leave the event untouched.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_event::Event;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Some(event) = palisade_parse::auditd::parse_line(&text) {
        let _ = event.to_json();
    }
    for program in ["audit", "auditd", "audisp-syslog", "kernel"] {
        let mut event = Event::new();
        if !palisade_parse::auditd::parse_program(program, Some(1), &text, &mut event) {
            assert!(event.is_empty());
        }
    }
});
