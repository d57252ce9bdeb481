//! The compiled predicate IR and its evaluation against an [`Event`].
//!
//! A rule compiles to an [`Expr`] tree whose leaves test one field ([`FieldPred`]) or every
//! field ([`KeywordPred`]). Strings are matched against the event's pre-folded lower-case text
//! unless the rule asked for case-sensitivity (`cased`, `re` without `i`). The IR knows nothing
//! about storage; the event store translates the same tree into query filters.

use std::borrow::Cow;

use ipnet::IpNet;
use memchr::memmem;
use palisade_event::{Event, Value};

/// A compiled boolean expression.
#[derive(Debug, Clone)]
pub enum Expr {
    /// Every child holds.
    And(Vec<Expr>),
    /// Some child holds.
    Or(Vec<Expr>),
    /// The child does not hold.
    Not(Box<Expr>),
    /// A test of one field.
    Field(FieldPred),
    /// A search over every field's value.
    Keywords(KeywordPred),
    /// At least this many children hold (`2 of selection*`).
    AtLeast(usize, Vec<Expr>),
    /// A constant.
    Const(bool),
}

/// A test of one field against values.
#[derive(Debug, Clone)]
pub struct FieldPred {
    /// The field name (after field mapping).
    pub field: String,
    /// The alternatives (ORed, or ANDed when `all`).
    pub matchers: Vec<Matcher>,
    /// `all` modifier: every matcher must hold.
    pub all: bool,
    /// `neq` modifier: no matcher holds (an absent field counts as different).
    pub neq: bool,
}

/// A keyword search: the value must occur in some field of the event.
#[derive(Debug, Clone)]
pub struct KeywordPred {
    /// The alternatives (ORed, or ANDed when `all`).
    pub matchers: Vec<StrMatcher>,
    /// `all` modifier.
    pub all: bool,
}

/// One value test.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// The field is absent or null (`field: null`).
    Null,
    /// The field is present (true) or absent (false).
    Exists(bool),
    /// A string test.
    Str(StrMatcher),
    /// A numeric comparison.
    Num(NumOp, f64),
    /// A network range.
    Cidr(IpNet),
    /// A regular expression.
    Regex(Regex),
    /// A comparison with another field of the same event.
    FieldRef {
        /// The other field.
        other: String,
        /// How to compare.
        kind: StrKindTag,
        /// Case-sensitive comparison.
        cased: bool,
    },
    /// A time part (`hour`, `month`...) of a timestamp value, compared as a number.
    TimePart {
        /// Which part.
        part: TimePart,
        /// Comparison.
        op: NumOp,
        /// The rule value.
        value: f64,
    },
}

/// Numeric comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumOp {
    /// `==`.
    Eq,
    /// `<`.
    Lt,
    /// `<=`.
    Lte,
    /// `>`.
    Gt,
    /// `>=`.
    Gte,
}

impl NumOp {
    fn apply(self, left: f64, right: f64) -> bool {
        match self {
            NumOp::Eq => (left - right).abs() < f64::EPSILON,
            NumOp::Lt => left < right,
            NumOp::Lte => left <= right,
            NumOp::Gt => left > right,
            NumOp::Gte => left >= right,
        }
    }
}

/// Time parts for the time modifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimePart {
    /// 0–59.
    Minute,
    /// 0–23.
    Hour,
    /// 1–31.
    Day,
    /// ISO week 1–53.
    Week,
    /// 1–12.
    Month,
    /// The year.
    Year,
}

/// Which kind of string comparison; shared by string matchers and field references.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrKindTag {
    /// Whole value.
    Exact,
    /// Prefix.
    Prefix,
    /// Suffix.
    Suffix,
    /// Substring.
    Contains,
}

/// A compiled string test.
#[derive(Debug, Clone)]
pub struct StrMatcher {
    /// The test.
    pub kind: StrKind,
    /// Case-sensitive (`cased`).
    pub cased: bool,
}

