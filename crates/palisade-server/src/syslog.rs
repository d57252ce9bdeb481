//! Syslog inputs of `palisade serve`: UDP (one datagram, one message), TCP (RFC 6587
//! framing, octet-counted or LF-terminated, detected per frame) and TLS (RFC 5425: the same
//! framing inside a TLS session, see [`crate::tls`]).
//!
//! ```text
//!  socket ─> frames ─> parse (RFC 5424/3164, then auth-log parsers) ─> Event
//!        ─> bounded channel ─> batcher ─> pipeline (two appends at a time) ─> store
//! ```
//! Each socket read is parsed on the connection's own task and travels as one batch, so
//! connections parse on every core; the batcher merges batches into appends of a few
//! thousand events and keeps two in flight, so encoding one overlaps with storing the other.
//! The channel is bounded: when storage lags, TCP readers wait on it and stop reading, so the
//! sender's TCP window closes (backpressure); UDP readers wait too and the kernel's socket
//! buffer absorbs or drops the overflow, which the kernel counts. Nothing already parsed is
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

/// Events parsed from syslog waiting to be stored, with a bound.
#[derive(Debug, Clone)]
pub struct SyslogSink {
    sender: mpsc::Sender<Vec<Event>>,
}

/// Batches waiting for the batcher at most; a batch is one socket read (at most 64 KiB of
/// input, a few hundred events) or one datagram. With the appends in flight this bounds what
/// syslog holds in memory besides the store's own bound.
const QUEUE: usize = 32;
/// Events per append, about.
const BATCH: usize = 4096;
/// Appends in flight at once.
const CONCURRENT_APPENDS: usize = 2;

impl SyslogSink {
    /// Starts the batcher that appends parsed events to the store.
    #[must_use]
    pub fn start(pipeline: Pipeline, metrics: Arc<Metrics>) -> Self {
        let (sender, receiver) = mpsc::channel(QUEUE);
        tokio::spawn(batcher(receiver, pipeline, metrics));
        Self { sender }
    }
}

async fn batcher(
    mut receiver: mpsc::Receiver<Vec<Event>>,
    pipeline: Pipeline,
    metrics: Arc<Metrics>,
) {
    let mut running = tokio::task::JoinSet::new();
    while let Some(mut events) = receiver.recv().await {
        while events.len() < BATCH
            && let Ok(batch) = receiver.try_recv()
        {
            events.extend(batch);
        }
        while running.len() >= CONCURRENT_APPENDS {
            if let Some(outcome) = running.join_next().await {
                count_stored(outcome, &metrics);
            }
        }
        let count = events.len() as u64;
        let pipeline = pipeline.clone();
        running.spawn_blocking(move || (count, pipeline.append(events)));
    }
    while let Some(outcome) = running.join_next().await {
        count_stored(outcome, &metrics);
    }
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

/// Parses messages and queues them as one batch, counting them; false once the store side is
/// gone.
async fn submit<'a>(
    messages: impl Iterator<Item = (&'a [u8], bool)>,
    peer: &Value,
    ctx: &SyslogContext,
    sink: &SyslogSink,
    metrics: &InputMetrics,
) -> bool {
    let mut events = Vec::new();
    let mut failed = 0;
    for (bytes, truncated) in messages {
        let (mut event, parsed) = palisade_parse::line::syslog_event(bytes, ctx, truncated);
        event.insert("log.source.address", peer.clone());
        failed += u64::from(!parsed);
        events.push(event);
    }
    if events.is_empty() {
        return true;
    }
    let count = events.len() as u64;
    metrics.received.inc_by(count);
    metrics.parsed.inc_by(count - failed);
    metrics.failed.inc_by(failed);
    metrics.queued.inc_by(i64::try_from(count).unwrap_or(i64::MAX));
    let sent = sink.sender.send(events).await;
    metrics.queued.dec_by(i64::try_from(count).unwrap_or(i64::MAX));
    sent.is_ok()
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
        let ctx = SyslogContext::new(jiff::Timestamp::now(), options.time_zone.clone());
        let peer = Value::from(peer.to_string());
        if !submit(std::iter::once((&buffer[..len], false)), &peer, &ctx, &sink, &metrics).await {
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
    metrics: &InputMetrics,
) -> bool {
    let ctx = SyslogContext::new(jiff::Timestamp::now(), options.time_zone.clone());
    let delivered = submit(
        frames.iter().map(|frame| (&frame.bytes[..], frame.truncated)),
        peer,
        &ctx,
        sink,
        metrics,
    )
    .await;
    frames.clear();
    delivered
}
