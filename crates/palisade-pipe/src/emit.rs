//! Expressions and aggregations → SQL text.
//!
//! Parentheses follow SQL precedence ([`crate::sql::prec`]), so the SQL reads like the pipe
//! query and groups exactly as its tree does (a property test parses the SQL back to check).
//!
//! Fields inside `_source` come back from `source_field` as text. Where the pipe query makes
//! the intent numeric, the compiler casts them with `TRY_CAST` (NULL when the text is not a
//! number, instead of failing the query): compared with a number or boolean literal, used in
//! arithmetic, `sum`, `avg`, `round`, `abs`, `floor`, `ceil` or a numeric `bin`.
//!
//! `/` divides exactly, as in SPL (`failures / attempts` is a ratio, not 0): its right operand
//! is made a DOUBLE. SQL would otherwise divide integers with truncation.

use crate::ast::{Aggregation, BinaryOp, Expr, ExprKind, TextOp};
use crate::compile::{Compiler, Resolved};
use crate::error::Result;
use crate::functions::{Aggregate, Function};
use crate::sql::{Sql, interval, prec, string};

/// The SQL origin of `bin(@timestamp, 1h)` buckets: the Unix epoch, in UTC.
const EPOCH: &str = "TIMESTAMP '1970-01-01T00:00:00Z'";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cast {
    None,
    BigInt,
    Double,
    Boolean,
}

impl Cast {
    fn type_name(self) -> &'static str {
        match self {
            Self::None => "",
            Self::BigInt => "BIGINT",
            Self::Double => "DOUBLE",
            Self::Boolean => "BOOLEAN",
        }
    }

    /// The cast a text field needs to be compared with this literal.
    fn for_literal(expr: &Expr) -> Self {
        match expr.kind {
            ExprKind::Int(_) => Self::BigInt,
            ExprKind::Float(_) => Self::Double,
            ExprKind::Bool(_) => Self::Boolean,
            _ => Self::None,
        }
    }

    /// The cast a text field needs to be compared with every value of an `in` list.
    fn for_list(list: &[Expr]) -> Self {
        let casts: Vec<Self> = list.iter().map(Self::for_literal).collect();
        if casts.iter().all(|&cast| cast == Self::BigInt) {
            Self::BigInt
        } else if casts.iter().all(|&cast| matches!(cast, Self::BigInt | Self::Double)) {
            Self::Double
        } else if casts.iter().all(|&cast| cast == Self::Boolean) {
            Self::Boolean
        } else {
            Self::None
        }
    }
}

fn operator(op: BinaryOp) -> (&'static str, u8) {
    match op {
        BinaryOp::Or => ("OR", prec::OR),
        BinaryOp::And => ("AND", prec::AND),
        BinaryOp::Eq => ("=", prec::CMP),
        BinaryOp::NotEq => ("<>", prec::CMP),
        BinaryOp::Lt => ("<", prec::CMP),
        BinaryOp::Le => ("<=", prec::CMP),
        BinaryOp::Gt => (">", prec::CMP),
        BinaryOp::Ge => (">=", prec::CMP),
        BinaryOp::Add => ("+", prec::ADD),
        BinaryOp::Sub => ("-", prec::ADD),
        BinaryOp::Mul => ("*", prec::MUL),
        BinaryOp::Div => ("/", prec::MUL),
        BinaryOp::Mod => ("%", prec::MUL),
    }
}

fn number(text: String) -> Sql {
    let class = if text.starts_with('-') { prec::NEG } else { prec::ATOM };
    Sql::new(text, class)
}

fn call(name: &str, args: &[Sql]) -> Sql {
    let args: Vec<&str> = args.iter().map(|arg| arg.text.as_str()).collect();
    Sql::atom(format!("{name}({})", args.join(", ")))
}

