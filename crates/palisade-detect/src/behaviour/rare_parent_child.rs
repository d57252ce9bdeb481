//! The `palisade.rare_parent_child` detector: a process started by a parent that has not
//! started it before on that host (or anywhere, by setting). A document that runs a macro
//! shows up as `winword.exe` starting `powershell.exe`; a web shell as `w3wp.exe` or `httpd`
//! starting `cmd.exe` or `sh` (ATT&CK T1204.002, T1505.003, T1059).
//!
//! During a learning period each host's (parent, child) pairs are only counted, by image
//! base name without case (`C:\Windows\System32\CMD.EXE` is `cmd.exe`). After it, a pair
//! seen fewer than `rare_below` times raises an alert, and keeps being counted, so it stops
//! being rare once it is usual. Pairs where an office program, a browser or a server process
//! starts a shell or script host are raised as high severity; other rare pairs as low. In
//! per-host mode, a pair that several other hosts already run is left alone: a new host
//! getting the fleet's usual software is not an attack.
//!
//! Documentation: `docs/detectors/rare_parent_child.md`.

use std::collections::HashSet;

use jiff::{SignedDuration, Timestamp};
use palisade_event::Event;
use serde::{Deserialize, Serialize};

use super::util::{self, Map, has, number, text};
use super::{Behaviour, BehaviourMeta};
use crate::{Alert, Entities, EventId, Result, Severity};

/// Who this detector is.
const META: BehaviourMeta = BehaviourMeta {
    id: "palisade.rare_parent_child",
    title: "Rare parent and child process pair",
    severity: Severity::Low,
    attack: &["T1059", "T1204.002", "T1505.003"],
};

/// Version of the saved state, so that a future layout can tell old state from new.
const STATE_VERSION: u32 = 1;

/// Scope key of the one table in global mode.
const GLOBAL: &str = "*";

/// At most this many characters of the command line go into an alert's summary.
const MAX_COMMAND_LINE: usize = 200;

/// Where pairs are learnt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// One table per host: a pair is rare when that host has not run it.
    Host,
    /// One table for all hosts: a pair is rare when no host has run it. Quieter, but
    /// misses an attack that uses a pair some other host runs for a living.
    Global,
}

/// Settings of `[detect.behaviour.rare_parent_child]`.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RareParentChildConfig {
    /// `host` (the default) or `global`: where pairs are learnt and compared.
    pub scope: Scope,
    /// How long, from the first process start seen on a host (or anywhere, in global mode),
    /// pairs are only learnt. A week covers weekly jobs and the working week.
    #[serde(deserialize_with = "util::duration::deserialize")]
    pub learning_period: SignedDuration,
    /// After learning, a pair seen fewer times than this before is rare. 1 means "never
    /// seen"; 3 also flags pairs seen once or twice during learning.
    pub rare_below: u64,
    /// In host mode, a pair that at least this many other hosts have run is not raised
    /// (0 turns this off). Ignored in global mode.
    pub fleet_common_hosts: u32,
    /// Raise only the risky pairs (a user application or a server process starting a
    /// shell), not every rare pair: for busy fleets where rare pairs are common.
    pub risky_only: bool,
    /// After an alert for a (host, pair), no new alert for it until this much event time
    /// has passed; matters only when `rare_below` is above 1.
    #[serde(deserialize_with = "util::duration::deserialize")]
    pub cooldown: SignedDuration,
    /// Parents a user opens content with (office, mail, PDF readers, browsers): such a
    /// parent starting a shell is a malicious document or download (T1204.002). Base
    /// names, without case; `.exe` may be left out.
    pub user_app_parents: Vec<String>,
    /// Server processes: one starting a shell is a web shell or an exploited service
    /// (T1505.003).
    pub server_parents: Vec<String>,
    /// Shells, script hosts and the system binaries that run code or fetch it, whose start
    /// by one of the parents above makes a pair risky.
    pub shell_children: Vec<String>,
    /// Most hosts with a table; the least recently active are forgotten first (a forgotten
    /// host learns again from scratch, so it is quiet, not noisy).
    pub max_hosts: usize,
    /// Most pairs per host in host mode; the least used are forgotten first, so the usual
    /// pairs stay known.
    pub max_pairs_per_host: usize,
    /// Most pairs in all tables together (and the size of the one table in global mode):
    /// beyond it, the least recently active hosts are forgotten. About 100 bytes each.
    pub max_pairs: usize,
    /// Most pairs in the fleet table behind `fleet_common_hosts`.
    pub max_fleet_pairs: usize,
}

impl Default for RareParentChildConfig {
    fn default() -> Self {
        let owned = |names: &[&str]| names.iter().map(|name| (*name).to_owned()).collect();
        Self {
            scope: Scope::Host,
            learning_period: SignedDuration::from_hours(7 * 24),
            rare_below: 1,
            fleet_common_hosts: 3,
            risky_only: false,
            cooldown: SignedDuration::from_hours(24),
            user_app_parents: owned(USER_APP_PARENTS),
            server_parents: owned(SERVER_PARENTS),
            shell_children: owned(SHELL_CHILDREN),
            max_hosts: 10_000,
            max_pairs_per_host: 1_000,
            max_pairs: 200_000,
            max_fleet_pairs: 50_000,
        }
    }
}

