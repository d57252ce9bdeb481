//! The `palisade.impossible_travel` detector: not written yet.
