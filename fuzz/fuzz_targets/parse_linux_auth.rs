//! Linux auth-log parsing (sshd, PAM, sudo, su, cron, systemd-logind) must never panic, and
//! an unrecognised line must leave the event untouched.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_event::Event;

/// Programs with a parser of their own, so that most inputs reach one.
const PROGRAMS: &[&str] = &[
    "sshd",
    "sshd-session",
    "sudo",
    "su",
    "CRON",
    "crond",
    "crontab",
    "systemd-logind",
    "sshd(pam_unix)",
    "login",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let text = String::from_utf8_lossy(rest);
    // Selector values past the list take the program from the input, up to the first NUL.
    let (program, message) = match PROGRAMS.get(usize::from(selector)) {
        Some(program) => (*program, &*text),
        None => text.split_once('\0').unwrap_or(("", &*text)),
    };
    let mut event = Event::new();
    let pid = (selector % 2 == 0).then_some(u32::from(selector));
    if palisade_parse::linux::parse_auth(program, pid, message, &mut event) {
        let _ = event.to_json();
    } else {
        assert!(event.is_empty());
    }
});
