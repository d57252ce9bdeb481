//! Where alerts go once raised: a trait, so that the embedded SQLite state database and a
//! shared PostgreSQL one (scale-out) are interchangeable, and tests can collect alerts.

use std::future::Future;

use jiff::SignedDuration;

use crate::Alert;

/// What recording a batch of alerts did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Recorded {
    /// New alerts.
    pub new: usize,
    /// Alerts folded into one with the same rule and subject within the suppression window.
    pub folded: usize,
    /// Alerts covered by an exception (recorded, not listed by default).
    pub excepted: usize,
}

/// A store of alerts that deduplicates: an alert whose rule and subject
/// ([`Alert::dedup_key`]) match one seen within `suppress` is folded into it.
pub trait AlertSink: Send + Sync + 'static {
    /// The sink's error.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Records a batch of alerts, all or none.
    fn record(
        &self,
        alerts: &[Alert],
        suppress: SignedDuration,
    ) -> impl Future<Output = Result<Recorded, Self::Error>> + Send;
}
