//! UTF-8 decoding of untrusted input.

use std::borrow::Cow;

/// Decodes bytes as UTF-8, replacing each invalid sequence with U+FFFD, exactly as
/// [`String::from_utf8_lossy`] does.
///
/// Nearly every log line is valid (most are ASCII), and for those the standard library's
/// validator, which checks a machine word at a time while the bytes are ASCII, is several
/// times faster than `from_utf8_lossy`, which walks byte by byte even when nothing needs
/// replacing: that walk was about 2 % of syslog ingest's CPU.
#[must_use]
pub fn utf8_lossy(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn valid_text_is_borrowed_and_invalid_bytes_are_replaced() {
        assert!(matches!(utf8_lossy(b"sshd[42]: ok"), Cow::Borrowed("sshd[42]: ok")));
        assert!(matches!(utf8_lossy("Grüße".as_bytes()), Cow::Borrowed("Grüße")));
        assert_eq!(utf8_lossy(b"user \xff\xferoot\xc3"), "user \u{fffd}\u{fffd}root\u{fffd}");
    }

    proptest! {
        #[test]
        fn same_as_the_standard_lossy_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            prop_assert_eq!(utf8_lossy(&bytes), String::from_utf8_lossy(&bytes));
        }
    }
}
