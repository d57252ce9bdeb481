//! Field-mapping pipelines: data files that say which events a Sigma logsource covers and how
//! rule field names translate for each kind of event.
//!
//! The built-in files live in `crates/palisade-sigma/pipelines/` and are compiled into the
//! binary; users pass their own with `--mapping FILE` (same format, documented in that
//! folder's README). A rule's logsource selects the most specific entries whose keys it
//! carries; the rule then runs once per source of those entries, with that source's renames.

use std::collections::HashMap;

use crate::compile::Placeholders;
use crate::error::{Error, Result};
use crate::rule::Logsource;
use crate::yaml::{self, Node};

/// The Windows mapping shipped with the binary.
pub const WINDOWS: &str = include_str!("../pipelines/windows.yml");
/// The ECS mapping shipped with the binary.
pub const ECS: &str = include_str!("../pipelines/ecs.yml");

/// One way a logsource shows up in events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Source {
    /// Conditions on event fields: name → allowed values (lower-case); all must hold.
    pub when: Vec<(String, Vec<String>)>,
    /// Rule field → event field, for this source.
    pub fields: HashMap<String, String>,
}

#[derive(Debug, Clone)]
struct Entry {
    product: Option<String>,
    category: Option<String>,
    service: Option<String>,
    sources: Vec<Source>,
}

impl Entry {
    /// Number of keys, or `None` when the entry does not apply to the logsource.
    fn specificity(&self, logsource: &Logsource) -> Option<usize> {
        let mut keys = 0;
        for (mine, theirs) in [
            (&self.product, &logsource.product),
            (&self.category, &logsource.category),
            (&self.service, &logsource.service),
        ] {
            if let Some(mine) = mine {
                if !theirs.as_deref().is_some_and(|theirs| theirs.eq_ignore_ascii_case(mine)) {
                    return None;
                }
                keys += 1;
            }
        }
        Some(keys)
    }
}

/// A parsed mapping file.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// The pipeline's name.
    pub name: String,
    /// What it is for.
    pub description: String,
    entries: Vec<Entry>,
    /// Values for `|expand` placeholders.
    pub placeholders: Placeholders,
}

/// How a logsource resolves against the mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution<'a> {
    /// No mapping is in use: the rule runs on every event with its own field names.
    Unrestricted,
    /// The rule runs on events matching one of these sources.
    Sources(Vec<&'a Source>),
    /// The mapping has no entry for this logsource: the rule is not evaluated, and the loader
    /// says so.
    Unmapped,
}

impl Pipeline {
    /// Parses a mapping file.
    ///
    /// # Errors
    /// Returns [`Error::InvalidMapping`] with the line of the problem.
    pub fn parse(name: &str, text: &str) -> Result<Self> {
        let invalid = |message: String| Error::InvalidMapping { name: name.to_owned(), message };
        let docs = yaml::parse_documents(text)
            .map_err(|error| invalid(format!("line {}: {}", error.pos.line, error.message)))?;
        let root = docs.first().ok_or_else(|| invalid("empty file".into()))?;
        for (key, _) in root.as_map().ok_or_else(|| invalid("the file must be a mapping".into()))? {
            let key = key.as_str().unwrap_or_default();
            if !["version", "name", "description", "logsources", "placeholders"].contains(&key) {
                return Err(invalid(format!("line {}: unknown key `{key}`", root.pos.line)));
            }
        }
        match root.get("version").and_then(Node::as_str) {
            Some("1") => {}
            other => return Err(invalid(format!("unsupported version {other:?}; expected 1"))),
        }
        let mut entries = Vec::new();
        for item in root.get("logsources").and_then(Node::as_seq).unwrap_or_default() {
            let at = |message: &str| invalid(format!("line {}: {message}", item.pos.line));
            let logsource = item.get("logsource").ok_or_else(|| at("entry without `logsource`"))?;
            let key = |name: &str| logsource.get(name).and_then(Node::as_str).map(str::to_owned);
            let mut sources = Vec::new();
            for source_node in item
                .get("sources")
                .and_then(Node::as_seq)
                .ok_or_else(|| at("entry without `sources` list"))?
            {
                let mut source = Source::default();
                if let Some(when) = source_node.get("when") {
                    for (field, values) in
                        when.as_map().ok_or_else(|| at("`when` must be a mapping"))?
                    {
                        let field =
                            field.as_str().ok_or_else(|| at("field names must be strings"))?;
                        let values = values
                            .string_list()
                            .into_iter()
                            .map(|value| value.to_lowercase())
                            .collect();
                        source.when.push((field.to_owned(), values));
                    }
                }
                if let Some(fields) = source_node.get("fields") {
                    for (from, to) in
                        fields.as_map().ok_or_else(|| at("`fields` must be a mapping"))?
                    {
                        let (Some(from), Some(to)) = (from.as_str(), to.as_str()) else {
                            return Err(at("`fields` maps names to names"));
                        };
                        source.fields.insert(from.to_owned(), to.to_owned());
                    }
                }
                sources.push(source);
            }
            entries.push(Entry {
                product: key("product"),
                category: key("category"),
                service: key("service"),
                sources,
            });
        }
        let mut placeholders = Placeholders::new();
        if let Some(map) = root.get("placeholders").and_then(Node::as_map) {
            for (key, values) in map {
                if let Some(key) = key.as_str() {
                    placeholders.insert(key.to_owned(), values.string_list());
                }
            }
        }
        Ok(Self {
            name: root.get("name").and_then(Node::as_str).unwrap_or(name).to_owned(),
            description: root
                .get("description")
                .and_then(Node::as_str)
                .unwrap_or_default()
                .to_owned(),
            entries,
            placeholders,
        })
    }

