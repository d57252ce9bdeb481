//! Syslog inputs of `palisade serve`: UDP (one datagram, one message), TCP (RFC 6587
//! framing, octet-counted or LF-terminated, detected per frame) and TLS (RFC 5425: the same
//! framing inside a TLS session, see [`crate::tls`]).
//!
//! ```text
//!  socket ─> frames ─> bounded channel ─> batcher
//!        ─> append task: parse (RFC 5424/3164, then the program's parser) ─> pipeline ─> store
//! ```
//! Each socket read travels as one batch of frames; the batcher merges batches into appends
//! of a few thousand messages and keeps two in flight, each on a blocking thread, so the two
//! cores parse, detect and encode in parallel while the async workers only read sockets. An
//! event is built and dropped on the same thread, which the allocator does much more cheaply
//! than a free from another thread.
//! The channel is bounded: when storage lags, TCP readers wait on it and stop reading, so the
//! sender's TCP window closes (backpressure); UDP readers wait too and the kernel's socket
//! buffer absorbs or drops the overflow, which the kernel counts. Nothing already read is
//! dropped by us. Every message is stored: a line no parser understands is kept whole and
//! tagged (`_syslog_unparsed`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use palisade_event::{Event, Value};
use palisade_parse::syslog::{self, Framer, SyslogContext};
use tokio::io::AsyncReadExt as _;
use tokio::sync::mpsc;

use crate::metrics::{InputMetrics, Metrics};
use crate::pipeline::Pipeline;
use crate::turnstile::Turnstile;

/// Settings of the syslog inputs.
#[derive(Debug, Clone)]
pub struct SyslogOptions {
    /// Largest message; longer TCP frames are cut and tagged.
    pub max_message_bytes: usize,
    /// Zone of timestamps that carry none (BSD syslog).
    pub time_zone: jiff::tz::TimeZone,
    /// Most concurrent TCP connections.
    pub max_connections: usize,
}

impl Default for SyslogOptions {
    fn default() -> Self {
        Self {
            max_message_bytes: 64 * 1024,
            time_zone: jiff::tz::TimeZone::system(),
            max_connections: 1024,
        }
    }
}

/// Messages received from syslog and waiting to be parsed and stored, with a bound.
#[derive(Debug, Clone)]
pub struct SyslogSink {
    sender: mpsc::Sender<Received>,
}

/// The messages of one socket read (or one datagram), as they arrived: parsing waits for the
/// append task, so an event is built and freed on one thread (cheaper for the allocator
/// than freeing on another) and the async workers only read sockets.
#[derive(Debug)]
struct Received {
    frames: Vec<syslog::Frame>,
    peer: Value,
    /// When they were read: the reference for timestamps without a year or a zone.
    at: jiff::Timestamp,
    time_zone: jiff::tz::TimeZone,
    metrics: Arc<InputMetrics>,
}

/// Batches waiting for the batcher at most; a batch is one socket read (at most 64 KiB of
/// input, a few hundred messages) or one datagram. With the appends in flight this bounds
/// what syslog holds in memory besides the store's own bound.
const QUEUE: usize = 32;
/// Messages per append, about.
const BATCH: usize = 4096;
/// Appends in flight at once: their parsing, encoding and store appends overlap, while their
/// detection takes turns in the order the batches were formed. Four, so that while one batch
/// waits for its turn and another for the log's fsync, two others can still be parsed on a
/// 2-core machine: four measured 7 % more events/s than three (docs/benchmarks.md), for about
/// 40 MiB more at peak.
const CONCURRENT_APPENDS: usize = 4;

impl SyslogSink {
    /// Starts the batcher that parses received messages and appends them to the store.
    #[must_use]
    pub fn start(pipeline: Pipeline, metrics: Arc<Metrics>) -> Self {
        let (sender, receiver) = mpsc::channel(QUEUE);
        tokio::spawn(batcher(receiver, pipeline, metrics));
        Self { sender }
    }
}

