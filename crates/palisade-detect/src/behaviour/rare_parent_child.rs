//! The `palisade.rare_parent_child` detector: not written yet.
