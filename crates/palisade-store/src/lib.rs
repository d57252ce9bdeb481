//! The embedded event store: one data directory, no cluster.
//!
//! ```text
//!  append(events) ──> WAL (group commit, fsync policy) ──> ack
//!                         │
//!                         └──> memtable ──flush──> Parquet segment (zstd, time-sorted,
//!                                                   bloom filters, page index)
//!  query(SQL) ──> DataFusion over segments ∪ memtable, read-only, row and memory caps
//! ```
//!
//! Invariants: an acknowledged event is in the WAL on disk (under the `always` fsync policy)
//! or in a segment; recovery replays exactly the WAL records newer than the newest segment,
//! so a crash neither loses nor duplicates acknowledged events.
#![warn(missing_docs)]

mod error;
pub mod query;
pub mod schema;
pub mod segment;
mod store;
pub mod wal;

pub use error::{Error, Result};
pub use query::{QueryLimits, QueryOutput, QueryStream};
pub use store::{
    Encoder, FsyncPolicy, RetentionLimits, RetentionPolicy, SourceStats, Stats, Store, StoreConfig,
};
