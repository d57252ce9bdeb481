//! The `palisade.beaconing` detector: not written yet.
