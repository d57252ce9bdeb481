//! The Sigma condition language: tokenizer and precedence-climbing parser.
//!
//! Grammar (least to most binding, per the specification): `or`, `and`, `not`,
//! `N of pattern` / `all of pattern` / `N of them`, parentheses. Keywords are case-insensitive
//! (`AND`, `Not`), identifiers are case-sensitive. The deprecated aggregation pipe
//! (`selection | count() by x > 5`) is rejected with its own message.

use std::fmt;

/// A parsed condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// A search identifier.
    Ident(String),
    /// Both sides hold.
    And(Box<Condition>, Box<Condition>),
    /// Either side holds.
    Or(Box<Condition>, Box<Condition>),
    /// The inner condition does not hold.
    Not(Box<Condition>),
    /// At least `count` (or all) of the identifiers matching `pattern` hold.
    Of {
        /// How many must hold.
        quantifier: Quantifier,
        /// The identifier pattern (`*` wildcards), or `them`.
        target: OfTarget,
    },
}

/// The quantifier of an `of` expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantifier {
    /// `N of`.
    AtLeast(u32),
    /// `all of`.
    All,
}

/// What an `of` expression ranges over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OfTarget {
    /// `them`: every identifier that does not start with `_`.
    Them,
    /// A pattern with `*` wildcards.
    Pattern(String),
}

/// A condition syntax error, with the byte offset in the condition string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionError {
    /// Byte offset of the offending token.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
    /// True for the deprecated aggregation syntax.
    pub aggregation: bool,
}

impl fmt::Display for ConditionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at offset {}", self.message, self.offset)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    And,
    Or,
    Not,
    Of,
    All,
    Them,
    Number(u32),
    Ident(String),
    LParen,
    RParen,
    Pipe,
}

fn tokenize(input: &str) -> Result<Vec<(Token, usize)>, ConditionError> {
    let mut tokens = Vec::new();
    let bytes = input.as_bytes();
    let mut idx = 0;
    while idx < bytes.len() {
        let byte = bytes[idx];
        match byte {
            b' ' | b'\t' | b'\n' | b'\r' => idx += 1,
            b'(' => {
                tokens.push((Token::LParen, idx));
                idx += 1;
            }
            b')' => {
                tokens.push((Token::RParen, idx));
                idx += 1;
            }
            b'|' => {
                tokens.push((Token::Pipe, idx));
                idx += 1;
            }
            _ => {
                let start = idx;
                while idx < bytes.len()
                    && !matches!(bytes[idx], b' ' | b'\t' | b'\n' | b'\r' | b'(' | b')' | b'|')
                {
                    idx += 1;
                }
                let word = &input[start..idx];
                let token = match word.to_ascii_lowercase().as_str() {
                    "and" => Token::And,
                    "or" => Token::Or,
                    "not" => Token::Not,
                    "of" => Token::Of,
                    "all" => Token::All,
                    "them" => Token::Them,
                    _ if word.bytes().all(|b| b.is_ascii_digit()) => {
                        Token::Number(word.parse().map_err(|_| ConditionError {
                            offset: start,
                            message: format!("number {word} is too large"),
                            aggregation: false,
                        })?)
                    }
                    _ => Token::Ident(word.to_owned()),
                };
                tokens.push((token, start));
            }
        }
    }
    Ok(tokens)
}

/// Parses a condition string.
///
/// # Errors
/// Returns the first syntax error with its offset.
pub fn parse(input: &str) -> Result<Condition, ConditionError> {
    let tokens = tokenize(input)?;
    if let Some((_, offset)) = tokens.iter().find(|(token, _)| *token == Token::Pipe) {
        return Err(ConditionError {
            offset: *offset,
            message: "the aggregation syntax (`| count() ...`) was removed from Sigma; use a correlation rule".into(),
            aggregation: true,
        });
    }
    let mut parser = ConditionParser { tokens, pos: 0, end: input.len(), depth: 0 };
    let condition = parser.parse_or()?;
    if let Some((token, offset)) = parser.tokens.get(parser.pos) {
        return Err(ConditionError {
            offset: *offset,
            message: format!("unexpected {token:?}"),
            aggregation: false,
        });
    }
    Ok(condition)
}

