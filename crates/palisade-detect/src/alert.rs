//! The alert: what every detector raises and what analysts triage.

use std::collections::BTreeSet;

use jiff::Timestamp;
use palisade_event::Event;
use serde::{Deserialize, Serialize};

/// A stored event's identity: its sequence number in the event store (`_seq` in queries).
pub type EventId = u64;

/// At most this many evidence event ids are kept on one alert: the first ones, which show how
/// it started; the count of all of them is kept beside.
pub const MAX_EVIDENCE: usize = 100;

/// At most this many values are kept per entity kind on one alert.
pub const MAX_ENTITIES: usize = 32;

/// How urgent an alert is, in Sigma's levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// For the record; nobody needs to look.
    Informational,
    /// Worth a look when there is time.
    Low,
    /// Worth a look today.
    Medium,
    /// Worth a look now.
    High,
    /// An attack in progress is likely.
    Critical,
}

impl Severity {
    /// The lower-case name, as Sigma writes it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Informational => "informational",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }

    /// Parses Sigma's level names.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "informational" => Self::Informational,
            "low" => Self::Low,
            "medium" => Self::Medium,
            "high" => Self::High,
            "critical" => Self::Critical,
            _ => return None,
        })
    }
}

impl From<palisade_sigma::Level> for Severity {
    fn from(level: palisade_sigma::Level) -> Self {
        Self::parse(level.as_str()).unwrap_or(Self::Medium)
    }
}

/// Which kind of detector raised an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertKind {
    /// A Sigma rule matched one event.
    Sigma,
    /// A Sigma correlation rule's condition held over a window of matches.
    Correlation,
    /// A behaviour detector (Rust code with a baseline) fired.
    Behaviour,
}

impl AlertKind {
    /// The lower-case name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sigma => "sigma",
            Self::Correlation => "correlation",
            Self::Behaviour => "behaviour",
        }
    }
}

/// The users, hosts, addresses and domains an alert is about: what an analyst pivots on, and
/// what groups alerts into incidents.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entities {
    /// User names.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub users: BTreeSet<String>,
    /// Host names.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub hosts: BTreeSet<String>,
    /// IP addresses.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub ips: BTreeSet<String>,
    /// Domain names.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub domains: BTreeSet<String>,
}

/// Fields that name a user, in ECS and in Windows event data.
const USER_FIELDS: &[&str] = &[
    "user.name",
    "source.user.name",
    "destination.user.name",
    "user.target.name",
    "TargetUserName",
    "SubjectUserName",
    "User",
];
/// Fields that name a host.
const HOST_FIELDS: &[&str] =
    &["host.name", "host.hostname", "observer.hostname", "Computer", "WorkstationName"];
/// Fields that hold an IP address.
const IP_FIELDS: &[&str] = &[
    "source.ip",
    "destination.ip",
    "client.ip",
    "server.ip",
    "host.ip",
    "IpAddress",
    "SourceIp",
    "DestinationIp",
];
/// Fields that hold a domain name.
const DOMAIN_FIELDS: &[&str] = &[
    "dns.question.name",
    "url.domain",
    "destination.domain",
    "tls.client.server_name",
    "QueryName",
];

impl Entities {
    /// The entities named in an event's well-known fields. Placeholders that Windows writes
    /// for "nobody" (`-`, empty) are left out.
    #[must_use]
    pub fn of(event: &Event) -> Self {
        let mut entities = Self::default();
        entities.add_from(event);
        entities
    }

    /// Adds the entities named in `event`.
    pub fn add_from(&mut self, event: &Event) {
        collect(event, USER_FIELDS, &mut self.users);
        collect(event, HOST_FIELDS, &mut self.hosts);
        collect(event, IP_FIELDS, &mut self.ips);
        collect(event, DOMAIN_FIELDS, &mut self.domains);
    }

    /// Adds all of `other`'s entities.
    pub fn merge(&mut self, other: &Self) {
        for (into, from) in [
            (&mut self.users, &other.users),
            (&mut self.hosts, &other.hosts),
            (&mut self.ips, &other.ips),
            (&mut self.domains, &other.domains),
        ] {
            for value in from {
                if into.len() >= MAX_ENTITIES {
                    break;
                }
                // Copied only when new: a group merges the same few entities at every match.
                if !into.contains(value) {
                    into.insert(value.clone());
                }
            }
        }
    }

    /// True when no entity is known.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
            && self.hosts.is_empty()
            && self.ips.is_empty()
            && self.domains.is_empty()
    }
}

fn collect(event: &Event, fields: &[&str], into: &mut BTreeSet<String>) {
    for field in fields {
        let Some(value) = event.get(field) else { continue };
        let mut add = |text: &str| {
            let text = text.trim();
            // Copied only when new: a correlation group adds the same few entities from
            // every event it counts.
            if !text.is_empty() && text != "-" && into.len() < MAX_ENTITIES && !into.contains(text)
            {
                into.insert(text.to_owned());
            }
        };
        match value {
            palisade_event::Value::List(items) => {
                for item in items {
                    if let Some(text) = item.to_text() {
                        add(&text);
                    }
                }
            }
            other => {
                if let Some(text) = other.to_text() {
                    add(&text);
                }
            }
        }
    }
}

