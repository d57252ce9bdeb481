//! Integration tests of the pipe compiler: exact SQL per command, the golden hunts, error
//! messages and positions, and properties (no panics, well-formed queries compile, quoting).

mod commands;
mod errors;
mod golden;
mod props;

/// The columns of the store's `events` table, as in crates/palisade-store/src/schema.rs
/// (copied: this crate must not depend on the store and its DataFusion).
pub(crate) const COLUMNS: &[&str] = &[
    "@timestamp",
    "event.dataset",
    "event.kind",
    "event.category",
    "event.type",
    "event.action",
    "event.outcome",
    "event.code",
    "host.name",
    "user.name",
    "source.ip",
    "destination.ip",
    "network.transport",
    "process.name",
    "process.executable",
    "process.command_line",
    "process.parent.executable",
    "dns.question.name",
    "dns.question.type",
    "url.original",
    "url.domain",
    "http.request.method",
    "user_agent.original",
    "file.path",
    "file.hash.sha256",
    "message",
    "event.original",
    "source.port",
    "destination.port",
    "process.pid",
    "http.response.status_code",
    "_source",
];

pub(crate) fn is_column(name: &str) -> bool {
    COLUMNS.contains(&name)
}

/// Compiles with the store's columns, panicking with the error on failure.
pub(crate) fn sql(query: &str) -> String {
    match palisade_pipe::compile(query, &is_column) {
        Ok(sql) => sql,
        Err(error) => panic!("{query}\n  failed: {error}"),
    }
}

/// Compiles with the store's columns and returns the error.
pub(crate) fn error(query: &str) -> palisade_pipe::Error {
    match palisade_pipe::compile(query, &is_column) {
        Ok(sql) => panic!("{query}\n  compiled to: {sql}"),
        Err(error) => error,
    }
}

/// Parses SQL as DataFusion's parser would (generic dialect, default recursion limit) and
/// returns the statements.
pub(crate) fn parse_sql(sql: &str) -> Result<Vec<sqlparser::ast::Statement>, String> {
    sqlparser::parser::Parser::parse_sql(&sqlparser::dialect::GenericDialect {}, sql)
        .map_err(|error| error.to_string())
}
