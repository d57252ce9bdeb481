//! `palisade rules replay`: one rule over stored history, reporting the alerts it would have
//! raised, for tuning before it is switched on. Nothing is written.
//!
//! The rule runs in a detector of its own with the same code as live detection: a Sigma rule
//! alone; a correlation with the rules (and correlations) it counts; a behaviour detector
//! alone. Events are read in event-time order, and the detector's processing clock follows
//! event time, so windows close as they would have live. Alerts are folded with the same
//! suppression window as live detection.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use jiff::{SignedDuration, Timestamp};
use palisade_detect::Alert;
use palisade_detect::correlation::{CorrelationSet, EngineConfig, Input};
use palisade_detect::stage::{Detector, scan};
use palisade_sigma::{Loader, Mapping, Pipeline as FieldMapping};
use palisade_store::{QueryLimits, Store};

/// What a replay found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReplayReport {
    /// The rule's id.
    pub rule_id: String,
    /// Its title.
    pub title: String,
    /// `sigma`, `correlation` or `behaviour`.
    pub kind: &'static str,
    /// The time range read.
    pub since: Timestamp,
    /// End of the range.
    pub until: Timestamp,
    /// Events read.
    pub events: u64,
    /// Alerts it would have raised, after folding within the suppression window.
    pub alerts: Vec<Alert>,
}

