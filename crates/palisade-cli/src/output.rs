//! Rendering of scan results: the timeline (table, CSV, JSON, JSON lines) and the summary.
//!
//! Event content is attacker-controlled. In the terminal table every control character is
//! shown escaped (`\n`, `\x1b`), so a log line cannot move the cursor, recolour the terminal
//! or forge extra rows. CSV and JSON are escaped by their writers.

use std::fmt::Write as _;
use std::io::Write;

use palisade_event::{Event, Value};

use crate::Format;
use crate::commands::scan::{Detection, ScanReport, Summary, record_id};

/// Fields shown in the `details` column, in order of preference.
const DETAIL_FIELDS: &[&str] = &[
    "CommandLine",
    "ScriptBlockText",
    "Image",
    "ParentImage",
    "TargetFilename",
    "TargetObject",
    "Details",
    "ImageLoaded",
    "QueryName",
    "DestinationIp",
    "DestinationHostname",
    "PipeName",
    "ServiceName",
    "ImagePath",
    "TargetUserName",
    "SubjectUserName",
    "IpAddress",
    "WorkstationName",
    "LogonType",
    "ObjectName",
    "ShareName",
    "Payload",
    "HostApplication",
    "Data",
    "process.command_line",
    "user.name",
    "source.ip",
    "url.original",
    "message",
];

