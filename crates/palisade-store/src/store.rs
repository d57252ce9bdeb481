//! The store: one writer thread that owns the write-ahead log (group commit), an in-memory
//! table of acknowledged events not yet in a segment, and the list of segments.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

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
    /// Flush the in-memory table to a segment at this many events.
    pub flush_events: usize,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self { fsync: FsyncPolicy::Always, flush_events: 256 * 1024 }
    }
}

/// Acknowledged events not yet in a segment, in sequence order.
#[derive(Debug)]
pub(crate) struct MemBatch {
    pub(crate) first_seq: u64,
    pub(crate) last_seq: u64,
    pub(crate) events: Vec<Event>,
    pub(crate) raw_bytes: u64,
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) mem: Vec<Arc<MemBatch>>,
    pub(crate) segments: Vec<SegmentInfo>,
}

/// Counts for `palisade store stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    /// Events stored (segments and in-memory table).
    pub events: u64,
    /// Events not yet flushed to a segment.
    pub unflushed_events: u64,
    /// Parquet segments.
    pub segments: usize,
    /// Bytes of segments on disk.
    pub segment_bytes: u64,
    /// Bytes of write-ahead log on disk.
    pub wal_bytes: u64,
    /// Bytes of original input the stored events came from.
    pub raw_bytes: u64,
    /// Earliest event time, RFC 3339.
    pub first_event: Option<String>,
    /// Latest event time, RFC 3339.
    pub last_event: Option<String>,
}

/// Where the writer reports an append's sequence range, or its failure.
type Ack = SyncSender<Result<(u64, u64)>>;

enum Request {
    Append(Vec<Event>, Ack),
    Flush(SyncSender<Result<()>>),
}

/// An open store. Appends go through one writer thread; queries read snapshots and never
/// block it.
pub struct Store {
    dir: PathBuf,
    state: Arc<RwLock<State>>,
    requests: Option<Sender<Request>>,
    writer: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("dir", &self.dir).finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (or creates) a store in `dir`, replaying the write-ahead log.
    ///
    /// # Errors
    /// Returns IO errors and corrupt-file errors.
    pub fn open(dir: &Path, config: StoreConfig) -> Result<Self> {
        let wal_dir = dir.join("wal");
        let segments_dir = dir.join("segments");
        for sub in [&wal_dir, &segments_dir] {
            fs_err::create_dir_all(sub).map_err(Error::io("creating", sub))?;
        }
        let segments = segment::list(&segments_dir)?;
        let flushed = segments.iter().map(|info| info.last_seq).max().unwrap_or(0);
        let mut replayed = Vec::new();
        let mut raw_bytes = 0;
        let highest = wal::replay(&wal_dir, flushed, |seq, event| {
            raw_bytes += raw_size(&event, 0);
            replayed.push((seq, event));
        })?;
        let mut state = State { mem: Vec::new(), segments };
        if let (Some((first, _)), Some((last, _))) = (replayed.first(), replayed.last()) {
            let (first_seq, last_seq) = (*first, *last);
            state.mem.push(Arc::new(MemBatch {
                first_seq,
                last_seq,
                events: replayed.into_iter().map(|(_, event)| event).collect(),
                raw_bytes,
            }));
        }
        let next_seq = highest + 1;
        let wal = WalWriter::create(&wal_dir, next_seq)?;
        let state = Arc::new(RwLock::new(state));
        let (sender, receiver) = mpsc::channel();
        let writer_state = Arc::clone(&state);
        let writer = std::thread::Builder::new()
            .name("palisade-store-writer".into())
            .spawn(move || {
                Writer {
                    wal,
                    wal_dir,
                    segments_dir,
                    state: writer_state,
                    next_seq,
                    config,
                    last_sync: Instant::now(),
                }
                .run(&receiver)
            })
            .map_err(|error| Error::Internal(format!("starting the writer thread: {error}")))?;
        Ok(Self { dir: dir.to_owned(), state, requests: Some(sender), writer: Some(writer) })
    }

