//! Properties: no input panics; every accepted query becomes exactly one SQL query that
//! DataFusion's parser reads; generated well-formed pipelines always compile; user text comes
//! back unchanged from the SQL's literals and identifiers; the SQL groups operators exactly as
//! the pipe query does; the deepest accepted expression stays under the SQL parser's limit.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use sqlparser::ast::{Expr, SetExpr, Statement, UnaryOperator};
use sqlparser::dialect::GenericDialect;
use sqlparser::tokenizer::{Token, Tokenizer};

use crate::{is_column, parse_sql};

/// Runs `test` on a thread with a large stack. sqlparser recurses with big frames in debug
/// builds and can overflow a 2 MiB test thread before its own recursion limit (50) stops it;
/// the limit, not the test thread's stack, is what the checks here are about.
fn on_big_stack(test: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(test)
        .expect("spawning a test thread")
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
}

/// Asserts that `sql` is exactly one query for DataFusion's parser.
fn assert_one_query(query: &str, sql: &str) -> Result<(), TestCaseError> {
    let statements = parse_sql(sql)
        .map_err(|error| TestCaseError::fail(format!("{query}\n  {error}\n  {sql}")))?;
    prop_assert!(
        matches!(statements.as_slice(), [Statement::Query(_)]),
        "{query}\n  not one query: {sql}"
    );
    Ok(())
}

proptest! {
    #![proptest_config(Config { cases: 2000, ..Config::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        let _ = palisade_pipe::compile(&text, &is_column);
        let _ = palisade_pipe::looks_like_pipe(&text);
    }
}

const SOUP: &[&str] = &[
    "events",
    "|",
    "|",
    "where",
    "stats",
    "by",
    "as",
    "sort",
    "desc",
    "head",
    "top",
    "rare",
    "dedup",
    "eval",
    "fields",
    "search",
    "order",
    "count()",
    "dc(",
    "sum(",
    "earliest(",
    "(",
    ")",
    ")",
    ",",
    "==",
    "=",
    "!=",
    "<",
    ">=",
    "and",
    "or",
    "not",
    "in",
    "like",
    "matches",
    "contains",
    "cidr",
    "\"10.0.0.0/8\"",
    "\"x\"",
    "'y'",
    "`odd name`",
    "1",
    "-",
    "2.5",
    "1h",
    "ago(",
    "bin(",
    "lower(",
    "if(",
    "exists(",
    "null",
    "true",
    "+",
    "*",
    "/",
    "%",
    "user.name",
    "source.ip",
    "@timestamp",
    "bytes",
    "count",
    "x",
    "\"",
    "`",
    "//",
    "\n",
];

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(SOUP), 0..40).prop_map(|words| words.join(" "))
}

#[test]
fn token_soup_never_panics_and_accepted_soup_is_valid_sql() {
    on_big_stack(|| {
        let mut runner = TestRunner::new(Config { cases: 4000, ..Config::default() });
        runner
            .run(&soup(), |query| {
                let _ = palisade_pipe::looks_like_pipe(&query);
                if let Ok(sql) = palisade_pipe::compile(&query, &is_column) {
                    assert_one_query(&query, &sql)?;
                }
                Ok(())
            })
            .unwrap();
    });
}

// ----- well-formed pipelines -----

/// Draws choices from a list of numbers, so proptest can generate and shrink pipelines.
struct Choices<'a> {
    numbers: &'a [u32],
    at: usize,
}

impl Choices<'_> {
    fn pick(&mut self, n: usize) -> usize {
        let number = self.numbers.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        number as usize % n
    }

    fn one<'b>(&mut self, items: &'b [String]) -> &'b String {
        &items[self.pick(items.len())]
    }
}

