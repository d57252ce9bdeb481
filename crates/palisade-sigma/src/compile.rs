//! Compilation of a rule's `detection` section into the predicate IR.
//!
//! Each search identifier becomes an [`Expr`]; the condition is parsed and its identifiers
//! replaced by those expressions. Values pass through their modifiers in written order for
//! the encodings (`wide` then `base64offset`), while `contains`/`startswith`/`endswith` always
//! wrap the final text, as pySigma does.

use std::collections::HashMap;

use crate::condition::{self, Condition, OfTarget, Quantifier};
use crate::diagnostic::{Code, Diagnostic};
use crate::matcher::{
    Expr, FieldPred, Glob, KeywordPred, Matcher, NumOp, Pieces, Regex, StrKind, StrKindTag,
    StrMatcher, TimePart,
};
use crate::modifier::{Modifier, ModifierSet, split_key};
use crate::pattern::{self, Piece, SigmaString};
use crate::yaml::{Node, NodeKind, Pos, Scalar};

/// Placeholder values for `|expand`, by placeholder name (without `%`).
pub type Placeholders = HashMap<String, Vec<String>>;

/// Compiles a `detection` (or filter) mapping.
///
/// # Errors
/// Returns the first error; warnings are appended to `diagnostics`.
pub fn compile_detection(
    detection: &Node,
    placeholders: &Placeholders,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Expr, Diagnostic> {
    let entries = detection.as_map().ok_or_else(|| {
        Diagnostic::error(Code::WrongType, detection.pos, "`detection` must be a mapping")
    })?;
    let mut identifiers: Vec<(String, Expr)> = Vec::new();
    let mut condition_node = None;
    for (key, value) in entries {
        let Some(name) = key.as_str() else {
            return Err(Diagnostic::error(
                Code::WrongType,
                key.pos,
                "search identifiers must be strings",
            ));
        };
        match name {
            "condition" => condition_node = Some(value),
            "timeframe" => diagnostics.push(Diagnostic::warning(
                Code::DeprecatedAggregation,
                key.pos,
                "`timeframe` is ignored; use a correlation rule",
            )),
            "rules" => {} // filter documents list their target rules here
            _ => identifiers.push((name.to_owned(), compile_identifier(value, placeholders)?)),
        }
    }
    let condition_node = condition_node
        .ok_or_else(|| Diagnostic::error(Code::MissingKey, detection.pos, "missing `condition`"))?;
    let conditions: Vec<(&str, Pos)> = match &condition_node.kind {
        NodeKind::Scalar { text, .. } => vec![(text.as_str(), condition_node.pos)],
        NodeKind::Seq(items) => items
            .iter()
            .map(|item| {
                item.as_str().map(|text| (text, item.pos)).ok_or_else(|| {
                    Diagnostic::error(Code::WrongType, item.pos, "conditions must be strings")
                })
            })
            .collect::<Result<_, _>>()?,
        NodeKind::Map(_) => {
            return Err(Diagnostic::error(
                Code::WrongType,
                condition_node.pos,
                "`condition` must be a string or a list of strings",
            ));
        }
    };
    let mut alternatives = Vec::new();
    for (text, pos) in conditions {
        let parsed = condition::parse(text).map_err(|error| {
            let code =
                if error.aggregation { Code::DeprecatedAggregation } else { Code::ConditionSyntax };
            Diagnostic::error(code, pos, format!("condition `{text}`: {error}"))
        })?;
        alternatives.push(resolve(&parsed, &identifiers, pos)?);
    }
    Ok(if alternatives.len() == 1 { alternatives.remove(0) } else { Expr::Or(alternatives) })
}

fn resolve(
    condition: &Condition,
    identifiers: &[(String, Expr)],
    pos: Pos,
) -> Result<Expr, Diagnostic> {
    Ok(match condition {
        Condition::Ident(name) => identifiers
            .iter()
            .find(|(ident, _)| ident == name)
            .map(|(_, expr)| expr.clone())
            .ok_or_else(|| {
                Diagnostic::error(
                    Code::UnknownIdentifier,
                    pos,
                    format!("the condition names `{name}`, which the detection does not define"),
                )
            })?,
        Condition::And(left, right) => {
            Expr::And(vec![resolve(left, identifiers, pos)?, resolve(right, identifiers, pos)?])
        }
        Condition::Or(left, right) => {
            Expr::Or(vec![resolve(left, identifiers, pos)?, resolve(right, identifiers, pos)?])
        }
        Condition::Not(inner) => Expr::Not(Box::new(resolve(inner, identifiers, pos)?)),
        Condition::Of { quantifier, target } => {
            let selected: Vec<Expr> = identifiers
                .iter()
                .filter(|(name, _)| match target {
                    OfTarget::Them => !name.starts_with('_'),
                    OfTarget::Pattern(pattern) => condition::pattern_matches(pattern, name),
                })
                .map(|(_, expr)| expr.clone())
                .collect();
            if selected.is_empty() {
                let what = match target {
                    OfTarget::Them => "them".to_owned(),
                    OfTarget::Pattern(pattern) => pattern.clone(),
                };
                return Err(Diagnostic::error(
                    Code::UnknownIdentifier,
                    pos,
                    format!("`of {what}` matches no search identifier"),
                ));
            }
            match quantifier {
                Quantifier::All => Expr::And(selected),
                Quantifier::AtLeast(1) => Expr::Or(selected),
                Quantifier::AtLeast(count) => Expr::AtLeast(*count as usize, selected),
            }
        }
    })
}

/// Compiles one search identifier: a map (fields ANDed), a list (items ORed) or a keyword.
fn compile_identifier(node: &Node, placeholders: &Placeholders) -> Result<Expr, Diagnostic> {
    match &node.kind {
        NodeKind::Map(entries) => {
            if entries.is_empty() {
                return Err(Diagnostic::error(
                    Code::InvalidValue,
                    node.pos,
                    "empty search identifier",
                ));
            }
            let mut children = Vec::with_capacity(entries.len());
            for (key, value) in entries {
                let key_text = key.as_str().ok_or_else(|| {
                    Diagnostic::error(Code::WrongType, key.pos, "field names must be strings")
                })?;
                children.push(compile_field(key_text, key.pos, value, placeholders)?);
            }
            Ok(if children.len() == 1 { children.remove(0) } else { Expr::And(children) })
        }
        NodeKind::Seq(items) => {
            if items.is_empty() {
                return Err(Diagnostic::error(
                    Code::InvalidValue,
                    node.pos,
                    "empty search identifier",
                ));
            }
            if items.iter().all(|item| matches!(item.kind, NodeKind::Scalar { .. })) {
                return compile_field("", node.pos, node, placeholders);
            }
            let children = items
                .iter()
                .map(|item| compile_identifier(item, placeholders))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Expr::Or(children))
        }
        NodeKind::Scalar { .. } => compile_field("", node.pos, node, placeholders),
    }
}

