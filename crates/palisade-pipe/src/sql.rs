//! SQL text building blocks: quoting, precedence-aware parentheses, and one `SELECT`.
//!
//! Every name goes out as a double-quoted identifier (`"` doubled inside) and every text as a
//! single-quoted literal (`'` doubled inside). DataFusion's default (generic) dialect gives
//! backslashes no meaning inside either, so these two rules are the whole escaping story and
//! user text can never end a literal early.

/// Precedence classes of emitted SQL, loosest first. An operand whose class is lower than
/// its context requires is put in parentheses.
pub(crate) mod prec {
    pub(crate) const OR: u8 = 1;
    pub(crate) const AND: u8 = 2;
    pub(crate) const NOT: u8 = 3;
    /// Comparisons, `IS [NOT] NULL`, `IN`, `LIKE`, `~`.
    pub(crate) const CMP: u8 = 4;
    pub(crate) const ADD: u8 = 5;
    pub(crate) const MUL: u8 = 6;
    /// Unary minus and negative number literals.
    pub(crate) const NEG: u8 = 7;
    /// Names, literals, function calls, `CASE`, `CAST`, parenthesised text.
    pub(crate) const ATOM: u8 = 8;
}

/// A piece of SQL and its precedence class.
#[derive(Debug, Clone)]
pub(crate) struct Sql {
    pub(crate) text: String,
    pub(crate) prec: u8,
}

impl Sql {
    pub(crate) fn new(text: impl Into<String>, prec: u8) -> Self {
        Self { text: text.into(), prec }
    }

    pub(crate) fn atom(text: impl Into<String>) -> Self {
        Self::new(text, prec::ATOM)
    }

    /// Returns the text, parenthesised when its class is below `min`.
    pub(crate) fn at_least(&self, min: u8) -> String {
        if self.prec < min { format!("({})", self.text) } else { self.text.clone() }
    }
}

/// Returns `name` as a double-quoted SQL identifier.
pub(crate) fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Returns `text` as a single-quoted SQL string literal.
pub(crate) fn string(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Returns a SQL interval literal of `seconds`.
pub(crate) fn interval(seconds: i64) -> String {
    format!("INTERVAL '{seconds} seconds'")
}

/// One `SELECT` being built. A stage either merges into the current one (when that cannot
/// change the meaning) or closes it into a CTE and starts a new one over it.
#[derive(Debug, Clone)]
pub(crate) struct Select {
    pub(crate) distinct_on: Vec<String>,
    /// `*` (with `exclude` and `items` appended) or exactly `items`.
    pub(crate) star: bool,
    /// Names removed from `*` because `items` replaces them.
    pub(crate) exclude: Vec<String>,
    /// `(sql, output name)`.
    pub(crate) items: Vec<(String, String)>,
    pub(crate) from: String,
    /// ANDed together (parenthesised as needed when there are several).
    pub(crate) filters: Vec<Sql>,
    pub(crate) group_by: Vec<String>,
    pub(crate) order_by: Vec<String>,
    pub(crate) limit: Option<i64>,
    /// The command that produced an explicit list of columns, for messages.
    pub(crate) made_by: &'static str,
}

impl Select {
    pub(crate) fn new(from: String) -> Self {
        Self {
            distinct_on: Vec::new(),
            star: true,
            exclude: Vec::new(),
            items: Vec::new(),
            from,
            filters: Vec::new(),
            group_by: Vec::new(),
            order_by: Vec::new(),
            limit: None,
            made_by: "",
        }
    }

    /// True for `SELECT * FROM x [WHERE ...] [ORDER BY ... LIMIT n]`.
    pub(crate) fn is_plain(&self) -> bool {
        self.star && self.items.is_empty() && self.exclude.is_empty() && self.is_row_wise()
    }

    /// True when rows are neither grouped nor de-duplicated.
    pub(crate) fn is_row_wise(&self) -> bool {
        self.group_by.is_empty() && self.distinct_on.is_empty()
    }

    /// True when this `SELECT` computes `name` itself (an `eval`), so that the name means
    /// something else in its own `WHERE`/`ORDER BY` than in its output.
    pub(crate) fn defines(&self, name: &str) -> bool {
        self.star && self.items.iter().any(|(_, item)| item == name)
    }

    pub(crate) fn render(&self) -> String {
        let mut sql = String::from("SELECT ");
        if !self.distinct_on.is_empty() {
            sql.push_str("DISTINCT ON (");
            sql.push_str(&self.distinct_on.join(", "));
            sql.push_str(") ");
        }
        let mut items: Vec<String> = Vec::new();
        if self.star {
            if self.exclude.is_empty() {
                items.push("*".to_owned());
            } else {
                let excluded: Vec<String> = self.exclude.iter().map(|name| ident(name)).collect();
                items.push(format!("* EXCLUDE ({})", excluded.join(", ")));
            }
        }
        for (expr, name) in &self.items {
            let quoted = ident(name);
            if *expr == quoted {
                items.push(quoted);
            } else {
                items.push(format!("{expr} AS {quoted}"));
            }
        }
        sql.push_str(&items.join(", "));
        sql.push_str(" FROM ");
        sql.push_str(&self.from);
        if let [only] = self.filters.as_slice() {
            sql.push_str(" WHERE ");
            sql.push_str(&only.text);
        } else if !self.filters.is_empty() {
            let filters: Vec<String> =
                self.filters.iter().map(|filter| filter.at_least(prec::AND)).collect();
            sql.push_str(" WHERE ");
            sql.push_str(&filters.join(" AND "));
        }
        if !self.group_by.is_empty() {
            sql.push_str(" GROUP BY ");
            sql.push_str(&self.group_by.join(", "));
        }
        if !self.order_by.is_empty() {
            sql.push_str(" ORDER BY ");
            sql.push_str(&self.order_by.join(", "));
        }
        if let Some(limit) = self.limit {
            sql.push_str(" LIMIT ");
            sql.push_str(&limit.to_string());
        }
        sql
    }
}

#[cfg(test)]
mod tests {
    use super::{Select, Sql, ident, prec, string};

    #[test]
    fn quotes_are_doubled() {
        assert_eq!(ident(r#"a"b.c"#), r#""a""b.c""#);
        assert_eq!(string("it's \\ \"x\""), r#"'it''s \ "x"'"#);
    }

    #[test]
    fn parentheses_only_when_needed() {
        let or = Sql::new("a OR b", prec::OR);
        assert_eq!(or.at_least(prec::AND), "(a OR b)");
        assert_eq!(or.at_least(prec::OR), "a OR b");
        assert_eq!(Sql::atom("x").at_least(prec::ATOM), "x");
    }

    #[test]
    fn a_single_filter_needs_no_parentheses() {
        let mut select = Select::new(ident("t"));
        select.filters.push(Sql::new("a OR b", prec::OR));
        assert_eq!(select.render(), r#"SELECT * FROM "t" WHERE a OR b"#);
    }

    #[test]
    fn renders_every_clause_in_order() {
        let mut select = Select::new(ident("events"));
        select.distinct_on.push(ident("a"));
        select.exclude.push("b".into());
        select.items.push(("1".into(), "b".into()));
        select.filters.extend([Sql::new("x OR z", prec::OR), Sql::atom("y")]);
        select.order_by.push("\"a\" ASC NULLS LAST".into());
        select.limit = Some(5);
        assert_eq!(
            select.render(),
            r#"SELECT DISTINCT ON ("a") * EXCLUDE ("b"), 1 AS "b" FROM "events" WHERE (x OR z) AND y ORDER BY "a" ASC NULLS LAST LIMIT 5"#
        );
    }
}
