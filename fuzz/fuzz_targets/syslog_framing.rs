//! Syslog TCP framing (RFC 6587) must never panic, never return an empty frame or one longer
//! than its bound, and return the same frames however the stream is split into reads.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_parse::syslog::{Frame, Framer};

fn frames_of<'a>(max_frame: usize, chunks: impl Iterator<Item = &'a [u8]>) -> Vec<Frame> {
    let mut framer = Framer::new(max_frame);
    let mut frames = Vec::new();
    for chunk in chunks {
        framer.push(chunk, &mut frames);
    }
    frames.extend(framer.finish());
    frames
}

fuzz_target!(|data: &[u8]| {
    // The first byte chooses the frame bound and the read size; the rest is the stream.
    let Some((&knob, stream)) = data.split_first() else { return };
    let max_frame = usize::from(knob) + 1;
    let whole = frames_of(max_frame, std::iter::once(stream));
    let chunked = frames_of(max_frame, stream.chunks(usize::from(knob % 13) + 1));
    assert_eq!(whole, chunked);
    let bound = Framer::new(max_frame).max_frame();
    for frame in &whole {
        assert!(!frame.bytes.is_empty() && frame.bytes.len() <= bound);
    }
});
