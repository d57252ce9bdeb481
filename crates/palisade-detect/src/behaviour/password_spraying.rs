//! The `palisade.password_spraying` detector: one source address failing to log in as many
//! different users, with only a few tries each.
//!
//! Spraying tries one or two likely passwords (`Winter2025!`) against every account it can
//! name, staying under the lockout threshold of each ([T1110.003]). The per-user view of
//! [`super::brute_force`] never sees it: every user fails only once or twice. Seen from the
//! source, it is a fan-out of failures over many accounts.
//!
//! The look-alike is an address that many real people share (a NAT, a VPN concentrator, a
//! proxy): over an hour a few dozen of them mistype a password. They differ from a sprayer in
//! that almost all of them then get in, so the detector also follows successes from each
//! source and stays quiet while most of the users that failed have also logged in.
//! Documentation: `docs/detectors/password_spraying.md`.
//!
//! [T1110.003]: https://attack.mitre.org/techniques/T1110/003/

use std::net::IpAddr;

use jiff::{SignedDuration, Timestamp};
use palisade_event::Event;
use serde::{Deserialize, Serialize};

use super::login::{self, Outcome, SAME_ATTEMPT};
use super::util::{self, Map, drop_least_recent, non_negative, within};
use super::{Behaviour, BehaviourMeta, Seen};
use crate::alert::{MAX_ENTITIES, MAX_EVIDENCE};
use crate::{Alert, EventId, Result, Severity};

static META: BehaviourMeta = BehaviourMeta {
    id: "palisade.password_spraying",
    title: "Password spraying from one source",
    severity: Severity::High,
    attack: &["T1110", "T1110.003"],
};

/// The version of the saved state; a state of another version does not decode.
const STATE_VERSION: u32 = 1;

/// Settings of `[detect.behaviour.password_spraying]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordSprayingConfig {
    /// Distinct users that one source must fail for, within `window`, each with at most
    /// `max_attempts_per_user` failures.
    pub distinct_users: usize,
    /// How far back failures and successes are counted.
    #[serde(deserialize_with = "util::duration::deserialize")]
    pub window: SignedDuration,
    /// A user with more failures than this from the source is being guessed at, not sprayed
    /// (that is brute force), and does not count towards `distinct_users`.
    pub max_attempts_per_user: usize,
    /// The largest share (0 to 1) of the sprayed users that may also have logged in
    /// successfully from the source within `window`. Above it the source looks like a
    /// gateway that real people share: they mistype, then get in.
    pub max_success_share: f64,
    /// After an alert for a source, no new alert for it until this much event time has
    /// passed.
    #[serde(deserialize_with = "util::duration::deserialize")]
    pub cooldown: SignedDuration,
    /// At most this many source addresses are followed; past it the least recently seen are
    /// forgotten.
    pub max_tracked: usize,
    /// At most this many users are followed per source (never fewer than `distinct_users`);
    /// users who only succeeded are forgotten first.
    pub max_users_per_source: usize,
    /// Source addresses never followed (a vulnerability scanner you run, an identity provider
    /// that relays logins): exact addresses, as written in `source.ip`.
    pub exempt_sources: Vec<String>,
}

impl Default for PasswordSprayingConfig {
    fn default() -> Self {
        Self {
            distinct_users: 10,
            window: SignedDuration::from_hours(1),
            max_attempts_per_user: 3,
            max_success_share: 0.3,
            cooldown: SignedDuration::from_hours(6),
            max_tracked: 5_000,
            max_users_per_source: 50,
            exempt_sources: Vec::new(),
        }
    }
}

/// Raises an alert when one source fails logins for many users with few tries each.
#[derive(Debug)]
pub struct PasswordSpraying {
    config: PasswordSprayingConfig,
    exempt: Vec<IpAddr>,
    state: State,
    /// Prunes on every event, as before [`Source::held`]: the reference its tests compare to.
    #[cfg(test)]
    always_prune: bool,
}

/// Everything learnt, as saved.
#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    version: u32,
    /// Keyed by the canonical source address.
    sources: Map<Source>,
}

