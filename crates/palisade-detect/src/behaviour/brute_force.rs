//! The `palisade.brute_force` detector: many failed logins against one target, then a
//! successful login for that same target shortly after.
//!
//! A run of failures alone is noise on any machine that faces the internet, and a service
//! with a stale password fails all day without anyone being at risk. What matters is the
//! success at the end of the run: it says that one of the guesses was right (ATT&CK
//! [T1110](https://attack.mitre.org/techniques/T1110/),
//! [T1110.001](https://attack.mitre.org/techniques/T1110/001/)).
//!
//! Two kinds of target are followed, each in its own bounded map:
//! - a user on a host (`user.name`/`TargetUserName` on `host.name`/`Computer`): failures from
//!   any number of sources, then that user's success on that host;
//! - a source address (`source.ip`/`IpAddress`): failures from it against any user on any
//!   host, then a success from it for a user it had failed for. Two more conditions keep a
//!   shared address (NAT, VPN, a jump host) quiet: the succeeding user must be among those that
//!   failed, and failures must make up most of the source's attempts.
//!
//! When both fire on the same success they make one alert. Documentation:
//! `docs/detectors/brute_force.md`.

use std::collections::VecDeque;
use std::net::IpAddr;

use jiff::{SignedDuration, Timestamp};
use palisade_event::{Event, Str};
use serde::{Deserialize, Serialize};

use super::login::{self, Facts, Outcome, SAME_ATTEMPT};
use super::util::{self, Map, drop_least_recent, non_negative, within};
use super::{Behaviour, BehaviourMeta, Seen};
use crate::alert::MAX_ENTITIES;
use crate::{Alert, EventId, Result, Severity};

static META: BehaviourMeta = BehaviourMeta {
    id: "palisade.brute_force",
    title: "Brute force followed by a successful login",
    severity: Severity::High,
    attack: &["T1110", "T1110.001"],
};

/// The version of the saved state; a state of another version does not decode.
const STATE_VERSION: u32 = 1;

/// Settings of `[detect.behaviour.brute_force]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BruteForceConfig {
    /// Failed logins against one target, within `window` before a success, that make the
    /// success suspicious. A user who mistypes a password two or three times stays below it.
    pub failures: usize,
    /// How far back from the success failures are counted.
    #[serde(deserialize_with = "util::duration::deserialize")]
    pub window: SignedDuration,
    /// The last failure must be at most this long before the success: a success long after
    /// the guessing stopped is more likely the owner coming back.
    #[serde(deserialize_with = "util::duration::deserialize")]
    pub success_within: SignedDuration,
    /// For a source address, the smallest share (0 to 1) of its login attempts in `window`
    /// that must have failed. A gateway that many people log in through has mostly successes
    /// even when it also has many failures; an attacker has almost only failures.
    pub min_failure_share: f64,
    /// After an alert for a target, no new alert for it until this much event time has passed.
    #[serde(deserialize_with = "util::duration::deserialize")]
    pub cooldown: SignedDuration,
    /// At most this many users-on-hosts and this many source addresses are followed (each);
    /// past it the least recently seen are forgotten.
    pub max_tracked: usize,
    /// At most this many failures are kept per target (the newest); never fewer than
    /// `failures`. A longer run is reported as "at least" this many.
    pub max_history: usize,
    /// Source addresses never followed as a target (scanners you run, a load balancer that
    /// hides clients): exact addresses, as written in `source.ip`.
    pub exempt_sources: Vec<String>,
}

impl Default for BruteForceConfig {
    fn default() -> Self {
        Self {
            failures: 10,
            window: SignedDuration::from_mins(10),
            success_within: SignedDuration::from_mins(5),
            min_failure_share: 0.8,
            cooldown: SignedDuration::from_hours(1),
            max_tracked: 10_000,
            max_history: 20,
            exempt_sources: Vec::new(),
        }
    }
}

/// Raises an alert when a target that has just failed to log in many times logs in.
#[derive(Debug)]
pub struct BruteForce {
    config: BruteForceConfig,
    exempt: Vec<IpAddr>,
    state: State,
    /// A user key's buffer, reused from one failure to the next.
    key: String,
}

/// Everything learnt, as saved.
#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    version: u32,
    /// Keyed by `host \u{1f} user` (host empty when the event names none).
    users: Map<Track>,
    /// Keyed by the canonical source address.
    sources: Map<Track>,
}

