//! The JSON readers of HTTP ingest and `_bulk` (the simd-json tape, and sonic-rs through our
//! serde visitors for every other shape) must never panic, and whatever they accept must
//! come out as JSON again. A document is read both as a line (which may hold a CloudTrail
//! file's records) and as a single `_bulk` source.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_parse::source::{json_line_events, json_object_event};

fuzz_target!(|data: &[u8]| {
    if let Ok(events) = json_line_events(data) {
        for event in events {
            let _ = event.to_json();
        }
    }
    if let Ok(event) = json_object_event(data) {
        let _ = event.to_json();
    }
});
