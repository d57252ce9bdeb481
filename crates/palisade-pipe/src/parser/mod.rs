//! Recursive-descent parser: tokens → [`Stage`]s.
//!
//! Expression precedence, loosest first: `or`, `and`, `not`, comparisons (`== != < <= > >=`,
//! `in`, `like`, `matches`, `contains`, `startswith`, `endswith`, `cidr`; never chained),
//! `+ -`, `* / %`, unary `-`. A run of operators of one level becomes one flat
//! [`crate::ast::ExprKind::Chain`], so only explicit nesting (parentheses, `not`, unary `-`, function
//! arguments) makes the tree deeper, and that is capped at [`MAX_DEPTH`]: hostile input cannot
//! overflow the stack, here or in the SQL engine.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

mod expr;

use crate::ast::{Aggregation, Assignment, Command, GroupKey, Name, SortKey, Span, Stage, TextOp};
use crate::error::{Error, Result};
use crate::functions::{self, AGGREGATES, Aggregate};
use crate::lexer::{Tok, Token, tokenize};

/// How deeply parentheses, `not`, unary minus and function calls may nest. Chosen so that the
/// SQL compiled from the deepest accepted expression stays within DataFusion's default parser
/// recursion limit (50), which a test checks.
pub(crate) const MAX_DEPTH: usize = 16;

/// The most stages a query may have; it bounds the depth of the query plan.
pub(crate) const MAX_STAGES: usize = 32;

/// The most operands in one run of `or`, `and`, `+ -` or `* / %`. The engine builds a
/// left-deep tree from such a run, so an unbounded run could exhaust its stack.
pub(crate) const MAX_CHAIN: usize = 256;

/// Command names, aliases included, for suggestions.
const COMMANDS: &[&str] = &[
    "where",
    "filter",
    "search",
    "fields",
    "project",
    "stats",
    "summarize",
    "sort",
    "order",
    "head",
    "limit",
    "take",
    "top",
    "rare",
    "dedup",
    "eval",
    "extend",
];

/// Words that are never bare field names (backticks make them field names).
const RESERVED: &[&str] = &[
    "and",
    "or",
    "not",
    "in",
    "like",
    "matches",
    "contains",
    "startswith",
    "endswith",
    "cidr",
    "true",
    "false",
    "null",
    "by",
    "as",
    "asc",
    "desc",
];

const TEXT_OPS: &[(&str, TextOp)] = &[
    ("like", TextOp::Like),
    ("matches", TextOp::Matches),
    ("contains", TextOp::Contains),
    ("startswith", TextOp::StartsWith),
    ("endswith", TextOp::EndsWith),
];

/// Parses a whole query.
pub(crate) fn parse(query: &str) -> Result<Vec<Stage>> {
    let tokens = tokenize(query)?;
    let mut parser = Parser { query, tokens, pos: 0, depth: 0 };
    parser.query()
}

/// Returns true when `word` is a keyword that cannot be a bare field name.
pub(crate) fn is_reserved(word: &str) -> bool {
    RESERVED.iter().any(|reserved| reserved.eq_ignore_ascii_case(word))
}

/// Returns the candidate closest to `word` when it is a likely typo.
pub(crate) fn closest<'a>(
    word: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    candidates
        .map(|candidate| (edit_distance(&word, candidate), candidate))
        .filter(|&(distance, candidate)| {
            distance <= 2 && distance < candidate.chars().count().max(2)
        })
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, candidate)| candidate)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// Checks an IPv4 or IPv6 network in `address/length` form.
fn check_network(text: &str) -> Result<(), String> {
    let Some((address, length)) = text.split_once('/') else {
        return Err(format!(
            "`{text}` is not a network: write it with a prefix length, as in \"10.0.0.0/8\""
        ));
    };
    let address: IpAddr =
        address.parse().map_err(|_| format!("`{address}` is not an IPv4 or IPv6 address"))?;
    let bits: u32 = if address.is_ipv4() { 32 } else { 128 };
    let length = length
        .parse::<u32>()
        .ok()
        .filter(|&length| length <= bits)
        .ok_or_else(|| format!("the prefix length in `{text}` must be 0 to {bits}"))?;
    let (value, host_mask) = match address {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)), u128::from(u32::MAX).checked_shr(length)),
        IpAddr::V6(v6) => (u128::from(v6), u128::MAX.checked_shr(length)),
    };
    if value & host_mask.unwrap_or(0) != 0 {
        let network_bits = value & !host_mask.unwrap_or(0);
        let network = match address {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::from(u32::try_from(network_bits).unwrap_or(0))),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::from(network_bits)),
        };
        return Err(format!("`{text}` has host bits set: the network is {network}/{length}"));
    }
    Ok(())
}

