//! logfmt must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Some(event) = palisade_parse::logfmt::parse_line(&text) {
        let _ = event.to_json();
    }
});