/// Office programs, mail clients, PDF readers and browsers.
const USER_APP_PARENTS: &[&str] = &[
    "winword",
    "excel",
    "powerpnt",
    "outlook",
    "msaccess",
    "mspub",
    "onenote",
    "visio",
    "eqnedt32",
    "wordpad",
    "acrord32",
    "acrobat",
    "foxitpdfreader",
    "thunderbird",
    "chrome",
    "msedge",
    "firefox",
    "iexplore",
    "opera",
    "brave",
    "soffice.bin",
];

/// Web, application and database servers.
const SERVER_PARENTS: &[&str] = &[
    "w3wp",
    "httpd",
    "apache2",
    "nginx",
    "php-cgi",
    "php-fpm",
    "tomcat",
    "tomcat9",
    "java",
    "sqlservr",
    "mysqld",
    "postgres",
    "umworkerprocess",
    "node",
];

/// Shells, script hosts and code-running or downloading system binaries.
const SHELL_CHILDREN: &[&str] = &[
    "cmd",
    "powershell",
    "pwsh",
    "wscript",
    "cscript",
    "mshta",
    "rundll32",
    "regsvr32",
    "certutil",
    "bitsadmin",
    "wmic",
    "msbuild",
    "installutil",
    "bash",
    "sh",
    "dash",
    "zsh",
    "ksh",
    "python",
    "python3",
    "perl",
    "nc",
    "ncat",
    "curl",
    "wget",
];

/// A (parent, child) pair's key in the tables: both base names joined with U+001F, which
/// [`base_name`] never lets through.
fn pair_key(parent: &str, child: &str) -> String {
    format!("{parent}\u{1f}{child}")
}

/// The lower-case file name of an image path, Windows or Unix, without quotes; control
/// characters become `?` so that [`pair_key`]'s separator stays unique.
fn base_name(path: &str) -> Option<String> {
    let path = path.trim().trim_matches('"').trim();
    let name = path.rsplit(['\\', '/']).next()?.trim();
    if name.is_empty() {
        return None;
    }
    Some(
        name.chars()
            .map(
                |character| {
                    if character.is_control() { '?' } else { character.to_ascii_lowercase() }
                },
            )
            .collect(),
    )
}

/// The parent and child images of a process start, from Sysmon 1, Security 4688 or ECS.
fn parent_and_child(event: &Event) -> Option<(String, String)> {
    let first = |fields: &[&str]| fields.iter().find_map(|field| text(event, field));
    let parent = first(&[
        "ParentImage",
        "ParentProcessName",
        "process.parent.executable",
        "process.parent.name",
    ])?;
    let child = first(&["Image", "NewProcessName", "process.executable", "process.name"])?;
    Some((base_name(&parent)?, base_name(&child)?))
}

/// The host the process ran on.
fn host_of(event: &Event) -> Option<String> {
    ["host.name", "Computer", "host.hostname"]
        .iter()
        .find_map(|field| text(event, field))
        .map(|host| host.trim().to_ascii_lowercase())
}

/// A name as the lists hold it: lower-case, without `.exe`.
fn list_name(name: &str) -> String {
    let name = name.trim().to_ascii_lowercase();
    name.strip_suffix(".exe").map(str::to_owned).unwrap_or(name)
}

/// How one pair counts.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PairStat {
    count: u64,
    last_seen: Timestamp,
    last_alert: Option<Timestamp>,
}

/// One host's table (or the only one, in global mode).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Table {
    /// Event time of the first process start seen: learning runs from here.
    started: Timestamp,
    last_seen: Timestamp,
    /// By [`pair_key`].
    pairs: Map<PairStat>,
}

/// How many hosts run a pair, in host mode.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct FleetStat {
    hosts: u32,
    last_seen: Timestamp,
}

/// Everything the detector keeps between events, as saved.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct State {
    version: u32,
    tables: Map<Table>,
    fleet: Map<FleetStat>,
}

/// What makes a pair risky.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Risk {
    /// A user application started a shell.
    UserApp,
    /// A server process started a shell.
    Server,
    /// Neither.
    Plain,
}

/// One pair seen after learning, as an alert describes it.
#[derive(Debug, Clone, Copy)]
struct Sighting<'a> {
    scope_key: &'a str,
    parent: &'a str,
    child: &'a str,
    /// Times the pair was seen before in its table.
    prior: u64,
    risk: Risk,
}

/// The detector.
#[derive(Debug)]
pub struct RareParentChild {
    config: RareParentChildConfig,
    user_apps: HashSet<String>,
    servers: HashSet<String>,
    shells: HashSet<String>,
    state: State,
    /// Pairs in all tables, kept up to date rather than summed on every event.
    total_pairs: usize,
}