/// The shape of a string test, chosen at compile time from the wildcards' positions.
#[derive(Debug, Clone)]
pub enum StrKind {
    /// Equal to the needle.
    Exact(String),
    /// Starts with the needle.
    Prefix(String),
    /// Ends with the needle.
    Suffix(String),
    /// Contains the needle.
    Contains(Box<memmem::Finder<'static>>),
    /// `*` alone: any value (but the field must be present and not null).
    Any,
    /// `*` wildcards between literals: an optional prefix and suffix and substrings in order.
    Pieces(Box<Pieces>),
    /// Any other wildcard shape (with `?`), as an anchored regex.
    Glob(Box<Glob>),
}

/// A `*`-only wildcard pattern split at its stars.
#[derive(Debug, Clone)]
pub struct Pieces {
    /// Text the value starts with (no leading `*`).
    pub prefix: Option<String>,
    /// Substrings that follow each other, between the prefix and the suffix.
    pub middle: Vec<memmem::Finder<'static>>,
    /// Text the value ends with (no trailing `*`).
    pub suffix: Option<String>,
}

impl Pieces {
    fn is_match(&self, text: &str) -> bool {
        let prefix_len = self.prefix.as_ref().map_or(0, String::len);
        let suffix_len = self.suffix.as_ref().map_or(0, String::len);
        if prefix_len + suffix_len > text.len()
            || !self.prefix.as_ref().is_none_or(|prefix| text.starts_with(prefix.as_str()))
            || !self.suffix.as_ref().is_none_or(|suffix| text.ends_with(suffix.as_str()))
        {
            return false;
        }
        let mut rest = &text.as_bytes()[prefix_len..text.len() - suffix_len];
        for finder in &self.middle {
            match finder.find(rest) {
                Some(at) => rest = &rest[at + finder.needle().len()..],
                None => return false,
            }
        }
        true
    }

    fn longest_literal(&self) -> Option<String> {
        let middle =
            self.middle.iter().map(|finder| String::from_utf8_lossy(finder.needle()).into_owned());
        self.prefix
            .iter()
            .cloned()
            .chain(middle)
            .chain(self.suffix.iter().cloned())
            .max_by_key(String::len)
    }
}

/// A wildcard pattern with `?`, as an anchored regex, with its longest literal for the index.
#[derive(Debug, Clone)]
pub struct Glob {
    /// The anchored regex.
    pub regex: regex::Regex,
    /// The longest literal piece (folded), if any.
    pub literal: Option<String>,
}

impl StrMatcher {
    /// Tests a string value (case already folded by the caller when not `cased`).
    #[must_use]
    pub fn is_match(&self, text: &str) -> bool {
        match &self.kind {
            StrKind::Exact(needle) => text == needle,
            StrKind::Prefix(needle) => text.starts_with(needle.as_str()),
            StrKind::Suffix(needle) => text.ends_with(needle.as_str()),
            StrKind::Contains(finder) => finder.find(text.as_bytes()).is_some(),
            StrKind::Any => true,
            StrKind::Pieces(pieces) => pieces.is_match(text),
            StrKind::Glob(glob) => glob.regex.is_match(text),
        }
    }

    /// Tests a field value: strings through their folded form, numbers and booleans through
    /// their text, lists element by element.
    #[must_use]
    pub fn matches_value(&self, value: &Value) -> bool {
        match value {
            Value::Str(text) => {
                self.is_match(if self.cased { text.as_str() } else { text.lower() })
            }
            Value::List(items) => items.iter().any(|item| self.matches_value(item)),
            Value::Null => false,
            Value::Int(int) => match &self.kind {
                // The common `EventID: 4688` case, without formatting the number.
                StrKind::Exact(needle) => {
                    let canonical = needle.len() == 1
                        || !(needle.starts_with(['0', '+']) || needle.starts_with("-0"));
                    canonical && needle.parse::<i64>().is_ok_and(|wanted| wanted == *int)
                }
                _ => self.is_match(&int.to_string()),
            },
            other => other.to_text().is_some_and(|text| self.is_match(&text)),
        }
    }

