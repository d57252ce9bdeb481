//! `palisade rules ...`: work with Sigma rule sets.

use std::io::Write as _;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use palisade_sigma::{Loader, Severity};

use crate::output::escape_terminal;
use crate::rules_source;
use crate::{Exit, Format, Globals};

/// Subcommands of `palisade rules`.
#[derive(Debug, Subcommand)]
pub(crate) enum RulesCommand {
    /// List the rules that cannot load, and why (file, line, code, reason).
    Lint(LintArgs),
}

/// Arguments of `palisade rules lint`.
#[derive(Debug, Args)]
pub(crate) struct LintArgs {
    /// Rule files or directories.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Field mapping, as for `scan` (`builtin`, `none` or a file).
    #[arg(long, value_name = "SPEC")]
    mapping: Vec<String>,
    /// Also list warnings (rules that load but deserve a look).
    #[arg(long)]
    warnings: bool,
}

/// Runs a `rules` subcommand.
pub(crate) fn run(command: &RulesCommand, globals: &Globals) -> anyhow::Result<()> {
    match command {
        RulesCommand::Lint(args) => lint(args, globals),
    }
}

#[allow(clippy::print_stderr)]
fn lint(args: &LintArgs, globals: &Globals) -> anyhow::Result<()> {
    let loader = Loader::new(rules_source::mapping(&args.mapping)?);
    let rules = rules_source::load(&args.paths, &loader)?;
    let stats = rules.stats();
    let shown: Vec<_> = rules
        .diagnostics()
        .iter()
        .filter(|d| args.warnings || globals.verbose || d.severity == Severity::Error)
        .collect();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match globals.format.unwrap_or(Format::Table) {
        Format::Json => {
            serde_json::to_writer_pretty(
                &mut out,
                &serde_json::json!({"stats": stats, "diagnostics": shown}),
            )?;
            writeln!(out)?;
        }
        Format::Jsonl => {
            for diagnostic in &shown {
                serde_json::to_writer(&mut out, diagnostic)?;
                writeln!(out)?;
            }
        }
        Format::Csv => {
            let mut csv = csv::Writer::from_writer(&mut out);
            csv.write_record(["file", "line", "column", "code", "severity", "rule", "message"])?;
            for d in &shown {
                csv.write_record([
                    d.file.display().to_string(),
                    d.line.to_string(),
                    d.col.to_string(),
                    d.code.as_str().to_owned(),
                    format!("{:?}", d.severity).to_lowercase(),
                    d.rule.clone().unwrap_or_default(),
                    d.message.clone(),
                ])?;
            }
            csv.flush()?;
        }
        Format::Table => {
            for diagnostic in &shown {
                writeln!(out, "{}", escape_terminal(&diagnostic.to_string()))?;
            }
        }
    }
    out.flush()?;
    if !globals.quiet {
        #[allow(clippy::cast_precision_loss)]
        let rate = if stats.documents == 0 {
            0.0
        } else {
            100.0 * stats.rules_loaded as f64 / stats.documents as f64
        };
        eprintln!(
            "{} files, {} documents: {} rules loaded ({rate:.2}%), {} correlation rules, {} filters applied, {} failed",
            stats.files,
            stats.documents,
            stats.rules_loaded,
            stats.correlations,
            stats.filters,
            stats.failed
        );
    }
    if stats.failed > 0 {
        return Err(Exit::Findings.into());
    }
    Ok(())
}
