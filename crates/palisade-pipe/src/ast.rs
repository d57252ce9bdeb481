//! The parsed form of a pipe query: a list of stages, each with the span of its command word,
//! and expressions whose every node keeps its span for error messages.

use std::ops::Range;

use crate::functions::{Aggregate, Function};

/// A byte range in the query.
pub(crate) type Span = Range<usize>;

/// A field name as written (backticks removed), with its place.
#[derive(Debug, Clone)]
pub(crate) struct Name {
    pub(crate) text: String,
    pub(crate) span: Span,
}

/// One stage between pipes.
#[derive(Debug, Clone)]
pub(crate) struct Stage {
    pub(crate) command: Command,
    /// The span of the command word(s).
    pub(crate) span: Span,
}

/// What a stage does.
#[derive(Debug, Clone)]
pub(crate) enum Command {
    /// `where EXPR`
    Where(Expr),
    /// `search "text"`
    Search(String),
    /// `fields a, b`
    Fields(Vec<Name>),
    /// `stats AGG [as name], ... [by ITEM [as name], ...]`
    Stats { aggregations: Vec<Aggregation>, by: Vec<GroupKey> },
    /// `sort a [asc|desc], ...`
    Sort(Vec<SortKey>),
    /// `head N`
    Head(i64),
    /// `top N a, b [by c]` or, with `rare`, `rare N a, b [by c]`
    Top { limit: i64, fields: Vec<Name>, by: Vec<Name>, rare: bool },
    /// `dedup a, b`
    Dedup(Vec<Name>),
    /// `eval name = EXPR, ...`
    Eval(Vec<Assignment>),
}

/// One aggregation of `stats`.
#[derive(Debug, Clone)]
pub(crate) struct Aggregation {
    pub(crate) function: Aggregate,
    /// `None` for `count()` and `count(*)`.
    pub(crate) argument: Option<Expr>,
    /// The output name given with `as` or `name =`.
    pub(crate) alias: Option<Name>,
    pub(crate) span: Span,
}

/// One `by` item of `stats`.
#[derive(Debug, Clone)]
pub(crate) struct GroupKey {
    pub(crate) expr: Expr,
    pub(crate) alias: Option<Name>,
}

/// One key of `sort`.
#[derive(Debug, Clone)]
pub(crate) struct SortKey {
    pub(crate) name: Name,
    pub(crate) descending: bool,
}

/// One `name = EXPR` of `eval`.
#[derive(Debug, Clone)]
pub(crate) struct Assignment {
    pub(crate) target: Name,
    pub(crate) value: Expr,
}

/// An expression and where it is.
#[derive(Debug, Clone)]
pub(crate) struct Expr {
    pub(crate) kind: ExprKind,
    pub(crate) span: Span,
}

/// The kinds of expressions.
#[derive(Debug, Clone)]
pub(crate) enum ExprKind {
    Field(String),
    Str(String),
    Int(i64),
    /// Digits, `.`, digits, with an optional leading `-`.
    Float(String),
    Bool(bool),
    Null,
    /// Seconds.
    Duration(i64),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    /// One comparison (`==`, `!=`, `<`, ...); comparisons never chain.
    Compare {
        op: BinaryOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// `first op e1 op e2 ...` for operators of one precedence level (`or`, `and`, `+ -`,
    /// `* / %`), left-associative. Kept flat so that a long run of `or` does not make the
    /// tree (and the recursion over it) deep.
    Chain {
        first: Box<Expr>,
        rest: Vec<(BinaryOp, Expr)>,
    },
    In {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    Text {
        expr: Box<Expr>,
        op: TextOp,
        pattern: String,
        negated: bool,
    },
    Cidr {
        expr: Box<Expr>,
        networks: Vec<String>,
        negated: bool,
    },
    Call {
        function: Function,
        args: Vec<Expr>,
    },
}

/// Binary operators, from `or` (loosest) to `*` (tightest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinaryOp {
    Or,
    And,
    Eq,
    NotEq,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

/// Text tests with a string pattern on the right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextOp {
    Like,
    Matches,
    Contains,
    StartsWith,
    EndsWith,
}

impl TextOp {
    /// Returns the keyword.
    pub(crate) fn keyword(self) -> &'static str {
        match self {
            Self::Like => "like",
            Self::Matches => "matches",
            Self::Contains => "contains",
            Self::StartsWith => "startswith",
            Self::EndsWith => "endswith",
        }
    }
}

impl Expr {
    /// Calls `visit` on every field name the expression reads, with its span.
    pub(crate) fn for_each_field(&self, visit: &mut dyn FnMut(&str, &Span)) {
        match &self.kind {
            ExprKind::Field(name) => visit(name, &self.span),
            ExprKind::Str(_)
            | ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Bool(_)
            | ExprKind::Null
            | ExprKind::Duration(_) => {}
            ExprKind::Not(inner) | ExprKind::Neg(inner) => inner.for_each_field(visit),
            ExprKind::Compare { left, right, .. } => {
                left.for_each_field(visit);
                right.for_each_field(visit);
            }
            ExprKind::Chain { first, rest } => {
                first.for_each_field(visit);
                for (_, operand) in rest {
                    operand.for_each_field(visit);
                }
            }
            ExprKind::In { expr, list, .. } => {
                expr.for_each_field(visit);
                for item in list {
                    item.for_each_field(visit);
                }
            }
            ExprKind::Text { expr, .. } | ExprKind::Cidr { expr, .. } => {
                expr.for_each_field(visit);
            }
            ExprKind::Call { args, .. } => {
                for arg in args {
                    arg.for_each_field(visit);
                }
            }
        }
    }

    /// Returns the field name when the expression is a bare field.
    pub(crate) fn as_field(&self) -> Option<&str> {
        match &self.kind {
            ExprKind::Field(name) => Some(name),
            _ => None,
        }
    }
}
