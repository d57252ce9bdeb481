//! Syslog: golden files, the loghub corpus, framing and property tests.
//!
//! Golden files: every `tests/golden/syslog/<case>.log` line is parsed and compared with the
//! same line of `<case>.expected.jsonl`. After a deliberate change, rewrite the expected files
//! with `PALISADE_BLESS=1 cargo test -p palisade-parse --test syslog`, then read the diff.

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use jiff::tz::TimeZone;
use palisade_event::Str;
use palisade_parse::syslog::{
    Frame, Framer, OVERSIZE_FACTOR, SdElement, SyslogContext, SyslogFormat, SyslogMessage, parse,
};
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------
// Golden files

/// The context of every golden file: received on January 15 in Paris (as a POSIX TZ string,
/// so that the test does not depend on the system's time zone database). BSD timestamps from
/// December therefore fall in the previous year, and summer ones are read at UTC+2.
fn golden_context() -> SyslogContext {
    SyslogContext::new(
        "2027-01-15T12:00:00Z".parse().expect("timestamp"),
        TimeZone::posix("CET-1CEST,M3.5.0,M10.5.0/3").expect("POSIX time zone"),
    )
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/syslog")
}

/// One golden record: the format, the event time and the event's fields.
fn golden_record(line: &[u8], ctx: &SyslogContext) -> serde_json::Value {
    let message = parse(line, ctx);
    let format = format!("{:?}", message.format);
    let event = message.into_event(&String::from_utf8_lossy(line));
    // Keys in alphabetical order, whether serde_json preserves insertion order or not.
    serde_json::json!({
        "@timestamp": event.timestamp().map(|timestamp| timestamp.to_string()),
        "event": event.to_json(),
        "format": format,
    })
}

/// The lines of a file: split at LF, without the empty piece after a final LF.
fn lines(bytes: &[u8]) -> Vec<&[u8]> {
    let mut lines: Vec<&[u8]> = bytes.split(|byte| *byte == b'\n').collect();
    if lines.last().is_some_and(|last| last.is_empty()) {
        lines.pop();
    }
    lines
}