    /// Appends events; returns once they are durable under the fsync policy, with their first
    /// and last sequence numbers.
    ///
    /// # Errors
    /// Returns IO errors; on error none of the events is acknowledged.
    pub fn append(&self, mut events: Vec<Event>) -> Result<(u64, u64)> {
        // An event without a time of its own is stamped with its arrival, once, so the log,
        // the in-memory table and the segment all agree on it.
        let now = jiff::Timestamp::now();
        for event in &mut events {
            if event.timestamp().is_none() {
                event.set_timestamp(Some(now));
            }
        }
        let (ack, wait) = mpsc::sync_channel(1);
        self.send(Request::Append(events, ack))?;
        wait.recv().map_err(|_| Error::Internal("the writer stopped".into()))?
    }

    /// Writes every acknowledged event to a segment now.
    ///
    /// # Errors
    /// Returns IO errors.
    pub fn flush(&self) -> Result<()> {
        let (ack, wait) = mpsc::sync_channel(1);
        self.send(Request::Flush(ack))?;
        wait.recv().map_err(|_| Error::Internal("the writer stopped".into()))?
    }

    fn send(&self, request: Request) -> Result<()> {
        self.requests
            .as_ref()
            .ok_or_else(|| Error::Internal("store closed".into()))?
            .send(request)
            .map_err(|_| Error::Internal("the writer stopped".into()))
    }