const TEXTS: &[&str] =
    &[r#""a""#, r#""it's""#, r#""say \"hi\"""#, r#"@"C:\Temp\""#, "'é'", r#""%x%""#];

fn value(choices: &mut Choices<'_>) -> String {
    match choices.pick(4) {
        0 => TEXTS[choices.pick(TEXTS.len())].to_owned(),
        1 => format!("{}", choices.pick(70_000)),
        2 => format!("-{}.5", choices.pick(100)),
        _ => "true".to_owned(),
    }
}

fn term(choices: &mut Choices<'_>, fields: &[String], depth: usize) -> String {
    let field = choices.one(fields).clone();
    if depth == 0 {
        return if choices.pick(3) == 0 { value(choices) } else { field };
    }
    match choices.pick(9) {
        0 => {
            format!("({} + {})", term(choices, fields, depth - 1), term(choices, fields, depth - 1))
        }
        1 => format!("{} * -{}", term(choices, fields, depth - 1), choices.pick(9)),
        2 => format!("{} / {}", term(choices, fields, depth - 1), term(choices, fields, depth - 1)),
        3 => format!("lower({field})"),
        4 => format!("coalesce({field}, \"none\")"),
        5 => format!("if({}, 1, 0)", condition(choices, fields, depth - 1)),
        6 => format!("round({}, 2)", term(choices, fields, depth - 1)),
        7 => format!("length(tostring({field}))"),
        _ => field,
    }
}

fn condition(choices: &mut Choices<'_>, fields: &[String], depth: usize) -> String {
    let field = choices.one(fields).clone();
    let ops = ["==", "!=", "<", "<=", ">", ">="];
    let text_ops = ["contains", "like", "matches", "startswith", "endswith", "not contains"];
    if depth == 0 {
        return format!("{field} == {}", value(choices));
    }
    match choices.pick(11) {
        0 => format!("{field} {} {}", ops[choices.pick(ops.len())], value(choices)),
        1 => format!("{} > {}", term(choices, fields, depth - 1), term(choices, fields, depth - 1)),
        2 => format!("{field} in ({}, {})", value(choices), value(choices)),
        3 => format!("{field} not in (1, 2)"),
        4 => format!(
            "{field} {} {}",
            text_ops[choices.pick(text_ops.len())],
            TEXTS[choices.pick(TEXTS.len())]
        ),
        5 => format!("{field} cidr (\"10.0.0.0/8\", \"fd00::/8\")"),
        6 => format!("exists({field}) or isnull({field})"),
        7 => format!("not ({})", condition(choices, fields, depth - 1)),
        8 => format!(
            "({}) and ({})",
            condition(choices, fields, depth - 1),
            condition(choices, fields, depth - 1)
        ),
        9 => format!("{field} == null"),
        _ => format!(
            "{} or {}",
            condition(choices, fields, depth - 1),
            condition(choices, fields, depth - 1)
        ),
    }
}

fn distinct(choices: &mut Choices<'_>, fields: &[String], most: usize) -> Vec<String> {
    let mut picked: Vec<String> = Vec::new();
    for _ in 0..=choices.pick(most) {
        let field = choices.one(fields).clone();
        if !picked.contains(&field) {
            picked.push(field);
        }
    }
    picked
}

/// Builds a pipeline that is valid by construction: every stage only names fields that the
/// stages before it leave available.
fn pipeline(numbers: &[u32]) -> String {
    let mut choices = Choices { numbers, at: 0 };
    let mut fields: Vec<String> = [
        "source.ip",
        "user.name",
        "@timestamp",
        "host.name",
        "source.port",
        "winlog.event_id",
        "bytes",
        "message",
        "event.original",
        "`odd name`",
        "`it\"s`",
    ]
    .iter()
    .map(|name| (*name).to_owned())
    .collect();
    let mut query = String::from("events");
    for stage in 0..=choices.pick(7) {
        let text = match choices.pick(11) {
            0 | 1 => format!("where {}", condition(&mut choices, &fields, 3)),
            2 if fields.iter().any(|f| f == "message" || f == "event.original") => {
                format!("search {}", TEXTS[choices.pick(TEXTS.len())])
            }
            3 => {
                let name = format!("e{stage}");
                let text = format!("eval {name} = {}", term(&mut choices, &fields, 2));
                fields.push(name.clone());
                let second = format!("f{stage}");
                let text = format!("{text}, {second} = {name} + 1");
                fields.push(second);
                text
            }
            4 => {
                let keys = distinct(&mut choices, &fields, 2);
                let keys: Vec<String> = keys
                    .into_iter()
                    .map(|key| if choices.pick(2) == 0 { format!("{key} desc") } else { key })
                    .collect();
                format!("sort {}", keys.join(", "))
            }
            5 => format!("head {}", 1 + choices.pick(100)),
            6 => format!("dedup {}", distinct(&mut choices, &fields, 2).join(", ")),
            7 => {
                fields = distinct(&mut choices, &fields, 3);
                format!("fields {}", fields.join(", "))
            }
            8 => {
                let by = choices.one(&fields).clone();
                let measured = choices.one(&fields).clone();
                let mut aggregations = vec![
                    format!("count() as c{stage}"),
                    format!("dc({measured}) as d{stage}"),
                    format!("sum({measured}) as s{stage}"),
                ];
                let mut outputs =
                    vec![format!("c{stage}"), format!("d{stage}"), format!("s{stage}")];
                if fields.iter().any(|f| f == "@timestamp") {
                    aggregations.push(format!("latest({measured}) as l{stage}"));
                    outputs.push(format!("l{stage}"));
                }
                let (by_text, by_name) = if by == "@timestamp" && choices.pick(2) == 0 {
                    ("bin(@timestamp, 1h)".to_owned(), by.clone())
                } else {
                    (by.clone(), by.clone())
                };
                fields = std::iter::once(by_name).chain(outputs).collect();
                format!("stats {} by {by_text}", aggregations.join(", "))
            }
            _ => {
                let candidates: Vec<String> =
                    fields.iter().filter(|f| *f != "count").cloned().collect();
                if candidates.len() < 2 {
                    "head".to_owned()
                } else {
                    let picked = distinct(&mut choices, &candidates, 1);
                    let command = if choices.pick(2) == 0 { "top" } else { "rare" };
                    let by = candidates.iter().find(|f| !picked.contains(f)).cloned();
                    let mut text =
                        format!("{command} {} {}", 1 + choices.pick(20), picked.join(", "));
                    let mut next: Vec<String> = Vec::new();
                    if let Some(by) = by.filter(|_| choices.pick(2) == 0) {
                        text.push_str(&format!(" by {by}"));
                        next.push(by);
                    }
                    next.extend(picked);
                    next.push("count".to_owned());
                    fields = next;
                    text
                }
            }
        };
        query.push_str(" | ");
        query.push_str(&text);
    }
    query
}

#[test]
fn well_formed_pipelines_always_compile_to_one_query() {
    on_big_stack(|| {
        let mut runner = TestRunner::new(Config { cases: 3000, ..Config::default() });
        let numbers = prop::collection::vec(any::<u32>(), 0..200);
        runner
            .run(&numbers, |numbers| {
                let query = pipeline(&numbers);
                prop_assert!(palisade_pipe::looks_like_pipe(&query));
                let sql = palisade_pipe::compile(&query, &is_column)
                    .map_err(|error| TestCaseError::fail(format!("{query}\n  {error}")))?;
                assert_one_query(&query, &sql)
            })
            .unwrap();
    });
}

// ----- quoting -----

fn sql_tokens(sql: &str) -> Vec<Token> {
    Tokenizer::new(&GenericDialect {}, sql).tokenize().expect("the emitted SQL tokenizes")
}

fn string_literals(sql: &str) -> Vec<String> {
    sql_tokens(sql)
        .into_iter()
        .filter_map(|token| match token {
            Token::SingleQuotedString(text) => Some(text),
            _ => None,
        })
        .collect()
}

fn quoted_identifiers(sql: &str) -> Vec<String> {
    sql_tokens(sql)
        .into_iter()
        .filter_map(|token| match token {
            Token::Word(word) if word.quote_style == Some('"') => Some(word.value),
            _ => None,
        })
        .collect()
}

fn no_nul() -> impl Strategy<Value = String> {
    any::<String>().prop_map(|text| text.replace('\0', ""))
}

proptest! {
    #![proptest_config(Config { cases: 2000, ..Config::default() })]

    #[test]
    fn string_literals_come_back_unchanged(text in no_nul()) {
        let escaped = text.replace('\\', "\\\\").replace('"', "\\\"");
        let query = format!("events | where message == \"{escaped}\" or message contains \"{escaped}\"");
        let sql = palisade_pipe::compile(&query, &is_column).unwrap();
        assert_one_query(&query, &sql)?;
        let literals = string_literals(&sql);
        prop_assert_eq!(literals, vec![text.clone(), text]);
    }

    #[test]
    fn verbatim_strings_come_back_unchanged(text in no_nul()) {
        let text = text.replace('"', "");
        let query = format!("events | where message == @\"{text}\"");
        let sql = palisade_pipe::compile(&query, &is_column).unwrap();
        prop_assert_eq!(string_literals(&sql), vec![text]);
    }

    #[test]
    fn column_names_come_back_unchanged(name in no_nul().prop_filter("a name", |n| !n.is_empty())) {
        let quoted = name.replace('`', "``");
        let query = format!("events | where `{quoted}` == 'x' | fields `{quoted}`");
        let sql = palisade_pipe::compile(&query, &|_| true).unwrap();
        assert_one_query(&query, &sql)?;
        prop_assert_eq!(quoted_identifiers(&sql), vec![name.clone(), "events".to_owned(), name]);
        prop_assert_eq!(string_literals(&sql), vec!["x".to_owned()]);
    }

    #[test]
    fn source_field_names_come_back_unchanged(name in no_nul().prop_filter("a name", |n| !n.is_empty())) {
        let quoted = name.replace('`', "``");
        let query = format!("events | where `{quoted}` == 'x' | fields `{quoted}`");
        let sql = palisade_pipe::compile(&query, &|column| column == "_source").unwrap();
        assert_one_query(&query, &sql)?;
        // Projection: source_field("_source", 'name') AS "name"; filter: source_field(...) = 'x'.
        prop_assert_eq!(
            quoted_identifiers(&sql),
            vec!["_source".to_owned(), name.clone(), "events".to_owned(), "_source".to_owned()]
        );
        prop_assert_eq!(string_literals(&sql), vec![name.clone(), name, "x".to_owned()]);
    }
}

// ----- precedence -----

#[derive(Debug, Clone)]
enum Tree {
    Field(&'static str),
    Int(i64),
    Not(Box<Tree>),
    Neg(Box<Tree>),
    Binary(&'static str, Box<Tree>, Box<Tree>),
}

/// `(pipe operator, SQL operator, precedence)`, loosest first.
const OPERATORS: &[(&str, &str, u8)] = &[
    ("or", "OR", 1),
    ("and", "AND", 2),
    ("==", "=", 4),
    ("!=", "<>", 4),
    ("<", "<", 4),
    ("<=", "<=", 4),
    (">", ">", 4),
    (">=", ">=", 4),
    ("+", "+", 5),
    ("-", "-", 5),
    ("*", "*", 6),
    ("/", "/", 6),
    ("%", "%", 6),
];

fn operator(pipe: &str) -> (&'static str, &'static str, u8) {
    *OPERATORS.iter().find(|(name, _, _)| *name == pipe).expect("a known operator")
}

fn tree() -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![
        prop::sample::select(&["source.port", "destination.port", "process.pid", "user.name"][..])
            .prop_map(Tree::Field),
        // Not 0: `-0` and `0` are the same number, so the s-expressions could not tell them apart.
        (1i64..20, any::<bool>()).prop_map(|(n, negative)| Tree::Int(if negative {
            -n
        } else {
            n
        })),
    ];
    leaf.prop_recursive(6, 48, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(|t| Tree::Not(Box::new(t))),
            inner.clone().prop_map(|t| Tree::Neg(Box::new(t))),
            (prop::sample::select(OPERATORS), inner.clone(), inner)
                .prop_map(|((op, _, _), l, r)| { Tree::Binary(op, Box::new(l), Box::new(r)) }),
        ]
    })
}

