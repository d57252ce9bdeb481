//! Zeek JSON and TSV must never panic, whatever the header lines say.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_parse::zeek::{self, TsvLine, TsvReader};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut reader = TsvReader::new();
    for line in text.lines() {
        if let TsvLine::Event(event) = reader.line(line) {
            let _ = event.to_json();
        }
    }
    if let Ok(document) = serde_json::from_slice::<serde_json::Value>(data) {
        if zeek::looks_like(&document) {
            let _ = zeek::from_json(&document).to_json();
        }
    }
});
