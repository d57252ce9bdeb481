//! `palisade ingest`, `palisade query` and `palisade store ...`: the embedded event store
//! from the command line, working on the data directory directly.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::{Args, Subcommand};
use datafusion::arrow::array::{Array, RecordBatch};
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use indicatif::{ProgressBar, ProgressStyle};
use palisade_store::{
    FsyncPolicy, QueryLimits, RetentionLimits, RetentionPolicy, Store, StoreConfig,
};

use crate::config::Config;
use crate::inputs;
use crate::output::escape_terminal;
use crate::{Exit, Format, Globals};

/// Arguments of `palisade ingest`.
#[derive(Debug, Args)]
pub(crate) struct IngestArgs {
    /// Files or directories to import: EVTX, JSON, JSON lines, or text/syslog lines (a named
    /// file that is neither EVTX nor JSON; `.log` files in directories).
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// How text lines are parsed: auto (detect per line), syslog, nginx, apache, apache_error, auditd,
    /// bind, zeek, suricata, cloudtrail, cef, logfmt, json or raw.
    #[arg(long = "type", value_name = "TYPE", default_value = "auto")]
    source_type: String,
}

/// Arguments of `palisade query`.
#[derive(Debug, Args)]
pub(crate) struct QueryArgs {
    /// The SQL query; the table of all events is `events`, columns keep their ECS names
    /// (`"source.ip"`).
    #[arg(value_name = "SQL")]
    sql: String,
    /// Return at most this many rows (default 10000, or `query.max_rows`).
    #[arg(long)]
    max_rows: Option<usize>,
    /// Stop the query after this many seconds (default 60, or `query.timeout`).
    #[arg(long)]
    timeout: Option<u64>,
    /// Memory the query may use, in MiB (default 1024, or `query.memory_mib`).
    #[arg(long)]
    memory_mib: Option<usize>,
    /// Send the query to a running server instead of opening the data directory; the token
    /// is read from PALISADE_TOKEN.
    #[arg(long, env = "PALISADE_SERVER", value_name = "URL")]
    server: Option<String>,
}

/// Subcommands of `palisade store`.
#[derive(Debug, Subcommand)]
pub(crate) enum StoreCommand {
    /// Events, segments, bytes on disk against raw bytes, time range.
    Stats,
    /// Write every event still in the log to a segment.
    Flush,
    /// Time a file of named hunting queries (`-- name:` blocks, as tools/store/queries.sql)
    /// and write their rows and median latencies as JSON, for comparison with DuckDB.
    BenchQueries {
        /// The .sql file.
        file: PathBuf,
        /// Runs per query; the median is reported.
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Where to write the JSON results.
        #[arg(long)]
        out: PathBuf,
    },
    /// Delete segments older than an age or beyond a size, for every source or one.
    Retention {
        /// Keep events newer than this many days.
        #[arg(long)]
        max_age_days: Option<u64>,
        /// Keep at most this many MiB of segments per source.
        #[arg(long)]
        max_mib: Option<u64>,
        /// Apply the limits to this source (`event.dataset`) only.
        #[arg(long, value_name = "DATASET")]
        source: Option<String>,
    },
}

/// Opens the store for a one-off command. The log is synced on close and imports end with a
/// flush, so per-batch fsyncs would only slow them down.
fn open(data_dir: &std::path::Path, config: &Config) -> anyhow::Result<Store> {
    let store_config = StoreConfig { fsync: FsyncPolicy::Never, ..config.store_config()? };
    open_with(data_dir, store_config)
}

/// Opens the store, turning "in use by another process" into a usage error.
pub(crate) fn open_with(data_dir: &std::path::Path, config: StoreConfig) -> anyhow::Result<Store> {
    Store::open(data_dir, config).map_err(|error| match error {
        palisade_store::Error::Locked(_) => anyhow::Error::new(Exit::Usage(error.into())),
        other => anyhow::Error::new(other)
            .context(format!("opening the data directory {}", data_dir.display())),
    })
}