/// Compiles `field|modifiers: value-or-list`. An empty field name is a keyword search.
fn compile_field(
    key: &str,
    pos: Pos,
    value: &Node,
    placeholders: &Placeholders,
) -> Result<Expr, Diagnostic> {
    let (field, modifiers) = split_key(key).map_err(|name| {
        Diagnostic::error(
            Code::UnknownModifier,
            pos,
            format!("unknown modifier `{name}` in `{key}`"),
        )
    })?;
    let values: Vec<&Node> = match &value.kind {
        NodeKind::Seq(items) => items.iter().collect(),
        NodeKind::Scalar { .. } => vec![value],
        NodeKind::Map(_) => {
            return Err(Diagnostic::error(
                Code::WrongType,
                value.pos,
                format!("`{key}` must have a value or a list of values, not a mapping"),
            ));
        }
    };
    if values.is_empty() {
        return Err(Diagnostic::error(
            Code::InvalidValue,
            value.pos,
            format!("`{key}` has an empty list of values"),
        ));
    }
    let all = modifiers.has(Modifier::All);
    let neq = modifiers.has(Modifier::Neq);
    let mut matchers = Vec::new();
    for value_node in values {
        if matches!(value_node.kind, NodeKind::Map(_) | NodeKind::Seq(_)) {
            return Err(Diagnostic::error(
                Code::WrongType,
                value_node.pos,
                format!("values of `{key}` must be scalars"),
            ));
        }
        compile_value(field, &modifiers, value_node, placeholders, &mut matchers).map_err(
            |message| {
                Diagnostic::error(classify(&message), value_node.pos, format!("`{key}`: {message}"))
            },
        )?;
    }
    if field.is_empty() {
        let str_matchers = matchers
            .into_iter()
            .map(|matcher| match matcher {
                Matcher::Str(str_matcher) => Ok(str_matcher),
                _ => Err(Diagnostic::error(
                    Code::InvalidValue,
                    pos,
                    "keyword searches support string values only",
                )),
            })
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(Expr::Keywords(KeywordPred { matchers: str_matchers, all }));
    }
    Ok(Expr::Field(FieldPred { field: field.to_owned(), matchers, all, neq }))
}