/// One source's recent logins.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Source {
    /// Keyed by lower-cased user name.
    users: Map<UserLogins>,
    /// Event time of the latest activity, for forgetting the least recently seen.
    last_seen: Option<Timestamp>,
    /// Event time of the last alert about this source, for the cool-down.
    last_alert: Option<Timestamp>,
    /// Bounds on the times held for its users (failures and successes), or `None` when not
    /// known (after a restore). While both bounds are within the window of an event's time,
    /// pruning would remove nothing, and it is skipped: it walks every user, and a source
    /// spraying thousands of users sends thousands of events. Bounds may be wider than the
    /// times really held (users evicted, attempts not recorded), which only costs a prune.
    #[serde(skip)]
    held: Option<(Timestamp, Timestamp)>,
}

/// One user's recent logins from one source.
#[derive(Debug, Default, Serialize, Deserialize)]
struct UserLogins {
    /// Failures within the window, oldest first, at most `max_attempts_per_user + 1` (more is
    /// all the detector needs to know).
    failures: Vec<Failure>,
    /// The latest success.
    last_success: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    host: Option<String>,
}

/// One failed login.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Failure {
    time: Timestamp,
    id: EventId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    connection: Option<u64>,
}

impl UserLogins {
    fn last_activity(&self) -> Option<Timestamp> {
        self.failures.iter().map(|failure| failure.time).chain(self.last_success).max()
    }

    fn prune(&mut self, now: Timestamp, window: SignedDuration) {
        self.failures.retain(|failure| within(now, failure.time, window));
        if self.last_success.is_some_and(|at| !within(now, at, window)) {
            self.last_success = None;
        }
    }
}

impl PasswordSpraying {
    /// A detector with these settings.
    #[must_use]
    pub fn new(config: PasswordSprayingConfig) -> Self {
        let exempt = config
            .exempt_sources
            .iter()
            .filter_map(|text| text.trim().parse::<IpAddr>().ok())
            .map(|ip| ip.to_canonical())
            .collect();
        Self {
            config,
            exempt,
            state: State { version: STATE_VERSION, ..State::default() },
            #[cfg(test)]
            always_prune: false,
        }
    }

    fn success_share(&self) -> f64 {
        let share = self.config.max_success_share;
        if share.is_nan() { 0.3 } else { share.clamp(0.0, 1.0) }
    }

    fn users_cap(&self) -> usize {
        self.config.max_users_per_source.max(self.config.distinct_users).max(1)
    }

