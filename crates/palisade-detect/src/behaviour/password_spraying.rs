//! The `palisade.password_spraying` detector: not written yet.
