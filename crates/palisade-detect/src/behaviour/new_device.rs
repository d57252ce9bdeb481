//! The `palisade.new_device` detector: not written yet.
