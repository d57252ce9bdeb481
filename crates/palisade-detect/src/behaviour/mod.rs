//! Behaviour detectors: detections that need memory or arithmetic that a Sigma rule cannot
//! express (a baseline per user, the distance between two logins, the regularity of
//! connections). Each is one module with its documentation in `docs/detectors/`.
//!
//! A detector sees the events it [`wants`](Behaviour::wants) in stream order, with their store
//! ids, and keeps what it learns in state that is bounded in memory and saved across restarts
//! ([`Behaviour::save`] / [`Behaviour::restore`]). It works on event time only: the time of
//! the event it is looking at is "now", so that a replay of history behaves like the live
//! stream.

pub mod beaconing;
pub mod brute_force;
pub mod dga_domain;
pub mod dns_tunnelling;
pub mod impossible_travel;
pub mod new_device;
pub mod new_geo_login;
pub mod outbound_transfer;
pub mod password_spraying;
pub mod rare_parent_child;

use jiff::Timestamp;
use palisade_event::Event;

use crate::{Alert, EventId, Result, Severity};

/// What every detector says about itself: shown with its alerts and in `palisade rules list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BehaviourMeta {
    /// Stable id, `palisade.<snake_case_name>`: the alert's `rule_id`, and the key of its saved
    /// state and of its settings.
    pub id: &'static str,
    /// Title for people.
    pub title: &'static str,
    /// Severity of the alerts it raises.
    pub severity: Severity,
    /// ATT&CK technique ids.
    pub attack: &'static [&'static str],
}

impl BehaviourMeta {
    /// A new alert from this detector about `group` (the user, host or pair it concerns),
    /// with one evidence event; `detected_at` is set to `last_seen` until the caller stamps it.
    #[must_use]
    pub fn alert(
        &self,
        group: impl Into<String>,
        summary: impl Into<String>,
        first_seen: Timestamp,
        last_seen: Timestamp,
    ) -> Alert {
        Alert {
            rule_id: self.id.to_owned(),
            rule_title: self.title.to_owned(),
            kind: crate::AlertKind::Behaviour,
            severity: self.severity,
            attack: self.attack.iter().map(|id| (*id).to_owned()).collect(),
            group: group.into(),
            summary: summary.into(),
            entities: crate::Entities::default(),
            evidence: Vec::new(),
            count: 1,
            first_seen,
            last_seen,
            detected_at: last_seen,
        }
    }
}

/// One behaviour detector.
pub trait Behaviour: Send {
    /// Who it is.
    fn meta(&self) -> &BehaviourMeta;

    /// True when the detector needs to see `event`: a cheap test on a field or two
    /// (`event.category`, the presence of `dns.question.name`...). Only wanted events are
    /// passed to [`observe`](Self::observe).
    fn wants(&self, event: &Event) -> bool;

    /// Looks at one wanted event, stored under `id`, whose event time is `time` (the event's
    /// `@timestamp`, or its arrival time when it has none). Returns the alerts it raises now,
    /// usually none. `detected_at` of the alerts is filled in by the caller.
    fn observe(&mut self, event: &Event, id: EventId, time: Timestamp) -> Vec<Alert>;

    /// Everything it has learnt, to be saved across restarts.
    fn save(&self) -> serde_json::Value;

    /// Takes back what [`save`](Self::save) returned.
    ///
    /// # Errors
    /// [`crate::Error::State`] when `state` does not decode.
    fn restore(&mut self, state: serde_json::Value) -> Result<()>;
}

