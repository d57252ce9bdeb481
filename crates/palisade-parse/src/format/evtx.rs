//! Windows `.evtx` files, through the `evtx` crate.

use evtx::{EvtxParser, ParserSettings};
use palisade_event::Event;

use crate::error::{ParseError, Result};
use crate::format::windows;

/// Reads every record of an EVTX file held in memory. `threads` is the number of worker
/// threads for chunk parsing (0 = one per core). Each item is an event or the error of one
/// record, so a damaged chunk does not hide the rest of the file.
///
/// # Errors
/// Returns an error when the file header is not an EVTX header.
pub fn read(bytes: Vec<u8>, threads: usize) -> Result<impl Iterator<Item = Result<Event>>> {
    let mut records = Vec::new();
    for_each(bytes, threads, |record| records.push(record))?;
    Ok(records.into_iter())
}

/// Streams the records of an EVTX file held in memory to `sink`, in file order, without
/// collecting them: memory stays bounded by what the sink keeps.
///
/// # Errors
/// Returns an error when the file header is not an EVTX header.
pub fn for_each(bytes: Vec<u8>, threads: usize, mut sink: impl FnMut(Result<Event>)) -> Result<()> {
    let settings = ParserSettings::default().num_threads(threads).separate_json_attributes(false);
    let mut parser = EvtxParser::from_buffer(bytes)
        .map_err(|error| ParseError::Evtx(error.to_string()))?
        .with_configuration(settings);
    for record in parser.records_json_value() {
        sink(match record {
            Ok(record) => {
                let mut event = windows::from_evtx_json(&record.data);
                if event.timestamp().is_none() {
                    event.set_timestamp(Some(record.timestamp));
                }
                Ok(event)
            }
            Err(error) => Err(ParseError::Evtx(error.to_string())),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_non_evtx_bytes() {
        assert!(read(b"definitely not an evtx file".to_vec(), 1).is_err());
        assert!(read(Vec::new(), 1).is_err());
    }
}
