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
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, RecordBatch, new_null_array};
use datafusion::arrow::compute::interleave;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::arrow::arrow_writer::{
    ArrowColumnWriter, ArrowRowGroupWriterFactory, compute_leaves,
};
use datafusion::parquet::arrow::{
    ArrowSchemaConverter, ArrowWriter, add_encoded_arrow_schema_to_metadata,
};
use datafusion::parquet::basic::{Compression, Encoding as PageEncoding, ZstdLevel};
use datafusion::parquet::bloom_filter::Sbbf;
use datafusion::parquet::column::writer::ColumnCloseResult;
use datafusion::parquet::errors::ParquetError;
use datafusion::parquet::file::metadata::{
    KeyValue, PageIndexPolicy, ParquetMetaData, ParquetMetaDataReader,
};
use datafusion::parquet::file::properties::{EnabledStatistics, WriterProperties, WriterVersion};
use datafusion::parquet::file::reader::{FileReader, SerializedFileReader};
use datafusion::parquet::file::writer::SerializedFileWriter;
use datafusion::parquet::schema::types::ColumnPath;

use crate::error::{Error, Result};
use crate::schema;

/// Rows per Parquet row group: large enough for fast scans, small enough that time and bloom
/// pruning skip useful amounts.
pub const ROW_GROUP_ROWS: usize = 128 * 1024;

/// zstd level of a flushed segment large enough for compaction to copy it as it is
/// ([`COPY_ROW_GROUP_ROWS`]): the flush runs beside ingest, and level 1 compresses about
/// twice as fast as 3 (on the syslog benchmark the rewritten segments were about 2 %
/// smaller).
const FLUSH_ZSTD_LEVEL: i32 = 1;
/// zstd level of row groups that compaction rewrites.
const COMPACT_ZSTD_LEVEL: i32 = 3;

/// How a segment's pages are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    /// For a flush smaller than [`COPY_ROW_GROUP_ROWS`], which compaction will decode and
    /// encode again: LZ4 and no dictionaries, several times cheaper to write and to read back
    /// than zstd with dictionaries, for files about a third larger that live only until
    /// their source has [`crate::StoreConfig::compact_min_segments`] of them. In a stream of
    /// many sources every flush is this small, so this is most of what a flush writes.
    Interim,
    /// zstd at this level, with dictionaries on the columns whose values repeat.
    Zstd(i32),
}

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
#[cfg(test)]
pub(crate) fn write_sorted(
    dir: &Path,
    sorted: &RecordBatch,
    first_seq: u64,
    last_seq: u64,
    raw_bytes: u64,
) -> Result<SegmentInfo> {
    let rows: Vec<(usize, usize)> = (0..sorted.num_rows()).map(|row| (0, row)).collect();
    write_gathered(dir, &[sorted], &rows, (first_seq, last_seq), raw_bytes)
}

/// Rows a flush gathers, or a compaction decodes, before encoding them: a few MiB of columns,
/// so the rows are still in the cache when they are encoded, and each chunk reuses the memory
/// the one before it freed. Gathering a whole flush at once (tens of MiB per source), or
/// decoding a whole row group, wrote every byte to memory the process had not touched yet,
/// then read it back from RAM to encode it.
const CHUNK_ROWS: usize = 4096;

/// Writes a segment of the given rows of `batches` (batch index, row index), which the caller
/// has put in time order: they are gathered and encoded [`CHUNK_ROWS`] at a time, into one
/// file whose row groups are as if the rows had been one batch.
///
/// # Errors
/// Returns IO and encoding errors.
pub fn write_gathered(
    dir: &Path,
    batches: &[&RecordBatch],
    rows: &[(usize, usize)],
    (first_seq, last_seq): (u64, u64),
    raw_bytes: u64,
) -> Result<SegmentInfo> {
    let time = |&(batch, row): &(usize, usize)| -> Result<i64> {
        batches[batch]
            .column(0)
            .as_any()
            .downcast_ref::<datafusion::arrow::array::TimestampMicrosecondArray>()
            .map(|times| times.value(row))
            .ok_or_else(|| Error::Internal("time column type".into()))
    };
    let (min_micros, max_micros) = match (rows.first(), rows.last()) {
        (Some(first), Some(last)) => (time(first)?, time(last)?),
        _ => (0, 0),
    };
    let encoding = if i64::try_from(rows.len()).unwrap_or(i64::MAX) < COPY_ROW_GROUP_ROWS {
        Encoding::Interim
    } else {
        Encoding::Zstd(FLUSH_ZSTD_LEVEL)
    };
    let mut writer = SegmentWriter::create(
        dir,
        Summary { first_seq, last_seq, raw_bytes, min_micros, max_micros },
        encoding,
    )?;
    for chunk in rows.chunks(CHUNK_ROWS) {
        writer.write(&gather(batches, chunk)?)?;
    }
    writer.finish()
}

