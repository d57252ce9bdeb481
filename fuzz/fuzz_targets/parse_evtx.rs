//! EVTX reading: arbitrary bytes (seeded with real files) must give events or errors, never a
//! panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(records) = palisade_parse::format::evtx::read(data.to_vec(), 1) {
        for record in records {
            let _ = record;
        }
    }
});