struct Parser<'q> {
    query: &'q str,
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    // ----- token helpers -----

    fn tok(&self) -> &Tok {
        &self.tokens[self.pos].tok
    }

    fn span(&self) -> Span {
        self.tokens[self.pos].span.clone()
    }

    fn tok_at(&self, ahead: usize) -> &Tok {
        let index = (self.pos + ahead).min(self.tokens.len() - 1);
        &self.tokens[index].tok
    }

    fn advance(&mut self) -> Token {
        let token = self.tokens[self.pos].clone();
        if self.pos + 1 < self.tokens.len() {
            self.pos += 1;
        }
        token
    }

    /// Returns the source text of the previous token, for "after `x`" messages.
    fn previous_text(&self) -> &str {
        match self.pos.checked_sub(1) {
            Some(index) => &self.query[self.tokens[index].span.clone()],
            None => "the start",
        }
    }

    fn describe_current(&self) -> String {
        if matches!(self.tok(), Tok::End) {
            return "the end of the query".to_owned();
        }
        let text = &self.query[self.span()];
        let short: String = text.chars().take(40).collect();
        if short.len() < text.len() { format!("`{short}...`") } else { format!("`{text}`") }
    }

    fn error(&self, span: Span, message: impl Into<String>) -> Error {
        Error::new(self.query, span, message)
    }

    fn error_here(&self, message: impl Into<String>) -> Error {
        self.error(self.span(), message)
    }

    fn is_keyword(&self, keyword: &str) -> bool {
        matches!(self.tok(), Tok::Word(word) if word.eq_ignore_ascii_case(keyword))
    }

    fn eat_keyword(&mut self, keyword: &str) -> bool {
        let found = self.is_keyword(keyword);
        if found {
            self.advance();
        }
        found
    }

    fn eat(&mut self, tok: &Tok) -> bool {
        let found = self.tok() == tok;
        if found {
            self.advance();
        }
        found
    }

    fn expect(&mut self, tok: &Tok, what: &str) -> Result<Span> {
        if self.tok() == tok {
            return Ok(self.advance().span);
        }
        let after = self.previous_text().to_owned();
        Err(self.error_here(format!(
            "expected {what} after `{after}`, found {}",
            self.describe_current()
        )))
    }

    fn descend(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error_here(format!(
                "the expression nests too deeply (more than {MAX_DEPTH} levels of parentheses, \
                 `not`, `-` and function calls)"
            )));
        }
        Ok(())
    }

    // ----- query and stages -----

    fn query(&mut self) -> Result<Vec<Stage>> {
        if matches!(self.tok(), Tok::End) {
            return Err(self.error_here("the query is empty"));
        }
        let mut stages = Vec::new();
        let mut pipe: Option<Span> = None;
        if self.is_keyword("events") {
            self.advance();
            match self.tok() {
                Tok::End => return Ok(stages),
                Tok::Pipe => pipe = Some(self.advance().span),
                _ => {
                    return Err(self.error_here(format!(
                        "expected `|` after `events`, found {}",
                        self.describe_current()
                    )));
                }
            }
        } else if matches!(self.tok(), Tok::Pipe) {
            pipe = Some(self.advance().span);
        }
        loop {
            if stages.len() == MAX_STAGES {
                return Err(self.error_here(format!(
                    "a query has at most {MAX_STAGES} stages; split the hunt into several queries"
                )));
            }
            let stage = self.stage(pipe.as_ref())?;
            let command = self.query[stage.span.clone()].to_ascii_lowercase();
            stages.push(stage);
            match self.tok() {
                Tok::End => return Ok(stages),
                Tok::Pipe => pipe = Some(self.advance().span),
                _ => {
                    return Err(self.error_here(format!(
                        "expected `|` or the end of the query after the `{command}` stage, \
                         found {}",
                        self.describe_current()
                    )));
                }
            }
        }
    }

    fn stage(&mut self, pipe: Option<&Span>) -> Result<Stage> {
        let word = match self.tok() {
            Tok::Word(word) => word.to_ascii_lowercase(),
            Tok::End => {
                return Err(match pipe {
                    Some(pipe) => {
                        self.error(pipe.clone(), "a trailing `|` needs a command after it")
                    }
                    None => self.error_here("the query is empty"),
                });
            }
            Tok::Pipe => {
                return Err(self.error_here("empty stage: a command is missing before this `|`"));
            }
            _ => {
                return Err(self.error_here(format!(
                    "expected a command such as `where` or `stats`, found {}",
                    self.describe_current()
                )));
            }
        };
        let start = self.advance().span;
        let command = match word.as_str() {
            "where" | "filter" => Command::Where(self.expr()?),
            "search" => Command::Search(self.search()?),
            "fields" | "project" => {
                if matches!(self.tok(), Tok::Minus) {
                    return Err(self.error_here(
                        "removing fields with `-` is not supported: list the fields to keep",
                    ));
                }
                Command::Fields(self.names()?)
            }
            "stats" | "summarize" => self.stats()?,
            "sort" | "order" => {
                let has_by = self.eat_keyword("by");
                if word == "order" && !has_by {
                    return Err(self.error_here(format!(
                        "expected `by` after `order`, found {}",
                        self.describe_current()
                    )));
                }
                Command::Sort(self.sort_keys()?)
            }
            "head" | "limit" | "take" => Command::Head(self.count(&word)?.unwrap_or(10)),
            "top" | "rare" => {
                let limit = self.count(&word)?.unwrap_or(10);
                let fields = self.names()?;
                let by = if self.eat_keyword("by") { self.names()? } else { Vec::new() };
                Command::Top { limit, fields, by, rare: word == "rare" }
            }
            "dedup" => Command::Dedup(self.names()?),
            "eval" | "extend" => Command::Eval(self.assignments()?),
            _ => {
                let message = match closest(&word, COMMANDS.iter().copied()) {
                    Some(suggestion) => {
                        format!("unknown command `{word}`; did you mean `{suggestion}`?")
                    }
                    None => format!(
                        "unknown command `{word}`; the commands are where, search, fields, \
                         stats, sort, head, top, rare, dedup and eval"
                    ),
                };
                return Err(self.error(start, message));
            }
        };
        Ok(Stage { command, span: start })
    }

    fn search(&mut self) -> Result<String> {
        match self.tok().clone() {
            Tok::Str(text) => {
                self.advance();
                Ok(text)
            }
            _ => Err(self.error_here(format!(
                "`search` needs a quoted string, as in search \"mimikatz\"; found {}",
                self.describe_current()
            ))),
        }
    }

    /// Parses the optional row count of `head`, `top` and `rare`.
    fn count(&mut self, command: &str) -> Result<Option<i64>> {
        match *self.tok() {
            Tok::Int(0) => Err(self.error_here(format!("`{command}` needs a count of at least 1"))),
            Tok::Int(n) => {
                self.advance();
                Ok(Some(n))
            }
            Tok::Minus | Tok::Float(_) => {
                Err(self
                    .error_here(format!("`{command}` takes a whole number of rows, at least 1")))
            }
            _ => Ok(None),
        }
    }

    fn name(&mut self) -> Result<Name> {
        let span = self.span();
        match self.tok().clone() {
            Tok::Word(word) if !is_reserved(&word) => {
                self.advance();
                Ok(Name { text: word, span })
            }
            Tok::Quoted(text) => {
                self.advance();
                Ok(Name { text, span })
            }
            Tok::Word(word) => {
                let after = self.previous_text().to_owned();
                Err(self.error_here(format!(
                    "expected a field name after `{after}`, found the keyword `{word}` (write \
                     `{word}` in backticks for a field of that name)"
                )))
            }
            _ => {
                let after = self.previous_text().to_owned();
                Err(self.error_here(format!(
                    "expected a field name after `{after}`, found {}",
                    self.describe_current()
                )))
            }
        }
    }

    fn names(&mut self) -> Result<Vec<Name>> {
        let mut names = vec![self.name()?];
        while self.eat(&Tok::Comma) {
            names.push(self.name()?);
        }
        Ok(names)
    }

    fn sort_keys(&mut self) -> Result<Vec<SortKey>> {
        let mut keys = Vec::new();
        loop {
            let name = self.name()?;
            let descending = if self.eat_keyword("desc") {
                true
            } else {
                self.eat_keyword("asc");
                false
            };
            keys.push(SortKey { name, descending });
            if !self.eat(&Tok::Comma) {
                return Ok(keys);
            }
        }
    }

    fn assignments(&mut self) -> Result<Vec<Assignment>> {
        let mut assignments = Vec::new();
        loop {
            let target = self.name()?;
            if matches!(self.tok(), Tok::EqEq) {
                return Err(self.error_here("use `=` to assign in `eval`, not `==`"));
            }
            self.expect(&Tok::Assign, "`=`")?;
            let value = self.expr()?;
            assignments.push(Assignment { target, value });
            if !self.eat(&Tok::Comma) {
                return Ok(assignments);
            }
        }
    }

    fn stats(&mut self) -> Result<Command> {
        let mut aggregations = Vec::new();
        if !self.is_keyword("by") {
            loop {
                aggregations.push(self.aggregation()?);
                if !self.eat(&Tok::Comma) {
                    break;
                }
            }
        }
        let mut by = Vec::new();
        if self.eat_keyword("by") {
            loop {
                let starts_value = match self.tok() {
                    Tok::Word(word) => !is_reserved(word),
                    Tok::Quoted(_) | Tok::LParen => true,
                    _ => false,
                };
                if !starts_value {
                    let after = self.previous_text().to_owned();
                    return Err(self.error_here(format!(
                        "expected a field name after `{after}`, found {}",
                        self.describe_current()
                    )));
                }
                let expr = self.expr()?;
                let alias = if self.eat_keyword("as") { Some(self.name()?) } else { None };
                by.push(GroupKey { expr, alias });
                if !self.eat(&Tok::Comma) {
                    break;
                }
            }
        }
        Ok(Command::Stats { aggregations, by })
    }

    fn aggregation(&mut self) -> Result<Aggregation> {
        let start = self.span().start;
        let mut alias = None;
        if matches!(self.tok(), Tok::Word(_) | Tok::Quoted(_))
            && matches!(self.tok_at(1), Tok::Assign)
        {
            alias = Some(self.name()?);
            self.advance();
        }
        let Tok::Word(word) = self.tok().clone() else {
            let after = self.previous_text().to_owned();
            return Err(self.error_here(format!(
                "expected an aggregation such as count() after `{after}`, found {}",
                self.describe_current()
            )));
        };
        let Some(function) = functions::aggregate(&word) else {
            let names = AGGREGATES.iter().map(|(name, _)| *name);
            let message = if functions::function(&word).is_some() {
                format!(
                    "`{word}` is not an aggregation; the aggregations are count, dc, sum, avg, \
                     min, max, values, earliest and latest"
                )
            } else if let Some(suggestion) = closest(&word, names) {
                format!("unknown aggregation `{word}`; did you mean `{suggestion}`?")
            } else if matches!(self.tok_at(1), Tok::LParen) {
                format!(
                    "unknown aggregation `{word}`; the aggregations are count, dc, sum, avg, \
                     min, max, values, earliest and latest"
                )
            } else {
                format!("expected an aggregation such as count(), found `{word}`")
            };
            return Err(self.error_here(message));
        };
        self.advance();
        let name = word.to_ascii_lowercase();
        self.expect(&Tok::LParen, "`(`")?;
        let empty = (function == Aggregate::Count && self.eat(&Tok::Star))
            || matches!(self.tok(), Tok::RParen);
        let argument = if empty { None } else { Some(self.expr()?) };
        let close = self.expect(&Tok::RParen, "`)`")?;
        let span = start..close.end;
        if argument.is_none() && function != Aggregate::Count {
            return Err(
                self.error(span, format!("`{name}` takes one argument, as in {name}(bytes)"))
            );
        }
        if self.eat_keyword("as") {
            if alias.is_some() {
                return Err(self.error_here("name an aggregation once, with `as` or with `=`"));
            }
            alias = Some(self.name()?);
        }
        Ok(Aggregation { function, argument, alias, span })
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::{check_network, closest, edit_distance};

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("whree", "where"), 2);
        assert_eq!(edit_distance("stat", "stats"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn suggestions_only_for_close_words() {
        let commands = ["where", "stats", "sort", "head"];
        assert_eq!(closest("whre", commands.iter().copied()), Some("where"));
        assert_eq!(closest("STAT", commands.iter().copied()), Some("stats"));
        assert_eq!(closest("frobnicate", commands.iter().copied()), None);
    }

    #[test]
    fn networks_are_checked() {
        assert!(check_network("10.0.0.0/8").is_ok());
        assert!(check_network("0.0.0.0/0").is_ok());
        assert!(check_network("192.168.1.7/32").is_ok());
        assert!(check_network("fd00::/8").is_ok());
        assert!(check_network("::1/128").is_ok());
        assert_eq!(
            check_network("10.1.2.3/8").unwrap_err(),
            "`10.1.2.3/8` has host bits set: the network is 10.0.0.0/8"
        );
        assert_eq!(
            check_network("fd00::1/8").unwrap_err(),
            "`fd00::1/8` has host bits set: the network is fd00::/8"
        );
        assert!(check_network("10.0.0.0/33").unwrap_err().contains("0 to 32"));
        assert!(check_network("10.0.0.0").unwrap_err().contains("prefix length"));
        assert!(check_network("10.0.0/8").unwrap_err().contains("not an IPv4"));
    }
}
