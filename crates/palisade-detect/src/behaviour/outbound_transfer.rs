//! The `palisade.outbound_transfer` detector: not written yet.
