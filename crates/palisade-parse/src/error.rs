//! Parse errors.

/// Why some input could not become an event.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The EVTX file or one of its records is damaged.
    #[error("evtx: {0}")]
    Evtx(String),
    /// A JSON document or line is invalid.
    #[error("invalid JSON at line {line}, column {column}: {message}")]
    Json {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// A Windows event in XML cannot be read.
    #[error("invalid event XML at line {line}, column {column} (byte {offset}): {message}")]
    Xml {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// 0-based byte offset in the input.
        offset: usize,
        /// What is wrong.
        message: String,
    },
}

/// The crate's result type.
pub type Result<T, E = ParseError> = std::result::Result<T, E>;