    fn record(&mut self, login: &Login<'_>, id: EventId, time: Timestamp) -> Vec<Alert> {
        let window = non_negative(self.config.window);
        let cooldown = non_negative(self.config.cooldown);
        let attempts_cap = self.config.max_attempts_per_user.saturating_add(1);
        let users_cap = self.users_cap();
        let threshold = self.config.distinct_users.max(1);
        let share = self.success_share();

        // Keys are copied only when new: most logins come from a source and user seen before.
        if !self.state.sources.contains_key(login.source) {
            self.state.sources.insert(login.source.to_owned(), Source::default());
        }
        let Some(source) = self.state.sources.get_mut(login.source) else { return Vec::new() };
        if source.last_seen.is_none_or(|seen| seen < time) {
            source.last_seen = Some(time);
        }
        let settled = source
            .held
            .is_some_and(|(low, high)| within(time, low, window) && within(time, high, window));
        #[cfg(test)]
        let settled = settled && !self.always_prune;
        if !settled {
            source.users.retain(|_, user| {
                user.prune(time, window);
                !user.failures.is_empty() || user.last_success.is_some()
            });
            source.held = held_bounds(&source.users);
        }
        source.held = Some(match source.held {
            Some((low, high)) => (low.min(time), high.max(time)),
            None => (time, time),
        });
        if !source.users.contains_key(login.user) {
            source.users.insert(login.user.to_owned(), UserLogins::default());
        }
        let Some(entry) = source.users.get_mut(login.user) else { return Vec::new() };
        if let Some(host) = login.host
            && entry.host.as_deref() != Some(host)
        {
            entry.host = Some(host.to_owned());
        }
        let is_failure = login.outcome == Outcome::Failure;
        if is_failure {
            let repeated = login.connection.is_some()
                && entry.failures.iter().rev().take(2).any(|earlier| {
                    earlier.connection == login.connection
                        && within(time, earlier.time, SAME_ATTEMPT)
                });
            if !repeated && entry.failures.len() < attempts_cap {
                entry.failures.push(Failure { time, id, connection: login.connection });
            }
        } else if entry.last_success.is_none_or(|at| at < time) {
            entry.last_success = Some(time);
        }
        while source.users.len() > users_cap {
            // Users who only succeeded tell least: they go first, then the least recent.
            let oldest = source
                .users
                .iter()
                .map(|(name, user)| (!user.failures.is_empty(), user.last_activity(), name))
                .min()
                .map(|(_, _, name)| name.clone());
            match oldest {
                Some(name) => source.users.remove(&name),
                None => break,
            };
        }

        let mut alerts = Vec::new();
        let cooling = source.last_alert.is_some_and(|at| at <= time && within(time, at, cooldown));
        if is_failure && !cooling {
            let sprayed: Vec<(&String, &UserLogins)> = source
                .users
                .iter()
                .filter(|(_, user)| {
                    !user.failures.is_empty()
                        && user.failures.len() <= self.config.max_attempts_per_user.max(1)
                })
                .collect();
            let got_in = sprayed.iter().filter(|(_, user)| user.last_success.is_some()).count();
            #[allow(clippy::cast_precision_loss)] // counts are far below 2^52
            let mostly_refused = got_in as f64 <= share * sprayed.len() as f64;
            if sprayed.len() >= threshold && mostly_refused {
                source.last_alert = Some(time);
                alerts.push(spray_alert(login.source, &sprayed, got_in, time));
            }
        }
        self.forget(time);
        alerts
    }

    /// Keeps the map within `max_tracked`: sources idle for longer than the window and the
    /// cool-down go first, then the least recently seen.
    fn forget(&mut self, now: Timestamp) {
        let max = self.config.max_tracked.max(1);
        let map = &mut self.state.sources;
        if map.len() <= max {
            return;
        }
        let keep_for = non_negative(self.config.window).max(non_negative(self.config.cooldown));
        map.retain(|_, source| source.last_seen.is_some_and(|seen| within(now, seen, keep_for)));
        if map.len() > max {
            // Down to 90% at once, so that eviction is paid for once per many events.
            drop_least_recent(map, max - max / 10, |source| source.last_seen);
        }
    }
}

/// The earliest and latest time held for any of `users`.
fn held_bounds(users: &Map<UserLogins>) -> Option<(Timestamp, Timestamp)> {
    let mut times = users
        .values()
        .flat_map(|user| user.failures.iter().map(|failure| failure.time).chain(user.last_success));
    let first = times.next()?;
    Some(times.fold((first, first), |(low, high), time| (low.min(time), high.max(time))))
}

fn spray_alert(
    source: &str,
    sprayed: &[(&String, &UserLogins)],
    got_in: usize,
    time: Timestamp,
) -> Alert {
    let mut failures: Vec<(&Failure, &String, Option<&String>)> = sprayed
        .iter()
        .flat_map(|(name, user)| {
            user.failures.iter().map(move |failure| (failure, *name, user.host.as_ref()))
        })
        .collect();
    failures.sort_by_key(|(failure, _, _)| (failure.time, failure.id));
    let first = failures.first().map_or(time, |(failure, _, _)| failure.time);
    let summary = format!(
        "{source} failed to log in as {} different users in {:#} ({} attempts; {got_in} of \
         those users also logged in from it)",
        sprayed.len(),
        time.duration_since(first),
        failures.len(),
    );
    let mut alert = META.alert(source, summary, first, time);
    alert.entities.ips.insert(source.to_owned());
    // Evidence and entities in time order, one failure per user first, so that a capped
    // list still shows the breadth of the spray.
    let mut seen_users = std::collections::BTreeSet::new();
    let (firsts, repeats): (Vec<_>, Vec<_>) =
        failures.iter().partition(|(_, name, _)| seen_users.insert(*name));
    for (failure, name, host) in firsts.iter().chain(&repeats) {
        if alert.entities.users.len() < MAX_ENTITIES {
            alert.entities.users.insert((*name).clone());
        }
        if let Some(host) = host
            && alert.entities.hosts.len() < MAX_ENTITIES
        {
            alert.entities.hosts.insert((*host).clone());
        }
        if alert.evidence.len() < MAX_EVIDENCE {
            alert.add_evidence([failure.id]);
        }
    }
    alert
}