/// One target's recent history.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct Track {
    /// Failed attempts, oldest first.
    failures: VecDeque<Attempt>,
    /// Times of successes (followed for sources only, for the failure share).
    #[serde(default, skip_serializing_if = "VecDeque::is_empty")]
    successes: VecDeque<Timestamp>,
    /// Event time of the latest activity, for forgetting the least recently seen.
    last_seen: Option<Timestamp>,
    /// Event time of the last alert about this target, for the cool-down.
    last_alert: Option<Timestamp>,
}

/// One failed login. Its names are [`Str`]s, inline when short (most users, hosts and every
/// address): an attempt is kept for its user and for its source, and each copy was three
/// allocations, and three frees when the attempt aged out.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Attempt {
    time: Timestamp,
    id: EventId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    source: Option<Str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    host: Option<Str>,
    /// Host and process id hashed together, to recognise the second log line of one attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    connection: Option<u64>,
}

impl BruteForce {
    /// A detector with these settings.
    #[must_use]
    pub fn new(config: BruteForceConfig) -> Self {
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
            key: String::new(),
        }
    }

    fn threshold(&self) -> usize {
        self.config.failures.max(1)
    }

    fn history_cap(&self) -> usize {
        self.config.max_history.max(self.threshold())
    }

    fn failure_share(&self) -> f64 {
        let share = self.config.min_failure_share;
        if share.is_nan() { 0.8 } else { share.clamp(0.0, 1.0) }
    }

    fn record_failure(&mut self, login: &Facts, id: EventId, time: Timestamp) {
        let window = non_negative(self.config.window);
        let cap = self.history_cap();
        let attempt = Attempt {
            time,
            id,
            user: login.user.clone(),
            source: login.source.clone(),
            host: login.host.clone(),
            connection: login.connection,
        };
        if let Some(key) = user_key(login, std::mem::take(&mut self.key)) {
            // The key is kept for the next failure unless a new target takes it: most
            // failures are against a target already followed.
            match self.state.users.get_mut(key.as_str()) {
                Some(track) => {
                    track.add_failure(attempt.clone(), window, cap);
                    self.key = key;
                }
                None => {
                    let track = self.state.users.entry(key).or_default();
                    track.add_failure(attempt.clone(), window, cap);
                }
            }
        }
        if let Some(source) = self.followed_source_of(login) {
            // Copied only for a new target.
            match self.state.sources.get_mut(source) {
                Some(track) => track.add_failure(attempt, window, cap),
                None => {
                    let track = self.state.sources.entry(source.to_owned()).or_default();
                    track.add_failure(attempt, window, cap);
                }
            }
        }
        self.forget(time);
    }

    /// The source address of `login` when it is followed as a target.
    fn followed_source_of<'l>(&self, login: &'l Facts) -> Option<&'l str> {
        let ip = login.source_ip?;
        let local = ip.is_loopback() || ip.is_unspecified();
        // `source` is the address already written out by `Facts::read`.
        (!local && !self.exempt.contains(&ip)).then_some(login.source.as_deref()).flatten()
    }

    fn success(&mut self, login: &Facts, id: EventId, time: Timestamp) -> Vec<Alert> {
        let window = non_negative(self.config.window);
        let success_within = non_negative(self.config.success_within);
        let cooldown = non_negative(self.config.cooldown);
        let threshold = self.threshold();
        let share = self.failure_share();

        // The key buffer is lent to this success and given back at the end.
        let user_key = user_key(login, std::mem::take(&mut self.key));
        let source_key = self.followed_source_of(login);
        // A time too early to subtract from has no start: nothing is that old.
        let start = time.checked_sub(window).ok();
        let end = time.checked_add(window).ok();

        let by_user = user_key.as_ref().and_then(|key| {
            let track = self.state.users.get_mut(key.as_str())?;
            track.prune(time, window);
            track.touch(time);
            let run = track.run_before(time, start, None);
            let fires = run.count >= threshold
                && run.last.is_some_and(|last| time.duration_since(last) <= success_within)
                && !track.cooling(time, cooldown);
            // Only a run that fires is copied out; a success ends the user's run either
            // way: failures before it are spent.
            let run = fires.then(|| track.attempts_before(time, start));
            track.failures.clear();
            run
        });

        let by_source = source_key.and_then(|key| {
            // Copied only for a new target.
            let track = match self.state.sources.get_mut(key) {
                Some(track) => track,
                None => self.state.sources.entry(key.to_owned()).or_default(),
            };
            track.prune(time, window);
            track.touch(time);
            track.successes.push_back(time);
            while track.successes.len() > self.config.max_history.max(1) {
                track.successes.pop_front();
            }
            let run = track.run_before(time, start, login.user.as_deref());
            let failed = run.count;
            // Within the window either side of `time`, as `within` counts.
            let succeeded = track
                .successes
                .iter()
                .filter(|at| {
                    start.is_none_or(|start| **at >= start) && end.is_none_or(|end| **at <= end)
                })
                .count();
            #[allow(clippy::cast_precision_loss)] // counts are far below 2^52
            let mostly_failures = failed as f64 >= share * (failed + succeeded) as f64;
            let fires = failed >= threshold
                && run.user_failed
                && mostly_failures
                && run.last.is_some_and(|last| time.duration_since(last) <= success_within)
                && !track.cooling(time, cooldown);
            fires.then(|| track.attempts_before(time, start))
        });

        let mut alerts = Vec::new();
        if by_user.is_some() || by_source.is_some() {
            // One attack, one alert: the user's run and the source's run are merged, and both
            // targets start their cool-down.
            for (map, key) in [
                (&mut self.state.users, user_key.as_deref()),
                (&mut self.state.sources, source_key),
            ] {
                if let Some(track) = key.and_then(|key| map.get_mut(key)) {
                    track.last_alert = Some(time);
                    track.failures.clear();
                }
            }
            let group = match (&by_user, &login.user) {
                (Some(_), Some(user)) => match &login.host {
                    Some(host) => format!("{user}@{host}"),
                    None => user.to_string(),
                },
                _ => source_key.unwrap_or_default().to_owned(),
            };
            let mut run: Vec<Attempt> = by_user.into_iter().chain(by_source).flatten().collect();
            run.sort_by_key(|attempt| (attempt.time, attempt.id));
            run.dedup_by_key(|attempt| attempt.id);
            alerts.push(self.alert(group, login, id, time, &run));
        }
        if let Some(key) = user_key {
            self.key = key;
        }
        self.forget(time);
        alerts
    }

    fn alert(
        &self,
        group: String,
        login: &Facts,
        id: EventId,
        time: Timestamp,
        run: &[Attempt],
    ) -> Alert {
        let first = run.first().map_or(time, |attempt| attempt.time);
        let who = login.user.as_deref().unwrap_or("an unnamed user");
        let host = login.host.as_deref().map(|host| format!(" on {host}")).unwrap_or_default();
        let from = login.source.as_deref().map(|ip| format!(" from {ip}")).unwrap_or_default();
        // The user's and the source's runs are each capped: at the cap, the count is a
        // lower bound.
        let at_least = if run.len() >= self.history_cap() { "at least " } else { "" };
        let summary = format!(
            "{at_least}{} failed logins in {:#}, then a successful login for {who}{host}{from}",
            run.len(),
            time.duration_since(first),
        );
        let mut alert = META.alert(group, summary, first, time);
        let entities = &mut alert.entities;
        let add = |set: &mut std::collections::BTreeSet<String>, value: Option<&str>| {
            if let Some(value) = value
                && set.len() < MAX_ENTITIES
                && !set.contains(value)
            {
                set.insert(value.to_owned());
            }
        };
        add(&mut entities.users, login.user.as_deref());
        add(&mut entities.hosts, login.host.as_deref());
        add(&mut entities.ips, login.source.as_deref());
        for attempt in run {
            add(&mut entities.users, attempt.user.as_deref());
            add(&mut entities.hosts, attempt.host.as_deref());
            add(&mut entities.ips, attempt.source.as_deref());
        }
        alert.add_evidence(run.iter().map(|attempt| attempt.id));
        alert.add_evidence([id]);
        alert
    }

    /// Keeps both maps within `max_tracked`: targets idle for longer than the window and the
    /// cool-down go first, then the least recently seen.
    fn forget(&mut self, now: Timestamp) {
        let max = self.config.max_tracked.max(1);
        let keep_for = non_negative(self.config.window).max(non_negative(self.config.cooldown));
        for map in [&mut self.state.users, &mut self.state.sources] {
            if map.len() <= max {
                continue;
            }
            map.retain(|_, track| track.last_seen.is_some_and(|seen| within(now, seen, keep_for)));
            if map.len() > max {
                // Down to 90% at once, so that eviction is paid for once per many events.
                drop_least_recent(map, max - max / 10, |track| track.last_seen);
            }
        }
    }
}

