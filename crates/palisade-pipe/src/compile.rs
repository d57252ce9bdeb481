//! Stages → one SQL query: a chain of CTEs, each a `SELECT` over the previous one.
//!
//! The pipeline's meaning is "each stage works on the rows the previous stage returned". A
//! stage is merged into the current `SELECT` only when that cannot change its meaning
//! (consecutive filters, a filter before a `stats`, `head` after `sort`); otherwise the current
//! `SELECT` becomes a CTE (`"_s1" AS (...)`) and the stage starts a new `SELECT` over it. CTEs
//! rather than nested subqueries keep the SQL flat however many stages there are.
//!
//! Names: the compiler tracks which names each `SELECT` can see ([`Scope`]). At first every
//! event field is reachable: a real column of `events` by its quoted name, anything else as
//! `source_field("_source", 'name')`. `eval` adds columns; `stats`, `top` and `rare` replace
//! the columns with their output, after which only those names exist; `fields` hides the
//! others until the end, where it becomes the final projection.
//!
//! Order: `sort` sets the pipeline's order as a list of names. It is written as `ORDER BY` only
//! where it matters: with `LIMIT` (`head`), with `DISTINCT ON` (`dedup` keeps the first row),
//! and in the final `SELECT`. SQL does not promise that a subquery's order survives, so the
//! order is re-applied by name rather than inherited.

use crate::ast::{Aggregation, Assignment, Command, Expr, ExprKind, GroupKey, Name, SortKey, Span};
use crate::error::{Error, Result};
use crate::functions::{Aggregate, Function};
use crate::sql::{Select, Sql, ident, prec, string};

/// The names one relation provides.
#[derive(Debug, Clone)]
pub(crate) struct Scope {
    /// Every event field is reachable (columns of `events`, the rest via `source_field`).
    open: bool,
    /// Columns beyond the `events` columns (open), or all columns (closed).
    names: Vec<String>,
    /// The command that closed the scope, for messages.
    made_by: &'static str,
}

/// How a name is read.
#[derive(Debug, Clone)]
pub(crate) enum Resolved {
    /// A real column: its quoted name.
    Column(String),
    /// A field inside `_source`: the `source_field(...)` call, whose value is text.
    Source(String),
}

#[derive(Debug, Clone)]
struct OrderKey {
    name: String,
    descending: bool,
}

/// The compiler's state between stages.
pub(crate) struct Compiler<'a> {
    query: &'a str,
    columns: &'a dyn Fn(&str) -> bool,
    ctes: Vec<String>,
    select: Select,
    /// What the current `SELECT` reads from.
    input: Scope,
    order: Vec<OrderKey>,
    /// The names `fields` kept, hiding the others.
    visible: Option<Vec<String>>,
}

const SEARCH_FIELDS: [&str; 2] = ["event.original", "message"];

fn ascending(descending: bool) -> &'static str {
    if descending { "DESC NULLS LAST" } else { "ASC NULLS LAST" }
}

fn name_list(names: &[String]) -> String {
    let shown: Vec<String> = names.iter().take(12).map(|name| format!("`{name}`")).collect();
    let more = if names.len() > shown.len() { ", ..." } else { "" };
    format!("{}{more}", shown.join(", "))
}

impl<'a> Compiler<'a> {
    pub(crate) fn new(query: &'a str, columns: &'a dyn Fn(&str) -> bool) -> Self {
        Self {
            query,
            columns,
            ctes: Vec::new(),
            select: Select::new(ident("events")),
            input: Scope { open: true, names: Vec::new(), made_by: "" },
            order: Vec::new(),
            visible: None,
        }
    }

    pub(crate) fn error(&self, span: Span, message: impl Into<String>) -> Error {
        Error::new(self.query, span, message)
    }

    // ----- names -----

    fn resolve_in(&self, scope: &Scope, name: &str) -> Option<Resolved> {
        if scope.names.iter().any(|known| known == name) || (scope.open && (self.columns)(name)) {
            Some(Resolved::Column(ident(name)))
        } else if scope.open {
            Some(Resolved::Source(format!("source_field({}, {})", ident("_source"), string(name))))
        } else {
            None
        }
    }