/// Runs `palisade ingest`.
#[allow(clippy::print_stderr, clippy::cast_precision_loss)]
pub(crate) fn ingest(
    args: &IngestArgs,
    data_dir: &std::path::Path,
    config: &Config,
    globals: &Globals,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let found = inputs::discover(&args.paths, true)?;
    if found.is_empty() {
        return Err(Exit::Usage(anyhow::anyhow!(
            "no .evtx, .json, .jsonl, .ndjson or .log files to import"
        ))
        .into());
    }
    let enricher = config.enricher()?;
    let lines = inputs::LineOptions {
        source: crate::config::source_type(&args.source_type, "--type")?,
        zone: config.time_zone()?,
    };
    let store = open(data_dir, config)?;
    let total: u64 = found.iter().map(|input| input.size).sum();
    let bar = if globals.quiet { ProgressBar::hidden() } else { ProgressBar::new(total) };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {bytes}/{total_bytes} ({bytes_per_sec}) {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut events = 0u64;
    let mut errors = 0u64;
    let mut unparsed = 0u64;
    for input in &found {
        let mut failure = None;
        let stats = inputs::read_batches(input, inputs::Unparsed::Keep, &lines, |mut batch| {
            for event in &mut batch {
                enricher.enrich(event);
            }
            if failure.is_none()
                && let Err(error) = store.append(batch)
            {
                failure = Some(error);
            }
        });
        if let Some(error) = failure {
            return Err(error).context("storing events");
        }
        match stats {
            Ok(stats) => {
                events += stats.events;
                errors += stats.errors;
                unparsed += stats.unparsed;
            }
            Err(error) => bar.println(format!("unreadable: {}: {error:#}", input.path.display())),
        }
        bar.inc(input.size);
    }
    store.flush().context("flushing to a segment")?;
    bar.finish_and_clear();
    if !globals.quiet {
        let elapsed = started.elapsed().as_secs_f64();
        eprintln!(
            "Imported {events} events from {} files ({unparsed} kept raw, {errors} unreadable records) in {elapsed:.2}s, {:.0} events/s",
            found.len(),
            events as f64 / elapsed.max(1e-9)
        );
    }
    Ok(())
}

/// Runs `palisade query`.
pub(crate) fn query(
    args: &QueryArgs,
    data_dir: &std::path::Path,
    config: &Config,
    globals: &Globals,
) -> anyhow::Result<()> {
    if let Some(server) = &args.server {
        return query_remote(server, args, globals.format.unwrap_or(Format::Table), globals.quiet);
    }
    let store = open(data_dir, config)?;
    let defaults = config.query_limits()?;
    let limits = QueryLimits {
        max_rows: args.max_rows.unwrap_or(defaults.max_rows),
        timeout: args.timeout.map_or(defaults.timeout, Duration::from_secs),
        memory_bytes: args.memory_mib.map_or(defaults.memory_bytes, |mib| mib << 20),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .thread_stack_size(crate::commands::serve::QUERY_STACK)
        .enable_all()
        .build()
        .context("starting the query runtime")?;
    let output = runtime.block_on(store.query(&args.sql, limits)).map_err(|error| match error {
        palisade_store::Error::InvalidQuery(_) | palisade_store::Error::QueryLimit(_) => {
            anyhow::Error::new(Exit::Usage(error.into()))
        }
        other => anyhow::Error::new(other),
    })?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    write_batches(
        &mut out,
        &output.batches,
        &output.schema,
        globals.format.unwrap_or(Format::Table),
    )?;
    out.flush()?;
    if output.truncated && !globals.quiet {
        #[allow(clippy::print_stderr)]
        {
            eprintln!("(result cut at {} rows; raise --max-rows to see more)", limits.max_rows);
        }
    }
    Ok(())
}

/// Runs a `palisade store` subcommand.
#[allow(clippy::print_stdout)]
pub(crate) fn run(
    command: &StoreCommand,
    data_dir: &std::path::Path,
    config: &Config,
    globals: &Globals,
) -> anyhow::Result<()> {
    let store = open(data_dir, config)?;
    match command {
        StoreCommand::Flush => store.flush()?,
        StoreCommand::BenchQueries { file, runs, out } => {
            bench_queries(&store, file, (*runs).max(1), out, config, globals)?;
        }
        StoreCommand::Retention { max_age_days, max_mib, source } => {
            let limits = RetentionLimits {
                max_age: max_age_days.map(|days| Duration::from_secs(days * 86_400)),
                max_bytes: max_mib.map(|mib| mib << 20),
            };
            let policy = match source {
                Some(source) => RetentionPolicy {
                    sources: [(source.clone(), limits)].into(),
                    ..RetentionPolicy::default()
                },
                None => RetentionPolicy { default: limits, ..RetentionPolicy::default() },
            };
            let removed = store.apply_retention(&policy)?;
            println!("removed {removed} segments");
        }
        StoreCommand::Stats => {
            let stats = store.stats()?;
            if globals.format == Some(Format::Json) {
                println!("{}", serde_json::to_string_pretty(&stats)?);
            } else {
                let on_disk = stats.segment_bytes + stats.wal_bytes;
                #[allow(clippy::cast_precision_loss)]
                let ratio =
                    if on_disk == 0 { 0.0 } else { stats.raw_bytes as f64 / on_disk as f64 };
                println!("events           {}", stats.events);
                println!("  not flushed    {}", stats.unflushed_events);
                println!("segments         {}", stats.segments);
                println!(
                    "bytes on disk    {} (segments {}, log {})",
                    on_disk, stats.segment_bytes, stats.wal_bytes
                );
                println!("raw bytes        {} ({ratio:.1}x smaller on disk)", stats.raw_bytes);
                println!(
                    "time range       {} .. {}",
                    stats.first_event.as_deref().unwrap_or("-"),
                    stats.last_event.as_deref().unwrap_or("-")
                );
                for (source, counts) in &stats.sources {
                    println!(
                        "  {:<22} {} events, {} segments, {} bytes",
                        escape_terminal(source),
                        counts.events,
                        counts.segments,
                        counts.segment_bytes
                    );
                }
            }
        }
    }
    Ok(())
}

fn write_batches(
    out: &mut dyn std::io::Write,
    batches: &[RecordBatch],
    schema: &datafusion::arrow::datatypes::SchemaRef,
    format: Format,
) -> anyhow::Result<()> {
    let options = FormatOptions::default().with_null("");
    let names: Vec<String> = schema.fields().iter().map(|field| field.name().clone()).collect();
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut json_rows: Vec<serde_json::Map<String, serde_json::Value>> = Vec::new();
    for batch in batches {
        let formatters = batch
            .columns()
            .iter()
            .map(|column| ArrayFormatter::try_new(column.as_ref(), &options))
            .collect::<Result<Vec<_>, _>>()?;
        for row in 0..batch.num_rows() {
            if matches!(format, Format::Json | Format::Jsonl) {
                let mut object = serde_json::Map::new();
                for (idx, column) in batch.columns().iter().enumerate() {
                    let value = if column.is_null(row) {
                        serde_json::Value::Null
                    } else {
                        let text = formatters[idx].value(row).to_string();
                        match column.data_type() {
                            DataType::Int8
                            | DataType::Int16
                            | DataType::Int32
                            | DataType::Int64
                            | DataType::UInt8
                            | DataType::UInt16
                            | DataType::UInt32
                            | DataType::UInt64
                            | DataType::Float32
                            | DataType::Float64
                            | DataType::Boolean => serde_json::from_str(&text)
                                .unwrap_or(serde_json::Value::String(text)),
                            _ => serde_json::Value::String(text),
                        }
                    };
                    object.insert(names[idx].clone(), value);
                }
                json_rows.push(object);
            } else {
                rows.push(
                    formatters.iter().map(|formatter| formatter.value(row).to_string()).collect(),
                );
            }
        }
    }
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &json_rows)?;
            writeln!(out)?;
        }
        Format::Jsonl => {
            for row in &json_rows {
                serde_json::to_writer(&mut *out, row)?;
                writeln!(out)?;
            }
        }
        Format::Csv => {
            let mut csv = csv::Writer::from_writer(&mut *out);
            csv.write_record(&names)?;
            for row in &rows {
                csv.write_record(row)?;
            }
            csv.flush()?;
        }
        Format::Table => print_table(out, &names, &rows)?,
    }
    Ok(())
}

