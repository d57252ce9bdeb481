//! Syslog message parsing (RFC 5424, RFC 3164 and their variants) and the mapping to an event
//! must never panic, whatever the bytes and whatever the time of receipt (which drives the
//! year given to BSD timestamps).
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_event::Timestamp;
use palisade_parse::syslog::{self, SyslogContext};

fuzz_target!(|data: &[u8]| {
    // The first eight bytes choose the time of receipt; the rest is the message.
    let (head, line) = data.split_at(data.len().min(8));
    let mut seconds = [0_u8; 8];
    seconds[..head.len()].copy_from_slice(head);
    let received = Timestamp::from_second(i64::from_le_bytes(seconds) % 400_000_000_000)
        .unwrap_or(Timestamp::UNIX_EPOCH);
    let ctx = SyslogContext::utc(received);
    let message = syslog::parse(line, &ctx);
    let _ = message.into_event(&String::from_utf8_lossy(line)).to_json();
});