/// One alert. Alerts with the same `rule_id` and `group` within a rule's suppression window
/// are one alert whose `count`, `last_seen` and evidence grow (see [`crate::dedup`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// The rule or detector: a Sigma rule's id (its title when it has none), or
    /// `palisade.<detector>` for behaviour detectors.
    pub rule_id: String,
    /// Its title, for people.
    pub rule_title: String,
    /// The kind of detector.
    pub kind: AlertKind,
    /// How urgent it is.
    pub severity: Severity,
    /// ATT&CK technique ids (`T1110.003`).
    #[serde(default)]
    pub attack: Vec<String>,
    /// What the alert is about, for deduplication: the correlation group, or the detector's own
    /// key (the user, the host pair); empty for single-event rules, which group by entities.
    #[serde(default)]
    pub group: String,
    /// One line saying what happened, with the figures that made it fire.
    pub summary: String,
    /// The users, hosts, addresses and domains involved.
    #[serde(default)]
    pub entities: Entities,
    /// Ids of the events that made it fire (the first [`MAX_EVIDENCE`]).
    #[serde(default)]
    pub evidence: Vec<EventId>,
    /// How many times it fired within its suppression window (1 for a new alert).
    pub count: u64,
    /// Event time of the first evidence event.
    pub first_seen: Timestamp,
    /// Event time of the last evidence event.
    pub last_seen: Timestamp,
    /// When Palisade raised it (wall clock).
    pub detected_at: Timestamp,
}

impl Alert {
    /// Adds evidence ids, keeping at most [`MAX_EVIDENCE`].
    pub fn add_evidence(&mut self, ids: impl IntoIterator<Item = EventId>) {
        for id in ids {
            if self.evidence.len() >= MAX_EVIDENCE {
                break;
            }
            if !self.evidence.contains(&id) {
                self.evidence.push(id);
            }
        }
    }

    /// Folds `other` (same rule and subject) into this alert: counts add up, the time range
    /// widens, evidence and entities join. What every deduplicating sink does.
    pub fn absorb(&mut self, other: &Alert) {
        self.count = self.count.saturating_add(other.count);
        self.first_seen = self.first_seen.min(other.first_seen);
        self.last_seen = self.last_seen.max(other.last_seen);
        self.add_evidence(other.evidence.iter().copied());
        self.entities.merge(&other.entities);
    }

    /// The deduplication key: the rule and what the alert is about.
    #[must_use]
    pub fn dedup_key(&self) -> String {
        if self.group.is_empty() {
            let entities = &self.entities;
            let mut key = self.rule_id.clone();
            for set in [&entities.users, &entities.hosts, &entities.ips, &entities.domains] {
                key.push('\u{1f}');
                for value in set {
                    key.push_str(value);
                    key.push('\u{1e}');
                }
            }
            key
        } else {
            format!("{}\u{1f}{}", self.rule_id, self.group)
        }
    }
}

#[cfg(test)]
mod tests {
    use palisade_event::Value;

    use super::*;

    #[test]
    fn entities_come_from_ecs_and_windows_fields_without_placeholders() {
        let event = Event::from_fields(vec![
            ("user.name".into(), Value::from("alice")),
            ("TargetUserName".into(), Value::from("-")),
            ("source.ip".into(), Value::from("203.0.113.7")),
            ("related.ip".into(), Value::from("10.0.0.1")),
            ("Computer".into(), Value::from("WS01.corp.example")),
            ("dns.question.name".into(), Value::from(" evil.example ")),
        ]);
        let entities = Entities::of(&event);
        assert_eq!(entities.users.iter().collect::<Vec<_>>(), ["alice"]);
        assert_eq!(entities.ips.iter().collect::<Vec<_>>(), ["203.0.113.7"]);
        assert_eq!(entities.hosts.iter().collect::<Vec<_>>(), ["WS01.corp.example"]);
        assert_eq!(entities.domains.iter().collect::<Vec<_>>(), ["evil.example"]);
    }

    #[test]
    fn evidence_is_capped_and_unique() {
        let now = Timestamp::UNIX_EPOCH;
        let mut alert = Alert {
            rule_id: "r".into(),
            rule_title: "r".into(),
            kind: AlertKind::Sigma,
            severity: Severity::Low,
            attack: vec![],
            group: String::new(),
            summary: String::new(),
            entities: Entities::default(),
            evidence: vec![],
            count: 1,
            first_seen: now,
            last_seen: now,
            detected_at: now,
        };
        alert.add_evidence([1, 1, 2]);
        alert.add_evidence(0..1000);
        assert_eq!(alert.evidence.len(), MAX_EVIDENCE);
        assert_eq!(&alert.evidence[..3], &[1, 2, 0]);
    }
}
