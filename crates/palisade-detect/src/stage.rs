//! The detection stage: everything that turns one stored event into alerts.
//!
//! It runs in two steps so that the expensive part runs in parallel on the input threads and
//! only the stateful part is serialised:
//! 1. [`scan`]: the Sigma rule set over a batch of events, before they are stored; needs only
//!    a shared, immutable [`RuleSet`].
//! 2. [`Detector::process`]: once the events are stored and have ids, the single-event
//!    alerts, the correlation windows and the behaviour detectors, under one lock. Only events
//!    that matched a rule or that a behaviour detector wants get here. Which detectors want
//!    an event is asked in step 1, of an [`Interest`]: twins of the detectors that answer
//!    without that lock.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use jiff::Timestamp;
use palisade_event::Event;
use palisade_sigma::RuleSet;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::alert::{Alert, AlertKind, Entities, EventId, Severity};
use crate::behaviour::{Behaviour, Readings, Seen};
use crate::correlation::{CorrelationEngine, CorrelationSet, EngineConfig};
use crate::error::{Error, Result};

/// The indices of the Sigma rules that match each event of `events`.
#[must_use]
pub fn scan(rules: &RuleSet, events: &[Event]) -> Vec<Vec<u32>> {
    let mut scratch = rules.scratch();
    events.iter().map(|event| rules.matches(event, &mut scratch).to_vec()).collect()
}

/// Which behaviour detectors want one event: a bit per detector, in [`Detector`] order.
///
/// Asked once per event, of [`Detector::wants`] or of an [`Interest`] without the detector's
/// lock, and carried to [`Detector::process`], so that each detector's field tests run once
/// per event rather than once to decide whether the event goes on and again when it does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Wanted(u64);

impl Wanted {
    /// True when at least one detector wants the event.
    #[must_use]
    pub fn any(self) -> bool {
        self.0 != 0
    }

    fn has(self, idx: usize) -> bool {
        idx < 64 && self.0 & (1 << idx) != 0
    }
}

/// Which behaviour detectors want an event, asked without the [`Detector`] and its lock
/// ([`Detector::interest`]).
///
/// What a detector wants depends on its settings only, never on what it has observed (the
/// contract of [`Behaviour::wants`]), so twins built from the same settings, which never
/// observe anything, answer as the detector's own would. Input threads ask it in parallel:
/// asking under the detector's lock made them wait while another thread's batch was being
/// processed, and left a core idle.
pub struct Interest {
    twins: Vec<Box<dyn Behaviour>>,
    /// One bit per detector switched on, kept up to date by [`Detector::set_disabled`].
    enabled: AtomicU64,
}

impl std::fmt::Debug for Interest {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Interest")
            .field("behaviours", &self.twins.len())
            .field("enabled", &self.enabled.load(Ordering::Relaxed))
            .finish()
    }
}

impl Interest {
    /// The detectors switched on that want `event`, and what they read of it, as
    /// [`Detector::wants_keeping`] answers.
    #[must_use]
    pub fn wants_keeping(&self, event: &Event) -> (Wanted, Readings) {
        let seen = Seen::new(event);
        (wanted_by(&self.twins, self.enabled.load(Ordering::Relaxed), &seen), seen.into_readings())
    }
}

/// The detectors of `behaviours` switched on in `enabled` (a bit each) that want the event.
fn wanted_by(behaviours: &[Box<dyn Behaviour>], enabled: u64, seen: &Seen<'_>) -> Wanted {
    let mut wanted = 0u64;
    for (idx, behaviour) in behaviours.iter().enumerate() {
        if enabled & (1 << idx) != 0 && behaviour.wants_seen(seen) {
            wanted |= 1 << idx;
        }
    }
    Wanted(wanted)
}