    /// Returns the literal that every match must contain (lower-cased), for the literal index.
    #[must_use]
    pub fn required_literal(&self) -> Option<String> {
        let literal = match &self.kind {
            StrKind::Exact(needle) | StrKind::Prefix(needle) | StrKind::Suffix(needle) => {
                needle.clone()
            }
            StrKind::Contains(finder) => String::from_utf8_lossy(finder.needle()).into_owned(),
            StrKind::Pieces(pieces) => pieces.longest_literal()?,
            StrKind::Glob(glob) => glob.literal.clone()?,
            StrKind::Any => return None,
        };
        Some(if self.cased { literal.to_lowercase() } else { literal })
    }
}

/// A regular expression: the `regex` crate when the pattern allows it, `fancy-regex` for
/// look-around and back-references that some rules use.
#[derive(Debug, Clone)]
pub enum Regex {
    /// Linear-time engine.
    Fast(regex::Regex),
    /// Backtracking engine, for the features the fast one lacks.
    Fancy(Box<fancy_regex::Regex>),
}

impl Regex {
    /// Compiles with the fast engine, falling back to the backtracking one.
    ///
    /// # Errors
    /// Returns the fast engine's message when neither compiles.
    pub fn new(pattern: &str) -> Result<Self, String> {
        match regex::RegexBuilder::new(pattern).size_limit(1 << 22).build() {
            Ok(regex) => Ok(Regex::Fast(regex)),
            Err(fast_error) => fancy_regex::RegexBuilder::new(pattern)
                .backtrack_limit(100_000)
                .build()
                .map(|regex| Regex::Fancy(Box::new(regex)))
                .map_err(|_| fast_error.to_string()),
        }
    }

    /// Tests a string; a backtracking engine that gives up counts as no match.
    #[must_use]
    pub fn is_match(&self, text: &str) -> bool {
        match self {
            Regex::Fast(regex) => regex.is_match(text),
            Regex::Fancy(regex) => regex.is_match(text).unwrap_or(false),
        }
    }
}

impl Expr {
    /// Evaluates the expression against an event.
    #[must_use]
    pub fn eval(&self, event: &Event) -> bool {
        match self {
            Expr::And(children) => children.iter().all(|child| child.eval(event)),
            Expr::Or(children) => children.iter().any(|child| child.eval(event)),
            Expr::Not(child) => !child.eval(event),
            Expr::Field(pred) => pred.eval(event),
            Expr::Keywords(pred) => pred.eval(event),
            Expr::AtLeast(count, children) => {
                let mut held = 0;
                children.iter().any(|child| {
                    held += usize::from(child.eval(event));
                    held >= *count
                })
            }
            Expr::Const(value) => *value,
        }
    }

    /// Renames fields in place (field mapping for one source).
    pub fn rename_fields(&mut self, rename: &dyn Fn(&str) -> Option<String>) {
        match self {
            Expr::And(children) | Expr::Or(children) | Expr::AtLeast(_, children) => {
                for child in children {
                    child.rename_fields(rename);
                }
            }
            Expr::Not(child) => child.rename_fields(rename),
            Expr::Field(pred) => {
                if let Some(name) = rename(&pred.field) {
                    pred.field = name;
                }
                for matcher in &mut pred.matchers {
                    if let Matcher::FieldRef { other, .. } = matcher
                        && let Some(name) = rename(other)
                    {
                        *other = name;
                    }
                }
            }
            Expr::Keywords(_) | Expr::Const(_) => {}
        }
    }

    /// Adds to `into` the field of every field test in the expression, and returns false
    /// when it holds a keyword search, which reads every field. The literals of
    /// [`Self::required_literals`] all come from field tests whose fields are among these,
    /// or from a keyword search: so only these fields' values need scanning for them.
    pub fn tested_fields(&self, into: &mut Vec<String>) -> bool {
        match self {
            Expr::And(children) | Expr::Or(children) | Expr::AtLeast(_, children) => {
                // Stopping at a keyword search is fine: its literals are then looked for in
                // every field, and the fields gathered so far are not needed.
                children.iter().all(|child| child.tested_fields(into))
            }
            Expr::Not(child) => child.tested_fields(into),
            Expr::Field(pred) => {
                into.push(pred.field.clone());
                true
            }
            Expr::Keywords(_) => false,
            Expr::Const(_) => true,
        }
    }

    /// Returns clauses of literals that all hold for every event the expression matches: each
    /// clause is a set of literals (as [`Self::required_literals`] gives) of which at least
    /// one occurs in the event. An `and` gives a clause for each part that has one, and a
    /// field test with `|all` one per value, so that a rule is evaluated only when its most
    /// selective parts can each hold, not just the most selective one: two built-in SSH
    /// rules that test `event.category: authentication` with different outcomes were both
    /// evaluated on every login. At most [`MAX_CLAUSES`], the most selective kept; empty when nothing is known.
    #[must_use]
    pub fn required_clauses(&self) -> Vec<Vec<String>> {
        let mut clauses = Vec::new();
        self.collect_clauses(&mut clauses);
        // Most selective first (by its shortest literal, as `required_literals` ranks an
        // `and`'s parts), then by content so that equal clauses meet and go.
        clauses.sort_by(|left, right| {
            shortest(right).cmp(&shortest(left)).then_with(|| left.cmp(right))
        });
        clauses.dedup();
        clauses.truncate(MAX_CLAUSES);
        clauses
    }