fn tree_prec(tree: &Tree) -> u8 {
    match tree {
        Tree::Field(_) => 8,
        Tree::Int(n) if *n < 0 => 7,
        Tree::Int(_) => 8,
        Tree::Not(_) => 3,
        Tree::Neg(_) => 7,
        Tree::Binary(op, ..) => operator(op).2,
    }
}

/// Writes the tree as pipe text with only the parentheses the documented precedence needs.
fn render(tree: &Tree, min: u8) -> String {
    let text = match tree {
        Tree::Field(name) => (*name).to_owned(),
        Tree::Int(n) => n.to_string(),
        Tree::Not(inner) => format!("not {}", render(inner, 3)),
        Tree::Neg(inner) => format!("- {}", render(inner, 7)),
        Tree::Binary(op, left, right) => {
            let prec = operator(op).2;
            // Comparisons do not chain: both sides must bind tighter.
            let left_min = if prec == 4 { 5 } else { prec };
            format!("{} {op} {}", render(left, left_min), render(right, prec + 1))
        }
    };
    if tree_prec(tree) < min { format!("({text})") } else { text }
}

fn is_number(text: &str) -> bool {
    text.parse::<f64>().is_ok()
}

/// The tree as an s-expression, with the SQL operator names.
fn tree_canon(tree: &Tree) -> String {
    match tree {
        Tree::Field(name) => (*name).to_owned(),
        Tree::Int(n) => n.to_string(),
        Tree::Not(inner) => format!("(not {})", tree_canon(inner)),
        Tree::Neg(inner) => {
            let inner = tree_canon(inner);
            if is_number(&inner) { format!("-{inner}") } else { format!("(neg {inner})") }
        }
        Tree::Binary(op, left, right) => {
            format!("({} {} {})", operator(op).1, tree_canon(left), tree_canon(right))
        }
    }
}

