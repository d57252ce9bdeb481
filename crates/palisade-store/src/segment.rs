//! Parquet segments: immutable, time-sorted files of events.
//!
//! `segments/seg-<first seq>-<last seq>.parquet`: the sequence range ties a segment to the
//! write-ahead log records it replaces, which is how recovery avoids duplicates. Files are
//! written under a temporary name, fsynced, then renamed, so a crash never leaves a partial
//! segment under a real name.

use std::path::{Path, PathBuf};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::SortColumn;
use datafusion::arrow::compute::{SortOptions, lexsort_to_indices, take_record_batch};
use datafusion::parquet::arrow::ArrowWriter;
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

/// What a segment holds, from its file name and metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentInfo {
    /// The file.
    pub path: PathBuf,
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

/// Writes a segment from a batch (sorted here by time).
///
/// # Errors
/// Returns IO and encoding errors.
pub fn write(
    dir: &Path,
    batch: &RecordBatch,
    first_seq: u64,
    last_seq: u64,
    raw_bytes: u64,
) -> Result<SegmentInfo> {
    let sort =
        SortColumn { values: batch.column(0).clone(), options: Some(SortOptions::default()) };
    let indices =
        lexsort_to_indices(&[sort], None).map_err(|error| Error::Internal(error.to_string()))?;
    let sorted =
        take_record_batch(batch, &indices).map_err(|error| Error::Internal(error.to_string()))?;
    let times = sorted
        .column(0)
        .as_any()
        .downcast_ref::<datafusion::arrow::array::TimestampMicrosecondArray>()
        .ok_or_else(|| Error::Internal("time column type".into()))?;
    let (min_micros, max_micros) =
        if times.is_empty() { (0, 0) } else { (times.value(0), times.value(times.len() - 1)) };

    let mut properties = WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(3).map_err(|error| Error::Internal(error.to_string()))?,
        ))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_key_value_metadata(Some(vec![
            KeyValue::new("palisade.format".into(), "1".to_owned()),
            KeyValue::new("palisade.raw_bytes".into(), raw_bytes.to_string()),
            KeyValue::new("palisade.min_micros".into(), min_micros.to_string()),
            KeyValue::new("palisade.max_micros".into(), max_micros.to_string()),
        ]));
    for column in schema::BLOOM_COLUMNS {
        properties = properties
            .set_column_bloom_filter_enabled(ColumnPath::from(vec![(*column).to_owned()]), true);
    }
    let name = format!("seg-{first_seq:020}-{last_seq:020}.parquet");
    let final_path = dir.join(&name);
    let temp_path = dir.join(format!(".{name}.tmp"));
    let file = fs_err::File::create(&temp_path).map_err(Error::io("creating", &temp_path))?;
    let mut writer = ArrowWriter::try_new(file, sorted.schema(), Some(properties.build()))
        .map_err(|error| Error::Internal(error.to_string()))?;
    writer.write(&sorted).map_err(|error| Error::Internal(error.to_string()))?;
    let file = writer.into_inner().map_err(|error| Error::Internal(error.to_string()))?;
    file.sync_all().map_err(Error::io("syncing", &temp_path))?;
    drop(file);
    fs_err::rename(&temp_path, &final_path).map_err(Error::io("renaming", &temp_path))?;
    crate::wal::sync_dir(dir)?;
    read_info(&final_path)
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
    Ok(SegmentInfo {
        path: path.to_owned(),
        first_seq,
        last_seq,
        events: u64::try_from(metadata.num_rows()).unwrap_or_default(),
        min_micros: value("palisade.min_micros"),
        max_micros: value("palisade.max_micros"),
        raw_bytes: u64::try_from(value("palisade.raw_bytes")).unwrap_or_default(),
        file_bytes,
    })
}

/// Lists the segments of a directory, oldest sequence first; leftover temporary files of an
/// interrupted flush are removed.
///
/// # Errors
/// Returns IO errors.
pub fn list(dir: &Path) -> Result<Vec<SegmentInfo>> {
    let mut infos = Vec::new();
    for entry in fs_err::read_dir(dir).map_err(Error::io("listing", dir))? {
        let path = entry.map_err(Error::io("listing", dir))?.path();
        let name = path.file_name().and_then(|name| name.to_str()).unwrap_or_default();
        if name.starts_with('.') && name.ends_with(".tmp") {
            fs_err::remove_file(&path).map_err(Error::io("removing", &path))?;
        } else if parse_name(&path).is_some() {
            infos.push(read_info(&path)?);
        }
    }
    infos.sort_by_key(|info| info.first_seq);
    Ok(infos)
}
