//! Parquet segments: immutable, time-sorted files of events, one directory per source.
//!
//! `segments/<source>/seg-<first seq>-<last seq>.parquet`: the sequence range is the range of
//! the flush (or of the compacted flushes) whose events of that source the file holds. A flush
//! writes one file per source, then records its last sequence number in `segments/FLUSHED`;
//! only then are the write-ahead log files it covers deleted. Recovery therefore deletes
//! segment files newer than `FLUSHED` (an interrupted flush, replayed from the log instead) and
//! files whose range lies inside another file's range of the same source (the inputs of an
//! interrupted compaction): no event is lost and none is counted twice. Files are written
//! under a temporary name, fsynced, then renamed, so no partial file ever has a real name.

use std::path::{Path, PathBuf};

use datafusion::arrow::array::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::metadata::KeyValue;
use datafusion::parquet::file::properties::{EnabledStatistics, WriterProperties};
use datafusion::parquet::file::reader::{FileReader, SerializedFileReader};
use datafusion::parquet::schema::types::ColumnPath;

use crate::error::{Error, Result};
use crate::schema;

/// Rows per Parquet row group: large enough for fast scans, small enough that time and bloom
/// pruning skip useful amounts.
pub const ROW_GROUP_ROWS: usize = 128 * 1024;

/// zstd level of a flushed segment: the flush runs beside ingest, and level 1 compresses
/// about twice as fast as 3. Compaction rewrites runs of 8 flushed segments at
/// [`COMPACT_ZSTD_LEVEL`], so most data ends up at the smaller size.
const FLUSH_ZSTD_LEVEL: i32 = 1;
/// zstd level of a compacted segment.
const COMPACT_ZSTD_LEVEL: i32 = 3;

/// The file that records how far the log has been flushed.
const FLUSHED: &str = "FLUSHED";

/// What a segment holds, from its file name and metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentInfo {
    /// The file.
    pub path: PathBuf,
    /// The source (directory name) the segment belongs to.
    pub source: String,
    /// First WAL sequence number it holds.
    pub first_seq: u64,
    /// Last WAL sequence number it holds.
    pub last_seq: u64,
    /// Number of events.
    pub events: u64,
    /// Earliest event time (µs since the epoch).
    pub min_micros: i64,
    /// Latest event time (µs since the epoch).
    pub max_micros: i64,
    /// Bytes of the original input these events came from.
    pub raw_bytes: u64,
    /// Size on disk.
    pub file_bytes: u64,
}

fn parse_name(path: &Path) -> Option<(u64, u64)> {
    let stem = path.file_name()?.to_str()?.strip_prefix("seg-")?.strip_suffix(".parquet")?;
    let (first, last) = stem.split_once('-')?;
    Some((first.parse().ok()?, last.parse().ok()?))
}

/// Writes a segment from a batch sorted by time.
///
/// # Errors
/// Returns IO and encoding errors.
pub fn write_sorted(
    dir: &Path,
    sorted: &RecordBatch,
    first_seq: u64,
    last_seq: u64,
    raw_bytes: u64,
) -> Result<SegmentInfo> {
    let times = sorted
        .column(0)
        .as_any()
        .downcast_ref::<datafusion::arrow::array::TimestampMicrosecondArray>()
        .ok_or_else(|| Error::Internal("time column type".into()))?;
    let (min_micros, max_micros) =
        if times.is_empty() { (0, 0) } else { (times.value(0), times.value(times.len() - 1)) };
    let mut writer = SegmentWriter::create(
        dir,
        Summary { first_seq, last_seq, raw_bytes, min_micros, max_micros },
        FLUSH_ZSTD_LEVEL,
    )?;
    writer.write(sorted)?;
    writer.finish()
}

/// What a segment's name and footer record about it.
#[derive(Debug, Clone, Copy)]
struct Summary {
    first_seq: u64,
    last_seq: u64,
    raw_bytes: u64,
    min_micros: i64,
    max_micros: i64,
}

/// A segment being written batch by batch under a temporary name; memory stays at about one
/// row group whatever the segment's size.
struct SegmentWriter {
    writer: ArrowWriter<std::fs::File>,
    temp_path: PathBuf,
    final_path: PathBuf,
    dir: PathBuf,
}

