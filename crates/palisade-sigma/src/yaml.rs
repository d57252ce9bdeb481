//! A YAML tree that remembers where each node came from.
//!
//! Sigma diagnostics must name the line of the offending key, so rules are read through the
//! event API of `saphyr-parser` into [`Node`]s that keep their position. Scalars keep their
//! source text and whether they were quoted: Sigma gives meaning to the difference between
//! `4688` and `'4688'` only for typing, and deciding types here (not in a YAML 1.2 core schema,
//! which would read `0x17` as 23) keeps rule values exactly as their authors wrote them.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

/// A position in a rule file (1-based line and column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    /// The 1-based line.
    pub line: usize,
    /// The 1-based column.
    pub col: usize,
}

impl Pos {
    fn from_span(span: Span) -> Self {
        Self { line: span.start.line(), col: span.start.col() + 1 }
    }
}

/// A YAML node with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Where the node starts.
    pub pos: Pos,
    /// What the node holds.
    pub kind: NodeKind,
}

/// The three YAML node shapes.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// A scalar: its text and whether it was written plain (unquoted).
    Scalar {
        /// The scalar's text after YAML unescaping.
        text: String,
        /// True when the scalar was not quoted nor a block scalar.
        plain: bool,
    },
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in source order.
    Map(Vec<(Node, Node)>),
}

/// The typed reading of a scalar, following YAML 1.1-style plain-scalar rules that Sigma
/// authors expect.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar<'a> {
    /// `null`, `~` or an empty plain scalar.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A plain decimal integer.
    Int(i64),
    /// A plain decimal number with a fraction.
    Float(f64),
    /// Anything else, and every quoted scalar.
    Str(&'a str),
}

impl Node {
    /// Returns the scalar text, if this is a scalar.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// Reads a scalar with Sigma's typing.
    #[must_use]
    pub fn scalar(&self) -> Option<Scalar<'_>> {
        let NodeKind::Scalar { text, plain } = &self.kind else { return None };
        if !plain {
            return Some(Scalar::Str(text));
        }
        Some(match text.as_str() {
            "" | "~" | "null" | "Null" | "NULL" => Scalar::Null,
            "true" | "True" | "TRUE" => Scalar::Bool(true),
            "false" | "False" | "FALSE" => Scalar::Bool(false),
            other => {
                let digits = other.strip_prefix(['-', '+']).unwrap_or(other);
                if !digits.is_empty() && digits.bytes().all(|byte| byte.is_ascii_digit()) {
                    match other.parse::<i64>() {
                        Ok(int) => Scalar::Int(int),
                        Err(_) => Scalar::Str(other),
                    }
                } else if is_plain_float(other) {
                    other.parse::<f64>().map_or(Scalar::Str(other), Scalar::Float)
                } else {
                    Scalar::Str(other)
                }
            }
        })
    }

    /// Returns the entries if this is a mapping.
    #[must_use]
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.kind {
            NodeKind::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// Returns the items if this is a sequence.
    #[must_use]
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.kind {
            NodeKind::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// Looks a key up in a mapping.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?.iter().find(|(name, _)| name.as_str() == Some(key)).map(|(_, value)| value)
    }

    /// Returns the key as a string list: one scalar or a sequence of scalars.
    #[must_use]
    pub fn string_list(&self) -> Vec<String> {
        match &self.kind {
            NodeKind::Scalar { text, .. } => vec![text.clone()],
            NodeKind::Seq(items) => {
                items.iter().filter_map(|item| item.as_str().map(str::to_owned)).collect()
            }
            NodeKind::Map(_) => Vec::new(),
        }
    }
}

fn is_plain_float(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    let mut parts = digits.splitn(2, '.');
    let whole = parts.next().unwrap_or_default();
    let Some(fraction) = parts.next() else { return false };
    !whole.is_empty()
        && !fraction.is_empty()
        && whole.bytes().all(|byte| byte.is_ascii_digit())
        && fraction.bytes().all(|byte| byte.is_ascii_digit())
}