/// The rows `chunk` of `batches` (batch index, row index) as one batch, in that order. A
/// column with no value in any of those rows is made as a null column at once instead of
/// being gathered row by row: a flush gathers one source at a time, and each source leaves
/// most of the typed columns empty (a firewall line has no DNS name, no URL, no file hash),
/// so about half the columns of every chunk are such.
fn gather(batches: &[&RecordBatch], chunk: &[(usize, usize)]) -> Result<RecordBatch> {
    let Some(schema) = batches.first().map(|batch| batch.schema()) else {
        return Err(Error::Internal("no batches to gather rows from".into()));
    };
    let columns = (0..schema.fields().len())
        .map(|column| {
            let arrays: Vec<&dyn Array> =
                batches.iter().map(|batch| batch.column(column).as_ref()).collect();
            if chunk.iter().all(|&(batch, row)| arrays[batch].is_null(row)) {
                Ok(new_null_array(schema.field(column).data_type(), chunk.len()))
            } else {
                interleave(&arrays, chunk)
            }
        })
        .collect::<Result<Vec<ArrayRef>, _>>()
        .map_err(|error| Error::Internal(error.to_string()))?;
    RecordBatch::try_new(schema, columns).map_err(|error| Error::Internal(error.to_string()))
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

impl Summary {
    /// The footer entries [`read_info`] reads back.
    fn key_values(&self) -> Vec<KeyValue> {
        vec![
            KeyValue::new("palisade.format".into(), "1".to_owned()),
            KeyValue::new("palisade.raw_bytes".into(), self.raw_bytes.to_string()),
            KeyValue::new("palisade.min_micros".into(), self.min_micros.to_string()),
            KeyValue::new("palisade.max_micros".into(), self.max_micros.to_string()),
        ]
    }
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
    fn create(dir: &Path, summary: Summary, encoding: Encoding) -> Result<Self> {
        let (temp_path, final_path) = segment_paths(dir, &summary)?;
        let file = fs_err::File::create(&temp_path).map_err(Error::io("creating", &temp_path))?;
        let writer = ArrowWriter::try_new(
            file.into_parts().0,
            schema::schema(),
            Some(writer_properties(&summary, encoding)?),
        )
        .map_err(|error| Error::Internal(error.to_string()))?;
        Ok(Self { writer, temp_path, final_path, dir: dir.to_owned() })
    }

    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.writer.write(batch).map_err(|error| Error::Internal(error.to_string()))
    }

    /// Closes the file, fsyncs it and gives it its real name.
    fn finish(self) -> Result<SegmentInfo> {
        let file = self.writer.into_inner().map_err(|error| Error::Internal(error.to_string()))?;
        publish(file, &self.temp_path, &self.final_path, &self.dir)
    }
}

