//! Read-only SQL over the store with Apache DataFusion.
//!
//! Each query sees a consistent snapshot: the segments listed at its start (explicit files,
//! kept on disk until the query ends even if compaction or retention replaces them) and the
//! in-memory table at that moment. The `events` view is their union. Plans that write, define
//! or change anything are refused before execution; a timeout, a row cap and a memory cap bound
//! every query. Results stream batch by batch, so a large answer is never held whole.
//!
//! Two functions reach beyond the typed columns: `source_field("_source", 'dotted.name')`
//! returns any other field of an event as text, and `cidr_match(ip, 'net/len')` tests an
//! address against an IPv4 or IPv6 network.

use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::array::{Array, ArrayRef, BooleanArray, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::common::cast::as_string_array;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{Column, DFSchema, ScalarValue};
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::execution::FunctionRegistry as _;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::functions::core::expr_fn::coalesce;
use datafusion::logical_expr::expr_rewriter::FunctionRewrite;
use datafusion::logical_expr::{ColumnarValue, Expr, Volatility, cast, create_udf};
use datafusion::prelude::{SQLOptions, SessionConfig, SessionContext};
use futures_util::StreamExt as _;

use crate::error::{Error, Result};
use crate::schema;
use crate::store::{Segment, Store};

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

/// A query's whole result.
#[derive(Debug)]
pub struct QueryOutput {
    /// The result schema.
    pub schema: SchemaRef,
    /// The rows, in batches.
    pub batches: Vec<RecordBatch>,
    /// True when the row cap cut the result.
    pub truncated: bool,
}

/// A running query whose rows arrive batch by batch.
pub struct QueryStream {
    schema: SchemaRef,
    stream: SendableRecordBatchStream,
    remaining: usize,
    deadline: tokio::time::Instant,
    timeout: Duration,
    truncated: bool,
    /// Keeps the snapshot's files on disk until the query is done.
    _snapshot: Vec<Arc<Segment>>,
}

impl std::fmt::Debug for QueryStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryStream").field("schema", &self.schema).finish_non_exhaustive()
    }
}

impl QueryStream {
    /// The result schema.
    #[must_use]
    pub fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    /// True once the row cap has cut the result.
    #[must_use]
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// The next batch of rows, `None` at the end (or once the row cap is reached).
    ///
    /// # Errors
    /// [`Error::QueryLimit`] when the timeout or memory cap is hit; other execution errors.
    pub async fn next_batch(&mut self) -> Option<Result<RecordBatch>> {
        if self.remaining == 0 {
            return None;
        }
        let next = match tokio::time::timeout_at(self.deadline, self.stream.next()).await {
            Ok(next) => next?,
            Err(_) => {
                self.remaining = 0;
                return Some(Err(Error::QueryLimit(format!("timed out after {:?}", self.timeout))));
            }
        };
        let batch = match next {
            Ok(batch) => batch,
            Err(error) => {
                self.remaining = 0;
                return Some(Err(classify(error)));
            }
        };
        if batch.num_rows() > self.remaining {
            let cut = batch.slice(0, self.remaining);
            self.remaining = 0;
            self.truncated = true;
            return Some(Ok(cut));
        }
        self.remaining -= batch.num_rows();
        // A result of exactly `max_rows` rows is only cut if more would follow.
        if self.remaining == 0 {
            self.truncated = self.peek_more().await;
        }
        Some(Ok(batch))
    }

    async fn peek_more(&mut self) -> bool {
        loop {
            match tokio::time::timeout_at(self.deadline, self.stream.next()).await {
                Ok(Some(Ok(batch))) if batch.num_rows() == 0 => {}
                Ok(Some(_)) | Err(_) => return true,
                Ok(None) => return false,
            }
        }
    }

    /// Reads every remaining batch.
    ///
    /// # Errors
    /// As [`QueryStream::next_batch`].
    pub async fn collect(mut self) -> Result<QueryOutput> {
        let mut batches = Vec::new();
        while let Some(batch) = self.next_batch().await {
            batches.push(batch?);
        }
        Ok(QueryOutput { schema: self.schema(), batches, truncated: self.truncated })
    }
}

fn invalid(error: impl std::fmt::Display) -> Error {
    Error::InvalidQuery(error.to_string())
}

fn internal(error: impl std::fmt::Display) -> Error {
    Error::Internal(error.to_string())
}