async fn batcher(
    mut receiver: mpsc::Receiver<Received>,
    pipeline: Pipeline,
    metrics: Arc<Metrics>,
) {
    let mut running = tokio::task::JoinSet::new();
    // Batches are prepared several at a time but detected in the order received.
    let turnstile = Turnstile::new();
    while let Some(first) = receiver.recv().await {
        let mut count = first.frames.len();
        let mut batches = vec![first];
        while count < BATCH
            && let Ok(batch) = receiver.try_recv()
        {
            count += batch.frames.len();
            batches.push(batch);
        }
        while running.len() >= CONCURRENT_APPENDS {
            if let Some(outcome) = running.join_next().await {
                count_stored(outcome, &metrics);
            }
        }
        let pipeline = pipeline.clone();
        let ticket = turnstile.ticket();
        running.spawn_blocking(move || {
            // Parsed as the pipeline takes them, so each event is parsed, matched and
            // encoded in one go.
            let failed = vec![std::cell::Cell::new(0u64); batches.len()];
            let events =
                batches.iter().zip(&failed).flat_map(|(batch, failed)| parse(batch, failed));
            let outcome = pipeline.append_in_turn(count, events, Some(ticket));
            for (batch, failed) in batches.iter().zip(failed) {
                // Counted once per batch: two threads adding to one counter per event
                // would pass its cache line back and forth.
                let (messages, failed) = (batch.frames.len() as u64, failed.get());
                batch.metrics.parsed.inc_by(messages - failed);
                batch.metrics.failed.inc_by(failed);
                batch.metrics.queued.dec_by(i64::try_from(messages).unwrap_or(i64::MAX));
            }
            (count as u64, outcome)
        });
    }
    while let Some(outcome) = running.join_next().await {
        count_stored(outcome, &metrics);
    }
}

/// The events of one read's messages (RFC 5424/3164, then the program's parser), parsed as
/// they are taken; those that no parser understood are counted in `failed`.
fn parse<'b>(
    batch: &'b Received,
    failed: &'b std::cell::Cell<u64>,
) -> impl Iterator<Item = Event> + 'b {
    let ctx = SyslogContext::new(batch.at, batch.time_zone.clone())
        .with_source_address(batch.peer.clone());
    batch.frames.iter().map(move |frame| {
        let (event, parsed) =
            palisade_parse::line::syslog_event(&frame.bytes, &ctx, frame.truncated);
        failed.set(failed.get() + u64::from(!parsed));
        event
    })
}

type AppendOutcome = Result<(u64, palisade_store::Result<(u64, u64)>), tokio::task::JoinError>;

fn count_stored(outcome: AppendOutcome, metrics: &Metrics) {
    match outcome {
        Ok((count, Ok(_))) => {
            metrics.syslog_stored.inc_by(count);
        }
        Ok((count, Err(error))) => {
            metrics.syslog_store_errors.inc_by(count);
            tracing::error!(%error, count, "storing syslog events failed");
        }
        Err(error) => tracing::error!(%error, "the syslog store task failed"),
    }
}

/// Queues one read's messages for parsing and storing, counting them; false once the store
/// side is gone. Waits while the queue is full: that is the backpressure on the sender.
async fn submit(
    frames: Vec<syslog::Frame>,
    peer: &Value,
    options: &SyslogOptions,
    sink: &SyslogSink,
    metrics: &Arc<InputMetrics>,
) -> bool {
    if frames.is_empty() {
        return true;
    }
    let count = frames.len() as u64;
    metrics.received.inc_by(count);
    metrics.queued.inc_by(i64::try_from(count).unwrap_or(i64::MAX));
    let received = Received {
        frames,
        peer: peer.clone(),
        at: jiff::Timestamp::now(),
        time_zone: options.time_zone.clone(),
        metrics: Arc::clone(metrics),
    };
    if sink.sender.send(received).await.is_ok() {
        true
    } else {
        metrics.queued.dec_by(i64::try_from(count).unwrap_or(i64::MAX));
        false
    }
}

