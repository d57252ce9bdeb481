//! Sigma correlation rules on the stream (the Sigma correlation specification, v2.1).
//!
//! A correlation rule counts, over a sliding window of event time, the matches of the rules it
//! names, separately for each group of `group-by` values. [`CorrelationSet::compile`] turns the
//! loaded correlation documents into [`Correlation`]s with their references resolved;
//! [`CorrelationEngine`] holds the open windows and raises [`Alert`]s.
//!
//! Semantics, where the specification leaves a choice to the tool:
//! - **Windows slide over event time** and are not aligned to clock boundaries: a window is any
//!   interval `[s, s + timespan]` (both ends included) that starts at a match.
//! - **Conditions with only lower bounds** (`gt`, `gte`) are tested as each match arrives, over
//!   every window that contains it, so the alert comes as soon as the threshold is crossed
//!   (`value_avg`: over the trailing window that ends at the match, since an average is not
//!   monotone and a shorter window inside would pass on one large value).
//!   **Conditions with an upper bound** (`lt`, `lte`, `eq`, `neq`, ranges) can only be decided
//!   once a window is complete: they are tested when the window that starts at the group's
//!   earliest match closes (its end plus the allowed lateness is behind the newest event time,
//!   or the group has been idle for that long on the processing clock).
//! - After a window fires, its matches are consumed: the same matches never raise a second
//!   alert of the same correlation.
//! - **Missing group-by fields**: a match whose event lacks a group-by field (after aliases) is
//!   not counted for that correlation; grouping unrelated events under an empty value would
//!   correlate strangers.
//! - **Late events**: a match older than the newest event time minus the allowed lateness is
//!   not counted (its window may already have been decided); it is still stored and still
//!   raises its own single-event alert. [`EngineStats::late`] counts them.
//! - Rules that a correlation refers to raise no alert of their own unless it says
//!   `generate: true`; the same holds for correlations that feed another one (chains).
//! - `value_percentile`: the share, in percent, that one value of `field` has among the
//!   group's matches in the window; the condition holds for the values whose share satisfies
//!   it (the specification's example: a process name seen in at most 1 % of a host's process
//!   starts). Evaluated when the window closes.

use std::collections::{BTreeMap, HashMap, HashSet};

use jiff::{SignedDuration, Timestamp};
use palisade_event::{Event, Value};
use palisade_sigma::RuleSet;
use palisade_sigma::rule::CorrelationDoc;
use palisade_sigma::yaml::{Node, Scalar};
use serde::{Deserialize, Serialize};

use crate::alert::{Alert, AlertKind, Entities, EventId, Severity};

/// The correlation types of the specification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Number of matches.
    EventCount,
    /// Number of distinct values of `field`.
    ValueCount,
    /// Number of distinct referred rules that matched, in any order.
    Temporal,
    /// All referred rules matched, in the order given.
    TemporalOrdered,
    /// Sum of a numeric `field`.
    ValueSum,
    /// Average of a numeric `field`.
    ValueAvg,
    /// Share of one value of `field` among the matches, in percent.
    ValuePercentile,
}

impl Kind {
    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "event_count" => Self::EventCount,
            "value_count" => Self::ValueCount,
            "temporal" => Self::Temporal,
            "temporal_ordered" => Self::TemporalOrdered,
            "value_sum" => Self::ValueSum,
            "value_avg" => Self::ValueAvg,
            "value_percentile" => Self::ValuePercentile,
            _ => return None,
        })
    }

    /// The specification's name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EventCount => "event_count",
            Self::ValueCount => "value_count",
            Self::Temporal => "temporal",
            Self::TemporalOrdered => "temporal_ordered",
            Self::ValueSum => "value_sum",
            Self::ValueAvg => "value_avg",
            Self::ValuePercentile => "value_percentile",
        }
    }

    fn needs_field(self) -> bool {
        matches!(self, Self::ValueCount | Self::ValueSum | Self::ValueAvg | Self::ValuePercentile)
    }
}

/// A correlation condition: every bound given must hold.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Condition {
    gt: Option<f64>,
    gte: Option<f64>,
    lt: Option<f64>,
    lte: Option<f64>,
    eq: Option<f64>,
    neq: Option<f64>,
}

impl Condition {
    /// True when `value` satisfies every bound.
    #[must_use]
    pub fn holds(&self, value: f64) -> bool {
        self.gt.is_none_or(|bound| value > bound)
            && self.gte.is_none_or(|bound| value >= bound)
            && self.lt.is_none_or(|bound| value < bound)
            && self.lte.is_none_or(|bound| value <= bound)
            && self.eq.is_none_or(|bound| value == bound)
            && self.neq.is_none_or(|bound| value != bound)
    }

    /// True when the condition can only be decided on a complete window.
    #[must_use]
    pub fn has_upper_bound(&self) -> bool {
        self.lt.is_some() || self.lte.is_some() || self.eq.is_some() || self.neq.is_some()
    }