/// How every segment is encoded: compressed as `encoding` says, row groups of at most
/// [`ROW_GROUP_ROWS`], page statistics, bloom filters on the look-up columns, neither
/// dictionary nor statistics on the nearly unique text columns, and the summary
/// [`read_info`] reads back.
fn writer_properties(summary: &Summary, encoding: Encoding) -> Result<WriterProperties> {
    let mut properties = WriterProperties::builder();
    properties = match encoding {
        // Version 2 data pages: a page's values are compressed straight from the encoder's
        // buffer, where version 1 first copied them after the levels into a new buffer and
        // copied the compressed page once more to trim it; a page that LZ4 does not shrink
        // (a column with few values) is stored as it is and not decompressed when read. Plain
        // values as in version 1: its default for byte arrays without a dictionary, delta
        // encoding, costs more to write and to read back for a file that is read once.
        Encoding::Interim => properties
            .set_compression(Compression::LZ4_RAW)
            .set_dictionary_enabled(false)
            .set_writer_version(WriterVersion::PARQUET_2_0)
            .set_encoding(PageEncoding::PLAIN),
        Encoding::Zstd(level) => {
            let level =
                ZstdLevel::try_new(level).map_err(|error| Error::Internal(error.to_string()))?;
            properties.set_compression(Compression::ZSTD(level))
        }
    };
    let mut properties = properties
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_key_value_metadata(Some(summary.key_values()));
    for column in schema::BLOOM_COLUMNS {
        properties = properties
            .set_column_bloom_filter_enabled(ColumnPath::from(vec![(*column).to_owned()]), true);
    }
    for column in schema::UNIQUE_TEXT_COLUMNS {
        let path = ColumnPath::from(vec![(*column).to_owned()]);
        properties = properties
            .set_column_dictionary_enabled(path.clone(), false)
            .set_column_statistics_enabled(path, EnabledStatistics::None);
    }
    Ok(properties.build())
}

/// The temporary and the final path of a segment (creating its directory): it is written
/// under the first and renamed to the second once complete.
fn segment_paths(dir: &Path, summary: &Summary) -> Result<(PathBuf, PathBuf)> {
    fs_err::create_dir_all(dir).map_err(Error::io("creating", dir))?;
    let name = format!("seg-{:020}-{:020}.parquet", summary.first_seq, summary.last_seq);
    Ok((dir.join(format!(".{name}.tmp")), dir.join(name)))
}

/// Fsyncs a written segment, gives it its real name and reads back its summary.
fn publish(
    file: std::fs::File,
    temp_path: &Path,
    final_path: &Path,
    dir: &Path,
) -> Result<SegmentInfo> {
    file.sync_all().map_err(Error::io("syncing", temp_path))?;
    drop(file);
    fs_err::rename(temp_path, final_path).map_err(Error::io("renaming", temp_path))?;
    crate::wal::sync_dir(dir)?;
    read_info(final_path)
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

/// Row groups at least this large are copied by compaction as they are, not decoded and
/// encoded again: they are already big enough for fast scans.
const COPY_ROW_GROUP_ROWS: i64 = (ROW_GROUP_ROWS / 4) as i64;

/// Merges consecutive segments of one source into one new file covering their whole range,
/// row groups in input order. Each input is time-sorted, so each row group is too, and
/// consecutive flushes cover mostly consecutive times, which keeps time pruning effective.
/// The caller deletes the inputs once no query reads them; a crash before that leaves both,
/// which [`recover`] resolves in favour of the merged file.
///
/// Small row groups (fresh flushes, one per source) are decoded and encoded again, together,
/// into full ones at the compacted zstd level; memory stays at about one row group. Large
/// ones (from earlier merges, or a busy source's flushes) are copied as encoded column
/// chunks, byte for byte, with their bloom filters and page indexes: without that, each
/// later merge in a long-running store would spend as much CPU as ingest did, to rewrite
/// the same bytes.
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
    let mut out = MergeWriter::create(&dir, &summary)?;
    for info in inputs {
        let file = fs_err::File::open(&info.path).map_err(Error::io("opening", &info.path))?;
        let file = file.into_parts().0;
        let metadata = ParquetMetaDataReader::new()
            .with_page_index_policy(PageIndexPolicy::Optional)
            .parse_and_finish(&file)
            .map_err(|error| corrupt(&info.path, &error))?;
        // A segment from before a column was added is always rewritten, never copied.
        let current = metadata.file_metadata().schema_descr().root_schema()
            == out.writer.schema_descr().root_schema();
        for (group_idx, group) in metadata.row_groups().iter().enumerate() {
            if current && group.num_rows() >= COPY_ROW_GROUP_ROWS {
                out.copy(&file, &metadata, group_idx)?;
                continue;
            }
            let reader = ParquetRecordBatchReaderBuilder::try_new(
                file.try_clone().map_err(Error::io("opening", &info.path))?,
            )
            .map_err(|error| corrupt(&info.path, &error))?
            .with_row_groups(vec![group_idx])
            .with_batch_size(CHUNK_ROWS)
            .build()
            .map_err(|error| corrupt(&info.path, &error))?;
            for batch in reader {
                out.push(batch.map_err(|error| corrupt(&info.path, &error))?)?;
            }
        }
    }
    out.finish()
}