impl Behaviour for PasswordSpraying {
    fn meta(&self) -> &BehaviourMeta {
        &META
    }

    fn wants(&self, event: &Event) -> bool {
        login::outcome(event).is_some()
    }

    fn wants_seen(&self, seen: &Seen<'_>) -> bool {
        seen.login().outcome.is_some()
    }

    fn observe(&mut self, event: &Event, id: EventId, time: Timestamp) -> Vec<Alert> {
        self.observe_seen(&Seen::new(event), id, time)
    }

    fn observe_seen(&mut self, seen: &Seen<'_>, id: EventId, time: Timestamp) -> Vec<Alert> {
        let Some(login) = Login::of(seen.login()) else { return Vec::new() };
        if login.source_ip.is_loopback()
            || login.source_ip.is_unspecified()
            || self.exempt.contains(&login.source_ip)
        {
            return Vec::new();
        }
        self.record(&login, id, time)
    }

    fn save_json(&self) -> Box<serde_json::value::RawValue> {
        crate::state_json(META.id, &self.state)
    }

    fn restore(&mut self, state: serde_json::Value) -> Result<()> {
        let error = |source| crate::Error::State { detector: META.id.to_owned(), source };
        let state: State = serde_json::from_value(state).map_err(error)?;
        if state.version != STATE_VERSION {
            return Err(error(serde::de::Error::custom(format!(
                "state version {} is not {STATE_VERSION}",
                state.version
            ))));
        }
        self.state = state;
        let newest = self.state.sources.values().filter_map(|source| source.last_seen).max();
        if let Some(newest) = newest {
            self.forget(newest);
        }
        Ok(())
    }
}

/// What the detector needs from one login event: it needs both a user and a source address.
/// Borrowed from the shared login facts: nothing is copied for an event that adds no user.
#[derive(Debug)]
struct Login<'a> {
    outcome: Outcome,
    /// Lower-cased: Windows account names are case-insensitive.
    user: &'a str,
    host: Option<&'a str>,
    source_ip: IpAddr,
    source: &'a str,
    connection: Option<u64>,
}

