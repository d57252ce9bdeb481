//! The write-ahead log: every accepted event is appended here, with a sequence number, before
//! it is acknowledged.
//!
//! Files are `wal/<first sequence, 20 digits>.wal`. A record is
//! `[payload length u32][crc32 of seq+payload u32][seq u64][payload]`, little-endian; the
//! payload is the event as JSON. A crash can leave a torn last record; recovery stops at the
//! first record whose length or checksum does not hold and truncates the file there, so a
//! partial write is never read as an event and never acknowledged (it was not yet synced).

use std::io::{BufWriter, Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};

use palisade_event::{Event, Timestamp, Value};

use crate::error::{Error, Result};

const HEADER: usize = 16;
/// No single event may exceed this; a larger length field means a torn or corrupt record.
const MAX_RECORD: u32 = 64 * 1024 * 1024;

/// Serializes an event for the log.
#[must_use]
pub fn encode_event(event: &Event) -> Vec<u8> {
    #[derive(serde::Serialize)]
    struct Record<'a> {
        t: Option<i64>,
        f: &'a Event,
    }
    let record = Record { t: event.timestamp().map(|ts| ts.as_microsecond()), f: event };
    // Serializing plain data into a Vec cannot fail.
    serde_json::to_vec(&record).unwrap_or_default()
}

/// Reads an event written by [`encode_event`].
///
/// # Errors
/// Returns a message when the payload is not an encoded event.
pub fn decode_event(payload: &[u8]) -> Result<Event, String> {
    let object: serde_json::Value =
        serde_json::from_slice(payload).map_err(|error| error.to_string())?;
    let fields = object.get("f").and_then(serde_json::Value::as_object).ok_or("missing fields")?;
    let mut flat = Vec::with_capacity(fields.len());
    for (name, value) in fields {
        let value = match value {
            serde_json::Value::Array(items) => {
                Value::List(items.iter().filter_map(Value::from_json_scalar).collect())
            }
            other => Value::from_json_scalar(other).unwrap_or(Value::Null),
        };
        flat.push((name.as_str().into(), value));
    }
    let mut event = Event::from_fields(flat);
    let timestamp = object
        .get("t")
        .and_then(serde_json::Value::as_i64)
        .and_then(|micros| Timestamp::from_microsecond(micros).ok());
    event.set_timestamp(timestamp);
    Ok(event)
}

fn file_name(first_seq: u64) -> String {
    format!("{first_seq:020}.wal")
}

/// Lists the log files with their first sequence number, oldest first.
///
/// # Errors
/// Returns IO errors reading the directory.
pub fn files(dir: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let mut found = Vec::new();
    for entry in fs_err::read_dir(dir).map_err(|source| Error::Io {
        action: "listing",
        path: dir.to_owned(),
        source,
    })? {
        let entry = entry.map_err(Error::io("listing", dir))?;
        let name = entry.file_name();
        let Some(stem) = name.to_str().and_then(|name| name.strip_suffix(".wal")) else { continue };
        if let Ok(first) = stem.parse::<u64>() {
            found.push((first, entry.path()));
        }
    }
    found.sort();
    Ok(found)
}

/// Appends records to the current log file.
#[derive(Debug)]
pub struct WalWriter {
    dir: PathBuf,
    path: PathBuf,
    file: BufWriter<fs_err::File>,
}

impl WalWriter {
    /// Starts a new log file whose first record will have `next_seq`.
    ///
    /// # Errors
    /// Returns IO errors.
    pub fn create(dir: &Path, next_seq: u64) -> Result<Self> {
        let path = dir.join(file_name(next_seq));
        let file = fs_err::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|source| Error::Io { action: "creating", path: path.clone(), source })?;
        sync_dir(dir)?;
        Ok(Self { dir: dir.to_owned(), path, file: BufWriter::with_capacity(1 << 20, file) })
    }

    /// Writes one record (buffered until [`WalWriter::sync`] or [`WalWriter::flush`]).
    ///
    /// # Errors
    /// Returns IO errors.
    pub fn append(&mut self, seq: u64, payload: &[u8]) -> Result<()> {
        let len = u32::try_from(payload.len()).ok().filter(|len| *len <= MAX_RECORD).ok_or_else(
            || Error::Corrupt {
                path: self.path.clone(),
                message: format!(
                    "event of {} bytes is larger than the {MAX_RECORD}-byte limit",
                    payload.len()
                ),
            },
        )?;
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(&seq.to_le_bytes());
        hasher.update(payload);
        let mut header = [0u8; HEADER];
        header[0..4].copy_from_slice(&len.to_le_bytes());
        header[4..8].copy_from_slice(&hasher.finalize().to_le_bytes());
        header[8..16].copy_from_slice(&seq.to_le_bytes());
        self.file.write_all(&header).map_err(Error::io("writing", &self.path))?;
        self.file.write_all(payload).map_err(Error::io("writing", &self.path))?;
        Ok(())
    }

    /// Hands buffered records to the operating system (survives a process crash).
    ///
    /// # Errors
    /// Returns IO errors.
    pub fn flush(&mut self) -> Result<()> {
        self.file.flush().map_err(Error::io("writing", &self.path))
    }

    /// Flushes and fsyncs (survives a power loss).
    ///
    /// # Errors
    /// Returns IO errors.
    pub fn sync(&mut self) -> Result<()> {
        self.flush()?;
        self.file.get_ref().sync_data().map_err(Error::io("syncing", &self.path))
    }

    /// Closes this file and starts the next one at `next_seq`.
    ///
    /// # Errors
    /// Returns IO errors.
    pub fn rotate(&mut self, next_seq: u64) -> Result<()> {
        self.sync()?;
        *self = Self::create(&self.dir.clone(), next_seq)?;
        Ok(())
    }

    /// Returns the current file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Replays every record with a sequence number above `after_seq`, oldest first, truncating a
