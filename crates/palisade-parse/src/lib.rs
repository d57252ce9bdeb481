//! Parsers: bytes in, [`palisade_event::Event`]s out. Synchronous and free of IO: callers read
//! files or sockets and hand the bytes over.
//!
//! - [`format::evtx`]: Windows `.evtx` files, through the `evtx` crate, in parallel chunks.
//! - [`format::windows`]: the flattening of a Windows event (System, EventData, UserData)
//!   into the field names Sigma rules use (`EventID`, `Channel`, `Provider_Name`, `Image`...).
//! - [`format::json`]: JSON documents and JSON lines in three shapes: the evtx_dump shape
//!   (`{"Event": {...}}`), the Winlogbeat shape (`{"winlog": {...}}`) and generic/ECS JSON,
//!   flattened to dotted names.
//!
//! Parsers never panic. A record that cannot be read becomes an error with its position; the
//! caller decides whether to keep it raw.
#![warn(missing_docs)]

mod error;
pub mod format;

pub use error::{ParseError, Result};