/// Nesting deeper than this is refused, so a hostile rule cannot overflow the stack.
const MAX_DEPTH: usize = 64;

struct ConditionParser {
    tokens: Vec<(Token, usize)>,
    pos: usize,
    end: usize,
    depth: usize,
}

impl ConditionParser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos).map(|(token, _)| token)
    }

    fn offset(&self) -> usize {
        self.tokens.get(self.pos).map_or(self.end, |(_, offset)| *offset)
    }

    fn error(&self, message: impl Into<String>) -> ConditionError {
        ConditionError { offset: self.offset(), message: message.into(), aggregation: false }
    }

    fn parse_or(&mut self) -> Result<Condition, ConditionError> {
        let mut left = self.parse_and()?;
        while self.peek() == Some(&Token::Or) {
            self.pos += 1;
            let right = self.parse_and()?;
            left = Condition::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn parse_and(&mut self) -> Result<Condition, ConditionError> {
        let mut left = self.parse_not()?;
        while self.peek() == Some(&Token::And) {
            self.pos += 1;
            let right = self.parse_not()?;
            left = Condition::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn parse_not(&mut self) -> Result<Condition, ConditionError> {
        if self.peek() == Some(&Token::Not) {
            self.pos += 1;
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err(self.error("condition nests too deeply"));
            }
            let inner = self.parse_not()?;
            self.depth -= 1;
            return Ok(Condition::Not(Box::new(inner)));
        }
        self.parse_primary()
    }

    fn parse_primary(&mut self) -> Result<Condition, ConditionError> {
        match self.peek().cloned() {
            Some(Token::LParen) => {
                self.pos += 1;
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return Err(self.error("condition nests too deeply"));
                }
                let inner = self.parse_or()?;
                self.depth -= 1;
                if self.peek() != Some(&Token::RParen) {
                    return Err(self.error("expected `)`"));
                }
                self.pos += 1;
                Ok(inner)
            }
            Some(Token::Number(count)) => {
                self.pos += 1;
                self.parse_of(Quantifier::AtLeast(count))
            }
            Some(Token::All) => {
                self.pos += 1;
                self.parse_of(Quantifier::All)
            }
            Some(Token::Ident(name)) => {
                self.pos += 1;
                Ok(Condition::Ident(name))
            }
            Some(token) => Err(self.error(format!("unexpected {token:?}"))),
            None => Err(self.error("unexpected end of condition")),
        }
    }

    fn parse_of(&mut self, quantifier: Quantifier) -> Result<Condition, ConditionError> {
        if self.peek() != Some(&Token::Of) {
            return Err(self.error("expected `of`"));
        }
        self.pos += 1;
        let target = match self.peek().cloned() {
            Some(Token::Them) => OfTarget::Them,
            Some(Token::Ident(pattern)) => OfTarget::Pattern(pattern),
            _ => return Err(self.error("expected `them` or an identifier pattern after `of`")),
        };
        self.pos += 1;
        Ok(Condition::Of { quantifier, target })
    }
}

/// Tests whether a search identifier matches an `of` pattern (`*` matches any run).
#[must_use]
pub fn pattern_matches(pattern: &str, name: &str) -> bool {
    let pieces: Vec<&str> = pattern.split('*').collect();
    if pieces.len() == 1 {
        return pattern == name;
    }
    let mut rest = name;
    for (idx, piece) in pieces.iter().enumerate() {
        if idx == 0 {
            let Some(tail) = rest.strip_prefix(piece) else { return false };
            rest = tail;
        } else if idx == pieces.len() - 1 {
            return rest.ends_with(piece);
        } else if let Some(found) = rest.find(piece) {
            rest = &rest[found + piece.len()..];
        } else {
            return false;
        }
    }
    true
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Condition::Ident(name) => f.write_str(name),
            Condition::And(left, right) => write!(f, "({left} and {right})"),
            Condition::Or(left, right) => write!(f, "({left} or {right})"),
            Condition::Not(inner) => write!(f, "(not {inner})"),
            Condition::Of { quantifier, target } => {
                match quantifier {
                    Quantifier::All => f.write_str("all of ")?,
                    Quantifier::AtLeast(count) => write!(f, "{count} of ")?,
                }
                match target {
                    OfTarget::Them => f.write_str("them"),
                    OfTarget::Pattern(pattern) => f.write_str(pattern),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ident(name: &str) -> Box<Condition> {
        Box::new(Condition::Ident(name.into()))
    }

    #[test]
    fn precedence_is_or_and_not() {
        let parsed = parse("a or b and not c").expect("valid");
        assert_eq!(
            parsed,
            Condition::Or(
                ident("a"),
                Box::new(Condition::And(ident("b"), Box::new(Condition::Not(ident("c")))))
            )
        );
    }

    #[test]
    fn parentheses_and_of() {
        let parsed = parse("(1 of sel* or all of them) AND NOT filter_main").expect("valid");
        let expected = Condition::And(
            Box::new(Condition::Or(
                Box::new(Condition::Of {
                    quantifier: Quantifier::AtLeast(1),
                    target: OfTarget::Pattern("sel*".into()),
                }),
                Box::new(Condition::Of { quantifier: Quantifier::All, target: OfTarget::Them }),
            )),
            Box::new(Condition::Not(ident("filter_main"))),
        );
        assert_eq!(parsed, expected);
    }

    #[test]
    fn rejects_aggregations_and_garbage() {
        assert!(parse("selection | count() by host > 5").expect_err("aggregation").aggregation);
        assert!(parse("a and").is_err());
        assert!(parse("(a or b").is_err());
        assert!(parse("1 of").is_err());
        assert!(parse("a b").is_err());
        assert!(parse("").is_err());
        assert!(parse(&"(".repeat(500)).is_err());
    }

    #[test]
    fn patterns() {
        assert!(pattern_matches("selection*", "selection_img"));
        assert!(pattern_matches("*_main", "filter_main"));
        assert!(pattern_matches("sel*img*", "sel_x_img_2"));
        assert!(!pattern_matches("filter*", "selection"));
        assert!(pattern_matches("exact", "exact"));
    }

    fn arb_condition() -> impl Strategy<Value = Condition> {
        let leaf = prop_oneof![
            "[a-z][a-z0-9_]{0,8}"
                .prop_filter("keyword", |s| !matches!(
                    s.as_str(),
                    "and" | "or" | "not" | "of" | "all" | "them"
                ))
                .prop_map(Condition::Ident),
            // A keyword is not an identifier pattern (`1 of or` is a syntax error, `1 of them`
            // means every selection): the identifiers above exclude them, and so must these.
            (
                1u32..4,
                "[a-z]{1,5}\\*?".prop_filter("keyword", |s| !matches!(
                    s.trim_end_matches('*'),
                    "and" | "or" | "not" | "of" | "all" | "them"
                ))
            )
                .prop_map(|(count, pattern)| Condition::Of {
                    quantifier: Quantifier::AtLeast(count),
                    target: OfTarget::Pattern(pattern)
                }),
            Just(Condition::Of { quantifier: Quantifier::All, target: OfTarget::Them }),
        ];
        leaf.prop_recursive(6, 48, 2, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone())
                    .prop_map(|(l, r)| Condition::And(Box::new(l), Box::new(r))),
                (inner.clone(), inner.clone())
                    .prop_map(|(l, r)| Condition::Or(Box::new(l), Box::new(r))),
                inner.prop_map(|c| Condition::Not(Box::new(c))),
            ]
        })
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(condition in arb_condition()) {
            let rendered = condition.to_string();
            prop_assert_eq!(parse(&rendered).expect("rendered conditions parse"), condition);
        }

        #[test]
        fn never_panics(input in "\\PC{0,80}") {
            let _ = parse(&input);
        }

        #[test]
        fn never_panics_on_token_soup(words in proptest::collection::vec(prop_oneof![
            Just("and"), Just("or"), Just("not"), Just("("), Just(")"), Just("1"), Just("all"), Just("of"), Just("them"), Just("x*"), Just("sel")
        ], 0..20)) {
            let _ = parse(&words.join(" "));
        }
    }
}
