//! The postfix parser must never panic, and an unrecognised message must leave the event
//! untouched.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_event::Event;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for program in
        ["postfix/smtpd", "postfix/qmgr", "postfix/smtp", "postfix/cleanup", "postfix/postscreen"]
    {
        let mut event = Event::new();
        if palisade_parse::postfix::parse_program(program, Some(1), &text, &mut event) {
            let _ = event.to_json();
        } else {
            assert!(event.is_empty());
        }
    }
});
