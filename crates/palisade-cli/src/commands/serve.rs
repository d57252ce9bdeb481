//! `palisade serve`: the HTTP API (ingest, query) over the data directory, until SIGINT or
//! SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Args;
use palisade_state::StateDb;

use crate::config::Config;
use crate::{Exit, Globals};

/// Stack of the threads that plan queries (see `commands::store`).
pub(crate) const QUERY_STACK: usize = 16 << 20;

/// Arguments of `palisade serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address of the HTTP API (default 127.0.0.1:8080; port 0 picks a free port).
    #[arg(long, value_name = "ADDR")]
    http: Option<SocketAddr>,
    /// Syslog over UDP (default 127.0.0.1:5514; `off` to disable).
    #[arg(long, value_name = "ADDR|off")]
    syslog_udp: Option<String>,
    /// Syslog over TCP, octet-counted or LF framing (default 127.0.0.1:5514; `off`).
    #[arg(long, value_name = "ADDR|off")]
    syslog_tcp: Option<String>,
    /// Syslog over TLS, RFC 5425 (default 127.0.0.1:6514 once a certificate is set; `off`).
    #[arg(long, value_name = "ADDR|off")]
    syslog_tls: Option<String>,
    /// PEM certificate chain for syslog over TLS (leaf first).
    #[arg(long, value_name = "FILE")]
    tls_cert: Option<PathBuf>,
    /// PEM private key of `--tls-cert`.
    #[arg(long, value_name = "FILE")]
    tls_key: Option<PathBuf>,
    /// PEM CA certificates: TLS clients must then present a certificate signed by one.
    #[arg(long, value_name = "FILE")]
    tls_client_ca: Option<PathBuf>,
    /// Follow files matching a path or glob, parsed as TYPE (default auto); repeatable.
    /// Checkpoints in DATA_DIR/tail survive restarts and log rotation.
    #[arg(long, value_name = "[TYPE:]PATTERN")]
    tail: Vec<String>,
}

/// An input address from a flag, the configuration or the default; `None` when turned off.
fn input_address(
    flag: Option<&str>,
    config: Option<&str>,
    default: &str,
    what: &str,
) -> anyhow::Result<Option<SocketAddr>> {
    match flag.or(config).unwrap_or(default) {
        "off" | "" => Ok(None),
        text => text.parse().map(Some).map_err(|error| {
            Exit::Usage(anyhow::anyhow!("{what} `{text}` is not an address (or `off`): {error}"))
                .into()
        }),
    }
}

/// The syslog TLS address and its rustls configuration, or `None` when it is off. A
/// certificate turns it on at 127.0.0.1:6514 unless told otherwise; an address without a
/// certificate and key is a usage error, not a silent plain-text listener.
fn syslog_tls(
    args: &ServeArgs,
    config: &Config,
) -> anyhow::Result<Option<(SocketAddr, Arc<palisade_server::tls::TlsConfig>)>> {
    let server = &config.server;
    let cert = args.tls_cert.as_ref().or(server.tls_cert.as_ref());
    let key = args.tls_key.as_ref().or(server.tls_key.as_ref());
    let client_ca = args.tls_client_ca.as_ref().or(server.tls_client_ca.as_ref());
    let default = if cert.is_some() { "127.0.0.1:6514" } else { "off" };
    let address = input_address(
        args.syslog_tls.as_deref(),
        server.syslog_tls.as_deref(),
        default,
        "--syslog-tls",
    )?;
    let Some(address) = address else { return Ok(None) };
    let (Some(cert), Some(key)) = (cert, key) else {
        return Err(Exit::Usage(anyhow::anyhow!(
            "syslog over TLS needs a certificate and its key: --tls-cert FILE --tls-key FILE \
             (or tls_cert and tls_key in [server])"
        ))
        .into());
    };
    let files = palisade_server::tls::TlsFiles {
        cert: cert.clone(),
        key: key.clone(),
        client_ca: client_ca.cloned(),
    };
    let tls_config = palisade_server::tls::server_config(&files)
        .map_err(|error| Exit::Usage(anyhow::Error::new(error).context("syslog over TLS")))?;
    Ok(Some((address, tls_config)))
}

