//! The pipe query compiler: arbitrary text must compile or give an error, never panic nor
//! recurse without bound; whatever compiles must end outside any quoted literal or identifier
//! (otherwise user text would have escaped its quotes).
#![no_main]

use libfuzzer_sys::fuzz_target;

/// A few columns of the store's `events` table, so both the column and the `_source` paths run.
const COLUMNS: &[&str] =
    &["@timestamp", "source.ip", "user.name", "message", "event.original", "_source"];

/// Returns true when every `'...'` and `"..."` (quotes doubled inside) is closed.
fn quotes_closed(sql: &str) -> bool {
    let mut open: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match open {
            None if c == '\'' || c == '"' => open = Some(c),
            Some(quote) if c == quote => {
                if chars.peek() == Some(&quote) {
                    chars.next();
                } else {
                    open = None;
                }
            }
            _ => {}
        }
    }
    open.is_none()
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = palisade_pipe::looks_like_pipe(text);
        if let Ok(sql) = palisade_pipe::compile(text, &|name| COLUMNS.contains(&name)) {
            assert!(quotes_closed(&sql), "a quote is left open: {sql}");
        }
    }
});
