//! One module per input format.

pub mod evtx;
pub mod json;
pub mod json_fast;
mod json_tape;
pub mod windows;
pub mod windows_xml;
