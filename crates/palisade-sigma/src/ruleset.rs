//! A compiled rule set and the fast path that picks candidate rules for each event.
//!
//! Selecting candidates is what makes a whole SigmaHQ rule set affordable per event:
//! 1. **Logsource index.** Each (rule, source) pair is a *variant*. Variants whose source
//!    names a Windows `Channel` are indexed by it, so a Sysmon event only meets Sysmon rules.
//! 2. **Literal index.** From each variant's predicate we derive clauses of literals, each of
//!    which must have one of its literals occur in the event for the rule to match (see
//!    [`Expr::required_clauses`]: one for each of the two most selective parts of an `and`).
//!    One Aho-Corasick automaton over the literals of variants without keyword searches scans
//!    only the fields those variants test ([`Expr::tested_fields`]); a second one, over the
//!    literals of variants with a keyword search, scans every field, and only events that
//!    meet such a variant. Each scans an event at most once; variants with a clause none of
//!    whose literals was seen are skipped without evaluation.
//! 3. Only the remaining candidates are evaluated exactly.

use std::collections::HashMap;
use std::path::PathBuf;

use aho_corasick::AhoCorasick;
use palisade_event::{Event, Value};
use rayon::prelude::*;

use crate::compile::{Placeholders, compile_detection};
use crate::diagnostic::{Code, Diagnostic, Severity};
use crate::matcher::{Expr, MAX_CLAUSES};
use crate::pipeline::{Mapping, Resolution};
use crate::rule::{
    CorrelationDoc, Document, FilterDoc, Logsource, Meta, merge, read_document, without_action,
};
use crate::yaml::{self, Pos};

/// Conditions on event fields: name → allowed lower-case values.
type When = Vec<(String, Vec<String>)>;

/// A detection rule ready to evaluate.
#[derive(Debug, Clone)]
pub struct CompiledRule {
    /// Metadata.
    pub meta: Meta,
    /// The logsource as written.
    pub logsource: Logsource,
    /// The file it came from.
    pub path: PathBuf,
    /// The predicate over the rule's own field names (before any mapping).
    pub expr: Expr,
}

/// Counts of what a load produced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct LoadStats {
    /// Files read.
    pub files: usize,
    /// YAML documents seen (collection `global`/`reset` documents excluded).
    pub documents: usize,
    /// Detection rules loaded.
    pub rules_loaded: usize,
    /// Documents that failed to load.
    pub failed: usize,
    /// Correlation rules loaded.
    pub correlations: usize,
    /// Filters applied to at least one rule.
    pub filters: usize,
}

#[derive(Debug)]
struct Variant {
    rule: u32,
    when: Vec<(String, Vec<String>)>,
    /// What of `when` the index does not already guarantee.
    residual: Vec<(String, Vec<String>)>,
    expr: Expr,
    /// Which literal index must have seen a literal of each of its clauses for it to be
    /// evaluated.
    literals: Option<Scope>,
    /// One bit per clause ([`Expr::required_clauses`]): all must be set by the scan.
    clauses: u8,
}

/// Where a variant's required literals are looked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// In the fields its field tests read ([`RuleSet::field_literals`]).
    Fields,
    /// In every field: it has a keyword search ([`RuleSet::keyword_literals`]).
    Everywhere,
}

/// A loaded, compiled and indexed set of rules.
#[derive(Debug, Default)]
pub struct RuleSet {
    rules: Vec<CompiledRule>,
    correlations: Vec<CorrelationDoc>,
    diagnostics: Vec<Diagnostic>,
    stats: LoadStats,
    variants: Vec<Variant>,
    /// Variants keyed by (lower-case Channel, EventID text or `None` for any EventID).
    by_key: HashMap<(String, Option<String>), Vec<u32>>,
    /// Variants without a Channel condition, grouped by identical `when`, so that each distinct
    /// condition is tested once per event.
    groups: Vec<(When, Vec<u32>)>,
    /// Literals of variants without keyword searches, looked for only in the fields those
    /// variants test: scanning every value of a syslog event (its `event.original` and
    /// `message` among them) for literals that rules look for in two fields was most of the
    /// cost of matching it.
    field_literals: Option<LiteralIndex>,
    /// Literals of variants with a keyword search, looked for in every field, and only for
    /// events where such a variant is a candidate.
    keyword_literals: Option<LiteralIndex>,
    unmapped: usize,
}

/// Up to this many fields to scan for literals are looked up one by one; more are found by
/// walking the event's fields alongside them.
const SCAN_LOOKUPS: usize = 16;

/// One Aho-Corasick automaton over literals, the variants each literal stands for, and the
/// fields to scan for them.
#[derive(Debug)]
struct LiteralIndex {
    automaton: AhoCorasick,
    /// By pattern id: the variants it stands for, each with the bit of the clause it is in.
    variants: Vec<Vec<(u32, u8)>>,
    /// In the events' own order ([`palisade_event::field_order`]), with their keys; `None`
    /// for every field.
    fields: Option<Vec<(u64, String)>>,
}

