//! `palisade serve`: the HTTP API (ingest, query) over the data directory, until SIGINT or
//! SIGTERM.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Args;
use palisade_state::StateDb;

use crate::config::Config;
use crate::{Exit, Globals};

/// Arguments of `palisade serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address of the HTTP API (default 127.0.0.1:8080; port 0 picks a free port).
    #[arg(long, value_name = "ADDR")]
    http: Option<SocketAddr>,
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
    let options = config.server_options()?;
    let http = args
        .http
        .or(config.server.http)
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
    let store = Arc::new(crate::commands::store::open_with(data_dir, store_config)?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("palisade-http")
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
        let listener = tokio::net::TcpListener::bind(http).await.map_err(|error| {
            Exit::Usage(anyhow::Error::new(error).context(format!("listening on {http}")))
        })?;
        let local = listener.local_addr()?;
        // The one line scripts and tests wait for; printed even with --quiet.
        eprintln!("palisade: HTTP API listening on http://{local}");
        if !globals.quiet {
            eprintln!("palisade: data directory {}", data_dir.display());
        }
        palisade_server::serve(listener, Arc::clone(&store), db, options, shutdown_signal())
            .await
            .context("serving HTTP")?;
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
