//! `palisade`: the command-line entry point. Parsing of arguments and exit codes live here;
//! each subcommand is a module under `commands/` that calls into the library crates.
//!
//! Exit codes (VISION.md conventions): 0 success, 1 findings where a command reports findings
//! (`scan --fail-on`, `rules lint`), 2 usage or input error, 3 internal error.

mod commands;
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let globals = Globals { format: cli.format, quiet: cli.quiet, verbose: cli.verbose };
    let result: anyhow::Result<()> =
        check_config(cli.config.as_deref()).and_then(|()| match cli.command {
            Command::Scan(args) => commands::scan::run(&args, &globals),
            Command::Rules(command) => commands::rules::run(&command, &globals),
            Command::Bench(args) => commands::bench::run(&args, &globals),
            Command::Ingest(args) => commands::store::ingest(&args, &cli.data_dir, &globals),
            Command::Query(args) => commands::store::query(&args, &cli.data_dir, &globals),
            Command::Store(command) => commands::store::run(&command, &cli.data_dir, &globals),
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

/// Reads the configuration file. No setting is configurable through it yet, so every key is
/// unknown and rejected, rather than silently ignored.
fn check_config(path: Option<&std::path::Path>) -> anyhow::Result<()> {
    let Some(path) = path else { return Ok(()) };
    let text = fs_err::read_to_string(path).map_err(|error| {
        Exit::Usage(anyhow::Error::new(error).context("reading the configuration file"))
    })?;
    let table: toml::Table = text.parse().map_err(|error| {
        Exit::Usage(anyhow::anyhow!("{}: invalid TOML: {error}", path.display()))
    })?;
    if let Some(key) = table.keys().next() {
        return Err(Exit::Usage(anyhow::anyhow!("{}: unknown key `{key}` (this version has no settings in the configuration file; use command-line flags)", path.display())).into());
    }
    Ok(())
}

#[allow(clippy::print_stderr)]
fn report(message: &str) {
    eprintln!("{message}");
}