impl SegmentWriter {
    fn create(dir: &Path, summary: Summary, zstd_level: i32) -> Result<Self> {
        let mut properties = WriterProperties::builder()
            .set_compression(Compression::ZSTD(
                ZstdLevel::try_new(zstd_level)
                    .map_err(|error| Error::Internal(error.to_string()))?,
            ))
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .set_statistics_enabled(EnabledStatistics::Page)
            .set_key_value_metadata(Some(vec![
                KeyValue::new("palisade.format".into(), "1".to_owned()),
                KeyValue::new("palisade.raw_bytes".into(), summary.raw_bytes.to_string()),
                KeyValue::new("palisade.min_micros".into(), summary.min_micros.to_string()),
                KeyValue::new("palisade.max_micros".into(), summary.max_micros.to_string()),
            ]));
        for column in schema::BLOOM_COLUMNS {
            properties = properties.set_column_bloom_filter_enabled(
                ColumnPath::from(vec![(*column).to_owned()]),
                true,
            );
        }
        fs_err::create_dir_all(dir).map_err(Error::io("creating", dir))?;
        let name = format!("seg-{:020}-{:020}.parquet", summary.first_seq, summary.last_seq);
        let final_path = dir.join(&name);
        let temp_path = dir.join(format!(".{name}.tmp"));
        let file = fs_err::File::create(&temp_path).map_err(Error::io("creating", &temp_path))?;
        let writer =
            ArrowWriter::try_new(file.into_parts().0, schema::schema(), Some(properties.build()))
                .map_err(|error| Error::Internal(error.to_string()))?;
        Ok(Self { writer, temp_path, final_path, dir: dir.to_owned() })
    }

    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.writer.write(batch).map_err(|error| Error::Internal(error.to_string()))
    }

    /// Closes the file, fsyncs it and gives it its real name.
    fn finish(self) -> Result<SegmentInfo> {
        let file = self.writer.into_inner().map_err(|error| Error::Internal(error.to_string()))?;
        file.sync_all().map_err(Error::io("syncing", &self.temp_path))?;
        drop(file);
        fs_err::rename(&self.temp_path, &self.final_path)
            .map_err(Error::io("renaming", &self.temp_path))?;
        crate::wal::sync_dir(&self.dir)?;
        read_info(&self.final_path)
    }
}

/// Reads a segment's summary from its name and footer.
///
/// # Errors
/// Returns IO errors and [`Error::Corrupt`] for an unreadable footer.
pub fn read_info(path: &Path) -> Result<SegmentInfo> {
    let (first_seq, last_seq) = parse_name(path).ok_or_else(|| Error::Corrupt {
        path: path.to_owned(),
        message: "not a segment file name".into(),
    })?;
    let file = fs_err::File::open(path).map_err(Error::io("opening", path))?;
    let file_bytes = file.metadata().map_err(Error::io("reading", path))?.len();
    let reader = SerializedFileReader::new(file.into_parts().0)
        .map_err(|error| Error::Corrupt { path: path.to_owned(), message: error.to_string() })?;
    let metadata = reader.metadata().file_metadata();
    let value = |key: &str| {
        metadata
            .key_value_metadata()
            .and_then(|pairs| pairs.iter().find(|pair| pair.key == key))
            .and_then(|pair| pair.value.as_deref())
            .and_then(|value| value.parse::<i64>().ok())
            .unwrap_or_default()
    };
    let source = path
        .parent()
        .and_then(Path::file_name)
        .and_then(|name| name.to_str())
        .unwrap_or_default()
        .to_owned();
    Ok(SegmentInfo {
        path: path.to_owned(),
        source,
        first_seq,
        last_seq,
        events: u64::try_from(metadata.num_rows()).unwrap_or_default(),
        min_micros: value("palisade.min_micros"),
        max_micros: value("palisade.max_micros"),
        raw_bytes: u64::try_from(value("palisade.raw_bytes")).unwrap_or_default(),
        file_bytes,
    })
}

/// Maps a source name (an `event.dataset` value) to a safe directory name: lowercase ASCII
/// letters, digits, `.`, `_` and `-`, at most 64 characters; anything else becomes `_`. Events
/// without a source go to `_none`.
#[must_use]
pub fn source_dir(source: Option<&str>) -> String {
    let Some(source) = source.filter(|source| !source.trim().is_empty()) else {
        return "_none".to_owned();
    };
    let mut name: String = source
        .chars()
        .take(64)
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' }
        })
        .collect();
    if name.starts_with('.') {
        name.replace_range(0..1, "_");
    }
    name
}

/// Reads how far the log has been flushed (0 when nothing has been).
///
/// # Errors
/// Returns IO errors and [`Error::Corrupt`] for an unreadable marker.
pub fn read_flushed(root: &Path) -> Result<Option<u64>> {
    let path = root.join(FLUSHED);
    match fs_err::read_to_string(&path) {
        Ok(text) => text
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| Error::Corrupt { path, message: "not a sequence number".into() }),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(Error::Io { action: "reading", path, source: error }),
    }
}