/// Aligned columns; cells are cut at 80 characters and control characters escaped, since
/// they come from logs.
fn print_table(
    out: &mut dyn std::io::Write,
    names: &[String],
    rows: &[Vec<String>],
) -> anyhow::Result<()> {
    let escape = |cell: &String| escape_terminal(&truncate(cell, 80));
    let header: Vec<String> = names.iter().map(escape).collect();
    let cells: Vec<Vec<String>> = rows.iter().map(|row| row.iter().map(escape).collect()).collect();
    let mut widths: Vec<usize> = header.iter().map(|name| name.chars().count()).collect();
    for row in &cells {
        for (idx, cell) in row.iter().enumerate() {
            widths[idx] = widths[idx].max(cell.chars().count());
        }
    }
    let line = |values: &[String]| {
        values
            .iter()
            .enumerate()
            .map(|(idx, value)| format!("{value:<width$}", width = widths[idx]))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    writeln!(out, "{}", line(&header))?;
    for row in &cells {
        writeln!(out, "{}", line(row))?;
    }
    writeln!(out, "({} rows)", cells.len())?;
    Ok(())
}

/// Runs the query on a server (`--server URL`, token in `PALISADE_TOKEN`) and prints its
/// answer in the chosen format.
fn query_remote(server: &str, args: &QueryArgs, format: Format, quiet: bool) -> anyhow::Result<()> {
    let token = std::env::var("PALISADE_TOKEN").map_err(|_| {
        Exit::Usage(anyhow::anyhow!(
            "--server needs a token in PALISADE_TOKEN (create one with `palisade token create`)"
        ))
    })?;
    let mut request = serde_json::json!({
        "query": args.sql,
        "format": match format {
            Format::Csv => "csv",
            Format::Jsonl => "ndjson",
            Format::Table | Format::Json => "json",
        },
    });
    if let Some(rows) = args.max_rows {
        request["max_rows"] = rows.into();
    }
    if let Some(timeout) = args.timeout {
        request["timeout_seconds"] = timeout.into();
    }
    let url = format!("{}/api/v1/query", server.trim_end_matches('/'));
    let agent: ureq::Agent =
        ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut response = agent
        .post(&url)
        .header("Authorization", &format!("Bearer {token}"))
        .send_json(&request)
        .with_context(|| format!("sending the query to {url}"))?;
    let status = response.status().as_u16();
    let body = response.body_mut().with_config().limit(u64::MAX).read_to_string()?;
    if status != 200 {
        let message = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|error| error["error"].as_str().map(str::to_owned))
            .unwrap_or(body);
        let error = anyhow::anyhow!("the server answered {status}: {message}");
        return Err(if (400..500).contains(&status) { Exit::Usage(error).into() } else { error });
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if matches!(format, Format::Csv | Format::Jsonl) {
        out.write_all(body.as_bytes())?;
        return Ok(out.flush()?);
    }
    let document: serde_json::Value = serde_json::from_str(&body).context("reading the answer")?;
    let names: Vec<String> = document["columns"]
        .as_array()
        .map(|columns| {
            columns.iter().filter_map(|c| c["name"].as_str().map(str::to_owned)).collect()
        })
        .unwrap_or_default();
    let rows: Vec<&serde_json::Map<String, serde_json::Value>> = document["rows"]
        .as_array()
        .map(|rows| rows.iter().filter_map(serde_json::Value::as_object).collect())
        .unwrap_or_default();
    if format == Format::Json {
        serde_json::to_writer_pretty(&mut out, &rows)?;
        writeln!(out)?;
    } else {
        let cells: Vec<Vec<String>> = rows
            .iter()
            .map(|row| {
                names
                    .iter()
                    .map(|name| match row.get(name) {
                        None | Some(serde_json::Value::Null) => String::new(),
                        Some(serde_json::Value::String(text)) => text.clone(),
                        Some(other) => other.to_string(),
                    })
                    .collect()
            })
            .collect();
        print_table(&mut out, &names, &cells)?;
    }
    out.flush()?;
    if let Some(error) = document["error"].as_str() {
        return Err(anyhow::anyhow!("the query stopped part way: {error}"));
    }
    if document["truncated"] == true && !quiet {
        #[allow(clippy::print_stderr)]
        {
            eprintln!("(result cut at the row cap; ask for fewer rows or narrow the query)");
        }
    }
    Ok(())
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(max - 1).collect::<String>())
    }
}