impl Store {
    /// Builds a read-only DataFusion context whose `events` table is the store's snapshot,
    /// with the snapshot's segments (to keep alive while the context is used).
    async fn session(&self, limits: &QueryLimits) -> Result<(SessionContext, Vec<Arc<Segment>>)> {
        // No spilling: the memory cap is a hard cap, and a query never writes to disk.
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_limit(limits.memory_bytes, 1.0)
            .with_disk_manager_builder(
                DiskManagerBuilder::default().with_mode(DiskManagerMode::Disabled),
            )
            .build_arc()
            .map_err(internal)?;
        let config = SessionConfig::new()
            .with_information_schema(false)
            .with_default_catalog_and_schema("palisade", "public");
        let mut ctx = SessionContext::new_with_config_rt(config, runtime);
        ctx.register_udf(source_field_udf());
        ctx.register_udf(cidr_match_udf());
        ctx.register_function_rewrite(Arc::new(TypedSourceField)).map_err(internal)?;
        let (segments, mem) = self.snapshot();
        let table_schema = schema::schema();
        if segments.is_empty() {
            let empty =
                MemTable::try_new(Arc::clone(&table_schema), vec![vec![]]).map_err(internal)?;
            ctx.register_table("_segments", Arc::new(empty)).map_err(internal)?;
        } else {
            let urls = segments
                .iter()
                .map(|segment| {
                    ListingTableUrl::parse(segment.info.path.to_string_lossy()).map_err(internal)
                })
                .collect::<Result<Vec<_>>>()?;
            let options =
                ListingOptions::new(Arc::new(ParquetFormat::default().with_enable_pruning(true)))
                    .with_file_extension(".parquet");
            let config = ListingTableConfig::new_with_multi_paths(urls)
                .with_listing_options(options)
                .with_schema(Arc::clone(&table_schema));
            let table = ListingTable::try_new(config).map_err(internal)?;
            ctx.register_table("_segments", Arc::new(table)).map_err(internal)?;
        }
        let mem_batches = mem.iter().map(|batch| batch.batch.clone()).collect();
        let mem_table =
            MemTable::try_new(Arc::clone(&table_schema), vec![mem_batches]).map_err(internal)?;
        ctx.register_table("_memtable", Arc::new(mem_table)).map_err(internal)?;
        ctx.sql("CREATE VIEW events AS SELECT * FROM _segments UNION ALL SELECT * FROM _memtable")
            .await
            .map_err(internal)?;
        Ok((ctx, segments))
    }

    /// Plans one read-only query (SQL, or the pipe syntax of docs/pipe.md) and starts it;
    /// rows then stream from the result.
    ///
    /// # Errors
    /// [`Error::InvalidQuery`] for syntax errors, writes, DDL and unknown names;
    /// [`Error::QueryLimit`] when planning alone exceeds the timeout.
    pub async fn query_stream(&self, query: &str, limits: QueryLimits) -> Result<QueryStream> {
        let sql = to_sql(query)?;
        let sql = sql.as_ref();
        let deadline = tokio::time::Instant::now() + limits.timeout;
        let (ctx, snapshot) = self.session(&limits).await?;
        let options = SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false);
        let plan = async {
            let frame = ctx.sql_with_options(sql, options).await.map_err(invalid)?;
            frame.execute_stream().await.map_err(classify)
        };
        let stream = tokio::time::timeout_at(deadline, plan).await.map_err(|_| {
            Error::QueryLimit(format!("timed out after {:?} while planning", limits.timeout))
        })??;
        Ok(QueryStream {
            schema: stream.schema(),
            stream,
            remaining: limits.max_rows,
            deadline,
            timeout: limits.timeout,
            truncated: false,
            _snapshot: snapshot,
        })
    }

    /// Runs one read-only SQL query and collects its rows.
    ///
    /// # Errors
    /// [`Error::InvalidQuery`] for syntax errors, writes, DDL and unknown names;
    /// [`Error::QueryLimit`] when the timeout or memory cap is hit.
    pub async fn query(&self, sql: &str, limits: QueryLimits) -> Result<QueryOutput> {
        self.query_stream(sql, limits).await?.collect().await
    }
}

