//! Input files for `scan` and `ingest`: discovery and reading into events.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use palisade_event::Event;

use crate::Exit;
use crate::rules_source::is_evtx;

/// The kinds of file `scan` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InputKind {
    /// Windows event log.
    Evtx,
    /// JSON document(s) or JSON lines.
    Json,
    /// Text lines (syslog files such as /var/log/auth.log): `ingest` only.
    Lines,
    /// Windows events as XML (`wevtutil qe /f:xml`, `Get-WinEvent ... ToXml()`).
    Xml,
}

/// How text lines are read (`ingest`): the source type and the zone of zone-less times.
#[derive(Debug, Clone)]
pub(crate) struct LineOptions {
    pub(crate) source: palisade_parse::source::SourceType,
    pub(crate) zone: jiff::tz::TimeZone,
}

impl Default for LineOptions {
    fn default() -> Self {
        Self {
            source: palisade_parse::source::SourceType::Auto,
            zone: jiff::tz::TimeZone::system(),
        }
    }
}

/// How a reader treats what it cannot parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unparsed {
    /// Count it as an error (scan: a damaged record is reported, not matched).
    Count,
    /// Keep it as a raw event, tagged `_unparsed` (ingest: nothing accepted is dropped).
    Keep,
}

/// One input file.
#[derive(Debug, Clone)]
pub(crate) struct Input {
    pub(crate) path: PathBuf,
    pub(crate) kind: InputKind,
    pub(crate) size: u64,
}

/// Finds the inputs: files named directly are read whatever their name (EVTX by magic, else
/// JSON, else, with `lines`, text lines); directories are walked for `.evtx`, `.json`,
/// `.jsonl` and `.ndjson` files, and with `lines` also `.log` files.
pub(crate) fn discover(paths: &[PathBuf], lines: bool) -> anyhow::Result<Vec<Input>> {
    let mut inputs = Vec::new();
    for path in paths {
        let metadata = fs_err::metadata(path)
            .map_err(|error| Exit::Usage(anyhow::Error::new(error).context("reading input")))?;
        if metadata.is_file() {
            let kind = if is_evtx(path) {
                InputKind::Evtx
            } else if kind_by_extension(path) == Some(InputKind::Xml) || looks_like_xml(path)? {
                InputKind::Xml
            } else if !lines
                || kind_by_extension(path) == Some(InputKind::Json)
                || looks_like_json(path)?
            {
                InputKind::Json
            } else {
                InputKind::Lines
            };
            inputs.push(Input { path: path.clone(), kind, size: metadata.len() });
            continue;
        }
        for entry in walkdir::WalkDir::new(path).follow_links(true) {
            let entry = entry.with_context(|| format!("walking {}", path.display()))?;
            if !entry.file_type().is_file() {
                continue;
            }
            let Some(kind) = kind_by_extension(entry.path()) else { continue };
            if kind == InputKind::Lines && !lines {
                continue;
            }
            let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
            inputs.push(Input { path: entry.into_path(), kind, size });
        }
    }
    inputs.sort_by(|a, b| a.path.cmp(&b.path));
    inputs.dedup_by(|a, b| a.path == b.path);
    Ok(inputs)
}

fn kind_by_extension(path: &Path) -> Option<InputKind> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "evtx" => Some(InputKind::Evtx),
        "json" | "jsonl" | "ndjson" => Some(InputKind::Json),
        "log" => Some(InputKind::Lines),
        "xml" => Some(InputKind::Xml),
        _ => None,
    }
}

/// What reading one file produced, besides its events.
#[derive(Debug, Default)]
pub(crate) struct ReadStats {
    /// Records or lines read as events.
    pub(crate) events: u64,
    /// Records or lines that could not be read.
    pub(crate) errors: u64,
    /// Lines no parser understood, kept raw (ingest).
    pub(crate) unparsed: u64,
    /// The first few reasons, for the summary.
    pub(crate) first_errors: Vec<String>,
}

impl ReadStats {
    fn error(&mut self, message: String) {
        self.errors += 1;
        if self.first_errors.len() < 5 {
            self.first_errors.push(message);
        }
    }
}

/// Events are handed to the matcher in batches of this many, so that memory stays bounded
/// whatever the file size and every batch is matched on all cores.
pub(crate) const BATCH: usize = 8192;

/// JSON lines are read in blocks of this many bytes (cut at a line end).
const BLOCK: usize = 16 * 1024 * 1024;

