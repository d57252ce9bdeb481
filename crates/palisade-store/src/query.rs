//! Read-only SQL over the store with Apache DataFusion.
//!
//! Each query sees a consistent snapshot: the segments listed at its start (explicit files,
//! so a segment flushed meanwhile is not read twice) and the in-memory table at that moment.
//! The `events` view is their union. Plans that write, define or change anything are refused
//! before execution; a timeout, a row cap and a memory cap bound every query.

use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{SQLOptions, SessionConfig, SessionContext};
use futures_util::StreamExt as _;

use crate::error::{Error, Result};
use crate::schema;
use crate::store::Store;

/// Bounds on one query.
#[derive(Debug, Clone, Copy)]
pub struct QueryLimits {
    /// Rows returned at most; more are cut and the output says so.
    pub max_rows: usize,
    /// Wall-clock limit.
    pub timeout: Duration,
    /// Memory the query's operators may use.
    pub memory_bytes: usize,
}

impl Default for QueryLimits {
    fn default() -> Self {
        Self { max_rows: 10_000, timeout: Duration::from_secs(60), memory_bytes: 1 << 30 }
    }
}

/// A query's result.
#[derive(Debug)]
pub struct QueryOutput {
    /// The result schema.
    pub schema: SchemaRef,
    /// The rows, in batches.
    pub batches: Vec<RecordBatch>,
    /// True when the row cap cut the result.
    pub truncated: bool,
}

fn invalid(error: impl std::fmt::Display) -> Error {
    Error::InvalidQuery(error.to_string())
}

impl Store {
    /// Builds a read-only DataFusion context whose `events` table is the store's snapshot.
    ///
    /// # Errors
    /// Returns errors registering the tables.
    pub async fn session(&self, limits: &QueryLimits) -> Result<SessionContext> {
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_limit(limits.memory_bytes, 1.0)
            .build_arc()
            .map_err(|e| Error::Internal(e.to_string()))?;
        let config = SessionConfig::new()
            .with_information_schema(false)
            .with_default_catalog_and_schema("palisade", "public");
        let ctx = SessionContext::new_with_config_rt(config, runtime);
        let (segments, mem) = self.snapshot();
        let table_schema = schema::schema();
        if segments.is_empty() {
            let empty = MemTable::try_new(Arc::clone(&table_schema), vec![vec![]])
                .map_err(|e| Error::Internal(e.to_string()))?;
            ctx.register_table("_segments", Arc::new(empty))
                .map_err(|e| Error::Internal(e.to_string()))?;
        } else {
            let urls = segments
                .iter()
                .map(|info| {
                    ListingTableUrl::parse(info.path.to_string_lossy())
                        .map_err(|e| Error::Internal(e.to_string()))
                })
                .collect::<Result<Vec<_>>>()?;
            let options =
                ListingOptions::new(Arc::new(ParquetFormat::default().with_enable_pruning(true)))
                    .with_file_extension(".parquet");
            let config = ListingTableConfig::new_with_multi_paths(urls)
                .with_listing_options(options)
                .with_schema(Arc::clone(&table_schema));
            let table =
                ListingTable::try_new(config).map_err(|e| Error::Internal(e.to_string()))?;
            ctx.register_table("_segments", Arc::new(table))
                .map_err(|e| Error::Internal(e.to_string()))?;
        }
        let now = jiff::Timestamp::now().as_microsecond();
        let mem_events: Vec<&palisade_event::Event> =
            mem.iter().flat_map(|batch| batch.events.iter()).collect();
        let mem_batch = schema::to_batch(&mem_events, now);
        let mem_table = MemTable::try_new(Arc::clone(&table_schema), vec![vec![mem_batch]])
            .map_err(|e| Error::Internal(e.to_string()))?;
        ctx.register_table("_memtable", Arc::new(mem_table))
            .map_err(|e| Error::Internal(e.to_string()))?;
        ctx.sql("CREATE VIEW events AS SELECT * FROM _segments UNION ALL SELECT * FROM _memtable")
            .await
            .map_err(|e| Error::Internal(e.to_string()))?;
        Ok(ctx)
    }

    /// Runs one read-only SQL query.
    ///
    /// # Errors
    /// [`Error::InvalidQuery`] for syntax errors, writes, DDL and unknown names;
    /// [`Error::QueryLimit`] when the timeout or memory cap is hit.
    pub async fn query(&self, sql: &str, limits: QueryLimits) -> Result<QueryOutput> {
        let ctx = self.session(&limits).await?;
        let options = SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false);
        let run = async {
            let frame = ctx.sql_with_options(sql, options).await.map_err(invalid)?;
            let stream: SendableRecordBatchStream =
                frame.execute_stream().await.map_err(classify)?;
            collect(stream, limits.max_rows).await
        };
        tokio::time::timeout(limits.timeout, run)
            .await
            .map_err(|_| Error::QueryLimit(format!("timed out after {:?}", limits.timeout)))?
    }
}

fn classify(error: datafusion::error::DataFusionError) -> Error {
    let text = error.to_string();
    if text.contains("Resources exhausted") {
        Error::QueryLimit(text)
    } else {
        Error::InvalidQuery(text)
    }
}

async fn collect(mut stream: SendableRecordBatchStream, max_rows: usize) -> Result<QueryOutput> {
    let schema = stream.schema();
    let mut batches = Vec::new();
    let mut rows = 0;
    let mut truncated = false;
    while let Some(batch) = stream.next().await {
        let batch = batch.map_err(classify)?;
        if rows + batch.num_rows() > max_rows {
            batches.push(batch.slice(0, max_rows - rows));
            truncated = true;
            break;
        }
        rows += batch.num_rows();
        batches.push(batch);
    }
    Ok(QueryOutput { schema, batches, truncated })
}