/// The parsed SQL as an s-expression: parentheses dropped, the compiler's CASTs for exact
/// division dropped, `5.0` read as `5`.
fn sql_canon(expr: &Expr) -> String {
    match expr {
        Expr::Nested(inner) | Expr::Cast { expr: inner, .. } => sql_canon(inner),
        Expr::BinaryOp { left, op, right } => {
            format!("({op} {} {})", sql_canon(left), sql_canon(right))
        }
        Expr::UnaryOp { op: UnaryOperator::Not, expr } => format!("(not {})", sql_canon(expr)),
        Expr::UnaryOp { op: UnaryOperator::Minus, expr } => {
            let inner = sql_canon(expr);
            if is_number(&inner) { format!("-{inner}") } else { format!("(neg {inner})") }
        }
        Expr::Identifier(ident) => ident.value.clone(),
        other => {
            let text = other.to_string();
            text.strip_suffix(".0").map(str::to_owned).unwrap_or(text)
        }
    }
}

#[test]
fn sql_groups_operators_like_the_pipe_query() {
    on_big_stack(|| {
        let mut runner = TestRunner::new(Config { cases: 3000, ..Config::default() });
        runner
            .run(&tree(), |tree| {
                let query = format!("events | where {}", render(&tree, 0));
                let sql = match palisade_pipe::compile(&query, &is_column) {
                    Ok(sql) => sql,
                    // Comparing with a literal null is refused; nothing else may fail.
                    Err(error) => return Err(TestCaseError::fail(format!("{query}\n  {error}"))),
                };
                let statements = parse_sql(&sql).map_err(TestCaseError::fail)?;
                let [Statement::Query(parsed)] = statements.as_slice() else {
                    return Err(TestCaseError::fail(format!("not one query: {sql}")));
                };
                let SetExpr::Select(select) = parsed.body.as_ref() else {
                    return Err(TestCaseError::fail(format!("not a SELECT: {sql}")));
                };
                let condition = select.selection.as_ref().unwrap();
                prop_assert_eq!(sql_canon(condition), tree_canon(&tree), "\n{}\n{}", query, sql);
                Ok(())
            })
            .unwrap();
    });
}

