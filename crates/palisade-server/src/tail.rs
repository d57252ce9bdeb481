//! File tailing: `palisade serve` follows log files named by glob patterns, parses each new
//! line with the configured source type and stores it, remembering how far it read in a
//! checkpoint file so that a restart neither loses nor repeats lines.
//!
//! A file is known by its device and inode, not its name, so the usual rotations work:
//! - **rename** (`auth.log` becomes `auth.log.1`, a new `auth.log` appears): the old file is
//!   read to its end through the handle already open, whatever its new name, and the new file
//!   is read from its start;
//! - **copy and truncate** (logrotate `copytruncate`): a file that got shorter than the read
//!   position is read again from its start;
//! - **while stopped**: a file whose inode and first bytes match a checkpoint continues from
//!   the checkpoint, under any name the patterns match (use a pattern such as `auth.log*` to
//!   also finish files rotated while Palisade was down; compressed rotations, `.gz` `.bz2`
//!   `.xz` `.zst` `.zip`, are never read as text).
//!
//! Polling, every `poll` interval, rather than inotify: it behaves the same on every file
//! system (NFS, bind mounts, overlay), costs one `stat` per file per interval, and a line is
//! at most one interval late.
//!
//! Delivery is at least once: the checkpoint is written after the store has made the events
//! durable, so a crash between the two repeats at most the last batch. A line is read only
//! once it ends with a newline, except when its file has been rotated away and stopped
//! growing. Lines longer than `max_line_bytes` are cut, tagged `_truncated`, and the rest of
//! the line is skipped.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read as _, Seek as _, SeekFrom};
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use palisade_event::{Event, Value};
use palisade_parse::source::{Decoded, LineDecoder, SourceType};
use palisade_parse::syslog::SyslogContext;
use serde::{Deserialize, Serialize};

use crate::metrics::InputMetrics;
use crate::pipeline::Pipeline;

/// One set of files to follow.
#[derive(Debug, Clone)]
pub struct TailPattern {
    /// A path or a glob (`/var/log/nginx/*.log`).
    pub pattern: String,
    /// How the lines are parsed.
    pub source: SourceType,
    /// Files found without a checkpoint start at their end (only new lines) instead of their
    /// beginning.
    pub start_at_end: bool,
}

/// Settings of the file tailer.
#[derive(Debug, Clone)]
pub struct TailOptions {
    /// What to follow.
    pub patterns: Vec<TailPattern>,
    /// How often files are checked.
    pub poll: Duration,
    /// Longest line; longer ones are cut and tagged.
    pub max_line_bytes: usize,
    /// Zone of timestamps without one.
    pub time_zone: jiff::tz::TimeZone,
}

impl Default for TailOptions {
    fn default() -> Self {
        Self {
            patterns: Vec::new(),
            poll: Duration::from_millis(250),
            max_line_bytes: 64 * 1024,
            time_zone: jiff::tz::TimeZone::system(),
        }
    }
}

/// Bytes read from one file per round, so that one busy file cannot starve the others.
const ROUND_BYTES: usize = 4 << 20;
/// Events per store append.
const BATCH: usize = 4096;
/// Bytes of a file's start kept in its checkpoint, to tell a reused inode from the same file.
const FINGERPRINT: usize = 64;
/// Rounds without growth after which a file that left the patterns is closed.
const IDLE_ROUNDS: u32 = 4;
/// Extensions of compressed rotations, never read.
const COMPRESSED: &[&str] = &["gz", "bz2", "xz", "zst", "zip", "lz4", "Z"];

type FileId = (u64, u64);

/// The checkpoint of one file, as saved.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct Checkpoint {
    path: PathBuf,
    dev: u64,
    ino: u64,
    offset: u64,
    /// Hex of the file's first bytes (at most [`FINGERPRINT`]).
    head: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct CheckpointFile {
    files: Vec<Checkpoint>,
}

/// A file being followed.
struct Tailed {
    file: File,
    path: PathBuf,
    offset: u64,
    head: Vec<u8>,
    decoder: LineDecoder,
    /// Skipping the rest of a line that was cut.
    skipping: bool,
    /// Matched by a pattern in the last scan.
    matched: bool,
    idle_rounds: u32,
}