/// Literals gathered while indexing, for one [`LiteralIndex`].
#[derive(Debug, Default)]
struct LiteralTable {
    ids: HashMap<String, u32>,
    patterns: Vec<String>,
    variants: Vec<Vec<(u32, u8)>>,
    fields: Vec<String>,
}

impl LiteralTable {
    /// Adds a variant's clauses; returns the bits they take.
    fn add(&mut self, variant_idx: u32, clauses: Vec<Vec<String>>) -> u8 {
        let mut all = 0;
        for (bit, clause) in clauses.into_iter().take(MAX_CLAUSES).enumerate() {
            let bit = 1 << bit;
            all |= bit;
            for literal in clause {
                let next_id = u32::try_from(self.patterns.len()).unwrap_or(u32::MAX);
                let id = *self.ids.entry(literal.clone()).or_insert_with(|| {
                    self.patterns.push(literal);
                    self.variants.push(Vec::new());
                    next_id
                });
                self.variants[id as usize].push((variant_idx, bit));
            }
        }
        all
    }

    /// The index, or `None` when there is no literal or the automaton cannot be built (too
    /// large); the variants of such a table are then evaluated without a literal test.
    fn build(self, scoped: bool) -> Option<LiteralIndex> {
        if self.patterns.is_empty() {
            return None;
        }
        // The literals are lower case; ASCII text is scanned without folding it first.
        let automaton =
            AhoCorasick::builder().ascii_case_insensitive(true).build(&self.patterns).ok()?;
        let fields = scoped.then(|| {
            let mut keyed: Vec<(u64, String)> = self
                .fields
                .into_iter()
                .map(|name| (palisade_event::field_key(&name), name))
                .collect();
            keyed.sort_unstable();
            keyed.dedup();
            keyed
        });
        Some(LiteralIndex { automaton, variants: self.variants, fields })
    }
}

impl LiteralIndex {
    /// Marks in `seen` (with `generation`) the clauses of every variant one of whose
    /// literals occurs in the values scanned.
    fn scan(&self, event: &Event, seen: &mut [(u32, u8)], generation: u32) {
        let mut scan_text = |text: &str| {
            for found in self.automaton.find_overlapping_iter(text) {
                for &(variant_idx, bit) in &self.variants[found.pattern().as_usize()] {
                    let (stamp, clauses) = &mut seen[variant_idx as usize];
                    if *stamp != generation {
                        *stamp = generation;
                        *clauses = 0;
                    }
                    *clauses |= bit;
                }
            }
        };
        match &self.fields {
            None => {
                for (_, value) in event.fields() {
                    visit(value, &mut scan_text);
                }
            }
            // A few fields: looked up one by one, most answered "absent" by the event's
            // presence bits without a search.
            Some(fields) if fields.len() <= SCAN_LOOKUPS => {
                for (_, name) in fields {
                    if let Some(value) = event.get(name) {
                        visit(value, &mut scan_text);
                    }
                }
            }
            // Many (a Windows rule set names hundreds): one walk of both sorted lists.
            Some(fields) => {
                let mut wanted = fields.iter().peekable();
                for (key, name, value) in event.keyed_fields() {
                    while wanted
                        .next_if(|(other_key, other)| (*other_key, other.as_str()) < (key, name))
                        .is_some()
                    {}
                    let Some((other_key, other)) = wanted.peek() else { break };
                    if *other_key == key && other == name {
                        visit(value, &mut scan_text);
                    }
                }
            }
        }
    }
}

/// Scans one value as the matchers read it.
fn visit(value: &Value, scan: &mut dyn FnMut(&str)) {
    match value {
        // The automaton ignores ASCII case, and ASCII text folds to its ASCII lower case: it
        // is scanned as it is, not folded. Other text is scanned folded, as the matchers see
        // it (a Kelvin sign folds to an ASCII `k`).
        Value::Str(text) if text.as_str().is_ascii() => scan(text.as_str()),
        Value::Str(text) => scan(text.lower()),
        Value::List(items) => items.iter().for_each(|item| visit(item, scan)),
        Value::Null => {}
        // Numbers and booleans in the spelling `Value::to_text` gives them, without a string
        // allocated per field and event: only a float's `NaN` or `inf` has letters whose case
        // needs folding.
        Value::Int(int) => scan(itoa::Buffer::new().format(*int)),
        Value::Bool(flag) => scan(if *flag { "true" } else { "false" }),
        Value::Float(float) => scan(&float.to_string().to_lowercase()),
    }
}

/// Per-thread scratch space for [`RuleSet::matches`], so matching allocates nothing.
#[derive(Debug, Default)]
pub struct Scratch {
    generation: u32,
    /// Per variant: the generation of the event whose scan last found one of its literals,
    /// and the clauses found in that event.
    literal_seen: Vec<(u32, u8)>,
    rule_hit: Vec<u32>,
    hits: Vec<u32>,
    evaluated: u64,
}