// ----- depth -----

const WRAPPERS: &[(&str, &str)] = &[
    ("not ", ""),
    ("- ", ""),
    ("(", ")"),
    ("lower(", ")"),
    ("if(", ", 1, 2)"),
    ("if(true, ", ", 2)"),
    ("tonumber(", ")"),
    ("coalesce(", ", 1)"),
    ("exists(", ")"),
    ("bin(", ", 10)"),
    ("(1 - ", ")"),
    ("(1 / ", ")"),
    ("round(", ", 2)"),
    ("not (", ")"),
    ("substr(", ", 1)"),
    ("((", ") contains \"x\")"),
    ("((", ") cidr (\"10.0.0.0/8\", \"::/0\"))"),
    ("((", ") in (1, 2))"),
    ("(bytes * ", ")"),
];

const LEAVES: &[&str] = &["bytes", "x contains \"a\"", "ago(1h)", "(a == 1 or b == 2)", "-bytes"];

const CONTEXTS: &[&str] = &[
    "events | where {}",
    "events | where not (a == 1 and ({}) == 1)",
    "events | stats count() by a, b, x, bytes | eval z = {} | where z == 1 | sort z desc",
    "events | eval y = 1 | eval z = y + ({}) | stats sum(z) as s, count() as c by y",
    "events | top 3 a, x, bytes by b | where count > ({})",
    "events | stats count() as n by if({}, 1, 2) as k",
];