impl RareParentChild {
    /// A detector with these settings and nothing learnt.
    #[must_use]
    pub fn new(config: RareParentChildConfig) -> Self {
        let set = |names: &[String]| names.iter().map(|name| list_name(name)).collect();
        Self {
            user_apps: set(&config.user_app_parents),
            servers: set(&config.server_parents),
            shells: set(&config.shell_children),
            config,
            state: State { version: STATE_VERSION, ..State::default() },
            total_pairs: 0,
        }
    }

    fn risk(&self, parent: &str, child: &str) -> Risk {
        if !self.shells.contains(&list_name(child)) {
            return Risk::Plain;
        }
        let parent = list_name(parent);
        if self.user_apps.contains(&parent) {
            Risk::UserApp
        } else if self.servers.contains(&parent) {
            Risk::Server
        } else {
            Risk::Plain
        }
    }

    /// Most pairs in one table.
    fn table_cap(&self) -> usize {
        match self.config.scope {
            Scope::Host => self.config.max_pairs_per_host.min(self.config.max_pairs),
            Scope::Global => self.config.max_pairs,
        }
        .max(1)
    }

    /// Forgets the least used pairs of a full table, so that one more fits: the usual
    /// pairs, which have the highest counts, are the ones worth keeping. Returns how many
    /// were forgotten.
    fn make_room(pairs: &mut Map<PairStat>, max_pairs: usize) -> usize {
        let mut removed = 0;
        while pairs.len() >= max_pairs {
            let Some(victim) = pairs
                .iter()
                .min_by_key(|(_, stat)| (stat.count, stat.last_seen))
                .map(|(key, _)| key.clone())
            else {
                break;
            };
            pairs.remove(&victim);
            removed += 1;
        }
        removed
    }

    /// Counts one more host running `key`.
    fn count_in_fleet(&mut self, key: &str, time: Timestamp) {
        if let Some(stat) = self.state.fleet.get_mut(key) {
            stat.hosts = stat.hosts.saturating_add(1);
            stat.last_seen = stat.last_seen.max(time);
            return;
        }
        let max_fleet = self.config.max_fleet_pairs.max(1);
        if self.state.fleet.len() >= max_fleet {
            // Down to 90 %, least common first, so that this does not run on every new pair.
            let mut ranked: Vec<(u32, Timestamp, String)> = self
                .state
                .fleet
                .iter()
                .map(|(key, stat)| (stat.hosts, stat.last_seen, key.clone()))
                .collect();
            ranked.sort();
            let excess = self.state.fleet.len() + 1 - (max_fleet - max_fleet / 10).max(1);
            for (_, _, key) in ranked.into_iter().take(excess) {
                self.state.fleet.remove(&key);
            }
        }
        self.state.fleet.insert(key.to_owned(), FleetStat { hosts: 1, last_seen: time });
    }

    /// Forgets the least recently active hosts while there are too many hosts or pairs,
    /// down to 90 % of both caps so that this does not run again at once; the most recent
    /// table always stays.
    fn enforce_caps(&mut self) {
        let max_hosts = self.config.max_hosts.max(1);
        let max_pairs = self.config.max_pairs.max(1);
        if self.state.tables.len() <= max_hosts && self.total_pairs <= max_pairs {
            return;
        }
        let host_target = (max_hosts - max_hosts / 10).max(1);
        let pair_target = max_pairs - max_pairs / 10;
        let mut by_age: Vec<(Timestamp, String)> =
            self.state.tables.iter().map(|(key, table)| (table.last_seen, key.clone())).collect();
        by_age.sort();
        for (_, key) in by_age {
            if self.state.tables.len() <= 1
                || (self.state.tables.len() <= host_target && self.total_pairs <= pair_target)
            {
                break;
            }
            if let Some(table) = self.state.tables.remove(&key) {
                self.total_pairs = self.total_pairs.saturating_sub(table.pairs.len());
            }
        }
    }

    fn raise(&self, event: &Event, id: EventId, time: Timestamp, sighting: &Sighting<'_>) -> Alert {
        let Sighting { scope_key, parent, child, prior, risk } = *sighting;
        let host = host_of(event);
        let seen = match (prior, self.config.scope) {
            (0, Scope::Host) => "never seen on this host".to_owned(),
            (0, Scope::Global) => "never seen on any host".to_owned(),
            (count, Scope::Host) => format!("seen {count} times before on this host"),
            (count, Scope::Global) => format!("seen {count} times before"),
        };
        let shown_host = host.as_deref().unwrap_or("unknown host");
        let mut summary = format!("{shown_host}: {parent} started {child}, {seen}");
        if let Some(command_line) =
            text(event, "CommandLine").or_else(|| text(event, "process.command_line"))
        {
            let shortened: String = command_line.chars().take(MAX_COMMAND_LINE).collect();
            summary.push_str(": ");
            summary.push_str(&shortened);
        }
        let group = format!("{scope_key}: {parent} → {child}");
        let mut alert = META.alert(group, summary, time, time);
        let (severity, attack): (Severity, &[&str]) = match risk {
            Risk::UserApp => (Severity::High, &["T1204.002", "T1059"]),
            Risk::Server => (Severity::High, &["T1505.003", "T1059"]),
            Risk::Plain => (META.severity, &["T1059"]),
        };
        alert.severity = severity;
        alert.attack = attack.iter().map(|technique| (*technique).to_owned()).collect();
        alert.entities = Entities::of(event);
        if alert.entities.hosts.is_empty()
            && let Some(host) = host
        {
            alert.entities.hosts.insert(host);
        }
        alert.add_evidence([id]);
        alert
    }
}

