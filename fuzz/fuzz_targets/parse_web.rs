//! Web access and Apache error logs must never panic, and an unrecognised message must leave the event
//! untouched.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_event::Event;
use palisade_parse::web::{self, WebServer};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Some(event) = web::parse_line(&text, WebServer::Unknown) {
        let _ = event.to_json();
    }
    if let Some(event) = web::parse_error_line(&text) {
        let _ = event.to_json();
    }
    for program in ["nginx", "apache2"] {
        let mut event = Event::new();
        if !web::parse_program(program, None, &text, &mut event) {
            assert!(event.is_empty());
        }
    }
});
