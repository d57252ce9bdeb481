//! The store: a writer thread that owns the write-ahead log (group commit), an in-memory table
//! of acknowledged events not yet in a segment, a flusher thread that turns that table into
//! Parquet segments (one per source) and compacts small segments, and the list of segments.
//!
//! Appends never wait for a flush: the writer seals the in-memory table, starts a new log file
//! and hands the sealed part to the flusher. Only when the flusher falls far behind (the
//! in-memory table exceeds `max_unflushed_events`) does the writer wait, which bounds memory.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use datafusion::arrow::array::{Array as _, RecordBatch, StringArray, TimestampMicrosecondArray};
use palisade_event::Event;

use crate::error::{Error, Result};
use crate::schema;
use crate::segment::{self, SegmentInfo};
use crate::wal::{self, WalWriter};

/// When the write-ahead log is fsynced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// Before every acknowledgement (group commit shares one fsync between concurrent writers).
    Always,
    /// At most this often; an acknowledged event survives a process crash, and a power loss
    /// loses at most this interval.
    Interval(Duration),
    /// Never explicitly; the operating system writes back when it likes.
    Never,
}

/// Store settings.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// WAL durability.
    pub fsync: FsyncPolicy,
    /// Flush the in-memory table to segments at this many events.
    pub flush_events: usize,
    /// Appends wait when this many events are not yet in segments (the flusher is behind).
    pub max_unflushed_events: usize,
    /// Flush the in-memory table to segments once its events hold this many bytes of memory
    /// (estimated), even before `flush_events`.
    pub flush_bytes: usize,
    /// Appends wait when the events not yet in segments hold this many bytes of memory: the
    /// memory bound, whatever the size of the events.
    pub max_unflushed_bytes: usize,
    /// Compact a source once it has this many segments smaller than `compact_target_events`.
    pub compact_min_segments: usize,
    /// Compaction merges small segments up to about this many events.
    pub compact_target_events: u64,
}

impl StoreConfig {
    /// True when the unflushed events reach `1/divisor` of either memory bound.
    fn over_bound(&self, state: &State, divisor: usize) -> bool {
        state.unflushed() >= self.max_unflushed_events / divisor
            || state.unflushed_bytes() >= self.max_unflushed_bytes / divisor
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            fsync: FsyncPolicy::Always,
            flush_events: 256 * 1024,
            max_unflushed_events: 1024 * 1024,
            flush_bytes: 64 << 20,
            max_unflushed_bytes: 256 << 20,
            compact_min_segments: 8,
            compact_target_events: 2 * 1024 * 1024,
        }
    }
}

/// Age and size limits of one source's segments.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionLimits {
    /// Delete segments whose newest event is older than this.
    pub max_age: Option<Duration>,
    /// Delete the oldest segments of the source while it holds more bytes than this.
    pub max_bytes: Option<u64>,
}

/// Retention by age and size, per source (`event.dataset`), with a default for the rest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// Limits of every source not listed in `sources`.
    pub default: RetentionLimits,
    /// Limits of named sources.
    pub sources: BTreeMap<String, RetentionLimits>,
}

impl RetentionPolicy {
    fn limits(&self, source_dir: &str) -> RetentionLimits {
        self.sources
            .iter()
            .find(|(name, _)| segment::source_dir(Some(name)) == source_dir)
            .map_or(self.default, |(_, limits)| *limits)
    }
}

/// The rows of one source on their way into a segment, as (batch, row) pairs, and their raw
/// bytes.
type SourceRows = (Vec<(usize, usize)>, u64);

/// Acknowledged events not yet in a segment (one append), in sequence order, already in the
/// columns of the store schema: queries read them as they are and a flush only sorts and
/// encodes them.
#[derive(Debug)]
pub(crate) struct MemBatch {
    pub(crate) first_seq: u64,
    pub(crate) last_seq: u64,
    /// The rows, `_seq` filled in.
    pub(crate) batch: RecordBatch,
    pub(crate) raw_bytes: u64,
    /// Memory the columns hold, for the bounds.
    pub(crate) mem_bytes: usize,
    pub(crate) min_micros: i64,
    pub(crate) max_micros: i64,
}

impl MemBatch {
    fn new(first_seq: u64, encoded: schema::Encoded) -> Self {
        Self::measured(first_seq, encoded, RecordBatch::get_array_memory_size)
    }