fn corrupt(path: &Path, error: &dyn std::fmt::Display) -> Error {
    Error::Corrupt { path: path.to_owned(), message: error.to_string() }
}

fn internal(error: ParquetError) -> Error {
    Error::Internal(error.to_string())
}

/// The output of a compaction: row groups encoded from decoded rows, or copied encoded.
struct MergeWriter {
    writer: SerializedFileWriter<std::fs::File>,
    columns: ArrowRowGroupWriterFactory,
    arrow: SchemaRef,
    /// The row group being encoded from decoded rows, and its row count.
    group: Option<Vec<ArrowColumnWriter>>,
    group_rows: usize,
    temp_path: PathBuf,
    final_path: PathBuf,
    dir: PathBuf,
}

impl MergeWriter {
    fn create(dir: &Path, summary: &Summary) -> Result<Self> {
        let arrow = schema::schema();
        let mut properties = writer_properties(summary, Encoding::Zstd(COMPACT_ZSTD_LEVEL))?;
        // What `ArrowWriter` records, so readers get the Arrow types back (the time zone).
        add_encoded_arrow_schema_to_metadata(&arrow, &mut properties);
        let parquet = ArrowSchemaConverter::new().convert(&arrow).map_err(internal)?;
        let (temp_path, final_path) = segment_paths(dir, summary)?;
        let file = fs_err::File::create(&temp_path).map_err(Error::io("creating", &temp_path))?;
        let writer = SerializedFileWriter::new(
            file.into_parts().0,
            parquet.root_schema_ptr(),
            Arc::new(properties),
        )
        .map_err(internal)?;
        let columns = ArrowRowGroupWriterFactory::new(&writer, Arc::clone(&arrow));
        Ok(Self {
            writer,
            columns,
            arrow,
            group: None,
            group_rows: 0,
            temp_path,
            final_path,
            dir: dir.to_owned(),
        })
    }

    /// Encodes decoded rows into the row group being built; each [`ROW_GROUP_ROWS`] of them
    /// close one. Rows are encoded as they come, so only the encoded row group is held.
    fn push(&mut self, batch: RecordBatch) -> Result<()> {
        let mut batch = self.conform(batch)?;
        while batch.num_rows() > 0 {
            let take = (ROW_GROUP_ROWS - self.group_rows).min(batch.num_rows());
            self.encode(&batch.slice(0, take))?;
            batch = batch.slice(take, batch.num_rows() - take);
            if self.group_rows == ROW_GROUP_ROWS {
                self.close_group()?;
            }
        }
        Ok(())
    }

    fn encode(&mut self, batch: &RecordBatch) -> Result<()> {
        let columns = match &mut self.group {
            Some(columns) => columns,
            None => self.group.insert(
                self.columns
                    .create_column_writers(self.writer.flushed_row_groups().len())
                    .map_err(internal)?,
            ),
        };
        let mut writers = columns.iter_mut();
        for (field, array) in self.arrow.fields().iter().zip(batch.columns()) {
            for leaf in compute_leaves(field, array).map_err(internal)? {
                let writer = writers
                    .next()
                    .ok_or_else(|| Error::Internal("more leaves than columns".into()))?;
                writer.write(&leaf).map_err(internal)?;
            }
        }
        self.group_rows += batch.num_rows();
        Ok(())
    }