    /// Returns the data directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn snapshot(&self) -> (Vec<SegmentInfo>, Vec<Arc<MemBatch>>) {
        let state = self.state.read().unwrap_or_else(std::sync::PoisonError::into_inner);
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
        for info in &segments {
            stats.events += info.events;
            stats.segment_bytes += info.file_bytes;
            stats.raw_bytes += info.raw_bytes;
            min = min.min(info.min_micros);
            max = max.max(info.max_micros);
        }
        for batch in &mem {
            stats.unflushed_events += batch.events.len() as u64;
            stats.raw_bytes += batch.raw_bytes;
            for event in &batch.events {
                if let Some(ts) = event.timestamp() {
                    min = min.min(ts.as_microsecond());
                    max = max.max(ts.as_microsecond());
                }
            }
        }
        stats.events += stats.unflushed_events;
        for (_, path) in wal::files(&self.dir.join("wal"))? {
            stats.wal_bytes += fs_err::metadata(&path).map_err(Error::io("reading", &path))?.len();
        }
        let format =
            |micros: i64| jiff::Timestamp::from_microsecond(micros).ok().map(|ts| ts.to_string());
        if min <= max {
            stats.first_event = format(min);
            stats.last_event = format(max);
        }
        Ok(stats)
    }

    /// Deletes segments whose newest event is older than `max_age`, then the oldest segments
    /// until the segments fit in `max_bytes`. Returns the number of segments removed.
    ///
    /// # Errors
    /// Returns IO errors.
    pub fn apply_retention(
        &self,
        max_age: Option<Duration>,
        max_bytes: Option<u64>,
    ) -> Result<usize> {
        let now = jiff::Timestamp::now().as_microsecond();
        let mut state = self.state.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut removed = 0;
        let mut keep = Vec::new();
        let mut by_age: Vec<SegmentInfo> = std::mem::take(&mut state.segments);
        by_age.sort_by_key(|info| info.max_micros);
        let mut total: u64 = by_age.iter().map(|info| info.file_bytes).sum();
        for info in by_age {
            let too_old = max_age.is_some_and(|age| {
                info.max_micros < now - i64::try_from(age.as_micros()).unwrap_or(i64::MAX)
            });
            let too_big = max_bytes.is_some_and(|limit| total > limit);
            // The newest segment also marks how far the log is flushed; keep its name even
            // when it expires by emptying it would be more complex: delete it like the others,
            // the log files it covered are gone already.
            if too_old || too_big {
                fs_err::remove_file(&info.path).map_err(Error::io("removing", &info.path))?;
                total -= info.file_bytes;
                removed += 1;
            } else {
                keep.push(info);
            }
        }
        keep.sort_by_key(|info| info.first_seq);
        state.segments = keep;
        Ok(removed)
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        self.requests.take();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

fn raw_size(event: &Event, encoded: usize) -> u64 {
    event
        .get("event.original")
        .and_then(palisade_event::Value::to_text)
        .map_or(encoded, |text| text.len()) as u64
}

struct Writer {
    wal: WalWriter,
    wal_dir: PathBuf,
    segments_dir: PathBuf,
    state: Arc<RwLock<State>>,
    next_seq: u64,
    config: StoreConfig,
    last_sync: Instant,
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
        let _ = self.wal.sync();
    }

    fn handle(&mut self, group: Vec<Request>) {
        let mut appended: Vec<(MemBatch, Ack)> = Vec::new();
        let mut flushes = Vec::new();
        let mut failure: Option<String> = None;
        for request in group {
            match request {
                Request::Append(events, ack) => {
                    let first_seq = self.next_seq;
                    let mut raw_bytes = 0;
                    let mut result = Ok(());
                    for event in &events {
                        let payload = wal::encode_event(event);
                        raw_bytes += raw_size(event, payload.len());
                        result = self.wal.append(self.next_seq, &payload);
                        if result.is_err() {
                            break;
                        }
                        self.next_seq += 1;
                    }
                    match result {
                        Ok(()) => appended.push((
                            MemBatch { first_seq, last_seq: self.next_seq - 1, events, raw_bytes },
                            ack,
                        )),
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
        {
            let mut state = self.state.write().unwrap_or_else(std::sync::PoisonError::into_inner);
            for (batch, ack) in appended {
                if let Some(message) = &failure {
                    let _ = ack.send(Err(Error::Internal(format!("write-ahead log: {message}"))));
                    continue;
                }
                let range = (batch.first_seq, batch.last_seq);
                if !batch.events.is_empty() {
                    state.mem.push(Arc::new(batch));
                }
                let _ = ack.send(Ok(range));
            }
        }
        let unflushed: usize = self
            .state
            .read()
            .map(|state| state.mem.iter().map(|batch| batch.events.len()).sum())
            .unwrap_or(0);
        if !flushes.is_empty() || unflushed >= self.config.flush_events {
            let result = self.flush();
            for ack in flushes {
                let _ = ack.send(
                    result.as_ref().copied().map_err(|error| Error::Internal(error.to_string())),
                );
            }
        }
    }

    /// Writes the in-memory table to a segment, then drops the log files it covers.
    fn flush(&mut self) -> Result<()> {
        let batches: Vec<Arc<MemBatch>> =
            self.state.read().map(|state| state.mem.clone()).unwrap_or_default();
        let (Some(first), Some(last)) = (batches.first(), batches.last()) else { return Ok(()) };
        let (first_seq, last_seq) = (first.first_seq, last.last_seq);
        let events: Vec<&Event> = batches.iter().flat_map(|batch| batch.events.iter()).collect();
        let raw_bytes = batches.iter().map(|batch| batch.raw_bytes).sum();
        let now = jiff::Timestamp::now().as_microsecond();
        let record_batch = schema::to_batch(&events, now);
        let info =
            segment::write(&self.segments_dir, &record_batch, first_seq, last_seq, raw_bytes)?;
        {
            let mut state = self.state.write().unwrap_or_else(std::sync::PoisonError::into_inner);
            state.mem.retain(|batch| batch.first_seq > last_seq);
            state.segments.push(info);
        }
        self.wal.rotate(self.next_seq)?;
        wal::remove_upto(&self.wal_dir, last_seq, self.wal.path())
    }
}