impl Scratch {
    /// How many (rule, source) variants have been evaluated exactly so far, over every
    /// event matched with this scratch space: what the indexes did not rule out.
    #[must_use]
    pub fn evaluated(&self) -> u64 {
        self.evaluated
    }
}

/// Parses one rule file into documents, applying Sigma collection semantics: a document with
/// `action: global` is merged into every following document until `action: reset`; one with
/// `action: repeat` is the previous document with its own keys merged over it.
#[must_use]
pub fn parse_source(path: &std::path::Path, text: &str) -> (Vec<Document>, Vec<Diagnostic>, usize) {
    let mut diagnostics = Vec::new();
    let mut documents = Vec::new();
    let mut seen = 0;
    let nodes = match yaml::parse_documents(text) {
        Ok(nodes) => nodes,
        Err(error) => {
            let mut diagnostic = Diagnostic::error(
                Code::YamlSyntax,
                error.pos,
                format!("invalid YAML: {}", error.message),
            );
            diagnostic.file = path.to_owned();
            return (documents, vec![diagnostic], 1);
        }
    };
    let mut global: Option<yaml::Node> = None;
    let mut previous: Option<yaml::Node> = None;
    for node in nodes {
        let action = node.get("action").and_then(yaml::Node::as_str).map(str::to_owned);
        let merged = match action.as_deref() {
            Some("global") => {
                global = Some(without_action(&node));
                continue;
            }
            Some("reset") => {
                global = None;
                continue;
            }
            Some("repeat") => {
                let Some(prev) = &previous else {
                    diagnostics.push(Diagnostic::error(
                        Code::CollectionAction,
                        node.pos,
                        "`action: repeat` without a previous document",
                    ));
                    seen += 1;
                    continue;
                };
                merge(prev, &without_action(&node))
            }
            Some(other) => {
                diagnostics.push(Diagnostic::error(
                    Code::CollectionAction,
                    node.pos,
                    format!("unknown collection action `{other}`"),
                ));
                seen += 1;
                continue;
            }
            None => match &global {
                Some(base) => merge(base, &node),
                None => node,
            },
        };
        seen += 1;
        let mut doc_diagnostics = Vec::new();
        match read_document(&merged, path, &mut doc_diagnostics) {
            Ok(document) => documents.push(document),
            Err(error) => doc_diagnostics.push(error),
        }
        let title = merged.get("title").and_then(yaml::Node::as_str).map(str::to_owned);
        for mut diagnostic in doc_diagnostics {
            diagnostic.rule.clone_from(&title);
            diagnostics.push(diagnostic);
        }
        previous = Some(merged);
    }
    for diagnostic in &mut diagnostics {
        diagnostic.file = path.to_owned();
    }
    (documents, diagnostics, seen)
}

/// Builds rule sets from rule sources under a field mapping.
#[derive(Debug, Clone, Default)]
pub struct Loader {
    mapping: Mapping,
    placeholders: Placeholders,
}

impl Loader {
    /// Creates a loader; an empty mapping means raw field names and no logsource filtering.
    #[must_use]
    pub fn new(mapping: Mapping) -> Self {
        let placeholders = mapping.placeholders();
        Self { mapping, placeholders }
    }

    /// Parses, compiles and indexes rule sources (path and text), in parallel.
    #[must_use]
    pub fn load(&self, sources: &[(PathBuf, String)]) -> RuleSet {
        struct Part {
            rules: Vec<CompiledRule>,
            correlations: Vec<CorrelationDoc>,
            filters: Vec<FilterDoc>,
            diagnostics: Vec<Diagnostic>,
            documents: usize,
            failed: usize,
        }
        let parts: Vec<Part> = sources
            .par_iter()
            .map(|(path, text)| {
                let (documents, mut diagnostics, seen) = parse_source(path, text);
                let mut part = Part {
                    rules: Vec::new(),
                    correlations: Vec::new(),
                    filters: Vec::new(),
                    diagnostics: Vec::new(),
                    documents: seen,
                    failed: 0,
                };
                part.failed = seen - documents.len();
                for document in documents {
                    match document {
                        Document::Rule(rule) => {
                            let mut rule_diagnostics = Vec::new();
                            match compile_detection(
                                &rule.detection,
                                &self.placeholders,
                                &mut rule_diagnostics,
                            ) {
                                Ok(expr) => part.rules.push(CompiledRule {
                                    meta: rule.meta.clone(),
                                    logsource: rule.logsource,
                                    path: rule.path,
                                    expr,
                                }),
                                Err(error) => {
                                    part.failed += 1;
                                    rule_diagnostics.push(error);
                                }
                            }
                            for mut diagnostic in rule_diagnostics {
                                diagnostic.file.clone_from(path);
                                diagnostic.rule = Some(rule.meta.title.clone());
                                diagnostics.push(diagnostic);
                            }
                        }
                        Document::Correlation(correlation) => part.correlations.push(correlation),
                        Document::Filter(filter) => part.filters.push(filter),
                    }
                }
                part.diagnostics = diagnostics;
                part
            })
            .collect();

        let mut set = RuleSet::default();
        let mut filters = Vec::new();
        set.stats.files = sources.len();
        for part in parts {
            set.stats.documents += part.documents;
            set.stats.failed += part.failed;
            set.rules.extend(part.rules);
            set.correlations.extend(part.correlations);
            filters.extend(part.filters);
            set.diagnostics.extend(part.diagnostics);
        }
        self.apply_filters(&mut set, &filters);
        self.check_correlations(&mut set);
        self.check_duplicates(&mut set);
        set.stats.rules_loaded = set.rules.len();
        set.stats.correlations = set.correlations.len();
        self.index(&mut set);
        set.diagnostics.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        set
    }