    /// Resolves a name against the current `SELECT`'s input. Callers have checked the name
    /// with [`Self::check_name`] and made sure the `SELECT` does not define it.
    pub(crate) fn resolve(&self, name: &str, span: &Span) -> Result<Resolved> {
        self.resolve_in(&self.input, name)
            .ok_or_else(|| self.error(span.clone(), format!("`{name}` is not available here")))
    }

    fn output_scope(&self) -> Scope {
        if self.select.star {
            let mut scope = self.input.clone();
            for (_, name) in &self.select.items {
                if !scope.names.contains(name) {
                    scope.names.push(name.clone());
                }
            }
            scope
        } else {
            Scope {
                open: false,
                names: self.select.items.iter().map(|(_, name)| name.clone()).collect(),
                made_by: self.select.made_by,
            }
        }
    }

    /// Checks that the stage being compiled may read `name`.
    fn check_name(&self, name: &str, span: &Span) -> Result<()> {
        let output = self.output_scope();
        if self.resolve_in(&output, name).is_none() {
            return Err(self.error(
                span.clone(),
                format!(
                    "`{name}` is not available after `{}`, which returns only {}",
                    output.made_by,
                    name_list(&output.names)
                ),
            ));
        }
        if let Some(visible) = &self.visible
            && !visible.iter().any(|kept| kept == name)
        {
            return Err(self.error(
                span.clone(),
                format!("`{name}` was dropped by `fields`, which kept only {}", name_list(visible)),
            ));
        }
        Ok(())
    }

    /// Checks every field an expression reads; returns their names.
    fn check_expr(&self, expr: &Expr) -> Result<Vec<String>> {
        let mut names = Vec::new();
        let mut failure = None;
        expr.for_each_field(&mut |name, span| {
            if failure.is_none() {
                match self.check_name(name, span) {
                    Ok(()) => names.push(name.to_owned()),
                    Err(error) => failure = Some(error),
                }
            }
        });
        failure.map_or(Ok(names), Err)
    }

    fn check_unique(&self, names: &[&Name]) -> Result<()> {
        for (index, name) in names.iter().enumerate() {
            if names[..index].iter().any(|earlier| earlier.text == name.text) {
                return Err(
                    self.error(name.span.clone(), format!("`{}` is listed twice", name.text))
                );
            }
        }
        Ok(())
    }

    // ----- structure -----

    /// Closes the current `SELECT` into a CTE and starts a new one over it.
    fn wrap(&mut self) {
        let output = self.output_scope();
        let name = ident(&format!("_s{}", self.ctes.len() + 1));
        self.ctes.push(format!("{name} AS ({})", self.select.render()));
        self.select = Select::new(name);
        self.input = output;
    }

    /// Returns the pipeline order as `ORDER BY` items for the current `SELECT`.
    fn order_by(&self, skip: &[String]) -> Result<Vec<String>> {
        let mut items = Vec::new();
        for key in &self.order {
            if skip.contains(&key.name) {
                continue;
            }
            let expr = match self.resolve(&key.name, &(0..0))? {
                Resolved::Column(sql) | Resolved::Source(sql) => sql,
            };
            items.push(format!("{expr} {}", ascending(key.descending)));
        }
        Ok(items)
    }

    /// Compiles one stage.
    pub(crate) fn stage(&mut self, command: &Command, span: &Span) -> Result<()> {
        match command {
            Command::Where(expr) => self.filter(expr),
            Command::Search(text) => self.search(text, span),
            Command::Fields(names) => self.fields(names),
            Command::Stats { aggregations, by } => self.stats(aggregations, by),
            Command::Sort(keys) => self.sort(keys),
            Command::Head(limit) => self.head(*limit),
            Command::Top { limit, fields, by, rare } => {
                self.top(*limit, fields, by, if *rare { "rare" } else { "top" })
            }
            Command::Dedup(names) => self.dedup(names),
            Command::Eval(assignments) => assignments.iter().try_for_each(|a| self.eval(a)),
        }
    }

    fn can_filter(&self, names: &[String]) -> bool {
        self.select.star
            && self.select.is_row_wise()
            && self.select.limit.is_none()
            && !names.iter().any(|name| self.select.defines(name))
    }

