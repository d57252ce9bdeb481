//! Framing of syslog over TCP and TLS (RFC 6587, and RFC 5425 for octet counting over TLS).
//!
//! Each frame is detected on its own, so one connection may mix both methods:
//! - octet counting: `MSG-LEN SP SYSLOG-MSG`, where MSG-LEN is a decimal count of the bytes
//!   that follow the space;
//! - non-transparent framing: the message ends at LF, CRLF or NUL (rsyslog and syslog-ng
//!   accept NUL; many Windows senders end with CRLF).
//!
//! # Detection and recovery
//!
//! A frame is octet-counted when it starts with `[1-9][0-9]{0,9} SP <`: one to ten digits,
//! the first not zero, a space, and the `<` that opens the PRI every syslog message starts
//! with. Checking for the `<` keeps a plain line such as `2 bytes received` from being read as
//! a two-byte frame. Anything else starts an LF-terminated frame, the digits included.
//!
//! Bounds, with `max_frame` the size given to [`Framer::new`]:
//! - An LF-terminated frame longer than `max_frame` is cut there and returned with
//!   `truncated: true`; the rest of it, up to its terminator, is skipped.
//! - An octet count above `max_frame` but at most [`OVERSIZE_FACTOR`] × `max_frame` is
//!   trusted: the frame is cut at `max_frame` (`truncated: true`) and the rest of its bytes
//!   are skipped, so a sender that only writes an oversized message stays in step (rsyslog
//!   does the same).
//! - A larger count is not trusted: it is read as the start of an LF-terminated frame, and
//!   framing resynchronises at the next LF or NUL. So a corrupt count costs at most
//!   `OVERSIZE_FACTOR × max_frame` bytes, never the rest of the stream.
//!
//! Terminators between frames (blank lines, the LF some senders add after an octet-counted
//! frame) are skipped: an empty frame is never returned.
//!
//! Memory: the framer holds at most one frame of `max_frame` bytes (plus the ten digits of a
//! count, apart); the frames it returns are the caller's.

/// How many times `max_frame` an octet count may announce before it is distrusted.
pub const OVERSIZE_FACTOR: usize = 16;

/// The smallest `max_frame`: below it, frames could not hold a PRI and a header.
const MIN_FRAME: usize = 16;

/// The most digits of an octet count (enough for any `usize` on 32-bit targets too).
const MAX_COUNT_DIGITS: usize = 10;

/// One frame: a message without its framing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The message bytes, at most `max_frame` of them.
    pub bytes: Vec<u8>,
    /// True when the message was longer than `max_frame` and was cut, or when the stream
    /// ended before the end of an octet-counted frame.
    pub truncated: bool,
}

/// An incremental, bounded decoder of a syslog TCP stream into frames. See the
/// [module documentation](self) for the rules.
///
/// ```
/// use palisade_parse::syslog::Framer;
///
/// let mut framer = Framer::new(1024);
/// let mut frames = Vec::new();
/// framer.push(b"19 <13>1 - h app - - -<13>Nov 30 22:00:01 h a: one\r\n<13>Nov", &mut frames);
/// framer.push(b" 30 22:00:02 h a: two", &mut frames);
/// let messages: Vec<&[u8]> = frames.iter().map(|frame| &frame.bytes[..]).collect();
/// assert_eq!(messages, [&b"<13>1 - h app - - -"[..], b"<13>Nov 30 22:00:01 h a: one"]);
/// let last = framer.finish().unwrap();
/// assert_eq!(last.bytes, b"<13>Nov 30 22:00:02 h a: two");
/// assert!(!last.truncated);
/// ```
#[derive(Debug)]
pub struct Framer {
    max_frame: usize,
    max_count: usize,
    state: State,
    /// The frame being read.
    buf: Vec<u8>,
    /// The digits and space of a possible octet count, kept apart from `buf` (and reused):
    /// `buf` is then allocated once per frame, at the size its count gives, instead of for
    /// the digits and again for the message.
    head: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between frames, skipping terminators.
    Idle,
    /// Reading the digits of a possible octet count (they are in `head`).
    Count { value: usize },
    /// Read `MSG-LEN SP` (in `head`); the next byte tells whether it is a count.
    CountSpace { value: usize },
    /// Reading an octet-counted frame.
    Octets { remaining: usize, truncated: bool },
    /// Reading an LF-terminated frame; `pending_cr` when its last byte read was a CR, which
    /// is a terminator if an LF follows and content otherwise.
    Line { pending_cr: bool },
    /// Skipping the rest of an LF-terminated frame that was cut.
    Discard,
}

impl Framer {
    /// Returns a framer that returns frames of at most `max_frame` bytes (at least 16).
    #[must_use]
    pub fn new(max_frame: usize) -> Self {
        let max_frame = max_frame.max(MIN_FRAME);
        Self {
            max_frame,
            max_count: max_frame.saturating_mul(OVERSIZE_FACTOR),
            state: State::Idle,
            buf: Vec::new(),
            head: Vec::new(),
        }
    }

    /// Returns the largest frame this framer returns.
    #[must_use]
    pub fn max_frame(&self) -> usize {
        self.max_frame
    }

