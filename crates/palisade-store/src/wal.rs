//! The write-ahead log: every accepted event is appended here, with a sequence number, before
//! it is acknowledged.
//!
//! Files are `wal/<first sequence, 20 digits>.wal`. A record is
//! `[payload length u32][crc32 of seq+payload u32][seq u64][payload]`, little-endian. The
//! payload of a record whose length has its top bit set is a batch of events (one append):
//! the Arrow IPC stream of its rows in the store schema, numbered from `seq` on. Encoding it
//! costs little more than a copy, and recovery gets columns back without parsing anything.
//! Other records (logs written by earlier versions) hold one event as JSON. A crash can leave
//! a torn last record; recovery stops at the first record whose length or checksum does not
//! hold and truncates the file there, so a partial write is never read as an event and never
//! acknowledged (it was not yet synced).
//!
//! Files are recycled: a file the flusher no longer needs is renamed `<first seq>.spare` (at
//! most [`SPARE_FILES`] of them) and the next log file is that file renamed, overwritten from
//! its start. Writing into pages the page cache already holds costs a copy; writing a new
//! file made the kernel find and clear fresh memory for every page, which on these virtual
//! machines was a seventh of the CPU of ingest (PostgreSQL and RocksDB recycle their logs for
//! the same reason, and because overwriting allocated blocks needs no metadata sync). The
//! bytes after the last record written are the file's old records; replay tells them apart
//! by their sequence numbers, which are all below the file's first (the name's).

use std::io::{BufWriter, Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::ipc::reader::StreamReader;
use datafusion::arrow::ipc::writer::StreamWriter;
use palisade_event::{Event, Timestamp, Value};

use crate::error::{Error, Result};
use crate::schema;

const HEADER: usize = 16;
/// No single record may exceed this; a larger length field means a torn or corrupt record.
const MAX_RECORD: u32 = 1 << 30;
/// Set in the length field of a batch record.
const BATCH_FLAG: u32 = 1 << 31;

/// What one log record holds.
#[derive(Debug)]
pub enum Record {
    /// One event (logs of earlier versions), with its sequence number.
    Event(u64, Event),
    /// The rows of one append, the first numbered `seq`, in the store schema.
    Batch(u64, RecordBatch),
}

/// Encodes the rows of one append for the log (Arrow IPC stream).
///
/// # Errors
/// Returns encoding errors (none are expected for batches of the store schema).
pub fn encode_batch(batch: &RecordBatch) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    encode_batch_into(batch, &mut bytes)?;
    Ok(bytes)
}

/// [`encode_batch`] into `bytes`, which is cleared first: a buffer from [`RecordBuffers`]
/// keeps its memory from one append to the next.
///
/// # Errors
/// Returns encoding errors (none are expected for batches of the store schema).
pub fn encode_batch_into(batch: &RecordBatch, bytes: &mut Vec<u8>) -> Result<()> {
    bytes.clear();
    let internal = |error: datafusion::arrow::error::ArrowError| Error::Internal(error.to_string());
    // A column with no value in any row is left out: most typed columns are empty for most
    // sources, and each still cost an offset or a number per row in the record, so about
    // half of a `_bulk` login's log bytes. [`decode_batch`] brings the record back to the
    // store schema, the missing columns null, as it does for logs of older layouts.
    let kept: Vec<usize> = (0..batch.num_columns())
        .filter(|&idx| batch.num_rows() == 0 || batch.column(idx).null_count() < batch.num_rows())
        .collect();
    let projected;
    let batch = if kept.len() == batch.num_columns() {
        batch
    } else {
        projected = batch.project(&kept).map_err(internal)?;
        &projected
    };
    bytes.reserve(batch.get_array_memory_size() + 4096);
    let mut writer = StreamWriter::try_new(&mut *bytes, &batch.schema()).map_err(internal)?;
    writer.write(batch).map_err(internal)?;
    writer.finish().map_err(internal)?;
    Ok(())
}