impl Compiler<'_> {
    /// Emits a condition (`where`); the same as any expression, named for the reader.
    pub(crate) fn emit_condition(&self, expr: &Expr) -> Result<Sql> {
        self.emit(expr)
    }

    /// Emits an expression read against the current `SELECT`'s input.
    pub(crate) fn emit(&self, expr: &Expr) -> Result<Sql> {
        Ok(match &expr.kind {
            ExprKind::Field(name) => match self.resolve(name, &expr.span)? {
                Resolved::Column(sql) | Resolved::Source(sql) => Sql::atom(sql),
            },
            ExprKind::Str(text) => Sql::atom(string(text)),
            ExprKind::Int(n) => number(n.to_string()),
            ExprKind::Float(text) => number(text.clone()),
            ExprKind::Bool(value) => Sql::atom(if *value { "true" } else { "false" }),
            ExprKind::Null => Sql::atom("NULL"),
            ExprKind::Duration(seconds) => Sql::atom(interval(*seconds)),
            ExprKind::Not(inner) => {
                Sql::new(format!("NOT {}", self.emit(inner)?.at_least(prec::ATOM)), prec::NOT)
            }
            ExprKind::Neg(inner) => {
                let inner = self.emit_cast(inner, Cast::Double)?;
                Sql::new(format!("-{}", inner.at_least(prec::ATOM)), prec::NEG)
            }
            ExprKind::Compare { op, left, right } => self.emit_compare(*op, left, right)?,
            ExprKind::Chain { first, rest } => self.emit_chain(first, rest)?,
            ExprKind::In { expr, list, negated } => {
                let field = self.emit_cast(expr, Cast::for_list(list))?;
                let mut values = Vec::new();
                for value in list {
                    values.push(self.emit(value)?.text);
                }
                let not = if *negated { "NOT " } else { "" };
                Sql::new(
                    format!("{} {not}IN ({})", field.at_least(prec::ADD), values.join(", ")),
                    prec::CMP,
                )
            }
            ExprKind::Text { expr, op, pattern, negated } => {
                self.emit_text(expr, *op, pattern, *negated)?
            }
            ExprKind::Cidr { expr, networks, negated } => {
                let field = self.emit(expr)?;
                let tests: Vec<String> = networks
                    .iter()
                    .map(|network| format!("cidr_match({}, {})", field.text, string(network)))
                    .collect();
                let any = if tests.len() == 1 {
                    Sql::atom(tests.join(""))
                } else {
                    Sql::new(tests.join(" OR "), prec::OR)
                };
                if *negated {
                    Sql::new(format!("NOT {}", any.at_least(prec::ATOM)), prec::NOT)
                } else {
                    any
                }
            }
            ExprKind::Call { function, args } => self.emit_call(*function, args)?,
        })
    }

    /// Emits `expr`, casting it when it is a `_source` field and `cast` asks for a type.
    fn emit_cast(&self, expr: &Expr, cast: Cast) -> Result<Sql> {
        if let (ExprKind::Field(name), false) = (&expr.kind, cast == Cast::None)
            && let Resolved::Source(sql) = self.resolve(name, &expr.span)?
        {
            return Ok(Sql::atom(format!("TRY_CAST({sql} AS {})", cast.type_name())));
        }
        self.emit(expr)
    }

    /// Emits `expr` as a DOUBLE: a decimal literal, a `TRY_CAST` text field, or a `CAST`.
    fn emit_double(&self, expr: &Expr) -> Result<Sql> {
        Ok(match &expr.kind {
            ExprKind::Int(n) => number(format!("{n}.0")),
            ExprKind::Float(text) => number(text.clone()),
            ExprKind::Field(_) => {
                let sql = self.emit_cast(expr, Cast::Double)?;
                if sql.text.starts_with("TRY_CAST(") {
                    sql
                } else {
                    Sql::atom(format!("CAST({} AS DOUBLE)", sql.text))
                }
            }
            _ => Sql::atom(format!("CAST({} AS DOUBLE)", self.emit(expr)?.text)),
        })
    }

    fn emit_compare(&self, op: BinaryOp, left: &Expr, right: &Expr) -> Result<Sql> {
        let (field, null) = match (&left.kind, &right.kind) {
            (_, ExprKind::Null) => (left, right),
            (ExprKind::Null, _) => (right, left),
            _ => {
                let left_sql = self.emit_cast(left, Cast::for_literal(right))?;
                let right_sql = self.emit_cast(right, Cast::for_literal(left))?;
                let (symbol, _) = operator(op);
                return Ok(Sql::new(
                    format!(
                        "{} {symbol} {}",
                        left_sql.at_least(prec::ADD),
                        right_sql.at_least(prec::ADD)
                    ),
                    prec::CMP,
                ));
            }
        };
        let test = match op {
            BinaryOp::Eq => "IS NULL",
            BinaryOp::NotEq => "IS NOT NULL",
            _ => {
                return Err(self.error(
                    null.span.clone(),
                    "only `==` and `!=` compare with null; or use isnull(field) and exists(field)",
                ));
            }
        };
        Ok(Sql::new(format!("{} {test}", self.emit(field)?.at_least(prec::ADD)), prec::CMP))
    }

    fn emit_chain(&self, first: &Expr, rest: &[(BinaryOp, Expr)]) -> Result<Sql> {
        let level = rest.first().map_or(prec::ATOM, |&(op, _)| operator(op).1);
        let cast = if level >= prec::ADD { Cast::Double } else { Cast::None };
        let mut text = self.emit_cast(first, cast)?.at_least(level);
        for (op, operand) in rest {
            let (symbol, _) = operator(*op);
            let operand = if *op == BinaryOp::Div {
                self.emit_double(operand)?
            } else {
                self.emit_cast(operand, cast)?
            };
            // Right operands bind tighter than the level, as SQL reads `a - b - c`.
            text.push(' ');
            text.push_str(symbol);
            text.push(' ');
            text.push_str(&operand.at_least(level + 1));
        }
        Ok(Sql::new(text, level))
    }

    fn emit_text(&self, expr: &Expr, op: TextOp, pattern: &str, negated: bool) -> Result<Sql> {
        let field = self.emit(expr)?;
        let pattern = string(pattern);
        Ok(match op {
            TextOp::Like => {
                let not = if negated { "NOT " } else { "" };
                Sql::new(format!("{} {not}LIKE {pattern}", field.at_least(prec::ADD)), prec::CMP)
            }
            TextOp::Matches => {
                let symbol = if negated { "!~" } else { "~" };
                Sql::new(format!("{} {symbol} {pattern}", field.at_least(prec::ADD)), prec::CMP)
            }
            TextOp::Contains => {
                let test = if negated { "= 0" } else { "> 0" };
                Sql::new(
                    format!("strpos(lower({}), lower({pattern})) {test}", field.text),
                    prec::CMP,
                )
            }
            TextOp::StartsWith | TextOp::EndsWith => {
                let function = if op == TextOp::StartsWith { "starts_with" } else { "ends_with" };
                let test = format!("{function}(lower({}), lower({pattern}))", field.text);
                if negated { Sql::new(format!("NOT {test}"), prec::NOT) } else { Sql::atom(test) }
            }
        })
    }

    fn emit_args(&self, args: &[Expr]) -> Result<Vec<Sql>> {
        args.iter().map(|arg| self.emit(arg)).collect()
    }

    fn emit_call(&self, function: Function, args: &[Expr]) -> Result<Sql> {
        let numeric_first = |name: &str| -> Result<Sql> {
            let mut sql = vec![self.emit_cast(&args[0], Cast::Double)?];
            sql.extend(self.emit_args(&args[1..])?);
            Ok(call(name, &sql))
        };
        Ok(match function {
            Function::Lower => call("lower", &self.emit_args(args)?),
            Function::Upper => call("upper", &self.emit_args(args)?),
            Function::Length => call("character_length", &self.emit_args(args)?),
            Function::Trim => call("btrim", &self.emit_args(args)?),
            Function::Coalesce => call("coalesce", &self.emit_args(args)?),
            Function::Concat => call("concat", &self.emit_args(args)?),
            Function::Substr => call("substr", &self.emit_args(args)?),
            Function::SplitPart => call("split_part", &self.emit_args(args)?),
            Function::Replace => call("replace", &self.emit_args(args)?),
            Function::ToTimestamp => call("to_timestamp", &self.emit_args(args)?),
            Function::Round => numeric_first("round")?,
            Function::Abs => numeric_first("abs")?,
            Function::Floor => numeric_first("floor")?,
            Function::Ceil => numeric_first("ceil")?,
            Function::DateTrunc => {
                let ExprKind::Str(unit) = &args[0].kind else {
                    return Err(self.error(args[0].span.clone(), "`date_trunc` takes a unit first"));
                };
                let unit = Sql::atom(string(&unit.to_ascii_lowercase()));
                call("date_trunc", &[unit, self.emit(&args[1])?])
            }
            Function::Now => Sql::atom("now()"),
            Function::Ago => {
                let ExprKind::Duration(seconds) = args[0].kind else {
                    return Err(self.error(args[0].span.clone(), "`ago` takes a duration"));
                };
                Sql::new(format!("now() - {}", interval(seconds)), prec::ADD)
            }
            Function::Bin => match args[1].kind {
                ExprKind::Duration(seconds) => Sql::atom(format!(
                    "date_bin({}, {}, {EPOCH})",
                    interval(seconds),
                    self.emit(&args[0])?.text
                )),
                ExprKind::Int(size) => {
                    let value = self.emit_cast(&args[0], Cast::Double)?.at_least(prec::MUL);
                    Sql::new(format!("floor({value} / {size}) * {size}"), prec::MUL)
                }
                _ => return Err(self.error(args[1].span.clone(), "`bin` takes a size")),
            },
            Function::If => {
                let [condition, then, otherwise] = &self.emit_args(args)?[..] else {
                    return Err(self.error(args[0].span.clone(), "`if` takes 3 arguments"));
                };
                Sql::atom(format!(
                    "CASE WHEN {} THEN {} ELSE {} END",
                    condition.text, then.text, otherwise.text
                ))
            }
            Function::ToNumber => {
                Sql::atom(format!("TRY_CAST({} AS DOUBLE)", self.emit(&args[0])?.text))
            }
            Function::ToInt => {
                Sql::atom(format!("TRY_CAST({} AS BIGINT)", self.emit(&args[0])?.text))
            }
            Function::ToString => {
                Sql::atom(format!("CAST({} AS VARCHAR)", self.emit(&args[0])?.text))
            }
            Function::Exists => Sql::new(
                format!("{} IS NOT NULL", self.emit(&args[0])?.at_least(prec::ADD)),
                prec::CMP,
            ),
            Function::IsNull => {
                Sql::new(format!("{} IS NULL", self.emit(&args[0])?.at_least(prec::ADD)), prec::CMP)
            }
        })
    }

    /// Emits one aggregation of `stats`.
    pub(crate) fn emit_aggregation(&self, aggregation: &Aggregation) -> Result<String> {
        let Some(argument) = &aggregation.argument else {
            return Ok("count(*)".to_owned());
        };
        let value = |cast| -> Result<String> { Ok(self.emit_cast(argument, cast)?.text) };
        Ok(match aggregation.function {
            Aggregate::Count => format!("count({})", value(Cast::None)?),
            Aggregate::DistinctCount => format!("count(DISTINCT {})", value(Cast::None)?),
            Aggregate::Sum => format!("sum({})", value(Cast::Double)?),
            Aggregate::Avg => format!("avg({})", value(Cast::Double)?),
            Aggregate::Min => format!("min({})", value(Cast::None)?),
            Aggregate::Max => format!("max({})", value(Cast::None)?),
            Aggregate::Values => format!("array_agg(DISTINCT {})", value(Cast::None)?),
            Aggregate::Earliest | Aggregate::Latest => {
                let earliest = aggregation.function == Aggregate::Earliest;
                let value = value(Cast::None)?;
                if argument.as_field() == Some("@timestamp") {
                    let function = if earliest { "min" } else { "max" };
                    format!("{function}({value})")
                } else {
                    // The value of the first (last) event in time that has one.
                    let time = match self.resolve("@timestamp", &aggregation.span)? {
                        Resolved::Column(sql) | Resolved::Source(sql) => sql,
                    };
                    let direction = if earliest { "ASC" } else { "DESC" };
                    format!(
                        "first_value({value} ORDER BY {time} {direction} NULLS LAST) FILTER \
                         (WHERE {value} IS NOT NULL)"
                    )
                }
            }
        })
    }
}