impl Behaviour for RareParentChild {
    fn meta(&self) -> &BehaviourMeta {
        &META
    }

    fn wants(&self, event: &Event) -> bool {
        if event.get("ParentImage").is_some() {
            // Sysmon writes ParentImage on process creation (1) only.
            return number(event, "EventID").is_none_or(|event_id| event_id == 1.0);
        }
        if event.get("ParentProcessName").is_some() {
            return number(event, "EventID").is_none_or(|event_id| event_id == 4688.0);
        }
        let ecs_parent = event.get("process.parent.executable").is_some()
            || event.get("process.parent.name").is_some();
        // ECS process events also say when a process ends; only starts make pairs.
        ecs_parent && (event.get("event.type").is_none() || has(event, "event.type", "start"))
    }

    fn observe(&mut self, event: &Event, id: EventId, time: Timestamp) -> Vec<Alert> {
        let Some((parent, child)) = parent_and_child(event) else { return Vec::new() };
        let scope_key = match self.config.scope {
            Scope::Host => host_of(event).unwrap_or_default(),
            Scope::Global => GLOBAL.to_owned(),
        };
        let key = pair_key(&parent, &child);
        let max_pairs = self.table_cap();
        let learning_period = self.config.learning_period;
        let cooldown = self.config.cooldown;

        let table = self.state.tables.entry(scope_key.clone()).or_insert_with(|| Table {
            started: time,
            last_seen: time,
            pairs: Map::default(),
        });
        table.last_seen = table.last_seen.max(time);
        // Events from before the first one (late arrivals) are learnt as well.
        let learning = time.duration_since(table.started) < learning_period;
        let (prior, last_alert) =
            table.pairs.get(&key).map_or((0, None), |stat| (stat.count, stat.last_alert));
        if prior == 0 {
            let removed = Self::make_room(&mut table.pairs, max_pairs);
            self.total_pairs = (self.total_pairs + 1).saturating_sub(removed);
        }
        let stat = table.pairs.entry(key.clone()).or_insert(PairStat {
            count: 0,
            last_seen: time,
            last_alert: None,
        });
        stat.count = stat.count.saturating_add(1);
        stat.last_seen = stat.last_seen.max(time);

        let per_host = self.config.scope == Scope::Host;
        let others =
            if per_host { self.state.fleet.get(&key).map_or(0, |stat| stat.hosts) } else { 0 };
        if per_host && prior == 0 && !scope_key.is_empty() {
            self.count_in_fleet(&key, time);
        }

        let risk = self.risk(&parent, &child);
        let fleet_common = per_host
            && self.config.fleet_common_hosts > 0
            && others >= self.config.fleet_common_hosts;
        let cooling = last_alert.is_some_and(|at| time.duration_since(at) < cooldown);
        let wanted_risk = !self.config.risky_only || risk != Risk::Plain;
        let raise =
            !learning && prior < self.config.rare_below && !fleet_common && !cooling && wanted_risk;
        let mut alerts = Vec::new();
        if raise {
            let sighting =
                Sighting { scope_key: &scope_key, parent: &parent, child: &child, prior, risk };
            alerts.push(self.raise(event, id, time, &sighting));
            if let Some(stat) =
                self.state.tables.get_mut(&scope_key).and_then(|table| table.pairs.get_mut(&key))
            {
                stat.last_alert = Some(time);
            }
        }
        self.enforce_caps();
        alerts
    }

    fn save_json(&self) -> Box<serde_json::value::RawValue> {
        crate::state_json(META.id, &self.state)
    }

    fn restore(&mut self, state: serde_json::Value) -> Result<()> {
        let decoded: State = serde_json::from_value(state).map_err(state_error)?;
        if decoded.version != STATE_VERSION {
            return Err(state_error(serde::de::Error::custom(format!(
                "state version {} is not {STATE_VERSION}",
                decoded.version
            ))));
        }
        self.state = decoded;
        self.total_pairs = self.state.tables.values().map(|table| table.pairs.len()).sum();
        self.enforce_caps();
        Ok(())
    }
}

