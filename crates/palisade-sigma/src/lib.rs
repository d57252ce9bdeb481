//! Sigma rules for Palisade: loading, compilation and matching.
//!
//! The pipeline is `YAML text → Document (rule, correlation, filter) → Expr (predicate IR) →
//! RuleSet (indexed by logsource and literals)`. Nothing here does IO or spawns tasks: callers
//! read files and hand over their text, which keeps this crate cheap to fuzz and benchmark.
//!
//! Problems inside a rule never fail a load: they become [`Diagnostic`]s with a stable code,
//! the file and the line, and the rest of the set loads.
#![warn(missing_docs)]

pub mod compile;
pub mod condition;
mod diagnostic;
mod error;
pub mod matcher;
pub mod modifier;
pub mod pattern;
pub mod pipeline;
pub mod rule;
mod ruleset;
pub mod yaml;

pub use diagnostic::{Code, Diagnostic, Severity};
pub use error::{Error, Result};
pub use pipeline::{Mapping, Pipeline};
pub use rule::{Level, Logsource, Meta};
pub use ruleset::{CompiledRule, LoadStats, Loader, RuleSet, Scratch, parse_source};
