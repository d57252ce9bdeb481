//! Input files for `scan`: discovery and reading into events.

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
}

/// One input file.
#[derive(Debug, Clone)]
pub(crate) struct Input {
    pub(crate) path: PathBuf,
    pub(crate) kind: InputKind,
    pub(crate) size: u64,
}

/// Finds the inputs: files named directly are read whatever their name (EVTX by magic, else
/// JSON); directories are walked for `.evtx`, `.json`, `.jsonl` and `.ndjson` files.
pub(crate) fn discover(paths: &[PathBuf]) -> anyhow::Result<Vec<Input>> {
    let mut inputs = Vec::new();
    for path in paths {
        let metadata = fs_err::metadata(path)
            .map_err(|error| Exit::Usage(anyhow::Error::new(error).context("reading input")))?;
        if metadata.is_file() {
            let kind = if is_evtx(path) { InputKind::Evtx } else { InputKind::Json };
            inputs.push(Input { path: path.clone(), kind, size: metadata.len() });
            continue;
        }
        for entry in walkdir::WalkDir::new(path).follow_links(true) {
            let entry = entry.with_context(|| format!("walking {}", path.display()))?;
            if !entry.file_type().is_file() {
                continue;
            }
            let Some(kind) = kind_by_extension(entry.path()) else { continue };
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
        _ => None,
    }
}

/// What reading one file produced.
pub(crate) struct FileEvents {
    pub(crate) events: Vec<Event>,
    /// Records or lines that could not be read, with the reason.
    pub(crate) errors: Vec<String>,
}

/// Reads one input into events. A file that cannot be opened at all is an error; damaged
/// records inside it are counted and reported, and the rest of the file is still read.
pub(crate) fn read(input: &Input) -> anyhow::Result<FileEvents> {
    let bytes = fs_err::read(&input.path)?;
    let mut events = Vec::new();
    let mut errors = Vec::new();
    match input.kind {
        InputKind::Evtx => {
            // Large files are parsed chunk-parallel; small ones are many, so they run one per
            // thread and the file-level parallelism keeps the cores busy.
            let threads = if input.size > 16 * 1024 * 1024 { 0 } else { 1 };
            let records = palisade_parse::format::evtx::read(bytes, threads)
                .with_context(|| format!("{} is not a readable EVTX file", input.path.display()))?;
            for record in records {
                match record {
                    Ok(event) => events.push(event),
                    Err(error) => errors.push(error.to_string()),
                }
            }
        }
        InputKind::Json => {
            for record in palisade_parse::format::json::read_documents(&bytes) {
                match record {
                    Ok(event) => events.push(event),
                    Err(error) => errors.push(error.to_string()),
                }
            }
        }
    }
    Ok(FileEvents { events, errors })
}
