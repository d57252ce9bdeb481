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

/// A detector's state as JSON text, written straight from it (no `serde_json::Value` tree);
/// `null`, with a warning, when it cannot be written (which restores as a fresh start).
pub(crate) fn state_json<T: serde::Serialize>(
    detector: &str,
    state: &T,
) -> Box<serde_json::value::RawValue> {
    serde_json::value::to_raw_value(state).unwrap_or_else(|error| {
        tracing::warn!(%error, detector, "state not saved");
        serde_json::value::RawValue::NULL.to_owned()
    })
}