/// Why a replay could not run.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// No rule, correlation or detector with that id, name or title.
    #[error(
        "no rule, correlation or behaviour detector is called `{0}` (see `palisade rules list`)"
    )]
    UnknownRule(String),
    /// Reading the rules failed.
    #[error("reading the rules: {0}")]
    Rules(#[from] std::io::Error),
    /// Reading the events failed.
    #[error("reading the events: {0}")]
    Store(#[from] palisade_store::Error),
}

/// Runs `rule` (id, name or title) over the events stored between `since` and `until`.
/// `progress` is called with the number of events read so far.
///
/// # Errors
/// [`ReplayError`].
pub async fn replay(
    store: &Store,
    rules_dir: &Path,
    rule: &str,
    since: Timestamp,
    until: Timestamp,
    suppress: SignedDuration,
    mut progress: impl FnMut(u64),
) -> Result<ReplayReport, ReplayError> {
    let (all_rules, _) = crate::detect::load_rules(rules_dir)?;
    let correlations = CorrelationSet::compile(&all_rules);
    let behaviours =
        palisade_detect::behaviour::all(&palisade_detect::behaviour::BehaviourConfig::default());
    let names = |id: Option<&String>, name: Option<&String>, title: &str| {
        id.is_some_and(|id| id == rule) || name.is_some_and(|name| name == rule) || title == rule
    };
    let loader = Loader::new(Mapping::new(FieldMapping::builtin()));
    let (keep_rules, behaviour, kind, rule_id, title): (
        HashSet<String>,
        Option<usize>,
        &'static str,
        String,
        String,
    ) = if let Some(found) = all_rules
        .rules()
        .iter()
        .find(|r| names(r.meta.id.as_ref(), r.meta.name.as_ref(), &r.meta.title))
    {
        let key = found.meta.key().to_owned();
        (HashSet::from([key.clone()]), None, "sigma", key, found.meta.title.clone())
    } else if let Some((idx, found)) = correlations
        .correlations()
        .iter()
        .enumerate()
        .find(|(_, c)| names(c.id.as_ref(), c.name.as_ref(), &c.title))
    {
        let mut keep = HashSet::new();
        let mut stack = vec![idx];
        let mut seen = HashSet::new();
        while let Some(current) = stack.pop() {
            if !seen.insert(current) {
                continue;
            }
            for input in &correlations.correlations()[current].inputs {
                match *input {
                    Input::Rule(rule_idx) => {
                        keep.insert(all_rules.rule(rule_idx).meta.key().to_owned());
                    }
                    Input::Correlation(child) => stack.push(child),
                }
            }
        }
        (keep, None, "correlation", found.key.clone(), found.title.clone())
    } else if let Some(position) =
        behaviours.iter().position(|b| b.meta().id == rule || b.meta().title == rule)
    {
        let meta = behaviours[position].meta();
        (HashSet::new(), Some(position), "behaviour", meta.id.to_owned(), meta.title.to_owned())
    } else {
        return Err(ReplayError::UnknownRule(rule.to_owned()));
    };
    let rules = all_rules.retain(&loader, |compiled| keep_rules.contains(compiled.meta.key()));
    let chosen_behaviours: Vec<_> = behaviours
        .into_iter()
        .enumerate()
        .filter(|(idx, _)| Some(*idx) == behaviour)
        .map(|(_, detector)| detector)
        .collect();
    // Events come in time order: nothing is late, and windows close on event time.
    let config = EngineConfig { allowed_lateness: SignedDuration::ZERO, ..EngineConfig::default() };
    let mut detector = Detector::new(rules, chosen_behaviours, config);
    // Only the chosen correlation alerts; the others that compiled from the kept rules stay
    // quiet.
    if kind == "correlation" {
        let others: HashSet<String> = detector
            .correlations()
            .correlations()
            .iter()
            .map(|c| c.key.clone())
            .filter(|key| *key != rule_id)
            .collect();
        detector.set_disabled(others);
    }
    let rule_set = detector.rules();
    let sql = format!(
        r#"SELECT * FROM events WHERE "@timestamp" >= CAST('{}' AS TIMESTAMP) AND "@timestamp" < CAST('{}' AS TIMESTAMP) ORDER BY "@timestamp", _seq"#,
        since.strftime("%Y-%m-%dT%H:%M:%S%.6fZ"),
        until.strftime("%Y-%m-%dT%H:%M:%S%.6fZ"),
    );
    let limits = QueryLimits {
        max_rows: usize::MAX,
        timeout: std::time::Duration::from_secs(24 * 3600),
        memory_bytes: 4 << 30,
    };
    let mut stream = store.query_stream(&sql, limits).await?;
    let mut raised: Vec<Alert> = Vec::new();
    let mut events = 0u64;
    let mut last_tick: Option<Timestamp> = None;
    while let Some(batch) = stream.next_batch().await {
        let (seqs, plain): (Vec<u64>, Vec<palisade_event::Event>) =
            palisade_store::schema::from_batch(&batch?).into_iter().unzip();
        let hits = scan(&rule_set, &plain);
        for ((seq, event), hits) in seqs.iter().zip(&plain).zip(&hits) {
            let time = event.timestamp().unwrap_or(since);
            if last_tick
                .is_none_or(|tick| time.duration_since(tick) >= SignedDuration::from_secs(1))
            {
                raised.extend(detector.advance(time));
                last_tick = Some(time);
            }
            let wanted = detector.wants(event);
            if !hits.is_empty() || wanted.any() {
                raised.extend(detector.process(event, *seq, hits, wanted, time));
            }
        }
        events += plain.len() as u64;
        progress(events);
    }
    // Windows still open at the end close as they would have once the range was over.
    raised.extend(detector.advance(Timestamp::now().max(until)));
    Ok(ReplayReport { rule_id, title, kind, since, until, events, alerts: fold(raised, suppress) })
}

/// Folds alerts with the same rule and subject within `suppress` of each other, as the state
/// database does live.
fn fold(alerts: Vec<Alert>, suppress: SignedDuration) -> Vec<Alert> {
    let mut folded: Vec<Alert> = Vec::new();
    let mut open: HashMap<String, usize> = HashMap::new();
    for alert in alerts {
        let key = alert.dedup_key();
        if let Some(&idx) = open.get(&key) {
            let existing = &mut folded[idx];
            let within = existing
                .last_seen
                .checked_add(suppress)
                .is_ok_and(|limit| alert.first_seen <= limit);
            if within {
                existing.absorb(&alert);
                continue;
            }
        }
        open.insert(key, folded.len());
        folded.push(alert);
    }
    folded
}