/// Durably records that every log record up to `seq` is in a segment.
///
/// # Errors
/// Returns IO errors.
pub fn write_flushed(root: &Path, seq: u64) -> Result<()> {
    let path = root.join(FLUSHED);
    let temp = root.join(".FLUSHED.tmp");
    let mut file = fs_err::File::create(&temp).map_err(Error::io("creating", &temp))?;
    std::io::Write::write_all(&mut file, seq.to_string().as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(Error::io("writing", &temp))?;
    drop(file);
    fs_err::rename(&temp, &path).map_err(Error::io("renaming", &temp))?;
    crate::wal::sync_dir(root)
}

/// Lists the segments under `root` (one directory per source), oldest sequence first, after
/// recovery: leftover temporary files are removed, files of a flush that did not reach the
/// `FLUSHED` marker are removed, and inputs of an interrupted compaction are removed. Returns
/// the segments and the flushed sequence number.
///
/// # Errors
/// Returns IO errors.
pub fn recover(root: &Path) -> Result<(Vec<SegmentInfo>, u64)> {
    let marker = read_flushed(root)?;
    let mut infos = Vec::new();
    for entry in fs_err::read_dir(root).map_err(Error::io("listing", root))? {
        let dir = entry.map_err(Error::io("listing", root))?.path();
        if !dir.is_dir() {
            continue;
        }
        let mut source_infos = Vec::new();
        for entry in fs_err::read_dir(&dir).map_err(Error::io("listing", &dir))? {
            let path = entry.map_err(Error::io("listing", &dir))?.path();
            let name = path.file_name().and_then(|name| name.to_str()).unwrap_or_default();
            if name.starts_with('.') && name.ends_with(".tmp") {
                fs_err::remove_file(&path).map_err(Error::io("removing", &path))?;
            } else if parse_name(&path).is_some() {
                source_infos.push(read_info(&path)?);
            }
        }
        // An interrupted compaction leaves its output beside its inputs: drop every file
        // whose range another file of the same source covers.
        source_infos.sort_by_key(|info| (info.first_seq, std::cmp::Reverse(info.last_seq)));
        let mut kept: Vec<SegmentInfo> = Vec::new();
        for info in source_infos {
            if kept.last().is_some_and(|outer| info.last_seq <= outer.last_seq) {
                fs_err::remove_file(&info.path).map_err(Error::io("removing", &info.path))?;
            } else {
                kept.push(info);
            }
        }
        infos.extend(kept);
    }
    // A new store gets its marker (0) now, before its first flush: without it, a crash in
    // the middle of that flush would leave some sources' segments and no marker, and the
    // fallback below would take the written segments for the whole flush and skip the
    // log records of the sources not yet written.
    if marker.is_none() && infos.is_empty() {
        write_flushed(root, 0)?;
    }
    // Without a marker (a store from before markers existed), the segments themselves say
    // how far the log was flushed.
    let flushed =
        marker.unwrap_or_else(|| infos.iter().map(|info| info.last_seq).max().unwrap_or(0));
    let mut kept = Vec::with_capacity(infos.len());
    for info in infos {
        if info.last_seq > flushed {
            fs_err::remove_file(&info.path).map_err(Error::io("removing", &info.path))?;
        } else {
            kept.push(info);
        }
    }
    kept.sort_by_key(|info| (info.first_seq, info.source.clone()));
    Ok((kept, flushed))
}

/// Merges consecutive segments of one source into one new file covering their whole range,
/// streaming row groups from the inputs in order: memory stays at about one row group. Each
/// input is time-sorted, so each row group is too, and consecutive flushes cover mostly
/// consecutive times, which keeps time pruning effective. The caller deletes the inputs once
/// no query reads them; a crash before that leaves both, which [`recover`] resolves in favour
/// of the merged file.
///
/// # Errors
/// Returns IO and encoding errors; the inputs are untouched.
pub fn compact_into_new(inputs: &[SegmentInfo]) -> Result<SegmentInfo> {
    let (Some(first), Some(last)) = (inputs.first(), inputs.last()) else {
        return Err(Error::Internal("nothing to compact".into()));
    };
    let dir = first.path.parent().unwrap_or(Path::new(".")).to_owned();
    let summary = Summary {
        first_seq: first.first_seq,
        last_seq: last.last_seq,
        raw_bytes: inputs.iter().map(|info| info.raw_bytes).sum(),
        min_micros: inputs.iter().map(|info| info.min_micros).min().unwrap_or(0),
        max_micros: inputs.iter().map(|info| info.max_micros).max().unwrap_or(0),
    };
    let mut writer = SegmentWriter::create(&dir, summary, COMPACT_ZSTD_LEVEL)?;
    for info in inputs {
        let file = fs_err::File::open(&info.path).map_err(Error::io("opening", &info.path))?;
        let corrupt = |error: &dyn std::fmt::Display| Error::Corrupt {
            path: info.path.clone(),
            message: error.to_string(),
        };
        let reader = ParquetRecordBatchReaderBuilder::try_new(file.into_parts().0)
            .map_err(|error| corrupt(&error))?
            .with_batch_size(ROW_GROUP_ROWS)
            .build()
            .map_err(|error| corrupt(&error))?;
        for batch in reader {
            writer.write(&batch.map_err(|error| corrupt(&error))?)?;
        }
    }
    writer.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A new store has its marker before its first flush, so a crash during that flush (some
    /// sources' segments written, the marker not yet moved) replays the log instead of taking
    /// the written segments for the whole flush. The crash test found this loss.
    #[test]
    fn a_new_store_gets_its_marker_before_the_first_flush() {
        let dir = tempfile::tempdir().expect("tmp");
        assert_eq!(read_flushed(dir.path()).expect("read"), None);
        let (segments, flushed) = recover(dir.path()).expect("recover");
        assert!(segments.is_empty());
        assert_eq!(flushed, 0);
        assert_eq!(read_flushed(dir.path()).expect("read"), Some(0));
    }
}
