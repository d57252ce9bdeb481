//! The pipe query language of Palisade: `events | where ... | stats ... by ...`, compiled to
//! one SQL `SELECT` over the `events` table.
//!
//! Analysts coming from Splunk SPL, Kusto KQL or Elastic ES|QL write a pipeline of commands;
//! [`compile()`] turns it into SQL text (DataFusion dialect) that then runs through the same
//! read-only SQL path as SQL typed by hand, so both get the same plan and the same safety
//! rules. The grammar and every command are described in `docs/pipe.md`; why a language of our
//! own rather than PRQL is in `docs/adr/0003-pipe-query-language.md`.
//!
//! The pipeline is `text → tokens (lexer) → stages (parser) → SQL (compile, emit)`. Nothing
//! here does IO. Invariants:
//! - compiling never panics and never recurses without bound: expression nesting and the number
//!   of stages are capped, with a clear error past the cap;
//! - user text never reaches the SQL unquoted: names are double-quoted identifiers and text is
//!   single-quoted literals, quotes doubled, so the SQL always parses as one query;
//! - a field that is not a column of `events` is read with the `source_field("_source",
//!   'name')` UDF, and `cidr` tests use the `cidr_match(ip, 'net')` UDF: the store registers
//!   both.
#![warn(missing_docs)]

mod ast;
mod compile;
mod emit;
mod error;
mod functions;
mod lexer;
mod parser;
mod sql;

pub use error::{Error, Result};

/// Compiles a pipe query to one SQL SELECT over the table `events`.
///
/// `columns(name)` says whether a field is a real column of `events` (such as `source.ip`,
/// `@timestamp` or `_source`); any other field is read from `_source` with
/// `source_field("_source", 'name')`.
///
/// # Errors
/// Returns an [`Error`] with a message for the analyst and the place of the mistake when the
/// query is not valid: a syntax error, an unknown command or function, a field that an earlier
/// `stats` or `fields` dropped, a number out of range, or nesting too deep.
///
/// # Examples
/// ```
/// let columns = |name: &str| ["source.ip", "event.outcome", "_source"].contains(&name);
/// let sql = palisade_pipe::compile(
///     r#"events | where event.outcome == "failure" | stats count() by source.ip"#,
///     &columns,
/// )
/// .unwrap();
/// assert_eq!(
///     sql,
///     r#"WITH "_s1" AS (SELECT "source.ip", count(*) AS "count" FROM "events" WHERE "event.outcome" = 'failure' GROUP BY "source.ip") SELECT * FROM "_s1" ORDER BY "source.ip" ASC NULLS LAST"#
/// );
/// ```
pub fn compile(query: &str, columns: &dyn Fn(&str) -> bool) -> Result<String> {
    let stages = parser::parse(query)?;
    let mut compiler = compile::Compiler::new(query, columns);
    for stage in &stages {
        compiler.stage(&stage.command, &stage.span)?;
    }
    compiler.finish()
}

/// Cheap test used by callers to decide whether the user typed pipe syntax or SQL:
/// true when the first token is `events` followed by `|` or end, or the text starts with `|`.
///
/// Leading whitespace and `//` comments are skipped; `events` is matched without regard to
/// case. SQL never starts this way (`events` alone is not a SQL statement).
///
/// # Examples
/// ```
/// use palisade_pipe::looks_like_pipe;
/// assert!(looks_like_pipe("events | head 5"));
/// assert!(looks_like_pipe("  | where user.name == \"root\""));
/// assert!(looks_like_pipe("EVENTS"));
/// assert!(!looks_like_pipe("SELECT * FROM events"));
/// assert!(!looks_like_pipe("events_archive | head"));
/// ```
#[must_use]
pub fn looks_like_pipe(query: &str) -> bool {
    let start = lexer::skip_blank(query, 0);
    let rest = &query[start..];
    if rest.starts_with('|') {
        return true;
    }
    let Some(after) = rest.get(..6).filter(|word| word.eq_ignore_ascii_case("events")) else {
        return false;
    };
    let rest = &rest[after.len()..];
    let next = &rest[lexer::skip_blank(rest, 0)..];
    let continues_word = rest.starts_with(|c: char| lexer::is_name_char(c) || c == '.');
    !continues_word && (next.is_empty() || next.starts_with('|'))
}
