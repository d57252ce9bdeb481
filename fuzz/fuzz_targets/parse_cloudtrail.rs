//! cloudtrail JSON records must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(document) = serde_json::from_slice::<serde_json::Value>(data) {
        if palisade_parse::cloudtrail::looks_like(&document) {
            let _ = palisade_parse::cloudtrail::from_json(&document).to_json();
        }
    }
});
