//! Sigma string values: wildcards, escapes and the transformations that modifiers apply.
//!
//! A value is parsed once into [`Piece`]s (`*` / `?` wildcards and literal text), following
//! the specification's escape rules: `\*`, `\?` and `\\` are literals, and a backslash before
//! any other character is a plain backslash. Encoding modifiers (base64, utf16, windash) work on
//! the literal text and may expand one value into several.

use base64::Engine as _;

/// One piece of a Sigma string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Literal text.
    Lit(String),
    /// `*`: any run of characters.
    Many,
    /// `?`: exactly one character.
    One,
}

/// A parsed Sigma string.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SigmaString {
    /// The pieces, with adjacent literals merged.
    pub pieces: Vec<Piece>,
}

impl SigmaString {
    /// Parses a rule value with wildcards and escapes.
    #[must_use]
    pub fn parse(raw: &str) -> Self {
        let mut out = Self::default();
        let mut chars = raw.chars().peekable();
        while let Some(ch) = chars.next() {
            match ch {
                '*' => out.push(Piece::Many),
                '?' => out.push(Piece::One),
                '\\' => match chars.peek() {
                    Some(&next @ ('*' | '?' | '\\')) => {
                        chars.next();
                        out.push_char(next);
                    }
                    _ => out.push_char('\\'),
                },
                other => out.push_char(other),
            }
        }
        out
    }

    /// Builds a plain literal (no wildcard interpretation).
    #[must_use]
    pub fn literal(text: &str) -> Self {
        let mut out = Self::default();
        if !text.is_empty() {
            out.pieces.push(Piece::Lit(text.to_owned()));
        }
        out
    }

    fn push(&mut self, piece: Piece) {
        if piece == Piece::Many && self.pieces.last() == Some(&Piece::Many) {
            return;
        }
        self.pieces.push(piece);
    }

    fn push_char(&mut self, ch: char) {
        if let Some(Piece::Lit(text)) = self.pieces.last_mut() {
            text.push(ch);
        } else {
            self.pieces.push(Piece::Lit(ch.to_string()));
        }
    }

    /// Returns true when the value holds a wildcard.
    #[must_use]
    pub fn has_wildcards(&self) -> bool {
        self.pieces.iter().any(|piece| !matches!(piece, Piece::Lit(_)))
    }

    /// Returns the literal text when there is no wildcard.
    #[must_use]
    pub fn as_plain(&self) -> Option<String> {
        let mut text = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Lit(lit) => text.push_str(lit),
                Piece::Many | Piece::One => return None,
            }
        }
        Some(text)
    }

    /// Adds a leading `*` unless one is there.
    pub fn prepend_many(&mut self) {
        if self.pieces.first() != Some(&Piece::Many) {
            self.pieces.insert(0, Piece::Many);
        }
    }

    /// Adds a trailing `*` unless one is there.
    pub fn append_many(&mut self) {
        if self.pieces.last() != Some(&Piece::Many) {
            self.pieces.push(Piece::Many);
        }
    }

    /// Returns the longest literal piece, used for the rule-set literal index.
    #[must_use]
    pub fn longest_literal(&self) -> Option<&str> {
        self.pieces
            .iter()
            .filter_map(|piece| match piece {
                Piece::Lit(text) => Some(text.as_str()),
                _ => None,
            })
            .max_by_key(|text| text.len())
    }

    /// Applies `windash`: every `-` or `/` that starts an option (not preceded by a word
    /// character, followed by one) may be any of `-`, `/`, en dash, em dash or horizontal bar.
    /// The result holds every combination; the number of dash positions is capped so that a
    /// hostile rule cannot explode (8 positions = 390,625 variants is already absurd; we cap
    /// at 4).
    #[must_use]
    pub fn windash(&self) -> Vec<SigmaString> {
        const DASHES: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];
        const MAX_POSITIONS: usize = 4;
        let mut variants = vec![SigmaString::default()];
        let mut positions = 0;
        let mut prev_is_word = false;
        for piece in &self.pieces {
            match piece {
                Piece::Lit(text) => {
                    let chars: Vec<char> = text.chars().collect();
                    for (idx, &ch) in chars.iter().enumerate() {
                        let next_is_word =
                            chars.get(idx + 1).is_some_and(|c| c.is_alphanumeric() || *c == '_');
                        if DASHES.contains(&ch)
                            && !prev_is_word
                            && next_is_word
                            && positions < MAX_POSITIONS
                        {
                            positions += 1;
                            variants = variants
                                .into_iter()
                                .flat_map(|variant| {
                                    DASHES.iter().map(move |&dash| {
                                        let mut next = variant.clone();
                                        next.push_char(dash);
                                        next
                                    })
                                })
                                .collect();
                        } else {
                            for variant in &mut variants {
                                variant.push_char(ch);
                            }
                        }
                        prev_is_word = ch.is_alphanumeric() || ch == '_';
                    }
                }
                other => {
                    prev_is_word = false;
                    for variant in &mut variants {
                        variant.push(other.clone());
                    }
                }
            }
        }
        variants
    }
}