#[test]
fn golden_files() {
    let bless = std::env::var_os("PALISADE_BLESS").is_some();
    let ctx = golden_context();
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "log"))
        .collect();
    inputs.sort();
    assert!(inputs.len() >= 4, "golden inputs missing in {}", golden_dir().display());
    let mut n_lines = 0;
    let mut failures = Vec::new();
    for input in &inputs {
        let bytes = std::fs::read(input).unwrap();
        let actual: Vec<serde_json::Value> =
            lines(&bytes).into_iter().map(|line| golden_record(line, &ctx)).collect();
        n_lines += actual.len();
        let expected_path = input.with_extension("expected.jsonl");
        if bless {
            let mut text = String::new();
            for record in &actual {
                text.push_str(&serde_json::to_string(record).unwrap());
                text.push('\n');
            }
            std::fs::write(&expected_path, text).unwrap();
            continue;
        }
        let expected_text = std::fs::read_to_string(&expected_path).unwrap_or_else(|error| {
            panic!("{}: {error} (bless with PALISADE_BLESS=1)", expected_path.display())
        });
        let expected: Vec<serde_json::Value> =
            expected_text.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
        if expected.len() != actual.len() {
            failures.push(format!(
                "{}: {} expected records for {} lines",
                expected_path.display(),
                expected.len(),
                actual.len()
            ));
        }
        for (idx, (expected, actual)) in expected.iter().zip(&actual).enumerate() {
            if expected != actual {
                failures.push(format!(
                    "{}:{}\n  expected {expected}\n  actual   {actual}",
                    input.display(),
                    idx + 1
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "golden mismatches (bless with PALISADE_BLESS=1):\n{}",
        failures.join("\n")
    );
    assert!(n_lines >= 40, "only {n_lines} golden lines");
}

// ---------------------------------------------------------------------------------------------
// The loghub corpus

/// Returns the shared corpus, or `None` with a loud message (a failure in CI).
fn corpus() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    if root.join("logs/loghub").is_dir() {
        return Some(root);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "the shared corpus is missing at {} and CI=true",
        root.display()
    );
    eprintln!("\n!!! SKIPPED: shared corpus not found at {} !!!\n", root.display());
    None
}

#[test]
fn every_loghub_linux_and_openssh_line_has_time_host_and_app() {
    let Some(root) = corpus() else { return };
    let ctx = golden_context();
    let mut n_lines = 0;
    for file in ["logs/loghub/Linux/Linux_2k.log", "logs/loghub/OpenSSH/OpenSSH_2k.log"] {
        let bytes = std::fs::read(root.join(file)).unwrap();
        for (idx, line) in lines(&bytes).into_iter().enumerate() {
            let message = parse(line, &ctx);
            let at = || format!("{file}:{}: {}", idx + 1, String::from_utf8_lossy(line));
            assert_eq!(message.format, SyslogFormat::Rfc3164, "{}", at());
            let timestamp = message.timestamp.unwrap_or_else(|| panic!("no time: {}", at()));
            assert!(timestamp < ctx.received, "{}", at());
            assert!(message.hostname.is_some(), "no host: {}", at());
            assert!(message.app_name.is_some(), "no app: {}", at());
            n_lines += 1;
        }
    }
    assert_eq!(n_lines, 4000);
}

// ---------------------------------------------------------------------------------------------
// Framing

fn frame(bytes: &[u8]) -> Frame {
    Frame { bytes: bytes.to_vec(), truncated: false }
}

fn cut(bytes: &[u8]) -> Frame {
    Frame { bytes: bytes.to_vec(), truncated: true }
}

/// Feeds the chunks in order and returns every frame, the final one included.
fn frames_of<'a>(max_frame: usize, chunks: impl IntoIterator<Item = &'a [u8]>) -> Vec<Frame> {
    let mut framer = Framer::new(max_frame);
    let mut frames = Vec::new();
    for chunk in chunks {
        framer.push(chunk, &mut frames);
    }
    frames.extend(framer.finish());
    frames
}

const MIXED: &[u8] = b"<13>Nov 30 22:00:01 h a: lf\n\
    26 <13>1 - h a - - - counted\n\
    \n\r\n\
    <13>Nov 30 22:00:02 h a: crlf\r\n\
    <13>Nov 30 22:00:03 h a: nul\0\
    19 <13>1 - h a - - - x\n\
    13 <13>1 - h a -21 <13>1 - h a - - - a\nb\
    2 bytes received\n\
    0 <13>zero\n\
    <13>lone\rcr\n\
    <13>last, unterminated";

fn mixed_frames() -> Vec<Frame> {
    vec![
        frame(b"<13>Nov 30 22:00:01 h a: lf"),
        frame(b"<13>1 - h a - - - counted\n"),
        frame(b"<13>Nov 30 22:00:02 h a: crlf"),
        frame(b"<13>Nov 30 22:00:03 h a: nul"),
        frame(b"<13>1 - h a - - - x"),
        frame(b"<13>1 - h a -"),
        frame(b"<13>1 - h a - - - a\nb"),
        frame(b"2 bytes received"),
        frame(b"0 <13>zero"),
        frame(b"<13>lone\rcr"),
        frame(b"<13>last, unterminated"),
    ]
}

#[test]
fn framing_mixes_octet_counting_and_terminators() {
    assert_eq!(frames_of(1024, [MIXED]), mixed_frames());
}

#[test]
fn framing_is_the_same_at_every_split() {
    let expected = mixed_frames();
    for split in 0..=MIXED.len() {
        assert_eq!(frames_of(1024, [&MIXED[..split], &MIXED[split..]]), expected, "split {split}");
    }
    for first in (0..=MIXED.len()).step_by(7) {
        for second in first..=MIXED.len() {
            let chunks = [&MIXED[..first], &MIXED[first..second], &MIXED[second..]];
            assert_eq!(frames_of(1024, chunks), expected, "splits {first} {second}");
        }
    }
    assert_eq!(frames_of(1024, MIXED.chunks(1)), expected, "byte by byte");
}

#[test]
fn overlong_line_is_cut_and_the_next_frame_is_intact() {
    let mut stream = vec![b'<'; 100];
    stream.extend_from_slice(b"\n<13>next\n");
    assert_eq!(frames_of(32, [&stream[..]]), [cut(&[b'<'; 32]), frame(b"<13>next")]);
    // Exactly max_frame bytes, CRLF included, is not truncated.
    let mut exact = vec![b'<'; 32];
    exact.extend_from_slice(b"\r\n");
    assert_eq!(frames_of(32, [&exact[..]]), [frame(&[b'<'; 32])]);
}

#[test]
fn oversized_octet_count_is_skipped_in_step() {
    let payload = [b"<".as_slice(), &[b'x'; 99]].concat();
    let stream = [b"100 ".as_slice(), &payload, b"9 <13>next\n"].concat();
    let frames = frames_of(32, [&stream[..]]);
    assert_eq!(frames, [cut(&payload[..32]), frame(b"<13>next\n")]);
}

#[test]
fn untrusted_octet_count_falls_back_to_line_framing() {
    // Above OVERSIZE_FACTOR × max_frame: read as a line, resynchronised at the LF.
    let too_big = 32 * OVERSIZE_FACTOR + 1;
    let stream = format!("{too_big} <13>junk\n<13>next\n");
    assert_eq!(
        frames_of(32, [stream.as_bytes()]),
        [frame(format!("{too_big} <13>junk").as_bytes()), frame(b"<13>next")]
    );
    // Eleven digits: a line.
    assert_eq!(frames_of(64, [b"12345678901 <13>x\n".as_slice()]), [frame(b"12345678901 <13>x")]);
}

#[test]
fn finish_returns_the_partial_frame() {
    assert_eq!(frames_of(64, [b"20 <13>short".as_slice()]), [cut(b"<13>short")]);
    assert_eq!(frames_of(64, [b"123".as_slice()]), [frame(b"123")]);
    assert_eq!(frames_of(64, [b"12 ".as_slice()]), [frame(b"12 ")]);
    assert_eq!(frames_of(64, [b"<13>x\r".as_slice()]), [frame(b"<13>x")]);
    assert_eq!(frames_of(64, [b"\n\r\n\0".as_slice()]), []);
    assert_eq!(frames_of(64, [b"".as_slice()]), []);
}

/// An octet-counted frame is read into a buffer of its announced size (cut at `max_frame`),
/// allocated once; the count's digits never become part of it.
#[test]
fn a_counted_frame_gets_a_buffer_of_its_size() {
    let mut framer = Framer::new(64);
    let mut frames = Vec::new();
    framer.push(b"9 <13>1 - h", &mut frames);
    framer.push(b"12 <13>1 - h a\n100 <13>1 - h ", &mut frames);
    framer.push(&[b'x'; 100], &mut frames);
    let sizes: Vec<(usize, usize)> =
        frames.iter().map(|frame| (frame.bytes.len(), frame.bytes.capacity())).collect();
    assert_eq!(sizes, [(9, 9), (12, 12), (64, 64)]);
    assert_eq!(frames[1].bytes, b"<13>1 - h a\n");
    assert!(frames[2].truncated);
}

#[test]
fn a_stream_without_terminator_stays_bounded() {
    let mut framer = Framer::new(1024);
    let mut frames = Vec::new();
    let chunk = vec![b'a'; 64 * 1024];
    for _ in 0..160 {
        framer.push(&chunk, &mut frames);
    }
    assert_eq!(frames, [cut(&[b'a'; 1024])]);
    assert_eq!(framer.finish(), None);
}

/// One frame for the framing properties: its content and how it is framed.
#[derive(Debug, Clone)]
enum Framed {
    Counted(Vec<u8>),
    Terminated(Vec<u8>, &'static [u8]),
}

fn framed_strategy() -> impl Strategy<Value = Framed> {
    let counted = proptest::collection::vec(any::<u8>(), 0..60).prop_map(|mut bytes| {
        bytes.insert(0, b'<');
        Framed::Counted(bytes)
    });
    let line_byte =
        any::<u8>().prop_filter("no terminator", |byte| !matches!(byte, b'\n' | b'\r' | 0));
    let terminated = (
        proptest::collection::vec(line_byte, 0..60),
        prop_oneof![Just(&b"\n"[..]), Just(&b"\r\n"[..]), Just(&b"\0"[..])],
    )
        .prop_map(|(mut bytes, terminator)| {
            bytes.insert(0, b'<');
            Framed::Terminated(bytes, terminator)
        });
    prop_oneof![counted, terminated]
}

proptest! {
    #[test]
    fn framing_recovers_what_was_framed(
        items in proptest::collection::vec(framed_strategy(), 0..12),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
    ) {
        let mut stream = Vec::new();
        let mut expected = Vec::new();
        for item in &items {
            match item {
                Framed::Counted(bytes) => {
                    stream.extend_from_slice(format!("{} ", bytes.len()).as_bytes());
                    stream.extend_from_slice(bytes);
                    expected.push(frame(bytes));
                }
                Framed::Terminated(bytes, terminator) => {
                    stream.extend_from_slice(bytes);
                    stream.extend_from_slice(terminator);
                    expected.push(frame(bytes));
                }
            }
        }
        let mut points: Vec<usize> = cuts.iter().map(|cut| cut.index(stream.len() + 1)).collect();
        points.sort_unstable();
        let mut chunks = Vec::new();
        let mut start = 0;
        for point in points {
            chunks.push(&stream[start..point]);
            start = point;
        }
        chunks.push(&stream[start..]);
        prop_assert_eq!(frames_of(64, chunks), expected);
    }

    #[test]
    fn framing_of_any_bytes_is_split_invariant_and_bounded(
        stream in proptest::collection::vec(
            prop_oneof![any::<u8>(), Just(b'\n'), Just(b' '), Just(b'<'), Just(b'1'), Just(b'9')],
            0..400,
        ),
        split in any::<prop::sample::Index>(),
    ) {
        let whole = frames_of(20, [&stream[..]]);
        let split = split.index(stream.len() + 1);
        prop_assert_eq!(&frames_of(20, [&stream[..split], &stream[split..]]), &whole);
        prop_assert_eq!(&frames_of(20, stream.chunks(3)), &whole);
        for frame in &whole {
            prop_assert!(!frame.bytes.is_empty() && frame.bytes.len() <= 20);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing properties

fn utc_context() -> SyslogContext {
    SyslogContext::new("2026-12-01T00:00:00Z".parse().expect("timestamp"), TimeZone::UTC)
}

/// A header token: printable ASCII without space, never the NILVALUE alone.
fn token() -> impl Strategy<Value = String> {
    "[!-~]{1,20}".prop_filter("not NILVALUE", |token| token != "-")
}

fn sd_name() -> impl Strategy<Value = String> {
    "[A-Za-z0-9@._-]{1,16}"
}

/// MSG: any text that does not start with a space or BOM (both dropped by design) nor end
/// with a terminator (trimmed).
fn message_text() -> impl Strategy<Value = String> {
    ".{0,40}".prop_filter("kept as is", |text| {
        !text.starts_with([' ', '\u{feff}']) && !text.ends_with(['\n', '\r', '\0'])
    })
}

fn escape_sd_value(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace(']', "\\]")
}

/// Writes a message in RFC 5424, the reverse of `parse`.
fn render_rfc5424(message: &SyslogMessage) -> String {
    let nil = |field: &Option<Str>| field.as_deref().unwrap_or("-").to_owned();
    let mut line = format!(
        "<{}>1 {} {} {} {} {} ",
        message.priority().expect("generated with a PRI"),
        message.timestamp.map_or_else(|| "-".to_owned(), |timestamp| timestamp.to_string()),
        nil(&message.hostname),
        nil(&message.app_name),
        nil(&message.procid),
        nil(&message.msgid),
    );
    if message.structured_data.is_empty() {
        line.push('-');
    }
    for element in &message.structured_data {
        line.push('[');
        line.push_str(&element.id);
        for (name, value) in &element.params {
            line.push_str(&format!(" {name}=\"{}\"", escape_sd_value(value)));
        }
        line.push(']');
    }
    if !message.message.is_empty() {
        line.push(' ');
        line.push_str(&message.message);
    }
    line
}

fn rfc5424_message() -> impl Strategy<Value = SyslogMessage> {
    let element = (sd_name(), proptest::collection::vec((sd_name(), ".{0,12}"), 0..4))
        .prop_map(|(id, params)| SdElement { id, params });
    (
        0_u8..=191,
        proptest::option::of(-2_000_000_000_i64..4_000_000_000),
        [
            proptest::option::of(token()),
            proptest::option::of(token()),
            proptest::option::of(token()),
            proptest::option::of(token()),
        ],
        proptest::collection::vec(element, 0..3),
        message_text(),
    )
        .prop_map(
            |(pri, seconds, [hostname, app_name, procid, msgid], structured_data, message)| {
                SyslogMessage {
                    format: SyslogFormat::Rfc5424,
                    facility: palisade_parse::syslog::Facility::from_code(pri / 8),
                    severity: palisade_parse::syslog::Severity::from_code(pri % 8),
                    invalid_priority: false,
                    version: Some(1),
                    timestamp: seconds
                        .map(|seconds| Timestamp::from_second(seconds).expect("in range")),
                    hostname: hostname.map(Str::from),
                    app_name: app_name.map(Str::from),
                    procid: procid.map(Str::from),
                    msgid: msgid.map(Str::from),
                    structured_data,
                    message,
                }
            },
        )
}

proptest! {
    #[test]
    fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let ctx = utc_context();
        let message = parse(&bytes, &ctx);
        if message.format == SyslogFormat::Unparsed {
            prop_assert_eq!(message.facility, None);
            prop_assert_eq!(message.hostname, None);
        }
        let _ = parse(&bytes, &ctx).into_event(&String::from_utf8_lossy(&bytes)).to_json();
    }

    #[test]
    fn parse_never_panics_on_syslog_like_input(
        pieces in proptest::collection::vec(
            prop_oneof![
                Just("<13>"), Just("<999>"), Just("1 "), Just("Nov 30 22:00:01 "),
                Just("2026-11-30T22:00:01Z "), Just("- "), Just("["), Just("]"), Just("\""),
                Just("\\"), Just("="), Just(" "), Just("host "), Just("app[12]: "), Just(":"),
                Just("58: "), Just("*"), Just("\u{feff}"), Just("x"), Just("\t"),
            ],
            0..16,
        ),
    ) {
        let line = pieces.concat();
        let _ = palisade_parse::syslog::parse_event(line.as_bytes(), &utc_context()).to_json();
    }

    #[test]
    fn rfc5424_parse_reads_back_what_was_written(message in rfc5424_message()) {
        let line = render_rfc5424(&message);
        prop_assert_eq!(parse(line.as_bytes(), &utc_context()), message, "{}", line);
    }

    #[test]
    fn rfc3164_parse_reads_back_what_was_written(
        pri in 0_u8..=191,
        seconds in 1_500_000_000_i64..1_800_000_000,
        hostname in "[a-z0-9][a-z0-9.-]{0,15}",
        app_name in "[A-Za-z0-9_/.-]{1,16}",
        pid in proptest::option::of(1_u32..4_000_000),
        message in ".{0,40}".prop_filter("no terminator at the end", |text: &String| {
            !text.ends_with(['\n', '\r', '\0'])
        }),
    ) {
        let ctx = SyslogContext::new(
            Timestamp::from_second(seconds).unwrap(),
            TimeZone::posix("CET-1CEST,M3.5.0,M10.5.0/3").unwrap(),
        );
        // Written an hour before it is received, at whole seconds, in the context's zone.
        let written = Timestamp::from_second(seconds - 3600).unwrap();
        let stamp = ctx.time_zone.to_datetime(written).strftime("%b %e %H:%M:%S").to_string();
        let pid_part = pid.map(|pid| format!("[{pid}]")).unwrap_or_default();
        let line = format!("<{pri}>{stamp} {hostname} {app_name}{pid_part}: {message}");
        let parsed = parse(line.as_bytes(), &ctx);
        prop_assert_eq!(parsed.format, SyslogFormat::Rfc3164);
        prop_assert_eq!(parsed.priority(), Some(pri));
        // Civil times repeated when clocks go back may resolve to the other instant.
        let resolved = parsed.timestamp.unwrap();
        prop_assert!(resolved == written || resolved.duration_since(written).abs().as_hours() == 1);
        prop_assert_eq!(parsed.hostname.as_deref(), Some(hostname.as_str()));
        prop_assert_eq!(parsed.app_name.as_deref(), Some(app_name.as_str()));
        let expected = pid.map(|pid| pid.to_string());
        prop_assert_eq!(parsed.procid.as_deref(), expected.as_deref());
        prop_assert_eq!(parsed.message, message);
    }
}