    fn filter(&mut self, expr: &Expr) -> Result<()> {
        let names = self.check_expr(expr)?;
        if !self.can_filter(&names) {
            self.wrap();
        }
        let sql = self.emit_condition(expr)?;
        self.select.filters.push(sql);
        Ok(())
    }

    fn search(&mut self, text: &str, span: &Span) -> Result<()> {
        let names: Vec<String> = SEARCH_FIELDS
            .iter()
            .filter(|name| self.check_name(name, span).is_ok())
            .map(|name| (*name).to_owned())
            .collect();
        if names.is_empty() {
            return Err(self.error(
                span.clone(),
                "`search` looks in `event.original` and `message`, and neither is available here",
            ));
        }
        if !self.can_filter(&names) {
            self.wrap();
        }
        let mut tests = Vec::new();
        for name in &names {
            let field = match self.resolve(name, span)? {
                Resolved::Column(sql) | Resolved::Source(sql) => sql,
            };
            tests.push(format!("strpos(lower({field}), lower({})) > 0", string(text)));
        }
        let sql = if tests.len() == 1 {
            Sql::new(tests.remove(0), prec::CMP)
        } else {
            Sql::new(tests.join(" OR "), prec::OR)
        };
        self.select.filters.push(sql);
        Ok(())
    }

    fn fields(&mut self, names: &[Name]) -> Result<()> {
        for name in names {
            self.check_name(&name.text, &name.span)?;
        }
        self.check_unique(&names.iter().collect::<Vec<_>>())?;
        self.visible = Some(names.iter().map(|name| name.text.clone()).collect());
        Ok(())
    }

    fn sort(&mut self, keys: &[SortKey]) -> Result<()> {
        for key in keys {
            self.check_name(&key.name.text, &key.name.span)?;
        }
        let redefined = keys.iter().any(|key| self.select.defines(&key.name.text));
        if !self.select.star
            || !self.select.is_row_wise()
            || self.select.limit.is_some()
            || redefined
        {
            self.wrap();
        }
        self.order = keys
            .iter()
            .map(|key| OrderKey { name: key.name.text.clone(), descending: key.descending })
            .collect();
        Ok(())
    }

    fn head(&mut self, limit: i64) -> Result<()> {
        if !self.select.is_row_wise() {
            self.wrap();
        }
        if let Some(current) = self.select.limit {
            // The order has not changed since: a `sort` would have started a new SELECT.
            self.select.limit = Some(current.min(limit));
        } else {
            self.select.order_by = self.order_by(&[])?;
            self.select.limit = Some(limit);
        }
        Ok(())
    }

    fn dedup(&mut self, names: &[Name]) -> Result<()> {
        for name in names {
            self.check_name(&name.text, &name.span)?;
        }
        self.check_unique(&names.iter().collect::<Vec<_>>())?;
        if !self.select.is_plain() || self.select.limit.is_some() {
            self.wrap();
        }
        let mut keys = Vec::new();
        for name in names {
            let sql = match self.resolve(&name.text, &name.span)? {
                Resolved::Column(sql) | Resolved::Source(sql) => sql,
            };
            keys.push(sql);
        }
        let texts: Vec<String> = names.iter().map(|name| name.text.clone()).collect();
        // DISTINCT ON keeps the first row of each key in ORDER BY order, which must start
        // with the keys; the pipeline order then picks the row.
        let mut order_by: Vec<String> =
            keys.iter().map(|key| format!("{key} {}", ascending(false))).collect();
        order_by.extend(self.order_by(&texts)?);
        self.select.distinct_on = keys;
        self.select.order_by = order_by;
        Ok(())
    }

