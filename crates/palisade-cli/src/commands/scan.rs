//! `palisade scan`: Sigma rules over files, as a timeline and a summary.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use palisade_event::{Event, Timestamp};
use palisade_sigma::{Level, Loader, RuleSet};
use rayon::prelude::*;

use crate::inputs::{self, Input};
use crate::output;
use crate::rules_source;
use crate::{Exit, Format, Globals};

/// Arguments of `palisade scan`.
#[derive(Debug, Clone, Args)]
pub(crate) struct ScanArgs {
    /// Rule files or directories (searched for .yml/.yaml); repeat the flag or separate with commas.
    #[arg(long = "rules", short = 'r', required = true, value_delimiter = ',', value_name = "DIR")]
    pub(crate) rules: Vec<PathBuf>,
    /// Files or directories to scan (.evtx, .json, .jsonl, .ndjson).
    #[arg(required = true, value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,
    /// Field mapping: `builtin` (default: Windows + ECS), `none` (raw field names, no logsource
    /// filtering), or a mapping file; repeat to combine.
    #[arg(long, value_name = "SPEC")]
    pub(crate) mapping: Vec<String>,
    /// Only rules of this level or above.
    #[arg(long, value_parser = parse_level)]
    pub(crate) min_level: Option<Level>,
    /// Only rules with one of these statuses (comma-separated: stable,test,experimental...).
    #[arg(long, value_delimiter = ',')]
    pub(crate) status: Vec<String>,
    /// Only rules carrying one of these tags (comma-separated, e.g. attack.t1059.001,attack.execution).
    #[arg(long, value_delimiter = ',')]
    pub(crate) tags: Vec<String>,
    /// Write the timeline to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// Exit with code 1 when a detection of this level or above was found.
    #[arg(long, value_parser = parse_level)]
    pub(crate) fail_on: Option<Level>,
    /// Do not draw a progress bar.
    #[arg(long)]
    pub(crate) no_progress: bool,
    /// Worker threads (default: one per core).
    #[arg(long)]
    pub(crate) threads: Option<usize>,
}

fn parse_level(text: &str) -> Result<Level, String> {
    Level::parse(text).ok_or_else(|| {
        format!("unknown level `{text}`; use informational, low, medium, high or critical")
    })
}

/// One rule firing on one event.
pub(crate) struct Detection {
    pub(crate) rule: u32,
    pub(crate) file: usize,
    pub(crate) event: Event,
}

impl Detection {
    pub(crate) fn timestamp(&self) -> Option<Timestamp> {
        self.event.timestamp()
    }
}

/// What a scan found and measured.
pub(crate) struct ScanReport {
    pub(crate) rules: RuleSet,
    pub(crate) inputs: Vec<Input>,
    pub(crate) detections: Vec<Detection>,
    pub(crate) events: u64,
    pub(crate) record_errors: u64,
    pub(crate) failed_files: Vec<(PathBuf, String)>,
    pub(crate) rules_filtered_out: usize,
    pub(crate) load_time: Duration,
    pub(crate) elapsed: Duration,
}

impl ScanReport {
    pub(crate) fn bytes(&self) -> u64 {
        self.inputs.iter().map(|input| input.size).sum()
    }
}