#[test]
fn the_deepest_accepted_expressions_stay_within_the_sql_parser_limit() {
    on_big_stack(|| {
        let mut runner = TestRunner::new(Config { cases: 1500, ..Config::default() });
        let shape = (
            prop::collection::vec(prop::sample::select(WRAPPERS), 1..40),
            prop::sample::select(LEAVES),
            prop::sample::select(CONTEXTS),
        );
        let mut accepted_at_cap = 0;
        runner
            .run(&shape, |(wrappers, leaf, context)| {
                let mut expr = leaf.to_owned();
                for (open, close) in &wrappers {
                    // `not` binds looser than arithmetic: `- not x` needs `- (not x)`.
                    let arithmetic =
                        open.ends_with("- ") || open.ends_with("* ") || open.ends_with("/ ");
                    if arithmetic && expr.starts_with("not ") {
                        expr = format!("({expr})");
                    }
                    expr = format!("{open}{expr}{close}");
                }
                let query = context.replace("{}", &expr);
                match palisade_pipe::compile(&query, &is_column) {
                    Ok(sql) => {
                        // Accepted queries must never hit the SQL parser's recursion limit:
                        // past it, sqlparser also backtracks for a very long time.
                        let started = std::time::Instant::now();
                        assert_one_query(&query, &sql)?;
                        prop_assert!(started.elapsed().as_secs() < 2, "slow parse: {}", sql);
                    }
                    Err(error) => {
                        prop_assert!(
                            error.message().starts_with("the expression nests too deeply"),
                            "{query}\n  {error}"
                        );
                    }
                }
                Ok(())
            })
            .unwrap();
        // The walk above must also reach the cap itself, not only shallow cases.
        for (open, close) in WRAPPERS {
            for depth in 1.. {
                let expr = format!("{}bytes{}", open.repeat(depth), close.repeat(depth));
                let query = CONTEXTS[2].replace("{}", &expr);
                match palisade_pipe::compile(&query, &is_column) {
                    Ok(sql) => parse_sql(&sql).map(drop).unwrap_or_else(|e| panic!("{e}\n{sql}")),
                    Err(error) => {
                        assert!(error.message().starts_with("the expression nests too deeply"));
                        accepted_at_cap += 1;
                        break;
                    }
                }
            }
        }
        assert_eq!(accepted_at_cap, WRAPPERS.len());
    });
}