    fn collect_clauses(&self, into: &mut Vec<Vec<String>>) {
        match self {
            Expr::And(children) => {
                for child in children {
                    child.collect_clauses(into);
                }
            }
            Expr::Field(pred) if pred.all && !pred.neq => {
                for matcher in &pred.matchers {
                    if let Matcher::Str(str_matcher) = matcher {
                        into.extend(single_literal(str_matcher.required_literal()));
                    }
                }
            }
            Expr::Keywords(pred) if pred.all => {
                for matcher in &pred.matchers {
                    into.extend(single_literal(matcher.required_literal()));
                }
            }
            other => into.extend(other.required_literals()),
        }
    }

    /// Returns literals (lower-case) of which at least one occurs in some field value of every
    /// event the expression matches, or `None` when no such set is known. This drives the
    /// rule-set literal index: a rule is evaluated only when one of its literals was seen.
    #[must_use]
    pub fn required_literals(&self) -> Option<Vec<String>> {
        match self {
            Expr::And(children) => children
                .iter()
                .filter_map(Expr::required_literals)
                .max_by_key(|set| set.iter().map(String::len).min().unwrap_or(0)),
            Expr::Or(children) | Expr::AtLeast(_, children) => {
                let mut union = Vec::new();
                for child in children {
                    union.extend(child.required_literals()?);
                }
                (!union.is_empty()).then_some(union)
            }
            Expr::Not(_) | Expr::Const(_) => None,
            Expr::Field(pred) => {
                if pred.neq {
                    return None;
                }
                literals_of(
                    pred.matchers.iter().map(|matcher| match matcher {
                        Matcher::Str(str_matcher) => str_matcher.required_literal(),
                        _ => None,
                    }),
                    pred.all,
                )
            }
            Expr::Keywords(pred) => {
                literals_of(pred.matchers.iter().map(StrMatcher::required_literal), pred.all)
            }
        }
    }
}

/// At most this many clauses of [`Expr::required_clauses`] per rule. Each clause adds its
/// literals to the scan, and the less selective ones (`.exe`, `\system32\`) are found
/// in most events: matching the EVTX corpus against the SigmaHQ Windows rules took 6 % fewer
/// instructions with two clauses than with one, and 2.6 % more with eight than with two,
/// for 4 % fewer exact evaluations. The rule-set index keeps the clauses seen in one byte.
pub const MAX_CLAUSES: usize = 2;

/// The length of a clause's shortest literal: how selective the clause is.
fn shortest(clause: &[String]) -> usize {
    clause.iter().map(String::len).min().unwrap_or(0)
}

/// A clause of one literal, when it is long enough to index (see [`literals_of`]).
fn single_literal(literal: Option<String>) -> Option<Vec<String>> {
    literals_of(std::iter::once(literal), false)
}

/// Combines the literals of alternatives: for OR every alternative needs one; for AND the
/// longest single literal suffices.
fn literals_of(literals: impl Iterator<Item = Option<String>>, all: bool) -> Option<Vec<String>> {
    /// Literals shorter than this match too often to be worth indexing.
    const MIN_LEN: usize = 3;
    let mut collected = Vec::new();
    for literal in literals {
        match literal {
            Some(text) if text.len() >= MIN_LEN => collected.push(text),
            Some(_) | None if !all => return None,
            _ => {}
        }
    }
    if all {
        collected.into_iter().max_by_key(String::len).map(|text| vec![text])
    } else {
        (!collected.is_empty()).then_some(collected)
    }
}

impl FieldPred {
    fn eval(&self, event: &Event) -> bool {
        let value = event.get(&self.field);
        if self.neq {
            // `neq` is the negation of equality with every value, as pySigma (the reference
            // implementation) renders it: an event without the field differs from the values.
            return !self.matchers.iter().any(|matcher| matcher.eval(value, event));
        }
        if self.all {
            self.matchers.iter().all(|matcher| matcher.eval(value, event))
        } else {
            self.matchers.iter().any(|matcher| matcher.eval(value, event))
        }
    }
}

impl KeywordPred {
    fn eval(&self, event: &Event) -> bool {
        let found =
            |matcher: &StrMatcher| event.fields().any(|(_, value)| matcher.matches_value(value));
        if self.all { self.matchers.iter().all(found) } else { self.matchers.iter().any(found) }
    }
}

impl Matcher {
    fn eval(&self, value: Option<&Value>, event: &Event) -> bool {
        match self {
            Matcher::Null => matches!(value, None | Some(Value::Null)),
            Matcher::Exists(expected) => value.is_some() == *expected,
            Matcher::Str(str_matcher) => {
                value.is_some_and(|value| str_matcher.matches_value(value))
            }
            Matcher::Num(op, number) => value.is_some_and(|value| {
                any_scalar(value, &|scalar| {
                    as_number(scalar).is_some_and(|found| op.apply(found, *number))
                })
            }),
            Matcher::Cidr(net) => value.is_some_and(|value| {
                any_scalar(value, &|scalar| {
                    scalar
                        .to_text()
                        .and_then(|text| text.trim().parse::<std::net::IpAddr>().ok())
                        .is_some_and(|ip| net.contains(&ip))
                })
            }),
            Matcher::Regex(regex) => value.is_some_and(|value| {
                any_scalar(value, &|scalar| {
                    scalar.to_text().is_some_and(|text| regex.is_match(&text))
                })
            }),
            Matcher::FieldRef { other, kind, cased } => {
                let (Some(value), Some(other_value)) = (value, event.get(other)) else {
                    return false;
                };
                let fold = |text: Cow<'_, str>| {
                    if *cased { text.into_owned() } else { text.to_lowercase() }
                };
                let (Some(left), Some(right)) =
                    (value.to_text().map(fold), other_value.to_text().map(fold))
                else {
                    return false;
                };
                match kind {
                    StrKindTag::Exact => left == right,
                    StrKindTag::Prefix => left.starts_with(&right),
                    StrKindTag::Suffix => left.ends_with(&right),
                    StrKindTag::Contains => left.contains(&right),
                }
            }
            Matcher::TimePart { part, op, value: expected } => value.is_some_and(|value| {
                any_scalar(value, &|scalar| {
                    time_part(scalar, *part).is_some_and(|found| op.apply(found, *expected))
                })
            }),
        }
    }
}