    /// A batch read back from the log. Its columns are slices of one buffer, the record's
    /// body, and Arrow's memory size counts that whole buffer again for every slice (some
    /// hundred times the record's size for this schema), which after a restart put the
    /// replayed events far over the memory bound: appends waited and network inputs pushed
    /// back until the flusher caught up. The bytes the slices cover are the record's size.
    fn recovered(first_seq: u64, encoded: schema::Encoded) -> Self {
        Self::measured(first_seq, encoded, |batch| {
            batch
                .columns()
                .iter()
                .map(|column| column.to_data().get_slice_memory_size().unwrap_or(0))
                .sum()
        })
    }

    /// The batch numbered from `first_seq`, its memory counted by `memory`.
    fn measured(
        first_seq: u64,
        encoded: schema::Encoded,
        memory: fn(&RecordBatch) -> usize,
    ) -> Self {
        let batch = schema::with_seq(&encoded.batch, first_seq);
        let rows = batch.num_rows() as u64;
        Self {
            first_seq,
            last_seq: first_seq + rows.max(1) - 1,
            mem_bytes: memory(&batch),
            batch,
            raw_bytes: encoded.raw_bytes,
            min_micros: encoded.min_micros,
            max_micros: encoded.max_micros,
        }
    }

    fn rows(&self) -> usize {
        self.batch.num_rows()
    }
}

/// A segment file shared by the store and running queries. A segment that compaction or
/// retention replaced is deleted from disk when the last query reading it finishes.
#[derive(Debug)]
pub(crate) struct Segment {
    pub(crate) info: SegmentInfo,
    obsolete: AtomicBool,
}

impl Segment {
    fn new(info: SegmentInfo) -> Arc<Self> {
        Arc::new(Self { info, obsolete: AtomicBool::new(false) })
    }
}

impl Drop for Segment {
    fn drop(&mut self) {
        if self.obsolete.load(Ordering::Acquire) {
            let _ = std::fs::remove_file(&self.info.path);
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) mem: Vec<Arc<MemBatch>>,
    pub(crate) segments: Vec<Arc<Segment>>,
}

impl State {
    fn unflushed(&self) -> usize {
        self.mem.iter().map(|batch| batch.rows()).sum()
    }

    fn unflushed_bytes(&self) -> usize {
        self.mem.iter().map(|batch| batch.mem_bytes).sum()
    }
}

/// What the segments of one source hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SourceStats {
    /// Events in segments.
    pub events: u64,
    /// Segments.
    pub segments: usize,
    /// Bytes of segments on disk.
    pub segment_bytes: u64,
    /// Bytes of original input.
    pub raw_bytes: u64,
}

/// Counts for `palisade store stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    /// Events stored (segments and in-memory table).
    pub events: u64,
    /// Events not yet flushed to a segment.
    pub unflushed_events: u64,
    /// Memory those events' columns hold: what `max_unflushed_mib` bounds.
    pub unflushed_bytes: u64,
    /// Parquet segments.
    pub segments: usize,
    /// Bytes of segments on disk.
    pub segment_bytes: u64,
    /// Bytes of write-ahead log on disk, recycled files included.
    pub wal_bytes: u64,
    /// Bytes of original input the stored events came from.
    pub raw_bytes: u64,
    /// Earliest event time, RFC 3339.
    pub first_event: Option<String>,
    /// Latest event time, RFC 3339.
    pub last_event: Option<String>,
    /// Segment counts per source directory.
    pub sources: BTreeMap<String, SourceStats>,
}

/// Where the writer reports an append's sequence range, or its failure.
type Ack = SyncSender<Result<(u64, u64)>>;
type FlushAck = SyncSender<Result<()>>;

/// One append, encoded by the caller's thread: its columns and its log record.
struct Append {
    encoded: schema::Encoded,
    payload: Vec<u8>,
}

enum Request {
    Append(Box<Append>, Ack),
    Flush(FlushAck),
}

/// A sealed part of the in-memory table for the flusher: every batch up to `upto`.
struct FlushJob {
    upto: u64,
    acks: Vec<FlushAck>,
}

/// An open store. Appends go through one writer thread; queries read snapshots and never
/// block it.
pub struct Store {
    dir: PathBuf,
    state: Arc<RwLock<State>>,
    requests: Option<SyncSender<Request>>,
    writer: Option<JoinHandle<()>>,
    flusher: Option<JoinHandle<()>>,
    /// Log record buffers, reused from one append to the next.
    buffers: Arc<wal::RecordBuffers>,
    /// The memory bounds of the configuration.
    bounds: StoreConfig,
    /// Held for the store's lifetime: one process per data directory.
    _lock: std::fs::File,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("dir", &self.dir).finish_non_exhaustive()
    }
}

