//! The golden hunts of tests/golden/hunts.txt: each query must compile to exactly the SQL
//! written under it, and that SQL must parse as one query in DataFusion's dialect.
//! `PIPE_BLESS=1 cargo test -p palisade-pipe --test it golden` rewrites the expected SQL.

use std::path::PathBuf;

use sqlparser::ast::Statement;

struct Case {
    comments: Vec<String>,
    query: String,
    expected: Option<String>,
}

fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/hunts.txt")
}

fn read_cases(text: &str) -> (Vec<String>, Vec<Case>) {
    let mut header = Vec::new();
    let mut cases = Vec::new();
    for block in text.split("\n\n").map(str::trim).filter(|block| !block.is_empty()) {
        let lines: Vec<&str> = block.lines().collect();
        let Some(separator) = lines.iter().position(|line| *line == "----") else {
            assert!(
                lines.iter().all(|line| line.starts_with('#')),
                "a block without `----`: {block}"
            );
            header.extend(lines.iter().map(|line| (*line).to_owned()));
            continue;
        };
        let comments: Vec<String> = lines[..separator]
            .iter()
            .take_while(|line| line.starts_with('#'))
            .map(|line| (*line).to_owned())
            .collect();
        let query = lines[comments.len()..separator].join("\n");
        assert!(!query.is_empty(), "a block without a query: {block}");
        let expected = lines.get(separator + 1).map(|line| (*line).to_owned());
        assert!(lines.len() <= separator + 2, "expected SQL is one line: {block}");
        cases.push(Case { comments, query, expected });
    }
    (header, cases)
}

#[test]
fn golden_hunts_compile_to_the_expected_sql() {
    let text = fs_read(&path());
    let (header, mut cases) = read_cases(&text);
    assert!(cases.len() >= 25, "the golden file should hold at least 25 hunts");
    let bless = std::env::var_os("PIPE_BLESS").is_some();
    let mut failures = Vec::new();
    for case in &mut cases {
        let actual = crate::sql(&case.query);
        let statements = crate::parse_sql(&actual).unwrap_or_else(|error| {
            panic!("{}\n  SQL does not parse: {error}\n  {actual}", case.query)
        });
        assert!(
            matches!(statements.as_slice(), [Statement::Query(_)]),
            "{}\n  is not exactly one query: {actual}",
            case.query
        );
        if case.expected.as_deref() != Some(actual.as_str()) {
            failures.push(format!(
                "{}\n  expected: {}\n  actual:   {actual}",
                case.query,
                case.expected.as_deref().unwrap_or("(nothing)")
            ));
            case.expected = Some(actual);
        }
    }
    if bless {
        let mut out = header.join("\n");
        for case in &cases {
            out.push_str("\n\n");
            for comment in &case.comments {
                out.push_str(comment);
                out.push('\n');
            }
            out.push_str(&case.query);
            out.push_str("\n----\n");
            out.push_str(case.expected.as_deref().unwrap_or_default());
        }
        out.push('\n');
        std::fs::write(path(), out).unwrap();
        return;
    }
    assert!(failures.is_empty(), "{} golden mismatches:\n{}", failures.len(), failures.join("\n"));
}

fn fs_read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// Every example of the user guide (docs/pipe.md) compiles: code blocks without a language
/// hold one or more queries, each starting on a line that starts with `events`.
#[test]
fn user_guide_examples_compile() {
    let guide = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/pipe.md");
    let text = fs_read(&guide);
    let mut in_block = false;
    let mut queries: Vec<String> = Vec::new();
    // Whether the last query started in the current block (syntax lines such as
    // `stats AGGREGATION ...` stand in blocks of their own and are skipped).
    let mut continuing = false;
    for line in text.lines() {
        if line.starts_with("```") {
            in_block = !in_block && line == "```";
            continuing = false;
            continue;
        }
        if !in_block {
            continue;
        }
        if line.starts_with("events") {
            queries.push(line.to_owned());
            continuing = true;
        } else if continuing && let Some(query) = queries.last_mut() {
            query.push('\n');
            query.push_str(line);
        }
    }
    assert!(queries.len() >= 20, "found only {} examples", queries.len());
    for query in &queries {
        let sql = crate::sql(query);
        crate::parse_sql(&sql).unwrap_or_else(|error| panic!("{query}\n  {error}\n  {sql}"));
    }
}