    /// Gives rows of a segment written before a column existed that column, all null.
    fn conform(&self, batch: RecordBatch) -> Result<RecordBatch> {
        if batch.schema() == self.arrow {
            return Ok(batch);
        }
        let rows = batch.num_rows();
        let columns = self
            .arrow
            .fields()
            .iter()
            .map(|field| match batch.column_by_name(field.name()) {
                Some(column) if column.data_type() == field.data_type() => Ok(Arc::clone(column)),
                Some(column) => Err(Error::Internal(format!(
                    "column {} is {} in a compacted segment, not {}",
                    field.name(),
                    column.data_type(),
                    field.data_type()
                ))),
                None => Ok(new_null_array(field.data_type(), rows)),
            })
            .collect::<Result<Vec<_>>>()?;
        RecordBatch::try_new(Arc::clone(&self.arrow), columns)
            .map_err(|error| Error::Internal(error.to_string()))
    }

    /// Writes the row group being built, if it has rows.
    fn close_group(&mut self) -> Result<()> {
        let Some(columns) = self.group.take() else { return Ok(()) };
        self.group_rows = 0;
        let mut group = self.writer.next_row_group().map_err(internal)?;
        for column in columns {
            column.close().map_err(internal)?.append_to_row_group(&mut group).map_err(internal)?;
        }
        group.close().map_err(internal)?;
        Ok(())
    }

    /// Copies one row group of an input, after the rows encoded before it.
    fn copy(
        &mut self,
        file: &std::fs::File,
        metadata: &ParquetMetaData,
        group_idx: usize,
    ) -> Result<()> {
        self.close_group()?;
        let group = metadata.row_group(group_idx);
        let column_indexes = metadata.column_index().and_then(|groups| groups.get(group_idx));
        let offset_indexes = metadata.offset_index().and_then(|groups| groups.get(group_idx));
        let mut out = self.writer.next_row_group().map_err(internal)?;
        for (column_idx, column) in group.columns().iter().enumerate() {
            let close = ColumnCloseResult {
                bytes_written: u64::try_from(column.compressed_size()).unwrap_or_default(),
                rows_written: u64::try_from(group.num_rows()).unwrap_or_default(),
                metadata: column.clone(),
                bloom_filter: Sbbf::read_from_column_chunk(column, file).map_err(internal)?,
                column_index: column_indexes.and_then(|row| row.get(column_idx)).cloned(),
                offset_index: offset_indexes.and_then(|row| row.get(column_idx)).cloned(),
            };
            out.append_column(file, close).map_err(internal)?;
        }
        out.close().map_err(internal)?;
        Ok(())
    }

    /// Writes the last row group, closes the file, fsyncs it and gives it its real name.
    fn finish(mut self) -> Result<SegmentInfo> {
        self.close_group()?;
        let file = self.writer.into_inner().map_err(internal)?;
        publish(file, &self.temp_path, &self.final_path, &self.dir)
    }
}

#[cfg(test)]
mod tests {
    use datafusion::parquet::basic::PageType;

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

    /// A time-sorted batch in the store schema: events `first..first + rows`.
    fn batch(first: u64, rows: u64) -> RecordBatch {
        use palisade_event::{Event, Timestamp, Value};
        let mut columns = schema::Columns::with_capacity(usize::try_from(rows).expect("rows"));
        for seq in first..first + rows {
            let number = i64::try_from(seq).expect("seq");
            let mut event = Event::new();
            event.insert("event.dataset", Value::from("test"));
            event.insert("host.name", Value::from(format!("host-{}", seq % 97)));
            event.insert("message", Value::from(format!("message {seq}")));
            event.insert("custom.number", Value::Int(number));
            event.set_timestamp(Some(Timestamp::from_second(1_700_000_000 + number).expect("ts")));
            columns.push(&event, Some(seq), 0);
        }
        columns.finish().batch
    }

    fn read_all(path: &Path) -> RecordBatch {
        let file = std::fs::File::open(path).expect("open");
        let reader =
            ParquetRecordBatchReaderBuilder::try_new(file).expect("reader").build().expect("build");
        let batches: Vec<RecordBatch> = reader.map(|batch| batch.expect("batch")).collect();
        datafusion::arrow::compute::concat_batches(&schema::schema(), &batches).expect("concat")
    }