    /// Applies Sigma filters: the target rule's condition becomes `rule and not filter`.
    fn apply_filters(&self, set: &mut RuleSet, filters: &[FilterDoc]) {
        for filter in filters {
            let mut diagnostics = Vec::new();
            let expr =
                match compile_detection(&filter.detection, &self.placeholders, &mut diagnostics) {
                    Ok(expr) => expr,
                    Err(error) => {
                        diagnostics.push(error);
                        set.stats.failed += 1;
                        set.diagnostics.extend(diagnostics.into_iter().map(|mut d| {
                            d.file.clone_from(&filter.path);
                            d
                        }));
                        continue;
                    }
                };
            let mut applied = false;
            for rule in &mut set.rules {
                let named = filter.rules.iter().any(|target| {
                    rule.meta.id.as_deref() == Some(target)
                        || rule.meta.name.as_deref() == Some(target)
                });
                if named && logsource_compatible(&filter.logsource, &rule.logsource) {
                    rule.expr =
                        Expr::And(vec![rule.expr.clone(), Expr::Not(Box::new(expr.clone()))]);
                    applied = true;
                }
            }
            if applied {
                set.stats.filters += 1;
            } else {
                let mut diagnostic = Diagnostic::warning(
                    Code::FilterWithoutRule,
                    Pos::default(),
                    format!("filter `{}` applies to no loaded rule", filter.meta.title),
                );
                diagnostic.file.clone_from(&filter.path);
                set.diagnostics.push(diagnostic);
            }
        }
    }

    fn check_correlations(&self, set: &mut RuleSet) {
        let _ = self;
        for correlation in &set.correlations {
            for reference in &correlation.rules {
                let known = set.rules.iter().any(|rule| {
                    rule.meta.id.as_deref() == Some(reference)
                        || rule.meta.name.as_deref() == Some(reference)
                }) || set.correlations.iter().any(|other| {
                    other.meta.id.as_deref() == Some(reference)
                        || other.meta.name.as_deref() == Some(reference)
                });
                if !known {
                    let mut diagnostic = Diagnostic::warning(
                        Code::UnknownRuleReference,
                        correlation.body.pos,
                        format!("correlation refers to `{reference}`, which is not loaded"),
                    );
                    diagnostic.file.clone_from(&correlation.path);
                    diagnostic.rule = Some(correlation.meta.title.clone());
                    set.diagnostics.push(diagnostic);
                }
            }
        }
    }

    fn check_duplicates(&self, set: &mut RuleSet) {
        let _ = self;
        let mut seen: HashMap<&str, &PathBuf> = HashMap::new();
        let mut found = Vec::new();
        for rule in &set.rules {
            if let Some(id) = rule.meta.id.as_deref()
                && let Some(first) = seen.insert(id, &rule.path)
            {
                let mut diagnostic = Diagnostic::warning(
                    Code::DuplicateId,
                    Pos::default(),
                    format!("rule id {id} is also used by {}", first.display()),
                );
                diagnostic.file.clone_from(&rule.path);
                diagnostic.rule = Some(rule.meta.title.clone());
                found.push(diagnostic);
            }
        }
        set.diagnostics.extend(found);
    }

