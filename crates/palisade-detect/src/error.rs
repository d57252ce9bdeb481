//! Errors of the detection crate.

/// What can go wrong in detection: bad correlation rules, unreadable saved state, and twin
/// behaviour detectors that are not twins.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A correlation rule that cannot be compiled.
    #[error("correlation rule {rule}: {message}")]
    Correlation {
        /// The rule's title or id.
        rule: String,
        /// What is wrong with it.
        message: String,
    },
    /// Saved detector state that does not decode.
    #[error("saved state of {detector} does not decode: {source}")]
    State {
        /// The detector whose state it was.
        detector: String,
        /// The decoding error.
        #[source]
        source: serde_json::Error,
    },
    /// Behaviour detectors given to [`crate::stage::Detector::interest`] that are not the
    /// detector's own, in its order.
    #[error("the twin behaviour detectors are not the detector's: {expected:?} != {given:?}")]
    Twins {
        /// The detector's behaviour ids.
        expected: Vec<&'static str>,
        /// The twins' ids.
        given: Vec<&'static str>,
    },
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