/// Follows files until `stop` is set; run it on a thread of its own.
pub fn run(
    store: &Pipeline,
    options: &TailOptions,
    checkpoints: &Path,
    metrics: &InputMetrics,
    stop: &AtomicBool,
) {
    let mut tailer = Tailer::new(options.clone(), checkpoints.to_path_buf());
    while !stop.load(Ordering::Relaxed) {
        let busy = tailer.round(store, metrics);
        if !busy {
            std::thread::sleep(options.poll);
        }
    }
    tailer.save();
}

struct Tailer {
    options: TailOptions,
    checkpoint_path: PathBuf,
    saved: HashMap<FileId, Checkpoint>,
    files: HashMap<FileId, Tailed>,
    dirty: bool,
}

impl Tailer {
    fn new(options: TailOptions, checkpoint_path: PathBuf) -> Self {
        let saved = match std::fs::read(&checkpoint_path) {
            Ok(bytes) => match serde_json::from_slice::<CheckpointFile>(&bytes) {
                Ok(file) => file.files.into_iter().map(|c| ((c.dev, c.ino), c)).collect(),
                Err(error) => {
                    tracing::error!(%error, path = %checkpoint_path.display(),
                        "the tail checkpoint file is damaged; starting without it");
                    HashMap::new()
                }
            },
            Err(_) => HashMap::new(),
        };
        Self { options, checkpoint_path, saved, files: HashMap::new(), dirty: false }
    }

    /// One scan and one read of every file; true when some file had more to read than a
    /// round allows.
    fn round(&mut self, store: &Pipeline, metrics: &InputMetrics) -> bool {
        self.scan();
        let mut busy = false;
        let ids: Vec<FileId> = self.files.keys().copied().collect();
        for id in ids {
            match self.read(id, store, metrics) {
                Ok(more) => busy |= more,
                Err(error) => {
                    if let Some(tailed) = self.files.remove(&id) {
                        tracing::warn!(%error, path = %tailed.path.display(), "tailing stopped for a file");
                    }
                }
            }
        }
        self.close_idle(store, metrics);
        if self.dirty {
            self.save();
        }
        busy
    }

    /// Finds the files the patterns match now and opens the new ones.
    fn scan(&mut self) {
        for tailed in self.files.values_mut() {
            tailed.matched = false;
        }
        let patterns = self.options.patterns.clone();
        for pattern in &patterns {
            let paths = match glob::glob(&pattern.pattern) {
                Ok(paths) => paths,
                Err(error) => {
                    tracing::error!(%error, pattern = pattern.pattern, "bad tail pattern");
                    continue;
                }
            };
            for path in paths.filter_map(Result::ok) {
                if is_compressed(&path) {
                    continue;
                }
                let Ok(metadata) = std::fs::metadata(&path) else { continue };
                if !metadata.is_file() {
                    continue;
                }
                let id = (metadata.dev(), metadata.ino());
                if let Some(tailed) = self.files.get_mut(&id) {
                    tailed.matched = true;
                    if tailed.path != path {
                        tailed.path = path;
                        self.dirty = true;
                    }
                    continue;
                }
                if let Err(error) = self.open(id, path.clone(), pattern, metadata.len()) {
                    tracing::warn!(%error, path = %path.display(), "cannot open a file to tail");
                }
            }
        }
    }

    fn open(
        &mut self,
        id: FileId,
        path: PathBuf,
        pattern: &TailPattern,
        len: u64,
    ) -> std::io::Result<()> {
        let mut file = File::open(&path)?;
        let mut head = vec![0; FINGERPRINT];
        let read = read_up_to(&mut file, &mut head)?;
        head.truncate(read);
        let offset =
            match self.saved.get(&id) {
                Some(saved)
                    if hex_decode(&saved.head).is_some_and(|old| head.starts_with(&old)) =>
                {
                    if saved.offset > len { 0 } else { saved.offset }
                }
                _ if pattern.start_at_end => len,
                _ => 0,
            };
        tracing::info!(path = %path.display(), offset, "tailing");
        let ctx = SyslogContext::new(jiff::Timestamp::now(), self.options.time_zone.clone());
        self.files.insert(
            id,
            Tailed {
                file,
                path,
                offset,
                head,
                decoder: LineDecoder::new(pattern.source, ctx),
                skipping: false,
                matched: true,
                idle_rounds: 0,
            },
        );
        self.dirty = true;
        Ok(())
    }