    fn footer(path: &Path) -> ParquetMetaData {
        let file = std::fs::File::open(path).expect("open");
        ParquetMetaDataReader::new()
            .with_page_index_policy(PageIndexPolicy::Optional)
            .parse_and_finish(&file)
            .expect("footer")
    }

    /// A flush gathers its rows from several appends' batches a chunk at a time: the file
    /// holds exactly the rows asked for, in the order asked for, in one row group (the chunks
    /// do not become row groups), with the times of the first and last row as its range.
    #[test]
    fn gathered_rows_are_written_in_the_order_given() {
        let dir = tempfile::tempdir().expect("tmp");
        let rows = 2 * u64::try_from(CHUNK_ROWS).expect("rows") + 700;
        let (first, second) = (batch(1, rows), batch(rows + 1, rows));
        // Every other row, alternating between the batches: more than two chunks, each
        // drawing on both batches, rows left out, and an order that is not the batches' own
        // (the caller's order is kept, not re-sorted).
        let order: Vec<(usize, usize)> = (0..usize::try_from(rows).expect("rows"))
            .step_by(2)
            .flat_map(|row| [(1, row), (0, row)])
            .collect();
        assert!(order.len() > 2 * CHUNK_ROWS);
        let info =
            write_gathered(&dir.path().join("test"), &[&first, &second], &order, (1, 2 * rows), 7)
                .expect("write");
        assert_eq!(info.events, order.len() as u64);
        assert_eq!((info.first_seq, info.last_seq, info.raw_bytes), (1, 2 * rows, 7));
        let expected =
            datafusion::arrow::compute::interleave_record_batch(&[&first, &second], &order)
                .expect("gather");
        let times = expected
            .column(0)
            .as_any()
            .downcast_ref::<datafusion::arrow::array::TimestampMicrosecondArray>()
            .expect("times");
        assert_eq!(
            (info.min_micros, info.max_micros),
            (times.value(0), times.value(times.len() - 1))
        );
        assert_eq!(read_all(&info.path), expected);
        assert_eq!(footer(&info.path).num_row_groups(), 1);
    }

    /// Columns with no value in the rows gathered come out as null columns, the others as
    /// `interleave` gathers them: a column empty in some chunks and not in others (its first
    /// row null, a later one not), and a column empty in every chunk.
    #[test]
    fn gathering_makes_empty_columns_null_and_gathers_the_rest() {
        use palisade_event::{Event, Timestamp, Value};
        let mut columns = schema::Columns::with_capacity(8);
        for seq in 1..=8_u64 {
            let mut event = Event::new();
            event.insert("event.dataset", Value::from("test"));
            // Only rows 5 and 7 have a user; no row has a DNS name.
            if seq % 2 == 1 && seq > 4 {
                event.insert("user.name", Value::from(format!("user-{seq}")));
                event.insert("source.port", Value::Int(i64::try_from(seq).expect("seq")));
            }
            event.set_timestamp(Some(Timestamp::from_second(1_700_000_000).expect("ts")));
            columns.push(&event, Some(seq), 0);
        }
        let batch = columns.finish().batch;
        let other = batch.slice(2, 6);
        let batches = [&batch, &other];
        let user = batch.schema().index_of("user.name").expect("column");
        let dns = batch.schema().index_of("dns.question.name").expect("column");
        for (chunk, users) in [
            (vec![(0, 0), (1, 0), (0, 1)], 0),         // no user
            (vec![(0, 2), (1, 2), (0, 4), (0, 3)], 2), // none, row 5, row 5, none
            (vec![(1, 4), (0, 6)], 2),                 // row 7 twice
        ] {
            let gathered = gather(&batches, &chunk).expect("gather");
            let expected = datafusion::arrow::compute::interleave_record_batch(&batches, &chunk)
                .expect("gather");
            assert_eq!(gathered, expected, "{chunk:?}");
            assert_eq!(gathered.column(dns).null_count(), chunk.len());
            let column = gathered.column(user);
            assert_eq!(column.len() - column.null_count(), users, "{chunk:?}");
        }
    }

