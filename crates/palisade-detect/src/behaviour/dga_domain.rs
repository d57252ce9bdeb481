//! The `palisade.dga_domain` detector: not written yet.