/// One bit per detector of `behaviours` whose id `disabled` does not hold.
fn switched_on(behaviours: &[Box<dyn Behaviour>], disabled: &HashSet<String>) -> u64 {
    behaviours
        .iter()
        .enumerate()
        .filter(|(_, behaviour)| !disabled.contains(behaviour.meta().id))
        .fold(0, |bits, (idx, _)| bits | 1 << idx)
}

/// The most behaviour detectors a [`Detector`] runs: one bit each in [`Wanted`].
pub const MAX_BEHAVIOURS: usize = 64;

/// The stateful part of detection: correlation windows, behaviour baselines, and which rules
/// are switched off.
pub struct Detector {
    rules: Arc<RuleSet>,
    engine: CorrelationEngine,
    behaviours: Vec<Box<dyn Behaviour>>,
    /// One bit per behaviour detector switched on: read for every event, so not a look-up by
    /// name in `disabled`.
    enabled: u64,
    disabled: HashSet<String>,
    /// Twins asked without the lock, whose switch flags follow `enabled`.
    interest: Option<Arc<Interest>>,
}

impl std::fmt::Debug for Detector {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Detector")
            .field("rules", &self.rules.rules().len())
            .field("correlations", &self.engine.set().correlations().len())
            .field("behaviours", &self.behaviours.len())
            .field("disabled", &self.disabled)
            .finish()
    }
}

/// What the detector saves across restarts.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Saved {
    correlation: Option<serde_json::Value>,
    #[serde(default)]
    behaviours: std::collections::BTreeMap<String, serde_json::Value>,
}

/// [`Saved`] as it is written: each part already JSON text.
#[derive(Serialize)]
struct SavedJson {
    correlation: Option<Box<RawValue>>,
    behaviours: std::collections::BTreeMap<&'static str, Box<RawValue>>,
}

/// A rule, correlation or detector as listed to users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleInfo {
    /// The key alerts carry as `rule_id`.
    pub id: String,
    /// Title.
    pub title: String,
    /// `sigma`, `correlation` or `behaviour`.
    pub kind: &'static str,
    /// Severity of its alerts.
    pub severity: Severity,
    /// False when switched off.
    pub enabled: bool,
    /// True for Sigma rules that only feed correlations.
    pub silent: bool,
}

impl Detector {
    /// A detector over a loaded rule set and the given behaviour detectors (at most
    /// [`MAX_BEHAVIOURS`]; any beyond are left out, with an error logged).
    #[must_use]
    pub fn new(
        rules: RuleSet,
        mut behaviours: Vec<Box<dyn Behaviour>>,
        config: EngineConfig,
    ) -> Self {
        if behaviours.len() > MAX_BEHAVIOURS {
            tracing::error!(
                count = behaviours.len(),
                "more behaviour detectors than a detector runs; the last ones are left out"
            );
            behaviours.truncate(MAX_BEHAVIOURS);
        }
        let correlations = CorrelationSet::compile(&rules);
        Self {
            rules: Arc::new(rules),
            engine: CorrelationEngine::new(correlations, config),
            enabled: switched_on(&behaviours, &HashSet::new()),
            behaviours,
            disabled: HashSet::new(),
            interest: None,
        }
    }