fn lock_dir(dir: &Path) -> Result<std::fs::File> {
    let path = dir.join("LOCK");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(Error::io("opening", &path))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::Locked(dir.to_owned())),
        Err(std::fs::TryLockError::Error(source)) => {
            Err(Error::Io { action: "locking", path, source })
        }
    }
}

fn write_state(state: &RwLock<State>) -> std::sync::RwLockWriteGuard<'_, State> {
    state.write().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn read_state(state: &RwLock<State>) -> std::sync::RwLockReadGuard<'_, State> {
    state.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Events turned into the store's columns one at a time, for one append
/// ([`Store::encoder`], [`Store::append_encoded`]).
///
/// A pipeline that parses, enriches and matches each event can encode it in the same step,
/// while the event is still in the processor's cache, instead of walking the whole batch
/// again later.
pub struct Encoder {
    columns: schema::Columns,
    default_micros: i64,
    rows: usize,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Encoder").field("rows", &self.rows).finish_non_exhaustive()
    }
}

impl Encoder {
    /// Adds one event as the next row.
    pub fn push(&mut self, event: &Event) {
        self.columns.push(event, None, self.default_micros);
        self.rows += 1;
    }

    /// Events added so far.
    #[must_use]
    pub fn len(&self) -> usize {
        self.rows
    }

    /// True before the first event.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }
}

impl Store {
    /// Opens (or creates) a store in `dir`, recovering segments and replaying the log.
    ///
    /// # Errors
    /// [`Error::Locked`] when another process has the directory open; IO errors and
    /// corrupt-file errors.
    pub fn open(dir: &Path, config: StoreConfig) -> Result<Self> {
        fs_err::create_dir_all(dir).map_err(Error::io("creating", dir))?;
        let lock = lock_dir(dir)?;
        let wal_dir = dir.join("wal");
        let segments_dir = dir.join("segments");
        for sub in [&wal_dir, &segments_dir] {
            fs_err::create_dir_all(sub).map_err(Error::io("creating", sub))?;
        }
        let (segments, flushed) = segment::recover(&segments_dir)?;
        let mut recovered = Recovered::default();
        let highest = wal::replay(&wal_dir, flushed, |record| recovered.add(record))?;
        let mut state = State { mem: recovered.finish(), segments: Vec::new() };
        state.segments = segments.into_iter().map(Segment::new).collect();
        let next_seq = highest.max(flushed) + 1;
        let wal = WalWriter::create(&wal_dir, next_seq)?;
        let state = Arc::new(RwLock::new(state));
        let (jobs, job_receiver) = mpsc::channel();
        let flusher = {
            let flusher = Flusher {
                segments_dir,
                wal_dir: wal_dir.clone(),
                state: Arc::clone(&state),
                config: config.clone(),
            };
            std::thread::Builder::new()
                .name("palisade-store-flusher".into())
                .spawn(move || flusher.run(&job_receiver))
                .map_err(|error| Error::Internal(format!("starting the flusher: {error}")))?
        };
        let bounds = config.clone();
        let (sender, receiver) = mpsc::sync_channel(256);
        let writer_state = Arc::clone(&state);
        let buffers = Arc::new(wal::RecordBuffers::default());
        let writer_buffers = Arc::clone(&buffers);
        let writer = std::thread::Builder::new()
            .name("palisade-store-writer".into())
            .spawn(move || {
                Writer {
                    wal,
                    state: writer_state,
                    next_seq,
                    sealed_upto: flushed,
                    config,
                    last_sync: Instant::now(),
                    jobs,
                    buffers: writer_buffers,
                }
                .run(&receiver);
            })
            .map_err(|error| Error::Internal(format!("starting the writer: {error}")))?;
        Ok(Self {
            dir: dir.to_owned(),
            state,
            requests: Some(sender),
            writer: Some(writer),
            flusher: Some(flusher),
            buffers,
            bounds,
            _lock: lock,
        })
    }

    /// Appends events; returns once they are durable under the fsync policy, with their first
    /// and last sequence numbers.
    ///
    /// # Errors
    /// Returns IO errors; on error none of the events is acknowledged.
    pub fn append(&self, events: Vec<Event>) -> Result<(u64, u64)> {
        self.append_events(&events)
    }