/// Buffers for log records, handed back once written. A record is a few MiB (every column
/// of an append), encoded on the appending thread and written on the writer's: a new buffer
/// for each was memory the process had not touched before (the allocator rarely had a freed
/// one of that size at hand on the encoding thread), and the page faults that filled it
/// cost more than the encoding. At most [`RecordBuffers::KEPT`] wait here, none larger than
/// [`RecordBuffers::MAX_BYTES`] (one unusually large append does not pin its memory).
#[derive(Debug, Default)]
pub struct RecordBuffers(std::sync::Mutex<Vec<Vec<u8>>>);

impl RecordBuffers {
    /// Buffers kept: about the appends in flight at once.
    const KEPT: usize = 8;
    /// The largest buffer kept: several times a record of the server's appends.
    const MAX_BYTES: usize = 32 << 20;

    /// A buffer that was used before, or a new one.
    pub fn take(&self) -> Vec<u8> {
        self.0.lock().ok().and_then(|mut kept| kept.pop()).unwrap_or_default()
    }

    /// Keeps `buffer` for a later append, unless enough are kept already.
    pub fn give(&self, buffer: Vec<u8>) {
        if buffer.capacity() == 0 || buffer.capacity() > Self::MAX_BYTES {
            return;
        }
        if let Ok(mut kept) = self.0.lock()
            && kept.len() < Self::KEPT
        {
            kept.push(buffer);
        }
    }
}

/// Reads the rows written by [`encode_batch`], brought to the current store schema.
///
/// # Errors
/// Returns a message when the payload is not an encoded batch.
pub fn decode_batch(payload: &[u8]) -> Result<RecordBatch, String> {
    let reader =
        StreamReader::try_new(std::io::Cursor::new(payload), None).map_err(|e| e.to_string())?;
    let mut batches = Vec::new();
    for batch in reader {
        batches.push(batch.map_err(|error| error.to_string())?);
    }
    let batch = match batches.len() {
        1 => batches.pop().unwrap_or_else(|| RecordBatch::new_empty(schema::schema())),
        _ => datafusion::arrow::compute::concat_batches(&schema::schema(), &batches)
            .map_err(|error| error.to_string())?,
    };
    schema::conform(&batch)
}

/// Serializes an event as earlier versions logged it (one JSON record per event). Only the
/// tests write such records now, to check that old logs still replay.
#[cfg(test)]
fn encode_event(event: &Event) -> Vec<u8> {
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
        flat.push((palisade_event::Str::copy(name), value));
    }
    let mut event = Event::from_fields(flat);
    let timestamp = object
        .get("t")
        .and_then(serde_json::Value::as_i64)
        .and_then(|micros| Timestamp::from_microsecond(micros).ok());
    event.set_timestamp(timestamp);
    Ok(event)
}

/// Recycled files kept for the next log files: enough for the flusher to free one while the
/// writer starts the next, and few, because their bytes stay on disk while the store runs.
pub const SPARE_FILES: usize = 2;

/// The extension of a recycled file, which replay skips.
const SPARE_EXTENSION: &str = "spare";

fn file_name(first_seq: u64) -> String {
    format!("{first_seq:020}.wal")
}

/// Lists the recycled files, oldest first.
///
/// # Errors
/// Returns IO errors reading the directory.
pub fn spare_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let spares = list(dir, |name| {
        (Path::new(name).extension() == Some(std::ffi::OsStr::new(SPARE_EXTENSION))).then_some(())
    })?;
    Ok(spares.into_iter().map(|((), path)| path).collect())
}

/// Deletes the recycled files: when the store closes, so that an idle data directory holds
/// only what it stores.
///
/// # Errors
/// Returns IO errors.
pub fn remove_spares(dir: &Path) -> Result<()> {
    for path in spare_files(dir)? {
        fs_err::remove_file(&path).map_err(Error::io("removing", &path))?;
    }
    sync_dir(dir)
}

/// Lists the log files with their first sequence number, oldest first.
///
/// # Errors
/// Returns IO errors reading the directory.
pub fn files(dir: &Path) -> Result<Vec<(u64, PathBuf)>> {
    list(dir, |name| name.strip_suffix(".wal")?.parse().ok())
}