    /// An [`Interest`] that answers [`wants_keeping`](Self::wants_keeping) as this detector
    /// does, for threads that must not take its lock to ask. `twins` are behaviour detectors
    /// built from the same settings as the detector's own, in the same order (`behaviour::all`
    /// called again); the detector keeps the interest's switch flags in step with its own.
    ///
    /// # Errors
    /// [`Error::Twins`] when the twins are not the detector's behaviours, in its order.
    pub fn interest(&mut self, twins: Vec<Box<dyn Behaviour>>) -> Result<Arc<Interest>> {
        let ids = |list: &[Box<dyn Behaviour>]| -> Vec<&'static str> {
            list.iter().map(|behaviour| behaviour.meta().id).collect()
        };
        let (expected, given) = (ids(&self.behaviours), ids(&twins));
        if expected != given {
            return Err(Error::Twins { expected, given });
        }
        let interest = Arc::new(Interest { twins, enabled: AtomicU64::new(self.enabled) });
        self.interest = Some(Arc::clone(&interest));
        Ok(interest)
    }

    /// The rule set for [`scan`]; cheap to clone, replaced on reload.
    #[must_use]
    pub fn rules(&self) -> Arc<RuleSet> {
        Arc::clone(&self.rules)
    }

    /// The correlations, with the ones that did not compile.
    #[must_use]
    pub fn correlations(&self) -> &CorrelationSet {
        self.engine.set()
    }

    /// The correlation engine's counters.
    #[must_use]
    pub fn correlation_stats(&self) -> crate::correlation::EngineStats {
        self.engine.stats()
    }

    /// Open correlation groups.
    #[must_use]
    pub fn open_groups(&self) -> usize {
        self.engine.open_groups()
    }

    /// Replaces the rules (a reload), keeping open correlation windows whose rule is unchanged.
    pub fn replace_rules(&mut self, rules: RuleSet) {
        let correlations = CorrelationSet::compile(&rules);
        self.rules = Arc::new(rules);
        self.engine.replace_set(correlations);
    }

    /// Switches off the rules, correlations and detectors whose keys are given (and on all
    /// others).
    pub fn set_disabled(&mut self, keys: HashSet<String>) {
        self.enabled = switched_on(&self.behaviours, &keys);
        if let Some(interest) = &self.interest {
            interest.enabled.store(self.enabled, Ordering::Relaxed);
        }
        self.disabled = keys;
    }

    /// Every rule, correlation and behaviour detector.
    #[must_use]
    pub fn list(&self) -> Vec<RuleInfo> {
        let correlations = self.engine.set();
        let mut list: Vec<RuleInfo> = self
            .rules
            .rules()
            .iter()
            .enumerate()
            .map(|(idx, rule)| {
                let id = rule.meta.key().to_owned();
                RuleInfo {
                    enabled: !self.disabled.contains(&id),
                    id,
                    title: rule.meta.title.clone(),
                    kind: "sigma",
                    severity: rule.meta.level.map_or(Severity::Medium, Severity::from),
                    silent: correlations.is_silent(u32::try_from(idx).unwrap_or(u32::MAX)),
                }
            })
            .collect();
        list.extend(correlations.correlations().iter().map(|correlation| RuleInfo {
            enabled: !self.disabled.contains(&correlation.key),
            id: correlation.key.clone(),
            title: correlation.title.clone(),
            kind: "correlation",
            severity: correlation.severity,
            silent: false,
        }));
        list.extend(self.behaviours.iter().map(|behaviour| {
            let meta = behaviour.meta();
            RuleInfo {
                enabled: !self.disabled.contains(meta.id),
                id: meta.id.to_owned(),
                title: meta.title.to_owned(),
                kind: "behaviour",
                severity: meta.severity,
                silent: false,
            }
        }));
        list
    }

    /// The behaviour detectors, switched on, that want `event`. An event with no rule match
    /// must still reach [`process`](Self::process) when [`Wanted::any`].
    #[must_use]
    pub fn wants(&self, event: &Event) -> Wanted {
        self.wants_seen(&Seen::new(event))
    }

    /// [`wants`](Self::wants), also returning what the detectors read of the event, for
    /// [`process_with`](Self::process_with) to reuse.
    #[must_use]
    pub fn wants_keeping(&self, event: &Event) -> (Wanted, Readings) {
        let seen = Seen::new(event);
        (self.wants_seen(&seen), seen.into_readings())
    }

    fn wants_seen(&self, seen: &Seen<'_>) -> Wanted {
        wanted_by(&self.behaviours, self.enabled, seen)
    }

    /// Runs the stateful detection on one stored event: `hits` are its rule matches from
    /// [`scan`], `wanted` what [`wants`](Self::wants) said of it, `now` the processing clock.
    /// Returns the alerts it raises.
    pub fn process(
        &mut self,
        event: &Event,
        id: EventId,
        hits: &[u32],
        wanted: Wanted,
        now: Timestamp,
    ) -> Vec<Alert> {
        self.process_with(event, Readings::default(), id, hits, wanted, now)
    }

    /// [`process`](Self::process) with what [`wants_keeping`](Self::wants_keeping) read of
    /// the event.
    pub fn process_with(
        &mut self,
        event: &Event,
        readings: Readings,
        id: EventId,
        hits: &[u32],
        wanted: Wanted,
        now: Timestamp,
    ) -> Vec<Alert> {
        let time = event.timestamp().unwrap_or(now);
        let mut alerts = Vec::new();
        for &rule_idx in hits {
            let Some(rule) = self.rules.rules().get(rule_idx as usize) else { continue };
            let key = rule.meta.key();
            if self.disabled.contains(key) {
                continue;
            }
            if !self.engine.set().is_silent(rule_idx) {
                let mut alert = Alert {
                    rule_id: key.to_owned(),
                    rule_title: rule.meta.title.clone(),
                    kind: AlertKind::Sigma,
                    severity: rule.meta.level.map_or(Severity::Medium, Severity::from),
                    attack: rule.meta.attack_techniques(),
                    group: String::new(),
                    summary: rule
                        .meta
                        .description
                        .as_deref()
                        .map_or_else(|| rule.meta.title.clone(), first_line),
                    entities: Entities::of(event),
                    evidence: Vec::new(),
                    count: 1,
                    first_seen: time,
                    last_seen: time,
                    detected_at: now,
                };
                alert.add_evidence([id]);
                alerts.push(alert);
            }
            if self.engine.set().counts_rule(rule_idx) {
                let raised = self.engine.observe(rule_idx, event, id, time, now);
                alerts.extend(
                    raised.into_iter().filter(|alert| !self.disabled.contains(&alert.rule_id)),
                );
            }
        }
        let seen = Seen::resume(event, readings);
        // Detectors switched off since `wants` was asked are skipped all the same.
        let wanted = Wanted(wanted.0 & self.enabled);
        for (idx, behaviour) in self.behaviours.iter_mut().enumerate() {
            if !wanted.has(idx) {
                continue;
            }
            for mut alert in behaviour.observe_seen(&seen, id, time) {
                if alert.entities.is_empty() {
                    alert.entities = Entities::of(event);
                }
                if alert.evidence.is_empty() {
                    alert.add_evidence([id]);
                }
                alerts.push(alert);
            }
        }
        for alert in &mut alerts {
            alert.detected_at = now;
        }
        alerts
    }

    /// Moves the processing clock (call it every second): closes correlation windows.
    pub fn advance(&mut self, now: Timestamp) -> Vec<Alert> {
        let mut alerts: Vec<Alert> = self
            .engine
            .advance(now)
            .into_iter()
            .filter(|alert| !self.disabled.contains(&alert.rule_id))
            .collect();
        for alert in &mut alerts {
            alert.detected_at = now;
        }
        alerts
    }

    /// The correlation windows and behaviour baselines, to be saved across a restart.
    #[must_use]
    pub fn save(&self) -> serde_json::Value {
        serde_json::from_str(self.save_json().get()).unwrap_or(serde_json::Value::Null)
    }

    /// [`save`](Self::save) as JSON text, written straight from each detector's state. The
    /// server's checkpoint calls this with detection paused, so it builds no value tree.
    #[must_use]
    pub fn save_json(&self) -> Box<RawValue> {
        let saved = SavedJson {
            correlation: Some(self.engine.save_json()),
            behaviours: self
                .behaviours
                .iter()
                .map(|behaviour| (behaviour.meta().id, behaviour.save_json()))
                .collect(),
        };
        crate::state_json("detector", &saved)
    }

    /// Takes back what [`save`](Self::save) returned. State of a detector that no longer
    /// exists is ignored; state that does not decode is an error for that detector only, and
    /// is returned after the rest has been restored.
    ///
    /// # Errors
    /// The first [`crate::Error::State`] met.
    pub fn restore(&mut self, state: serde_json::Value) -> crate::Result<()> {
        let saved: Saved = serde_json::from_value(state)
            .map_err(|source| crate::Error::State { detector: "detector".to_owned(), source })?;
        let mut first_error = None;
        if let Some(correlation) = saved.correlation
            && let Err(error) = self.engine.restore(correlation)
        {
            first_error.get_or_insert(error);
        }
        for behaviour in &mut self.behaviours {
            if let Some(state) = saved.behaviours.get(behaviour.meta().id)
                && let Err(error) = behaviour.restore(state.clone())
            {
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default().trim();
    if line.chars().count() > 300 { line.chars().take(300).collect() } else { line.to_owned() }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use palisade_event::Value;
    use palisade_sigma::{Loader, Mapping};

    use super::*;

    const RULES: &str = "title: Whoami
id: r-whoami
level: high
tags: [attack.t1033]
logsource: {product: test}
detection:
    selection:
        CommandLine|contains: whoami
    condition: selection
---
title: Failed
id: r-failed
name: failed
logsource: {product: test}
detection:
    selection:
        outcome: failure
    condition: selection
---
title: Many failures
id: c-many
correlation:
    type: event_count
    rules: [failed]
    group-by: [user]
    timespan: 1m
    condition:
        gte: 3
";

    fn detector() -> Detector {
        let rules = Loader::new(Mapping::new(Vec::new()))
            .load(&[(PathBuf::from("t.yml"), RULES.to_owned())]);
        assert_eq!(rules.errors().count(), 0, "{:?}", rules.diagnostics());
        Detector::new(rules, Vec::new(), EngineConfig::default())
    }

    fn event(fields: &[(&str, &str)], second: i64) -> Event {
        let mut event = Event::from_fields(
            fields
                .iter()
                .map(|(name, value)| (palisade_event::Str::copy(name), Value::from(*value)))
                .collect(),
        );
        event.set_timestamp(Timestamp::from_second(1_800_000_000 + second).ok());
        event
    }

    fn run(detector: &mut Detector, events: &[Event], now: Timestamp) -> Vec<Alert> {
        let rules = detector.rules();
        let hits = scan(&rules, events);
        events
            .iter()
            .zip(&hits)
            .enumerate()
            .flat_map(|(idx, (event, hits))| {
                let wanted = detector.wants(event);
                detector.process(event, idx as u64 + 1, hits, wanted, now)
            })
            .collect()
    }

    #[test]
    fn single_rules_alert_feeding_rules_do_not_and_correlations_do() {
        let mut detector = detector();
        let now = Timestamp::from_second(1_900_000_000).expect("time");
        let events = vec![
            event(&[("CommandLine", "cmd /c whoami /all"), ("user.name", "eve")], 0),
            event(&[("outcome", "failure"), ("user", "bob")], 1),
            event(&[("outcome", "failure"), ("user", "bob")], 2),
            event(&[("outcome", "failure"), ("user", "bob")], 3),
        ];
        let alerts = run(&mut detector, &events, now);
        let ids: Vec<&str> = alerts.iter().map(|alert| alert.rule_id.as_str()).collect();
        assert_eq!(ids, ["r-whoami", "c-many"]);
        let whoami = &alerts[0];
        assert_eq!(whoami.kind, AlertKind::Sigma);
        assert_eq!(whoami.severity, Severity::High);
        assert_eq!(whoami.attack, ["T1033"]);
        assert_eq!(whoami.evidence, [1]);
        assert!(whoami.entities.users.contains("eve"));
        assert_eq!(whoami.first_seen, Timestamp::from_second(1_800_000_000).expect("time"));
        assert!(alerts.iter().all(|alert| alert.detected_at == now));
        assert_eq!(alerts[1].evidence, [2, 3, 4]);
        let listed = detector.list();
        assert!(listed.iter().any(|rule| rule.id == "r-failed" && rule.silent));
    }

    #[test]
    fn disabled_rules_and_correlations_stay_quiet_and_state_survives_a_restore() {
        let mut detector = detector();
        let now = Timestamp::from_second(1_900_000_000).expect("time");
        detector.set_disabled(["r-whoami".to_owned(), "c-many".to_owned()].into());
        let events = vec![
            event(&[("CommandLine", "whoami")], 0),
            event(&[("outcome", "failure"), ("user", "bob")], 1),
            event(&[("outcome", "failure"), ("user", "bob")], 2),
            event(&[("outcome", "failure"), ("user", "bob")], 3),
        ];
        assert!(run(&mut detector, &events, now).is_empty());
        // On again: two failures, a save and a restore into a new detector, one more.
        let mut detector = self::detector();
        let two = &events[1..3];
        assert!(run(&mut detector, two, now).is_empty());
        // As the server's checkpoint does: the text of `save_json`, read back.
        let saved = serde_json::from_str(detector.save_json().get()).expect("the text parses");
        let mut restored = self::detector();
        restored.restore(saved).expect("restores");
        let alerts = run(&mut restored, &events[3..], now);
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].rule_id, "c-many");
    }

    #[test]
    fn an_interest_answers_as_its_detector_and_follows_its_switches() {
        let config = crate::behaviour::BehaviourConfig::default();
        let rules = Loader::new(Mapping::new(Vec::new()))
            .load(&[(PathBuf::from("t.yml"), RULES.to_owned())]);
        let mut detector =
            Detector::new(rules, crate::behaviour::all(&config), EngineConfig::default());
        let interest = detector.interest(crate::behaviour::all(&config)).expect("twins");
        let failure = |second| {
            event(
                &[
                    ("event.category", "authentication"),
                    ("event.outcome", "failure"),
                    ("user.name", "root"),
                    ("host.name", "bastion"),
                    ("source.ip", "203.0.113.9"),
                ],
                second,
            )
        };
        let events = [
            failure(0),
            event(&[("dns.question.name", "x1y2z3.example.com"), ("source.ip", "10.0.0.2")], 1),
            event(&[("event.action", "DHCPACK"), ("client.mac", "00:11:22:33:44:55")], 2),
            event(&[("message", "nothing to see")], 3),
        ];
        let answers = |detector: &Detector| -> Vec<(Wanted, Wanted)> {
            events
                .iter()
                .map(|event| (interest.wants_keeping(event).0, detector.wants(event)))
                .collect()
        };
        let before = answers(&detector);
        assert!(before.iter().all(|(twin, own)| twin == own), "{before:?}");
        // Not a vacuous comparison: the login and the DNS query are wanted, the last is not.
        assert!(before[0].0.any() && before[1].0.any() && !before[3].0.any(), "{before:?}");
        // What the detector learns does not change the answers.
        let now = Timestamp::from_second(1_900_000_000).expect("time");
        let many: Vec<Event> = (0..50).map(failure).collect();
        run(&mut detector, &many, now);
        assert_eq!(answers(&detector), before);
        // Switching detectors off reaches the twins.
        let logins = ["palisade.brute_force", "palisade.password_spraying"];
        detector.set_disabled(logins.iter().map(|id| (*id).to_owned()).collect());
        let off = answers(&detector);
        assert!(off.iter().all(|(twin, own)| twin == own), "{off:?}");
        assert_ne!(off[0].0, before[0].0);
        detector.set_disabled(HashSet::new());
        assert_eq!(answers(&detector), before);
        // Twins in another order are refused.
        let mut shuffled = crate::behaviour::all(&config);
        shuffled.reverse();
        assert!(matches!(detector.interest(shuffled), Err(Error::Twins { .. })));
    }
}
