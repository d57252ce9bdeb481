//! Field values: a small closed set of types, with strings folded for matching on first use.

use std::borrow::Cow;

use once_cell::race::OnceBox;

use crate::Str;

/// A string value with its lower-case form computed once, when first asked for.
///
/// Only the Sigma matchers of candidate rules ask for it (the rule set's literal scan reads
/// ASCII text as it is), so most values of most events are never folded. Text with no
/// upper-case character (hashes, paths on Linux, most machine-written values) is its own
/// lower-case form: it is checked again when asked, never copied. Only a form that differs
/// is kept, in a pointer-sized cell, so a value is 32 bytes and a field 56: an event's fields
/// are moved, merged and dropped as a block, and a cell as large as the text itself cost that
/// on every event for the few values a rule ever folds.
pub struct Text {
    raw: Str,
    lower: OnceBox<Box<str>>,
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Text").field(&&*self.raw).finish()
    }
}

/// A copy folds again when asked: folding is rare, and copying the cell would mean a second
/// allocation for every copied value that has one.
impl Clone for Text {
    fn clone(&self) -> Self {
        Self { raw: self.raw.clone(), lower: OnceBox::new() }
    }
}

impl Text {
    /// Wraps a string: a short one is stored inline (see [`Str`]); an owned `String` that is
    /// too long for that keeps its buffer.
    #[must_use]
    pub fn new(raw: impl Into<TextSource>) -> Self {
        Self { raw: raw.into().0, lower: OnceBox::new() }
    }

    /// Wraps a literal of the program (a category, an outcome, a severity name): the text is
    /// not copied.
    #[must_use]
    pub fn literal(raw: &'static str) -> Self {
        Self { raw: Str::literal(raw), lower: OnceBox::new() }
    }

    /// Returns the original string.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// Returns the lower-cased string used for case-insensitive matching.
    #[must_use]
    pub fn lower(&self) -> &str {
        if let Some(folded) = self.lower.get() {
            return folded;
        }
        match fold(&self.raw) {
            // Two threads folding at once both build it; one copy is kept.
            Some(folded) => self.lower.get_or_init(|| Box::new(folded)),
            None => &self.raw,
        }
    }
}

/// Text that [`Text::new`] takes: borrowed text is copied, an owned `String` is moved (see
/// [`Str`] for where each ends up). A literal of the program goes through
/// [`Text::literal`] instead, uncopied.
#[derive(Debug)]
pub struct TextSource(Str);

impl From<&str> for TextSource {
    fn from(text: &str) -> Self {
        TextSource(Str::copy(text))
    }
}

impl From<&String> for TextSource {
    fn from(text: &String) -> Self {
        TextSource(Str::copy(text))
    }
}

impl From<String> for TextSource {
    fn from(text: String) -> Self {
        TextSource(Str::from(text))
    }
}

impl From<Box<str>> for TextSource {
    fn from(text: Box<str>) -> Self {
        TextSource(Str::from(text))
    }
}

impl From<Cow<'_, str>> for TextSource {
    fn from(text: Cow<'_, str>) -> Self {
        TextSource(Str::from(text))
    }
}

impl From<Str> for Text {
    fn from(raw: Str) -> Self {
        Self { raw, lower: OnceBox::new() }
    }
}

/// The lower-case form of `raw` when it differs from `raw`.
fn fold(raw: &str) -> Option<Box<str>> {
    // Most log text is ASCII: a byte scan decides there, with no decoding of characters.
    if raw.is_ascii() {
        raw.bytes()
            .any(|byte| byte.is_ascii_uppercase())
            .then(|| raw.to_ascii_lowercase().into_boxed_str())
    } else if raw.chars().any(char::is_uppercase) {
        Some(raw.to_lowercase().into_boxed_str())
    } else {
        None
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw
    }
}

/// The value of one field.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// An explicit null (JSON `null`, an empty XML element).
    Null,
    /// A boolean.
    Bool(bool),
    /// A signed integer; unsigned values above `i64::MAX` are kept exact as text.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A string.
    Str(Text),
    /// Several values under one name (a JSON array, a repeated XML element).
    List(Vec<Value>),
}

impl Value {
    /// A string value from a literal of the program, not copied (see [`Text::literal`]).
    #[must_use]
    pub fn literal(text: &'static str) -> Self {
        Value::Str(Text::literal(text))
    }