/// A value as bytes, for the encoding modifiers, which may leave UTF-8 (`utf16le`) before
/// coming back to ASCII (`base64`).
pub fn utf16(text: &[u8], little_endian: bool, bom: bool) -> Result<Vec<u8>, String> {
    let text = std::str::from_utf8(text).map_err(|_| "utf16 needs a text value".to_owned())?;
    let mut out = Vec::with_capacity(text.len() * 2 + 2);
    if bom {
        out.extend_from_slice(&[0xFF, 0xFE]);
    }
    for unit in text.encode_utf16() {
        let bytes = if little_endian { unit.to_le_bytes() } else { unit.to_be_bytes() };
        out.extend_from_slice(&bytes);
    }
    Ok(out)
}

/// `base64`: the plain encoding.
#[must_use]
pub fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// `base64offset`: the stable middle part of the value's encoding at each of the three
/// possible alignments, as the specification describes (and pySigma computes).
#[must_use]
pub fn base64_offsets(bytes: &[u8]) -> Vec<String> {
    const START: [usize; 3] = [0, 2, 3];
    const END_TRIM: [usize; 3] = [0, 3, 2];
    (0..3)
        .map(|shift| {
            let mut padded = vec![b' '; shift];
            padded.extend_from_slice(bytes);
            let encoded = base64(&padded);
            let end = encoded.len() - END_TRIM[(bytes.len() + shift) % 3];
            encoded.get(START[shift]..end).unwrap_or_default().to_owned()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_follow_the_specification() {
        // `\*` is an escaped wildcard: a literal star.
        assert_eq!(
            SigmaString::parse(r"C:\Windows\*").pieces,
            vec![Piece::Lit(r"C:\Windows*".into())]
        );
        assert_eq!(
            SigmaString::parse(r"C:\Users\\*").pieces,
            vec![Piece::Lit(r"C:\Users\".into()), Piece::Many]
        );
        assert_eq!(SigmaString::parse(r"a\*b").as_plain().as_deref(), Some("a*b"));
        assert_eq!(SigmaString::parse(r"a\\*").pieces, vec![Piece::Lit(r"a\".into()), Piece::Many]);
        assert_eq!(SigmaString::parse(r"a\\\*").as_plain().as_deref(), Some(r"a\*"));
        assert_eq!(SigmaString::parse(r"\\\\").as_plain().as_deref(), Some(r"\\"));
        assert_eq!(SigmaString::parse("prog?.exe").pieces.len(), 3);
    }

    #[test]
    fn windash_expands_option_dashes_only() {
        let variants = SigmaString::parse(" -enc ").windash();
        assert_eq!(variants.len(), 5);
        let plains: Vec<String> = variants.iter().filter_map(SigmaString::as_plain).collect();
        assert!(plains.contains(&" /enc ".to_owned()));
        assert!(plains.contains(&" \u{2013}enc ".to_owned()));
        // A dash inside a word is not an option dash.
        assert_eq!(SigmaString::parse("x-ray").windash().len(), 1);
    }

    #[test]
    fn base64_offsets_match_known_values() {
        // Reference values computed with Python's base64 module for b"ping", b" ping", b"  ping".
        assert_eq!(
            base64_offsets(b"ping"),
            vec!["cGluZ".to_owned(), "Bpbm".to_owned(), "waW5n".to_owned()]
        );
        assert_eq!(base64(b"cmd"), "Y21k");
        assert_eq!(utf16(b"cmd", true, false).expect("text"), vec![0x63, 0, 0x6d, 0, 0x64, 0]);
        assert_eq!(utf16(b"cmd", false, false).expect("text"), vec![0, 0x63, 0, 0x6d, 0, 0x64]);
        assert_eq!(utf16(b"c", true, true).expect("text"), vec![0xFF, 0xFE, 0x63, 0]);
    }
}
