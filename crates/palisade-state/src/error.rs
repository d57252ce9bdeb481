//! State database errors.

use std::path::PathBuf;

/// What went wrong with the state database.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database failed.
    #[error("state database: {0}")]
    Database(#[from] sqlx::Error),
    /// The data directory could not be created.
    #[error("creating {path}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The database was written by a newer Palisade.
    #[error("the state database has schema version {found}; this Palisade knows up to {known}")]
    NewerSchema {
        /// The database's version.
        found: usize,
        /// Ours.
        known: usize,
    },
    /// A name or value given by the user is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// The operating system's random source failed.
    #[error("no random numbers for a token: {0}")]
    Random(String),
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