/// Loads the rules, reads every input and matches, in parallel. Shared with `bench`.
pub(crate) fn execute(args: &ScanArgs, progress: bool) -> anyhow::Result<ScanReport> {
    let started = Instant::now();
    let loader = Loader::new(rules_source::mapping(&args.mapping)?);
    let rules = rules_source::load(&args.rules, &loader)?;
    let loaded = rules.rules().len();
    let rules = if args.min_level.is_some() || !args.status.is_empty() || !args.tags.is_empty() {
        rules.retain(&loader, |rule| {
            args.min_level.is_none_or(|min| rule.meta.level.is_some_and(|level| level >= min))
                && (args.status.is_empty()
                    || rule.meta.status.as_deref().is_some_and(|status| {
                        args.status.iter().any(|s| s.eq_ignore_ascii_case(status))
                    }))
                && (args.tags.is_empty()
                    || rule
                        .meta
                        .tags
                        .iter()
                        .any(|tag| args.tags.iter().any(|want| want.eq_ignore_ascii_case(tag))))
        })
    } else {
        rules
    };
    if loaded == 0 {
        let first =
            rules.errors().next().map_or_else(String::new, |d| format!("; first problem: {d}"));
        return Err(Exit::Usage(anyhow::anyhow!(
            "no rule could be loaded from {}{first}",
            rules_source::display_paths(&args.rules)
        ))
        .into());
    }
    let rules_filtered_out = loaded - rules.rules().len();
    let load_time = started.elapsed();
    let inputs = inputs::discover(&args.paths, false)?;
    if inputs.is_empty() {
        return Err(Exit::Usage(anyhow::anyhow!(
            "no .evtx, .json, .jsonl or .ndjson files under {}",
            rules_source::display_paths(&args.paths)
        ))
        .into());
    }
    let total_bytes: u64 = inputs.iter().map(|input| input.size).sum();
    let bar = if progress {
        let bar = ProgressBar::new(total_bytes);
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {bytes}/{total_bytes} ({bytes_per_sec}) {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };

    struct FileOutcome {
        detections: Vec<Detection>,
        events: u64,
        record_errors: u64,
        failure: Option<String>,
    }
    let line_options = inputs::LineOptions::default();
    let outcomes: Vec<FileOutcome> = inputs
        .par_iter()
        .enumerate()
        .map(|(file_idx, input)| {
            let mut detections: Vec<Detection> = Vec::new();
            let read =
                inputs::read_batches(input, inputs::Unparsed::Count, &line_options, |batch| {
                    let found: Vec<Detection> = batch
                        .into_par_iter()
                        .map_init(
                            || rules.scratch(),
                            |scratch, event| {
                                let hits = rules.matches(&event, scratch);
                                match hits {
                                    [] => Vec::new(),
                                    [only] => {
                                        vec![Detection { rule: *only, file: file_idx, event }]
                                    }
                                    many => many
                                        .iter()
                                        .map(|&rule| Detection {
                                            rule,
                                            file: file_idx,
                                            event: event.clone(),
                                        })
                                        .collect(),
                                }
                            },
                        )
                        .flatten()
                        .collect();
                    detections.extend(found);
                });
            let outcome = match read {
                Err(error) => FileOutcome {
                    detections: Vec::new(),
                    events: 0,
                    record_errors: 0,
                    failure: Some(format!("{error:#}")),
                },
                Ok(stats) => FileOutcome {
                    detections,
                    events: stats.events,
                    record_errors: stats.errors,
                    failure: None,
                },
            };
            bar.inc(input.size);
            outcome
        })
        .collect();
    bar.finish_and_clear();

    let mut report = ScanReport {
        rules,
        inputs,
        detections: Vec::new(),
        events: 0,
        record_errors: 0,
        failed_files: Vec::new(),
        rules_filtered_out,
        load_time,
        elapsed: Duration::ZERO,
    };
    for (file_idx, outcome) in outcomes.into_iter().enumerate() {
        report.events += outcome.events;
        report.record_errors += outcome.record_errors;
        if let Some(failure) = outcome.failure {
            report.failed_files.push((report.inputs[file_idx].path.clone(), failure));
        }
        report.detections.extend(outcome.detections);
    }
    report.detections.sort_by(|a, b| {
        (a.timestamp(), a.file, record_id(&a.event), a.rule).cmp(&(
            b.timestamp(),
            b.file,
            record_id(&b.event),
            b.rule,
        ))
    });
    report.elapsed = started.elapsed();
    Ok(report)
}

pub(crate) fn record_id(event: &Event) -> Option<i64> {
    // Some exported logs store the record id as text; read both.
    match event.get("EventRecordID") {
        Some(palisade_event::Value::Int(id)) => Some(*id),
        Some(palisade_event::Value::Str(text)) => text.as_str().trim().parse().ok(),
        _ => None,
    }
}

/// Runs `palisade scan`.
pub(crate) fn run(args: &ScanArgs, globals: &Globals) -> anyhow::Result<()> {
    if let Some(threads) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global()
            .context("setting up worker threads")?;
    }
    let progress = !args.no_progress && !globals.quiet;
    let report = execute(args, progress)?;
    if !report.failed_files.is_empty() && report.failed_files.len() == report.inputs.len() {
        let (path, why) = &report.failed_files[0];
        return Err(Exit::Usage(anyhow::anyhow!(
            "no input could be read; first: {}: {why}",
            path.display()
        ))
        .into());
    }
    let format = globals.format.unwrap_or(Format::Table);
    let summary = summarize(&report);
    match &args.output {
        Some(path) => {
            let file = fs_err::File::create(path).map_err(|error| {
                Exit::Usage(anyhow::Error::new(error).context("creating output file"))
            })?;
            let mut writer = std::io::BufWriter::new(file);
            output::write_timeline(&mut writer, &report, &summary, format, false)?;
        }
        None => {
            let stdout = std::io::stdout();
            let mut writer = std::io::BufWriter::new(stdout.lock());
            output::write_timeline(&mut writer, &report, &summary, format, true)?;
        }
    }
    if !globals.quiet && format != Format::Json {
        output::print_summary(&summary, &report, globals.verbose);
    }
    if let Some(threshold) = args.fail_on
        && report
            .detections
            .iter()
            .any(|d| report.rules.rule(d.rule).meta.level.is_some_and(|level| level >= threshold))
    {
        return Err(Exit::Findings.into());
    }
    Ok(())
}