impl Track {
    fn touch(&mut self, time: Timestamp) {
        if self.last_seen.is_none_or(|seen| seen < time) {
            self.last_seen = Some(time);
        }
    }

    /// Drops failures and successes that are more than `window` older than `now`.
    ///
    /// Compares times with the window's start, worked out once. Both lists are nearly always
    /// in time order, so the old ones are taken off the front and the rest is only checked;
    /// one out of order (a late event) is still found and dropped.
    fn prune(&mut self, now: Timestamp, window: SignedDuration) {
        // A start before the earliest time there is: nothing is that old.
        let Ok(start) = now.checked_sub(window) else { return };
        drop_before(&mut self.failures, start, |attempt| attempt.time);
        drop_before(&mut self.successes, start, |at| *at);
    }

    fn add_failure(&mut self, attempt: Attempt, window: SignedDuration, cap: usize) {
        self.prune(attempt.time, window);
        self.touch(attempt.time);
        let repeated = attempt.connection.is_some()
            && self.failures.iter().rev().take(4).any(|earlier| {
                earlier.connection == attempt.connection
                    && attempt.time.duration_since(earlier.time).abs() <= SAME_ATTEMPT
            });
        if repeated {
            return;
        }
        self.failures.push_back(attempt);
        while self.failures.len() > cap {
            self.failures.pop_front();
        }
    }