    /// [`Store::append`] for events the caller keeps (detection reads them afterwards).
    ///
    /// The events are turned into columns and their log record here, on the caller's thread,
    /// so that appends from several inputs encode in parallel and the one writer thread only
    /// writes and syncs.
    ///
    /// # Errors
    /// Returns IO errors; on error none of the events is acknowledged.
    pub fn append_events(&self, events: &[Event]) -> Result<(u64, u64)> {
        let mut encoder = self.encoder(events.len());
        for event in events {
            encoder.push(event);
        }
        self.append_encoded(encoder)
    }

    /// An [`Encoder`] for one append of about `capacity` events.
    #[must_use]
    pub fn encoder(&self, capacity: usize) -> Encoder {
        // An event without a time of its own gets its arrival, once, so the log, the
        // in-memory table and the segment all agree on it.
        Encoder {
            columns: schema::Columns::with_capacity(capacity),
            default_micros: jiff::Timestamp::now().as_microsecond(),
            rows: 0,
        }
    }

    /// Appends what `encoder` holds: [`Store::append`] for a caller that turned its events
    /// into columns itself, one at a time, while they were in its cache.
    ///
    /// # Errors
    /// Returns IO errors; on error none of the events is acknowledged.
    pub fn append_encoded(&self, encoder: Encoder) -> Result<(u64, u64)> {
        let rows = encoder.rows;
        let encoded = encoder.columns.finish();
        let mut payload = Vec::new();
        if rows > 0 {
            payload = self.buffers.take();
            wal::encode_batch_into(&encoded.batch, &mut payload)?;
        }
        let (ack, wait) = mpsc::sync_channel(1);
        self.send(Request::Append(Box::new(Append { encoded, payload }), ack))?;
        wait.recv().map_err(|_| Error::Internal("the writer stopped".into()))?
    }

    /// Writes every acknowledged event to a segment now.
    ///
    /// # Errors
    /// Returns IO errors.
    pub fn flush(&self) -> Result<()> {
        let (ack, wait) = mpsc::sync_channel(1);
        self.send(Request::Flush(ack))?;
        wait.recv().map_err(|_| Error::Internal("the flusher stopped".into()))?
    }

    fn send(&self, request: Request) -> Result<()> {
        self.requests
            .as_ref()
            .ok_or_else(|| Error::Internal("store closed".into()))?
            .send(request)
            .map_err(|_| Error::Internal("the writer stopped".into()))
    }

    /// True while the in-memory table is over half its bound: the flusher is behind and
    /// appends will soon wait. Network inputs use it to push back (HTTP 503, slower reads).
    #[must_use]
    pub fn is_lagging(&self) -> bool {
        self.bounds.over_bound(&read_state(&self.state), 2)
    }