    /// Returns the value as text when it is a scalar: integers and booleans in their usual
    /// spelling, so that a rule value `4688` matches an event whose EventID is the string
    /// "4688" and the other way round. Null and lists give `None`.
    #[must_use]
    pub fn to_text(&self) -> Option<Cow<'_, str>> {
        match self {
            Value::Str(text) => Some(Cow::Borrowed(text.as_str())),
            Value::Int(int) => Some(Cow::Owned(int.to_string())),
            Value::Float(float) => Some(Cow::Owned(float.to_string())),
            Value::Bool(flag) => Some(Cow::Borrowed(if *flag { "true" } else { "false" })),
            Value::Null | Value::List(_) => None,
        }
    }

    /// Appends a value, turning a scalar into a list.
    pub fn push(&mut self, value: Value) {
        match self {
            Value::List(items) => items.push(value),
            _ => {
                let first = std::mem::replace(self, Value::Null);
                *self = Value::List(vec![first, value]);
            }
        }
    }

    /// Converts a JSON scalar or array; objects are the caller's to flatten.
    #[must_use]
    pub fn from_json_scalar(json: &serde_json::Value) -> Option<Self> {
        Some(match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(flag) => Value::Bool(*flag),
            serde_json::Value::Number(number) => {
                if let Some(int) = number.as_i64() {
                    Value::Int(int)
                } else if let Some(unsigned) = number.as_u64() {
                    // Above i64::MAX: kept exact as text rather than rounded through f64.
                    Value::Str(Text::new(unsigned.to_string()))
                } else if let Some(float) = number.as_f64() {
                    Value::Float(float)
                } else {
                    Value::Str(Text::new(number.to_string()))
                }
            }
            serde_json::Value::String(string) => Value::Str(Text::new(string.as_str())),
            serde_json::Value::Array(_) | serde_json::Value::Object(_) => return None,
        })
    }

    /// Renders the value as JSON.
    #[must_use]
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(flag) => serde_json::Value::Bool(*flag),
            Value::Int(int) => serde_json::Value::from(*int),
            Value::Float(float) => serde_json::Number::from_f64(*float)
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
            Value::Str(text) => serde_json::Value::String(text.as_str().to_owned()),
            Value::List(items) => {
                serde_json::Value::Array(items.iter().map(Value::to_json).collect())
            }
        }
    }
}

/// The same JSON as [`Value::to_json`], written without building a `serde_json::Value`.
impl serde::Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => serializer.serialize_none(),
            Value::Bool(flag) => serializer.serialize_bool(*flag),
            Value::Int(int) => serializer.serialize_i64(*int),
            Value::Float(float) if float.is_finite() => serializer.serialize_f64(*float),
            Value::Float(_) => serializer.serialize_none(),
            Value::Str(text) => serializer.serialize_str(text.as_str()),
            Value::List(items) => serializer.collect_seq(items),
        }
    }
}

impl From<&str> for Value {
    fn from(value: &str) -> Self {
        Value::Str(Text::new(value))
    }
}

impl From<String> for Value {
    fn from(value: String) -> Self {
        Value::Str(Text::new(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The ASCII shortcut folds exactly as the general rule does.
        #[test]
        fn folding_matches_the_general_rule(raw in "(?s).{0,40}|[ -~]{0,40}") {
            let general = if raw.chars().any(char::is_uppercase) {
                raw.to_lowercase()
            } else {
                raw.clone()
            };
            let text = Text::new(raw.as_str());
            proptest::prop_assert_eq!(text.lower(), general.as_str());
        }
    }

    #[test]
    fn text_folds_case_only_when_needed() {
        let mixed = Text::new("C:\\Windows\\CMD.exe");
        assert_eq!(mixed.lower(), "c:\\windows\\cmd.exe");
        assert_eq!(mixed.as_str(), "C:\\Windows\\CMD.exe");
        assert_eq!(mixed.lower.get().map(|folded| &**folded), Some("c:\\windows\\cmd.exe"));
        let plain = Text::new("already lower");
        assert!(plain.lower.get().is_none(), "folded before it was asked for");
        assert_eq!(plain.lower(), "already lower");
        assert!(plain.lower.get().is_none(), "a copy made of text already lower");
        let copy = mixed.clone();
        assert_eq!((copy.as_str(), copy.lower()), (mixed.as_str(), mixed.lower()));
    }

    /// A field is a name and a value, moved as a block whenever an event gains fields: the
    /// folding cell must not make either larger than the text it belongs to.
    #[test]
    fn values_stay_small() {
        assert_eq!(std::mem::size_of::<Text>(), 32);
        assert_eq!(std::mem::size_of::<Value>(), 32);
        assert_eq!(std::mem::size_of::<(Str, Value)>(), 56);
    }

    #[test]
    fn scalars_render_as_text() {
        assert_eq!(Value::Int(4688).to_text().as_deref(), Some("4688"));
        assert_eq!(Value::Bool(true).to_text().as_deref(), Some("true"));
        assert_eq!(Value::Null.to_text(), None);
    }
}