    fn index(&self, set: &mut RuleSet) {
        let mut unmapped_warned = Vec::new();
        for (rule_idx, rule) in set.rules.iter().enumerate() {
            let rule_idx = u32::try_from(rule_idx).unwrap_or(u32::MAX);
            match self.mapping.resolve(&rule.logsource) {
                Resolution::Unrestricted => set.variants.push(Variant {
                    rule: rule_idx,
                    when: Vec::new(),
                    residual: Vec::new(),
                    expr: rule.expr.clone(),
                    literals: None,
                    clauses: 0,
                }),
                Resolution::Unmapped => {
                    let mut diagnostic = Diagnostic::warning(
                        Code::UnmappedLogsource,
                        Pos::default(),
                        format!(
                            "logsource {} is not in the field mapping; the rule is not evaluated (add a mapping file, or use no mapping)",
                            rule.logsource.describe()
                        ),
                    );
                    diagnostic.file.clone_from(&rule.path);
                    diagnostic.rule = Some(rule.meta.title.clone());
                    unmapped_warned.push(diagnostic);
                    set.unmapped += 1;
                }
                Resolution::Sources(sources) => {
                    for source in sources {
                        let mut expr = rule.expr.clone();
                        if !source.fields.is_empty() {
                            expr.rename_fields(&|name| source.fields.get(name).cloned());
                        }
                        set.variants.push(Variant {
                            rule: rule_idx,
                            when: source.when.clone(),
                            residual: Vec::new(),
                            expr,
                            literals: None,
                            clauses: 0,
                        });
                    }
                }
            }
        }
        set.diagnostics.extend(unmapped_warned);

        let mut scoped = LiteralTable::default();
        let mut everywhere = LiteralTable::default();
        for (variant_idx, variant) in set.variants.iter_mut().enumerate() {
            let variant_idx = u32::try_from(variant_idx).unwrap_or(u32::MAX);
            let channels = variant
                .when
                .iter()
                .find(|(field, _)| field == "Channel")
                .map(|(_, values)| values)
                .filter(|values| !values.iter().any(|value| value == "*"));
            if let Some(channels) = channels {
                let event_ids = variant
                    .when
                    .iter()
                    .find(|(field, _)| field == "EventID")
                    .map(|(_, values)| values);
                for channel in channels {
                    match event_ids {
                        Some(ids) => {
                            for id in ids {
                                set.by_key
                                    .entry((channel.clone(), Some(id.clone())))
                                    .or_default()
                                    .push(variant_idx);
                            }
                        }
                        None => {
                            set.by_key.entry((channel.clone(), None)).or_default().push(variant_idx)
                        }
                    }
                }
                variant.residual = variant
                    .when
                    .iter()
                    .filter(|(field, _)| field != "Channel" && field != "EventID")
                    .cloned()
                    .collect();
            } else if let Some(group) =
                set.groups.iter_mut().find(|(when, _)| *when == variant.when)
            {
                group.1.push(variant_idx);
            } else {
                set.groups.push((variant.when.clone(), vec![variant_idx]));
            }
            let clauses = variant.expr.required_clauses();
            if !clauses.is_empty() {
                let mut fields = Vec::new();
                if variant.expr.tested_fields(&mut fields) {
                    variant.literals = Some(Scope::Fields);
                    scoped.fields.extend(fields);
                    variant.clauses = scoped.add(variant_idx, clauses);
                } else {
                    variant.literals = Some(Scope::Everywhere);
                    variant.clauses = everywhere.add(variant_idx, clauses);
                }
            }
        }
        set.field_literals = scoped.build(true);
        set.keyword_literals = everywhere.build(false);
    }
}

fn logsource_compatible(filter: &Logsource, rule: &Logsource) -> bool {
    [
        (&filter.product, &rule.product),
        (&filter.category, &rule.category),
        (&filter.service, &rule.service),
    ]
    .iter()
    .all(|(want, have)| {
        want.as_deref()
            .is_none_or(|want| have.as_deref().is_some_and(|have| have.eq_ignore_ascii_case(want)))
    })
}

impl RuleSet {
    /// Returns the compiled rules.
    #[must_use]
    pub fn rules(&self) -> &[CompiledRule] {
        &self.rules
    }

    /// Returns one rule.
    #[must_use]
    pub fn rule(&self, idx: u32) -> &CompiledRule {
        &self.rules[idx as usize]
    }

    /// Returns the loaded correlation rules (evaluated by the streaming engine, not here).
    #[must_use]
    pub fn correlations(&self) -> &[CorrelationDoc] {
        &self.correlations
    }