/// Reads one input and hands its events to `sink` in batches. A file that cannot be opened
/// at all is an error; damaged records or lines inside it are counted, and the rest is read.
pub(crate) fn read_batches(
    input: &Input,
    unparsed: Unparsed,
    lines: &LineOptions,
    mut sink: impl FnMut(Vec<Event>),
) -> anyhow::Result<ReadStats> {
    let mut stats = ReadStats::default();
    let mut batch = Vec::with_capacity(BATCH);
    match input.kind {
        InputKind::Evtx => {
            let bytes = fs_err::read(&input.path)?;
            // Large files are parsed chunk-parallel; small ones are many, so they run one per
            // thread and the file-level parallelism keeps the cores busy.
            let threads = if input.size > 16 * 1024 * 1024 { 0 } else { 1 };
            palisade_parse::format::evtx::for_each(bytes, threads, |record| {
                collect(record, &mut stats, &mut batch, &mut sink);
            })
            .with_context(|| format!("{} is not a readable EVTX file", input.path.display()))?;
        }
        InputKind::Json if looks_like_json_lines(&input.path)? => {
            read_json_lines(input, unparsed, &mut stats, &mut sink)?;
        }
        InputKind::Lines => read_text_lines(input, lines, &mut stats, &mut sink)?,
        InputKind::Xml => {
            let bytes = fs_err::read(&input.path)?;
            let text = String::from_utf8_lossy(&bytes);
            for record in palisade_parse::format::windows_xml::read_xml(&text) {
                collect(record, &mut stats, &mut batch, &mut sink);
            }
        }
        InputKind::Json => {
            let bytes = fs_err::read(&input.path)?;
            for record in palisade_parse::format::json::read_documents(&bytes) {
                collect(record, &mut stats, &mut batch, &mut sink);
            }
        }
    }
    if !batch.is_empty() {
        sink(batch);
    }
    Ok(stats)
}

/// Counts a parsed record, adds it to the batch and hands the batch on when it is full.
fn collect(
    record: palisade_parse::Result<Event>,
    stats: &mut ReadStats,
    batch: &mut Vec<Event>,
    sink: &mut impl FnMut(Vec<Event>),
) {
    match record {
        Ok(event) => {
            stats.events += 1;
            batch.push(event);
            if batch.len() == BATCH {
                sink(std::mem::replace(batch, Vec::with_capacity(BATCH)));
            }
        }
        Err(error) => stats.error(error.to_string()),
    }
}

/// Reads a text file line by line with the shared line decoder: the given source type, or
/// detection per line (syslog then the program's parser, access logs, audit.log, Zeek TSV,
/// CEF/LEEF, JSON lines...); lines no parser understands are kept raw and tagged. A
/// year-less BSD timestamp takes its year from the file's modification time, so last year's
/// rotated logs land in last year.
fn read_text_lines(
    input: &Input,
    options: &LineOptions,
    stats: &mut ReadStats,
    sink: &mut impl FnMut(Vec<Event>),
) -> anyhow::Result<()> {
    use palisade_parse::source::{Decoded, LineDecoder};
    use std::io::{BufRead as _, Read as _};
    /// Longer lines are cut and tagged, as the network inputs do.
    const MAX_LINE: usize = 64 * 1024;
    let file = fs_err::File::open(&input.path)?;
    let modified = file
        .metadata()
        .ok()
        .and_then(|meta| meta.modified().ok())
        .and_then(|time| jiff::Timestamp::try_from(time).ok())
        .unwrap_or_else(jiff::Timestamp::now);
    let ctx = palisade_parse::syslog::SyslogContext::new(modified, options.zone.clone());
    let mut decoder = LineDecoder::new(options.source, ctx);
    let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
    let mut line = Vec::new();
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        line.clear();
        let read = (&mut reader).take(MAX_LINE as u64 + 1).read_until(b'\n', &mut line)?;
        if read == 0 {
            break;
        }
        let truncated = line.len() > MAX_LINE && !line.ends_with(b"\n");
        if truncated {
            // Skip the rest of the over-long line.
            line.truncate(MAX_LINE);
            let mut rest = Vec::new();
            reader.read_until(b'\n', &mut rest)?;
        }
        let body = line.strip_suffix(b"\n").unwrap_or(&line);
        match decoder.decode(body, truncated, &mut batch) {
            Decoded::Parsed(count) => stats.events += count as u64,
            Decoded::Unparsed => {
                stats.events += 1;
                stats.unparsed += 1;
            }
            Decoded::Skipped => {}
        }
        if batch.len() >= BATCH {
            sink(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)));
        }
    }
    if !batch.is_empty() {
        sink(batch);
    }
    Ok(())
}

