//! Store errors, split by whose fault they are.

use std::path::PathBuf;

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file of the data directory could not be read or written.
    #[error("{action} {path}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The query is invalid or not allowed (syntax, writes, DDL, unknown columns).
    #[error("invalid query: {0}")]
    InvalidQuery(String),
    /// The query ran into a limit (time, rows, memory).
    #[error("query stopped: {0}")]
    QueryLimit(String),
    /// A segment or WAL file is damaged beyond what recovery repairs.
    #[error("corrupt {path}: {message}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Another process has the data directory open.
    #[error(
        "the data directory {0} is in use by another Palisade process (a running `palisade serve`?); stop it, or send the request to the server with --server"
    )]
    Locked(PathBuf),
    /// The store's writer has stopped (a bug, or the store is closing).
    #[error("internal store error: {0}")]
    Internal(String),
}

impl Error {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Error::Io { action, path, source }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
