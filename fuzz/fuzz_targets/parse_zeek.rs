//! Zeek JSON and TSV must never panic, whatever the header lines say.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_parse::zeek::{self, TsvLine, TsvReader};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // The first line doubles as a file name, for the readers that know their log.
    let file_name = text.lines().next().unwrap_or_default();
    let path = zeek::log_path_from_file_name(file_name);
    let mut reader = TsvReader::new();
    let mut reader_with_path = TsvReader::with_path(path.as_deref().unwrap_or(file_name));
    for line in text.lines() {
        if let TsvLine::Event(event) = reader.line(line) {
            let _ = event.to_json();
        }
        if let TsvLine::Event(event) = reader_with_path.line(line) {
            let _ = event.to_json();
        }
    }
    let documents = std::iter::once(data)
        .chain(data.split(|byte| *byte == b'\n'))
        .filter_map(|bytes| serde_json::from_slice::<serde_json::Value>(bytes).ok());
    for document in documents {
        if zeek::looks_like(&document) {
            let _ = zeek::from_json(&document).to_json();
        }
        let _ = zeek::from_json_with_path(&document, path.as_deref().unwrap_or("conn")).to_json();
    }
});
