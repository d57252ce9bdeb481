//! Errors of the public loading API (IO and configuration). Problems inside a rule are not
//! errors but [`crate::Diagnostic`]s, because one bad rule must never stop a rule set.

use std::path::PathBuf;

/// What went wrong while loading rules or a mapping file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or directory could not be read.
    #[error("cannot read {path}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A field-mapping file is invalid.
    #[error("invalid field mapping {name}: {message}")]
    InvalidMapping {
        /// The mapping's file or name.
        name: String,
        /// What is wrong.
        message: String,
    },
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