/// The files of `dir` whose names `key` reads a key from, with that key, sorted.
fn list<K: Ord>(dir: &Path, key: impl Fn(&str) -> Option<K>) -> Result<Vec<(K, PathBuf)>> {
    let mut found = Vec::new();
    for entry in fs_err::read_dir(dir).map_err(|source| Error::Io {
        action: "listing",
        path: dir.to_owned(),
        source,
    })? {
        let entry = entry.map_err(Error::io("listing", dir))?;
        if let Some(key) = entry.file_name().to_str().and_then(&key) {
            found.push((key, entry.path()));
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
    /// Bytes of records written to this file: where a recycled file's old bytes begin.
    written: u64,
}

impl WalWriter {
    /// Starts a new log file whose first record will have `next_seq`: a recycled file if
    /// there is one ([`SPARE_FILES`]), else a new one.
    ///
    /// # Errors
    /// Returns IO errors.
    pub fn create(dir: &Path, next_seq: u64) -> Result<Self> {
        let path = dir.join(file_name(next_seq));
        // A file of that name (left empty by a run that stopped right after starting it) is
        // continued, never overwritten.
        let spare = if path.exists() { None } else { spare_files(dir)?.into_iter().next() };
        let recycled = spare.is_some_and(|spare| fs_err::rename(&spare, &path).is_ok());
        let mut options = fs_err::OpenOptions::new();
        if recycled {
            // From the start, over the old records, keeping the file's blocks.
            options.write(true);
        } else {
            options.create(true).append(true);
        }
        let file = options.open(&path).map_err(|source| Error::Io {
            action: "creating",
            path: path.clone(),
            source,
        })?;
        let written =
            if recycled { 0 } else { file.metadata().map_err(Error::io("reading", &path))?.len() };
        sync_dir(dir)?;
        Ok(Self {
            dir: dir.to_owned(),
            path,
            file: BufWriter::with_capacity(1 << 20, file),
            written,
        })
    }

    /// Writes a single-event record as earlier versions did (tests only).
    #[cfg(test)]
    fn append(&mut self, seq: u64, payload: &[u8]) -> Result<()> {
        self.write_record(seq, payload, 0)
    }

    /// Writes the rows of one append, encoded by [`encode_batch`], numbered from `first_seq`
    /// (buffered until [`WalWriter::sync`] or [`WalWriter::flush`]).
    ///
    /// # Errors
    /// Returns IO errors.
    pub fn append_batch(&mut self, first_seq: u64, payload: &[u8]) -> Result<()> {
        self.write_record(first_seq, payload, BATCH_FLAG)
    }

    fn write_record(&mut self, seq: u64, payload: &[u8], flag: u32) -> Result<()> {
        let len = u32::try_from(payload.len()).ok().filter(|len| *len <= MAX_RECORD).ok_or_else(
            || Error::Corrupt {
                path: self.path.clone(),
                message: format!(
                    "a record of {} bytes is larger than the {MAX_RECORD}-byte limit",
                    payload.len()
                ),
            },
        )?;
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(&seq.to_le_bytes());
        hasher.update(payload);
        let mut header = [0u8; HEADER];
        header[0..4].copy_from_slice(&(len | flag).to_le_bytes());
        header[4..8].copy_from_slice(&hasher.finalize().to_le_bytes());
        header[8..16].copy_from_slice(&seq.to_le_bytes());
        self.file.write_all(&header).map_err(Error::io("writing", &self.path))?;
        self.file.write_all(payload).map_err(Error::io("writing", &self.path))?;
        self.written += (HEADER + payload.len()) as u64;
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

    /// Syncs the file and cuts a recycled file's old records off its end, so that a closed
    /// store leaves no stale bytes on disk.
    ///
    /// # Errors
    /// Returns IO errors.
    pub fn close(mut self) -> Result<()> {
        self.sync()?;
        let file = self.file.get_ref();
        if file.metadata().map_err(Error::io("reading", &self.path))?.len() > self.written {
            file.set_len(self.written).map_err(Error::io("truncating", &self.path))?;
            file.sync_all().map_err(Error::io("syncing", &self.path))?;
        }
        Ok(())
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
/// torn tail (of a batch, only the rows above `after_seq`). Returns the highest sequence
/// number seen (or `after_seq`).
///
/// # Errors
/// Returns IO errors; damaged records end the replay of their file.
pub fn replay(dir: &Path, after_seq: u64, mut sink: impl FnMut(Record)) -> Result<u64> {
    let mut highest = after_seq;
    for (first, path) in files(dir)? {
        // Records are numbered upwards from the file's first; one numbered below is an old
        // record of a recycled file, after the last one written to it this time.
        let mut expected = first;
        let mut bytes = Vec::new();
        fs_err::File::open(&path)
            .and_then(|mut file| file.read_to_end(&mut bytes))
            .map_err(Error::io("reading", &path))?;
        let mut offset = 0usize;
        while offset + HEADER <= bytes.len() {
            let word = u32::from_le_bytes(bytes[offset..offset + 4].try_into().unwrap_or_default());
            let (len, is_batch) = (word & !BATCH_FLAG, word & BATCH_FLAG != 0);
            let crc =
                u32::from_le_bytes(bytes[offset + 4..offset + 8].try_into().unwrap_or_default());
            let seq =
                u64::from_le_bytes(bytes[offset + 8..offset + 16].try_into().unwrap_or_default());
            let end = offset + HEADER + len as usize;
            if len > MAX_RECORD || end > bytes.len() || seq < expected {
                break;
            }
            let payload = &bytes[offset + HEADER..end];
            let mut hasher = crc32fast::Hasher::new();
            hasher.update(&seq.to_le_bytes());
            hasher.update(payload);
            if hasher.finalize() != crc {
                break;
            }
            let corrupt = |message| Error::Corrupt { path: path.clone(), message };
            if is_batch {
                let batch = decode_batch(payload).map_err(corrupt)?;
                let rows = batch.num_rows() as u64;
                if rows > 0 {
                    let last = seq + rows - 1;
                    if last > after_seq {
                        let skip = (after_seq + 1).saturating_sub(seq).min(rows);
                        #[allow(clippy::cast_possible_truncation)]
                        let rows_left = batch.slice(skip as usize, (rows - skip) as usize);
                        sink(Record::Batch(seq + skip, rows_left));
                    }
                    highest = highest.max(last);
                    expected = last + 1;
                }
            } else {
                if seq > after_seq {
                    sink(Record::Event(seq, decode_event(payload).map_err(corrupt)?));
                }
                highest = highest.max(seq);
                expected = seq + 1;
            }
            offset = end;
        }
        if offset < bytes.len() {
            // A torn or damaged tail (never acknowledged: it was not synced), or the old
            // records of a recycled file: drop it.
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

/// Retires log files all of whose records have a sequence number of at most `upto`: those
/// followed by a file that starts at or before `upto + 1`. Up to [`SPARE_FILES`] are kept for
/// reuse (renamed `.spare`), the others deleted. The newest file, the one being written, has
/// no follower and is never retired.
///
/// # Errors
/// Returns IO errors.
pub fn remove_upto(dir: &Path, upto: u64) -> Result<()> {
    let listed = files(dir)?;
    let mut spares = spare_files(dir)?.len();
    for (idx, (_, path)) in listed.iter().enumerate() {
        let next_first = listed.get(idx + 1).map(|(first, _)| *first);
        if next_first.is_some_and(|next| next <= upto + 1) {
            if spares < SPARE_FILES {
                let spare = path.with_extension(SPARE_EXTENSION);
                fs_err::rename(path, &spare).map_err(Error::io("renaming", path))?;
                spares += 1;
            } else {
                fs_err::remove_file(path).map_err(Error::io("removing", path))?;
            }
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

    /// Written records' buffers come back for later appends, up to a count and a size, so
    /// neither many nor one huge buffer stays pinned; what is taken back is empty when encoded
    /// into, and encodes the same bytes as a new buffer.
    #[test]
    fn record_buffers_are_reused_within_bounds() {
        let buffers = RecordBuffers::default();
        assert_eq!(buffers.take().capacity(), 0, "nothing kept yet");
        let mut used = Vec::with_capacity(1 << 20);
        used.extend_from_slice(b"old record");
        let address = used.as_ptr();
        buffers.give(used);
        let mut again = buffers.take();
        assert_eq!(again.as_ptr(), address, "the same buffer comes back");
        let batch = crate::schema::Columns::with_capacity(1).finish().batch;
        encode_batch_into(&batch, &mut again).expect("encode");
        assert_eq!(again, encode_batch(&batch).expect("encode"), "old bytes are cleared");

        for _ in 0..RecordBuffers::KEPT + 3 {
            buffers.give(Vec::with_capacity(64));
        }
        let kept = std::iter::from_fn(|| Some(buffers.take()))
            .take_while(|buffer| buffer.capacity() > 0)
            .count();
        assert_eq!(kept, RecordBuffers::KEPT);
        buffers.give(Vec::with_capacity(RecordBuffers::MAX_BYTES + 1));
        buffers.give(Vec::new());
        assert_eq!(buffers.take().capacity(), 0, "too large and empty buffers are dropped");
    }

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
        let highest = replay(dir.path(), 2, |record| match record {
            Record::Event(seq, event) => seen.push((seq, event)),
            Record::Batch(..) => panic!("only event records were written"),
        })
        .expect("replay");
        assert_eq!(highest, 5);
        assert_eq!(seen.iter().map(|(seq, _)| *seq).collect::<Vec<_>>(), vec![3, 4, 5]);
        assert_eq!(seen[0].1, event(3));
        assert_eq!(seen[0].1.timestamp(), event(3).timestamp());
        let len_after = fs_err::metadata(&path).expect("meta").len();
        let mut again = 0;
        replay(dir.path(), 0, |_| again += 1).expect("replay");
        assert_eq!(again, 5);
        assert_eq!(fs_err::metadata(&path).expect("meta").len(), len_after, "truncated once");
    }

    /// A recycled file is overwritten from its start. Its old records after the new ones
    /// still have valid checksums, and with records of one size the new ones end exactly
    /// where an old one starts: only the numbers, below the file's first, tell them apart.
    #[test]
    fn a_recycled_file_replays_only_what_was_written_to_it_since() {
        let dir = tempfile::tempdir().expect("tmp");
        let payload = encode_event(&event(5));
        let mut writer = WalWriter::create(dir.path(), 1).expect("create");
        for seq in 1..=6 {
            writer.append(seq, &payload).expect("append");
        }
        writer.rotate(7).expect("rotate");
        let old_len = fs_err::metadata(dir.path().join(file_name(1))).expect("meta").len();
        remove_upto(dir.path(), 6).expect("retire");
        assert_eq!(files(dir.path()).expect("list").len(), 1, "the first file is retired");
        assert_eq!(spare_files(dir.path()).expect("list").len(), 1, "and kept for reuse");
        for seq in 7..=8 {
            writer.append(seq, &payload).expect("append");
        }
        writer.rotate(9).expect("rotate");
        assert!(spare_files(dir.path()).expect("list").is_empty(), "the spare is reused");
        let reused = dir.path().join(file_name(9));
        assert_eq!(fs_err::metadata(&reused).expect("meta").len(), old_len, "with its bytes");
        for seq in 9..=10 {
            writer.append(seq, &payload).expect("append");
        }
        writer.sync().expect("sync");
        // No close: as after a crash, the old records are still on disk.
        drop(writer);
        let mut seen = Vec::new();
        let highest = replay(dir.path(), 0, |record| match record {
            Record::Event(seq, _) => seen.push(seq),
            Record::Batch(..) => panic!("only event records were written"),
        })
        .expect("replay");
        assert_eq!(seen, vec![7, 8, 9, 10]);
        assert_eq!(highest, 10);
        let two_records = 2 * (HEADER + payload.len()) as u64;
        assert_eq!(fs_err::metadata(&reused).expect("meta").len(), two_records, "old records cut");
    }

    /// Closing the writer leaves a recycled file no longer than what was written to it, and
    /// retiring more files than [`SPARE_FILES`] deletes the rest.
    #[test]
    fn spares_are_bounded_and_a_closed_file_keeps_no_old_records() {
        let dir = tempfile::tempdir().expect("tmp");
        let payload = encode_event(&event(5));
        let mut writer = WalWriter::create(dir.path(), 1).expect("create");
        let mut seq = 1;
        for _ in 0..SPARE_FILES + 2 {
            for _ in 0..3 {
                writer.append(seq, &payload).expect("append");
                seq += 1;
            }
            writer.rotate(seq).expect("rotate");
        }
        remove_upto(dir.path(), seq - 1).expect("retire");
        assert_eq!(spare_files(dir.path()).expect("list").len(), SPARE_FILES);
        assert_eq!(files(dir.path()).expect("list").len(), 1, "only the current file is left");
        writer.append(seq, &payload).expect("append");
        seq += 1;
        writer.rotate(seq).expect("rotate onto a spare");
        assert_eq!(spare_files(dir.path()).expect("list").len(), SPARE_FILES - 1);
        writer.append(seq, &payload).expect("append");
        let path = writer.path().to_owned();
        assert!(fs_err::metadata(&path).expect("meta").len() > (HEADER + payload.len()) as u64);
        writer.close().expect("close");
        assert_eq!(fs_err::metadata(&path).expect("meta").len(), (HEADER + payload.len()) as u64);
        remove_spares(dir.path()).expect("remove");
        assert!(spare_files(dir.path()).expect("list").is_empty());
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
        replay(dir.path(), 0, |_| seen += 1).expect("replay");
        assert!(seen < 3);
    }

    #[test]
    fn batch_records_replay_the_rows_above_the_flushed_sequence() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut writer = WalWriter::create(dir.path(), 1).expect("create");
        let first: Vec<Event> = (1..=4).map(event).collect();
        let second: Vec<Event> = (5..=7).map(event).collect();
        for (seq, events) in [(1, &first), (5, &second)] {
            let encoded = schema::encode(events, 0);
            writer
                .append_batch(seq, &encode_batch(&encoded.batch).expect("encode"))
                .expect("append");
        }
        // An old-style event record after them: both kinds replay from one file.
        writer.append(8, &encode_event(&event(8))).expect("append");
        writer.sync().expect("sync");
        drop(writer);
        let mut batches = Vec::new();
        let mut events = Vec::new();
        let highest = replay(dir.path(), 2, |record| match record {
            Record::Batch(seq, batch) => batches.push((seq, batch)),
            Record::Event(seq, event) => events.push((seq, event)),
        })
        .expect("replay");
        assert_eq!(highest, 8);
        // The first batch is cut after the flushed rows 1 and 2; the second is whole.
        let starts: Vec<(u64, usize)> =
            batches.iter().map(|(seq, batch)| (*seq, batch.num_rows())).collect();
        assert_eq!(starts, vec![(3, 2), (5, 3)]);
        let back = schema::from_batch(&schema::with_seq(&batches[0].1, 3));
        assert_eq!(back[0].1, event(3));
        assert_eq!(back[1].1, event(4));
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].0, 8);
    }

    #[test]
    fn a_torn_batch_record_is_not_replayed() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut writer = WalWriter::create(dir.path(), 1).expect("create");
        let events: Vec<Event> = (1..=50).map(event).collect();
        let encoded = schema::encode(&events, 0);
        writer.append_batch(1, &encode_batch(&encoded.batch).expect("encode")).expect("append");
        writer.sync().expect("sync");
        let path = writer.path().to_owned();
        drop(writer);
        let bytes = fs_err::read(&path).expect("read");
        fs_err::write(&path, &bytes[..bytes.len() - 10]).expect("write");
        let mut seen = 0;
        assert_eq!(replay(dir.path(), 0, |_| seen += 1).expect("replay"), 0);
        assert_eq!(seen, 0);
        assert_eq!(fs_err::metadata(&path).expect("meta").len(), 0, "the torn record is cut");
    }
}
