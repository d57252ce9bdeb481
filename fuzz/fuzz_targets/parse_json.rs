//! JSON and JSON-lines reading in every shape (evtx_dump, Winlogbeat, ECS) must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for event in palisade_parse::format::json::read_documents(data).into_iter().flatten() {
        let _ = event.to_json();
    }
});