    fn eval(&mut self, assignment: &Assignment) -> Result<()> {
        let target = &assignment.target;
        let names = self.check_expr(&assignment.value)?;
        if target.text == "_source" {
            return Err(self.error(
                target.span.clone(),
                "`_source` holds the event's other fields and cannot be replaced",
            ));
        }
        if self.order.iter().any(|key| key.name == target.text) {
            return Err(self.error(
                target.span.clone(),
                format!(
                    "`eval` cannot replace `{}`: the rows are sorted by it; give the new value \
                     another name",
                    target.text
                ),
            ));
        }
        if !self.select.star
            || !self.select.is_row_wise()
            || self.select.defines(&target.text)
            || names.iter().any(|name| self.select.defines(name))
        {
            self.wrap();
        }
        let sql = self.emit(&assignment.value)?;
        let replaces_column = self.input.names.contains(&target.text)
            || (self.input.open && (self.columns)(&target.text));
        if replaces_column && !self.select.exclude.contains(&target.text) {
            self.select.exclude.push(target.text.clone());
        }
        self.select.items.push((sql.text, target.text.clone()));
        if let Some(visible) = &mut self.visible
            && !visible.contains(&target.text)
        {
            visible.push(target.text.clone());
        }
        Ok(())
    }

    fn stats(&mut self, aggregations: &[Aggregation], by: &[GroupKey]) -> Result<()> {
        let mut outputs: Vec<Name> = Vec::new();
        for key in by {
            self.check_expr(&key.expr)?;
            outputs.push(self.group_key_name(key)?);
        }
        for aggregation in aggregations {
            if let Some(argument) = &aggregation.argument {
                self.check_expr(argument)?;
                if matches!(aggregation.function, Aggregate::Earliest | Aggregate::Latest)
                    && argument.as_field() != Some("@timestamp")
                {
                    self.check_name("@timestamp", &aggregation.span).map_err(|_| {
                        self.error(
                            aggregation.span.clone(),
                            format!(
                                "`{}` orders values by `@timestamp`, which is not available here",
                                aggregation.function.name()
                            ),
                        )
                    })?;
                }
            }
            outputs.push(self.aggregation_name(aggregation)?);
        }
        for (index, name) in outputs.iter().enumerate() {
            if outputs[..index].iter().any(|earlier| earlier.text == name.text) {
                return Err(self.error(
                    name.span.clone(),
                    format!(
                        "two output fields would be named `{}`; rename one with `as`",
                        name.text
                    ),
                ));
            }
        }
        if !self.select.is_plain() || self.select.limit.is_some() {
            self.wrap();
        }
        let mut items = Vec::new();
        let mut group_by = Vec::new();
        for (key, name) in by.iter().zip(&outputs) {
            let sql = self.emit(&key.expr)?.text;
            group_by.push(sql.clone());
            items.push((sql, name.text.clone()));
        }
        for (aggregation, name) in aggregations.iter().zip(&outputs[by.len()..]) {
            items.push((self.emit_aggregation(aggregation)?, name.text.clone()));
        }
        self.select.star = false;
        self.select.items = items;
        self.select.group_by = group_by;
        self.select.made_by = "stats";
        self.order = outputs[..by.len()]
            .iter()
            .map(|name| OrderKey { name: name.text.clone(), descending: false })
            .collect();
        self.visible = None;
        Ok(())
    }

    fn group_key_name(&self, key: &GroupKey) -> Result<Name> {
        if let Some(alias) = &key.alias {
            return Ok(alias.clone());
        }
        let field = match &key.expr.kind {
            ExprKind::Field(name) => Some(name),
            ExprKind::Call { function: Function::Bin, args } => match &args[0].kind {
                ExprKind::Field(name) => Some(name),
                _ => None,
            },
            _ => None,
        };
        match field {
            Some(name) => Ok(Name { text: name.clone(), span: key.expr.span.clone() }),
            None => Err(self.error(
                key.expr.span.clone(),
                "name this `by` expression with `as`, as in by lower(user.name) as user",
            )),
        }
    }

    fn aggregation_name(&self, aggregation: &Aggregation) -> Result<Name> {
        if let Some(alias) = &aggregation.alias {
            return Ok(alias.clone());
        }
        let function = aggregation.function.name();
        let text = match &aggregation.argument {
            None => function.to_owned(),
            Some(argument) => match argument.as_field() {
                Some(field) => format!("{function}_{field}"),
                None => {
                    return Err(self.error(
                        aggregation.span.clone(),
                        format!(
                            "name this aggregation with `as`, as in {function}(...) as \
                             {function}_value"
                        ),
                    ));
                }
            },
        };
        Ok(Name { text, span: aggregation.span.clone() })
    }

