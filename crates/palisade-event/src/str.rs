//! [`Str`]: an immutable string that is short enough to live inside the value itself, a
//! literal of the program, or owned.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

use compact_str::CompactString;

/// An immutable string that allocates only when it must: text of up to 24 bytes is stored
/// inline, a longer literal of the program is borrowed, and only other longer text gets a
/// heap buffer. All three fit in the same 24 bytes.
///
/// Parsers name most fields (`source.ip`, `event.category`) and write many values
/// (`authentication`, `failure`, `Notice`) from literals, and most of the values they copy
/// out of a line (addresses, ports, user and host names, process names and ids) are short.
/// At hundreds of thousands of events a second, each with a dozen or more such strings, an
/// allocation and a free per string were a large share of ingest's cost. Equality, order and
/// hashing are the text's, whatever the storage.
#[derive(Clone)]
pub struct Str(CompactString);

impl Str {
    /// A literal: no allocation, nothing to free.
    #[must_use]
    pub const fn literal(text: &'static str) -> Self {
        Self(CompactString::const_new(text))
    }

    /// A copy of borrowed text: inline when short, else one allocation.
    #[must_use]
    pub fn copy(text: &str) -> Self {
        Self(CompactString::new(text))
    }

    /// `text` lower-cased: ASCII text (nearly every user and host name) without the Unicode
    /// tables, and inline when short, so that folding a name allocates nothing.
    #[must_use]
    pub fn lowercase(text: &str) -> Self {
        if text.is_ascii() {
            let mut folded = CompactString::new(text);
            folded.make_ascii_lowercase();
            Self(folded)
        } else {
            Self(CompactString::from(text.to_lowercase()))
        }
    }

    /// The text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl Deref for Str {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Str {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Str {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl From<&'static str> for Str {
    fn from(text: &'static str) -> Self {
        Self::literal(text)
    }
}

impl From<String> for Str {
    /// Short text moves inline (and the string's buffer is freed); longer text keeps the
    /// string's buffer.
    fn from(text: String) -> Self {
        Self(CompactString::from(text))
    }
}

impl From<Box<str>> for Str {
    fn from(text: Box<str>) -> Self {
        Self(CompactString::from(text))
    }
}

impl From<&String> for Str {
    fn from(text: &String) -> Self {
        Self::copy(text)
    }
}

impl From<std::borrow::Cow<'_, str>> for Str {
    /// Borrowed text is copied; owned text is moved (see `From<String>`).
    fn from(text: std::borrow::Cow<'_, str>) -> Self {
        match text {
            std::borrow::Cow::Borrowed(text) => Self::copy(text),
            std::borrow::Cow::Owned(text) => Self::from(text),
        }
    }
}

impl PartialEq for Str {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Str {}

impl PartialEq<str> for Str {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Str {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialOrd for Str {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Str {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Hash for Str {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl serde::Serialize for Str {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Read as a string: inline when short, else owned.
impl<'de> serde::Deserialize<'de> for Str {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Str;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Str, E> {
                Ok(Str::copy(text))
            }

            fn visit_string<E: serde::de::Error>(self, text: String) -> Result<Str, E> {
                Ok(Str::from(text))
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_does_not_change_equality_order_or_hash() {
        use std::collections::hash_map::DefaultHasher;
        let hash = |text: &Str| {
            let mut hasher = DefaultHasher::new();
            text.hash(&mut hasher);
            hasher.finish()
        };
        let literal = Str::literal("source.ip");
        let owned = Str::from(String::from("source.ip"));
        assert_eq!(literal, owned);
        assert_eq!(hash(&literal), hash(&owned));
        assert_eq!(literal.cmp(&owned), std::cmp::Ordering::Equal);
        assert!(Str::copy("a") < Str::literal("b"));
        assert_eq!(format!("{literal:?}"), "\"source.ip\"");
        assert_eq!(&*owned.clone(), "source.ip");
        for text in ["JDoe", "A NAME LONGER THAN TWENTY-FOUR BYTES", "ÉLODIE", "x"] {
            assert_eq!(&*Str::lowercase(text), text.to_lowercase());
        }
        for text in ["short", "a name longer than twenty-four bytes, on the heap", "é\u{1f}x"] {
            let json = serde_json::to_string(&Str::copy(text)).unwrap();
            assert_eq!(&*serde_json::from_str::<Str>(&json).unwrap(), text);
        }
    }

    #[test]
    fn every_storage_fits_in_three_words() {
        // Events hold tens of these per field pair; a bigger `Str` makes every event bigger.
        assert_eq!(std::mem::size_of::<Str>(), 24);
        assert_eq!(std::mem::size_of::<Option<Str>>(), 24);
    }

    proptest::proptest! {
        /// Whatever the length (inline up to 24 bytes, on the heap beyond) and whichever way
        /// it is made, a `Str` gives back its text and compares as the text does.
        #[test]
        fn text_survives_every_constructor(
            text in "(?s).{0,40}",
            other in "(?s).{0,40}",
        ) {
            let copied = Str::copy(&text);
            let moved = Str::from(text.clone());
            let boxed = Str::from(text.clone().into_boxed_str());
            proptest::prop_assert_eq!(copied.as_str(), text.as_str());
            proptest::prop_assert_eq!(moved.as_str(), text.as_str());
            proptest::prop_assert_eq!(boxed.as_str(), text.as_str());
            let cloned = copied.clone();
            proptest::prop_assert_eq!(cloned.as_str(), text.as_str());
            proptest::prop_assert_eq!(copied.cmp(&Str::copy(&other)), text.as_str().cmp(other.as_str()));
        }
    }
}