    /// Returns the data directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn snapshot(&self) -> (Vec<Arc<Segment>>, Vec<Arc<MemBatch>>) {
        let state = read_state(&self.state);
        (state.segments.clone(), state.mem.clone())
    }

    /// Returns counts of what the store holds.
    ///
    /// # Errors
    /// Returns IO errors reading the log directory.
    pub fn stats(&self) -> Result<Stats> {
        let (segments, mem) = self.snapshot();
        let mut stats = Stats { segments: segments.len(), ..Stats::default() };
        let mut min = i64::MAX;
        let mut max = i64::MIN;
        for segment in &segments {
            let info = &segment.info;
            stats.events += info.events;
            stats.segment_bytes += info.file_bytes;
            stats.raw_bytes += info.raw_bytes;
            min = min.min(info.min_micros);
            max = max.max(info.max_micros);
            let source = stats.sources.entry(info.source.clone()).or_default();
            source.events += info.events;
            source.segments += 1;
            source.segment_bytes += info.file_bytes;
            source.raw_bytes += info.raw_bytes;
        }
        for batch in &mem {
            stats.unflushed_events += batch.rows() as u64;
            stats.unflushed_bytes += batch.mem_bytes as u64;
            stats.raw_bytes += batch.raw_bytes;
            min = min.min(batch.min_micros);
            max = max.max(batch.max_micros);
        }
        stats.events += stats.unflushed_events;
        let wal_dir = self.dir.join("wal");
        let spares = wal::spare_files(&wal_dir)?;
        for path in wal::files(&wal_dir)?.into_iter().map(|(_, path)| path).chain(spares) {
            // A file the flusher retires meanwhile simply no longer counts.
            stats.wal_bytes += std::fs::metadata(&path).map(|meta| meta.len()).unwrap_or(0);
        }
        let format =
            |micros: i64| jiff::Timestamp::from_microsecond(micros).ok().map(|ts| ts.to_string());
        if min <= max {
            stats.first_event = format(min);
            stats.last_event = format(max);
        }
        Ok(stats)
    }

    /// Applies a retention policy: per source, deletes segments whose newest event is older
    /// than the age limit, then the oldest segments while the source exceeds its size limit.
    /// Files still read by a running query are deleted when it finishes. Returns the number
    /// of segments removed.
    ///
    /// # Errors
    /// Returns IO errors.
    pub fn apply_retention(&self, policy: &RetentionPolicy) -> Result<usize> {
        let now = jiff::Timestamp::now().as_microsecond();
        let mut state = write_state(&self.state);
        let mut by_source: HashMap<String, Vec<Arc<Segment>>> = HashMap::new();
        for segment in std::mem::take(&mut state.segments) {
            by_source.entry(segment.info.source.clone()).or_default().push(segment);
        }
        let mut removed = 0;
        for (source, mut segments) in by_source {
            let limits = policy.limits(&source);
            segments.sort_by_key(|segment| segment.info.max_micros);
            let mut total: u64 = segments.iter().map(|segment| segment.info.file_bytes).sum();
            for segment in segments {
                let too_old = limits.max_age.is_some_and(|age| {
                    segment.info.max_micros
                        < now.saturating_sub(i64::try_from(age.as_micros()).unwrap_or(i64::MAX))
                });
                let too_big = limits.max_bytes.is_some_and(|limit| total > limit);
                if too_old || too_big {
                    total -= segment.info.file_bytes;
                    segment.obsolete.store(true, Ordering::Release);
                    removed += 1;
                } else {
                    state.segments.push(segment);
                }
            }
        }
        state.segments.sort_by(|a, b| {
            (a.info.first_seq, &a.info.source).cmp(&(b.info.first_seq, &b.info.source))
        });
        Ok(removed)
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        // The writer ends when the request channel closes, and the flusher when the writer
        // (which owns the job channel) is gone.
        self.requests.take();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
        if let Some(flusher) = self.flusher.take() {
            let _ = flusher.join();
        }
        // Recycled log files only save work while events come in.
        if let Err(error) = wal::remove_spares(&self.dir.join("wal")) {
            tracing::warn!(%error, "removing recycled write-ahead log files");
        }
    }
}

/// What recovery rebuilds of the in-memory table from the log: batch records as they are,
/// runs of single-event records (logs of earlier versions) gathered into batches.
#[derive(Default)]
struct Recovered {
    mem: Vec<Arc<MemBatch>>,
    run: Vec<Event>,
    run_first: u64,
}

impl Recovered {
    fn add(&mut self, record: wal::Record) {
        match record {
            wal::Record::Event(seq, event) => {
                if !self.run.is_empty() && seq != self.run_first + self.run.len() as u64 {
                    self.end_run();
                }
                if self.run.is_empty() {
                    self.run_first = seq;
                }
                self.run.push(event);
            }
            wal::Record::Batch(seq, batch) => {
                self.end_run();
                let encoded = schema::summarize(batch);
                self.mem.push(Arc::new(MemBatch::recovered(seq, encoded)));
            }
        }
    }

    fn end_run(&mut self) {
        if !self.run.is_empty() {
            let encoded = schema::encode(&std::mem::take(&mut self.run), 0);
            self.mem.push(Arc::new(MemBatch::new(self.run_first, encoded)));
        }
    }

    fn finish(mut self) -> Vec<Arc<MemBatch>> {
        self.end_run();
        self.mem
    }
}

struct Writer {
    wal: WalWriter,
    state: Arc<RwLock<State>>,
    next_seq: u64,
    /// Everything up to here has been handed to the flusher.
    sealed_upto: u64,
    config: StoreConfig,
    last_sync: Instant,
    jobs: Sender<FlushJob>,
    /// Where written records' buffers go back to the appenders.
    buffers: Arc<wal::RecordBuffers>,
}

impl Writer {
    fn run(mut self, receiver: &Receiver<Request>) {
        loop {
            let first = match self.config.fsync {
                FsyncPolicy::Interval(interval) => match receiver.recv_timeout(interval) {
                    Ok(request) => request,
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        let _ = self.wal.sync();
                        self.last_sync = Instant::now();
                        continue;
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                },
                _ => match receiver.recv() {
                    Ok(request) => request,
                    Err(_) => break,
                },
            };
            // Group commit: everything already queued shares this write and this fsync.
            let mut group = vec![first];
            while let Ok(request) = receiver.try_recv() {
                group.push(request);
                if group.len() >= 1024 {
                    break;
                }
            }
            self.handle(group);
        }
        if let Err(error) = self.wal.close() {
            tracing::warn!(%error, "closing the write-ahead log");
        }
    }

