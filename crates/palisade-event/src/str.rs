//! [`Str`]: an immutable string that is either a literal of the program or owned.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

/// An immutable string: a `&'static str` when the text is a literal of the program, or an
/// owned box otherwise.
///
/// Parsers name most fields (`source.ip`, `event.category`) and write many values
/// (`authentication`, `failure`, `Notice`) from literals. Keeping those as borrowed literals
/// saves an allocation when an event is built and a free when it is dropped, which at
/// hundreds of thousands of events a second, each with a dozen or more such strings, is a
/// large share of ingest's cost. Equality, order and hashing are the text's, whatever the
/// storage.
#[derive(Clone)]
pub struct Str(Repr);

#[derive(Clone)]
enum Repr {
    Literal(&'static str),
    Owned(Box<str>),
}

impl Str {
    /// A literal: no allocation, nothing to free.
    #[must_use]
    pub const fn literal(text: &'static str) -> Self {
        Self(Repr::Literal(text))
    }

    /// An owned copy of borrowed text.
    #[must_use]
    pub fn copy(text: &str) -> Self {
        Self(Repr::Owned(text.into()))
    }

    /// The text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Literal(text) => text,
            Repr::Owned(text) => text,
        }
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
    fn from(text: String) -> Self {
        Self(Repr::Owned(text.into_boxed_str()))
    }
}

impl From<Box<str>> for Str {
    fn from(text: Box<str>) -> Self {
        Self(Repr::Owned(text))
    }
}

impl From<&String> for Str {
    fn from(text: &String) -> Self {
        Self::copy(text)
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
    }
}