    /// Returns the built-in pipelines (Windows and ECS).
    ///
    /// # Panics
    /// Panics if a built-in file is invalid, which a unit test rules out.
    #[must_use]
    pub fn builtin() -> Vec<Pipeline> {
        [("windows", WINDOWS), ("ecs", ECS)]
            .into_iter()
            .map(|(name, text)| {
                #[allow(clippy::expect_used)]
                Pipeline::parse(name, text).expect("built-in mappings are valid")
            })
            .collect()
    }
}

/// Several pipelines used together.
#[derive(Debug, Clone, Default)]
pub struct Mapping {
    pipelines: Vec<Pipeline>,
}

impl Mapping {
    /// Combines pipelines; a logsource resolves against all of them at once.
    #[must_use]
    pub fn new(pipelines: Vec<Pipeline>) -> Self {
        Self { pipelines }
    }

    /// Returns true when no pipeline is in use (raw field names, no logsource filtering).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.pipelines.is_empty()
    }

    /// Returns the pipelines in use.
    #[must_use]
    pub fn pipelines(&self) -> &[Pipeline] {
        &self.pipelines
    }

    /// Merged placeholder values of every pipeline.
    #[must_use]
    pub fn placeholders(&self) -> Placeholders {
        let mut merged = Placeholders::new();
        for pipeline in &self.pipelines {
            for (key, values) in &pipeline.placeholders {
                merged.entry(key.clone()).or_default().extend(values.iter().cloned());
            }
        }
        merged
    }

    /// Resolves a rule's logsource: the sources of the most specific matching entries.
    #[must_use]
    pub fn resolve(&self, logsource: &Logsource) -> Resolution<'_> {
        if self.pipelines.is_empty() {
            return Resolution::Unrestricted;
        }
        let mut best = 0;
        let mut sources: Vec<&Source> = Vec::new();
        for entry in self.pipelines.iter().flat_map(|pipeline| &pipeline.entries) {
            let Some(specificity) = entry.specificity(logsource) else { continue };
            if specificity == 0 {
                continue;
            }
            if specificity > best {
                best = specificity;
                sources.clear();
            }
            if specificity == best {
                sources.extend(entry.sources.iter());
            }
        }
        // A rule whose category or service the winning entries do not name is only loosely
        // mapped (e.g. `product: windows, service: some-new-channel` hitting the generic
        // `product: windows` entry); it would run against every Windows event, where its
        // fields rarely exist. That is what the rule asks for, but the user should know.
        if sources.is_empty() { Resolution::Unmapped } else { Resolution::Sources(sources) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_pipelines_parse() {
        let pipelines = Pipeline::builtin();
        assert_eq!(pipelines.len(), 2);
        assert!(pipelines.iter().all(|pipeline| !pipeline.entries.is_empty()));
    }

    #[test]
    fn most_specific_entry_wins() {
        let mapping = Mapping::new(Pipeline::builtin());
        let logsource = Logsource {
            product: Some("windows".into()),
            category: Some("process_creation".into()),
            ..Logsource::default()
        };
        let Resolution::Sources(sources) = mapping.resolve(&logsource) else {
            panic!("process_creation is mapped")
        };
        assert!(sources.iter().any(|source| {
            source
                .when
                .iter()
                .any(|(field, values)| field == "EventID" && values.contains(&"1".to_owned()))
        }));
        let unknown = Logsource { product: Some("no-such-product".into()), ..Logsource::default() };
        assert_eq!(mapping.resolve(&unknown), Resolution::Unmapped);
    }

    #[test]
    fn rejects_unknown_keys_and_versions() {
        assert!(Pipeline::parse("t", "version: 1\nbogus: 1\n").is_err());
        assert!(Pipeline::parse("t", "version: 2\nlogsources: []\n").is_err());
        assert!(Pipeline::parse("t", "version: 1\nlogsources:\n  - logsource: {product: x}\n    sources:\n      - when: {A: [b]}\n        fields: {X: Y}\n").is_ok());
    }
}
