//! The Sigma document model: rules, correlation rules and filters, with every metadata field
//! of the specification, read from the positioned YAML tree.

use std::fmt;
use std::path::PathBuf;

use crate::diagnostic::{Code, Diagnostic};
use crate::yaml::{Node, NodeKind, Pos};

/// Rule severity, ordered from least to most severe.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// `informational`.
    Informational,
    /// `low`.
    Low,
    /// `medium`.
    Medium,
    /// `high`.
    High,
    /// `critical`.
    Critical,
}

impl Level {
    /// Parses a level name (case-insensitive).
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text.to_ascii_lowercase().as_str() {
            "informational" | "info" => Level::Informational,
            "low" => Level::Low,
            "medium" => Level::Medium,
            "high" => Level::High,
            "critical" => Level::Critical,
            _ => return None,
        })
    }

    /// Returns the level name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Informational => "informational",
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
            Level::Critical => "critical",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `logsource` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Logsource {
    /// `category`.
    pub category: Option<String>,
    /// `product`.
    pub product: Option<String>,
    /// `service`.
    pub service: Option<String>,
    /// `definition` (free text).
    pub definition: Option<String>,
}

impl Logsource {
    pub(crate) fn from_node(node: &Node) -> Self {
        let text = |key: &str| node.get(key).and_then(Node::as_str).map(str::to_owned);
        Self {
            category: text("category"),
            product: text("product"),
            service: text("service"),
            definition: text("definition"),
        }
    }

    /// Returns `product/category/service` for display.
    #[must_use]
    pub fn describe(&self) -> String {
        [&self.product, &self.category, &self.service]
            .iter()
            .map(|part| part.as_deref().unwrap_or("*"))
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// A `related` entry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Related {
    /// The related rule id.
    pub id: String,
    /// derived, obsolete, merged, renamed, similar.
    pub kind: String,
}

/// Metadata shared by every Sigma document type.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Meta {
    /// `title`.
    pub title: String,
    /// `id`.
    pub id: Option<String>,
    /// `name` (referable from correlation rules).
    pub name: Option<String>,
    /// `status`.
    pub status: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `license`.
    pub license: Option<String>,
    /// `author`.
    pub author: Option<String>,
    /// `references`.
    pub references: Vec<String>,
    /// `date`.
    pub date: Option<String>,
    /// `modified`.
    pub modified: Option<String>,
    /// `tags`.
    pub tags: Vec<String>,
    /// `level`.
    pub level: Option<Level>,
    /// `falsepositives`.
    pub falsepositives: Vec<String>,
    /// `fields`.
    pub fields: Vec<String>,
    /// `related`.
    pub related: Vec<Related>,
    /// `scope`.
    pub scope: Vec<String>,
    /// `taxonomy` (default `sigma`).
    pub taxonomy: Option<String>,
}

impl Meta {
    /// Returns the ATT&CK technique ids from `attack.tNNNN[.NNN]` tags, upper-cased.
    #[must_use]
    pub fn attack_techniques(&self) -> Vec<String> {
        self.tags
            .iter()
            .filter_map(|tag| tag.strip_prefix("attack."))
            .filter(|rest| {
                rest.len() > 1
                    && rest.starts_with(['t', 'T'])
                    && rest[1..].starts_with(|c: char| c.is_ascii_digit())
            })
            .map(str::to_uppercase)
            .collect()
    }

    /// Returns the ATT&CK tactic names from `attack.<tactic>` tags.
    #[must_use]
    pub fn attack_tactics(&self) -> Vec<String> {
        self.tags
            .iter()
            .filter_map(|tag| tag.strip_prefix("attack."))
            .filter(|rest| {
                !(rest.starts_with(['t', 'T', 'g', 'G', 's', 'S'])
                    && rest[1..].starts_with(|c: char| c.is_ascii_digit()))
            })
            .map(str::to_owned)
            .collect()
    }

    /// Returns the id, else the name, else the title.
    #[must_use]
    pub fn key(&self) -> &str {
        self.id.as_deref().or(self.name.as_deref()).unwrap_or(&self.title)
    }
}

