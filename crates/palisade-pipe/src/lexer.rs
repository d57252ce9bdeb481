//! Splits a pipe query into tokens, each with its byte span.
//!
//! Words are not classified here: `where`, `and` or `by` are plain [`Tok::Word`]s and the
//! parser decides from context whether a word is a keyword or a field name, so a field called
//! `count` or `message` needs no quoting. Field names keep their dots (`source.ip`) and may
//! start with `@` (`@timestamp`); any other name goes in backticks (`` `user-agent` ``).
//!
//! Invariants: the token list always ends with [`Tok::End`]; numbers fit in `i64` (durations
//! in seconds too, and at most [`MAX_DURATION_SECONDS`]); strings and names never hold NUL.

use std::ops::Range;

use crate::error::{Error, Result};

/// The longest duration accepted (100 years), so that intervals stay far from overflow in
/// the query engine.
pub(crate) const MAX_DURATION_SECONDS: i64 = 100 * 365 * 86_400;

/// A token.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// A bare word: a command, keyword, function or field name.
    Word(String),
    /// A name in backticks, always a field name.
    Quoted(String),
    /// A string literal, escapes resolved.
    Str(String),
    /// A non-negative integer.
    Int(i64),
    /// A non-negative decimal number, as written (digits, `.`, digits).
    Float(String),
    /// A duration in seconds (`30s`, `5m`, `1h`, `7d`, `2w`).
    Duration(i64),
    Pipe,
    LParen,
    RParen,
    Comma,
    /// `=`
    Assign,
    /// `==`
    EqEq,
    /// `!=` or `<>`
    NotEq,
    Lt,
    Le,
    Gt,
    Ge,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    End,
}

/// A token and where it is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    pub(crate) span: Range<usize>,
}

/// Returns true for characters that may start a bare name.
pub(crate) fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c == '@'
}

/// Returns true for characters that may continue a bare name (besides inner dots).
pub(crate) fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Returns the tokens of `query`, ending with [`Tok::End`].
pub(crate) fn tokenize(query: &str) -> Result<Vec<Token>> {
    let mut lexer = Lexer { query, at: 0, tokens: Vec::new() };
    lexer.run()?;
    Ok(lexer.tokens)
}

/// Returns the byte offset of the first character after whitespace and `//` comments.
pub(crate) fn skip_blank(query: &str, mut at: usize) -> usize {
    loop {
        let rest = &query[at..];
        let trimmed = rest.trim_start();
        at += rest.len() - trimmed.len();
        if trimmed.starts_with("//") {
            at += trimmed.find('\n').unwrap_or(trimmed.len());
        } else {
            return at;
        }
    }
}

struct Lexer<'q> {
    query: &'q str,
    at: usize,
    tokens: Vec<Token>,
}