/// The settings of every behaviour detector (`[detect.behaviour.<name>]` in the config file).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BehaviourConfig {
    /// `[detect.behaviour.brute_force]`: see docs/detectors/brute_force.md.
    pub brute_force: brute_force::BruteForceConfig,
    /// `[detect.behaviour.password_spraying]`: see docs/detectors/password_spraying.md.
    pub password_spraying: password_spraying::PasswordSprayingConfig,
    /// `[detect.behaviour.impossible_travel]`: see docs/detectors/impossible_travel.md.
    pub impossible_travel: impossible_travel::ImpossibleTravelConfig,
    /// `[detect.behaviour.new_geo_login]`: see docs/detectors/new_geo_login.md.
    pub new_geo_login: new_geo_login::NewGeoLoginConfig,
    /// `[detect.behaviour.new_device]`: see docs/detectors/new_device.md.
    pub new_device: new_device::NewDeviceConfig,
    /// `[detect.behaviour.beaconing]`: see docs/detectors/beaconing.md.
    pub beaconing: beaconing::BeaconingConfig,
    /// `[detect.behaviour.outbound_transfer]`: see docs/detectors/outbound_transfer.md.
    pub outbound_transfer: outbound_transfer::OutboundTransferConfig,
    /// `[detect.behaviour.dga_domain]`: see docs/detectors/dga_domain.md.
    pub dga_domain: dga_domain::DgaDomainConfig,
    /// `[detect.behaviour.dns_tunnelling]`: see docs/detectors/dns_tunnelling.md.
    pub dns_tunnelling: dns_tunnelling::DnsTunnellingConfig,
    /// `[detect.behaviour.rare_parent_child]`: see docs/detectors/rare_parent_child.md.
    pub rare_parent_child: rare_parent_child::RareParentChildConfig,
}

/// Every behaviour detector, configured.
#[must_use]
pub fn all(config: &BehaviourConfig) -> Vec<Box<dyn Behaviour>> {
    vec![
        Box::new(brute_force::BruteForce::new(config.brute_force.clone())),
        Box::new(password_spraying::PasswordSpraying::new(config.password_spraying.clone())),
        Box::new(impossible_travel::ImpossibleTravel::new(config.impossible_travel.clone())),
        Box::new(new_geo_login::NewGeoLogin::new(config.new_geo_login.clone())),
        Box::new(new_device::NewDevice::new(config.new_device.clone())),
        Box::new(beaconing::Beaconing::new(config.beaconing.clone())),
        Box::new(outbound_transfer::OutboundTransfer::new(config.outbound_transfer.clone())),
        Box::new(dga_domain::DgaDomain::new(config.dga_domain.clone())),
        Box::new(dns_tunnelling::DnsTunnelling::new(config.dns_tunnelling.clone())),
        Box::new(rare_parent_child::RareParentChild::new(config.rare_parent_child.clone())),
    ]
}

/// Helpers the detectors share.
pub mod util {
    use palisade_event::{Event, Value};

    /// The text of a field, when it has one that is not empty or `-`.
    #[must_use]
    pub fn text<'e>(event: &'e Event, field: &str) -> Option<std::borrow::Cow<'e, str>> {
        let value = event.get(field)?;
        let text = match value {
            Value::List(items) => items.first()?.to_text()?,
            other => other.to_text()?,
        };
        let trimmed = text.trim();
        if trimmed.is_empty() || trimmed == "-" {
            return None;
        }
        Some(text)
    }

    /// A field's value as a number, when it is one (or text that parses as one).
    #[must_use]
    pub fn number(event: &Event, field: &str) -> Option<f64> {
        match event.get(field)? {
            Value::Int(value) => Some(*value as f64),
            Value::Float(value) => Some(*value),
            Value::Str(text) => text.as_str().trim().parse().ok(),
            _ => None,
        }
    }

    /// True when a field holds `wanted` (compared case-insensitively), as a value or in a list.
    #[must_use]
    pub fn has(event: &Event, field: &str, wanted: &str) -> bool {
        match event.get(field) {
            Some(Value::List(items)) => items
                .iter()
                .any(|item| item.to_text().is_some_and(|text| text.eq_ignore_ascii_case(wanted))),
            Some(value) => value.to_text().is_some_and(|text| text.eq_ignore_ascii_case(wanted)),
            None => false,
        }
    }
}
