//! Live detection: what turns the stream of stored events into alerts.
//!
//! Three kinds of detection share one alert model ([`Alert`]):
//! - Sigma rules, evaluated on every event by `palisade_sigma::RuleSet`;
//! - Sigma correlation rules ([`correlation`]), windows over the matches of those rules,
//!   grouped by field values and kept in bounded, checkpointed state;
//! - behaviour detectors ([`behaviour`]), Rust code with baselines for what a rule cannot
//!   express (impossible travel, beaconing, DGA-like domains...).
//!
//! Every detector works on event time, not arrival time, so that replaying history
//! (`palisade rules replay`) raises the same alerts as the live stream did; time only comes in
//! through the events and through an injected clock, which keeps tests deterministic.
#![warn(missing_docs)]

pub mod alert;
pub mod behaviour;
pub mod builtin;
pub mod correlation;
mod error;
pub mod sink;
pub mod stage;

pub use alert::{Alert, AlertKind, Entities, EventId, Severity};
pub use error::{Error, Result};
pub use sink::{AlertSink, Recorded};