/// A detection rule before compilation.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleDoc {
    /// Metadata.
    pub meta: Meta,
    /// `logsource`.
    pub logsource: Logsource,
    /// The `detection` mapping (search identifiers, condition).
    pub detection: Node,
    /// The file it came from.
    pub path: PathBuf,
    /// Where the document starts.
    pub pos: Pos,
}

/// A correlation rule (see the Sigma correlation specification).
#[derive(Debug, Clone, PartialEq)]
pub struct CorrelationDoc {
    /// Metadata.
    pub meta: Meta,
    /// `correlation.type`.
    pub kind: String,
    /// `correlation.rules`: ids or names.
    pub rules: Vec<String>,
    /// `correlation.group-by`.
    pub group_by: Vec<String>,
    /// `correlation.timespan`, as written (e.g. `5m`).
    pub timespan: Option<String>,
    /// The whole `correlation` mapping, for the correlation engine.
    pub body: Node,
    /// `generate` (at the top level, or inside `correlation` as pySigma reads it): whether the
    /// rules it refers to also raise alerts of their own. Default false.
    pub generate: bool,
    /// The file it came from.
    pub path: PathBuf,
}

/// A global filter (see the Sigma filters specification).
#[derive(Debug, Clone, PartialEq)]
pub struct FilterDoc {
    /// Metadata.
    pub meta: Meta,
    /// `logsource`.
    pub logsource: Logsource,
    /// `filter.rules`: rule ids or names the filter applies to.
    pub rules: Vec<String>,
    /// The `filter` mapping (selection identifiers and `condition`).
    pub detection: Node,
    /// The file it came from.
    pub path: PathBuf,
}

/// One Sigma document.
#[derive(Debug, Clone, PartialEq)]
pub enum Document {
    /// A detection rule.
    Rule(RuleDoc),
    /// A correlation rule.
    Correlation(CorrelationDoc),
    /// A global filter.
    Filter(FilterDoc),
}