/// Receives datagrams until the task is dropped.
pub async fn run_udp(
    socket: tokio::net::UdpSocket,
    sink: SyslogSink,
    options: SyslogOptions,
    metrics: Arc<InputMetrics>,
) {
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let (len, peer) = match socket.recv_from(&mut buffer).await {
            Ok(received) => received,
            Err(error) => {
                tracing::warn!(%error, "syslog UDP receive failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let peer = Value::from(peer.to_string());
        let frame = syslog::Frame { bytes: buffer[..len].to_vec(), truncated: false };
        if !submit(vec![frame], &peer, &options, &sink, &metrics).await {
            return;
        }
    }
}

/// Accepts TCP connections until the task is dropped.
pub async fn run_tcp(
    listener: tokio::net::TcpListener,
    sink: SyslogSink,
    options: SyslogOptions,
    metrics: Arc<InputMetrics>,
) {
    let connections = Arc::new(tokio::sync::Semaphore::new(options.max_connections));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(%error, "syslog TCP accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = Arc::clone(&connections).try_acquire_owned() else {
            tracing::warn!(%peer, "too many syslog connections; refusing one");
            continue;
        };
        let (sink, options, metrics) = (sink.clone(), options.clone(), Arc::clone(&metrics));
        tokio::spawn(async move {
            read_stream(stream, peer, sink, options, metrics).await;
            drop(permit);
        });
    }
}

/// Longest a TLS client may take to complete its handshake; a client that stalls longer
/// loses its connection slot.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts TLS connections until the task is dropped. The handshake runs in the connection's
/// own task, so a slow or hostile client cannot hold up the others.
pub async fn run_tls(
    listener: tokio::net::TcpListener,
    config: Arc<rustls::ServerConfig>,
    sink: SyslogSink,
    options: SyslogOptions,
    metrics: Arc<InputMetrics>,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let connections = Arc::new(tokio::sync::Semaphore::new(options.max_connections));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(%error, "syslog TLS accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = Arc::clone(&connections).try_acquire_owned() else {
            tracing::warn!(%peer, "too many syslog connections; refusing one");
            continue;
        };
        let (acceptor, sink, options, metrics) =
            (acceptor.clone(), sink.clone(), options.clone(), Arc::clone(&metrics));
        tokio::spawn(async move {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => read_stream(tls, peer, sink, options, metrics).await,
                Ok(Err(error)) => {
                    metrics.tls_failures.inc();
                    tracing::warn!(%error, %peer, "syslog TLS handshake failed");
                }
                Err(_) => {
                    metrics.tls_failures.inc();
                    tracing::warn!(%peer, "syslog TLS handshake timed out");
                }
            }
            drop(permit);
        });
    }
}

/// Reads one connection's frames until it closes.
pub async fn read_stream(
    mut stream: impl tokio::io::AsyncRead + Unpin,
    peer: SocketAddr,
    sink: SyslogSink,
    options: SyslogOptions,
    metrics: Arc<InputMetrics>,
) {
    let mut framer = Framer::new(options.max_message_bytes);
    let mut buffer = vec![0u8; 64 * 1024];
    let mut frames = Vec::new();
    let peer_text = Value::from(peer.to_string());
    loop {
        let read = match stream.read(&mut buffer).await {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) => {
                tracing::debug!(%error, %peer, "syslog connection ended");
                break;
            }
        };
        framer.push(&buffer[..read], &mut frames);
        if !deliver(&mut frames, &peer_text, &sink, &options, &metrics).await {
            return;
        }
    }
    frames.extend(framer.finish());
    deliver(&mut frames, &peer_text, &sink, &options, &metrics).await;
}

async fn deliver(
    frames: &mut Vec<syslog::Frame>,
    peer: &Value,
    sink: &SyslogSink,
    options: &SyslogOptions,
    metrics: &Arc<InputMetrics>,
) -> bool {
    submit(std::mem::take(frames), peer, options, sink, metrics).await
}
