//! Mistakes analysts make: each error must say what is wrong and point at the right text.

use crate::error;

/// Asserts the message and the text the error points at (`""` for the end of the query).
#[track_caller]
fn check(query: &str, message: &str, at: &str) {
    let error = error(query);
    assert_eq!(error.message(), message, "\n  query: {query}");
    assert_eq!(&query[error.span()], at, "\n  query: {query}\n  message: {message}");
}

/// Asserts that the message starts with `start` and points at `at`.
#[track_caller]
fn check_start(query: &str, start: &str, at: &str) {
    let error = error(query);
    assert!(
        error.message().starts_with(start),
        "\n  query: {query}\n  message: {}\n  expected to start with: {start}",
        error.message()
    );
    assert_eq!(&query[error.span()], at, "\n  query: {query}");
}

#[test]
fn display_gives_line_and_column() {
    let query = "events | stats count() by source.ip, ";
    let error = error(query);
    assert_eq!(
        error.to_string(),
        "expected a field name after `,`, found the end of the query at 1:38"
    );
    assert_eq!((error.line(), error.column(), error.offset()), (1, 38, 37));
    let error = crate::error("events | stats count() by");
    assert_eq!(
        error.to_string(),
        "expected a field name after `by`, found the end of the query at 1:26"
    );
}

#[test]
fn positions_on_later_lines_count_characters() {
    let query = "events\n| where user.name == \"é\" |";
    let error = error(query);
    assert_eq!(error.message(), "a trailing `|` needs a command after it");
    assert_eq!((error.line(), error.column()), (2, 26));
}

#[test]
fn empty_queries_and_stages() {
    check("", "the query is empty", "");
    check("   // nothing\n", "the query is empty", "");
    check("|", "a trailing `|` needs a command after it", "|");
    check("events |", "a trailing `|` needs a command after it", "|");
    check("events | head 5 |", "a trailing `|` needs a command after it", "|");
    check("events | | head", "empty stage: a command is missing before this `|`", "|");
    check("events where x == 1", "expected `|` after `events`, found `where`", "where");
}

#[test]
fn unknown_commands_suggest_the_closest() {
    check("events | whre x == 1", "unknown command `whre`; did you mean `where`?", "whre");
    check("events | STAT count()", "unknown command `stat`; did you mean `stats`?", "STAT");
    check("events | sortt x", "unknown command `sortt`; did you mean `sort`?", "sortt");
    check(
        "events | frobnicate",
        "unknown command `frobnicate`; the commands are where, search, fields, stats, sort, \
         head, top, rare, dedup and eval",
        "frobnicate",
    );
    check("events | 42", "expected a command such as `where` or `stats`, found `42`", "42");
}

#[test]
fn stages_must_be_separated_by_pipes() {
    check(
        "events | head 5 6",
        "expected `|` or the end of the query after the `head` stage, found `6`",
        "6",
    );
    check(
        "events | where a == 1 b == 2",
        "expected `|` or the end of the query after the `where` stage, found `b`",
        "b",
    );
}

#[test]
fn missing_field_names() {
    check(
        "events | fields host.name,",
        "expected a field name after `,`, found the end of the query",
        "",
    );
    check(
        "events | top 5 by host.name",
        "expected a field name after `5`, found the keyword `by` (write `by` in backticks for \
         a field of that name)",
        "by",
    );
    check(
        "events | sort desc",
        "expected a field name after `sort`, found the keyword `desc` (write `desc` in \
         backticks for a field of that name)",
        "desc",
    );
    check("events | dedup", "expected a field name after `dedup`, found the end of the query", "");
    check(
        "events | order host.name",
        "expected `by` after `order`, found `host.name`",
        "host.name",
    );
    check(
        "events | fields - message",
        "removing fields with `-` is not supported: list the fields to keep",
        "-",
    );
}

#[test]
fn expression_syntax() {
    check(
        "events | where",
        "expected a value, a field or `(` after `where`, found the end of the query",
        "",
    );
    check(
        "events | where a == and",
        "expected a value, a field or `(` after `==`, found the keyword `and`",
        "and",
    );
    check("events | where (a == 1", "expected `)` after `1`, found the end of the query", "");
    check("events | where a < b < c", "comparisons cannot be chained; join them with `and`", "<");
    check(
        "events | where a == 1 == 2",
        "comparisons cannot be chained; join them with `and`",
        "==",
    );
    check(
        "events | where a not b",
        "expected `in`, `like`, `matches`, `contains`, `startswith`, `endswith` or `cidr` after \
         `not`",
        "b",
    );
    check("events | where a && b", "unexpected `&&`: write `and` / `or`", "&&");
    check("events | where a || b", "unexpected `||`: write `and` / `or`", "||");
    check("events | where !a", "unexpected `!`: write `not` to negate, or `!=` for not equal", "!");
    check("events | head;", "unexpected `;`: a pipe query needs no `;` at the end", ";");
}