    /// Segments whose row groups are large are merged by copying their column chunks: the
    /// rows, their order, the schema (time zone included), the bloom filters, the page
    /// indexes and the summary all survive. Small ones are rewritten into one row group.
    #[test]
    fn compaction_copies_large_row_groups_and_rewrites_small_ones() {
        let dir = tempfile::tempdir().expect("tmp");
        let source = dir.path().join("test");
        let rows = u64::try_from(COPY_ROW_GROUP_ROWS).expect("rows") + 5;
        let (first, second) = (batch(1, rows), batch(rows + 1, rows));
        let a = write_sorted(&source, &first, 1, rows, 100).expect("a");
        let b = write_sorted(&source, &second, rows + 1, 2 * rows, 200).expect("b");
        let merged = compact_into_new(&[a.clone(), b.clone()]).expect("merge");
        assert_eq!((merged.first_seq, merged.last_seq, merged.events), (1, 2 * rows, 2 * rows));
        assert_eq!(merged.raw_bytes, 300);
        assert_eq!((merged.min_micros, merged.max_micros), (a.min_micros, b.max_micros));
        let metadata = footer(&merged.path);
        assert_eq!(metadata.num_row_groups(), 2, "row groups are copied, not re-chunked");
        let expected =
            datafusion::arrow::compute::concat_batches(&schema::schema(), &[first, second])
                .expect("concat");
        assert_eq!(read_all(&merged.path), expected);
        let host = schema::schema().index_of("host.name").expect("host.name");
        let file = std::fs::File::open(&merged.path).expect("open");
        for group in metadata.row_groups() {
            let filter = Sbbf::read_from_column_chunk(group.column(host), &file)
                .expect("bloom filter")
                .expect("a bloom filter on host.name");
            assert!(filter.check("host-3"));
        }
        assert!(metadata.column_index().is_some() && metadata.offset_index().is_some());

        for (copied, input) in metadata.row_groups().iter().zip([&a, &b]) {
            let input = footer(&input.path);
            assert_eq!(copied.compressed_size(), input.row_group(0).compressed_size());
        }

        // Flush-sized inputs are decoded and written again as one full row group.
        let small = dir.path().join("small");
        let c = write_sorted(&small, &batch(1, 10), 1, 10, 1).expect("c");
        let d = write_sorted(&small, &batch(11, 10), 11, 20, 1).expect("d");
        let rewritten = compact_into_new(&[c, d]).expect("rewrite");
        assert_eq!(footer(&rewritten.path).num_row_groups(), 1);
        assert_eq!(read_all(&rewritten.path), batch(1, 20));

        // A run that mixes both keeps the order: copied, rewritten, copied.
        let mixed = dir.path().join("mixed");
        let e = write_sorted(&mixed, &batch(1, rows), 1, rows, 1).expect("e");
        let f = write_sorted(&mixed, &batch(rows + 1, 10), rows + 1, rows + 10, 1).expect("f");
        let g =
            write_sorted(&mixed, &batch(rows + 11, rows), rows + 11, 2 * rows + 10, 1).expect("g");
        let merged = compact_into_new(&[e, f, g]).expect("mixed");
        let groups: Vec<i64> =
            footer(&merged.path).row_groups().iter().map(|group| group.num_rows()).collect();
        let large = i64::try_from(rows).expect("rows");
        assert_eq!(groups, vec![large, 10, large]);
        assert_eq!(read_all(&merged.path), batch(1, 2 * rows + 10));
    }

    /// The codec and encodings of every column chunk of a file's row groups.
    fn chunk_encodings(path: &Path) -> Vec<(Compression, bool)> {
        let metadata = footer(path);
        metadata
            .row_groups()
            .iter()
            .flat_map(|group| group.columns().iter())
            .map(|column| {
                let dictionary = column.encodings().any(|encoding| {
                    matches!(
                        encoding,
                        PageEncoding::RLE_DICTIONARY | PageEncoding::PLAIN_DICTIONARY
                    )
                });
                (column.compression(), dictionary)
            })
            .collect()
    }

