//! The `palisade.brute_force` detector: not written yet.