    fn top(
        &mut self,
        limit: i64,
        fields: &[Name],
        by: &[Name],
        command: &'static str,
    ) -> Result<()> {
        let all: Vec<&Name> = by.iter().chain(fields).collect();
        for name in &all {
            self.check_name(&name.text, &name.span)?;
            if name.text == "count" {
                return Err(self.error(
                    name.span.clone(),
                    format!(
                        "`{command}` names its count column `count`; rename this field first, \
                         as in eval n = count"
                    ),
                ));
            }
        }
        self.check_unique(&all)?;
        if !self.select.is_plain() || self.select.limit.is_some() {
            self.wrap();
        }
        let mut items = Vec::new();
        for name in &all {
            let sql = match self.resolve(&name.text, &name.span)? {
                Resolved::Column(sql) | Resolved::Source(sql) => sql,
            };
            items.push((sql, name.text.clone()));
        }
        // The most (or least) frequent values of a field are values it has: rows without
        // one are not a group of their own, as in SPL `top`.
        for (sql, _) in &items[by.len()..] {
            let test = format!("{sql} IS NOT NULL");
            if !self.select.filters.iter().any(|filter| filter.text == test) {
                self.select.filters.push(Sql::new(test, prec::CMP));
            }
        }
        self.select.group_by = items.iter().map(|(sql, _)| sql.clone()).collect();
        items.push(("count(*)".to_owned(), "count".to_owned()));
        self.select.star = false;
        self.select.items = items;
        self.select.made_by = command;
        let descending = command == "top";
        let count = OrderKey { name: "count".to_owned(), descending };
        let field_keys =
            fields.iter().map(|name| OrderKey { name: name.text.clone(), descending: false });
        self.visible = None;
        self.wrap();
        if by.is_empty() {
            self.order = std::iter::once(count).chain(field_keys).collect();
            self.select.order_by = self.order_by(&[])?;
            self.select.limit = Some(limit);
            return Ok(());
        }
        let partition: Vec<String> = by.iter().map(|name| ident(&name.text)).collect();
        let within: Vec<String> = std::iter::once(count.clone())
            .chain(field_keys.clone())
            .map(|key| format!("{} {}", ident(&key.name), ascending(key.descending)))
            .collect();
        let rank = format!(
            "row_number() OVER (PARTITION BY {} ORDER BY {})",
            partition.join(", "),
            within.join(", ")
        );
        self.select.items.push((rank, "_pipe_rank".to_owned()));
        self.wrap();
        self.select
            .filters
            .push(Sql::new(format!("{} <= {limit}", ident("_pipe_rank")), prec::CMP));
        self.select.star = false;
        self.select.items = all
            .iter()
            .map(|name| name.text.clone())
            .chain(std::iter::once("count".to_owned()))
            .map(|name| (ident(&name), name))
            .collect();
        self.select.made_by = command;
        self.order = by
            .iter()
            .map(|name| OrderKey { name: name.text.clone(), descending: false })
            .chain(std::iter::once(count))
            .chain(field_keys)
            .collect();
        Ok(())
    }

    /// Finishes the query: final order and projection.
    pub(crate) fn finish(mut self) -> Result<String> {
        let can_project = self.select.is_plain();
        let ordered = !self.order.is_empty();
        if (self.visible.is_some() && !can_project) || (ordered && !self.select.is_row_wise()) {
            self.wrap();
        }
        if ordered && self.select.limit.is_none() {
            self.select.order_by = self.order_by(&[])?;
        }
        if let Some(visible) = self.visible.take() {
            let mut items = Vec::new();
            for name in visible {
                let sql = match self.resolve(&name, &(0..0))? {
                    Resolved::Column(sql) | Resolved::Source(sql) => sql,
                };
                items.push((sql, name));
            }
            self.select.star = false;
            self.select.items = items;
        }
        let select = self.select.render();
        Ok(if self.ctes.is_empty() {
            select
        } else {
            format!("WITH {} {select}", self.ctes.join(", "))
        })
    }
}