    /// The kind and value encoding of every data page of a file.
    fn data_pages(path: &Path) -> Vec<(PageType, PageEncoding)> {
        let reader =
            SerializedFileReader::new(fs_err::File::open(path).expect("open").into_parts().0)
                .expect("reader");
        let mut pages = Vec::new();
        for group in 0..reader.num_row_groups() {
            let group = reader.get_row_group(group).expect("group");
            for column in 0..group.num_columns() {
                for page in group.get_column_page_reader(column).expect("pages") {
                    let page = page.expect("page");
                    if page.page_type() != PageType::DICTIONARY_PAGE {
                        pages.push((page.page_type(), page.encoding()));
                    }
                }
            }
        }
        pages
    }

    /// A flush that compaction will rewrite is written cheaply (LZ4, no dictionaries); one it
    /// will copy, and every merge's output, get zstd with dictionaries.
    #[test]
    fn only_flushes_that_will_be_rewritten_are_written_cheaply() {
        let dir = tempfile::tempdir().expect("tmp");
        let small = dir.path().join("small");
        let c = write_sorted(&small, &batch(1, 10), 1, 10, 1).expect("c");
        let d = write_sorted(&small, &batch(11, 10), 11, 20, 1).expect("d");
        for chunk in chunk_encodings(&c.path) {
            assert_eq!(chunk, (Compression::LZ4_RAW, false));
        }
        let pages = data_pages(&c.path);
        assert!(!pages.is_empty());
        for page in pages {
            assert_eq!(page, (PageType::DATA_PAGE_V2, PageEncoding::PLAIN), "interim pages");
        }
        assert_eq!(read_all(&c.path), batch(1, 10), "an interim file reads back whole");
        let merged = compact_into_new(&[c, d]).expect("merge");
        let chunks = chunk_encodings(&merged.path);
        assert!(
            chunks.iter().all(|(codec, _)| matches!(codec, Compression::ZSTD(_))),
            "{chunks:?}"
        );
        assert!(chunks.iter().any(|(_, dictionary)| *dictionary), "{chunks:?}");
        assert!(data_pages(&merged.path).iter().all(|(kind, _)| *kind == PageType::DATA_PAGE));
        assert_eq!(read_all(&merged.path), batch(1, 20));

        let rows = u64::try_from(COPY_ROW_GROUP_ROWS).expect("rows");
        let large =
            write_sorted(&dir.path().join("large"), &batch(1, rows), 1, rows, 1).expect("large");
        let chunks = chunk_encodings(&large.path);
        assert!(
            chunks.iter().all(|(codec, _)| matches!(codec, Compression::ZSTD(_))),
            "{chunks:?}"
        );
        assert!(chunks.iter().any(|(_, dictionary)| *dictionary), "{chunks:?}");
    }

    /// A segment written before the `_seq` column existed is merged with its rows' `_seq`
    /// null, not refused.
    #[test]
    fn compaction_rewrites_a_segment_without_a_newer_column() {
        let dir = tempfile::tempdir().expect("tmp");
        let source = dir.path().join("old");
        let current = batch(1, 10);
        let seq = schema::schema().index_of(schema::SEQ).expect("_seq");
        let mut old = current.clone();
        old.remove_column(seq);
        fs_err::create_dir_all(&source).expect("dir");
        let path = source.join(format!("seg-{:020}-{:020}.parquet", 1, 10));
        let mut writer =
            ArrowWriter::try_new(std::fs::File::create(&path).expect("create"), old.schema(), None)
                .expect("writer");
        writer.write(&old).expect("write");
        writer.close().expect("close");
        let a = read_info(&path).expect("info");
        let b = write_sorted(&source, &batch(11, 10), 11, 20, 1).expect("b");
        let merged = compact_into_new(&[a, b]).expect("merge");
        let rows = read_all(&merged.path);
        assert_eq!(rows.num_rows(), 20);
        assert_eq!(rows.column(seq).null_count(), 10);
        assert_eq!(rows.slice(10, 10), batch(11, 10));
        assert_eq!(rows.column(1).slice(0, 10).as_ref(), current.column(1).as_ref());
    }
}