/// A YAML syntax error with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    /// Where the parser stopped.
    pub pos: Pos,
    /// What it said.
    pub message: String,
}

/// Parses every document of a YAML stream.
///
/// # Errors
/// Returns the first syntax error, with its position.
pub fn parse_documents(source: &str) -> Result<Vec<Node>, YamlError> {
    let mut builder = Builder::default();
    for item in Parser::new_from_str(source) {
        let (event, span) = item.map_err(|error| YamlError {
            pos: Pos { line: error.marker().line(), col: error.marker().col() + 1 },
            message: error.info().to_owned(),
        })?;
        builder.push(event, span)?;
    }
    Ok(builder.documents)
}

#[derive(Default)]
struct Builder {
    documents: Vec<Node>,
    /// Open collections: the node being built and, for mappings, a key waiting for its value.
    stack: Vec<(Node, usize, Option<Node>)>,
    anchors: HashMap<usize, Node>,
}

impl Builder {
    fn push(&mut self, event: Event<'_>, span: Span) -> Result<(), YamlError> {
        let pos = Pos::from_span(span);
        match event {
            Event::Scalar(text, style, anchor, _tag) => {
                let node = Node {
                    pos,
                    kind: NodeKind::Scalar {
                        text: text.into_owned(),
                        plain: matches!(style, ScalarStyle::Plain),
                    },
                };
                self.finish(node, anchor);
            }
            Event::SequenceStart(anchor, _) => {
                self.stack.push((Node { pos, kind: NodeKind::Seq(Vec::new()) }, anchor, None));
            }
            Event::MappingStart(anchor, _) => {
                self.stack.push((Node { pos, kind: NodeKind::Map(Vec::new()) }, anchor, None));
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some((node, anchor, _)) = self.stack.pop() {
                    self.finish(node, anchor);
                }
            }
            Event::Alias(anchor) => {
                let node = self
                    .anchors
                    .get(&anchor)
                    .cloned()
                    .ok_or_else(|| YamlError { pos, message: format!("unknown alias {anchor}") })?;
                self.finish(node, 0);
            }
            Event::Nothing
            | Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart(_)
            | Event::DocumentEnd => {}
        }
        Ok(())
    }

    fn finish(&mut self, node: Node, anchor: usize) {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.documents.push(node),
            Some((parent, _, pending_key)) => match &mut parent.kind {
                NodeKind::Seq(items) => items.push(node),
                NodeKind::Map(entries) => match pending_key.take() {
                    None => *pending_key = Some(node),
                    Some(key) => entries.push((key, node)),
                },
                NodeKind::Scalar { .. } => {}
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_positions_and_types() {
        let docs = parse_documents("a: 1\nb:\n  - '4688'\n  - 0x17\n  - null\n---\nc: d\n")
            .expect("valid yaml");
        assert_eq!(docs.len(), 2);
        let b = docs[0].get("b").expect("b");
        assert_eq!(b.pos.line, 3);
        let items = b.as_seq().expect("seq");
        assert_eq!(items[0].scalar(), Some(Scalar::Str("4688")));
        assert_eq!(items[1].scalar(), Some(Scalar::Str("0x17")));
        assert_eq!(items[2].scalar(), Some(Scalar::Null));
        assert_eq!(docs[0].get("a").and_then(Node::scalar), Some(Scalar::Int(1)));
        assert_eq!(docs[1].get("c").and_then(Node::as_str), Some("d"));
    }

    #[test]
    fn reports_syntax_errors_with_line() {
        let error = parse_documents("a: [1, 2\nb: c\n").expect_err("unclosed flow sequence");
        assert!(error.pos.line >= 1);
    }

    #[test]
    fn resolves_aliases() {
        let docs = parse_documents("a: &x [1, 2]\nb: *x\n").expect("valid yaml");
        let kind = |key: &str| docs[0].get(key).map(|node| node.kind.clone());
        assert_eq!(kind("a"), kind("b"));
        assert_eq!(docs[0].get("b").and_then(Node::as_seq).map(<[Node]>::len), Some(2));
    }
}