/// Whether a file starts like Windows event XML.
fn looks_like_xml(path: &Path) -> anyhow::Result<bool> {
    use std::io::Read as _;
    let mut head = [0u8; 512];
    let read = fs_err::File::open(path)?.read(&mut head)?;
    let text = String::from_utf8_lossy(&head[..read]);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    Ok(text.starts_with("<?xml") || text.starts_with("<Events") || text.starts_with("<Event "))
}

/// Whether a file starts like JSON (an object or an array).
fn looks_like_json(path: &Path) -> anyhow::Result<bool> {
    use std::io::Read as _;
    let mut head = [0u8; 512];
    let read = fs_err::File::open(path)?.read(&mut head)?;
    // `[` alone is not enough: Apache error logs and many others start with `[time]`. A JSON
    // array of events opens with `[` then `{` (or is empty).
    let mut significant = head[..read].iter().filter(|byte| !byte.is_ascii_whitespace());
    Ok(match significant.next() {
        Some(b'{') => true,
        Some(b'[') => matches!(significant.next(), Some(b'{' | b']') | None),
        _ => false,
    })
}

/// JSON lines when the first line alone is a complete JSON object.
fn looks_like_json_lines(path: &Path) -> anyhow::Result<bool> {
    use std::io::Read as _;
    let mut head = vec![0u8; 1 << 20];
    let mut file = fs_err::File::open(path)?;
    let read = file.read(&mut head)?;
    head.truncate(read);
    let Some(end) = head.iter().position(|byte| *byte == b'\n') else { return Ok(false) };
    let first = &head[..end];
    Ok(first.iter().find(|byte| !byte.is_ascii_whitespace()) == Some(&b'{')
        && serde_json::from_slice::<serde_json::Value>(first).is_ok())
}

/// Streams a JSON-lines file in blocks; the lines of each block are parsed on all cores.
fn read_json_lines(
    input: &Input,
    unparsed: Unparsed,
    stats: &mut ReadStats,
    sink: &mut impl FnMut(Vec<Event>),
) -> anyhow::Result<()> {
    use rayon::prelude::*;
    use std::io::Read as _;
    let mut file = fs_err::File::open(&input.path)?;
    let mut carry: Vec<u8> = Vec::new();
    let mut line_offset = 0usize;
    let mut block = vec![0u8; BLOCK];
    loop {
        let read = file.read(&mut block)?;
        let at_end = read == 0;
        carry.extend_from_slice(&block[..read]);
        let cut = if at_end {
            carry.len()
        } else {
            match carry.iter().rposition(|byte| *byte == b'\n') {
                Some(pos) => pos + 1,
                None => continue,
            }
        };
        let lines: Vec<&[u8]> = carry[..cut].split(|byte| *byte == b'\n').collect();
        // Each line's event, or why it could not be read; the flag marks a line kept raw.
        let parsed: Vec<(bool, Result<Vec<Event>, String>)> = lines
            .par_iter()
            .enumerate()
            .filter(|(_, line)| line.iter().any(|byte| !byte.is_ascii_whitespace()))
            .map(|(idx, line)| {
                let result = palisade_parse::source::json_line_events(line)
                    .map_err(|error| format!("line {}: {error}", line_offset + idx + 1));
                match (result, unparsed) {
                    (Err(_), Unparsed::Keep) => {
                        let text = String::from_utf8_lossy(line);
                        let raw = palisade_parse::line::raw_event(text.trim_end_matches('\r'));
                        (true, Ok(vec![raw]))
                    }
                    (result, _) => (false, result),
                }
            })
            .collect();
        line_offset += lines.len().saturating_sub(1);
        let mut events = Vec::with_capacity(parsed.len());
        for (kept_raw, result) in parsed {
            stats.unparsed += u64::from(kept_raw);
            match result {
                Ok(parsed) => events.extend(parsed),
                Err(message) => stats.error(message),
            }
        }
        stats.events += events.len() as u64;
        while !events.is_empty() {
            let rest = events.split_off(events.len().min(BATCH));
            sink(std::mem::replace(&mut events, rest));
        }
        carry.drain(..cut);
        if at_end {
            return Ok(());
        }
    }
}