    fn describe(&self) -> String {
        let mut parts = Vec::new();
        for (name, bound) in [
            (">", self.gt),
            (">=", self.gte),
            ("<", self.lt),
            ("<=", self.lte),
            ("=", self.eq),
            ("!=", self.neq),
        ] {
            if let Some(bound) = bound {
                parts.push(format!("{name} {}", number_text(bound)));
            }
        }
        parts.join(" and ")
    }
}

fn number_text(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        format!("{value}")
    }
}

/// What a correlation counts: the matches of a Sigma rule, or the alerts of another
/// correlation (a chain).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Input {
    /// A Sigma rule, by its index in the rule set.
    Rule(u32),
    /// Another correlation, by its index in the set.
    Correlation(usize),
}

/// A compiled correlation rule.
#[derive(Debug, Clone)]
pub struct Correlation {
    /// Its key: the id, else the name, else the title. Saved state is keyed by it.
    pub key: String,
    /// Title.
    pub title: String,
    /// `name`, by which other correlations refer to it.
    pub name: Option<String>,
    /// `id`.
    pub id: Option<String>,
    /// The type.
    pub kind: Kind,
    /// What it counts, in the order of `rules:`.
    pub inputs: Vec<Input>,
    /// `group-by` as written.
    pub group_by: Vec<String>,
    /// For each group-by entry and each input, the event field to read (aliases resolved).
    group_fields: Vec<Vec<String>>,
    /// `timespan`.
    pub timespan: SignedDuration,
    /// `condition`.
    pub condition: Condition,
    /// `condition.field` (value types); several fields are read together as one tuple.
    pub field: Vec<String>,
    /// Severity of its alerts.
    pub severity: Severity,
    /// ATT&CK techniques.
    pub attack: Vec<String>,
    /// Whether the rules it refers to also alert on their own.
    pub generate: bool,
}

/// A problem with one correlation rule; the rule is left out, the rest load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrelationProblem {
    /// The rule's title.
    pub title: String,
    /// The file it came from.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// The compiled correlation rules of a rule set, with the reverse index from each Sigma rule
/// (and each correlation) to the correlations that count it.
#[derive(Debug, Clone, Default)]
pub struct CorrelationSet {
    correlations: Vec<Correlation>,
    by_rule: HashMap<u32, Vec<(usize, usize)>>,
    by_correlation: Vec<Vec<(usize, usize)>>,
    silent_rules: HashSet<u32>,
    silent_correlations: HashSet<usize>,
    problems: Vec<CorrelationProblem>,
}

/// Parses `30s`, `5m`, `1h`, `7d` (the specification's units; `w` and `M` are not in it).
///
/// # Errors
/// A message saying what is wrong.
pub fn parse_timespan(text: &str) -> Result<SignedDuration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let amount: i64 = number
        .parse()
        .map_err(|_| format!("timespan `{text}` is not a number followed by s, m, h or d"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("timespan `{text}` is not a number followed by s, m, h or d")),
    };
    if amount <= 0 {
        return Err(format!("timespan `{text}` must be positive"));
    }
    amount
        .checked_mul(seconds)
        .filter(|secs| *secs <= 366 * 86_400)
        .map(SignedDuration::from_secs)
        .ok_or_else(|| format!("timespan `{text}` is longer than a year"))
}

fn parse_condition(node: Option<&Node>, kind: Kind) -> Result<(Condition, Vec<String>), String> {
    let mut condition = Condition::default();
    let mut field = Vec::new();
    let Some(node) = node else {
        return Ok((condition, field));
    };
    let Some(entries) = node.as_map() else {
        return Err("`condition` must be a mapping such as `gte: 10`".to_owned());
    };
    for (key, value) in entries {
        let name = key.as_str().unwrap_or_default();
        if name == "field" {
            field = value.string_list();
            continue;
        }
        let number = match value.scalar() {
            Some(Scalar::Int(int)) => int as f64,
            Some(Scalar::Float(float)) if float.is_finite() => float,
            _ => return Err(format!("condition `{name}` needs a number")),
        };
        let slot = match name {
            "gt" => &mut condition.gt,
            "gte" => &mut condition.gte,
            "lt" => &mut condition.lt,
            "lte" => &mut condition.lte,
            "eq" => &mut condition.eq,
            "neq" => &mut condition.neq,
            other => return Err(format!("unknown condition operator `{other}`")),
        };
        *slot = Some(number);
    }
    if kind.needs_field() && field.is_empty() {
        return Err(format!("{} needs `condition.field`", kind.as_str()));
    }
    Ok((condition, field))
}

impl CorrelationSet {
    /// Compiles the correlation documents of `rules`, resolving their `rules:` references to
    /// the set's Sigma rules and to each other (by id or name). A correlation that does not
    /// compile is reported in [`problems`](Self::problems) and left out.
    #[must_use]
    pub fn compile(rules: &RuleSet) -> Self {
        Self::compile_docs(rules, rules.correlations())
    }