    /// Returns every diagnostic, sorted by file and line.
    #[must_use]
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// Returns the error diagnostics (documents that did not load).
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.severity == Severity::Error)
    }

    /// Returns load counts.
    #[must_use]
    pub fn stats(&self) -> LoadStats {
        self.stats
    }

    /// Returns the number of loaded rules that the field mapping does not cover; they are kept
    /// but never evaluated, since their fields would be looked up in events of another kind.
    #[must_use]
    pub fn unmapped_rules(&self) -> usize {
        self.unmapped
    }

    /// Returns the number of (rule, source) variants that the index holds.
    #[must_use]
    pub fn variant_count(&self) -> usize {
        self.variants.len()
    }

    /// Keeps only the rules for which `keep` is true, re-indexing the rest.
    #[must_use]
    pub fn retain(self, loader: &Loader, keep: impl Fn(&CompiledRule) -> bool) -> RuleSet {
        let mut set = RuleSet {
            rules: self.rules.into_iter().filter(|rule| keep(rule)).collect(),
            correlations: self.correlations,
            diagnostics: self
                .diagnostics
                .into_iter()
                .filter(|d| d.code != Code::UnmappedLogsource)
                .collect(),
            stats: self.stats,
            ..RuleSet::default()
        };
        loader.index(&mut set);
        set
    }

    /// Returns a scratch space sized for this rule set.
    #[must_use]
    pub fn scratch(&self) -> Scratch {
        Scratch {
            generation: 0,
            literal_seen: vec![(0, 0); self.variants.len()],
            rule_hit: vec![0; self.rules.len()],
            hits: Vec::new(),
            evaluated: 0,
        }
    }

    /// Returns the indices of the rules that match the event, each once, in rule order of
    /// discovery.
    pub fn matches<'s>(&self, event: &Event, scratch: &'s mut Scratch) -> &'s [u32] {
        scratch.hits.clear();
        if scratch.literal_seen.len() != self.variants.len()
            || scratch.rule_hit.len() != self.rules.len()
        {
            let evaluated = scratch.evaluated;
            *scratch = self.scratch();
            scratch.evaluated = evaluated;
        }
        scratch.generation = scratch.generation.wrapping_add(1);
        if scratch.generation == 0 {
            scratch.literal_seen.fill((0, 0));
            scratch.rule_hit.fill(0);
            scratch.generation = 1;
        }
        let generation = scratch.generation;
        let mut scanned = Scanned::default();
        if !self.by_key.is_empty()
            && let Some(channel) = event.get("Channel").and_then(Value::to_text)
        {
            let channel = channel.to_lowercase();
            let event_id =
                event.get("EventID").and_then(Value::to_text).map(std::borrow::Cow::into_owned);
            let exact = self.by_key.get(&(channel.clone(), event_id));
            let any_id = self.by_key.get(&(channel, None));
            for &variant_idx in exact.into_iter().chain(any_id).flatten() {
                let variant = &self.variants[variant_idx as usize];
                if variant.residual.is_empty() || when_holds(&variant.residual, event) {
                    self.try_variant(variant_idx, event, scratch, generation, &mut scanned);
                }
            }
        }
        for (when, members) in &self.groups {
            if when_holds(when, event) {
                for &variant_idx in members {
                    self.try_variant(variant_idx, event, scratch, generation, &mut scanned);
                }
            }
        }
        &scratch.hits
    }

    /// Evaluates one candidate variant unless its rule already matched or one of its clauses
    /// has no literal in the event. Each literal index scans the event at most once, when a variant
    /// that needs it is first a candidate: an event that meets no keyword rule is never
    /// scanned whole.
    #[inline]
    fn try_variant(
        &self,
        variant_idx: u32,
        event: &Event,
        scratch: &mut Scratch,
        generation: u32,
        scanned: &mut Scanned,
    ) {
        let variant = &self.variants[variant_idx as usize];
        if scratch.rule_hit[variant.rule as usize] == generation {
            return;
        }
        if let Some(scope) = variant.literals {
            let (index, done) = match scope {
                Scope::Fields => (&self.field_literals, &mut scanned.fields),
                Scope::Everywhere => (&self.keyword_literals, &mut scanned.everywhere),
            };
            // An index that could not be built (too large) tests nothing: its variants are
            // evaluated.
            if let Some(index) = index {
                if !*done {
                    index.scan(event, &mut scratch.literal_seen, generation);
                    *done = true;
                }
                if scratch.literal_seen[variant_idx as usize] != (generation, variant.clauses) {
                    return;
                }
            }
        }
        scratch.evaluated += 1;
        if variant.expr.eval(event) {
            scratch.rule_hit[variant.rule as usize] = generation;
            scratch.hits.push(variant.rule);
        }
    }
}

/// Which literal indexes have scanned the current event.
#[derive(Debug, Default)]
struct Scanned {
    fields: bool,
    everywhere: bool,
}

