//! The explicit catalogue of functions a pipe query may call, and of `stats` aggregations.
//!
//! Only these names compile; anything else is an error with a suggestion. Each maps to a
//! DataFusion function or construct chosen in `emit.rs`, so the list is also the contract with
//! the store: every SQL function named here must exist in its DataFusion session (built-ins,
//! plus the `source_field` and `cidr_match` UDFs the store registers).

/// A scalar function callable in `where`, `eval` and `stats ... by`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Function {
    Lower,
    Upper,
    Length,
    Trim,
    Coalesce,
    Concat,
    Substr,
    SplitPart,
    Replace,
    Round,
    Abs,
    Floor,
    Ceil,
    DateTrunc,
    ToTimestamp,
    Now,
    Ago,
    Bin,
    If,
    ToNumber,
    ToInt,
    ToString,
    Exists,
    IsNull,
}

/// A scalar function's name, arity and usage line.
#[derive(Debug)]
pub(crate) struct FunctionSpec {
    pub(crate) name: &'static str,
    pub(crate) function: Function,
    pub(crate) min_args: usize,
    /// `usize::MAX` for any number.
    pub(crate) max_args: usize,
    pub(crate) usage: &'static str,
}

const ANY: usize = usize::MAX;

/// Every scalar function, in the order the user guide lists them.
pub(crate) const FUNCTIONS: &[FunctionSpec] = &[
    spec("lower", Function::Lower, 1, 1, "lower(text)"),
    spec("upper", Function::Upper, 1, 1, "upper(text)"),
    spec("length", Function::Length, 1, 1, "length(text)"),
    spec("trim", Function::Trim, 1, 1, "trim(text)"),
    spec("coalesce", Function::Coalesce, 1, ANY, "coalesce(a, b, ...)"),
    spec("concat", Function::Concat, 1, ANY, "concat(a, b, ...)"),
    spec("substr", Function::Substr, 2, 3, "substr(text, start[, length])"),
    spec("split_part", Function::SplitPart, 3, 3, "split_part(text, delimiter, n)"),
    spec("replace", Function::Replace, 3, 3, "replace(text, from, to)"),
    spec("round", Function::Round, 1, 2, "round(number[, decimals])"),
    spec("abs", Function::Abs, 1, 1, "abs(number)"),
    spec("floor", Function::Floor, 1, 1, "floor(number)"),
    spec("ceil", Function::Ceil, 1, 1, "ceil(number)"),
    spec("date_trunc", Function::DateTrunc, 2, 2, "date_trunc(\"hour\", time)"),
    spec("to_timestamp", Function::ToTimestamp, 1, 1, "to_timestamp(text or seconds)"),
    spec("now", Function::Now, 0, 0, "now()"),
    spec("ago", Function::Ago, 1, 1, "ago(1h)"),
    spec("bin", Function::Bin, 2, 2, "bin(field, 1h) or bin(field, 100)"),
    spec("if", Function::If, 3, 3, "if(condition, then, else)"),
    spec("tonumber", Function::ToNumber, 1, 1, "tonumber(value)"),
    spec("toint", Function::ToInt, 1, 1, "toint(value)"),
    spec("tostring", Function::ToString, 1, 1, "tostring(value)"),
    spec("exists", Function::Exists, 1, 1, "exists(field)"),
    spec("isnull", Function::IsNull, 1, 1, "isnull(field)"),
];

const fn spec(
    name: &'static str,
    function: Function,
    min_args: usize,
    max_args: usize,
    usage: &'static str,
) -> FunctionSpec {
    FunctionSpec { name, function, min_args, max_args, usage }
}

/// Units `date_trunc` accepts.
pub(crate) const DATE_TRUNC_UNITS: &[&str] =
    &["second", "minute", "hour", "day", "week", "month", "quarter", "year"];

/// Returns the scalar function named `name` (case-insensitive).
pub(crate) fn function(name: &str) -> Option<&'static FunctionSpec> {
    FUNCTIONS.iter().find(|spec| spec.name.eq_ignore_ascii_case(name))
}

/// An aggregation of `stats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Aggregate {
    Count,
    DistinctCount,
    Sum,
    Avg,
    Min,
    Max,
    Values,
    Earliest,
    Latest,
}

/// Aggregation names, aliases included, in the order the user guide lists them.
pub(crate) const AGGREGATES: &[(&str, Aggregate)] = &[
    ("count", Aggregate::Count),
    ("dc", Aggregate::DistinctCount),
    ("distinct_count", Aggregate::DistinctCount),
    ("dcount", Aggregate::DistinctCount),
    ("sum", Aggregate::Sum),
    ("avg", Aggregate::Avg),
    ("min", Aggregate::Min),
    ("max", Aggregate::Max),
    ("values", Aggregate::Values),
    ("earliest", Aggregate::Earliest),
    ("latest", Aggregate::Latest),
];

/// Returns the aggregation named `name` (case-insensitive).
pub(crate) fn aggregate(name: &str) -> Option<Aggregate> {
    AGGREGATES.iter().find(|(known, _)| known.eq_ignore_ascii_case(name)).map(|&(_, agg)| agg)
}

impl Aggregate {
    /// Returns the canonical name, used to build default output names (`dc_user.name`).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Count => "count",
            Self::DistinctCount => "dc",
            Self::Sum => "sum",
            Self::Avg => "avg",
            Self::Min => "min",
            Self::Max => "max",
            Self::Values => "values",
            Self::Earliest => "earliest",
            Self::Latest => "latest",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{AGGREGATES, FUNCTIONS, aggregate, function};

    #[test]
    fn names_are_unique_lowercase_and_disjoint() {
        let mut names: Vec<&str> = FUNCTIONS.iter().map(|spec| spec.name).collect();
        names.extend(AGGREGATES.iter().map(|(name, _)| *name));
        for name in &names {
            assert_eq!(*name, name.to_ascii_lowercase());
        }
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count, "a name is both a function and an aggregation");
    }

    #[test]
    fn lookups_ignore_case() {
        assert_eq!(function("LOWER").map(|spec| spec.name), Some("lower"));
        assert!(aggregate("Count").is_some());
        assert!(function("count").is_none());
    }
}