impl Lexer<'_> {
    fn error(&self, span: Range<usize>, message: impl Into<String>) -> Error {
        Error::new(self.query, span, message)
    }

    fn peek(&self) -> Option<char> {
        self.query[self.at..].chars().next()
    }

    fn peek_second(&self) -> Option<char> {
        self.query[self.at..].chars().nth(1)
    }

    fn push(&mut self, tok: Tok, start: usize) {
        self.tokens.push(Token { tok, span: start..self.at });
    }

    fn run(&mut self) -> Result<()> {
        loop {
            self.at = skip_blank(self.query, self.at);
            let start = self.at;
            let Some(c) = self.peek() else {
                self.push(Tok::End, start);
                return Ok(());
            };
            match c {
                '"' | '\'' => {
                    let text = self.string(c)?;
                    self.push(Tok::Str(text), start);
                }
                '@' if matches!(self.peek_second(), Some('"' | '\'')) => {
                    self.at += 1;
                    let text = self.verbatim()?;
                    self.push(Tok::Str(text), start);
                }
                '`' => {
                    let name = self.quoted_name()?;
                    self.push(Tok::Quoted(name), start);
                }
                '0'..='9' => {
                    let tok = self.number()?;
                    self.push(tok, start);
                }
                c if is_name_start(c) => {
                    let word = self.word();
                    self.push(Tok::Word(word), start);
                }
                _ => {
                    let tok = self.symbol(c)?;
                    self.push(tok, start);
                }
            }
        }
    }

    fn symbol(&mut self, c: char) -> Result<Tok> {
        let next = self.peek_second();
        let (tok, len) = match (c, next) {
            ('|', Some('|')) | ('&', Some('&')) => {
                return Err(self.error(
                    self.at..self.at + 2,
                    format!("unexpected `{c}{c}`: write `and` / `or`"),
                ));
            }
            ('|', _) => (Tok::Pipe, 1),
            ('(', _) => (Tok::LParen, 1),
            (')', _) => (Tok::RParen, 1),
            (',', _) => (Tok::Comma, 1),
            ('=', Some('=')) => (Tok::EqEq, 2),
            ('=', _) => (Tok::Assign, 1),
            ('!', Some('=')) | ('<', Some('>')) => (Tok::NotEq, 2),
            ('<', Some('=')) => (Tok::Le, 2),
            ('<', _) => (Tok::Lt, 1),
            ('>', Some('=')) => (Tok::Ge, 2),
            ('>', _) => (Tok::Gt, 1),
            ('+', _) => (Tok::Plus, 1),
            ('-', _) => (Tok::Minus, 1),
            ('*', _) => (Tok::Star, 1),
            ('/', _) => (Tok::Slash, 1),
            ('%', _) => (Tok::Percent, 1),
            ('!', _) => {
                return Err(self.error(
                    self.at..self.at + 1,
                    "unexpected `!`: write `not` to negate, or `!=` for not equal",
                ));
            }
            (';', _) => {
                return Err(self.error(
                    self.at..self.at + 1,
                    "unexpected `;`: a pipe query needs no `;` at the end",
                ));
            }
            _ => {
                let end = self.at + c.len_utf8();
                return Err(self.error(self.at..end, format!("unexpected character `{c}`")));
            }
        };
        self.at += len;
        Ok(tok)
    }

    fn word(&mut self) -> String {
        let start = self.at;
        let mut chars = self.query[start..].char_indices().peekable();
        let mut end = start;
        let mut first = true;
        while let Some((offset, c)) = chars.next() {
            let accepted = if first {
                is_name_start(c)
            } else if c == '.' {
                // A dot belongs to the name only between two name characters.
                chars.peek().is_some_and(|&(_, next)| is_name_char(next))
            } else {
                is_name_char(c)
            };
            if !accepted {
                break;
            }
            first = false;
            end = start + offset + c.len_utf8();
        }
        self.at = end;
        self.query[start..end].to_owned()
    }

    fn number(&mut self) -> Result<Tok> {
        let start = self.at;
        let len = self.query[start..]
            .find(|c: char| !(c.is_alphanumeric() || c == '.' || c == '_'))
            .unwrap_or(self.query.len() - start);
        self.at = start + len;
        let text = &self.query[start..self.at];
        let span = start..self.at;
        let digits = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
        let (whole, rest) = text.split_at(digits);
        let too_large = || {
            self.error(
                span.clone(),
                format!("number `{text}` is out of range (the largest is {})", i64::MAX),
            )
        };
        if rest.is_empty() {
            return whole.parse::<i64>().map(Tok::Int).map_err(|_| too_large());
        }
        if let Some(fraction) = rest.strip_prefix('.')
            && !fraction.is_empty()
            && fraction.bytes().all(|b| b.is_ascii_digit())
        {
            let finite = text.parse::<f64>().is_ok_and(f64::is_finite);
            return if finite { Ok(Tok::Float(text.to_owned())) } else { Err(too_large()) };
        }
        let unit = match rest {
            "s" => Some(1),
            "m" => Some(60),
            "h" => Some(3_600),
            "d" => Some(86_400),
            "w" => Some(7 * 86_400),
            _ => None,
        };
        if let Some(unit) = unit {
            let seconds = whole.parse::<i64>().ok().and_then(|n| n.checked_mul(unit));
            return match seconds {
                Some(seconds) if seconds <= MAX_DURATION_SECONDS => Ok(Tok::Duration(seconds)),
                _ => Err(self.error(
                    span,
                    format!("duration `{text}` is out of range (the longest is 36500d)"),
                )),
            };
        }
        let fractional_duration = rest.len() > 2
            && rest.starts_with('.')
            && rest.ends_with(['s', 'm', 'h', 'd', 'w'])
            && rest[1..rest.len() - 1].bytes().all(|b| b.is_ascii_digit());
        let message = if fractional_duration {
            format!("`{text}` is not a duration: durations are whole numbers, as in 90m")
        } else if rest.starts_with('.') && rest[1..].contains('.') {
            format!("`{text}` is not a number: quote addresses and versions, as in \"{text}\"")
        } else if rest.starts_with('.') {
            format!("`{text}` is not a number: decimals are written like 1.5")
        } else {
            format!(
                "`{text}` is not a number or a duration: durations are a whole number and one \
                 of s, m, h, d, w (as in 15m)"
            )
        };
        Err(self.error(span, message))
    }

    fn string(&mut self, quote: char) -> Result<String> {
        let start = self.at;
        self.at += 1;
        let mut text = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.error(start..start + 1, "this string is never closed"));
            };
            let here = self.at;
            self.at += c.len_utf8();
            match c {
                c if c == quote => return Ok(text),
                '\\' => text.push(self.escape(here)?),
                '\0' => return Err(self.nul(here)),
                c => text.push(c),
            }
        }
    }

    fn escape(&mut self, start: usize) -> Result<char> {
        let Some(c) = self.peek() else {
            return Err(self.error(start..start + 1, "this string is never closed"));
        };
        self.at += c.len_utf8();
        Ok(match c {
            '\\' | '"' | '\'' => c,
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'u' => return self.unicode_escape(start),
            _ => {
                return Err(self.error(
                    start..self.at,
                    format!(
                        "unknown escape `\\{c}` in a string: write `\\\\` for a backslash, or \
                         use a verbatim string such as @\"C:\\Windows\""
                    ),
                ));
            }
        })
    }

    fn unicode_escape(&mut self, start: usize) -> Result<char> {
        let rest = &self.query[self.at..];
        let invalid = |lexer: &Self, end: usize| {
            lexer.error(start..end, "invalid unicode escape: write it like \\u{e9}")
        };
        let Some(body) = rest.strip_prefix('{') else {
            return Err(invalid(self, self.at));
        };
        let Some(close) = body.find('}') else {
            return Err(invalid(self, self.at));
        };
        let hex = &body[..close];
        let end = self.at + close + 2;
        if hex.is_empty() || hex.len() > 6 {
            return Err(invalid(self, end));
        }
        let value = u32::from_str_radix(hex, 16).map_err(|_| invalid(self, end))?;
        let c = char::from_u32(value).ok_or_else(|| invalid(self, end))?;
        if c == '\0' {
            return Err(self.nul(start));
        }
        self.at = end;
        Ok(c)
    }

    fn verbatim(&mut self) -> Result<String> {
        let start = self.at - 1;
        let Some(quote) = self.peek() else {
            return Err(self.error(start..start + 1, "this string is never closed"));
        };
        let body_start = self.at + 1;
        let Some(len) = self.query[body_start..].find(quote) else {
            return Err(self.error(start..start + 2, "this string is never closed"));
        };
        let text = &self.query[body_start..body_start + len];
        if let Some(at) = text.find('\0') {
            return Err(self.nul(body_start + at));
        }
        self.at = body_start + len + 1;
        Ok(text.to_owned())
    }

    fn quoted_name(&mut self) -> Result<String> {
        let start = self.at;
        self.at += 1;
        let mut name = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.error(start..start + 1, "this `quoted name` is never closed"));
            };
            let here = self.at;
            self.at += c.len_utf8();
            match c {
                '`' if self.peek() == Some('`') => {
                    self.at += 1;
                    name.push('`');
                }
                '`' if name.is_empty() => {
                    return Err(self.error(start..self.at, "a field name cannot be empty"));
                }
                '`' => return Ok(name),
                '\0' => return Err(self.nul(here)),
                c => name.push(c),
            }
        }
    }

    fn nul(&self, at: usize) -> Error {
        self.error(at..at + 1, "text cannot contain the NUL character")
    }
}

