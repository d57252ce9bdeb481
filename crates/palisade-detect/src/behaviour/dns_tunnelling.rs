//! The `palisade.dns_tunnelling` detector: not written yet.