fn classify(message: &str) -> Code {
    if message.starts_with("regex") {
        Code::InvalidRegex
    } else if message.starts_with("placeholder") {
        Code::UnresolvedPlaceholder
    } else {
        Code::InvalidValue
    }
}

/// Compiles one value into one or more matchers (encodings and `windash` expand).
fn compile_value(
    field: &str,
    modifiers: &ModifierSet,
    node: &Node,
    placeholders: &Placeholders,
    out: &mut Vec<Matcher>,
) -> Result<(), String> {
    let scalar = node.scalar().ok_or("value must be a scalar")?;
    let cased = modifiers.has(Modifier::Cased);
    if modifiers.has(Modifier::Exists) {
        let expected = match scalar {
            Scalar::Bool(flag) => flag,
            Scalar::Str(text)
                if text.eq_ignore_ascii_case("true") || text.eq_ignore_ascii_case("yes") =>
            {
                true
            }
            Scalar::Str(text)
                if text.eq_ignore_ascii_case("false") || text.eq_ignore_ascii_case("no") =>
            {
                false
            }
            _ => return Err("`exists` takes true or false".into()),
        };
        out.push(Matcher::Exists(expected));
        return Ok(());
    }
    if scalar == Scalar::Null {
        out.push(Matcher::Null);
        return Ok(());
    }
    let text: String = match scalar {
        Scalar::Str(text) => text.to_owned(),
        Scalar::Int(int) => int.to_string(),
        Scalar::Bool(flag) => flag.to_string(),
        Scalar::Float(_) | Scalar::Null => node.as_str().unwrap_or_default().to_owned(),
    };
    if let Some(part) = modifiers.time_part() {
        let op = num_op(modifiers.comparison());
        let value = text
            .trim()
            .parse::<f64>()
            .map_err(|_| format!("time modifiers need a number, got `{text}`"))?;
        let part = match part {
            Modifier::Minute => TimePart::Minute,
            Modifier::Hour => TimePart::Hour,
            Modifier::Day => TimePart::Day,
            Modifier::Week => TimePart::Week,
            Modifier::Month => TimePart::Month,
            _ => TimePart::Year,
        };
        out.push(Matcher::TimePart { part, op, value });
        return Ok(());
    }
    if let Some(comparison) = modifiers.comparison() {
        let value = text
            .trim()
            .parse::<f64>()
            .map_err(|_| format!("numeric modifiers need a number, got `{text}`"))?;
        out.push(Matcher::Num(num_op(Some(comparison)), value));
        return Ok(());
    }
    if modifiers.has(Modifier::Cidr) {
        let trimmed = text.trim();
        let net = trimmed
            .parse::<ipnet::IpNet>()
            .or_else(|_| trimmed.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
            .map_err(|_| format!("`{text}` is not a CIDR range"))?;
        out.push(Matcher::Cidr(net));
        return Ok(());
    }
    if modifiers.has(Modifier::Re) {
        let mut flags = String::new();
        if modifiers.has(Modifier::ReIgnoreCase) {
            flags.push('i');
        }
        if modifiers.has(Modifier::ReMultiLine) {
            flags.push('m');
        }
        if modifiers.has(Modifier::ReDotAll) {
            flags.push('s');
        }
        let pattern = if flags.is_empty() { text } else { format!("(?{flags}){text}") };
        let regex =
            Regex::new(&pattern).map_err(|error| format!("regex does not compile: {error}"))?;
        out.push(Matcher::Regex(regex));
        return Ok(());
    }
    if modifiers.has(Modifier::FieldRef) {
        let kind = if modifiers.has(Modifier::Contains) {
            StrKindTag::Contains
        } else if modifiers.has(Modifier::StartsWith) {
            StrKindTag::Prefix
        } else if modifiers.has(Modifier::EndsWith) {
            StrKindTag::Suffix
        } else {
            StrKindTag::Exact
        };
        out.push(Matcher::FieldRef { other: text, kind, cased });
        return Ok(());
    }
    let texts =
        if modifiers.has(Modifier::Expand) { expand(&text, placeholders)? } else { vec![text] };
    for text in texts {
        let mut strings = encode(&text, modifiers)?;
        if modifiers.has(Modifier::Windash) {
            strings = strings.iter().flat_map(SigmaString::windash).collect();
        }
        for mut string in strings {
            if modifiers.has(Modifier::Contains) || field.is_empty() {
                string.prepend_many();
                string.append_many();
            } else if modifiers.has(Modifier::StartsWith) {
                string.append_many();
            } else if modifiers.has(Modifier::EndsWith) {
                string.prepend_many();
            }
            out.push(Matcher::Str(str_matcher(&string, cased)?));
        }
    }
    Ok(())
}

fn num_op(comparison: Option<Modifier>) -> NumOp {
    match comparison {
        Some(Modifier::Lt) => NumOp::Lt,
        Some(Modifier::Lte) => NumOp::Lte,
        Some(Modifier::Gt) => NumOp::Gt,
        Some(Modifier::Gte) => NumOp::Gte,
        _ => NumOp::Eq,
    }
}

/// Applies the encoding modifiers in their written order. Without any, the value is parsed for
/// wildcards; with some, the value must be plain text and the result is literal.
fn encode(text: &str, modifiers: &ModifierSet) -> Result<Vec<SigmaString>, String> {
    let encodings: Vec<Modifier> = modifiers
        .list
        .iter()
        .copied()
        .filter(|m| {
            matches!(
                m,
                Modifier::Base64
                    | Modifier::Base64Offset
                    | Modifier::Utf16Le
                    | Modifier::Utf16Be
                    | Modifier::Utf16
            )
        })
        .collect();
    if encodings.is_empty() {
        return Ok(vec![SigmaString::parse(text)]);
    }
    let parsed = SigmaString::parse(text);
    let plain =
        parsed.as_plain().ok_or("encoding modifiers cannot be applied to values with wildcards")?;
    let mut values: Vec<Vec<u8>> = vec![plain.into_bytes()];
    for encoding in encodings {
        values = match encoding {
            Modifier::Base64 => {
                values.iter().map(|bytes| pattern::base64(bytes).into_bytes()).collect()
            }
            Modifier::Base64Offset => values
                .iter()
                .flat_map(|bytes| pattern::base64_offsets(bytes))
                .map(String::into_bytes)
                .collect(),
            Modifier::Utf16Le => values
                .iter()
                .map(|bytes| pattern::utf16(bytes, true, false))
                .collect::<Result<_, _>>()?,
            Modifier::Utf16Be => values
                .iter()
                .map(|bytes| pattern::utf16(bytes, false, false))
                .collect::<Result<_, _>>()?,
            Modifier::Utf16 => values
                .iter()
                .map(|bytes| pattern::utf16(bytes, true, true))
                .collect::<Result<_, _>>()?,
            _ => values,
        };
    }
    values
        .into_iter()
        .map(|bytes| {
            String::from_utf8(bytes).map(|text| SigmaString::literal(&text)).map_err(|_| {
                "the encoded value is not text; end the chain with base64 or base64offset"
                    .to_owned()
            })
        })
        .collect()
}

/// Replaces `%name%` placeholders with their configured values (every combination).
fn expand(text: &str, placeholders: &Placeholders) -> Result<Vec<String>, String> {
    let mut results = vec![String::new()];
    let mut rest = text;
    while let Some(start) = rest.find('%') {
        if start > 0 && rest.as_bytes()[start - 1] == b'\\' {
            for result in &mut results {
                result.push_str(&rest[..start - 1]);
                result.push('%');
            }
            rest = &rest[start + 1..];
            continue;
        }
        let Some(len) = rest[start + 1..].find('%') else { break };
        let name = &rest[start + 1..start + 1 + len];
        let values = placeholders
            .get(name)
            .ok_or_else(|| format!("placeholder `%{name}%` has no configured values"))?;
        let prefix = &rest[..start];
        results = results
            .iter()
            .flat_map(|result| values.iter().map(move |value| format!("{result}{prefix}{value}")))
            .collect();
        rest = &rest[start + 2 + len..];
    }
    for result in &mut results {
        result.push_str(rest);
    }
    Ok(results)
}

/// Chooses the cheapest string test for a wildcard shape.
fn str_matcher(string: &SigmaString, cased: bool) -> Result<StrMatcher, String> {
    let fold = |text: &str| if cased { text.to_owned() } else { text.to_lowercase() };
    let kind = match string.pieces.as_slice() {
        [] => StrKind::Exact(String::new()),
        [Piece::Lit(text)] => StrKind::Exact(fold(text)),
        [Piece::Lit(text), Piece::Many] => StrKind::Prefix(fold(text)),
        [Piece::Many, Piece::Lit(text)] => StrKind::Suffix(fold(text)),
        [Piece::Many, Piece::Lit(text), Piece::Many] => StrKind::Contains(Box::new(
            memchr::memmem::Finder::new(fold(text).as_bytes()).into_owned(),
        )),
        [Piece::Many] => StrKind::Any,
        pieces if !pieces.contains(&Piece::One) => {
            // `*` only: prefix, suffix and ordered substrings; no regex needed.
            let mut literals: Vec<String> = Vec::new();
            for piece in pieces {
                if let Piece::Lit(text) = piece {
                    literals.push(fold(text));
                }
            }
            let prefix = matches!(pieces.first(), Some(Piece::Lit(_))).then(|| literals.remove(0));
            let suffix =
                if matches!(pieces.last(), Some(Piece::Lit(_))) { literals.pop() } else { None };
            StrKind::Pieces(Box::new(Pieces {
                prefix,
                middle: literals
                    .iter()
                    .map(|text| memchr::memmem::Finder::new(text.as_bytes()).into_owned())
                    .collect(),
                suffix,
            }))
        }
        pieces => {
            let mut regex = String::from("(?s)^");
            for piece in pieces {
                match piece {
                    Piece::Lit(text) => regex.push_str(&regex::escape(&fold(text))),
                    Piece::Many => regex.push_str(".*"),
                    Piece::One => regex.push('.'),
                }
            }
            regex.push('$');
            StrKind::Glob(Box::new(Glob {
                regex: regex::Regex::new(&regex)
                    .map_err(|error| format!("wildcard pattern: {error}"))?,
                literal: string.longest_literal().map(fold),
            }))
        }
    };
    Ok(StrMatcher { kind, cased })
}