/// torn tail. Returns the highest sequence number seen (or `after_seq`).
///
/// # Errors
/// Returns IO errors; damaged records end the replay of their file.
pub fn replay(dir: &Path, after_seq: u64, mut sink: impl FnMut(u64, Event)) -> Result<u64> {
    let mut highest = after_seq;
    for (_, path) in files(dir)? {
        let mut bytes = Vec::new();
        fs_err::File::open(&path)
            .and_then(|mut file| file.read_to_end(&mut bytes))
            .map_err(Error::io("reading", &path))?;
        let mut offset = 0usize;
        while offset + HEADER <= bytes.len() {
            let len = u32::from_le_bytes(bytes[offset..offset + 4].try_into().unwrap_or_default());
            let crc =
                u32::from_le_bytes(bytes[offset + 4..offset + 8].try_into().unwrap_or_default());
            let seq =
                u64::from_le_bytes(bytes[offset + 8..offset + 16].try_into().unwrap_or_default());
            let end = offset + HEADER + len as usize;
            if len > MAX_RECORD || end > bytes.len() {
                break;
            }
            let payload = &bytes[offset + HEADER..end];
            let mut hasher = crc32fast::Hasher::new();
            hasher.update(&seq.to_le_bytes());
            hasher.update(payload);
            if hasher.finalize() != crc {
                break;
            }
            if seq > after_seq {
                let event = decode_event(payload)
                    .map_err(|message| Error::Corrupt { path: path.clone(), message })?;
                sink(seq, event);
            }
            highest = highest.max(seq);
            offset = end;
        }
        if offset < bytes.len() {
            // A torn or damaged tail: never acknowledged (it was not synced), so drop it.
            let file = fs_err::OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(Error::io("opening", &path))?;
            file.set_len(offset as u64).map_err(Error::io("truncating", &path))?;
            let mut file = file;
            file.seek(std::io::SeekFrom::End(0)).map_err(Error::io("seeking", &path))?;
            file.sync_all().map_err(Error::io("syncing", &path))?;
        }
    }
    Ok(highest)
}

/// Deletes log files all of whose records have a sequence number of at most `upto`: those
/// followed by a file that starts at or before `upto + 1`. The newest file, the one being
/// written, has no follower and is never deleted.
///
/// # Errors
/// Returns IO errors.
pub fn remove_upto(dir: &Path, upto: u64) -> Result<()> {
    let listed = files(dir)?;
    for (idx, (_, path)) in listed.iter().enumerate() {
        let next_first = listed.get(idx + 1).map(|(first, _)| *first);
        if next_first.is_some_and(|next| next <= upto + 1) {
            fs_err::remove_file(path).map_err(Error::io("removing", path))?;
        }
    }
    sync_dir(dir)
}

/// Fsyncs a directory so that created, renamed or removed entries are durable.
///
/// # Errors
/// Returns IO errors.
pub fn sync_dir(dir: &Path) -> Result<()> {
    fs_err::File::open(dir).and_then(|file| file.sync_all()).map_err(Error::io("syncing", dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(n: i64) -> Event {
        let mut event =
            Event::from_fields(vec![("n".into(), Value::Int(n)), ("s".into(), Value::from("x"))]);
        event.set_timestamp(Timestamp::from_microsecond(1_700_000_000_000_000 + n).ok());
        event
    }

    #[test]
    fn replays_after_a_sequence_and_truncates_a_torn_tail() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut writer = WalWriter::create(dir.path(), 1).expect("create");
        for seq in 1..=5 {
            writer.append(seq, &encode_event(&event(seq as i64))).expect("append");
        }
        writer.sync().expect("sync");
        let path = writer.path().to_owned();
        drop(writer);
        // A torn record: a header promising more bytes than were written.
        let mut file = fs_err::OpenOptions::new().append(true).open(&path).expect("open");
        file.write_all(&[200, 0, 0, 0, 1, 2, 3]).expect("write");
        drop(file);
        let mut seen = Vec::new();
        let highest = replay(dir.path(), 2, |seq, event| seen.push((seq, event))).expect("replay");
        assert_eq!(highest, 5);
        assert_eq!(seen.iter().map(|(seq, _)| *seq).collect::<Vec<_>>(), vec![3, 4, 5]);
        assert_eq!(seen[0].1, event(3));
        assert_eq!(seen[0].1.timestamp(), event(3).timestamp());
        let len_after = fs_err::metadata(&path).expect("meta").len();
        let mut again = 0;
        replay(dir.path(), 0, |_, _| again += 1).expect("replay");
        assert_eq!(again, 5);
        assert_eq!(fs_err::metadata(&path).expect("meta").len(), len_after, "truncated once");
    }

    #[test]
    fn a_flipped_bit_ends_the_replay_of_that_file() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut writer = WalWriter::create(dir.path(), 1).expect("create");
        for seq in 1..=3 {
            writer.append(seq, &encode_event(&event(seq as i64))).expect("append");
        }
        writer.sync().expect("sync");
        let path = writer.path().to_owned();
        drop(writer);
        let mut bytes = fs_err::read(&path).expect("read");
        let second = bytes.len() * 2 / 3;
        bytes[second] ^= 0x40;
        fs_err::write(&path, &bytes).expect("write");
        let mut seen = 0;
        replay(dir.path(), 0, |_, _| seen += 1).expect("replay");
        assert!(seen < 3);
    }
}
