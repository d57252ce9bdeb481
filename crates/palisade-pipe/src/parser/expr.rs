//! Expressions: `or` → `and` → `not` → comparisons → `+ -` → `* / %` → unary `-` → values,
//! names, parentheses and function calls.
//!
//! Runs of one operator level become one flat [`ExprKind::Chain`] built in a loop, so the tree
//! only grows deeper through explicit nesting, which [`Parser::descend`] counts.

use super::{MAX_CHAIN, Parser, TEXT_OPS, check_network, closest, is_reserved, plural};
use crate::ast::{BinaryOp, Expr, ExprKind, TextOp};
use crate::error::Result;
use crate::functions::{self, DATE_TRUNC_UNITS, FUNCTIONS, Function};
use crate::lexer::Tok;

impl Parser<'_> {
    pub(crate) fn expr(&mut self) -> Result<Expr> {
        self.descend()?;
        let expr = self.or_expr()?;
        self.depth -= 1;
        Ok(expr)
    }

    /// Parses `first (op next)*` for one precedence level into one flat chain.
    fn chain(
        &mut self,
        next: fn(&mut Self) -> Result<Expr>,
        op_here: fn(&Self) -> Option<BinaryOp>,
    ) -> Result<Expr> {
        let first = next(self)?;
        let mut rest = Vec::new();
        while let Some(op) = op_here(self) {
            if rest.len() + 1 == MAX_CHAIN {
                return Err(self.error_here(format!(
                    "more than {MAX_CHAIN} operands in a row; to test many values use `in (...)`"
                )));
            }
            self.advance();
            rest.push((op, next(self)?));
        }
        let Some((_, last)) = rest.last() else {
            return Ok(first);
        };
        let span = first.span.start..last.span.end;
        Ok(Expr { kind: ExprKind::Chain { first: Box::new(first), rest }, span })
    }

    fn or_expr(&mut self) -> Result<Expr> {
        self.chain(Self::and_expr, |parser| parser.is_keyword("or").then_some(BinaryOp::Or))
    }

    fn and_expr(&mut self) -> Result<Expr> {
        self.chain(Self::not_expr, |parser| parser.is_keyword("and").then_some(BinaryOp::And))
    }

    fn not_expr(&mut self) -> Result<Expr> {
        if self.is_keyword("not") {
            let start = self.advance().span.start;
            self.descend()?;
            let inner = self.not_expr()?;
            self.depth -= 1;
            let span = start..inner.span.end;
            return Ok(Expr { kind: ExprKind::Not(Box::new(inner)), span });
        }
        self.comparison()
    }

    fn comparison_op(&self) -> Option<BinaryOp> {
        Some(match self.tok() {
            Tok::EqEq | Tok::Assign => BinaryOp::Eq,
            Tok::NotEq => BinaryOp::NotEq,
            Tok::Lt => BinaryOp::Lt,
            Tok::Le => BinaryOp::Le,
            Tok::Gt => BinaryOp::Gt,
            Tok::Ge => BinaryOp::Ge,
            _ => return None,
        })
    }

    fn is_comparison_keyword(&self, ahead: usize) -> bool {
        matches!(self.tok_at(ahead), Tok::Word(word)
            if ["in", "cidr"].iter().chain(TEXT_OPS.iter().map(|(name, _)| name))
                .any(|keyword| keyword.eq_ignore_ascii_case(word)))
    }

    fn comparison(&mut self) -> Result<Expr> {
        let left = self.additive()?;
        let start = left.span.start;
        let expr = if let Some(op) = self.comparison_op() {
            self.advance();
            let right = self.additive()?;
            let span = start..right.span.end;
            Expr {
                kind: ExprKind::Compare { op, left: Box::new(left), right: Box::new(right) },
                span,
            }
        } else if self.is_comparison_keyword(0)
            || (self.is_keyword("not") && self.is_comparison_keyword(1))
        {
            let negated = self.eat_keyword("not");
            self.keyword_test(left, negated)?
        } else if self.is_keyword("not") {
            return Err(self.error(
                self.tokens[self.pos + 1].span.clone(),
                "expected `in`, `like`, `matches`, `contains`, `startswith`, `endswith` or \
                 `cidr` after `not`",
            ));
        } else {
            return Ok(left);
        };
        if self.comparison_op().is_some()
            || self.is_comparison_keyword(0)
            || (self.is_keyword("not") && self.is_comparison_keyword(1))
        {
            return Err(self.error_here("comparisons cannot be chained; join them with `and`"));
        }
        Ok(expr)
    }

    fn keyword_test(&mut self, left: Expr, negated: bool) -> Result<Expr> {
        let Tok::Word(word) = self.tok().clone() else {
            return Err(self.error_here("expected a comparison"));
        };
        let keyword = word.to_ascii_lowercase();
        self.advance();
        let start = left.span.start;
        let expr = Box::new(left);
        if keyword == "in" {
            let open = self.span();
            if !self.eat(&Tok::LParen) {
                return Err(self.error(
                    open,
                    "`in` takes a list in parentheses, as in in (\"cmd.exe\", \"powershell.exe\")",
                ));
            }
            let mut list = Vec::new();
            loop {
                list.push(self.list_value()?);
                if !self.eat(&Tok::Comma) {
                    break;
                }
            }
            let end = self.expect(&Tok::RParen, "`)` or `,`")?.end;
            return Ok(Expr { kind: ExprKind::In { expr, list, negated }, span: start..end });
        }
        if keyword == "cidr" {
            let mut networks = Vec::new();
            let end = if self.eat(&Tok::LParen) {
                loop {
                    networks.push(self.network()?);
                    if !self.eat(&Tok::Comma) {
                        break;
                    }
                }
                self.expect(&Tok::RParen, "`)` or `,`")?.end
            } else {
                let end = self.span().end;
                networks.push(self.network()?);
                end
            };
            return Ok(Expr { kind: ExprKind::Cidr { expr, networks, negated }, span: start..end });
        }
        let op = TEXT_OPS
            .iter()
            .find(|(name, _)| *name == keyword)
            .map(|&(_, op)| op)
            .ok_or_else(|| self.error_here("expected a comparison"))?;
        let span = self.span();
        let Tok::Str(pattern) = self.tok().clone() else {
            let name = op.keyword();
            let example = match op {
                TextOp::Like => "like \"%\\\\temp\\\\%\"",
                TextOp::Matches => "matches \"^[a-z0-9]{32}\\\\.exe$\"",
                _ => "contains \"powershell\"",
            };
            return Err(self.error(
                span,
                format!("`{name}` needs a quoted string, as in {example}; found {}", {
                    self.describe_current()
                }),
            ));
        };
        self.advance();
        Ok(Expr { kind: ExprKind::Text { expr, op, pattern, negated }, span: start..span.end })
    }

    fn network(&mut self) -> Result<String> {
        let span = self.span();
        let Tok::Str(text) = self.tok().clone() else {
            return Err(self.error(
                span,
                format!(
                    "`cidr` needs a quoted network, as in cidr \"10.0.0.0/8\"; found {}",
                    self.describe_current()
                ),
            ));
        };
        check_network(&text).map_err(|message| self.error(span, message))?;
        self.advance();
        Ok(text)
    }

    fn list_value(&mut self) -> Result<Expr> {
        let span = self.span();
        let kind = match self.tok().clone() {
            Tok::Str(text) => ExprKind::Str(text),
            Tok::Int(n) => ExprKind::Int(n),
            Tok::Float(text) => ExprKind::Float(text),
            Tok::Word(word) if word.eq_ignore_ascii_case("true") => ExprKind::Bool(true),
            Tok::Word(word) if word.eq_ignore_ascii_case("false") => ExprKind::Bool(false),
            Tok::Word(word) if word.eq_ignore_ascii_case("null") => {
                return Err(self.error_here("`in` cannot test for null; use isnull(field)"));
            }
            Tok::Minus if matches!(self.tok_at(1), Tok::Int(_) | Tok::Float(_)) => {
                return self.unary();
            }
            _ => {
                return Err(self.error_here(format!(
                    "`in` lists hold values (strings, numbers, true or false); found {}",
                    self.describe_current()
                )));
            }
        };
        self.advance();
        Ok(Expr { kind, span })
    }

    fn additive(&mut self) -> Result<Expr> {
        self.chain(Self::multiplicative, |parser| match parser.tok() {
            Tok::Plus => Some(BinaryOp::Add),
            Tok::Minus => Some(BinaryOp::Sub),
            _ => None,
        })
    }

    fn multiplicative(&mut self) -> Result<Expr> {
        self.chain(Self::unary, |parser| match parser.tok() {
            Tok::Star => Some(BinaryOp::Mul),
            Tok::Slash => Some(BinaryOp::Div),
            Tok::Percent => Some(BinaryOp::Mod),
            _ => None,
        })
    }

    fn unary(&mut self) -> Result<Expr> {
        if !matches!(self.tok(), Tok::Minus) {
            return self.primary();
        }
        let start = self.advance().span.start;
        let span = start..self.span().end;
        match self.tok().clone() {
            Tok::Int(n) => {
                self.advance();
                Ok(Expr { kind: ExprKind::Int(-n), span })
            }
            Tok::Float(text) => {
                self.advance();
                Ok(Expr { kind: ExprKind::Float(format!("-{text}")), span })
            }
            _ => {
                self.descend()?;
                let inner = self.unary()?;
                self.depth -= 1;
                let span = start..inner.span.end;
                Ok(Expr { kind: ExprKind::Neg(Box::new(inner)), span })
            }
        }
    }

    fn primary(&mut self) -> Result<Expr> {
        let span = self.span();
        let kind = match self.tok().clone() {
            Tok::Int(n) => ExprKind::Int(n),
            Tok::Float(text) => ExprKind::Float(text),
            Tok::Duration(seconds) => ExprKind::Duration(seconds),
            Tok::Str(text) => ExprKind::Str(text),
            Tok::Quoted(name) => ExprKind::Field(name),
            Tok::LParen => {
                self.advance();
                let inner = self.expr()?;
                let end = self.expect(&Tok::RParen, "`)`")?.end;
                return Ok(Expr { kind: inner.kind, span: span.start..end });
            }
            Tok::Word(word) => match word.to_ascii_lowercase().as_str() {
                "true" => ExprKind::Bool(true),
                "false" => ExprKind::Bool(false),
                "null" => ExprKind::Null,
                _ if matches!(self.tok_at(1), Tok::LParen) && !is_reserved(&word) => {
                    return self.call(&word);
                }
                lower if is_reserved(lower) => {
                    let after = self.previous_text().to_owned();
                    return Err(self.error_here(format!(
                        "expected a value, a field or `(` after `{after}`, found the keyword \
                         `{lower}`"
                    )));
                }
                _ => ExprKind::Field(word),
            },
            _ => {
                let after = self.previous_text().to_owned();
                return Err(self.error_here(format!(
                    "expected a value, a field or `(` after `{after}`, found {}",
                    self.describe_current()
                )));
            }
        };
        self.advance();
        Ok(Expr { kind, span })
    }

    fn call(&mut self, word: &str) -> Result<Expr> {
        let name_span = self.advance().span;
        let Some(spec) = functions::function(word) else {
            let message = if functions::aggregate(word).is_some() {
                format!(
                    "`{word}` is an aggregation: use it in `stats`, as in stats {}(...) by host.name",
                    word.to_ascii_lowercase()
                )
            } else if let Some(suggestion) = closest(word, FUNCTIONS.iter().map(|spec| spec.name)) {
                format!("unknown function `{word}`; did you mean `{suggestion}`?")
            } else {
                format!("unknown function `{word}`; see docs/pipe.md for the list of functions")
            };
            return Err(self.error(name_span, message));
        };
        self.advance();
        let mut args = Vec::new();
        if !matches!(self.tok(), Tok::RParen) {
            loop {
                args.push(self.expr()?);
                if !self.eat(&Tok::Comma) {
                    break;
                }
            }
        }
        let end = self.expect(&Tok::RParen, "`)` or `,`")?.end;
        let span = name_span.start..end;
        if args.len() < spec.min_args || args.len() > spec.max_args {
            let expected = match (spec.min_args, spec.max_args) {
                (0, 0) => "no arguments".to_owned(),
                (1, 1) => "one argument".to_owned(),
                (min, max) if min == max => format!("{min} arguments"),
                (min, usize::MAX) => format!("at least {min} argument{}", plural(min)),
                (min, max) => format!("{min} to {max} arguments"),
            };
            let message = format!("`{}` takes {expected}: {}", spec.name, spec.usage);
            return Err(self.error(span, message));
        }
        self.check_call(spec.function, &args)?;
        Ok(Expr { kind: ExprKind::Call { function: spec.function, args }, span })
    }

    fn check_call(&self, function: Function, args: &[Expr]) -> Result<()> {
        match function {
            Function::Ago if !matches!(args[0].kind, ExprKind::Duration(_)) => {
                Err(self.error(args[0].span.clone(), "`ago` takes a duration, as in ago(1h)"))
            }
            Function::Bin => match args[1].kind {
                ExprKind::Duration(seconds) if seconds > 0 => Ok(()),
                ExprKind::Int(n) if n > 0 => Ok(()),
                _ => Err(self.error(
                    args[1].span.clone(),
                    "`bin` takes a size: a duration such as 1h, or a positive whole number",
                )),
            },
            Function::DateTrunc => match &args[0].kind {
                ExprKind::Str(unit)
                    if DATE_TRUNC_UNITS.iter().any(|known| known.eq_ignore_ascii_case(unit)) =>
                {
                    Ok(())
                }
                _ => Err(self.error(
                    args[0].span.clone(),
                    format!(
                        "`date_trunc` takes a unit first, one of {}",
                        DATE_TRUNC_UNITS.join(", ")
                    ),
                )),
            },
            _ => Ok(()),
        }
    }
}