    /// As [`compile`](Self::compile), with the documents given.
    #[must_use]
    pub fn compile_docs(rules: &RuleSet, docs: &[CorrelationDoc]) -> Self {
        let mut rule_names: HashMap<&str, Vec<u32>> = HashMap::new();
        for (idx, rule) in rules.rules().iter().enumerate() {
            let idx = u32::try_from(idx).unwrap_or(u32::MAX);
            for name in [rule.meta.id.as_deref(), rule.meta.name.as_deref()].into_iter().flatten() {
                rule_names.entry(name).or_default().push(idx);
            }
        }
        let mut set = Self::default();
        let mut problems = Vec::new();
        // Correlations may refer to correlations defined after them: compile in passes until
        // nothing more resolves; what is left refers to something missing or to a cycle.
        let mut pending: Vec<&CorrelationDoc> = docs.iter().collect();
        let mut names: HashMap<String, usize> = HashMap::new();
        loop {
            let before = pending.len();
            let mut still = Vec::new();
            for doc in pending {
                match compile_one(doc, rules, &rule_names, &names) {
                    Ok(Some(correlation)) => {
                        let idx = set.correlations.len();
                        for name in
                            [correlation.id.clone(), correlation.name.clone()].into_iter().flatten()
                        {
                            names.insert(name, idx);
                        }
                        set.correlations.push(correlation);
                    }
                    Ok(None) => still.push(doc),
                    Err(message) => problems.push(problem(doc, message)),
                }
            }
            pending = still;
            if pending.is_empty() || pending.len() == before {
                break;
            }
        }
        for doc in pending {
            let missing: Vec<&str> = doc
                .rules
                .iter()
                .filter(|name| {
                    !rule_names.contains_key(name.as_str()) && !names.contains_key(*name)
                })
                .map(String::as_str)
                .collect();
            let message = if missing.is_empty() {
                "its references form a cycle".to_owned()
            } else {
                format!("refers to unknown rules: {}", missing.join(", "))
            };
            problems.push(problem(doc, message));
        }
        set.by_correlation = vec![Vec::new(); set.correlations.len()];
        for (idx, correlation) in set.correlations.iter().enumerate() {
            for (position, input) in correlation.inputs.iter().enumerate() {
                match *input {
                    Input::Rule(rule) => {
                        set.by_rule.entry(rule).or_default().push((idx, position));
                        if !correlation.generate {
                            set.silent_rules.insert(rule);
                        }
                    }
                    Input::Correlation(child) => {
                        set.by_correlation[child].push((idx, position));
                        if !correlation.generate {
                            set.silent_correlations.insert(child);
                        }
                    }
                }
            }
        }
        set.problems = problems;
        set
    }

    /// The compiled correlations.
    #[must_use]
    pub fn correlations(&self) -> &[Correlation] {
        &self.correlations
    }

    /// Correlations that did not compile, and why.
    #[must_use]
    pub fn problems(&self) -> &[CorrelationProblem] {
        &self.problems
    }

    /// True when a Sigma rule only feeds correlations and must not alert on its own.
    #[must_use]
    pub fn is_silent(&self, rule: u32) -> bool {
        self.silent_rules.contains(&rule)
    }

    /// True when the rule feeds at least one correlation.
    #[must_use]
    pub fn counts_rule(&self, rule: u32) -> bool {
        self.by_rule.contains_key(&rule)
    }

    /// True when there is nothing to correlate.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.correlations.is_empty()
    }
}

fn problem(doc: &CorrelationDoc, message: String) -> CorrelationProblem {
    CorrelationProblem {
        title: doc.meta.title.clone(),
        path: doc.path.display().to_string(),
        message,
    }
}