/// The scan summary, also printed as JSON with `--format json`.
#[derive(Debug, serde::Serialize)]
pub(crate) struct Summary {
    pub(crate) files: usize,
    pub(crate) files_failed: usize,
    pub(crate) bytes: u64,
    pub(crate) events: u64,
    pub(crate) record_errors: u64,
    pub(crate) rules_loaded: usize,
    pub(crate) rules_failed: usize,
    pub(crate) rules_filtered_out: usize,
    pub(crate) rules_unmapped: usize,
    pub(crate) correlation_rules: usize,
    pub(crate) detections: usize,
    pub(crate) detections_by_level: BTreeMap<String, usize>,
    pub(crate) top_rules: Vec<TopRule>,
    pub(crate) rule_load_seconds: f64,
    pub(crate) elapsed_seconds: f64,
    pub(crate) events_per_second: f64,
    pub(crate) megabytes_per_second: f64,
}

#[derive(Debug, serde::Serialize)]
pub(crate) struct TopRule {
    pub(crate) title: String,
    pub(crate) id: Option<String>,
    pub(crate) level: Option<Level>,
    pub(crate) detections: usize,
}

pub(crate) fn summarize(report: &ScanReport) -> Summary {
    let mut by_level: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_rule: BTreeMap<u32, usize> = BTreeMap::new();
    for detection in &report.detections {
        let level = report.rules.rule(detection.rule).meta.level.map_or("none", Level::as_str);
        *by_level.entry(level.to_owned()).or_default() += 1;
        *by_rule.entry(detection.rule).or_default() += 1;
    }
    let mut top: Vec<(u32, usize)> = by_rule.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let elapsed = report.elapsed.as_secs_f64().max(1e-9);
    #[allow(clippy::cast_precision_loss)]
    Summary {
        files: report.inputs.len(),
        files_failed: report.failed_files.len(),
        bytes: report.bytes(),
        events: report.events,
        record_errors: report.record_errors,
        rules_loaded: report.rules.rules().len(),
        rules_failed: report.rules.stats().failed,
        rules_filtered_out: report.rules_filtered_out,
        rules_unmapped: report.rules.unmapped_rules(),
        correlation_rules: report.rules.correlations().len(),
        detections: report.detections.len(),
        detections_by_level: by_level,
        top_rules: top
            .into_iter()
            .take(10)
            .map(|(rule, count)| {
                let meta = &report.rules.rule(rule).meta;
                TopRule {
                    title: meta.title.clone(),
                    id: meta.id.clone(),
                    level: meta.level,
                    detections: count,
                }
            })
            .collect(),
        rule_load_seconds: report.load_time.as_secs_f64(),
        elapsed_seconds: report.elapsed.as_secs_f64(),
        events_per_second: report.events as f64 / elapsed,
        megabytes_per_second: report.bytes() as f64 / 1_000_000.0 / elapsed,
    }
}
