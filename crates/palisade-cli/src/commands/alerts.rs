//! `palisade alerts`: the alerts that live detection recorded in the data directory's state
//! database, newest first.

use std::io::Write as _;

use clap::Args;
use palisade_state::{AlertFilter, StateDb};

use crate::output::escape_terminal;
use crate::{Exit, Format, Globals};

/// Arguments of `palisade alerts`.
#[derive(Debug, Args)]
pub(crate) struct AlertsArgs {
    /// Only alerts detected since: a span back from now (`30m`, `24h`, `7d`) or an RFC 3339 time.
    #[arg(long, value_name = "WHEN")]
    since: Option<String>,
    /// Only alerts of at least this severity (informational, low, medium, high, critical).
    #[arg(long, value_name = "LEVEL")]
    severity: Option<String>,
    /// Only the alerts of this rule (its id, or `palisade.<detector>`).
    #[arg(long, value_name = "ID")]
    rule: Option<String>,
    /// At most this many alerts.
    #[arg(long, default_value_t = 100)]
    limit: u32,
    /// Also list alerts that an exception covers.
    #[arg(long)]
    all: bool,
}

/// Runs `palisade alerts`.
pub(crate) fn run(
    args: &AlertsArgs,
    data_dir: &std::path::Path,
    globals: &Globals,
) -> anyhow::Result<()> {
    let usage = |message: String| anyhow::Error::new(Exit::Usage(anyhow::anyhow!(message)));
    let since = args
        .since
        .as_deref()
        .map(|text| {
            palisade_server::parse_since(text)
                .map_err(|message| usage(format!("--since {message}")))
        })
        .transpose()?;
    let min_severity = args
        .severity
        .as_deref()
        .map(|text| {
            palisade_detect::Severity::parse(&text.to_ascii_lowercase()).ok_or_else(|| {
                usage(format!(
                    "--severity must be informational, low, medium, high or critical, not `{text}`"
                ))
            })
        })
        .transpose()?;
    let filter = AlertFilter {
        since,
        min_severity,
        rule_id: args.rule.clone(),
        limit: Some(args.limit),
        include_excepted: args.all,
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let alerts = runtime.block_on(async {
        let db = StateDb::open(data_dir).await?;
        db.list_alerts(&filter).await
    })?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match globals.format.unwrap_or(Format::Table) {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &alerts)?;
            writeln!(out)?;
        }
        Format::Jsonl => {
            for stored in &alerts {
                serde_json::to_writer(&mut out, stored)?;
                writeln!(out)?;
            }
        }
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(out);
            writer.write_record([
                "id",
                "detected_at",
                "severity",
                "kind",
                "rule_id",
                "rule_title",
                "count",
                "first_seen",
                "last_seen",
                "users",
                "hosts",
                "ips",
                "domains",
                "evidence",
                "summary",
            ])?;
            for stored in &alerts {
                let alert = &stored.alert;
                let join = |set: &std::collections::BTreeSet<String>| {
                    set.iter().cloned().collect::<Vec<_>>().join(" ")
                };
                writer.write_record([
                    stored.id.to_string(),
                    alert.detected_at.to_string(),
                    alert.severity.as_str().to_owned(),
                    alert.kind.as_str().to_owned(),
                    alert.rule_id.clone(),
                    alert.rule_title.clone(),
                    alert.count.to_string(),
                    alert.first_seen.to_string(),
                    alert.last_seen.to_string(),
                    join(&alert.entities.users),
                    join(&alert.entities.hosts),
                    join(&alert.entities.ips),
                    join(&alert.entities.domains),
                    alert.evidence.iter().map(u64::to_string).collect::<Vec<_>>().join(" "),
                    alert.summary.clone(),
                ])?;
            }
            writer.flush()?;
        }
        Format::Table => {
            writeln!(
                out,
                "{:<6} {:<20} {:<13} {:>5}  {:<50} summary",
                "id", "last seen", "severity", "count", "rule"
            )?;
            for stored in &alerts {
                let alert = &stored.alert;
                let last = alert.last_seen.strftime("%Y-%m-%d %H:%M:%S").to_string();
                writeln!(
                    out,
                    "{:<6} {:<20} {:<13} {:>5}  {:<50} {}",
                    stored.id,
                    last,
                    alert.severity.as_str(),
                    alert.count,
                    escape_terminal(&truncate(&alert.rule_title, 50)),
                    escape_terminal(&truncate(&alert.summary, 120)),
                )?;
            }
            if !globals.quiet {
                writeln!(out, "{} alerts", alerts.len())?;
            }
        }
    }
    Ok(())
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut short: String = text.chars().take(max.saturating_sub(1)).collect();
        short.push('…');
        short
    }
}
