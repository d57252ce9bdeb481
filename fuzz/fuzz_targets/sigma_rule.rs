//! Rule loading: arbitrary text through YAML parsing, collection merging, compilation and
//! indexing must never panic; whatever loads is then evaluated against a fixed event.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use palisade_sigma::{Loader, Mapping, Pipeline};

/// Built once: parsing the built-in mappings on every input would dominate the run.
fn loader() -> &'static Loader {
    static LOADER: OnceLock<Loader> = OnceLock::new();
    LOADER.get_or_init(|| Loader::new(Mapping::new(Pipeline::builtin())))
}

fn event() -> &'static palisade_event::Event {
    static EVENT: OnceLock<palisade_event::Event> = OnceLock::new();
    EVENT.get_or_init(|| {
        palisade_parse::format::json::event_from_document(&serde_json::json!({"Event": {
            "System": {"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1},
            "EventData": {"Image": "C:\\Windows\\System32\\cmd.exe", "CommandLine": "cmd /c whoami", "DestinationIp": "10.1.2.3"}
        }}))
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let set = loader().load(&[(std::path::PathBuf::from("fuzz.yml"), text.to_owned())]);
    let mut scratch = set.scratch();
    let _ = set.matches(event(), &mut scratch);
});