/// The SQL of a query: pipe syntax (`events | where ...`) is compiled to SQL, which then runs
/// through exactly the same read-only path as SQL written by hand.
///
/// # Errors
/// [`Error::InvalidQuery`] with the position of the mistake in a pipe query.
pub fn to_sql(query: &str) -> Result<std::borrow::Cow<'_, str>> {
    if !palisade_pipe::looks_like_pipe(query) {
        return Ok(std::borrow::Cow::Borrowed(query));
    }
    let schema = schema::schema();
    palisade_pipe::compile(query, &|name| schema.field_with_name(name).is_ok())
        .map(std::borrow::Cow::Owned)
        .map_err(|error| Error::InvalidQuery(error.to_string()))
}

fn classify(error: datafusion::error::DataFusionError) -> Error {
    let text = error.to_string();
    if text.contains("Resources exhausted") {
        Error::QueryLimit(text)
    } else {
        Error::InvalidQuery(text)
    }
}

/// Applies `f` row by row to two text arguments (arrays or scalars).
fn binary_text<I, T>(
    args: &[ColumnarValue],
    f: impl Fn(Option<&str>, Option<&str>) -> Option<I>,
) -> datafusion::error::Result<ColumnarValue>
where
    T: Array + FromIterator<Option<I>> + 'static,
{
    let arrays = ColumnarValue::values_to_arrays(args)?;
    let (Some(left), Some(right)) = (arrays.first(), arrays.get(1)) else {
        return Err(datafusion::error::DataFusionError::Plan("expected two arguments".into()));
    };
    let left = as_string_array(left)?;
    let right = as_string_array(right)?;
    let out: T = left.iter().zip(right.iter()).map(|(left, right)| f(left, right)).collect();
    Ok(ColumnarValue::Array(Arc::new(out) as ArrayRef))
}

/// `source_field(_source, 'name')`: a field outside the typed columns, as text.
fn source_field_udf() -> datafusion::logical_expr::ScalarUDF {
    create_udf(
        "source_field",
        vec![DataType::Utf8, DataType::Utf8],
        DataType::Utf8,
        Volatility::Immutable,
        Arc::new(|args: &[ColumnarValue]| {
            binary_text::<_, StringArray>(args, |source, name| {
                let object: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(source?).ok()?;
                json_text(object.get(name?)?)
            })
        }),
    )
}

/// Reads `source_field(_source, 'name')` from the typed column when `name` has one:
/// `coalesce(CAST("name" AS text), source_field(...))`.
///
/// A field moves from `_source` to a typed column when the schema gains one (the syslog
/// header did). A query written against the older layout keeps working: on rows written
/// since, the column answers (and no JSON is parsed); on older rows, where the column is
/// null, `_source` still does, because `coalesce` only evaluates its second argument on the
/// rows whose first is null.
#[derive(Debug)]
struct TypedSourceField;

impl FunctionRewrite for TypedSourceField {
    fn name(&self) -> &str {
        "typed_source_field"
    }

    fn rewrite(
        &self,
        expr: Expr,
        schema: &DFSchema,
        _config: &ConfigOptions,
    ) -> datafusion::error::Result<Transformed<Expr>> {
        let Expr::ScalarFunction(call) = &expr else {
            return Ok(Transformed::no(expr));
        };
        let name = match call.args.as_slice() {
            [_, Expr::Literal(ScalarValue::Utf8(Some(name)), _)]
                if call.func.name() == "source_field" =>
            {
                name
            }
            _ => return Ok(Transformed::no(expr)),
        };
        if !schema::is_typed_column(name) {
            return Ok(Transformed::no(expr));
        }
        let Ok((qualifier, _)) = schema.qualified_field_with_unqualified_name(name) else {
            return Ok(Transformed::no(expr));
        };
        let column = Expr::Column(Column::new(qualifier.cloned(), name.as_str()));
        let typed = cast(column, DataType::Utf8);
        Ok(Transformed::yes(coalesce(vec![typed, expr])))
    }
}

/// Text of a `_source` value the way typed columns hold it: lists joined with ",".
fn json_text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::Null => None,
        serde_json::Value::String(text) => Some(text.clone()),
        serde_json::Value::Array(items) => {
            let parts: Vec<String> = items.iter().filter_map(json_text).collect();
            (!parts.is_empty()).then(|| parts.join(","))
        }
        other => Some(other.to_string()),
    }
}

