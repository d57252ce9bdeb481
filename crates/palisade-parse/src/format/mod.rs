//! One module per input format.

pub mod evtx;
pub mod json;
pub mod windows;
