//! `palisade`: the command-line entry point. Parsing of arguments and exit codes live here;
//! each subcommand is a module under `commands/` that calls into the library crates.
//!
//! Exit codes (VISION.md conventions): 0 success, 1 findings where a command reports findings
//! (`scan --fail-on`, `rules lint`), 2 usage or input error, 3 internal error.

mod commands;
mod config;
mod inputs;
mod output;
mod rules_source;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Scanning allocates many small strings on every core; mimalloc's per-thread heaps cut the
/// allocator's share of a scan from about a third (glibc malloc) to a few percent.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Palisade: an open-source Security Operations platform in one binary.
#[derive(Debug, Parser)]
#[command(name = "palisade", version, about, propagate_version = true, max_term_width = 100)]
struct Cli {
    /// Data directory for stored events, alerts and state.
    #[arg(long, global = true, env = "PALISADE_DATA_DIR", default_value = "./palisade-data")]
    data_dir: PathBuf,
    /// Configuration file (TOML).
    #[arg(long, global = true, env = "PALISADE_CONFIG")]
    config: Option<PathBuf>,
    /// Output format of commands that print results.
    #[arg(long, global = true, value_enum)]
    format: Option<Format>,
    /// Print only results and errors.
    #[arg(long, short, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Print more detail about what is happening.
    #[arg(long, short, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Command,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// Aligned columns for a terminal.
    Table,
    /// One JSON document.
    Json,
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated values with a header row.
    Csv,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run Sigma rules over EVTX, JSON and JSON-lines files (offline forensic mode).
    Scan(commands::scan::ScanArgs),
    /// Work with Sigma rules.
    #[command(subcommand)]
    Rules(commands::rules::RulesCommand),
    /// Measure scan throughput over repeated runs (events/s, MB/s, peak RSS).
    Bench(commands::bench::BenchArgs),
    /// Import files (EVTX, JSON, JSON lines) into the event store of the data directory.
    Ingest(commands::store::IngestArgs),
    /// Run a read-only SQL query over the stored events (table `events`).
    Query(commands::store::QueryArgs),
    /// Inspect and maintain the event store.
    #[command(subcommand)]
    Store(commands::store::StoreCommand),
    /// Run the server: HTTP API for ingest and queries over the data directory.
    Serve(commands::serve::ServeArgs),
    /// Create, list and revoke API tokens.
    #[command(subcommand)]
    Token(commands::token::TokenCommand),
    /// List the alerts raised by live detection, newest first.
    Alerts(commands::alerts::AlertsArgs),
    /// Tune out known false positives: scoped, owned, reasoned and expiring exceptions.
    #[command(subcommand)]
    Exceptions(commands::exceptions::ExceptionsCommand),
}

/// Global options every command sees.
#[derive(Debug, Clone)]
pub(crate) struct Globals {
    pub(crate) format: Option<Format>,
    pub(crate) quiet: bool,
    pub(crate) verbose: bool,
}

/// An error that maps to a specific exit code.
#[derive(Debug)]
pub(crate) enum Exit {
    /// Findings were reported (exit 1).
    Findings,
    /// The user's input or arguments are wrong (exit 2).
    Usage(anyhow::Error),
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exit::Findings => f.write_str("findings reported"),
            Exit::Usage(error) => write!(f, "{error:#}"),
        }
    }
}

impl std::error::Error for Exit {}

/// How long memory that mimalloc frees stays mapped before it is returned to the operating
/// system (mimalloc's default is 1 s). The server frees and reuses large buffers every few
/// seconds (column builders, flushes, merges); returned after 1 s, each reuse page-faulted
/// them back in, zeroed. At 10 s a busy server keeps reusing them: syslog ingest used about
/// 7 % less CPU per event for about 70 MiB more peak RSS (docs/benchmarks.md). An idle server
/// still gives the memory back. `MIMALLOC_PURGE_DELAY` in the environment still wins.
const ALLOCATOR_PURGE_DELAY_MS: i64 = 10_000;

/// `mi_option_purge_delay` in mimalloc.h (v3), which libmimalloc-sys does not name.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

#[allow(unsafe_code)]
fn tune_allocator() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: `mi_option_set` stores an integer option, which mimalloc reads at its next
        // purge; it takes no pointers, and any value is valid for this option.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, ALLOCATOR_PURGE_DELAY_MS) };
    }
}

fn main() -> ExitCode {
    tune_allocator();
    let cli = Cli::parse();
    let globals = Globals { format: cli.format, quiet: cli.quiet, verbose: cli.verbose };
    init_logging(&globals);
    let data_dir = &cli.data_dir;
    let result: anyhow::Result<()> =
        config::Config::load(cli.config.as_deref()).and_then(|config| match cli.command {
            Command::Scan(args) => commands::scan::run(&args, &globals),
            Command::Rules(command) => commands::rules::run(&command, data_dir, &config, &globals),
            Command::Bench(args) => commands::bench::run(&args, &globals),
            Command::Ingest(args) => commands::store::ingest(&args, data_dir, &config, &globals),
            Command::Query(args) => commands::store::query(&args, data_dir, &config, &globals),
            Command::Store(command) => commands::store::run(&command, data_dir, &config, &globals),
            Command::Serve(args) => commands::serve::run(&args, data_dir, &config, &globals),
            Command::Token(command) => commands::token::run(&command, data_dir, &globals),
            Command::Alerts(args) => commands::alerts::run(&args, data_dir, &globals),
            Command::Exceptions(command) => commands::exceptions::run(&command, data_dir, &globals),
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => match error.downcast_ref::<Exit>() {
            Some(Exit::Findings) => ExitCode::from(1),
            Some(Exit::Usage(inner)) => {
                report(&format!("error: {inner:#}"));
                ExitCode::from(2)
            }
            None => {
                report(&format!("internal error: {error:#}"));
                ExitCode::from(3)
            }
        },
    }
}

/// Logs go to standard error; `PALISADE_LOG` (tracing's filter syntax) overrides the level
/// that `--quiet` and `--verbose` choose.
fn init_logging(globals: &Globals) {
    let default = if globals.quiet {
        "error"
    } else if globals.verbose {
        "debug"
    } else {
        "info"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("PALISADE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

#[allow(clippy::print_stderr)]
fn report(message: &str) {
    eprintln!("{message}");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Option numbers are an enum in mimalloc.h that has been renumbered between versions:
    /// a wrong number would tune some other option. Only the purge delay starts at 1000 ms.
    #[test]
    #[allow(unsafe_code)]
    fn the_allocator_option_set_is_the_purge_delay() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            eprintln!("MIMALLOC_PURGE_DELAY is set: nothing to check");
            return;
        }
        // SAFETY: reads an integer option; no pointers.
        let get = || unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
        assert_eq!(get(), 1000, "mimalloc's default purge delay");
        tune_allocator();
        assert_eq!(get(), ALLOCATOR_PURGE_DELAY_MS);
    }
}