/// Runs `palisade serve`.
#[allow(clippy::print_stderr)]
pub(crate) fn run(
    args: &ServeArgs,
    data_dir: &std::path::Path,
    config: &Config,
    globals: &Globals,
) -> anyhow::Result<()> {
    let store_config = config.store_config()?;
    let mut options = config.server_options()?;
    for flag in &args.tail {
        let (source, pattern) = match flag.split_once(':') {
            Some((name, pattern))
                if palisade_parse::source::SourceType::from_name(name).is_some() =>
            {
                (crate::config::source_type(name, "--tail")?, pattern)
            }
            _ => (palisade_parse::source::SourceType::Auto, flag.as_str()),
        };
        options.tail.patterns.push(palisade_server::tail::TailPattern {
            pattern: pattern.to_owned(),
            source,
            start_at_end: false,
        });
    }
    let http = args
        .http
        .or(config.server.http)
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
    let syslog_udp = input_address(
        args.syslog_udp.as_deref(),
        config.server.syslog_udp.as_deref(),
        "127.0.0.1:5514",
        "--syslog-udp",
    )?;
    let syslog_tcp = input_address(
        args.syslog_tcp.as_deref(),
        config.server.syslog_tcp.as_deref(),
        "127.0.0.1:5514",
        "--syslog-tcp",
    )?;
    let syslog_tls = syslog_tls(args, config)?;
    let detect_options = config.detect_options()?;
    let store = Arc::new(crate::commands::store::open_with(data_dir, store_config)?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("palisade-http")
        // SQL parsing recurses; deep expressions must hit the parser's limit, not the stack.
        .thread_stack_size(QUERY_STACK)
        .build()
        .context("starting the runtime")?;
    runtime.block_on(async {
        let db = StateDb::open(data_dir).await.context("opening the state database")?;
        if db.tokens().await?.iter().all(|token| token.revoked_at.is_some()) {
            tracing::warn!(
                "no API tokens yet: every request but /health will be refused; create one with \
                 `palisade token create --name admin --role admin`"
            );
        }
        if let Some(detect_options) = detect_options {
            options.detect_suppress = detect_options.suppress;
            let (detection, report) =
                palisade_server::detect::Detection::start(data_dir, db.clone(), detect_options)
                    .await
                    .map_err(|error| anyhow::anyhow!(error))
                    .context("starting live detection")?;
            for problem in &report.problems {
                tracing::warn!("rule not loaded: {problem}");
            }
            if !globals.quiet {
                eprintln!(
                    "palisade: live detection: {} rules and {} correlation rules from {} files ({} not loaded), behaviour detectors on",
                    report.rules,
                    report.correlations,
                    report.files,
                    report.problems.len()
                );
            }
            options.detection = Some(detection);
        }
        let bind_error = |addr: SocketAddr| {
            move |error: std::io::Error| {
                Exit::Usage(anyhow::Error::new(error).context(format!("listening on {addr}")))
            }
        };
        let udp = match syslog_udp {
            Some(addr) => {
                let socket = tokio::net::UdpSocket::bind(addr).await.map_err(bind_error(addr))?;
                eprintln!("palisade: syslog UDP listening on udp://{}", socket.local_addr()?);
                Some(socket)
            }
            None => None,
        };
        let tcp = match syslog_tcp {
            Some(addr) => {
                let listener =
                    tokio::net::TcpListener::bind(addr).await.map_err(bind_error(addr))?;
                eprintln!("palisade: syslog TCP listening on tcp://{}", listener.local_addr()?);
                Some(listener)
            }
            None => None,
        };
        let tls = match syslog_tls {
            Some((addr, tls_config)) => {
                let listener =
                    tokio::net::TcpListener::bind(addr).await.map_err(bind_error(addr))?;
                eprintln!("palisade: syslog TLS listening on tls://{}", listener.local_addr()?);
                Some((listener, tls_config))
            }
            None => None,
        };
        let listener = tokio::net::TcpListener::bind(http).await.map_err(bind_error(http))?;
        let local = listener.local_addr()?;
        // The line scripts and tests wait for (after the syslog ones); printed even with
        // --quiet.
        eprintln!("palisade: HTTP API listening on http://{local}");
        if !globals.quiet {
            eprintln!("palisade: data directory {}", data_dir.display());
            for pattern in &options.tail.patterns {
                eprintln!("palisade: tailing {}", pattern.pattern);
            }
        }
        let listeners = palisade_server::Listeners {
            http: listener,
            syslog_udp: udp,
            syslog_tcp: tcp,
            syslog_tls: tls,
        };
        palisade_server::serve(listeners, Arc::clone(&store), db, options, shutdown_signal())
            .await
            .context("serving")?;
        tracing::info!("shutting down");
        Ok::<_, anyhow::Error>(())
    })?;
    drop(runtime);
    // Dropping the last handle syncs the log; unflushed events are replayed at next start.
    drop(store);
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}