    /// Reads more bytes of the stream and appends every frame they complete to `out`.
    pub fn push(&mut self, mut bytes: &[u8], out: &mut Vec<Frame>) {
        while !bytes.is_empty() {
            bytes = self.step(bytes, out);
        }
    }

    /// Ends the stream: returns the frame that was being read, if any. An LF-terminated frame
    /// is complete without its terminator; an octet-counted one that is short of its count
    /// is returned with `truncated: true`.
    #[must_use]
    pub fn finish(mut self) -> Option<Frame> {
        let truncated = match self.state {
            State::Idle | State::Discard => return None,
            State::Count { .. } | State::CountSpace { .. } => {
                self.buf.extend_from_slice(&self.head);
                false
            }
            State::Line { .. } => false,
            State::Octets { .. } => true,
        };
        (!self.buf.is_empty()).then_some(Frame { bytes: self.buf, truncated })
    }

    /// Consumes some of `bytes` (at least one) and returns the rest.
    fn step<'a>(&mut self, bytes: &'a [u8], out: &mut Vec<Frame>) -> &'a [u8] {
        match self.state {
            State::Idle => {
                let start = bytes
                    .iter()
                    .position(|byte| !matches!(byte, b'\n' | b'\r' | 0))
                    .unwrap_or(bytes.len());
                let bytes = &bytes[start..];
                match bytes.first() {
                    None => {}
                    Some(digit @ b'1'..=b'9') => {
                        self.head.clear();
                        self.head.push(*digit);
                        self.state = State::Count { value: usize::from(digit - b'0') };
                        return &bytes[1..];
                    }
                    Some(_) => self.state = State::Line { pending_cr: false },
                }
                bytes
            }
            State::Count { value } => {
                let byte = bytes[0];
                if byte.is_ascii_digit() && self.head.len() < MAX_COUNT_DIGITS {
                    self.head.push(byte);
                    let value = value.saturating_mul(10).saturating_add(usize::from(byte - b'0'));
                    self.state = State::Count { value };
                    &bytes[1..]
                } else if byte == b' ' {
                    self.head.push(byte);
                    self.state = State::CountSpace { value };
                    &bytes[1..]
                } else {
                    // Not a count: the digits start a line, and this byte goes on with it.
                    self.buf.extend_from_slice(&self.head);
                    self.state = State::Line { pending_cr: false };
                    bytes
                }
            }
            State::CountSpace { value } => {
                if bytes[0] == b'<' && value <= self.max_count {
                    // One allocation, of the frame's size (`buf` was handed out with the last
                    // frame, so it is empty here).
                    self.buf.clear();
                    self.buf.reserve_exact(value.min(self.max_frame));
                    self.state =
                        State::Octets { remaining: value, truncated: value > self.max_frame };
                } else {
                    self.buf.extend_from_slice(&self.head);
                    self.state = State::Line { pending_cr: false };
                }
                bytes
            }
            State::Octets { remaining, truncated } => {
                let n_taken = remaining.min(bytes.len());
                let room = self.max_frame.saturating_sub(self.buf.len());
                self.buf.extend_from_slice(&bytes[..n_taken.min(room)]);
                let remaining = remaining - n_taken;
                if remaining == 0 {
                    self.emit(truncated, out);
                    self.state = State::Idle;
                } else {
                    self.state = State::Octets { remaining, truncated };
                }
                &bytes[n_taken..]
            }
            State::Line { pending_cr: true } => {
                self.state = State::Line { pending_cr: false };
                if bytes[0] == b'\n' {
                    self.emit(false, out);
                    self.state = State::Idle;
                    return &bytes[1..];
                }
                // A lone CR is content.
                self.append_line(b"\r", out);
                bytes
            }
            State::Line { pending_cr: false } => {
                let Some(idx) = memchr::memchr3(b'\n', 0, b'\r', bytes) else {
                    self.append_line(bytes, out);
                    return &[];
                };
                self.append_line(&bytes[..idx], out);
                if bytes[idx] == b'\r' {
                    if self.state == (State::Line { pending_cr: false }) {
                        self.state = State::Line { pending_cr: true };
                    }
                    return &bytes[idx + 1..];
                }
                if self.state != State::Discard {
                    self.emit(false, out);
                }
                self.state = State::Idle;
                &bytes[idx + 1..]
            }
            State::Discard => match memchr::memchr2(b'\n', 0, bytes) {
                Some(idx) => {
                    self.state = State::Idle;
                    &bytes[idx + 1..]
                }
                None => &[],
            },
        }
    }

    /// Appends content to an LF-terminated frame; when it would pass `max_frame`, returns the
    /// frame cut there and skips the rest up to the terminator.
    fn append_line(&mut self, chunk: &[u8], out: &mut Vec<Frame>) {
        if self.state == State::Discard {
            return;
        }
        let room = self.max_frame.saturating_sub(self.buf.len());
        if chunk.len() <= room {
            self.buf.extend_from_slice(chunk);
            return;
        }
        self.buf.extend_from_slice(&chunk[..room]);
        self.emit(true, out);
        self.state = State::Discard;
    }

    fn emit(&mut self, truncated: bool, out: &mut Vec<Frame>) {
        let bytes = std::mem::take(&mut self.buf);
        if !bytes.is_empty() {
            out.push(Frame { bytes, truncated });
        }
    }
}