    /// The failures from `start` (the window's start, `None` for no start) up to `time`, not
    /// after it: a late-arriving older success must not count failures that followed it. In
    /// one pass, with no copy: how many, the last one's time, and whether `user` is among
    /// them.
    fn run_before(&self, time: Timestamp, start: Option<Timestamp>, user: Option<&str>) -> Run {
        let mut run = Run::default();
        for attempt in self.in_run(time, start) {
            run.count += 1;
            run.last = Some(attempt.time);
            run.user_failed |= user.is_some_and(|user| attempt.user.as_deref() == Some(user));
        }
        run
    }

    /// The failures [`Track::run_before`] counts, copied out for an alert.
    fn attempts_before(&self, time: Timestamp, start: Option<Timestamp>) -> Vec<Attempt> {
        self.in_run(time, start).cloned().collect()
    }

    fn in_run(&self, time: Timestamp, start: Option<Timestamp>) -> impl Iterator<Item = &Attempt> {
        self.failures.iter().filter(move |attempt| {
            attempt.time <= time && start.is_none_or(|start| attempt.time >= start)
        })
    }

    fn cooling(&self, now: Timestamp, cooldown: SignedDuration) -> bool {
        self.last_alert.is_some_and(|at| within(now, at, cooldown) && at <= now)
    }
}

/// What [`Track::run_before`] found.
#[derive(Debug, Default)]
struct Run {
    count: usize,
    last: Option<Timestamp>,
    user_failed: bool,
}

/// Drops the entries of `list` older than `start`: off the front while they are (the list is
/// nearly always in time order), then anywhere, only if one is left.
fn drop_before<T>(list: &mut VecDeque<T>, start: Timestamp, time: impl Fn(&T) -> Timestamp) {
    while list.front().is_some_and(|entry| time(entry) < start) {
        list.pop_front();
    }
    if list.iter().any(|entry| time(entry) < start) {
        list.retain(|entry| time(entry) >= start);
    }
}

impl Behaviour for BruteForce {
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
        let login = seen.login();
        match login.outcome {
            Some(Outcome::Failure) => {
                self.record_failure(login, id, time);
                Vec::new()
            }
            Some(Outcome::Success) => self.success(login, id, time),
            None => Vec::new(),
        }
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
        let cap = self.history_cap();
        for track in self.state.users.values_mut().chain(self.state.sources.values_mut()) {
            while track.failures.len() > cap {
                track.failures.pop_front();
            }
        }
        let newest = self
            .state
            .users
            .values()
            .chain(self.state.sources.values())
            .filter_map(|track| track.last_seen)
            .max();
        if let Some(newest) = newest {
            self.forget(newest);
        }
        Ok(())
    }
}