#[test]
fn text_operators_need_strings() {
    check(
        "events | where a contains 5",
        "`contains` needs a quoted string, as in contains \"powershell\"; found `5`",
        "5",
    );
    check_start("events | where a like b", "`like` needs a quoted string", "b");
    check(
        "events | search mimikatz",
        "`search` needs a quoted string, as in search \"mimikatz\"; found `mimikatz`",
        "mimikatz",
    );
}

#[test]
fn in_lists() {
    check(
        "events | where a in 1",
        "`in` takes a list in parentheses, as in in (\"cmd.exe\", \"powershell.exe\")",
        "1",
    );
    check(
        "events | where a in ()",
        "`in` lists hold values (strings, numbers, true or false); found `)`",
        ")",
    );
    check("events | where a in (null)", "`in` cannot test for null; use isnull(field)", "null");
    check(
        "events | where a in (b)",
        "`in` lists hold values (strings, numbers, true or false); found `b`",
        "b",
    );
    check("events | where a in (1 2)", "expected `)` or `,` after `1`, found `2`", "2");
}

#[test]
fn null_only_compares_for_equality() {
    check(
        "events | where a > null",
        "only `==` and `!=` compare with null; or use isnull(field) and exists(field)",
        "null",
    );
}

#[test]
fn strings() {
    check("events | where a == 'abc", "this string is never closed", "'");
    check_start(
        r#"events | where file.path == "C:\Windows""#,
        "unknown escape `\\W` in a string: write `\\\\` for a backslash, or use a verbatim \
         string such as @\"C:\\Windows\"",
        r"\W",
    );
    check(
        "events | where a == \"\\u{zz}\"",
        "invalid unicode escape: write it like \\u{e9}",
        "\\u{zz}",
    );
    check("events | where `a", "this `quoted name` is never closed", "`");
}

#[test]
fn numbers_out_of_range() {
    check(
        "events | head 99999999999999999999",
        "number `99999999999999999999` is out of range (the largest is 9223372036854775807)",
        "99999999999999999999",
    );
    check(
        "events | where @timestamp > ago(36501d)",
        "duration `36501d` is out of range (the longest is 36500d)",
        "36501d",
    );
    check("events | head 0", "`head` needs a count of at least 1", "0");
    check("events | top 0 user.name", "`top` needs a count of at least 1", "0");
    check("events | head -1", "`head` takes a whole number of rows, at least 1", "-");
    check_start("events | where a == 1.2.3", "`1.2.3` is not a number", "1.2.3");
    check(
        "events | where source.ip == 10.0.0.1",
        "`10.0.0.1` is not a number: quote addresses and versions, as in \"10.0.0.1\"",
        "10.0.0.1",
    );
    check_start("events | where a > 5x", "`5x` is not a number or a duration", "5x");
}

#[test]
fn networks_are_checked() {
    check(
        r#"events | where source.ip cidr "10.1.2.3/8""#,
        "`10.1.2.3/8` has host bits set: the network is 10.0.0.0/8",
        "\"10.1.2.3/8\"",
    );
    check(
        r#"events | where source.ip cidr ("10.0.0.0/8", "300.0.0.0/8")"#,
        "`300.0.0.0` is not an IPv4 or IPv6 address",
        "\"300.0.0.0/8\"",
    );
    check(
        r#"events | where source.ip cidr "10.0.0.0""#,
        "`10.0.0.0` is not a network: write it with a prefix length, as in \"10.0.0.0/8\"",
        "\"10.0.0.0\"",
    );
    check(
        r#"events | where source.ip cidr "::/129""#,
        "the prefix length in `::/129` must be 0 to 128",
        "\"::/129\"",
    );
    check_start("events | where source.ip cidr 10", "`cidr` needs a quoted network", "10");
}

#[test]
fn functions() {
    check(
        "events | where lowr(user.name) == 'a'",
        "unknown function `lowr`; did you mean `lower`?",
        "lowr",
    );
    check(
        "events | where frob(user.name) == 'a'",
        "unknown function `frob`; see docs/pipe.md for the list of functions",
        "frob",
    );
    check(
        "events | where count() > 5",
        "`count` is an aggregation: use it in `stats`, as in stats count(...) by host.name",
        "count",
    );
    check(
        "events | eval x = substr(message)",
        "`substr` takes 2 to 3 arguments: substr(text, start[, length])",
        "substr(message)",
    );
    check("events | eval x = now(1)", "`now` takes no arguments: now()", "now(1)");
    check("events | eval x = lower()", "`lower` takes one argument: lower(text)", "lower()");
    check(
        "events | eval x = concat()",
        "`concat` takes at least 1 argument: concat(a, b, ...)",
        "concat()",
    );
    check("events | where @timestamp > ago(5)", "`ago` takes a duration, as in ago(1h)", "5");
    check(
        "events | stats count() by bin(@timestamp, 0s)",
        "`bin` takes a size: a duration such as 1h, or a positive whole number",
        "0s",
    );
    check(
        "events | eval d = date_trunc('fortnight', @timestamp)",
        "`date_trunc` takes a unit first, one of second, minute, hour, day, week, month, \
         quarter, year",
        "'fortnight'",
    );
}

