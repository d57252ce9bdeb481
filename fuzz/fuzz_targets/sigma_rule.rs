//! Rule loading: arbitrary text through YAML parsing, collection merging, compilation and
//! indexing must never panic; whatever loads is then evaluated against a fixed event.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let loader = palisade_sigma::Loader::new(palisade_sigma::Mapping::new(palisade_sigma::Pipeline::builtin()));
    let set = loader.load(&[(std::path::PathBuf::from("fuzz.yml"), text.to_owned())]);
    let event = palisade_parse::format::json::event_from_document(&serde_json_event());
    let mut scratch = set.scratch();
    let _ = set.matches(&event, &mut scratch);
});

fn serde_json_event() -> serde_json::Value {
    serde_json::json!({"Event": {"System": {"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1},
        "EventData": {"Image": "C:\\Windows\\System32\\cmd.exe", "CommandLine": "cmd /c whoami", "DestinationIp": "10.1.2.3"}}})
}