    fn handle(&mut self, group: Vec<Request>) {
        self.wait_for_flusher();
        let mut appended: Vec<(MemBatch, Ack)> = Vec::new();
        let mut flushes = Vec::new();
        let mut failure: Option<String> = None;
        for request in group {
            match request {
                Request::Append(append, ack) => {
                    let Append { encoded, payload } = *append;
                    let first_seq = self.next_seq;
                    let rows = encoded.batch.num_rows() as u64;
                    let result =
                        if rows == 0 { Ok(()) } else { self.wal.append_batch(first_seq, &payload) };
                    self.buffers.give(payload);
                    match result {
                        Ok(()) => {
                            self.next_seq += rows;
                            appended.push((MemBatch::new(first_seq, encoded), ack));
                        }
                        Err(error) => {
                            failure = Some(error.to_string());
                            let _ = ack.send(Err(error));
                        }
                    }
                }
                Request::Flush(ack) => flushes.push(ack),
            }
        }
        let synced = match self.config.fsync {
            FsyncPolicy::Always => self.wal.sync(),
            FsyncPolicy::Interval(interval) if self.last_sync.elapsed() >= interval => {
                self.last_sync = Instant::now();
                self.wal.sync()
            }
            _ => self.wal.flush(),
        };
        if let Err(error) = synced {
            failure = Some(error.to_string());
        }
        let unsealed = {
            let mut state = write_state(&self.state);
            for (batch, ack) in appended {
                if let Some(message) = &failure {
                    let _ = ack.send(Err(Error::Internal(format!("write-ahead log: {message}"))));
                    continue;
                }
                if batch.rows() == 0 {
                    // An empty append: its range is empty, just before the next sequence.
                    let _ = ack.send(Ok((batch.first_seq, batch.first_seq - 1)));
                    continue;
                }
                let range = (batch.first_seq, batch.last_seq);
                state.mem.push(Arc::new(batch));
                let _ = ack.send(Ok(range));
            }
            state
                .mem
                .iter()
                .filter(|batch| batch.first_seq > self.sealed_upto)
                .fold((0, 0), |(events, bytes), batch| {
                    (events + batch.rows(), bytes + batch.mem_bytes)
                })
        };
        if !flushes.is_empty()
            || unsealed.0 >= self.config.flush_events
            || unsealed.1 >= self.config.flush_bytes
        {
            self.seal(flushes);
        }
    }

    /// Hands everything appended so far to the flusher, after starting a new log file so
    /// that the flushed records end exactly at a file boundary.
    fn seal(&mut self, acks: Vec<FlushAck>) {
        let upto = self.next_seq - 1;
        if upto > self.sealed_upto {
            if let Err(error) = self.wal.sync().and_then(|()| self.wal.rotate(self.next_seq)) {
                for ack in acks {
                    let _ = ack.send(Err(Error::Internal(error.to_string())));
                }
                return;
            }
            self.sealed_upto = upto;
        }
        // Jobs run in order, so a flush request with nothing new is answered once the
        // flushes before it are done.
        let _ = self.jobs.send(FlushJob { upto: self.sealed_upto, acks });
    }