/// Escapes control characters for terminal output.
pub(crate) fn escape_terminal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control()
                || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') =>
            {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

fn details(event: &Event) -> String {
    let mut parts = Vec::new();
    for field in DETAIL_FIELDS {
        if let Some(text) = event.get(field).and_then(Value::to_text) {
            if text.is_empty() || text == "-" {
                continue;
            }
            parts.push(format!("{field}={text}"));
        }
        if parts.len() == 3 {
            break;
        }
    }
    parts.join(" ¦ ")
}

fn text_of(event: &Event, field: &str) -> String {
    event.get(field).and_then(Value::to_text).map(|text| text.into_owned()).unwrap_or_default()
}

fn timestamp_text(detection: &Detection) -> String {
    detection.timestamp().map(|ts| ts.to_string()).unwrap_or_default()
}

fn json_detection(report: &ScanReport, detection: &Detection) -> serde_json::Value {
    let rule = report.rules.rule(detection.rule);
    serde_json::json!({
        "timestamp": detection.timestamp().map(|ts| ts.to_string()),
        "level": rule.meta.level,
        "rule": {
            "id": rule.meta.id,
            "title": rule.meta.title,
            "status": rule.meta.status,
            "path": rule.path,
            "tags": rule.meta.tags,
            "attack_techniques": rule.meta.attack_techniques(),
        },
        "file": report.inputs[detection.file].path,
        "computer": detection.event.get("Computer").or_else(|| detection.event.get("host.name")).and_then(Value::to_text),
        "channel": detection.event.get("Channel").and_then(Value::to_text),
        "event_id": detection.event.get("EventID").map(Value::to_json),
        "record_id": record_id(&detection.event),
        "event": detection.event.to_json(),
    })
}

/// Writes the timeline in the chosen format.
pub(crate) fn write_timeline(
    writer: &mut dyn Write,
    report: &ScanReport,
    summary: &Summary,
    format: Format,
    terminal: bool,
) -> anyhow::Result<()> {
    match format {
        Format::Jsonl => {
            for detection in &report.detections {
                serde_json::to_writer(&mut *writer, &json_detection(report, detection))?;
                writer.write_all(b"\n")?;
            }
        }
        Format::Json => {
            let detections: Vec<_> =
                report.detections.iter().map(|d| json_detection(report, d)).collect();
            serde_json::to_writer_pretty(
                &mut *writer,
                &serde_json::json!({"summary": summary, "detections": detections}),
            )?;
            writer.write_all(b"\n")?;
        }
        Format::Csv => {
            let mut csv = csv::Writer::from_writer(&mut *writer);
            csv.write_record([
                "timestamp",
                "level",
                "rule_title",
                "rule_id",
                "computer",
                "channel",
                "event_id",
                "record_id",
                "file",
                "details",
            ])?;
            for detection in &report.detections {
                let rule = report.rules.rule(detection.rule);
                csv.write_record([
                    timestamp_text(detection),
                    rule.meta.level.map(|level| level.to_string()).unwrap_or_default(),
                    rule.meta.title.clone(),
                    rule.meta.id.clone().unwrap_or_default(),
                    text_of(&detection.event, "Computer"),
                    text_of(&detection.event, "Channel"),
                    text_of(&detection.event, "EventID"),
                    record_id(&detection.event).map(|id| id.to_string()).unwrap_or_default(),
                    report.inputs[detection.file].path.display().to_string(),
                    details(&detection.event),
                ])?;
            }
            csv.flush()?;
        }
        Format::Table => {
            let details_width = if terminal { 90 } else { 400 };
            let rows: Vec<[String; 7]> = report
                .detections
                .iter()
                .map(|detection| {
                    let rule = report.rules.rule(detection.rule);
                    [
                        timestamp_text(detection),
                        rule.meta.level.map(|level| level.to_string()).unwrap_or_default(),
                        escape_terminal(&truncate(&rule.meta.title, 60)),
                        escape_terminal(&truncate(&text_of(&detection.event, "Computer"), 24)),
                        escape_terminal(&truncate(&text_of(&detection.event, "Channel"), 28)),
                        text_of(&detection.event, "EventID"),
                        escape_terminal(&truncate(&details(&detection.event), details_width)),
                    ]
                })
                .collect();
            let header =
                ["Timestamp", "Level", "Rule", "Computer", "Channel", "EventID", "Details"];
            let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
            for row in &rows {
                for (idx, cell) in row.iter().enumerate().take(6) {
                    widths[idx] = widths[idx].max(cell.chars().count());
                }
            }
            let line = |cells: &[&str]| {
                let mut text = String::new();
                for (idx, cell) in cells.iter().enumerate() {
                    if idx < 6 {
                        let _ = write!(text, "{cell:<width$}  ", width = widths[idx]);
                    } else {
                        text.push_str(cell);
                    }
                }
                text.trim_end().to_owned()
            };
            writeln!(writer, "{}", line(&header))?;
            for row in &rows {
                let cells: Vec<&str> = row.iter().map(String::as_str).collect();
                writeln!(writer, "{}", line(&cells))?;
            }
        }
    }
    writer.flush()?;
    Ok(())
}

/// Prints the human summary on standard error, so standard output stays the timeline.
#[allow(clippy::print_stderr)]
pub(crate) fn print_summary(summary: &Summary, report: &ScanReport, verbose: bool) {
    eprintln!();
    eprintln!(
        "Scanned {} files ({:.1} MB), {} events, {} unreadable records",
        summary.files,
        summary.bytes as f64 / 1e6,
        summary.events,
        summary.record_errors
    );
    eprintln!(
        "Rules: {} loaded, {} failed to load{}, {} outside the field mapping (not evaluated), {} correlation rules (not evaluated by scan)",
        summary.rules_loaded,
        summary.rules_failed,
        if summary.rules_filtered_out > 0 {
            format!(", {} filtered out", summary.rules_filtered_out)
        } else {
            String::new()
        },
        summary.rules_unmapped,
        summary.correlation_rules,
    );
    let errors: Vec<_> = report.rules.errors().collect();
    for diagnostic in errors.iter().take(if verbose { usize::MAX } else { 5 }) {
        eprintln!("  skipped: {}", escape_terminal(&diagnostic.to_string()));
    }
    if errors.len() > 5 && !verbose {
        eprintln!("  ... and {} more (see `palisade rules lint` or --verbose)", errors.len() - 5);
    }
    for (path, why) in &report.failed_files {
        eprintln!("  unreadable: {}: {}", path.display(), escape_terminal(why));
    }
    let levels: Vec<String> = ["critical", "high", "medium", "low", "informational", "none"]
        .iter()
        .filter_map(|level| {
            summary.detections_by_level.get(*level).map(|count| format!("{level} {count}"))
        })
        .collect();
    eprintln!(
        "Detections: {} ({})",
        summary.detections,
        if levels.is_empty() { "none".to_owned() } else { levels.join(", ") }
    );
    if !summary.top_rules.is_empty() {
        eprintln!("Top rules:");
        for top in &summary.top_rules {
            eprintln!(
                "  {:>6}  {:<13} {}",
                top.detections,
                top.level.map_or("-".to_owned(), |l| l.to_string()),
                escape_terminal(&top.title)
            );
        }
    }
    eprintln!(
        "Elapsed {:.2}s (rules {:.2}s), {:.0} events/s, {:.1} MB/s",
        summary.elapsed_seconds,
        summary.rule_load_seconds,
        summary.events_per_second,
        summary.megabytes_per_second
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_escaping_neutralises_control_sequences() {
        assert_eq!(escape_terminal("a\u{1b}[31mred\nb"), "a\\u{1b}[31mred\\nb");
        assert_eq!(escape_terminal("rtl\u{202e}txt"), "rtl\\u{202e}txt");
        assert_eq!(escape_terminal("plain é"), "plain é");
    }
}
