//! The one error type: what is wrong with a pipe query, and where.
//!
//! Every error is the analyst's input (a pipe query is never wrong because of palisade), so
//! there is no kind to tell faults apart: an error carries a message written for the analyst and
//! the byte span of the offending text, from which the line and column are worked out once.

use std::ops::Range;

/// A pipe query that cannot be compiled, with the place of the mistake.
///
/// Displays as `message at LINE:COLUMN`, for example
/// ``expected a field name after `by` at 1:34``. Lines and columns count from 1; the column
/// counts characters, not bytes, so it matches what the analyst sees.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at {line}:{column}")]
pub struct Error {
    message: String,
    span: Range<usize>,
    line: usize,
    column: usize,
}

impl Error {
    /// Builds an error for `span` (byte offsets into `query`).
    pub(crate) fn new(query: &str, span: Range<usize>, message: impl Into<String>) -> Self {
        let start = floor_char_boundary(query, span.start.min(query.len()));
        let end = floor_char_boundary(query, span.end.clamp(start, query.len()));
        let before = &query[..start];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |at| at + 1);
        let column = query[line_start..start].chars().count() + 1;
        Self { message: message.into(), span: start..end, line, column }
    }

    /// Returns the message, without the position.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Returns the byte range of the offending text in the query (empty at the end of input).
    #[must_use]
    pub fn span(&self) -> Range<usize> {
        self.span.clone()
    }

    /// Returns the byte offset where the offending text starts.
    #[must_use]
    pub fn offset(&self) -> usize {
        self.span.start
    }

    /// Returns the line of the mistake, from 1.
    #[must_use]
    pub fn line(&self) -> usize {
        self.line
    }

    /// Returns the column of the mistake in characters, from 1.
    #[must_use]
    pub fn column(&self) -> usize {
        self.column
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::Error;

    #[test]
    fn position_counts_lines_and_characters() {
        let query = "events\n| where é == 1 |";
        let at = query.rfind('|').unwrap();
        let error = Error::new(query, at..at + 1, "a trailing `|` needs a command after it");
        assert_eq!(
            (error.line(), error.column()),
            (2, 16),
            "é counts as one column, not two bytes"
        );
        assert_eq!(error.to_string(), "a trailing `|` needs a command after it at 2:16");
        assert_eq!(error.span(), at..at + 1);
    }

    #[test]
    fn spans_past_the_end_are_clamped() {
        let error = Error::new("ab", 5..9, "x");
        assert_eq!(error.span(), 2..2);
        assert_eq!(error.column(), 3);
    }
}