impl<'a> Login<'a> {
    fn of(facts: &'a login::Facts) -> Option<Self> {
        Some(Self {
            outcome: facts.outcome?,
            user: facts.user.as_deref()?,
            source_ip: facts.source_ip?,
            source: facts.source.as_deref()?,
            host: facts.host.as_deref(),
            connection: facts.connection,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use palisade_event::Value;
    use rand::rngs::StdRng;
    use rand::seq::SliceRandom;
    use rand::{Rng, SeedableRng};

    use super::*;

    const START: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(START + seconds).unwrap()
    }

    /// An sshd login as the Linux parser writes it.
    fn ssh(success: bool, user: &str, ip: &str, host: &str, pid: i64) -> Event {
        Event::from_fields(vec![
            ("event.category".into(), Value::List(vec![Value::from("authentication")])),
            ("event.outcome".into(), Value::from(if success { "success" } else { "failure" })),
            ("user.name".into(), Value::from(user)),
            ("source.ip".into(), Value::from(ip)),
            ("host.name".into(), Value::from(host)),
            ("process.pid".into(), Value::Int(pid)),
        ])
    }

    /// A Windows Security event as the evtx parser writes it.
    fn windows(event_id: i64, user: &str, ip: &str, computer: &str) -> Event {
        Event::from_fields(vec![
            ("EventID".into(), Value::Int(event_id)),
            ("Channel".into(), Value::from("Security")),
            ("TargetUserName".into(), Value::from(user)),
            ("IpAddress".into(), Value::from(ip)),
            ("Computer".into(), Value::from(computer)),
        ])
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
    enum Label {
        Background,
        Spray,
        SlowSpray,
        Gateway,
        OneUserHammered,
        FewUsersHammered,
    }

    /// Runs the events in time order through `detector`; ids are positions.
    fn run(
        mut events: Vec<(i64, Event, Label)>,
        detector: &mut PasswordSpraying,
    ) -> (Vec<Alert>, Vec<Label>) {
        events.sort_by_key(|(seconds, _, _)| *seconds);
        let mut alerts = Vec::new();
        let mut labels = Vec::new();
        for (id, (seconds, event, label)) in events.into_iter().enumerate() {
            labels.push(label);
            if detector.wants(&event) {
                alerts.extend(detector.observe(&event, id as EventId, at(seconds)));
            }
        }
        (alerts, labels)
    }

    fn day(seed: u64) -> Vec<(i64, Event, Label)> {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut events = Vec::new();
        let staff: Vec<String> = (0..400).map(|idx| format!("staff{idx}")).collect();
        // Everyday logins from home addresses, with the odd typo.
        for (idx, user) in staff.iter().enumerate().take(150) {
            let ip = format!("192.0.2.{}", idx % 200 + 1);
            for _ in 0..rng.random_range(1..5) {
                let when = rng.random_range(0..86_000);
                if rng.random_bool(0.15) {
                    events.push((when, windows(4625, user, &ip, "DC01"), Label::Background));
                }
                events.push((when + 10, windows(4624, user, &ip, "DC01"), Label::Background));
            }
        }
        // Look-alike: the office VPN gateway. Over the morning everyone logs in through
        // it; about one in four mistypes once or twice first. Dozens of users fail from it
        // within any hour, but nearly all of them get in.
        for user in &staff {
            let when = rng.random_range(28_800..43_200);
            if rng.random_bool(0.25) {
                for typo in 0..rng.random_range(1..3) {
                    events.push((
                        when + typo * 6,
                        windows(4625, user, "198.51.100.1", "DC01"),
                        Label::Gateway,
                    ));
                }
            }
            events.push((
                when + rng.random_range(15..90),
                windows(4624, user, "198.51.100.1", "DC01"),
                Label::Gateway,
            ));
        }
        // Look-alike: one account hammered from one address all day (brute force, or a
        // broken script): one user, many failures.
        for attempt in 0..500 {
            events.push((
                attempt * 150,
                ssh(false, "root", "192.0.2.250", "web01", 50_000 + attempt),
                Label::OneUserHammered,
            ));
        }
        // Look-alike: a dozen accounts, each guessed at twenty times: brute force against
        // several users, not spraying.
        for (idx, user) in staff.iter().skip(300).take(12).enumerate() {
            for attempt in 0..20 {
                let when = 20_000 + idx as i64 * 60 + attempt * 2;
                events.push((
                    when,
                    ssh(false, user, "192.0.2.251", "web01", 60_000 + when),
                    Label::FewUsersHammered,
                ));
            }
        }
        // Attack: forty accounts, one guess each (each logged twice by sshd), plus a few
        // names that do not exist; one guess is right.
        let mut targets: Vec<String> = staff.iter().take(36).cloned().collect();
        targets.extend(["admin", "test", "oracle", "backup"].map(String::from));
        targets.shuffle(&mut rng);
        for (idx, user) in targets.iter().enumerate() {
            let when = 45_000 + idx as i64 * 20;
            let pid = 70_000 + idx as i64;
            let success = idx == 7;
            events.push((when, ssh(success, user, "203.0.113.200", "vpn01", pid), Label::Spray));
            if !success {
                events.push((when, ssh(false, user, "203.0.113.200", "vpn01", pid), Label::Spray));
            }
        }
        // A slow spray: one user every twenty minutes; no hour holds ten. Not seen, by design.
        for (idx, user) in staff.iter().skip(200).take(30).enumerate() {
            events.push((
                idx as i64 * 1_200,
                windows(4625, user, "203.0.113.77", "DC01"),
                Label::SlowSpray,
            ));
        }
        events
    }

    #[test]
    fn fires_on_the_spray_and_not_on_look_alikes() {
        for seed in [7, 8, 9] {
            let mut detector = PasswordSpraying::new(PasswordSprayingConfig::default());
            let (alerts, labels) = run(day(seed), &mut detector);
            assert_eq!(alerts.len(), 1, "seed {seed}: {alerts:#?}");
            let alert = &alerts[0];
            assert_eq!(alert.rule_id, "palisade.password_spraying");
            assert_eq!(alert.group, "203.0.113.200");
            assert_eq!(alert.entities.ips, BTreeSet::from(["203.0.113.200".to_owned()]));
            assert_eq!(alert.entities.hosts, BTreeSet::from(["vpn01".to_owned()]));
            let labels: BTreeSet<Label> =
                alert.evidence.iter().map(|id| labels[*id as usize]).collect();
            assert_eq!(labels, BTreeSet::from([Label::Spray]));
            // It fires as the tenth user fails, with one evidence event per user (sshd's
            // echo folded in), the success not among them.
            assert_eq!(alert.evidence.len(), 10);
            assert_eq!(alert.entities.users.len(), 10);
        }
    }

    #[test]
    fn a_longer_window_catches_the_slow_spray() {
        let config = PasswordSprayingConfig {
            window: SignedDuration::from_hours(4),
            ..PasswordSprayingConfig::default()
        };
        let mut detector = PasswordSpraying::new(config);
        let (alerts, _) = run(day(7), &mut detector);
        assert!(alerts.iter().any(|alert| alert.group == "203.0.113.77"), "{alerts:#?}");
    }

    #[test]
    fn cooldown_holds_back_a_second_alert() {
        let mut detector = PasswordSpraying::new(PasswordSprayingConfig::default());
        let mut fired = 0;
        for idx in 0..200_i64 {
            let event = windows(4625, &format!("u{idx}"), "203.0.113.9", "DC01");
            fired += detector.observe(&event, idx as u64, at(idx * 60)).len();
        }
        // 200 minutes of spraying, a cool-down of six hours: one alert.
        assert_eq!(fired, 1);
    }

    /// Skipping the prune while every held time is within the window changes nothing: the
    /// same alerts and the same state as pruning on every event, with events in time order
    /// and shuffled (late events), and windows short enough for entries to expire.
    #[test]
    fn skipped_prunes_change_nothing() {
        for seed in 0..6_u64 {
            let mut events = day(seed);
            events.sort_by_key(|(seconds, _, _)| *seconds);
            if seed % 2 == 1 {
                // Swap neighbours at random: some events arrive late.
                let mut rng = StdRng::seed_from_u64(seed);
                for idx in 1..events.len() {
                    if rng.random_bool(0.3) {
                        events.swap(idx - 1, idx);
                    }
                }
            }
            for window in [60, 900, 3_600] {
                let config = PasswordSprayingConfig {
                    window: SignedDuration::from_secs(window),
                    distinct_users: 5,
                    ..PasswordSprayingConfig::default()
                };
                let mut skipping = PasswordSpraying::new(config.clone());
                let mut reference = PasswordSpraying::new(config);
                reference.always_prune = true;
                let mut fired = 0;
                for (id, (seconds, event, _)) in events.iter().enumerate() {
                    let id = id as EventId;
                    if !skipping.wants(event) {
                        continue;
                    }
                    let got = skipping.observe(event, id, at(*seconds));
                    let expected = reference.observe(event, id, at(*seconds));
                    assert_eq!(got, expected, "seed {seed}, window {window}, event {id}");
                    fired += got.len();
                }
                let (got, expected) = (skipping.save(), reference.save());
                assert_eq!(got, expected, "seed {seed}, window {window}");
                if window == 3_600 {
                    assert!(fired > 0, "seed {seed}: the scenario must raise alerts");
                }
            }
        }
    }

    #[test]
    fn users_per_source_and_sources_stay_bounded() {
        let config = PasswordSprayingConfig {
            max_tracked: 50,
            max_users_per_source: 20,
            ..PasswordSprayingConfig::default()
        };
        let mut detector = PasswordSpraying::new(config);
        detector.observe(&windows(4625, "victim", "192.0.2.1", "DC01"), 0, at(0));
        for idx in 0..1_000_i64 {
            let ip = format!("10.0.{}.{}", idx / 256, idx % 256);
            detector.observe(&windows(4624, "alice", &ip, "DC01"), 0, at(idx));
            detector.observe(&windows(4624, &format!("u{idx}"), "192.0.2.1", "DC01"), 0, at(idx));
        }
        assert!(detector.state.sources.len() <= 50);
        let gateway = &detector.state.sources["192.0.2.1"];
        assert!(gateway.users.len() <= 20);
        assert!(gateway.users.contains_key("u999"));
        // A user who failed outlives a thousand who only succeeded after it.
        assert!(gateway.users.contains_key("victim"));
    }

    #[test]
    fn loopback_and_exempt_sources_are_not_followed() {
        let config = PasswordSprayingConfig {
            exempt_sources: vec!["192.0.2.10".into()],
            ..PasswordSprayingConfig::default()
        };
        let mut detector = PasswordSpraying::new(config);
        for idx in 0..50_i64 {
            for ip in ["127.0.0.1", "::ffff:192.0.2.10", "-"] {
                let event = windows(4625, &format!("u{idx}"), ip, "DC01");
                assert!(detector.observe(&event, idx as u64, at(idx)).is_empty());
            }
        }
        assert!(detector.state.sources.is_empty());
    }

    #[test]
    fn what_was_seen_survives_a_restart() {
        let mut before = PasswordSpraying::new(PasswordSprayingConfig::default());
        for idx in 0..9_i64 {
            let event = windows(4625, &format!("u{idx}"), "203.0.113.9", "DC01");
            assert!(before.observe(&event, idx as u64, at(idx)).is_empty());
        }
        let text = serde_json::to_string(&before.save()).unwrap();
        let mut after = PasswordSpraying::new(PasswordSprayingConfig::default());
        after.restore(serde_json::from_str(&text).unwrap()).unwrap();
        let tenth = windows(4625, "u9", "203.0.113.9", "DC01");
        let alerts = after.observe(&tenth, 9, at(9));
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].evidence, (0..10).collect::<Vec<u64>>());

        let mut fresh = PasswordSpraying::new(PasswordSprayingConfig::default());
        assert!(fresh.observe(&tenth, 9, at(9)).is_empty());
    }

    #[test]
    fn state_that_does_not_decode_is_an_error() {
        let mut detector = PasswordSpraying::new(PasswordSprayingConfig::default());
        assert!(matches!(
            detector.restore(serde_json::json!([1, 2])),
            Err(crate::Error::State { ref detector, .. }) if detector == "palisade.password_spraying"
        ));
        assert!(detector.restore(serde_json::json!({"version": 2, "sources": {}})).is_err());
    }

    #[test]
    fn odd_events_are_ignored_without_panic() {
        let config = PasswordSprayingConfig {
            max_success_share: f64::NAN,
            window: SignedDuration::from_secs(-5),
            distinct_users: 0,
            ..PasswordSprayingConfig::default()
        };
        let mut detector = PasswordSpraying::new(config);
        let events = [
            Event::new(),
            Event::from_fields(vec![("EventID".into(), Value::from("4625"))]),
            Event::from_fields(vec![
                ("event.category".into(), Value::from("authentication")),
                ("event.outcome".into(), Value::from("failure")),
                ("user.name".into(), Value::from("   ")),
                ("source.ip".into(), Value::from("203.0.113.1")),
            ]),
            Event::from_fields(vec![
                ("event.category".into(), Value::from("authentication")),
                ("event.outcome".into(), Value::from("failure")),
                ("user.name".into(), Value::List(vec![])),
                ("source.ip".into(), Value::List(vec![Value::from("203.0.113.1")])),
            ]),
        ];
        for (id, event) in events.iter().enumerate() {
            assert!(detector.observe(event, id as u64, at(0)).is_empty());
        }
    }
}
