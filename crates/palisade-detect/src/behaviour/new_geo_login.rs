//! The `palisade.new_geo_login` detector: not written yet.
