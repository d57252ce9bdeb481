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
    /// Copy rule files (SigmaHQ or your own) into the data directory's rules for live
    /// detection; a running server picks them up on `POST /api/v1/rules/reload`.
    Import(ImportArgs),
    /// List the rules live detection runs (built-in and imported), with their state.
    List,
    /// Switch a rule, correlation or behaviour detector off (by id).
    Disable {
        /// The rule's id (`palisade rules list` shows them).
        id: String,
    },
    /// Switch a rule back on.
    Enable {
        /// The rule's id.
        id: String,
    },
    /// Run one rule over stored history and report the alerts it would have raised (nothing
    /// is written; the server must not be running on the data directory).
    Replay(ReplayArgs),
}

/// Arguments of `palisade rules replay`.
#[derive(Debug, Args)]
pub(crate) struct ReplayArgs {
    /// The rule's id, name or title, or a behaviour detector's id (`palisade.brute_force`).
    rule: String,
    /// Start of the range: a span back from now (`30d`, `12h`) or an RFC 3339 time.
    #[arg(long, default_value = "30d")]
    since: String,
    /// End of the range (RFC 3339); default now.
    #[arg(long)]
    until: Option<String>,
}

/// Arguments of `palisade rules import`.
#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// Rule files or directories (searched for .yml and .yaml).
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Name of the folder under DATA_DIR/rules that receives them (default: the name of
    /// the file or directory imported).
    #[arg(long, value_name = "NAME")]
    into: Option<String>,
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
pub(crate) fn run(
    command: &RulesCommand,
    data_dir: &std::path::Path,
    config: &crate::config::Config,
    globals: &Globals,
) -> anyhow::Result<()> {
    match command {
        RulesCommand::Lint(args) => lint(args, globals),
        RulesCommand::Import(args) => import(args, data_dir, globals),
        RulesCommand::List => list(data_dir, globals),
        RulesCommand::Disable { id } => switch(data_dir, id, false, globals),
        RulesCommand::Enable { id } => switch(data_dir, id, true, globals),
        RulesCommand::Replay(args) => replay(args, data_dir, config, globals),
    }
}

#[allow(clippy::print_stdout, clippy::print_stderr)]
fn replay(
    args: &ReplayArgs,
    data_dir: &std::path::Path,
    config: &crate::config::Config,
    globals: &Globals,
) -> anyhow::Result<()> {
    let usage = |message: String| anyhow::Error::new(Exit::Usage(anyhow::anyhow!(message)));
    let since = palisade_server::parse_since(&args.since)
        .map_err(|message| usage(format!("--since {message}")))?;
    let until = match &args.until {
        Some(text) => text
            .parse::<jiff::Timestamp>()
            .map_err(|_| usage("--until must be an RFC 3339 time".to_owned()))?,
        None => jiff::Timestamp::now(),
    };
    let suppress =
        config.detect_options()?.map_or(jiff::SignedDuration::from_secs(3600), |o| o.suppress);
    let store = crate::commands::store::open_with(data_dir, config.store_config()?)?;
    let bar = if globals.quiet {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new_spinner()
    };
    bar.set_message("events read");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let report = runtime
        .block_on(palisade_server::replay::replay(
            &store,
            &data_dir.join("rules"),
            &args.rule,
            since,
            until,
            suppress,
            |events| bar.set_position(events),
        ))
        .map_err(|error| match error {
            palisade_server::replay::ReplayError::UnknownRule(_) => usage(error.to_string()),
            other => anyhow::Error::new(other),
        })?;
    bar.finish_and_clear();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match globals.format.unwrap_or(Format::Table) {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
        Format::Jsonl | Format::Csv => {
            for alert in &report.alerts {
                serde_json::to_writer(&mut out, alert)?;
                writeln!(out)?;
            }
        }
        Format::Table => {
            writeln!(
                out,
                "{:<20} {:<20} {:<13} {:>5} {:>8}  summary",
                "first seen", "last seen", "severity", "count", "evidence"
            )?;
            for alert in &report.alerts {
                writeln!(
                    out,
                    "{:<20} {:<20} {:<13} {:>5} {:>8}  {}",
                    alert.first_seen.strftime("%Y-%m-%d %H:%M:%S").to_string(),
                    alert.last_seen.strftime("%Y-%m-%d %H:%M:%S").to_string(),
                    alert.severity.as_str(),
                    alert.count,
                    alert.evidence.len(),
                    escape_terminal(&alert.summary),
                )?;
            }
        }
    }
    out.flush()?;
    if !globals.quiet {
        eprintln!(
            "{} ({}): {} alerts from {} events between {} and {}",
            escape_terminal(&report.title),
            report.kind,
            report.alerts.len(),
            report.events,
            report.since,
            report.until
        );
    }
    Ok(())
}

/// Copies rule files under `DATA_DIR/rules/<name>/`, keeping their relative paths, after
/// checking that they load with the mapping live detection uses.
#[allow(clippy::print_stderr, clippy::print_stdout)]
fn import(args: &ImportArgs, data_dir: &std::path::Path, globals: &Globals) -> anyhow::Result<()> {
    let usage = |message: String| anyhow::Error::new(Exit::Usage(anyhow::anyhow!(message)));
    let mut files: Vec<(PathBuf, PathBuf)> = Vec::new();
    for path in &args.paths {
        if path.is_dir() {
            for entry in walkdir::WalkDir::new(path).follow_links(false).sort_by_file_name() {
                let entry = entry?;
                let file = entry.path();
                if entry.file_type().is_file()
                    && file.extension().is_some_and(|ext| ext == "yml" || ext == "yaml")
                {
                    let relative = file.strip_prefix(path).unwrap_or(file).to_path_buf();
                    files.push((file.to_path_buf(), relative));
                }
            }
        } else if path.is_file() {
            let name = path.file_name().map(PathBuf::from).unwrap_or_default();
            files.push((path.clone(), name));
        } else {
            return Err(usage(format!("{}: no such file or directory", path.display())));
        }
    }
    if files.is_empty() {
        return Err(usage("no .yml or .yaml files in the paths given".to_owned()));
    }
    let folder = match &args.into {
        Some(name) => name.clone(),
        None => args.paths[0]
            .file_stem()
            .map_or_else(|| "imported".to_owned(), |stem| stem.to_string_lossy().into_owned()),
    };
    if folder.is_empty() || folder.contains(['/', '\\']) || folder == ".." || folder == "." {
        return Err(usage(format!("--into must be a plain folder name, not `{folder}`")));
    }
    let loader = Loader::new(palisade_sigma::Mapping::new(palisade_sigma::Pipeline::builtin()));
    let sources: Vec<(PathBuf, String)> = files
        .iter()
        .map(|(path, _)| Ok((path.clone(), std::fs::read_to_string(path)?)))
        .collect::<std::io::Result<_>>()?;
    let rules = loader.load(&sources);
    let correlations = palisade_detect::correlation::CorrelationSet::compile(&rules);
    let target = data_dir.join("rules").join(&folder);
    for (source, relative) in &files {
        let destination = target.join(relative);
        if let Some(parent) = destination.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(source, &destination)?;
    }
    let failed = rules.errors().count() + correlations.problems().len();
    if !globals.quiet {
        for diagnostic in rules.errors() {
            eprintln!("palisade: not loaded: {}", escape_terminal(&diagnostic.to_string()));
        }
        for problem in correlations.problems() {
            eprintln!(
                "palisade: correlation not loaded: {}: {}: {}",
                escape_terminal(&problem.path),
                escape_terminal(&problem.title),
                escape_terminal(&problem.message)
            );
        }
    }
    let summary = serde_json::json!({
        "files": files.len(),
        "rules": rules.rules().len(),
        "correlations": correlations.correlations().len(),
        "not_loaded": failed,
        "into": target.display().to_string(),
    });
    if globals.format == Some(Format::Json) {
        println!("{summary}");
    } else {
        println!(
            "imported {} files into {}: {} rules and {} correlation rules load, {} do not (they are kept, and reported at every load)",
            files.len(),
            target.display(),
            rules.rules().len(),
            correlations.correlations().len(),
            failed
        );
    }
    Ok(())
}

#[allow(clippy::print_stdout)]
fn list(data_dir: &std::path::Path, globals: &Globals) -> anyhow::Result<()> {
    let (rules, _) = palisade_server::detect::load_rules(&data_dir.join("rules"))?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let disabled = runtime.block_on(async {
        let db = palisade_state::StateDb::open(data_dir).await?;
        db.disabled_rules().await
    })?;
    let mut detector = palisade_detect::stage::Detector::new(
        rules,
        palisade_detect::behaviour::all(&palisade_detect::behaviour::BehaviourConfig::default()),
        palisade_detect::correlation::EngineConfig::default(),
    );
    detector.set_disabled(disabled.into_iter().collect());
    let list = detector.list();
    if globals.format == Some(Format::Json) {
        println!("{}", serde_json::to_string_pretty(&list)?);
    } else {
        println!("{:<40} {:<12} {:<13} {:<8} title", "id", "kind", "severity", "state");
        for rule in &list {
            let state = if !rule.enabled {
                "off"
            } else if rule.silent {
                "feeds"
            } else {
                "on"
            };
            println!(
                "{:<40} {:<12} {:<13} {:<8} {}",
                escape_terminal(&rule.id),
                rule.kind,
                rule.severity.as_str(),
                state,
                escape_terminal(&rule.title)
            );
        }
    }
    Ok(())
}

#[allow(clippy::print_stdout)]
fn switch(
    data_dir: &std::path::Path,
    id: &str,
    enabled: bool,
    globals: &Globals,
) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let actor = format!("cli:{}", std::env::var("USER").unwrap_or_else(|_| "unknown".into()));
    let changed = runtime.block_on(async {
        let db = palisade_state::StateDb::open(data_dir).await?;
        db.set_rule_enabled(id, enabled, &actor).await
    })?;
    if !globals.quiet {
        let word = if enabled { "on" } else { "off" };
        if changed {
            println!("{id} switched {word}; a running server applies it at its next rules reload");
        } else {
            println!("{id} was already {word}");
        }
    }
    Ok(())
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