/// Compiles one document; `Ok(None)` when it refers to a correlation not compiled yet.
fn compile_one(
    doc: &CorrelationDoc,
    rules: &RuleSet,
    rule_names: &HashMap<&str, Vec<u32>>,
    correlation_names: &HashMap<String, usize>,
) -> Result<Option<Correlation>, String> {
    let kind = Kind::parse(&doc.kind).ok_or_else(|| format!("unknown type `{}`", doc.kind))?;
    if doc.rules.is_empty() {
        return Err("`rules` is empty".to_owned());
    }
    let timespan = parse_timespan(doc.timespan.as_deref().ok_or("`timespan` is missing")?)?;
    let (mut condition, field) = parse_condition(doc.body.get("condition"), kind)?;
    if matches!(kind, Kind::Temporal | Kind::TemporalOrdered) {
        if condition == Condition::default() {
            condition.gte = Some(doc.rules.len() as f64);
        }
    } else if condition == Condition::default() {
        return Err(format!("{} needs a `condition`", kind.as_str()));
    }
    let mut inputs = Vec::new();
    let mut input_levels = Vec::new();
    for reference in &doc.rules {
        if let Some(&idx) = correlation_names.get(reference) {
            inputs.push(Input::Correlation(idx));
        } else if let Some(indices) = rule_names.get(reference.as_str()) {
            for &idx in indices {
                inputs.push(Input::Rule(idx));
                input_levels.push(rules.rule(idx).meta.level);
            }
        } else if doc.rules.iter().any(|name| name == reference) {
            // Possibly a correlation compiled in a later pass.
            return Ok(None);
        }
    }
    // Aliases: alias → (rule name or id → field).
    let mut aliases: HashMap<String, HashMap<String, String>> = HashMap::new();
    if let Some(entries) = doc.body.get("aliases").and_then(Node::as_map) {
        for (alias, mapping) in entries {
            let Some(alias) = alias.as_str() else { continue };
            let mut per_rule = HashMap::new();
            for (rule, field) in mapping.as_map().unwrap_or_default() {
                if let (Some(rule), Some(field)) = (rule.as_str(), field.as_str()) {
                    per_rule.insert(rule.to_owned(), field.to_owned());
                }
            }
            aliases.insert(alias.to_owned(), per_rule);
        }
    }
    let input_aliases: Vec<Vec<String>> = inputs
        .iter()
        .map(|input| match *input {
            Input::Rule(idx) => {
                let meta = &rules.rule(idx).meta;
                [meta.id.clone(), meta.name.clone()].into_iter().flatten().collect()
            }
            Input::Correlation(_) => Vec::new(),
        })
        .collect();
    let group_fields = doc
        .group_by
        .iter()
        .map(|group| {
            inputs
                .iter()
                .enumerate()
                .map(|(position, input)| {
                    let mut names = input_aliases[position].clone();
                    if let Input::Correlation(_) = input {
                        names.extend(doc.rules.iter().cloned());
                    }
                    aliases
                        .get(group)
                        .and_then(|per_rule| names.iter().find_map(|name| per_rule.get(name)))
                        .cloned()
                        .unwrap_or_else(|| group.clone())
                })
                .collect()
        })
        .collect();
    let severity = doc.meta.level.map(Severity::from).unwrap_or_else(|| {
        input_levels.into_iter().flatten().map(Severity::from).max().unwrap_or(Severity::Medium)
    });
    Ok(Some(Correlation {
        key: doc.meta.key().to_owned(),
        title: doc.meta.title.clone(),
        name: doc.meta.name.clone(),
        id: doc.meta.id.clone(),
        kind,
        inputs,
        group_by: doc.group_by.clone(),
        group_fields,
        timespan,
        condition,
        field,
        severity,
        attack: doc.meta.attack_techniques(),
        generate: doc.generate,
    }))
}

/// Limits and timing of the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineConfig {
    /// How far behind the newest event time a match may be and still count.
    pub allowed_lateness: SignedDuration,
    /// Open groups kept at most (all correlations together); past it the least recently
    /// touched are dropped and counted in [`EngineStats::evicted`].
    pub max_groups: usize,
    /// Matches kept at most per group; past it the oldest are dropped.
    pub max_matches_per_group: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            allowed_lateness: SignedDuration::from_secs(60),
            max_groups: 100_000,
            max_matches_per_group: 10_000,
        }
    }
}

/// Counters of what the engine did not count, for metrics and `palisade rules status`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineStats {
    /// Matches older than the allowed lateness.
    pub late: u64,
    /// Matches without a value for a group-by field.
    pub missing_group: u64,
    /// Groups dropped to stay within `max_groups`.
    pub evicted: u64,
    /// Alerts raised.
    pub fired: u64,
}

/// One counted match in a group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Hit {
    time: Timestamp,
    /// Position of the input in the correlation's `rules`.
    input: u16,
    /// The `field` value (value types), as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    value: Option<String>,
    /// Evidence: the matched event, or the evidence of a child correlation's alert.
    ids: Vec<EventId>,
    /// For a child correlation's alert: the time of its first evidence (`time` is its last).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    first: Option<Timestamp>,
}

/// The open window of one group of one correlation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Group {
    /// Matches sorted by time.
    hits: Vec<Hit>,
    /// Entities of the counted events.
    entities: Entities,
    /// Processing time of the last match.
    touched: Option<Timestamp>,
}

/// A group: the correlation's index and the group-by values.
type GroupKey = (usize, Vec<String>);

/// The streaming correlation engine: open windows per (correlation, group).
#[derive(Debug)]
pub struct CorrelationEngine {
    set: CorrelationSet,
    config: EngineConfig,
    /// (correlation index, group values) → window.
    groups: HashMap<GroupKey, Group>,
    /// Newest event time seen.
    watermark: Option<Timestamp>,
    stats: EngineStats,
}

/// One alert of a correlation on its way up a chain: what a parent counts.
struct Fired {
    correlation: usize,
    group: Vec<String>,
    first: Timestamp,
    time: Timestamp,
    ids: Vec<EventId>,
    entities: Entities,
}