#[cfg(test)]
mod tests {
    use super::{Tok, tokenize};

    fn toks(query: &str) -> Vec<Tok> {
        tokenize(query).unwrap().into_iter().map(|token| token.tok).collect()
    }

    fn word(text: &str) -> Tok {
        Tok::Word(text.to_owned())
    }

    #[test]
    fn names_keep_dots_and_at() {
        assert_eq!(
            toks("@timestamp source.ip winlog.event_data.Param1 _x"),
            [
                word("@timestamp"),
                word("source.ip"),
                word("winlog.event_data.Param1"),
                word("_x"),
                Tok::End
            ]
        );
    }

    #[test]
    fn a_trailing_dot_is_not_part_of_a_name() {
        let error = tokenize("a.b. x").unwrap_err();
        assert_eq!(error.message(), "unexpected character `.`");
        assert_eq!(error.span(), 3..4);
    }

    #[test]
    fn numbers_durations_and_floats() {
        assert_eq!(
            toks("0 42 1.5 30s 5m 1h 7d 2w"),
            [
                Tok::Int(0),
                Tok::Int(42),
                Tok::Float("1.5".into()),
                Tok::Duration(30),
                Tok::Duration(300),
                Tok::Duration(3_600),
                Tok::Duration(604_800),
                Tok::Duration(1_209_600),
                Tok::End
            ]
        );
    }