/// One `-- name:` block of a query file.
struct NamedQuery {
    name: String,
    why: String,
    sql: String,
}

/// Splits a file into `-- name:` blocks; `-- why:` lines describe them, other leading
/// comment lines are skipped.
fn parse_query_file(text: &str) -> Vec<NamedQuery> {
    let mut queries = Vec::new();
    for block in text.split("-- name:").skip(1) {
        let (name, body) = block.split_once('\n').unwrap_or((block, ""));
        let mut why = String::new();
        let mut sql = Vec::new();
        for line in body.lines() {
            if let Some(text) = line.trim_start().strip_prefix("-- why:") {
                why = text.trim().to_owned();
            } else if !(line.trim_start().starts_with("--") && sql.is_empty()) {
                sql.push(line);
            }
        }
        let sql = sql.join("\n").trim().trim_end_matches(';').trim().to_owned();
        queries.push(NamedQuery { name: name.trim().to_owned(), why, sql });
    }
    queries
}

/// Rows of a result as JSON arrays in column order (Arrow's JSON encoding: numbers stay
/// numbers, lists stay lists, times are RFC 3339 text).
fn json_rows(batches: &[RecordBatch]) -> anyhow::Result<Vec<Vec<serde_json::Value>>> {
    use datafusion::arrow::json::writer::{LineDelimited, WriterBuilder};
    let mut rows = Vec::new();
    for batch in batches {
        let names: Vec<String> =
            batch.schema().fields().iter().map(|field| field.name().clone()).collect();
        let mut lines = Vec::new();
        let mut writer =
            WriterBuilder::new().with_explicit_nulls(true).build::<_, LineDelimited>(&mut lines);
        writer.write(batch)?;
        writer.finish()?;
        drop(writer);
        for line in lines.split(|byte| *byte == b'\n').filter(|line| !line.is_empty()) {
            let mut object: serde_json::Map<String, serde_json::Value> =
                serde_json::from_slice(line)?;
            rows.push(
                names
                    .iter()
                    .map(|name| object.remove(name).unwrap_or(serde_json::Value::Null))
                    .collect(),
            );
        }
    }
    Ok(rows)
}