    /// Reads what one file gained; true when it has more than one round's worth.
    fn read(
        &mut self,
        id: FileId,
        store: &Pipeline,
        metrics: &InputMetrics,
    ) -> std::io::Result<bool> {
        let max_line = self.options.max_line_bytes;
        let Some(tailed) = self.files.get_mut(&id) else { return Ok(false) };
        let len = tailed.file.metadata()?.len();
        if len < tailed.offset {
            tracing::info!(path = %tailed.path.display(), "file truncated; reading it again from its start");
            tailed.offset = 0;
            tailed.skipping = false;
            tailed.head.clear();
        }
        if tailed.head.len() < FINGERPRINT && len > tailed.head.len() as u64 {
            let mut head = vec![0; FINGERPRINT];
            tailed.file.seek(SeekFrom::Start(0))?;
            let read = read_up_to(&mut tailed.file, &mut head)?;
            head.truncate(read);
            tailed.head = head;
            self.dirty = true;
        }
        if len == tailed.offset {
            tailed.idle_rounds += 1;
            return Ok(false);
        }
        tailed.idle_rounds = 0;
        let want = usize::try_from(len - tailed.offset).unwrap_or(usize::MAX).min(ROUND_BYTES);
        let mut buffer = vec![0; want];
        tailed.file.seek(SeekFrom::Start(tailed.offset))?;
        let got = read_up_to(&mut tailed.file, &mut buffer)?;
        buffer.truncate(got);
        let (events, consumed) = split_lines(tailed, &buffer, max_line, false, metrics);
        if consumed > 0 {
            let offset = tailed.offset + consumed as u64;
            store_events(store, events, metrics)?;
            if let Some(tailed) = self.files.get_mut(&id) {
                tailed.offset = offset;
            }
            self.dirty = true;
        }
        Ok(got == ROUND_BYTES)
    }

    /// Closes files that left the patterns (rotated or deleted) once they stop growing,
    /// reading a last line that has no newline.
    fn close_idle(&mut self, store: &Pipeline, metrics: &InputMetrics) {
        let max_line = self.options.max_line_bytes;
        let done: Vec<FileId> = self
            .files
            .iter()
            .filter(|(_, tailed)| !tailed.matched && tailed.idle_rounds >= IDLE_ROUNDS)
            .map(|(id, _)| *id)
            .collect();
        for id in done {
            let Some(mut tailed) = self.files.remove(&id) else { continue };
            let mut rest = Vec::new();
            if tailed.file.seek(SeekFrom::Start(tailed.offset)).is_ok()
                && (&tailed.file).take(max_line as u64).read_to_end(&mut rest).is_ok()
                && !rest.is_empty()
            {
                let (events, _) = split_lines(&mut tailed, &rest, max_line, true, metrics);
                if let Err(error) = store_events(store, events, metrics) {
                    tracing::error!(%error, "storing the last line of a rotated file failed");
                }
            }
            tracing::info!(path = %tailed.path.display(), "stopped tailing a file that left the patterns");
            self.saved.remove(&id);
            self.dirty = true;
        }
    }

    /// Writes the checkpoints atomically (a temporary file renamed over the old one).
    fn save(&mut self) {
        for (id, tailed) in &self.files {
            self.saved.insert(
                *id,
                Checkpoint {
                    path: tailed.path.clone(),
                    dev: id.0,
                    ino: id.1,
                    offset: tailed.offset,
                    head: hex_encode(&tailed.head),
                },
            );
        }
        let mut files: Vec<Checkpoint> = self.saved.values().cloned().collect();
        files.sort_by(|left, right| left.path.cmp(&right.path));
        let result = (|| -> std::io::Result<()> {
            if let Some(parent) = self.checkpoint_path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            let temporary = self.checkpoint_path.with_extension("json.tmp");
            let bytes = serde_json::to_vec_pretty(&CheckpointFile { files })?;
            let mut file = File::create(&temporary)?;
            std::io::Write::write_all(&mut file, &bytes)?;
            file.sync_data()?;
            std::fs::rename(&temporary, &self.checkpoint_path)
        })();
        match result {
            Ok(()) => self.dirty = false,
            Err(error) => tracing::error!(%error, "saving the tail checkpoints failed"),
        }
    }
}

