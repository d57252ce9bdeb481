//! `palisade bench`: repeated scans, with medians of wall time, events/s, MB/s and the peak
//! resident set size, so benchmark figures come from the same code path users run.

use std::time::Instant;

use clap::Args;

use crate::commands::scan::{ScanArgs, execute};
use crate::{Format, Globals};

/// Arguments of `palisade bench`.
#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// How many runs (the median is reported).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    #[command(flatten)]
    scan: ScanArgs,
}

#[derive(Debug, serde::Serialize)]
struct Run {
    wall_seconds: f64,
    rule_load_seconds: f64,
    events: u64,
    detections: usize,
    events_per_second: f64,
    megabytes_per_second: f64,
}

/// Runs the benchmark.
#[allow(clippy::print_stdout, clippy::cast_precision_loss)]
pub(crate) fn run(args: &BenchArgs, globals: &Globals) -> anyhow::Result<()> {
    let mut runs = Vec::new();
    let mut rules_loaded = 0;
    let mut bytes = 0;
    for _ in 0..args.runs.max(1) {
        let started = Instant::now();
        let report = execute(&args.scan, false)?;
        let wall = started.elapsed().as_secs_f64();
        rules_loaded = report.rules.rules().len();
        bytes = report.bytes();
        runs.push(Run {
            wall_seconds: wall,
            rule_load_seconds: report.load_time.as_secs_f64(),
            events: report.events,
            detections: report.detections.len(),
            events_per_second: report.events as f64 / wall,
            megabytes_per_second: bytes as f64 / 1e6 / wall,
        });
    }
    let mut walls: Vec<f64> = runs.iter().map(|run| run.wall_seconds).collect();
    walls.sort_by(f64::total_cmp);
    let median = walls[walls.len() / 2];
    let median_run = runs
        .iter()
        .find(|run| (run.wall_seconds - median).abs() < f64::EPSILON)
        .unwrap_or(&runs[0]);
    let peak_rss_mib = peak_rss_kib().map(|kib| kib as f64 / 1024.0);
    let result = serde_json::json!({
        "runs": runs,
        "median_wall_seconds": median,
        "median_rule_load_seconds": median_run.rule_load_seconds,
        "events": median_run.events,
        "detections": median_run.detections,
        "rules_loaded": rules_loaded,
        "bytes": bytes,
        "events_per_second": median_run.events as f64 / median,
        "megabytes_per_second": bytes as f64 / 1e6 / median,
        "peak_rss_mib": peak_rss_mib,
        "threads": rayon::current_num_threads(),
    });
    if globals.format == Some(Format::Json) {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        println!(
            "runs: {}   rules loaded: {rules_loaded}   input: {:.1} MB",
            runs.len(),
            bytes as f64 / 1e6
        );
        for (idx, run) in runs.iter().enumerate() {
            println!(
                "  run {}: {:.3}s (rules {:.3}s)  {} events  {} detections  {:.0} events/s  {:.1} MB/s",
                idx + 1,
                run.wall_seconds,
                run.rule_load_seconds,
                run.events,
                run.detections,
                run.events_per_second,
                run.megabytes_per_second
            );
        }
        println!(
            "median: {median:.3}s  {:.0} events/s  {:.1} MB/s  peak RSS {}",
            median_run.events as f64 / median,
            bytes as f64 / 1e6 / median,
            peak_rss_mib.map_or("unknown".to_owned(), |mib| format!("{mib:.0} MiB"))
        );
    }
    Ok(())
}

/// Reads the process's peak resident set size (VmHWM) on Linux.
fn peak_rss_kib() -> Option<u64> {
    let status = fs_err::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}
