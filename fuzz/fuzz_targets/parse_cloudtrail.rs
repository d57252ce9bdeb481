//! cloudtrail JSON records, and log files split by `records`, must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_parse::cloudtrail;

fuzz_target!(|data: &[u8]| {
    if let Ok(document) = serde_json::from_slice::<serde_json::Value>(data) {
        if cloudtrail::looks_like(&document) {
            let _ = cloudtrail::from_json(&document).to_json();
        }
        if let Some(records) = cloudtrail::records(&document) {
            for record in records.filter(|record| cloudtrail::looks_like(record)) {
                let _ = cloudtrail::from_json(record).to_json();
            }
        }
    }
});