/// Where a counted match's entities come from: the matching event, read straight into its
/// group (building a set of them apart first, then merging it, was about a third of what
/// counting a match cost), or a fired correlation that a parent counts.
#[derive(Debug, Clone, Copy)]
enum EntitiesIn<'a> {
    Event(&'a Event),
    Fired(&'a Entities),
}

/// The saved state, keyed by correlation key so that it survives a rule reload.
#[derive(Debug, Serialize, Deserialize)]
struct Saved {
    version: u32,
    watermark: Option<Timestamp>,
    stats: EngineStats,
    groups: Vec<SavedGroup>,
}

#[derive(Debug, Serialize, Deserialize)]
struct SavedGroup {
    correlation: String,
    values: Vec<String>,
    group: Group,
}

impl CorrelationEngine {
    /// An engine for `set`.
    #[must_use]
    pub fn new(set: CorrelationSet, config: EngineConfig) -> Self {
        Self { set, config, groups: HashMap::new(), watermark: None, stats: EngineStats::default() }
    }

    /// The correlations it runs.
    #[must_use]
    pub fn set(&self) -> &CorrelationSet {
        &self.set
    }

    /// What it has counted and skipped.
    #[must_use]
    pub fn stats(&self) -> EngineStats {
        self.stats
    }

    /// Open groups.
    #[must_use]
    pub fn open_groups(&self) -> usize {
        self.groups.len()
    }

    /// Replaces the correlations (a rule reload), keeping the open windows of those whose key
    /// and inputs are unchanged.
    pub fn replace_set(&mut self, set: CorrelationSet) {
        let saved = self.save();
        self.set = set;
        self.groups.clear();
        // Our own state always decodes.
        let _ = self.restore(saved);
    }

    /// Counts a match of Sigma rule `rule` on `event` (stored as `id`, event time `time`),
    /// with `now` the processing clock. Returns the alerts raised.
    pub fn observe(
        &mut self,
        rule: u32,
        event: &Event,
        id: EventId,
        time: Timestamp,
        now: Timestamp,
    ) -> Vec<Alert> {
        let Some(consumers) = self.set.by_rule.get(&rule).cloned() else {
            return Vec::new();
        };
        if self.watermark.is_none_or(|mark| time > mark) {
            self.watermark = Some(time);
        }
        if self.is_late(time) {
            self.stats.late += 1;
            return Vec::new();
        }
        let mut alerts = Vec::new();
        let mut chain = Vec::new();
        for (correlation, position) in consumers {
            let Some(values) = self
                .group_values(correlation, position, |field| event.get(field).and_then(value_text))
            else {
                self.stats.missing_group += 1;
                continue;
            };
            let field_value = self.field_value(correlation, event);
            let hit = Hit {
                time,
                input: u16::try_from(position).unwrap_or(u16::MAX),
                value: field_value,
                ids: vec![id],
                first: None,
            };
            self.count(correlation, values, hit, EntitiesIn::Event(event), now, &mut chain);
        }
        self.run_chain(chain, now, &mut alerts);
        self.evict();
        alerts
    }

    /// Moves the processing clock: decides the windows of upper-bounded conditions that have
    /// closed, and drops groups whose matches have all left their window. Call it regularly
    /// (every second) and after a batch.
    pub fn advance(&mut self, now: Timestamp) -> Vec<Alert> {
        let mut alerts = Vec::new();
        let mut chain = Vec::new();
        let lateness = self.config.allowed_lateness;
        let watermark = self.watermark;
        let keys: Vec<GroupKey> = self.groups.keys().cloned().collect();
        for key in keys {
            loop {
                let spec = &self.set.correlations[key.0];
                let span = spec.timespan;
                let Some(group) = self.groups.get(&key) else { break };
                let Some(first) = group.hits.first().map(|hit| hit.time) else { break };
                let end = first.saturating_add(span).unwrap_or(first);
                let closed_by_events = watermark.is_some_and(|mark| {
                    end.saturating_add(lateness).is_ok_and(|limit| limit < mark)
                });
                let idle = group.touched.is_some_and(|touched| {
                    touched
                        .saturating_add(span)
                        .and_then(|t| t.saturating_add(lateness))
                        .is_ok_and(|limit| limit < now)
                });
                if !(closed_by_events || idle) {
                    break;
                }
                // Lower-bounded conditions were tested as matches came; upper-bounded ones are
                // decided now that the window is complete.
                let decided = if spec.condition.has_upper_bound() {
                    let window: Vec<usize> =
                        (0..group.hits.len()).filter(|&i| group.hits[i].time <= end).collect();
                    evaluate(spec, &group.hits, &window).map(|outcome| (window, outcome))
                } else {
                    None
                };
                if let Some((window, outcome)) = decided {
                    chain.push(self.fire(key.0, &key.1, &window, &outcome));
                }
                // The matches of a closed window can take part in no later window.
                if let Some(group) = self.groups.get_mut(&key) {
                    group.hits.retain(|hit| hit.time > end);
                    if group.hits.is_empty() {
                        self.groups.remove(&key);
                    }
                }
            }
        }
        self.run_chain(chain, now, &mut alerts);
        alerts
    }

    fn is_late(&self, time: Timestamp) -> bool {
        self.watermark.is_some_and(|mark| {
            time.saturating_add(self.config.allowed_lateness).is_ok_and(|limit| limit < mark)
        })
    }

    fn group_values(
        &self,
        correlation: usize,
        position: usize,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Option<Vec<String>> {
        self.set.correlations[correlation]
            .group_fields
            .iter()
            .map(|per_input| lookup(&per_input[position]))
            .collect()
    }

    fn field_value(&self, correlation: usize, event: &Event) -> Option<String> {
        let fields = &self.set.correlations[correlation].field;
        if fields.is_empty() {
            return None;
        }
        let mut parts = Vec::with_capacity(fields.len());
        for field in fields {
            parts.push(event.get(field).and_then(value_text)?);
        }
        Some(parts.join("\u{1f}"))
    }

    /// Adds a hit to its group and tests lower-bounded conditions.
    fn count(
        &mut self,
        correlation: usize,
        values: Vec<String>,
        hit: Hit,
        entities: EntitiesIn<'_>,
        now: Timestamp,
        chain: &mut Vec<(Fired, Alert)>,
    ) {
        let max_matches = self.config.max_matches_per_group;
        let key = (correlation, values);
        // The key is copied only for a new group.
        if !self.groups.contains_key(&key) {
            self.groups.insert(key.clone(), Group::default());
        }
        let Some(group) = self.groups.get_mut(&key) else { return };
        let time = hit.time;
        let at = group.hits.partition_point(|other| other.time <= time);
        group.hits.insert(at, hit);
        if group.hits.len() > max_matches {
            let excess = group.hits.len() - max_matches;
            group.hits.drain(..excess);
        }
        match entities {
            EntitiesIn::Event(event) => group.entities.add_from(event),
            EntitiesIn::Fired(fired) => group.entities.merge(fired),
        }
        group.touched = Some(now);
        let spec = &self.set.correlations[correlation];
        if spec.condition.has_upper_bound() {
            return;
        }
        let span = spec.timespan;
        // Every window [s, s + span] that contains `time` starts at a match in [time - span, time].
        // The matches are sorted by time, so those starts are one run of them, and each
        // window is a run too: found by binary search, not by testing every match.
        let earliest = time.saturating_sub(span).unwrap_or(time);
        let hits = &group.hits;
        let from = hits.partition_point(|other| other.time < earliest);
        let to = hits.partition_point(|other| other.time <= time);
        let mut window: Vec<usize> = Vec::new();
        let mut decided = None;
        if spec.kind == Kind::ValueAvg {
            // An average is not monotone in the window: a shorter window inside would pass on
            // one large value. It is taken over the trailing window [time - span, time] only.
            window.extend(from..to);
            decided = evaluate(spec, hits, &window).map(|outcome| (window, outcome));
        } else {
            for start_at in from..to {
                let start = hits[start_at].time;
                // Matches at one time start one window: the first of them.
                if start_at > from && hits[start_at - 1].time == start {
                    continue;
                }
                let end = start.saturating_add(span).unwrap_or(start);
                let end_at = start_at + hits[start_at..].partition_point(|other| other.time <= end);
                window.clear();
                window.extend(start_at..end_at);
                if let Some(outcome) = evaluate(spec, hits, &window) {
                    decided = Some((window, outcome));
                    break;
                }
            }
        }
        if let Some((window, outcome)) = decided {
            chain.push(self.fire(correlation, &key.1, &window, &outcome));
        }
    }

    /// Builds the alert of a window that satisfied its condition, consuming the window's
    /// matches.
    fn fire(
        &mut self,
        correlation: usize,
        values: &[String],
        window: &[usize],
        outcome: &Outcome,
    ) -> (Fired, Alert) {
        let key = (correlation, values.to_vec());
        let mut ids = Vec::new();
        let mut first: Option<Timestamp> = None;
        let mut last: Option<Timestamp> = None;
        let mut entities = Entities::default();
        if let Some(group) = self.groups.get_mut(&key) {
            let used: HashSet<usize> = if outcome.used.is_empty() {
                window.iter().copied().collect()
            } else {
                outcome.used.iter().copied().collect()
            };
            for &i in window {
                if !used.contains(&i) {
                    continue;
                }
                let hit = &group.hits[i];
                ids.extend(hit.ids.iter().copied());
                let hit_first = hit.first.unwrap_or(hit.time);
                first = Some(first.map_or(hit_first, |t| t.min(hit_first)));
                last = Some(last.map_or(hit.time, |t| t.max(hit.time)));
            }
            let consumed: HashSet<usize> = window.iter().copied().collect();
            let mut idx = 0;
            group.hits.retain(|_| {
                let keep = !consumed.contains(&idx);
                idx += 1;
                keep
            });
            entities = group.entities.clone();
            if group.hits.is_empty() {
                self.groups.remove(&key);
            }
        }
        self.stats.fired += 1;
        let time = last.unwrap_or(Timestamp::UNIX_EPOCH);
        let spec = &self.set.correlations[correlation];
        let group_text = spec
            .group_by
            .iter()
            .zip(values)
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join(", ");
        let summary = format!(
            "{}: {} {} within {}{}",
            spec.kind.as_str(),
            outcome.measure,
            spec.condition.describe(),
            span_text(spec.timespan),
            if group_text.is_empty() { String::new() } else { format!(" for {group_text}") }
        );
        let mut alert = Alert {
            rule_id: spec.key.clone(),
            rule_title: spec.title.clone(),
            kind: AlertKind::Correlation,
            severity: spec.severity,
            attack: spec.attack.clone(),
            group: group_text,
            summary,
            entities: entities.clone(),
            evidence: Vec::new(),
            count: 1,
            first_seen: first.unwrap_or(time),
            last_seen: time,
            detected_at: time,
        };
        alert.add_evidence(ids.iter().copied());
        let first = first.unwrap_or(time);
        (Fired { correlation, group: values.to_vec(), first, time, ids, entities }, alert)
    }

    /// Hands fired windows on: as alerts (unless the correlation silently feeds another), and
    /// as matches of the correlations that refer to them.
    fn run_chain(
        &mut self,
        mut chain: Vec<(Fired, Alert)>,
        now: Timestamp,
        alerts: &mut Vec<Alert>,
    ) {
        let mut rounds = 0;
        while !chain.is_empty() && rounds < 64 {
            rounds += 1;
            let mut next = Vec::new();
            for (fired, alert) in chain {
                if !self.set.silent_correlations.contains(&fired.correlation) {
                    alerts.push(alert);
                }
                let child = &self.set.correlations[fired.correlation];
                let child_fields: HashMap<String, String> =
                    child.group_by.iter().cloned().zip(fired.group.iter().cloned()).collect();
                for (parent, position) in self.set.by_correlation[fired.correlation].clone() {
                    let Some(values) = self
                        .group_values(parent, position, |field| child_fields.get(field).cloned())
                    else {
                        self.stats.missing_group += 1;
                        continue;
                    };
                    let hit = Hit {
                        time: fired.time,
                        input: u16::try_from(position).unwrap_or(u16::MAX),
                        value: None,
                        ids: fired.ids.clone(),
                        first: Some(fired.first),
                    };
                    self.count(
                        parent,
                        values,
                        hit,
                        EntitiesIn::Fired(&fired.entities),
                        now,
                        &mut next,
                    );
                }
            }
            chain = next;
        }
    }

    /// Drops the least recently touched groups past `max_groups`.
    fn evict(&mut self) {
        if self.groups.len() <= self.config.max_groups {
            return;
        }
        let excess = self.groups.len() - self.config.max_groups;
        // Drop a tenth more than needed so that eviction does not run on every match.
        let drop = (excess + self.config.max_groups / 10).min(self.groups.len());
        let mut by_age: Vec<(Option<Timestamp>, GroupKey)> =
            self.groups.iter().map(|(key, group)| (group.touched, key.clone())).collect();
        by_age.sort_by_key(|entry| entry.0);
        for (_, key) in by_age.into_iter().take(drop) {
            self.groups.remove(&key);
            self.stats.evicted += 1;
        }
    }

    /// The open windows, to be saved across a restart.
    #[must_use]
    pub fn save(&self) -> serde_json::Value {
        serde_json::from_str(self.save_json().get()).unwrap_or(serde_json::Value::Null)
    }

    /// [`save`](Self::save) as JSON text, written straight from the windows (no value tree).
    #[must_use]
    pub fn save_json(&self) -> Box<serde_json::value::RawValue> {
        let groups = self
            .groups
            .iter()
            .map(|((correlation, values), group)| SavedGroup {
                correlation: self.set.correlations[*correlation].key.clone(),
                values: values.clone(),
                group: group.clone(),
            })
            .collect();
        let saved = Saved { version: 1, watermark: self.watermark, stats: self.stats, groups };
        crate::state_json("correlation", &saved)
    }

    /// Takes back what [`save`](Self::save) returned; windows of correlations that no longer
    /// exist are dropped.
    ///
    /// # Errors
    /// [`crate::Error::State`] when `state` does not decode.
    pub fn restore(&mut self, state: serde_json::Value) -> crate::Result<()> {
        let saved: Saved = serde_json::from_value(state)
            .map_err(|source| crate::Error::State { detector: "correlation".to_owned(), source })?;
        let by_key: HashMap<&str, usize> = self
            .set
            .correlations
            .iter()
            .enumerate()
            .map(|(idx, correlation)| (correlation.key.as_str(), idx))
            .collect();
        self.watermark = saved.watermark;
        self.stats = saved.stats;
        for saved_group in saved.groups {
            let Some(&idx) = by_key.get(saved_group.correlation.as_str()) else { continue };
            let inputs = self.set.correlations[idx].inputs.len();
            if saved_group.values.len() != self.set.correlations[idx].group_by.len()
                || saved_group.group.hits.iter().any(|hit| usize::from(hit.input) >= inputs)
            {
                continue;
            }
            self.groups.insert((idx, saved_group.values), saved_group.group);
        }
        Ok(())
    }
}

/// What made a window fire: the measure for the summary, and which of its hits count as
/// evidence (all when empty).
struct Outcome {
    measure: String,
    used: Vec<usize>,
}

/// Tests a correlation's condition over the hits at `window` (indices into `hits`, in time
/// order).
fn evaluate(spec: &Correlation, hits: &[Hit], window: &[usize]) -> Option<Outcome> {
    let all = |measure: String| Some(Outcome { measure, used: Vec::new() });
    match spec.kind {
        Kind::EventCount => {
            let count = window.len() as f64;
            spec.condition.holds(count).then(|| format!("{} events", window.len())).and_then(all)
        }
        Kind::ValueCount => {
            let distinct: HashSet<&str> =
                window.iter().filter_map(|&i| hits[i].value.as_deref()).collect();
            let count = distinct.len();
            spec.condition
                .holds(count as f64)
                .then(|| format!("{count} distinct {}", spec.field.join("+")))
                .and_then(all)
        }
        Kind::ValueSum | Kind::ValueAvg => {
            let numbers: Vec<f64> = window
                .iter()
                .filter_map(|&i| hits[i].value.as_deref().and_then(|text| text.trim().parse().ok()))
                .filter(|number: &f64| number.is_finite())
                .collect();
            if numbers.is_empty() {
                return None;
            }
            let sum: f64 = numbers.iter().sum();
            let (value, name) = if spec.kind == Kind::ValueSum {
                (sum, "sum")
            } else {
                (sum / numbers.len() as f64, "average")
            };
            spec.condition
                .holds(value)
                .then(|| format!("{name} of {} {}", spec.field.join("+"), number_text(value)))
                .and_then(all)
        }
        Kind::ValuePercentile => {
            let mut counts: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
            for &i in window {
                if let Some(value) = hits[i].value.as_deref() {
                    counts.entry(value).or_default().push(i);
                }
            }
            let total: usize = counts.values().map(Vec::len).sum();
            if total == 0 {
                return None;
            }
            let mut used = Vec::new();
            let mut named = Vec::new();
            for (value, members) in &counts {
                let share = members.len() as f64 * 100.0 / total as f64;
                if spec.condition.holds(share) {
                    used.extend(members.iter().copied());
                    named.push(format!("{value} ({share:.2}%)"));
                }
            }
            if used.is_empty() {
                return None;
            }
            used.sort_unstable();
            Some(Outcome {
                measure: format!("{} of {total}: {}", spec.field.join("+"), named.join(", ")),
                used,
            })
        }
        Kind::Temporal => {
            let distinct: HashSet<u16> = window.iter().map(|&i| hits[i].input).collect();
            let count = distinct.len();
            spec.condition
                .holds(count as f64)
                .then(|| format!("{count} of {} rules", spec.inputs.len()))
                .and_then(all)
        }
        Kind::TemporalOrdered => {
            // The earliest match of each rule after the previous one, in order: if any chain
            // exists in the window, this greedy one does.
            let mut used = Vec::with_capacity(spec.inputs.len());
            let mut after: Option<Timestamp> = None;
            for position in 0..spec.inputs.len() {
                let next = window.iter().copied().find(|&i| {
                    usize::from(hits[i].input) == position
                        && after.is_none_or(|t| hits[i].time >= t)
                        && !used.contains(&i)
                })?;
                after = Some(hits[next].time);
                used.push(next);
            }
            let count = used.len();
            spec.condition
                .holds(count as f64)
                .then(|| Outcome { measure: format!("{count} rules in order"), used })
        }
    }
}

fn span_text(span: SignedDuration) -> String {
    let secs = span.as_secs();
    if secs % 86_400 == 0 {
        format!("{}d", secs / 86_400)
    } else if secs % 3600 == 0 {
        format!("{}h", secs / 3600)
    } else if secs % 60 == 0 {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}

/// A field value as group-by text: scalars as written, lists joined; empty and `-` count as
/// missing.
fn value_text(value: &Value) -> Option<String> {
    let text = match value {
        Value::Null => return None,
        Value::List(items) => {
            let parts: Vec<String> = items.iter().filter_map(value_text).collect();
            if parts.is_empty() {
                return None;
            }
            parts.join(",")
        }
        other => other.to_text()?.into_owned(),
    };
    let trimmed = text.trim();
    (!trimmed.is_empty() && trimmed != "-").then(|| trimmed.to_owned())
}

#[cfg(test)]
#[path = "correlation_tests.rs"]
mod tests;