#[test]
fn aggregations() {
    check("events | stats cnt()", "unknown aggregation `cnt`; did you mean `count`?", "cnt");
    check(
        "events | stats lower(user.name)",
        "`lower` is not an aggregation; the aggregations are count, dc, sum, avg, min, max, \
         values, earliest and latest",
        "lower",
    );
    check(
        "events | stats",
        "expected an aggregation such as count() after `stats`, found the end of the query",
        "",
    );
    check("events | stats count", "expected `(` after `count`, found the end of the query", "");
    check("events | stats sum()", "`sum` takes one argument, as in sum(bytes)", "sum()");
    check(
        "events | stats count() as n, count() as n",
        "two output fields would be named `n`; rename one with `as`",
        "n",
    );
    check(
        "events | stats count() by count",
        "two output fields would be named `count`; rename one with `as`",
        "count()",
    );
    check(
        "events | stats sum(bytes * 8)",
        "name this aggregation with `as`, as in sum(...) as sum_value",
        "sum(bytes * 8)",
    );
    check(
        "events | stats count() by lower(user.name)",
        "name this `by` expression with `as`, as in by lower(user.name) as user",
        "lower(user.name)",
    );
    check(
        "events | stats n = count() as m",
        "name an aggregation once, with `as` or with `=`",
        "m",
    );
}

#[test]
fn names_dropped_by_stats() {
    check(
        "events | stats count() by source.ip | where user.name == 'x'",
        "`user.name` is not available after `stats`, which returns only `source.ip`, `count`",
        "user.name",
    );
    check(
        "events | top 5 user.name | sort @timestamp",
        "`@timestamp` is not available after `top`, which returns only `user.name`, `count`",
        "@timestamp",
    );
    check(
        "events | stats count() by host.name | search \"x\"",
        "`search` looks in `event.original` and `message`, and neither is available here",
        "search",
    );
    check(
        "events | stats count() by host.name | stats latest(host.name)",
        "`latest` orders values by `@timestamp`, which is not available here",
        "latest(host.name)",
    );
}

#[test]
fn names_dropped_by_fields() {
    check(
        "events | fields user.name, host.name | where source.ip == '1.2.3.4'",
        "`source.ip` was dropped by `fields`, which kept only `user.name`, `host.name`",
        "source.ip",
    );
    check(
        "events | fields user.name | fields host.name",
        "`host.name` was dropped by `fields`, which kept only `user.name`",
        "host.name",
    );
    check("events | fields a, b, a", "`a` is listed twice", "a");
}

#[test]
fn eval_mistakes() {
    check("events | eval x == 1", "use `=` to assign in `eval`, not `==`", "==");
    check("events | eval x", "expected `=` after `x`, found the end of the query", "");
    check(
        "events | eval _source = 1",
        "`_source` holds the event's other fields and cannot be replaced",
        "_source",
    );
    check(
        "events | sort @timestamp | eval @timestamp = now()",
        "`eval` cannot replace `@timestamp`: the rows are sorted by it; give the new value \
         another name",
        "@timestamp",
    );
}

#[test]
fn top_mistakes() {
    check(
        "events | top count",
        "`top` names its count column `count`; rename this field first, as in eval n = count",
        "count",
    );
    check("events | rare a by a", "`a` is listed twice", "a");
}

#[test]
fn nesting_is_capped() {
    let query = format!("events | where {}a == 1{}", "(".repeat(40), ")".repeat(40));
    let error = error(&query);
    assert!(error.message().starts_with("the expression nests too deeply"), "{error}");
    let query = format!("events | where {}a", "not ".repeat(40));
    assert!(error_message(&query).starts_with("the expression nests too deeply"));
    let query = format!("events | eval x = {}1", "-".repeat(40));
    assert!(error_message(&query).starts_with("the expression nests too deeply"));
    let query = format!("events | eval x = {}1{}", "lower(".repeat(40), ")".repeat(40));
    assert!(error_message(&query).starts_with("the expression nests too deeply"));
}

#[test]
fn long_runs_and_long_pipelines_are_capped() {
    let terms: Vec<String> = (0..300).map(|n| format!("a == {n}")).collect();
    let query = format!("events | where {}", terms.join(" or "));
    assert_eq!(
        error_message(&query),
        "more than 256 operands in a row; to test many values use `in (...)`"
    );
    let query = format!("events{}", " | head 5".repeat(40));
    let error = error(&query);
    assert_eq!(
        error.message(),
        "a query has at most 32 stages; split the hunt into several queries"
    );
    assert_eq!(error.offset(), "events".len() + 32 * " | head 5".len() + 3);
}

fn error_message(query: &str) -> String {
    error(query).message().to_owned()
}