/// `cidr_match(ip, 'net/len')`: whether an address lies in an IPv4 or IPv6 network; NULL when
/// either side is NULL or not an address.
fn cidr_match_udf() -> datafusion::logical_expr::ScalarUDF {
    create_udf(
        "cidr_match",
        vec![DataType::Utf8, DataType::Utf8],
        DataType::Boolean,
        Volatility::Immutable,
        Arc::new(|args: &[ColumnarValue]| {
            binary_text::<_, BooleanArray>(args, |ip, net| {
                let ip: std::net::IpAddr = ip?.trim().parse().ok()?;
                let net: ipnet::IpNet = net?.trim().parse().ok()?;
                Some(net.contains(&ip))
            })
        }),
    )
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::Int64Array;
    use datafusion::arrow::datatypes::{Field, Schema};
    use datafusion::arrow::util::display::ArrayFormatter;

    use super::*;

    /// Rows of a table laid out as after a field moved to a typed column: the first row
    /// written since (column set, `_source` without it), the second before (column null,
    /// the field in `_source`).
    async fn moved_fields(sql: &str) -> Vec<String> {
        let schema = Arc::new(Schema::new(vec![
            Field::new("log.syslog.hostname", DataType::Utf8, true),
            Field::new("log.syslog.priority", DataType::Int64, true),
            Field::new("_source", DataType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                Arc::new(StringArray::from(vec![Some("new-host"), None])),
                Arc::new(Int64Array::from(vec![Some(38), None])),
                Arc::new(StringArray::from(vec![
                    r#"{"x":"1"}"#,
                    r#"{"log.syslog.hostname":"old-host","log.syslog.priority":13,"x":"2"}"#,
                ])),
            ],
        )
        .expect("batch");
        let mut ctx = SessionContext::new();
        ctx.register_udf(source_field_udf());
        ctx.register_function_rewrite(Arc::new(TypedSourceField)).expect("rewrite");
        let table = MemTable::try_new(schema, vec![vec![batch]]).expect("table");
        ctx.register_table("events", Arc::new(table)).expect("register");
        let batches = ctx.sql(sql).await.expect("plan").collect().await.expect("run");
        let mut rows = Vec::new();
        for batch in &batches {
            let columns: Vec<_> = batch
                .columns()
                .iter()
                .map(|column| ArrayFormatter::try_new(column.as_ref(), &Default::default()))
                .collect::<std::result::Result<_, _>>()
                .expect("format");
            for row in 0..batch.num_rows() {
                let values: Vec<String> =
                    columns.iter().map(|column| column.value(row).to_string()).collect();
                rows.push(values.join("|"));
            }
        }
        rows
    }

    #[tokio::test]
    async fn source_field_of_a_typed_name_reads_the_column_then_the_older_json() {
        let sql = r#"SELECT source_field("_source", 'log.syslog.hostname'),
            source_field("_source", 'log.syslog.priority'), source_field("_source", 'x')
            FROM events"#;
        assert_eq!(moved_fields(sql).await, ["new-host|38|1", "old-host|13|2"]);
        // In a filter too, and qualified by the table's name.
        let sql = r#"SELECT "log.syslog.priority" FROM events
            WHERE source_field(events."_source", 'log.syslog.hostname') = 'new-host'"#;
        assert_eq!(moved_fields(sql).await, ["38"]);
    }

    #[tokio::test]
    async fn the_rewrite_keeps_source_field_for_other_names() {
        let plan = {
            let mut ctx = SessionContext::new();
            ctx.register_udf(source_field_udf());
            ctx.register_function_rewrite(Arc::new(TypedSourceField)).expect("rewrite");
            let schema = Arc::new(Schema::new(vec![
                Field::new("host.hostname", DataType::Utf8, true),
                Field::new("_source", DataType::Utf8, true),
            ]));
            let table = MemTable::try_new(schema, vec![vec![]]).expect("table");
            ctx.register_table("events", Arc::new(table)).expect("register");
            let frame = ctx
                .sql(r#"SELECT source_field("_source", 'custom'), source_field("_source", 'host.hostname') FROM events"#)
                .await
                .expect("plan");
            format!("{}", frame.into_optimized_plan().expect("optimize").display_indent())
        };
        assert!(plan.contains(r#"source_field(events._source, Utf8("custom"))"#), "{plan}");
        assert!(plan.contains("events.host.hostname"), "{plan}");
    }
}