fn state_error(source: serde_json::Error) -> crate::Error {
    crate::Error::State { detector: META.id.to_owned(), source }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use palisade_event::Value;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;

    fn start() -> Timestamp {
        "2026-03-02T08:00:00Z".parse().unwrap()
    }

    fn day(days: f64) -> Timestamp {
        start() + SignedDuration::from_secs_f64(days * 86_400.0)
    }

    fn event(fields: &[(&str, &str)], event_id: Option<i64>) -> Event {
        let mut event = Event::from_fields(
            fields
                .iter()
                .map(|(name, value)| (palisade_event::Str::copy(name), Value::from(*value)))
                .collect(),
        );
        if let Some(event_id) = event_id {
            event.insert("EventID", Value::Int(event_id));
        }
        event
    }

    /// Sysmon process creation (1).
    fn sysmon(computer: &str, parent: &str, child: &str, command_line: &str) -> Event {
        event(
            &[
                ("Channel", "Microsoft-Windows-Sysmon/Operational"),
                ("Computer", computer),
                ("ParentImage", parent),
                ("Image", child),
                ("CommandLine", command_line),
                ("User", "CORP\\alice"),
            ],
            Some(1),
        )
    }

    /// Security process creation (4688).
    fn security(computer: &str, parent: &str, child: &str) -> Event {
        event(
            &[
                ("Channel", "Security"),
                ("Computer", computer),
                ("ParentProcessName", parent),
                ("NewProcessName", child),
                ("SubjectUserName", "IIS APPPOOL\\DefaultAppPool"),
            ],
            Some(4688),
        )
    }

    /// An ECS process start, as an EDR or auditd pipeline writes it.
    fn ecs(host: &str, parent: &str, child: &str) -> Event {
        event(
            &[
                ("host.name", host),
                ("event.category", "process"),
                ("event.type", "start"),
                ("process.parent.executable", parent),
                ("process.executable", child),
                ("user.name", "www-data"),
            ],
            None,
        )
    }

    /// The usual pairs of a Windows workstation, spelt in the ways logs spell them.
    const WORKSTATION_PAIRS: &[(&str, &str)] = &[
        ("C:\\Windows\\explorer.exe", "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe"),
        (
            "C:\\Windows\\Explorer.EXE",
            "C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE",
        ),
        (
            "C:\\Windows\\explorer.exe",
            "C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE",
        ),
        ("C:\\Windows\\System32\\services.exe", "C:\\Windows\\System32\\svchost.exe"),
        ("C:\\Windows\\system32\\svchost.exe", "C:\\Windows\\System32\\taskhostw.exe"),
        ("C:\\Windows\\System32\\userinit.exe", "C:\\Windows\\explorer.exe"),
        (
            "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
            "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
        ),
        ("C:\\Windows\\System32\\cmd.exe", "C:\\Windows\\System32\\conhost.exe"),
        ("C:\\Windows\\explorer.exe", "C:\\Windows\\System32\\cmd.exe"),
    ];

    /// Spells a Windows path the other ways logs do: upper case, or the bare name.
    fn respell(rng: &mut StdRng, path: &str) -> String {
        match rng.random_range(0..3) {
            0 => path.to_owned(),
            1 => path.to_uppercase(),
            _ => path.rsplit('\\').next().unwrap().to_owned(),
        }
    }

    #[test]
    fn labelled_scenario_fires_on_new_risky_pairs_only() {
        let mut rng = StdRng::seed_from_u64(0x5eed_0001);
        // (time, event, expected group or "benign")
        let mut events: Vec<(Timestamp, Event, String)> = Vec::new();
        let workstations: Vec<String> =
            (1..=12).map(|n| format!("WKS-{n:02}.corp.example.com")).collect();

        // Ten days of ordinary work: learning covers the first seven.
        for host in &workstations {
            for _ in 0..400 {
                let (parent, child) =
                    WORKSTATION_PAIRS[rng.random_range(0..WORKSTATION_PAIRS.len())];
                let parent = respell(&mut rng, parent);
                let child = respell(&mut rng, child);
                events.push((
                    day(rng.random_range(0.0..10.0)),
                    sysmon(host, &parent, &child, ""),
                    "benign".into(),
                ));
            }
        }
        // The IIS server: worker processes started by svchost, conhost by cmd.
        for _ in 0..300 {
            let time = day(rng.random_range(0.0..10.0));
            events.push((
                time,
                security(
                    "IIS-01",
                    "C:\\Windows\\System32\\svchost.exe",
                    "C:\\Windows\\System32\\inetsrv\\w3wp.exe",
                ),
                "benign".into(),
            ));
            events.push((
                time,
                security(
                    "IIS-01",
                    "C:\\Windows\\System32\\svchost.exe",
                    "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe",
                ),
                "benign".into(),
            ));
        }
        // A Linux web server.
        for _ in 0..300 {
            let time = day(rng.random_range(0.0..10.0));
            let (parent, child) = [
                ("/usr/lib/systemd/systemd", "/usr/sbin/nginx"),
                ("/usr/sbin/sshd", "/bin/bash"),
                ("/bin/bash", "/usr/bin/ls"),
                ("/usr/sbin/cron", "/bin/sh"),
            ][rng.random_range(0..4)];
            events.push((time, ecs("web-01", parent, child), "benign".into()));
        }
        // Look-alike: a rare but known pair. Finance's macro runs cmd from Excel twice during
        // learning, and once again afterwards.
        let finance = &workstations[3];
        for when in [1.5, 4.2, 8.7] {
            let event = sysmon(
                finance,
                "C:\\Program Files\\Microsoft Office\\root\\Office16\\EXCEL.EXE",
                "C:\\WINDOWS\\system32\\cmd.exe",
                "cmd /c copy report.csv \\\\fs01\\finance",
            );
            events.push((day(when), event, "benign".into()));
        }
        // Look-alike: new software the fleet already runs reaches one more host.
        for (idx, host) in workstations.iter().enumerate().take(6) {
            let when = if idx < 5 { rng.random_range(0.0..6.0) } else { 9.0 };
            let event = sysmon(
                host,
                "C:\\Windows\\explorer.exe",
                "C:\\Users\\alice\\AppData\\Local\\Microsoft\\Teams\\current\\Teams.exe",
                "",
            );
            events.push((day(when), event, "benign".into()));
        }
        // Look-alike: a host first seen on day 8 is still learning when it runs new things.
        for _ in 0..30 {
            let event = sysmon(
                "WKS-NEW.corp.example.com",
                "C:\\Windows\\explorer.exe",
                "C:\\Tools\\putty.exe",
                "",
            );
            events.push((day(rng.random_range(8.0..9.5)), event, "benign".into()));
        }

        // Attack 1: a macro document starts PowerShell.
        let victim = &workstations[6];
        let macro_run = sysmon(
            victim,
            "C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE",
            "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
            "powershell.exe -nop -w hidden -enc SQBFAFgA",
        );
        events.push((
            day(8.25),
            macro_run,
            "wks-07.corp.example.com: winword.exe → powershell.exe".into(),
        ));
        // Attack 2: a web shell on IIS runs cmd.
        events.push((
            day(9.1),
            security(
                "IIS-01",
                "c:\\windows\\system32\\inetsrv\\W3WP.EXE",
                "C:\\Windows\\System32\\cmd.exe",
            ),
            "iis-01: w3wp.exe → cmd.exe".into(),
        ));
        // Attack 3: a web shell on Linux behind nginx runs sh.
        events.push((
            day(9.3),
            ecs("web-01", "/usr/sbin/nginx", "/bin/sh"),
            "web-01: nginx → sh".into(),
        ));
        // Attack 4: a rare pair that is not a shell: a dropped binary started by svchost.
        events.push((
            day(8.9),
            sysmon(
                &workstations[9],
                "C:\\Windows\\System32\\svchost.exe",
                "C:\\ProgramData\\upd\\agent64.exe",
                "agent64.exe -k",
            ),
            "wks-10.corp.example.com: svchost.exe → agent64.exe".into(),
        ));

        events.sort_by_key(|(time, _, _)| *time);
        let mut detector = RareParentChild::new(RareParentChildConfig::default());
        let mut alerts = Vec::new();
        for (idx, (time, event, _)) in events.iter().enumerate() {
            if detector.wants(event) {
                alerts.extend(detector.observe(event, idx as EventId, *time));
            }
        }

        let by_group: BTreeMap<&str, &Alert> =
            alerts.iter().map(|alert| (alert.group.as_str(), alert)).collect();
        let expected: Vec<&str> = events
            .iter()
            .map(|(_, _, label)| label.as_str())
            .filter(|label| *label != "benign")
            .collect();
        assert_eq!(
            alerts.len(),
            expected.len(),
            "{:#?}",
            alerts.iter().map(|alert| &alert.summary).collect::<Vec<_>>()
        );
        for label in &expected {
            let alert = by_group.get(label).unwrap_or_else(|| panic!("no alert for {label}"));
            assert_eq!(alert.evidence.len(), 1);
            assert_eq!(
                events[alert.evidence[0] as usize].2, *label,
                "evidence is the attack event"
            );
        }
        let word = by_group["wks-07.corp.example.com: winword.exe → powershell.exe"];
        assert_eq!(word.severity, Severity::High);
        assert_eq!(word.attack, ["T1204.002", "T1059"]);
        assert!(word.entities.hosts.contains("WKS-07.corp.example.com"));
        assert!(word.entities.users.contains("CORP\\alice"));
        assert!(word.summary.contains("-enc SQBFAFgA"), "{}", word.summary);
        let iis = by_group["iis-01: w3wp.exe → cmd.exe"];
        assert_eq!(
            (iis.severity, iis.attack.as_slice()),
            (Severity::High, &["T1505.003".to_owned(), "T1059".to_owned()][..])
        );
        assert_eq!(by_group["web-01: nginx → sh"].attack, ["T1505.003", "T1059"]);
        assert!(by_group["web-01: nginx → sh"].entities.users.contains("www-data"));
        let dropped = by_group["wks-10.corp.example.com: svchost.exe → agent64.exe"];
        assert_eq!(dropped.severity, Severity::Low);
        assert_eq!(dropped.attack, ["T1059"]);
    }

    /// Learns `pairs` on `host` during the first day, then returns the detector.
    fn learnt(
        config: RareParentChildConfig,
        host: &str,
        pairs: &[(&str, &str)],
    ) -> RareParentChild {
        let mut detector = RareParentChild::new(config);
        for (idx, (parent, child)) in pairs.iter().enumerate() {
            assert!(
                detector
                    .observe(&sysmon(host, parent, child, ""), idx as EventId, day(0.1))
                    .is_empty()
            );
        }
        detector
    }

    #[test]
    fn paths_and_case_make_one_pair() {
        assert_eq!(base_name("C:\\Windows\\System32\\CMD.EXE").as_deref(), Some("cmd.exe"));
        assert_eq!(base_name("\"C:\\Program Files\\x\\a b.exe\"").as_deref(), Some("a b.exe"));
        assert_eq!(base_name("/usr/bin/bash").as_deref(), Some("bash"));
        assert_eq!(base_name("cmd.exe").as_deref(), Some("cmd.exe"));
        assert_eq!(base_name("C:\\dir\\"), None);
        assert_eq!(base_name("  "), None);
        assert_eq!(base_name("a\u{1f}b").as_deref(), Some("a?b"));
        let mut detector = learnt(
            RareParentChildConfig::default(),
            "h",
            &[("C:\\Windows\\explorer.exe", "C:\\Windows\\System32\\cmd.exe")],
        );
        for (parent, child) in [
            ("EXPLORER.EXE", "CMD.EXE"),
            ("explorer.exe", "cmd.exe"),
            ("c:\\windows\\Explorer.exe", "\"C:\\WINDOWS\\system32\\Cmd.exe\""),
        ] {
            assert!(detector.observe(&sysmon("h", parent, child, ""), 9, day(8.0)).is_empty());
        }
        assert_eq!(detector.state.tables["h"].pairs.len(), 1);
    }

    #[test]
    fn risk_uses_the_lists_with_or_without_exe() {
        let detector = RareParentChild::new(RareParentChildConfig {
            server_parents: vec!["MyServer.EXE".into()],
            ..Default::default()
        });
        assert_eq!(detector.risk("winword.exe", "powershell.exe"), Risk::UserApp);
        assert_eq!(detector.risk("myserver.exe", "cmd.exe"), Risk::Server);
        assert_eq!(detector.risk("w3wp.exe", "cmd.exe"), Risk::Plain, "the list was replaced");
        assert_eq!(detector.risk("httpd", "sh"), Risk::Plain);
        assert_eq!(detector.risk("winword.exe", "splwow64.exe"), Risk::Plain);
    }

    #[test]
    fn only_process_starts_are_wanted() {
        let detector = RareParentChild::new(RareParentChildConfig::default());
        assert!(detector.wants(&sysmon("h", "a.exe", "b.exe", "")));
        assert!(detector.wants(&security("h", "a.exe", "b.exe")));
        assert!(detector.wants(&ecs("h", "/bin/a", "/bin/b")));
        let mut other_sysmon = sysmon("h", "a.exe", "b.exe", "");
        other_sysmon.insert("EventID", Value::Int(5));
        assert!(!detector.wants(&other_sysmon));
        let mut ended = ecs("h", "/bin/a", "/bin/b");
        ended.insert("event.type", Value::from("end"));
        assert!(!detector.wants(&ended));
        assert!(!detector.wants(&event(&[("process.name", "sshd"), ("host.name", "h")], None)));
    }

    #[test]
    fn rare_below_and_cooldown() {
        let config = RareParentChildConfig { rare_below: 3, ..Default::default() };
        let mut detector = learnt(
            config,
            "h",
            &[("explorer.exe", "notepad.exe"), ("explorer.exe", "notepad.exe")],
        );
        // Seen twice during learning: still rare with rare_below = 3.
        assert_eq!(
            detector.observe(&sysmon("h", "explorer.exe", "notepad.exe", ""), 10, day(8.0)).len(),
            1
        );
        // Seen three times now, but within the cool-down anyway.
        assert!(
            detector
                .observe(&sysmon("h", "explorer.exe", "notepad.exe", ""), 11, day(8.1))
                .is_empty()
        );
        // A new pair after learning fires once, then is within its cool-down.
        assert_eq!(
            detector.observe(&sysmon("h", "explorer.exe", "mspaint.exe", ""), 12, day(8.2)).len(),
            1
        );
        assert!(
            detector
                .observe(&sysmon("h", "explorer.exe", "mspaint.exe", ""), 13, day(8.3))
                .is_empty()
        );
        // After the cool-down it is still rare (seen twice): a second alert.
        assert_eq!(
            detector.observe(&sysmon("h", "explorer.exe", "mspaint.exe", ""), 14, day(9.5)).len(),
            1
        );
        // And once seen three times before, it is known.
        assert!(
            detector
                .observe(&sysmon("h", "explorer.exe", "mspaint.exe", ""), 15, day(11.0))
                .is_empty()
        );
    }

    #[test]
    fn risky_only_keeps_quiet_about_plain_pairs() {
        let config = RareParentChildConfig { risky_only: true, ..Default::default() };
        let mut detector = learnt(config, "h", &[("explorer.exe", "chrome.exe")]);
        assert!(
            detector.observe(&sysmon("h", "svchost.exe", "new.exe", ""), 1, day(8.0)).is_empty()
        );
        assert_eq!(
            detector.observe(&sysmon("h", "outlook.exe", "mshta.exe", ""), 2, day(8.0)).len(),
            1
        );
    }

    #[test]
    fn global_scope_knows_what_any_host_ran() {
        let pairs = [("explorer.exe", "chrome.exe")];
        let config = RareParentChildConfig { scope: Scope::Global, ..Default::default() };
        let mut global = learnt(config, "a", &pairs);
        assert!(
            global.observe(&sysmon("b", "explorer.exe", "chrome.exe", ""), 5, day(8.0)).is_empty()
        );
        let alerts = global.observe(&sysmon("b", "excel.exe", "cmd.exe", ""), 6, day(8.0));
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].group, "*: excel.exe → cmd.exe");
        assert!(alerts[0].summary.contains("never seen on any host"));

        let config = RareParentChildConfig { fleet_common_hosts: 0, ..Default::default() };
        let mut per_host = learnt(config, "a", &pairs);
        // Host b's own learning starts at its first event.
        assert!(
            per_host
                .observe(&sysmon("b", "services.exe", "svchost.exe", ""), 7, day(0.2))
                .is_empty()
        );
        assert_eq!(
            per_host.observe(&sysmon("b", "explorer.exe", "chrome.exe", ""), 8, day(8.0)).len(),
            1
        );
    }

    #[test]
    fn state_survives_save_and_restore() {
        let detector =
            learnt(RareParentChildConfig::default(), "h", &[("explorer.exe", "chrome.exe")]);
        // Mid-learning: the restored detector must keep the original start.
        let text = serde_json::to_string(&detector.save()).unwrap();
        let mut restored = RareParentChild::new(RareParentChildConfig::default());
        restored.restore(serde_json::from_str(&text).unwrap()).unwrap();
        assert_eq!(restored.state.tables["h"].started, day(0.1));
        // After learning, what was learnt before the restart is known, a new pair is not.
        assert!(
            restored
                .observe(&sysmon("h", "EXPLORER.EXE", "Chrome.exe", ""), 1, day(7.5))
                .is_empty()
        );
        assert_eq!(
            restored.observe(&sysmon("h", "winword.exe", "cmd.exe", ""), 2, day(7.5)).len(),
            1
        );
        // Without the saved state, the same event would have been learnt silently.
        assert!(
            RareParentChild::new(RareParentChildConfig::default())
                .observe(&sysmon("h", "winword.exe", "cmd.exe", ""), 2, day(7.5))
                .is_empty()
        );

        let mut broken = RareParentChild::new(RareParentChildConfig::default());
        assert!(matches!(
            broken.restore(serde_json::json!({"version": 1, "tables": []})),
            Err(crate::Error::State { ref detector, .. }) if detector == "palisade.rare_parent_child"
        ));
        assert!(
            broken.restore(serde_json::json!({"version": 2, "tables": {}, "fleet": {}})).is_err()
        );
    }

    #[test]
    fn memory_is_bounded_and_keeps_the_usual_pairs() {
        let config = RareParentChildConfig {
            max_hosts: 10,
            max_pairs_per_host: 16,
            max_pairs: 100,
            max_fleet_pairs: 40,
            fleet_common_hosts: 0,
            ..Default::default()
        };
        let mut detector = RareParentChild::new(config);
        for round in 0..20 {
            detector.observe(&sysmon("h", "explorer.exe", "chrome.exe", ""), round, day(0.01));
        }
        for idx in 0..500_u64 {
            let child = format!("setup_{idx}.exe");
            let host = if idx % 2 == 0 { "h".to_owned() } else { format!("other-{}", idx % 37) };
            detector.observe(&sysmon(&host, "explorer.exe", &child, ""), 100 + idx, day(0.02));
            assert!(detector.state.tables.len() <= 10);
            assert!(detector.state.tables.values().all(|table| table.pairs.len() <= 16));
            assert!(detector.state.fleet.len() <= 40);
            let total: usize = detector.state.tables.values().map(|table| table.pairs.len()).sum();
            assert!(total <= 100);
            assert_eq!(total, detector.total_pairs);
        }
        // The heavily used pair survived the churn: after learning it is not new.
        assert!(
            detector
                .observe(&sysmon("h", "explorer.exe", "chrome.exe", ""), 9999, day(8.0))
                .is_empty()
        );
    }

    #[test]
    fn settings_parse() {
        let config: RareParentChildConfig = serde_json::from_value(serde_json::json!({
            "scope": "global", "learning_period": "14d", "risky_only": true
        }))
        .unwrap();
        assert_eq!(config.scope, Scope::Global);
        assert_eq!(config.learning_period, SignedDuration::from_hours(14 * 24));
        assert!(config.risky_only);
        assert!(
            serde_json::from_value::<RareParentChildConfig>(serde_json::json!({"scope": "site"}))
                .is_err()
        );
        assert!(
            serde_json::from_value::<RareParentChildConfig>(serde_json::json!({"learning": "1d"}))
                .is_err()
        );
    }

    proptest::proptest! {
        #[test]
        fn odd_images_never_panic(parent in "\\PC{0,60}", child in "\\PC{0,60}", host in "\\PC{0,20}") {
            let mut detector = RareParentChild::new(RareParentChildConfig {
                learning_period: SignedDuration::ZERO,
                ..Default::default()
            });
            detector.observe(&sysmon(&host, &parent, &child, &parent), 1, start());
            detector.observe(&ecs(&host, &parent, &child), 2, start());
        }
    }
}