/// The key of a login's user on its host, when it names a user: written into `key`
/// (cleared first), so that a buffer can be reused.
fn user_key(login: &Facts, mut key: String) -> Option<String> {
    let user = login.user.as_deref()?;
    let host = login.host.as_deref().unwrap_or("");
    key.clear();
    key.reserve(host.len() + 1 + user.len());
    key.push_str(host);
    key.push('\u{1f}');
    key.push_str(user);
    Some(key)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use palisade_event::Value;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;

    const START: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(START + seconds).unwrap()
    }

    /// Pruning keeps exactly what is inside the window, also when a late event put an old
    /// time behind a newer one, and on the window's start itself.
    #[test]
    fn pruning_keeps_the_window_in_any_order() {
        let attempt = |seconds: i64| Attempt {
            time: at(seconds),
            id: u64::try_from(seconds).unwrap(),
            user: None,
            source: None,
            host: None,
            connection: None,
        };
        let mut track = Track::default();
        for seconds in [20, 60, 10, 70, 55, 30] {
            track.failures.push_back(attempt(seconds));
            track.successes.push_back(at(seconds + 1));
        }
        track.prune(at(100), SignedDuration::from_secs(45));
        let kept: Vec<i64> =
            track.failures.iter().map(|kept| kept.time.as_second() - START).collect();
        assert_eq!(kept, [60, 70, 55]);
        let kept: Vec<i64> = track.successes.iter().map(|kept| kept.as_second() - START).collect();
        assert_eq!(kept, [61, 71, 56]);
        // A window reaching before the earliest time there is keeps everything.
        track.prune(at(100), SignedDuration::MAX);
        assert_eq!(track.failures.len(), 3);
    }

    /// An sshd login as the Linux parser writes it.
    fn ssh(success: bool, user: &str, ip: &str, host: &str, pid: i64) -> Event {
        let (action, outcome) =
            if success { ("ssh_login", "success") } else { ("ssh_failed_password", "failure") };
        Event::from_fields(vec![
            ("event.category".into(), Value::List(vec![Value::from("authentication")])),
            ("event.action".into(), Value::from(action)),
            ("event.outcome".into(), Value::from(outcome)),
            ("user.name".into(), Value::from(user)),
            ("source.ip".into(), Value::from(ip)),
            ("host.name".into(), Value::from(host)),
            ("process.pid".into(), Value::Int(pid)),
        ])
    }

    /// The `pam_unix` line that sshd writes next to its own for a failed password.
    fn pam_echo(user: &str, ip: &str, host: &str, pid: i64) -> Event {
        Event::from_fields(vec![
            ("event.category".into(), Value::List(vec![Value::from("authentication")])),
            ("event.action".into(), Value::from("pam_auth_failure")),
            ("event.outcome".into(), Value::from("failure")),
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
            ("LogonType".into(), Value::from("3")),
        ])
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
    enum Label {
        Background,
        SshAttack,
        WindowsAttack,
        HostSweep,
        Mistypes,
        StaleService,
        SharedGateway,
    }

    struct Scenario {
        events: Vec<(i64, Event, Label)>,
    }

    impl Scenario {
        fn push(&mut self, seconds: i64, event: Event, label: Label) {
            self.events.push((seconds, event, label));
        }

        /// Runs the events in time order through `detector`; ids are positions.
        fn run(mut self, detector: &mut BruteForce) -> (Vec<Alert>, Vec<Label>) {
            self.events.sort_by_key(|(seconds, _, _)| *seconds);
            let mut alerts = Vec::new();
            let mut labels = Vec::new();
            for (id, (seconds, event, label)) in self.events.into_iter().enumerate() {
                labels.push(label);
                if detector.wants(&event) {
                    alerts.extend(detector.observe(&event, id as EventId, at(seconds)));
                }
            }
            (alerts, labels)
        }
    }

    /// A day of logins on a small estate: everyday logins with the odd typo, a user who
    /// mistypes three times, a service with a stale password, a gateway that many people log
    /// in through, and three attacks.
    fn day(seed: u64) -> Scenario {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut scenario = Scenario { events: Vec::new() };
        let hosts = ["web01", "web02", "db01", "bastion"];
        let mut pid = 10_000;
        for user_idx in 0..40 {
            let user = format!("user{user_idx}");
            let ip = format!("192.0.2.{}", user_idx + 10);
            for _ in 0..rng.random_range(3..10) {
                let when = rng.random_range(0..86_000);
                let host = hosts[rng.random_range(0..hosts.len())];
                pid += 1;
                if rng.random_bool(0.2) {
                    scenario.push(when, ssh(false, &user, &ip, host, pid), Label::Background);
                    scenario.push(when, pam_echo(&user, &ip, host, pid), Label::Background);
                }
                scenario.push(when + 5, ssh(true, &user, &ip, host, pid), Label::Background);
            }
        }
        // Look-alike: three typos, each logged twice, then the right password.
        for attempt in 0..3 {
            pid += 1;
            let when = 30_000 + attempt * 8;
            scenario.push(when, ssh(false, "dana", "192.0.2.200", "db01", pid), Label::Mistypes);
            scenario.push(when, pam_echo("dana", "192.0.2.200", "db01", pid), Label::Mistypes);
        }
        scenario.push(30_030, ssh(true, "dana", "192.0.2.200", "db01", pid + 1), Label::Mistypes);
        // Look-alike: a backup job with a stale password retries every thirty seconds, all
        // day (twenty failures in any ten minutes), and an administrator logs in successfully
        // from the same machine now and then.
        for round in 0..2_800 {
            pid += 1;
            let when = round * 30 + rng.random_range(0..10);
            scenario.push(
                when,
                ssh(false, "svc_backup", "198.51.100.50", "db01", pid),
                Label::StaleService,
            );
        }
        for when in [20_000, 50_000, 80_000] {
            pid += 1;
            scenario.push(
                when,
                ssh(true, "admin_eve", "198.51.100.50", "db01", pid),
                Label::StaleService,
            );
        }
        // Look-alike: a VPN gateway at the start of the working day; 600 people in an hour,
        // a quarter mistype once (some twenty failures in any ten minutes), everyone gets in.
        for person in 0..600 {
            let user = format!("staff{person}");
            let when = rng.random_range(28_800..32_400);
            if rng.random_bool(0.25) {
                scenario.push(
                    when,
                    windows(4625, &user, "203.0.113.1", "EXCH01"),
                    Label::SharedGateway,
                );
            }
            scenario.push(
                when + rng.random_range(5..40),
                windows(4624, &user, "203.0.113.1", "EXCH01"),
                Label::SharedGateway,
            );
        }
        // Attack 1: forty guesses at root on the bastion in under three minutes, then in.
        for guess in 0..40 {
            pid += 1;
            let when = 40_000 + guess * 4;
            scenario.push(when, ssh(false, "root", "192.0.2.66", "bastion", pid), Label::SshAttack);
            scenario.push(when, pam_echo("root", "192.0.2.66", "bastion", pid), Label::SshAttack);
        }
        scenario.push(
            40_170,
            ssh(true, "root", "192.0.2.66", "bastion", pid + 1),
            Label::SshAttack,
        );
        // After the success the attacker keeps going: same attack, no second alert.
        for guess in 0..15 {
            scenario.push(
                40_200 + guess,
                ssh(false, "root", "192.0.2.66", "bastion", pid + 2 + guess),
                Label::SshAttack,
            );
        }
        scenario.push(
            40_300,
            ssh(true, "root", "192.0.2.66", "bastion", pid + 20),
            Label::SshAttack,
        );
        // Attack 2: guesses at jdoe over SMB on a file server, from several addresses.
        for guess in 0..15 {
            let ip = format!("198.51.100.{}", 100 + guess % 3);
            scenario.push(
                60_000 + guess * 10,
                windows(4625, "JDoe", &ip, "FS01"),
                Label::WindowsAttack,
            );
        }
        scenario.push(
            60_200,
            windows(4624, "jdoe", "198.51.100.101", "FS01"),
            Label::WindowsAttack,
        );
        // Attack 3: one source tries `oracle` on every host, two guesses each, and gets in on
        // the last one: no single user-on-host reaches the threshold, the source does.
        for (round, host) in
            ["web01", "web02", "db01", "app01", "app02", "app03"].iter().enumerate()
        {
            for guess in 0..2 {
                pid += 1;
                let when = 70_000 + round as i64 * 20 + guess * 5;
                scenario.push(
                    when,
                    ssh(false, "oracle", "192.0.2.99", host, pid),
                    Label::HostSweep,
                );
            }
        }
        scenario.push(
            70_200,
            ssh(true, "oracle", "192.0.2.99", "app03", pid + 1),
            Label::HostSweep,
        );
        scenario
    }

    #[test]
    fn fires_once_per_attack_and_stays_quiet_on_look_alikes() {
        for seed in [1, 2, 3] {
            let mut detector = BruteForce::new(BruteForceConfig::default());
            let (alerts, labels) = day(seed).run(&mut detector);
            let labels_of = |alert: &Alert| -> BTreeSet<Label> {
                alert.evidence.iter().map(|id| labels[*id as usize]).collect()
            };
            assert_eq!(alerts.len(), 3, "seed {seed}: {alerts:#?}");

            let ssh_alert = &alerts[0];
            assert_eq!(ssh_alert.rule_id, "palisade.brute_force");
            assert_eq!(ssh_alert.group, "root@bastion");
            assert_eq!(labels_of(ssh_alert), BTreeSet::from([Label::SshAttack]));
            assert_eq!(ssh_alert.entities.users, BTreeSet::from(["root".to_owned()]));
            assert_eq!(ssh_alert.entities.hosts, BTreeSet::from(["bastion".to_owned()]));
            assert_eq!(ssh_alert.entities.ips, BTreeSet::from(["192.0.2.66".to_owned()]));
            // Forty attempts (their pam echoes folded in), of which the last twenty are kept,
            // and the success.
            assert_eq!(ssh_alert.evidence.len(), 21);
            assert!(
                ssh_alert.summary.starts_with("at least 20 failed logins in 1m 30s"),
                "{}",
                ssh_alert.summary
            );
            assert_eq!(ssh_alert.last_seen, at(40_170));

            let windows_alert = &alerts[1];
            assert_eq!(windows_alert.group, "jdoe@fs01");
            assert_eq!(labels_of(windows_alert), BTreeSet::from([Label::WindowsAttack]));
            assert_eq!(windows_alert.entities.ips.len(), 3);
            assert_eq!(windows_alert.evidence.len(), 16);
            assert!(
                windows_alert.summary.starts_with("15 failed logins"),
                "{}",
                windows_alert.summary
            );

            let sweep_alert = &alerts[2];
            assert_eq!(sweep_alert.group, "192.0.2.99");
            assert_eq!(labels_of(sweep_alert), BTreeSet::from([Label::HostSweep]));
            assert_eq!(sweep_alert.entities.hosts.len(), 6);
            assert_eq!(sweep_alert.evidence.len(), 13);
        }
    }

    #[test]
    fn sshd_pam_echo_is_one_attempt() {
        // Six attempts logged twice each are six, not twelve: below the threshold of ten.
        let mut detector = BruteForce::new(BruteForceConfig::default());
        let mut id = 0;
        for attempt in 0..6 {
            for event in [
                ssh(false, "ann", "192.0.2.5", "h", 100 + attempt),
                pam_echo("ann", "192.0.2.5", "h", 100 + attempt),
            ] {
                id += 1;
                assert!(detector.observe(&event, id, at(attempt * 3)).is_empty());
            }
        }
        assert!(detector.observe(&ssh(true, "ann", "192.0.2.5", "h", 200), 99, at(30)).is_empty());
    }

    #[test]
    fn a_success_long_after_the_guessing_is_not_the_end_of_a_run() {
        let mut detector = BruteForce::new(BruteForceConfig::default());
        for attempt in 0..12 {
            detector.observe(
                &ssh(false, "ann", "192.0.2.5", "h", attempt),
                attempt as u64,
                at(attempt),
            );
        }
        // Nine minutes later: inside the window, but past `success_within`.
        assert!(detector.observe(&ssh(true, "ann", "192.0.2.5", "h", 99), 99, at(560)).is_empty());
    }

    #[test]
    fn cooldown_then_fires_again() {
        let config = BruteForceConfig {
            cooldown: SignedDuration::from_hours(1),
            ..BruteForceConfig::default()
        };
        let mut detector = BruteForce::new(config);
        let mut fired = Vec::new();
        for base in [0, 1_800, 7_200] {
            for attempt in 0..10 {
                detector.observe(
                    &ssh(false, "ann", "192.0.2.5", "h", base + attempt),
                    1,
                    at(base + attempt),
                );
            }
            fired.push(
                !detector
                    .observe(&ssh(true, "ann", "192.0.2.5", "h", 0), 2, at(base + 20))
                    .is_empty(),
            );
        }
        assert_eq!(fired, [true, false, true]);
    }

    #[test]
    fn tracked_targets_stay_bounded() {
        let config = BruteForceConfig { max_tracked: 100, ..BruteForceConfig::default() };
        let mut detector = BruteForce::new(config);
        for idx in 0..5_000_i64 {
            let ip = format!("10.{}.{}.{}", idx / 65_536, (idx / 256) % 256, idx % 256);
            detector.observe(&ssh(false, &format!("u{idx}"), &ip, "h", idx), idx as u64, at(idx));
        }
        assert!(detector.state.users.len() <= 100);
        assert!(detector.state.sources.len() <= 100);
        // The newest are the ones kept.
        assert!(detector.state.users.contains_key("h\u{1f}u4999"));
    }

    #[test]
    fn odd_events_are_ignored_without_panic() {
        let mut detector = BruteForce::new(BruteForceConfig::default());
        let events = [
            Event::new(),
            Event::from_fields(vec![("EventID".into(), Value::from("4625"))]),
            Event::from_fields(vec![("EventID".into(), Value::Float(f64::NAN))]),
            Event::from_fields(vec![
                ("EventID".into(), Value::Int(4624)),
                ("Channel".into(), Value::from("Microsoft-Windows-Sysmon/Operational")),
            ]),
            Event::from_fields(vec![
                ("event.category".into(), Value::from("authentication")),
                ("event.outcome".into(), Value::from("failure")),
                ("process.pid".into(), Value::Float(f64::INFINITY)),
                ("source.ip".into(), Value::from("not an address")),
            ]),
        ];
        for (id, event) in events.iter().enumerate() {
            assert!(detector.observe(event, id as u64, at(0)).is_empty());
        }
        assert!(!detector.wants(&events[3]));
        assert!(detector.wants(&events[1]));
    }

    #[test]
    fn ntlm_validation_status_decides_the_outcome() {
        let mut event = windows(4776, "bob", "-", "DC01");
        event.insert("Status", Value::from("0xc000006a"));
        assert_eq!(login::outcome(&event), Some(Outcome::Failure));
        event.insert("Status", Value::from("0x0"));
        assert_eq!(login::outcome(&event), Some(Outcome::Success));
    }

    #[test]
    fn failures_survive_a_restart() {
        let mut before = BruteForce::new(BruteForceConfig::default());
        for attempt in 0..12 {
            before.observe(&windows(4625, "ann", "192.0.2.5", "FS01"), attempt, at(attempt as i64));
        }
        let saved = before.save();
        let text = serde_json::to_string(&saved).unwrap();

        let mut after = BruteForce::new(BruteForceConfig::default());
        after.restore(serde_json::from_str(&text).unwrap()).unwrap();
        let alerts = after.observe(&windows(4624, "ann", "192.0.2.5", "FS01"), 50, at(30));
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].evidence.len(), 13);

        // Without the saved state the same success is unremarkable.
        let mut fresh = BruteForce::new(BruteForceConfig::default());
        assert!(fresh.observe(&windows(4624, "ann", "192.0.2.5", "FS01"), 50, at(30)).is_empty());
    }

    #[test]
    fn state_that_does_not_decode_is_an_error() {
        let mut detector = BruteForce::new(BruteForceConfig::default());
        let error = detector.restore(serde_json::json!({"version": 1, "users": 3})).unwrap_err();
        assert!(
            matches!(error, crate::Error::State { ref detector, .. } if detector == "palisade.brute_force")
        );
        assert!(
            detector
                .restore(serde_json::json!({"version": 99, "users": {}, "sources": {}}))
                .is_err()
        );
    }

    #[test]
    fn config_reads_durations_and_rejects_unknown_keys() {
        let config: BruteForceConfig =
            serde_json::from_value(serde_json::json!({"window": "15m", "failures": 20})).unwrap();
        assert_eq!(config.window, SignedDuration::from_mins(15));
        assert_eq!(config.failures, 20);
        assert_eq!(config.cooldown, SignedDuration::from_hours(1));
        assert!(
            serde_json::from_value::<BruteForceConfig>(serde_json::json!({"windw": "1m"})).is_err()
        );
    }
}