fn when_holds(when: &[(String, Vec<String>)], event: &Event) -> bool {
    fn allowed_value(value: &Value, allowed: &[String]) -> bool {
        match value {
            Value::List(items) => items.iter().any(|item| allowed_value(item, allowed)),
            _ if allowed.iter().any(|value| value == "*") => true,
            other => other
                .to_text()
                .is_some_and(|text| allowed.iter().any(|value| value.eq_ignore_ascii_case(&text))),
        }
    }
    when.iter()
        .all(|(field, allowed)| event.get(field).is_some_and(|value| allowed_value(value, allowed)))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use palisade_event::{Event, Str, Value};
    use proptest::prelude::*;

    use super::RuleSet;
    use crate::{Loader, Mapping};

    /// One rule file per detection (raw field names, no logsource filter), named `rN`.
    fn load(detections: &[String]) -> RuleSet {
        let sources: Vec<(PathBuf, String)> = detections
            .iter()
            .enumerate()
            .map(|(idx, detection)| {
                let indented: String =
                    detection.lines().map(|line| format!("    {line}\n")).collect();
                let yaml =
                    format!("title: r{idx}\nlogsource: {{product: test}}\ndetection:\n{indented}");
                (PathBuf::from(format!("r{idx}.yml")), yaml)
            })
            .collect();
        let set = Loader::new(Mapping::default()).load(&sources);
        assert_eq!(set.rules().len(), detections.len(), "{:?}", set.diagnostics());
        set
    }

    fn event(fields: &[(&str, Value)]) -> Event {
        Event::from_fields(
            fields.iter().map(|(name, value)| (Str::copy(name), value.clone())).collect(),
        )
    }

    fn titles(set: &RuleSet, event: &Event) -> Vec<String> {
        let mut scratch = set.scratch();
        let mut titles: Vec<String> = set
            .matches(event, &mut scratch)
            .iter()
            .map(|&idx| set.rules()[idx as usize].meta.title.clone())
            .collect();
        titles.sort();
        titles
    }

    #[test]
    fn field_literals_are_looked_for_in_the_tested_fields_only() {
        let set = load(&[
            "sel:\n    CommandLine|contains: 'mimikatz'\ncondition: sel".to_owned(),
            "sel:\n    Image|endswith: '\\\\rundll32.exe'\n    Count: 4625\ncondition: sel"
                .to_owned(),
        ]);
        let scoped = set.field_literals.as_ref().expect("a field literal index");
        let fields: Vec<&str> =
            scoped.fields.as_ref().expect("scoped").iter().map(|(_, name)| name.as_str()).collect();
        assert_eq!(fields.len(), 3, "{fields:?}");
        for name in ["CommandLine", "Image", "Count"] {
            assert!(fields.contains(&name), "{fields:?}");
        }
        assert!(set.keyword_literals.is_none());

        let long = "x".repeat(300);
        // In the field, whatever else the event holds, as text, folded text and in a list.
        for value in [
            Value::from("run MIMIKATZ now"),
            Value::from("ÄÖÜ mimiKATZ"),
            Value::List(vec![Value::Int(1), Value::from("a mimikatz b")]),
        ] {
            let found = event(&[
                ("message", Value::from(long.as_str())),
                ("CommandLine", value.clone()),
                ("event.original", Value::from("nothing")),
            ]);
            assert_eq!(titles(&set, &found), ["r0"], "{value:?}");
        }
        // Only in other fields: no match (the rule could not match there either).
        let elsewhere = event(&[
            ("message", Value::from("mimikatz")),
            ("event.original", Value::from("c:\\windows\\rundll32.exe")),
            ("Count", Value::Int(4625)),
        ]);
        assert!(titles(&set, &elsewhere).is_empty());
        let both = event(&[
            ("Image", Value::from("C:\\Windows\\System32\\RUNDLL32.EXE")),
            ("Count", Value::Int(4625)),
            ("CommandLine", Value::from("mimikatz")),
        ]);
        assert_eq!(titles(&set, &both), ["r0", "r1"]);
    }

    #[test]
    fn a_keyword_rule_still_finds_its_literal_in_any_field() {
        let set = load(&[
            "sel:\n    CommandLine|contains: 'mimikatz'\ncondition: sel".to_owned(),
            "keywords:\n    - 'sekurlsa::logonpasswords'\ncondition: keywords".to_owned(),
            "sel:\n    User: 'admin'\nkeywords:\n    - 'privilege::debug'\ncondition: sel and keywords"
                .to_owned(),
        ]);
        assert!(set.field_literals.as_ref().is_some_and(|index| index.fields.is_some()));
        assert!(set.keyword_literals.as_ref().is_some_and(|index| index.fields.is_none()));
        let keyword = event(&[
            ("CommandLine", Value::from("cmd.exe")),
            ("message", Value::from("ran SEKURLSA::LogonPasswords")),
        ]);
        assert_eq!(titles(&set, &keyword), ["r1"]);
        let mixed = event(&[
            ("User", Value::from("Admin")),
            ("event.original", Value::from("privilege::debug")),
            ("CommandLine", Value::from("mimikatz.exe")),
        ]);
        assert_eq!(titles(&set, &mixed), ["r0", "r2"]);
    }

    #[test]
    fn a_rule_is_evaluated_only_when_each_part_of_an_and_can_hold() {
        let set = load(&[
            "sel:\n    event.category: authentication\n    event.outcome: failure\ncondition: sel"
                .to_owned(),
            "sel:\n    event.category: authentication\n    event.outcome: success\ncondition: sel"
                .to_owned(),
            "sel:\n    CommandLine|contains|all:\n        - 'sekurlsa'\n        - 'logonpasswords'\ncondition: sel"
                .to_owned(),
        ]);
        let mut scratch = set.scratch();
        let failure = event(&[
            ("event.category", Value::from("authentication")),
            ("event.outcome", Value::from("failure")),
        ]);
        let hits: Vec<u32> = set.matches(&failure, &mut scratch).to_vec();
        assert_eq!(hits, [0]);
        // The success rule's `success` was not seen: it was not evaluated.
        assert_eq!(scratch.evaluated(), 1);
        let half = event(&[("CommandLine", Value::from("sekurlsa::pth"))]);
        assert!(set.matches(&half, &mut scratch).is_empty());
        assert_eq!(scratch.evaluated(), 1);
        let both = event(&[("CommandLine", Value::from("SEKURLSA::LogonPasswords"))]);
        assert_eq!(set.matches(&both, &mut scratch), [2]);
        assert_eq!(scratch.evaluated(), 2);
        // Both literals, but in another field than the one tested: nothing to evaluate.
        let elsewhere = event(&[
            ("CommandLine", Value::from("sekurlsa")),
            ("message", Value::from("logonpasswords")),
        ]);
        assert!(set.matches(&elsewhere, &mut scratch).is_empty());
        assert_eq!(scratch.evaluated(), 2);
    }

    /// Rules from a small vocabulary, so that events often hold their literals.
    fn arbitrary_rule() -> impl Strategy<Value = String> {
        let value = prop::sample::select(vec!["alpha", "beta", "gamma", "delta", "al", "et"]);
        let modifier = prop::sample::select(vec!["", "|contains", "|startswith", "|endswith"]);
        let field = prop::sample::select(vec!["A", "B", "C"]);
        let test = (field, modifier, any::<bool>(), prop::collection::vec(value, 1..3)).prop_map(
            |(field, modifier, all, values)| {
                let all = if all && !modifier.is_empty() { "|all" } else { "" };
                let list: String =
                    values.iter().map(|value| format!("\n        - '{value}'")).collect();
                format!("    {field}{modifier}{all}:{list}\n")
            },
        );
        let selection = prop::collection::vec(test, 1..3).prop_map(|tests| tests.concat());
        let keyword = prop::sample::select(vec!["alpha", "gamma", "delta"]);
        let condition = prop::sample::select(vec![
            "s1",
            "s1 and s2",
            "s1 or s2",
            "s1 and not s2",
            "(s1 or k) and s2",
            "s1 and s2 and k",
            "1 of s*",
            "all of s*",
        ]);
        (selection.clone(), selection, keyword, condition).prop_map(
            |(s1, s2, keyword, condition)| {
                format!("s1:\n{s1}s2:\n{s2}k:\n    - '{keyword}'\ncondition: {condition}")
            },
        )
    }

    fn arbitrary_event() -> impl Strategy<Value = Vec<(&'static str, String)>> {
        let word = prop::sample::select(vec!["alpha", "BETA", "gamma", "delta", "xal", "set", "z"]);
        let text = prop::collection::vec(word, 1..3).prop_map(|words| words.join(""));
        let field = prop::sample::select(vec!["A", "B", "C", "D"]);
        prop::collection::vec((field, text), 0..5)
    }

    proptest! {
        /// The indexes only skip work: the rules that match are those whose predicate holds.
        #[test]
        fn the_indexes_skip_only_rules_that_cannot_match(
            rules in prop::collection::vec(arbitrary_rule(), 1..6),
            events in prop::collection::vec(arbitrary_event(), 1..8),
        ) {
            let set = load(&rules);
            let mut scratch = set.scratch();
            for fields in &events {
                let fields: Vec<(&str, Value)> =
                    fields.iter().map(|(name, text)| (*name, Value::from(text.as_str()))).collect();
                let event = event(&fields);
                let mut found = set.matches(&event, &mut scratch).to_vec();
                found.sort_unstable();
                let expected: Vec<u32> = (0..)
                    .zip(set.rules())
                    .filter(|(_, rule)| rule.expr.eval(&event))
                    .map(|(idx, _)| idx)
                    .collect();
                prop_assert_eq!(found, expected, "{:?}", fields);
            }
        }
    }

    #[test]
    fn many_tested_fields_are_walked_alongside_the_event() {
        // More fields than are looked up one by one, some sharing a key (the same length and
        // first seven bytes), so the walk must tell names apart past the key.
        let names: Vec<String> = (0..12)
            .map(|idx| format!("source.port{}", char::from(b'a' + idx)))
            .chain((0..12).map(|idx| format!("F{idx}")))
            .collect();
        let detections: Vec<String> = names
            .iter()
            .map(|name| format!("sel:\n    {name}|contains: 'needle-{name}'\ncondition: sel"))
            .collect();
        let set = load(&detections);
        let scoped = set.field_literals.as_ref().and_then(|index| index.fields.as_ref());
        assert_eq!(scoped.map(Vec::len), Some(names.len()));
        for (idx, name) in names.iter().enumerate() {
            // Every field present, each holding the next one's needle; the chosen one holds
            // its own.
            let mut fields: Vec<(&str, Value)> = names
                .iter()
                .zip(names.iter().cycle().skip(1))
                .map(|(field, next)| (field.as_str(), Value::from(format!("x needle-{next}x"))))
                .collect();
            fields.push(("message", Value::from("needle-F0 needle-source.porta")));
            fields.retain(|(field, _)| field != name);
            fields.push((name.as_str(), Value::from(format!("needle-{name}"))));
            // Only its own rule: the others' needles are in the wrong fields or the message.
            assert_eq!(titles(&set, &event(&fields)), [format!("r{idx}")], "{name}");
        }
    }
}
