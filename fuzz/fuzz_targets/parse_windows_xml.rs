//! Windows event XML must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for event in palisade_parse::format::windows_xml::read_xml(&text).into_iter().flatten() {
        let _ = event.to_json();
    }
});