/// Splits `buffer` (read at the file's offset) into lines and decodes the complete ones;
/// returns the events and how many bytes they consumed. `last` also takes a final line
/// without a newline.
fn split_lines(
    tailed: &mut Tailed,
    buffer: &[u8],
    max_line: usize,
    last: bool,
    metrics: &InputMetrics,
) -> (Vec<Event>, usize) {
    tailed.decoder.set_received(jiff::Timestamp::now());
    let path = Value::from(tailed.path.to_string_lossy().as_ref());
    let mut events = Vec::new();
    let mut start = 0;
    while start < buffer.len() {
        let rest = &buffer[start..];
        let newline = memchr::memchr(b'\n', rest);
        let (line, next, truncated) = match newline {
            Some(end) if end <= max_line => (&rest[..end], start + end + 1, false),
            Some(end) => (&rest[..max_line], start + end + 1, true),
            None if rest.len() >= max_line => (&rest[..max_line], start + rest.len(), true),
            None if last => (rest, buffer.len(), false),
            None => break,
        };
        let offset = tailed.offset + start as u64;
        if tailed.skipping {
            // The rest of a line cut in an earlier read.
            tailed.skipping = newline.is_none();
            start = next;
            continue;
        }
        if truncated && newline.is_none() {
            tailed.skipping = true;
        }
        let before = events.len();
        match tailed.decoder.decode(line, truncated, &mut events) {
            Decoded::Parsed(count) => {
                metrics.received.inc_by(count as u64);
                metrics.parsed.inc_by(count as u64);
            }
            Decoded::Unparsed => {
                metrics.received.inc();
                metrics.failed.inc();
            }
            Decoded::Skipped => {}
        }
        for event in &mut events[before..] {
            event.insert("log.file.path", path.clone());
            event.insert("log.offset", Value::Int(i64::try_from(offset).unwrap_or(i64::MAX)));
        }
        start = next;
    }
    (events, start)
}

fn store_events(
    store: &Pipeline,
    events: Vec<Event>,
    metrics: &InputMetrics,
) -> std::io::Result<()> {
    let mut events = events;
    while !events.is_empty() {
        let rest = events.split_off(events.len().min(BATCH));
        let count = events.len() as i64;
        metrics.queued.inc_by(count);
        let appended = store.append(events);
        metrics.queued.dec_by(count);
        appended.map_err(std::io::Error::other)?;
        events = rest;
    }
    Ok(())
}

fn read_up_to(file: &mut File, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match file.read(&mut buffer[filled..])? {
            0 => break,
            read => filled += read,
        }
    }
    Ok(filled)
}

fn is_compressed(path: &Path) -> bool {
    path.extension()
        .and_then(|extension| extension.to_str())
        .is_some_and(|extension| COMPRESSED.contains(&extension))
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn hex_decode(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|index| text.get(index..index + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok()))
        .collect()
}

/// Starts the tailer on a thread of its own; set the flag and join the handle to stop it
/// (the checkpoints are saved on the way out).
#[must_use]
pub fn spawn(
    store: Pipeline,
    options: TailOptions,
    metrics: Arc<InputMetrics>,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    let checkpoints = store.store().dir().join("tail").join("checkpoints.json");
    std::thread::Builder::new()
        .name("palisade-tail".into())
        .spawn(move || run(&store, &options, &checkpoints, &metrics, &stop))
        .unwrap_or_else(|error| {
            tracing::error!(%error, "cannot start the file tailer");
            std::thread::spawn(|| {})
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        let bytes = b"\x00\xffabc";
        assert_eq!(hex_decode(&hex_encode(bytes)).as_deref(), Some(&bytes[..]));
        assert_eq!(hex_decode("abc"), None);
        assert_eq!(hex_decode("zz"), None);
    }

    #[test]
    fn compressed_rotations_are_skipped() {
        assert!(is_compressed(Path::new("/var/log/auth.log.2.gz")));
        assert!(!is_compressed(Path::new("/var/log/auth.log.1")));
    }
}