/// Reads the metadata of any document. Wrong types are reported but not fatal.
fn read_meta(node: &Node, diagnostics: &mut Vec<Diagnostic>) -> Meta {
    let text = |key: &str| node.get(key).and_then(Node::as_str).map(str::to_owned);
    let list = |key: &str| node.get(key).map(Node::string_list).unwrap_or_default();
    let level = node.get("level").and_then(|level_node| {
        let parsed = level_node.as_str().and_then(Level::parse);
        if parsed.is_none() {
            diagnostics.push(Diagnostic::warning(
                Code::WrongType,
                level_node.pos,
                "unknown level; expected informational, low, medium, high or critical",
            ));
        }
        parsed
    });
    let related = node
        .get("related")
        .and_then(Node::as_seq)
        .map(|items| {
            items
                .iter()
                .filter_map(|item| {
                    Some(Related {
                        id: item.get("id")?.as_str()?.to_owned(),
                        kind: item
                            .get("type")
                            .and_then(Node::as_str)
                            .unwrap_or_default()
                            .to_owned(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Meta {
        title: text("title").unwrap_or_default(),
        id: text("id"),
        name: text("name"),
        status: text("status"),
        description: text("description"),
        license: text("license"),
        author: text("author"),
        references: list("references"),
        date: text("date"),
        modified: text("modified"),
        tags: list("tags"),
        level,
        falsepositives: list("falsepositives"),
        fields: list("fields"),
        related,
        scope: list("scope"),
        taxonomy: text("taxonomy"),
    }
}

const KNOWN_KEYS: &[&str] = &[
    "title",
    "id",
    "name",
    "status",
    "description",
    "license",
    "author",
    "references",
    "date",
    "modified",
    "tags",
    "level",
    "falsepositives",
    "fields",
    "related",
    "scope",
    "taxonomy",
    "logsource",
    "detection",
    "correlation",
    "filter",
    "action",
    "generate",
    "regression_tests_path",
    "simulation",
];

/// Reads one (already collection-merged) YAML document into a Sigma document.
///
/// # Errors
/// Returns an error diagnostic when a mandatory part is missing or malformed.
pub(crate) fn read_document(
    node: &Node,
    path: &std::path::Path,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Document, Diagnostic> {
    if node.as_map().is_none() {
        return Err(Diagnostic::error(
            Code::WrongType,
            node.pos,
            "a Sigma document must be a mapping",
        ));
    }
    let meta = read_meta(node, diagnostics);
    for (key, _) in node.as_map().unwrap_or_default() {
        if let Some(name) = key.as_str()
            && !KNOWN_KEYS.contains(&name)
        {
            diagnostics.push(Diagnostic::warning(
                Code::UnknownKey,
                key.pos,
                format!("unknown key `{name}`"),
            ));
        }
    }
    if meta.title.is_empty() {
        return Err(Diagnostic::error(Code::MissingKey, node.pos, "missing `title`"));
    }
    if let Some(correlation) = node.get("correlation") {
        let kind = correlation.get("type").and_then(Node::as_str).unwrap_or_default().to_owned();
        if kind.is_empty() {
            return Err(Diagnostic::error(
                Code::MissingKey,
                correlation.pos,
                "correlation without `type`",
            ));
        }
        return Ok(Document::Correlation(CorrelationDoc {
            meta,
            kind,
            rules: correlation.get("rules").map(Node::string_list).unwrap_or_default(),
            group_by: correlation.get("group-by").map(Node::string_list).unwrap_or_default(),
            timespan: correlation
                .get("timespan")
                .or_else(|| correlation.get("timeframe"))
                .and_then(Node::as_str)
                .map(str::to_owned),
            body: correlation.clone(),
            generate: node
                .get("generate")
                .or_else(|| correlation.get("generate"))
                .and_then(Node::scalar)
                .is_some_and(|value| value == crate::yaml::Scalar::Bool(true)),
            path: path.to_owned(),
        }));
    }
    let logsource_node = node.get("logsource");
    if let Some(filter) = node.get("filter") {
        let rules = filter.get("rules").map(Node::string_list).unwrap_or_default();
        if filter.get("condition").is_none() {
            return Err(Diagnostic::error(
                Code::MissingKey,
                filter.pos,
                "filter without `condition`",
            ));
        }
        return Ok(Document::Filter(FilterDoc {
            meta,
            logsource: logsource_node.map(Logsource::from_node).unwrap_or_default(),
            rules,
            detection: filter.clone(),
            path: path.to_owned(),
        }));
    }
    let Some(logsource_node) = logsource_node else {
        return Err(Diagnostic::error(Code::MissingKey, node.pos, "missing `logsource`"));
    };
    let Some(detection) = node.get("detection") else {
        return Err(Diagnostic::error(Code::MissingKey, node.pos, "missing `detection`"));
    };
    if !matches!(detection.kind, NodeKind::Map(_)) {
        return Err(Diagnostic::error(
            Code::WrongType,
            detection.pos,
            "`detection` must be a mapping",
        ));
    }
    if detection.get("condition").is_none() {
        return Err(Diagnostic::error(
            Code::MissingKey,
            detection.pos,
            "missing `detection.condition`",
        ));
    }
    Ok(Document::Rule(RuleDoc {
        meta,
        logsource: Logsource::from_node(logsource_node),
        detection: detection.clone(),
        path: path.to_owned(),
        pos: node.pos,
    }))
}

/// Merges `over` into `base`: mappings merge key by key, anything else is replaced. This is
/// the merge of Sigma collections (`action: global` and `action: repeat`).
pub(crate) fn merge(base: &Node, over: &Node) -> Node {
    match (&base.kind, &over.kind) {
        (NodeKind::Map(base_entries), NodeKind::Map(over_entries)) => {
            let mut merged = base_entries.clone();
            for (key, value) in over_entries {
                if let Some(slot) = merged.iter_mut().find(|(existing, _)| {
                    existing.as_str().is_some() && existing.as_str() == key.as_str()
                }) {
                    slot.1 = merge(&slot.1, value);
                } else {
                    merged.push((key.clone(), value.clone()));
                }
            }
            Node { pos: over.pos, kind: NodeKind::Map(merged) }
        }
        _ => over.clone(),
    }
}

/// Removes the `action` key of a collection document.
pub(crate) fn without_action(node: &Node) -> Node {
    match &node.kind {
        NodeKind::Map(entries) => Node {
            pos: node.pos,
            kind: NodeKind::Map(
                entries.iter().filter(|(key, _)| key.as_str() != Some("action")).cloned().collect(),
            ),
        },
        _ => node.clone(),
    }
}