    /// Bounds memory: while the flusher is far behind, appends wait. A flush that failed
    /// (a full disk, say) is retried every few seconds meanwhile.
    fn wait_for_flusher(&self) {
        let mut retry = Instant::now();
        while self.config.over_bound(&read_state(&self.state), 1) {
            if retry.elapsed() > Duration::from_secs(5) {
                let _ = self.jobs.send(FlushJob { upto: self.sealed_upto, acks: Vec::new() });
                retry = Instant::now();
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

struct Flusher {
    segments_dir: PathBuf,
    wal_dir: PathBuf,
    state: Arc<RwLock<State>>,
    config: StoreConfig,
}

impl Flusher {
    fn run(self, jobs: &Receiver<FlushJob>) {
        while let Ok(job) = jobs.recv() {
            let result = self.flush(job.upto);
            if let Err(error) = &result {
                tracing::error!(%error, "flushing the event store failed; retrying at the next flush");
            }
            for ack in job.acks {
                let _ = ack.send(
                    result.as_ref().map(|_| ()).map_err(|error| Error::Internal(error.to_string())),
                );
            }
            if result.is_ok()
                && let Err(error) = self.compact()
            {
                tracing::error!(%error, "compacting the event store failed");
            }
        }
    }

    /// Writes the sealed in-memory batches up to `upto` as one segment per source (sources
    /// in parallel), records the flush, then drops the log files it covers.
    fn flush(&self, upto: u64) -> Result<()> {
        let batches: Vec<Arc<MemBatch>> = read_state(&self.state)
            .mem
            .iter()
            .filter(|batch| batch.last_seq <= upto)
            .cloned()
            .collect();
        let Some(first_seq) = batches.first().map(|batch| batch.first_seq) else {
            return Ok(());
        };
        let by_source = rows_by_source(&batches)?;
        let records: Vec<&RecordBatch> = batches.iter().map(|batch| &batch.batch).collect();
        let times = records
            .iter()
            .map(|batch| {
                batch
                    .column(0)
                    .as_any()
                    .downcast_ref::<TimestampMicrosecondArray>()
                    .ok_or_else(|| Error::Internal("time column type".into()))
            })
            .collect::<Result<Vec<_>>>()?;
        // Sources are written in parallel: each worker takes the next source not yet taken.
        let next = std::sync::atomic::AtomicUsize::new(0);
        let workers =
            std::thread::available_parallelism().map_or(1, usize::from).min(by_source.len());
        let mut written: Vec<(usize, Result<SegmentInfo>)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    scope.spawn(|| {
                        let mut done = Vec::new();
                        loop {
                            let idx = next.fetch_add(1, Ordering::Relaxed);
                            let Some((source, (rows, raw_bytes))) = by_source.get(idx) else {
                                return done;
                            };
                            let dir = self.segments_dir.join(source);
                            let range = (first_seq, upto);
                            let info =
                                write_source(&dir, &records, &times, rows, range, *raw_bytes);
                            done.push((idx, info));
                        }
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|handle| {
                    handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        });
        written.sort_by_key(|(idx, _)| *idx);
        let written = written.into_iter().map(|(_, info)| info).collect::<Result<Vec<_>>>()?;
        segment::write_flushed(&self.segments_dir, upto)?;
        {
            let mut state = write_state(&self.state);
            state.mem.retain(|batch| batch.last_seq > upto);
            state.segments.extend(written.into_iter().map(Segment::new));
        }
        wal::remove_upto(&self.wal_dir, upto)
    }

    /// Merges runs of consecutive segments of similar size, per source ([`runs_to_compact`]).
    fn compact(&self) -> Result<()> {
        let segments = read_state(&self.state).segments.clone();
        let mut by_source: BTreeMap<&str, Vec<&Arc<Segment>>> = BTreeMap::new();
        for segment in &segments {
            by_source.entry(&segment.info.source).or_default().push(segment);
        }
        let target = self.config.compact_target_events;
        for (_, mut list) in by_source {
            if list.len() < self.config.compact_min_segments.max(2) {
                continue;
            }
            list.sort_by_key(|segment| segment.info.first_seq);
            for run in runs_to_compact(&list, target, self.config.compact_min_segments) {
                let infos: Vec<SegmentInfo> =
                    run.iter().map(|segment| segment.info.clone()).collect();
                let merged = segment::compact_into_new(&infos)?;
                let mut state = write_state(&self.state);
                for old in &run {
                    old.obsolete.store(true, Ordering::Release);
                }
                state.segments.retain(|segment| !run.iter().any(|old| Arc::ptr_eq(old, segment)));
                state.segments.push(Segment::new(merged));
                state.segments.sort_by(|a, b| {
                    (a.info.first_seq, &a.info.source).cmp(&(b.info.first_seq, &b.info.source))
                });
            }
        }
        Ok(())
    }
}

/// The rows of each source (its directory name) in the batches, with their share of the raw
/// bytes, sources in name order.
fn rows_by_source(batches: &[Arc<MemBatch>]) -> Result<Vec<(String, SourceRows)>> {
    let mut groups: Vec<(String, SourceRows)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let dataset_column = schema::schema()
        .index_of("event.dataset")
        .map_err(|error| Error::Internal(error.to_string()))?;
    for (idx, batch) in batches.iter().enumerate() {
        let datasets = batch
            .batch
            .column(dataset_column)
            .as_any()
            .downcast_ref::<StringArray>()
            .ok_or_else(|| Error::Internal("event.dataset column type".into()))?;
        let share = batch.raw_bytes / (batch.rows().max(1) as u64);
        // Sources come in runs, so the directory is looked up once per run.
        let mut last: Option<(Option<&str>, usize)> = None;
        for row in 0..batch.rows() {
            let dataset = datasets.is_valid(row).then(|| datasets.value(row));
            let group = match last {
                Some((previous, group)) if previous == dataset => group,
                _ => {
                    let source = segment::source_dir(dataset);
                    let group = *index.entry(source.clone()).or_insert_with(|| {
                        groups.push((source, SourceRows::default()));
                        groups.len() - 1
                    });
                    last = Some((dataset, group));
                    group
                }
            };
            let rows = &mut groups[group].1;
            rows.0.push((idx, row));
            rows.1 += share;
        }
    }
    groups.sort_by(|left, right| left.0.cmp(&right.0));
    Ok(groups)
}

/// Writes one source's rows, sorted by time (ties in sequence order), as a segment.
fn write_source(
    dir: &Path,
    batches: &[&RecordBatch],
    times: &[&TimestampMicrosecondArray],
    rows: &[(usize, usize)],
    range: (u64, u64),
    raw_bytes: u64,
) -> Result<SegmentInfo> {
    let mut sorted = rows.to_vec();
    sorted.sort_by_key(|&(batch, row)| times[batch].value(row));
    segment::write_gathered(dir, batches, &sorted, range, raw_bytes)
}

/// Picks runs of consecutive segments to merge, newest first. Going back from the newest
/// segment, an older one joins the run while it holds no more events than the run so far and
/// the run stays within the target; a run is merged once it has `min_segments` members. So
/// segments of similar size merge (eight flushes into one, eight of those into one, ...), a
/// big segment is never rewritten to absorb a few small ones, and each event is rewritten
/// about log_min(events) times instead of once per compaction.
fn runs_to_compact<'a>(
    list: &[&'a Arc<Segment>],
    target: u64,
    min_segments: usize,
) -> Vec<Vec<&'a Arc<Segment>>> {
    let min_segments = min_segments.max(2);
    let mut runs = Vec::new();
    let mut end = list.len();
    while end > 0 {
        let mut start = end - 1;
        let mut total = list[start].info.events;
        while start > 0 && end - start < min_segments {
            let older = list[start - 1].info.events;
            if older > total || total + older > target {
                break;
            }
            total += older;
            start -= 1;
        }
        if end - start >= min_segments {
            runs.push(list[start..end].to_vec());
        }
        end = start;
    }
    runs.reverse();
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segments(sizes: &[u64]) -> Vec<Arc<Segment>> {
        sizes
            .iter()
            .enumerate()
            .map(|(idx, events)| {
                Segment::new(SegmentInfo {
                    path: PathBuf::from(format!("seg-{idx}")),
                    source: "dns".into(),
                    first_seq: idx as u64,
                    last_seq: idx as u64,
                    events: *events,
                    min_micros: 0,
                    max_micros: 0,
                    raw_bytes: 0,
                    file_bytes: 0,
                })
            })
            .collect()
    }

    fn runs(sizes: &[u64], target: u64, min: usize) -> Vec<Vec<u64>> {
        let list = segments(sizes);
        let refs: Vec<&Arc<Segment>> = list.iter().collect();
        runs_to_compact(&refs, target, min)
            .into_iter()
            .map(|run| run.iter().map(|segment| segment.info.events).collect())
            .collect()
    }

    #[test]
    fn similar_segments_merge_and_big_ones_are_left_alone() {
        // Eight flushes of similar size merge; seven do not yet.
        assert_eq!(
            runs(&[10, 12, 9, 10, 11, 10, 10, 10], 1_000, 8),
            vec![vec![10, 12, 9, 10, 11, 10, 10, 10]]
        );
        assert!(runs(&[10; 7], 1_000, 8).is_empty());
        // A merged segment is not rewritten to take in the next small ones...
        assert!(runs(&[80, 10, 10, 10, 10, 10, 10, 10], 1_000, 8).is_empty());
        // ...but eight merged segments merge in turn.
        assert_eq!(runs(&[80; 9], 1_000, 8), vec![vec![80; 8]]);
        // The target caps a run.
        assert!(runs(&[400; 8], 1_000, 8).is_empty());
        // Two complete runs in one pass, newest first, given back in sequence order.
        assert_eq!(runs(&[10; 16], 1_000, 8), vec![vec![10; 8], vec![10; 8]]);
    }
}