    #[test]
    fn out_of_range_numbers_are_errors() {
        assert!(tokenize("9223372036854775807").is_ok());
        let error = tokenize("x 9223372036854775808").unwrap_err();
        assert!(error.message().starts_with("number `9223372036854775808` is out of range"));
        assert_eq!(error.span(), 2..21);
        assert!(tokenize("36500d").is_ok());
        assert!(tokenize("36501d").unwrap_err().message().contains("out of range"));
        assert!(tokenize("99999999999999999999w").unwrap_err().message().contains("out of range"));
    }

    #[test]
    fn durations_are_whole_numbers() {
        let error = tokenize("1.5h").unwrap_err();
        assert_eq!(
            error.message(),
            "`1.5h` is not a duration: durations are whole numbers, as in 90m"
        );
        assert!(tokenize("1.5").is_ok());
        assert!(tokenize("1.h").unwrap_err().message().contains("is not a number"));
    }

    #[test]
    fn ip_addresses_must_be_quoted() {
        let error = tokenize("10.0.0.1").unwrap_err();
        assert_eq!(
            error.message(),
            "`10.0.0.1` is not a number: quote addresses and versions, as in \"10.0.0.1\""
        );
    }

    #[test]
    fn strings_resolve_escapes() {
        assert_eq!(
            toks(r#""a\"b" 'it''s' 'c\'d' "\\ \n \t \u{e9}""#)[..3],
            [Tok::Str("a\"b".into()), Tok::Str("it".into()), Tok::Str("s".into())]
        );
        assert_eq!(toks(r"'c\'d'"), [Tok::Str("c'd".into()), Tok::End]);
        assert_eq!(toks(r#""\\ \n \t \u{e9}""#), [Tok::Str("\\ \n \t é".into()), Tok::End]);
    }

    #[test]
    fn verbatim_strings_keep_backslashes() {
        assert_eq!(toks(r#"@"C:\Windows\" @'x"y'"#)[0], Tok::Str(r"C:\Windows\".into()));
        assert_eq!(toks(r#"@'x"y'"#)[0], Tok::Str("x\"y".into()));
    }

    #[test]
    fn unknown_escapes_explain_the_fix() {
        let error = tokenize(r#"where x == "C:\Windows""#).unwrap_err();
        assert_eq!(error.span(), 14..16);
        assert!(error.message().starts_with("unknown escape `\\W` in a string"));
    }

    #[test]
    fn unclosed_strings_point_at_the_opening_quote() {
        let error = tokenize("where x == 'abc").unwrap_err();
        assert_eq!((error.message(), error.span()), ("this string is never closed", 11..12));
    }

    #[test]
    fn backtick_names_double_their_quote() {
        assert_eq!(toks("`a``b c`"), [Tok::Quoted("a`b c".into()), Tok::End]);
        assert!(tokenize("``").unwrap_err().message().contains("empty"));
    }

    #[test]
    fn nul_is_rejected_everywhere() {
        assert!(tokenize("'a\0'").is_err());
        assert!(tokenize("\"\\u{0}\"").is_err());
        assert!(tokenize("`a\0`").is_err());
        assert!(tokenize("@'\0'").is_err());
    }

    #[test]
    fn operators_and_comments() {
        assert_eq!(
            toks("a == b != c <> d <= e >= f < g > h = i // comment | where\n| x"),
            [
                word("a"),
                Tok::EqEq,
                word("b"),
                Tok::NotEq,
                word("c"),
                Tok::NotEq,
                word("d"),
                Tok::Le,
                word("e"),
                Tok::Ge,
                word("f"),
                Tok::Lt,
                word("g"),
                Tok::Gt,
                word("h"),
                Tok::Assign,
                word("i"),
                Tok::Pipe,
                word("x"),
                Tok::End
            ]
        );
    }

    #[test]
    fn unicode_names_are_words() {
        assert_eq!(toks("benutzer.größe"), [word("benutzer.größe"), Tok::End]);
    }
}