#[allow(clippy::print_stdout, clippy::cast_precision_loss)]
fn bench_queries(
    store: &Store,
    file: &std::path::Path,
    runs: usize,
    out: &std::path::Path,
    config: &Config,
    globals: &Globals,
) -> anyhow::Result<()> {
    let text = fs_err::read_to_string(file)?;
    let queries = parse_query_file(&text);
    if queries.is_empty() {
        return Err(
            Exit::Usage(anyhow::anyhow!("{} has no `-- name:` blocks", file.display())).into()
        );
    }
    let limits = QueryLimits { max_rows: usize::MAX, ..config.query_limits()? };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .thread_stack_size(crate::commands::serve::QUERY_STACK)
        .enable_all()
        .build()?;
    let events = store.stats()?.events;
    let width = queries.iter().map(|query| query.name.len()).max().unwrap_or(10);
    if !globals.quiet {
        println!("{:<width$}  {:>7}  {:>10}", "query", "rows", "median ms");
    }
    let mut results = Vec::new();
    let mut failed = 0;
    for query in &queries {
        let mut timings = Vec::with_capacity(runs);
        let mut entry = serde_json::json!({"name": query.name, "why": query.why, "sql": query.sql});
        for run in 0..runs {
            let started = Instant::now();
            match runtime.block_on(store.query(&query.sql, limits)) {
                Ok(output) => {
                    timings.push(started.elapsed().as_secs_f64() * 1000.0);
                    if run == 0 {
                        let columns: Vec<&String> =
                            output.schema.fields().iter().map(|field| field.name()).collect();
                        let rows = json_rows(&output.batches)?;
                        entry["columns"] = serde_json::json!(columns);
                        entry["row_count"] = serde_json::json!(rows.len());
                        entry["rows"] = serde_json::json!(rows);
                    }
                }
                Err(error) => {
                    entry["error"] = serde_json::json!(error.to_string());
                    break;
                }
            }
        }
        if entry.get("error").is_some() {
            failed += 1;
            if !globals.quiet {
                println!("{:<width$}  {:>7}  {}", query.name, "ERROR", entry["error"]);
            }
        } else {
            timings.sort_by(f64::total_cmp);
            let median = timings[timings.len() / 2];
            entry["median_ms"] = serde_json::json!((median * 1000.0).round() / 1000.0);
            entry["timings_ms"] = serde_json::json!(timings);
            if !globals.quiet {
                println!("{:<width$}  {:>7}  {median:>10.1}", query.name, entry["row_count"]);
            }
        }
        results.push(entry);
    }
    let document = serde_json::json!({
        "engine": "palisade",
        "version": env!("CARGO_PKG_VERSION"),
        "events": events,
        "runs": runs,
        "queries": results,
    });
    fs_err::write(out, serde_json::to_string_pretty(&document)? + "\n")?;
    if failed > 0 {
        return Err(anyhow::anyhow!("{failed} of {} queries failed", queries.len()));
    }
    Ok(())
}