fn any_scalar(value: &Value, test: &dyn Fn(&Value) -> bool) -> bool {
    match value {
        Value::List(items) => items.iter().any(|item| any_scalar(item, test)),
        Value::Null => false,
        scalar => test(scalar),
    }
}

fn as_number(value: &Value) -> Option<f64> {
    match value {
        #[allow(clippy::cast_precision_loss)]
        Value::Int(int) => Some(*int as f64),
        Value::Float(float) => Some(*float),
        Value::Str(text) => {
            let trimmed = text.as_str().trim();
            trimmed.parse::<f64>().ok().or_else(|| {
                let hex = trimmed.strip_prefix("0x").or_else(|| trimmed.strip_prefix("0X"))?;
                #[allow(clippy::cast_precision_loss)]
                i64::from_str_radix(hex, 16).ok().map(|int| int as f64)
            })
        }
        Value::Bool(_) | Value::Null | Value::List(_) => None,
    }
}

fn time_part(value: &Value, part: TimePart) -> Option<f64> {
    let text = value.to_text()?;
    let text = text.trim();
    let datetime = text
        .parse::<jiff::Timestamp>()
        .map(|ts| ts.to_zoned(jiff::tz::TimeZone::UTC).datetime())
        .or_else(|_| text.parse::<jiff::civil::DateTime>())
        .or_else(|_| text.replacen(' ', "T", 1).parse::<jiff::civil::DateTime>())
        .ok()?;
    Some(f64::from(match part {
        TimePart::Minute => i32::from(datetime.minute()),
        TimePart::Hour => i32::from(datetime.hour()),
        TimePart::Day => i32::from(datetime.day()),
        TimePart::Week => i32::from(datetime.date().iso_week_date().week()),
        TimePart::Month => i32::from(datetime.month()),
        TimePart::Year => i32::from(datetime.year()),
    }))
}
