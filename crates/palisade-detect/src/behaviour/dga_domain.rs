//! The `palisade.dga_domain` detector: a host that looks up several domain names that look
//! machine-made, as malware with a domain generation algorithm does while it hunts for its
//! command-and-control server (ATT&CK T1568.002).
//!
//! Each queried name is cut down to its registered domain (`x7f.example.co.uk` →
//! `example.co.uk`) and the label in front of the public suffix (`example`) gets a score in
//! `[0, 1]` from its letter pairs, consonant runs, letter/digit mixing, entropy and length
//! ([`label_score`]). Only labels that score high are remembered, per querying host, for a
//! window; the host is reported when it has asked for enough distinct high-scoring domains.
//! An NXDOMAIN answer adds a bonus to a domain's score, because a generator's domains are
//! mostly unregistered. Scoring is stateless, so ordinary browsing costs no memory.
//!
//! Documentation: `docs/detectors/dga_domain.md`.

use std::collections::HashSet;
use std::net::IpAddr;

use jiff::{SignedDuration, Timestamp};
use palisade_event::Event;
use serde::{Deserialize, Serialize};

use super::util::{self, Elapsed, Map, drop_least_recent, querying_host, text, under_suffix};
pub use super::util::{RegisteredDomain, registered_domain};
use super::{Behaviour, BehaviourMeta};
use crate::{Alert, EventId, Result, Severity};

/// Who this detector is.
const META: BehaviourMeta = BehaviourMeta {
    id: "palisade.dga_domain",
    title: "Host looks up algorithmically generated domains",
    severity: Severity::Medium,
    attack: &["T1568.002"],
};

/// Version of the saved state, so that a future layout can tell old state from new.
const STATE_VERSION: u32 = 1;

/// At most this many evidence ids are kept per remembered domain: the query and its answer
/// are enough to show it.
const EVIDENCE_PER_DOMAIN: usize = 4;

/// Settings of `[detect.behaviour.dga_domain]`.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DgaDomainConfig {
    /// How far back the distinct suspicious domains of one host are counted. A generator
    /// walks through its list in minutes; an hour also catches one that sleeps between tries.
    #[serde(deserialize_with = "util::duration::deserialize")]
    pub window: SignedDuration,
    /// Distinct suspicious registered domains one host must look up within `window` to raise
    /// an alert. One odd name is a typo or an unusual brand; several in a row are a pattern.
    pub min_domains: usize,
    /// Score (0 to 1) from which a registered-domain label counts as machine-made. About
    /// 87 % of random letter or hex labels reach 0.6; English words and most brands stay
    /// below 0.5.
    pub min_score: f64,
    /// Added to a domain's score when the resolver answered NXDOMAIN for it: most generated
    /// domains are not registered, so a failed lookup is itself a sign.
    pub nxdomain_bonus: f64,
    /// Labels shorter than this are not scored: a handful of letters carries too little
    /// information to tell a brand (`xkcd`) from noise.
    pub min_label_len: usize,
    /// After an alert for a host, no new alert for it until this much event time has passed;
    /// one infection is one alert, not one per batch of lookups.
    #[serde(deserialize_with = "util::duration::deserialize")]
    pub cooldown: SignedDuration,
    /// Domain suffixes never scored: cloud and CDN infrastructure whose names are random by
    /// design, and reverse-lookup zones. Setting this replaces the defaults.
    pub allow_suffixes: Vec<String>,
    /// More suffixes never scored, added to `allow_suffixes` (for local additions that keep
    /// the defaults).
    pub extra_allow_suffixes: Vec<String>,
    /// Querying hosts never considered, by address or name (without case): DNS forwarders
    /// whose upstream queries a sensor sees carry every client's look-ups at once, and
    /// mail servers ask about every sender's domain.
    pub ignore_hosts: Vec<String>,
    /// Most querying hosts tracked at once; the least recently active are forgotten first.
    pub max_hosts: usize,
    /// Most suspicious domains remembered per host; the oldest are forgotten first.
    pub max_domains_per_host: usize,
}

impl Default for DgaDomainConfig {
    fn default() -> Self {
        Self {
            window: SignedDuration::from_hours(1),
            min_domains: 5,
            min_score: 0.6,
            nxdomain_bonus: 0.1,
            min_label_len: 8,
            cooldown: SignedDuration::from_hours(12),
            allow_suffixes: DEFAULT_ALLOW_SUFFIXES
                .iter()
                .map(|suffix| (*suffix).to_owned())
                .collect(),
            extra_allow_suffixes: Vec::new(),
            ignore_hosts: Vec::new(),
            max_hosts: 10_000,
            max_domains_per_host: 32,
        }
    }
}

/// Infrastructure whose host names are random on purpose (CDN edges, cloud storage and
/// compute, Google's user content), and zones that are not names at all.
const DEFAULT_ALLOW_SUFFIXES: &[&str] = &[
    "cloudfront.net",
    "akamaiedge.net",
    "akamai.net",
    "akamaihd.net",
    "akamaized.net",
    "edgekey.net",
    "edgesuite.net",
    "amazonaws.com",
    "googleusercontent.com",
    "googlevideo.com",
    "gvt1.com",
    "gvt2.com",
    "1e100.net",
    "azureedge.net",
    "azurefd.net",
    "trafficmanager.net",
    "cloudapp.net",
    "windows.net",
    "fastly.net",
    "fastlylb.net",
    "cloudflare.net",
    "cdn77.org",
    "in-addr.arpa",
    "ip6.arpa",
];

/// Letter pairs that occur at least twice in a list of about 4,500 common English words and
/// popular domain-name tokens written for this detector; row `a` lists the letters that
/// commonly follow `a`. Random letters hit these about 60 % of the time, English text almost
/// always, which makes the share of uncommon pairs the strongest single signal.
const COMMON_BIGRAMS: [&str; 26] = [
    /* a */ "bcdefghijklmnopqrstuvwxyz",
    /* b */ "abceijlmnorstuvy",
    /* c */ "acdehiklorstuy",
    /* d */ "abcdefgilmnorstuvwy",
    /* e */ "abcdefghiklmnopqrstuvwxy",
    /* f */ "aefilortuy",
    /* g */ "aeghilmnoprstuy",
    /* h */ "aeilmnorstuwy",
    /* i */ "abcdefgiklmnopqrstuvxz",
    /* j */ "aeou",
    /* k */ "abeilnosty",
    /* l */ "abcdefgiklmoprstuvwy",
    /* m */ "abefgilmnopstuy",
    /* n */ "abcdefghijklmnorstuvy",
    /* o */ "abcdefghijklmnoprstuvwxy",
    /* p */ "acdehilmoprstuy",
    /* q */ "lu",
    /* r */ "abcdefghiklmnoprstuvwy",
    /* s */ "abcdefhiklmnopqrstuwy",
    /* t */ "abcdefghilmnoprstuwy",
    /* u */ "abcdefgilmnoprstxy",
    /* v */ "aeioy",
    /* w */ "aehilnorswy",
    /* x */ "abcehiptuy",
    /* y */ "abcdeilmnoprstw",
    /* z */ "aeiouz",
];

/// True when the letter pair `first`,`second` (both ASCII lower-case) is common in English
/// and in domain names.
fn common_bigram(first: u8, second: u8) -> bool {
    let row = usize::from(first - b'a');
    COMMON_BIGRAMS.get(row).is_some_and(|followers| followers.as_bytes().contains(&second))
}

/// Vowels, with `y`, which acts as one in English (`rhythm`, `sky`): counting it as a
/// consonant would make consonant runs look long in ordinary words.
fn is_vowel(byte: u8) -> bool {
    matches!(byte, b'a' | b'e' | b'i' | b'o' | b'u' | b'y')
}

fn clamp01(value: f64) -> f64 {
    if value.is_nan() { 0.0 } else { value.clamp(0.0, 1.0) }
}

/// How machine-made a registered-domain label looks, from 0 (a word) to 1 (noise).
///
/// Two views are scored and the higher wins:
/// - letters: the share of adjacent letter pairs that are uncommon in English (weight 0.55),
///   the longest consonant run (0.2), the length (0.15) and the entropy relative to the most
///   the length allows (0.1);
/// - letters mixed with digits (hexadecimal, base36): how often the label switches between
///   letters and digits (0.6), the share of digits (0.25) and the length (0.15). A single
///   switch (`office365`, `web2`) scores nothing.
///
/// Expects a lower-case label; other bytes (hyphens, underscores) break pairs and runs.
#[must_use]
pub fn label_score(label: &str) -> f64 {
    let bytes = label.as_bytes();
    let length = bytes.len();
    if length == 0 {
        return 0.0;
    }
    let mut letters = 0_usize;
    let mut digits = 0_usize;
    let mut pairs = 0_usize;
    let mut uncommon_pairs = 0_usize;
    let mut consonant_run = 0_usize;
    let mut longest_consonant_run = 0_usize;
    let mut switches = 0_usize;
    let mut previous_class: Option<bool> = None;
    let mut counts = [0_usize; 256];
    for (idx, &byte) in bytes.iter().enumerate() {
        counts[usize::from(byte)] += 1;
        let is_letter = byte.is_ascii_lowercase();
        let is_digit = byte.is_ascii_digit();
        letters += usize::from(is_letter);
        digits += usize::from(is_digit);
        if is_letter && !is_vowel(byte) {
            consonant_run += 1;
            longest_consonant_run = longest_consonant_run.max(consonant_run);
        } else {
            consonant_run = 0;
        }
        if is_letter || is_digit {
            if previous_class.is_some_and(|was_digit| was_digit != is_digit) {
                switches += 1;
            }
            previous_class = Some(is_digit);
        }
        if let Some(&next) = bytes.get(idx + 1)
            && is_letter
            && next.is_ascii_lowercase()
        {
            pairs += 1;
            uncommon_pairs += usize::from(!common_bigram(byte, next));
        }
    }
    let length_f = length as f64;
    let entropy: f64 = counts
        .iter()
        .filter(|&&count| count > 0)
        .map(|&count| {
            let share = count as f64 / length_f;
            -share * share.log2()
        })
        .sum();
    // The most entropy a label of this length can have over the 37 characters of host names.
    let max_entropy = (length.clamp(2, 37) as f64).log2();

    // Fewer than three pairs say nothing about the language.
    let uncommon_share = if pairs < 3 { 0.0 } else { uncommon_pairs as f64 / pairs as f64 };
    // English stays under 10 % of uncommon pairs; 40 % and more is noise.
    let bigram_signal = clamp01(uncommon_share / 0.4);
    // Three consonants in a row are common (`str`), five are not.
    let consonant_signal = clamp01((longest_consonant_run as f64 - 2.0) / 3.0);
    let length_signal = clamp01((length_f - 8.0) / 12.0);
    let entropy_signal = clamp01(entropy / max_entropy);
    let letter_view =
        0.55 * bigram_signal + 0.2 * consonant_signal + 0.15 * length_signal + 0.1 * entropy_signal;

    let mixed_view = if letters > 0 && digits > 0 {
        let switch_signal = clamp01((switches as f64 - 1.0) / 4.0);
        let digit_signal = clamp01(digits as f64 / length_f / 0.5);
        0.6 * switch_signal + 0.25 * digit_signal + 0.15 * length_signal
    } else {
        0.0
    };
    letter_view.max(mixed_view)
}

/// The queried name, lower-cased, without its trailing dot; `None` when it is not a
/// plausible host name (too long, or with bytes a host name cannot hold).
fn query_name(event: &Event) -> Option<String> {
    let raw = text(event, "dns.question.name").or_else(|| text(event, "QueryName"))?;
    let name = raw.trim().trim_end_matches('.').to_ascii_lowercase();
    let plausible = !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.'));
    plausible.then_some(name)
}

/// True when the event reports that the name does not exist: `dns.response_code` NXDOMAIN
/// (Zeek, Suricata, BIND), or Sysmon's `QueryStatus` 9003 (`DNS_ERROR_RCODE_NAME_ERROR`).
fn is_nxdomain(event: &Event) -> bool {
    text(event, "dns.response_code")
        .is_some_and(|code| code.trim().eq_ignore_ascii_case("NXDOMAIN"))
        || text(event, "QueryStatus").is_some_and(|status| status.trim() == "9003")
}

/// One high-scoring domain a host looked up.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Candidate {
    /// The registered domain.
    domain: String,
    /// Its label's score, before any NXDOMAIN bonus.
    score: f64,
    /// True once an answer said it does not exist.
    nxdomain: bool,
    first_seen: Timestamp,
    last_seen: Timestamp,
    /// The events that asked for it or answered (the first few).
    evidence: Vec<EventId>,
}

/// What is known about one querying host.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct HostState {
    /// High-scoring domains seen within the window, since the last alert.
    candidates: Vec<Candidate>,
    /// Event time of its latest candidate, for eviction.
    last_seen: Timestamp,
    /// Event time of its latest alert, for the cool-down.
    last_alert: Option<Timestamp>,
}

/// Everything the detector keeps between events, as saved.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct State {
    version: u32,
    hosts: Map<HostState>,
}

/// The detector.
#[derive(Debug)]
pub struct DgaDomain {
    config: DgaDomainConfig,
    /// Allow-listed suffixes, normalised once.
    allowed: Vec<String>,
    /// `ignore_hosts`, lower-cased once.
    ignored_hosts: HashSet<String>,
    state: State,
}

impl DgaDomain {
    /// A detector with these settings and nothing learnt.
    #[must_use]
    pub fn new(config: DgaDomainConfig) -> Self {
        let allowed = config
            .allow_suffixes
            .iter()
            .chain(&config.extra_allow_suffixes)
            .map(|suffix| suffix.trim().trim_matches('.').to_ascii_lowercase())
            .filter(|suffix| !suffix.is_empty())
            .collect();
        let ignored_hosts =
            config.ignore_hosts.iter().map(|host| host.trim().to_ascii_lowercase()).collect();
        Self {
            config,
            allowed,
            ignored_hosts,
            state: State { version: STATE_VERSION, hosts: Map::default() },
        }
    }

    /// True when the domain's label scores high enough to count, given its NXDOMAIN flag.
    fn counts(&self, candidate: &Candidate) -> bool {
        let bonus = if candidate.nxdomain { self.config.nxdomain_bonus } else { 0.0 };
        candidate.score + bonus >= self.config.min_score
    }

    /// Forgets hosts with nothing in the window and no cool-down running, then the least
    /// recently active ones while there are too many. Runs only when the table is over its
    /// cap, and evicts down to 90 % so that it does not run again at once.
    fn enforce_host_cap(&mut self, now: Timestamp) {
        let max_hosts = self.config.max_hosts.max(1);
        if self.state.hosts.len() <= max_hosts {
            return;
        }
        let window = self.config.window;
        let cooldown = self.config.cooldown;
        self.state.hosts.retain(|_, host| {
            let recent = now.duration_since(host.last_seen) <= window;
            let cooling = host.last_alert.is_some_and(|at| now.duration_since(at) < cooldown);
            recent || cooling
        });
        drop_least_recent(&mut self.state.hosts, max_hosts - max_hosts / 10, |host| host.last_seen);
    }
}

impl Behaviour for DgaDomain {
    fn meta(&self) -> &BehaviourMeta {
        &META
    }

    fn wants(&self, event: &Event) -> bool {
        event.get("dns.question.name").is_some() || event.get("QueryName").is_some()
    }

    fn observe(&mut self, event: &Event, id: EventId, time: Timestamp) -> Vec<Alert> {
        let Some(name) = query_name(event) else { return Vec::new() };
        let Some(registered) = registered_domain(&name) else { return Vec::new() };
        if self.allowed.iter().any(|suffix| under_suffix(&name, suffix)) {
            return Vec::new();
        }
        let label = registered.label;
        // Internationalised names are punycode, which looks random by construction.
        if label.len() < self.config.min_label_len || label.starts_with("xn--") {
            return Vec::new();
        }
        // All digits (`17173.com`, `4399.com`) is a number, not a generator's output.
        if label.bytes().all(|byte| byte.is_ascii_digit() || byte == b'-') {
            return Vec::new();
        }
        let score = label_score(label);
        // Nothing below the NXDOMAIN-lowered bar can ever count: keep no state for it.
        if score + self.config.nxdomain_bonus.max(0.0) < self.config.min_score {
            return Vec::new();
        }
        let Some(host_key) = querying_host(event) else { return Vec::new() };
        if self.ignored_hosts.contains(&host_key.to_ascii_lowercase()) {
            return Vec::new();
        }
        let nxdomain = is_nxdomain(event);
        let domain = registered.domain.to_owned();
        let window = self.config.window;
        let max_domains = self.config.max_domains_per_host.max(1);

        let host = self.state.hosts.entry(host_key.clone()).or_insert_with(|| HostState {
            candidates: Vec::new(),
            last_seen: time,
            last_alert: None,
        });
        host.last_seen = host.last_seen.max(time);
        let latest = host.last_seen;
        host.candidates.retain(|candidate| latest.duration_since(candidate.last_seen) <= window);
        match host.candidates.iter_mut().find(|candidate| candidate.domain == domain) {
            Some(candidate) => {
                candidate.nxdomain |= nxdomain;
                candidate.first_seen = candidate.first_seen.min(time);
                candidate.last_seen = candidate.last_seen.max(time);
                if candidate.evidence.len() < EVIDENCE_PER_DOMAIN
                    && !candidate.evidence.contains(&id)
                {
                    candidate.evidence.push(id);
                }
            }
            None => {
                if host.candidates.len() >= max_domains
                    && let Some(oldest) = host
                        .candidates
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, candidate)| candidate.last_seen)
                        .map(|(idx, _)| idx)
                {
                    host.candidates.swap_remove(oldest);
                }
                host.candidates.push(Candidate {
                    domain,
                    score,
                    nxdomain,
                    first_seen: time,
                    last_seen: time,
                    evidence: vec![id],
                });
            }
        }

        let mut alerts = Vec::new();
        let cooling =
            host.last_alert.is_some_and(|at| time.duration_since(at) < self.config.cooldown);
        let host = &self.state.hosts[&host_key];
        let counted: Vec<&Candidate> =
            host.candidates.iter().filter(|candidate| self.counts(candidate)).collect();
        if !cooling && counted.len() >= self.config.min_domains.max(1) {
            alerts.push(self.raise(&host_key, &counted));
            if let Some(host) = self.state.hosts.get_mut(&host_key) {
                host.last_alert = Some(time);
                // What was reported is not counted again: a later alert needs new domains.
                host.candidates.clear();
            }
        }
        self.enforce_host_cap(time);
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
        let latest = self.state.hosts.values().map(|host| host.last_seen).max();
        if let Some(latest) = latest {
            self.enforce_host_cap(latest);
        }
        Ok(())
    }
}

impl DgaDomain {
    /// The alert for `host_key` about the domains that made it fire.
    fn raise(&self, host_key: &str, counted: &[&Candidate]) -> Alert {
        let first = counted.iter().map(|candidate| candidate.first_seen).min();
        let last = counted.iter().map(|candidate| candidate.last_seen).max();
        let (Some(first), Some(last)) = (first, last) else {
            // `counted` is never empty here; an alert with no times is still better than none.
            return META.alert(
                host_key,
                "algorithm-like domains",
                Timestamp::UNIX_EPOCH,
                Timestamp::UNIX_EPOCH,
            );
        };
        let mut ordered: Vec<&&Candidate> = counted.iter().collect();
        ordered.sort_by_key(|candidate| candidate.first_seen);
        let nxdomains = counted.iter().filter(|candidate| candidate.nxdomain).count();
        let examples: Vec<&str> =
            ordered.iter().take(5).map(|candidate| candidate.domain.as_str()).collect();
        let summary = format!(
            "{host_key} looked up {} algorithm-like domains in {} ({nxdomains} NXDOMAIN), e.g. {}",
            counted.len(),
            Elapsed(last.duration_since(first)),
            examples.join(", "),
        );
        let mut alert = META.alert(host_key, summary, first, last);
        if nxdomains * 2 >= counted.len() {
            // Most of them do not even exist: the pattern of a generator, not of a user.
            alert.severity = Severity::High;
        }
        if host_key.parse::<IpAddr>().is_ok() {
            alert.entities.ips.insert(host_key.to_owned());
        } else {
            alert.entities.hosts.insert(host_key.to_owned());
        }
        for candidate in &ordered {
            if alert.entities.domains.len() >= crate::alert::MAX_ENTITIES {
                break;
            }
            alert.entities.domains.insert(candidate.domain.clone());
        }
        alert.add_evidence(ordered.iter().flat_map(|candidate| candidate.evidence.iter().copied()));
        alert
    }
}

fn state_error(source: serde_json::Error) -> crate::Error {
    crate::Error::State { detector: META.id.to_owned(), source }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use palisade_event::Value;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;

    fn start() -> Timestamp {
        "2026-03-02T08:00:00Z".parse().unwrap()
    }

    fn event(fields: &[(&str, &str)]) -> Event {
        Event::from_fields(
            fields
                .iter()
                .map(|(name, value)| (palisade_event::Str::copy(name), Value::from(*value)))
                .collect(),
        )
    }

    /// A resolver's query log line (BIND, dnsmasq): the client is named.
    fn query(client: &str, name: &str) -> Event {
        event(&[
            ("client.ip", client),
            ("source.ip", client),
            ("dns.question.name", name),
            ("dns.question.type", "A"),
            ("dns.type", "query"),
        ])
    }

    /// An answer seen on the wire (Suricata, Zeek): it travels from port 53 to the client.
    fn wire_answer(resolver: &str, client: &str, name: &str, rcode: &str) -> Event {
        let mut answer = event(&[
            ("source.ip", resolver),
            ("destination.ip", client),
            ("dns.question.name", name),
            ("dns.response_code", rcode),
            ("dns.type", "answer"),
        ]);
        answer.insert("source.port", Value::Int(53));
        answer
    }

    /// Sysmon's DNS query event (22), written on the asking computer.
    fn sysmon_query(computer: &str, name: &str, status: &str) -> Event {
        let mut query = event(&[
            ("Channel", "Microsoft-Windows-Sysmon/Operational"),
            ("Computer", computer),
            ("QueryName", name),
            ("QueryStatus", status),
            ("Image", "C:\\Users\\bob\\AppData\\Roaming\\svch0st.exe"),
        ]);
        query.insert("EventID", Value::Int(22));
        query
    }

    fn run(detector: &mut DgaDomain, events: &[(Timestamp, Event)]) -> Vec<(EventId, Alert)> {
        let mut alerts = Vec::new();
        for (idx, (time, event)) in events.iter().enumerate() {
            let id = idx as EventId;
            if detector.wants(event) {
                for alert in detector.observe(event, id, *time) {
                    alerts.push((id, alert));
                }
            }
        }
        alerts
    }

    fn random_label(rng: &mut StdRng, alphabet: &[u8], min: usize, max: usize) -> String {
        let length = rng.random_range(min..=max);
        (0..length).map(|_| char::from(alphabet[rng.random_range(0..alphabet.len())])).collect()
    }

    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
    const HEX: &[u8] = b"0123456789abcdef";
    const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

    /// Ordinary destinations, some of them long English names.
    const BENIGN: &[&str] = &[
        "www.google.com",
        "mail.google.com",
        "www.facebook.com",
        "www.youtube.com",
        "en.wikipedia.org",
        "login.microsoftonline.com",
        "outlook.office365.com",
        "www.stackoverflow.com",
        "github.com",
        "api.github.com",
        "www.washingtonpost.com",
        "www.theguardian.com",
        "www.bbc.co.uk",
        "www.w3schools.com",
        "update.googleapis.com",
        "www.salesforce.com",
        "cdn.jsdelivr.net",
        "ocsp.digicert.com",
        "www.amazon.co.uk",
        "news.ycombinator.com",
        "www.linkedin.com",
        "slack.com",
        "zoom.us",
        "www.bankofamerica.com",
    ];

    /// Long but real English names: one host visits all of them.
    const LONG_ENGLISH: &[&str] = &[
        "www.bestbuyelectronicsoutletstore.com",
        "internationalbusinessmachines.com",
        "www.thisisaverylongenglishdomain.net",
        "www.southwestairlines.com",
        "www.huffingtonpost.com",
        "ads.rubiconproject.com",
        "store.steamcommunity.com",
        "www.mightyoakfurniture.co.uk",
        "lovelyweatherforecast.com.au",
        "www.americanexpress.com",
        "www.morganstanley.com",
        "careers.jpmorganchase.com",
    ];

    #[derive(Default)]
    struct Scenario {
        events: Vec<(Timestamp, Event)>,
        /// What each event is, by kind: the attack host it belongs to, or "benign".
        labels: Vec<String>,
    }

    impl Scenario {
        fn push(&mut self, time: Timestamp, event: Event, label: &str) {
            self.events.push((time, event));
            self.labels.push(label.to_owned());
        }

        /// Events in time order (stable, so a query stays before its answer).
        fn sorted(mut self) -> (Vec<(Timestamp, Event)>, Vec<String>) {
            let mut order: Vec<usize> = (0..self.events.len()).collect();
            order.sort_by_key(|&idx| self.events[idx].0);
            let events = order.iter().map(|&idx| self.events[idx].clone()).collect();
            let labels = order.iter().map(|&idx| std::mem::take(&mut self.labels[idx])).collect();
            (events, labels)
        }
    }

    fn at(rng: &mut StdRng, from_secs: i64, to_secs: i64) -> Timestamp {
        start() + SignedDuration::from_secs(rng.random_range(from_secs..to_secs))
    }

    #[test]
    fn labelled_scenario_fires_on_generated_domains_only() {
        let mut rng = StdRng::seed_from_u64(0x0d6a);
        let mut scenario = Scenario::default();
        let eight_hours = 8 * 3600;

        // Background: 30 hosts browsing ordinary sites all day.
        for host in 1..=30 {
            let client = format!("10.0.1.{host}");
            for _ in 0..150 {
                let name = BENIGN[rng.random_range(0..BENIGN.len())];
                let time = at(&mut rng, 0, eight_hours);
                scenario.push(time, query(&client, name), "benign");
                scenario.push(time, wire_answer("10.0.0.53", &client, name, "NOERROR"), "benign");
            }
        }
        // Look-alike: CDN and cloud names with random sub-domains, many of them.
        let cdn_host = "10.0.2.1";
        for _ in 0..120 {
            let name = match rng.random_range(0..5) {
                0 => format!("d{}.cloudfront.net", random_label(&mut rng, ALNUM, 12, 13)),
                1 => format!("e{}.dscb.akamaiedge.net", random_label(&mut rng, HEX, 4, 5)),
                2 => format!("{}.s3.amazonaws.com", random_label(&mut rng, ALNUM, 16, 24)),
                3 => {
                    format!("{}-dot-app.googleusercontent.com", random_label(&mut rng, HEX, 12, 16))
                }
                // Random sub-domains of an ordinary registered domain.
                _ => format!("{}.tiles.mapprovider.com", random_label(&mut rng, LETTERS, 10, 14)),
            };
            let time = at(&mut rng, 0, eight_hours);
            scenario.push(time, query(cdn_host, &name), "benign");
        }
        // Look-alike: long English names, all within an hour.
        let english_host = "10.0.2.2";
        for name in LONG_ENGLISH {
            for _ in 0..3 {
                let time = at(&mut rng, 3600, 2 * 3600);
                scenario.push(time, query(english_host, name), "benign");
            }
        }
        // Look-alike: one odd name, asked again and again, never resolving (a stale config).
        let odd_host = "10.0.2.3";
        for _ in 0..40 {
            let time = at(&mut rng, 0, eight_hours);
            scenario.push(time, query(odd_host, "qxzvbnmkwplt.com"), "benign");
            scenario.push(
                time,
                wire_answer("10.0.0.53", odd_host, "qxzvbnmkwplt.com", "NXDOMAIN"),
                "benign",
            );
        }
        // Look-alike: a few hosts with one or two random-looking names each, within the hour.
        for host in 1..=6 {
            let client = format!("10.0.3.{host}");
            for _ in 0..rng.random_range(1..=2) {
                let name = format!("{}.com", random_label(&mut rng, LETTERS, 10, 14));
                let time = at(&mut rng, 7200, 9000);
                scenario.push(time, query(&client, &name), "benign");
                scenario.push(time, wire_answer("10.0.0.53", &client, &name, "NXDOMAIN"), "benign");
            }
        }

        // Attack 1: a bot walking through a letter-based generator's list, mostly NXDOMAIN.
        let bot = "10.0.0.66";
        let mut bot_domains = BTreeSet::new();
        for _ in 0..40 {
            let tld = ["com", "net", "org", "info", "ru", "biz"][rng.random_range(0..6)];
            let domain = format!("{}.{tld}", random_label(&mut rng, LETTERS, 10, 18));
            let time = at(&mut rng, 4 * 3600, 4 * 3600 + 1800);
            let rcode = if rng.random_bool(0.9) { "NXDOMAIN" } else { "NOERROR" };
            scenario.push(time, query(bot, &domain), bot);
            scenario.push(time, wire_answer("10.0.0.53", bot, &domain, rcode), bot);
            bot_domains.insert(domain);
        }
        // Attack 2: a Windows host with a hexadecimal generator, seen through Sysmon.
        let workstation = "WKS-013.corp.example.com";
        let mut hex_domains = BTreeSet::new();
        for _ in 0..12 {
            let domain = format!("{}.net", random_label(&mut rng, HEX, 16, 16));
            let time = at(&mut rng, 6 * 3600, 6 * 3600 + 900);
            scenario.push(
                time,
                sysmon_query(workstation, &domain, "9003"),
                "wks-013.corp.example.com",
            );
            hex_domains.insert(domain);
        }

        let (events, labels) = scenario.sorted();
        let mut detector = DgaDomain::new(DgaDomainConfig::default());
        let alerts = run(&mut detector, &events);

        let groups: BTreeMap<&str, &Alert> =
            alerts.iter().map(|(_, alert)| (alert.group.as_str(), alert)).collect();
        assert_eq!(alerts.len(), 2, "one alert per infected host: {alerts:#?}");
        let bot_alert = groups["10.0.0.66"];
        assert!(bot_alert.entities.ips.contains(bot));
        assert_eq!(bot_alert.severity, Severity::High, "mostly NXDOMAIN");
        assert!(bot_alert.entities.domains.len() >= 5);
        assert!(bot_alert.entities.domains.is_subset(&bot_domains));
        assert!(bot_alert.evidence.len() >= 5);
        for id in &bot_alert.evidence {
            assert_eq!(labels[*id as usize], bot, "evidence {id} is not the bot's");
        }
        let workstation_alert = groups["wks-013.corp.example.com"];
        assert!(workstation_alert.entities.hosts.contains("wks-013.corp.example.com"));
        assert!(workstation_alert.entities.domains.is_subset(&hex_domains));
        for id in &workstation_alert.evidence {
            assert_eq!(labels[*id as usize], "wks-013.corp.example.com");
        }
        for (_, alert) in &alerts {
            assert_eq!(alert.rule_id, "palisade.dga_domain");
            assert_eq!(alert.attack, ["T1568.002"]);
            assert!(alert.first_seen <= alert.last_seen);
        }
    }

    #[test]
    fn generator_labels_score_high_and_words_low() {
        // Labels in the style of well-known generators: random letters, and hexadecimal.
        for label in [
            "nvtyuebsvqfjwk",
            "kwjpyoqcfxfh",
            "jdbvpxsphlybcf",
            "dvqrmybgexmfk",
            "gpqicpfsbwxwhtp",
            "xhjnbyxwkdbmrbwo",
            "ymctgvqbhqiwcd",
            "lmidmsjyfqxn",
            "3f8a9c0e12b4d5e6",
            "a1b2c3d4e5f6",
        ] {
            let score = label_score(label);
            assert!(score >= 0.6, "{label} scored {score}");
        }
        for label in [
            "facebook",
            "stackoverflow",
            "washingtonpost",
            "internationalbusinessmachines",
            "bestbuyelectronicsoutletstore",
            "microsoftonline",
            "office365",
            "w3schools",
            "googleusercontent",
            "southwestairlines",
        ] {
            let score = label_score(label);
            assert!(score < 0.5, "{label} scored {score}");
        }
        assert_eq!(label_score(""), 0.0);
    }

    #[test]
    fn registered_domain_uses_the_second_level_suffixes() {
        let cut = |name| registered_domain(name).map(|found| (found.domain, found.label));
        assert_eq!(cut("www.example.co.uk"), Some(("example.co.uk", "example")));
        assert_eq!(cut("a.b.example.com"), Some(("example.com", "example")));
        assert_eq!(cut("example.com"), Some(("example.com", "example")));
        assert_eq!(cut("shop.example.com.au"), Some(("example.com.au", "example")));
        assert_eq!(cut("co.uk"), None);
        assert_eq!(cut("localhost"), None);
        assert_eq!(cut("printer.local"), None);
        assert_eq!(cut("10.0.0.1"), None);
        assert_eq!(cut(".com"), None);
        assert!(under_suffix("d1a2b3c4.cloudfront.net", "cloudfront.net"));
        assert!(under_suffix("cloudfront.net", ".cloudfront.net."));
        assert!(!under_suffix("evilcloudfront.net", "cloudfront.net"));
        assert!(!under_suffix("example.com", ""));
    }

    /// Five domains of a host in a row, with a query each (and an answer when `rcode`).
    fn burst(labels: &[&str], rcode: Option<&str>) -> Vec<(Timestamp, Event)> {
        let mut events = Vec::new();
        for (idx, label) in labels.iter().enumerate() {
            let time = start() + SignedDuration::from_mins(idx as i64);
            let name = format!("{label}.com");
            events.push((time, query("10.9.9.9", &name)));
            if let Some(rcode) = rcode {
                events.push((time, wire_answer("10.0.0.53", "10.9.9.9", &name, rcode)));
            }
        }
        events
    }

    const FIVE: [&str; 5] =
        ["nvtyuebsvqfjwk", "kwjpyoqcfxfh", "jdbvpxsphlybcf", "dvqrmybgexmfk", "gpqicpfsbwxwhtp"];

    #[test]
    fn nxdomain_answers_lift_borderline_domains_over_the_bar() {
        let top = FIVE.iter().map(|label| label_score(label)).fold(0.0, f64::max);
        let config =
            DgaDomainConfig { min_score: top + 0.05, nxdomain_bonus: 0.1, ..Default::default() };
        let mut resolved = DgaDomain::new(config.clone());
        assert!(run(&mut resolved, &burst(&FIVE, Some("NOERROR"))).is_empty());
        let mut failed = DgaDomain::new(config);
        let alerts = run(&mut failed, &burst(&FIVE, Some("NXDOMAIN")));
        assert_eq!(alerts.len(), 1);
        // Fired on the fifth answer, the one that made the fifth domain count.
        assert_eq!(alerts[0].0, 9);
        assert_eq!(alerts[0].1.evidence.len(), 10);
    }

    #[test]
    fn four_domains_are_not_enough_and_the_window_expires_them() {
        let mut detector = DgaDomain::new(DgaDomainConfig::default());
        assert!(run(&mut detector, &burst(&FIVE[..4], None)).is_empty());
        // The fifth, two hours later: the first four are out of the window.
        let late = start() + SignedDuration::from_hours(2);
        assert!(detector.observe(&query("10.9.9.9", "gpqicpfsbwxwhtp.com"), 99, late).is_empty());
    }

    #[test]
    fn cooldown_keeps_one_infection_one_alert() {
        let mut detector = DgaDomain::new(DgaDomainConfig::default());
        assert_eq!(run(&mut detector, &burst(&FIVE, None)).len(), 1);
        let mut rng = StdRng::seed_from_u64(7);
        let mut alerts = 0;
        // Three hours of more generated names: inside the 12 h cool-down.
        for minute in 0..180 {
            let time = start() + SignedDuration::from_mins(10 + minute);
            let name = format!("{}.net", random_label(&mut rng, LETTERS, 14, 16));
            alerts += detector.observe(&query("10.9.9.9", &name), 1000 + minute as u64, time).len();
        }
        assert_eq!(alerts, 0);
        // Past the cool-down, a new batch is a new alert.
        let mut later = 0;
        for minute in 0..10 {
            let time = start() + SignedDuration::from_hours(13) + SignedDuration::from_mins(minute);
            let name = format!("{}.net", random_label(&mut rng, LETTERS, 14, 16));
            later += detector.observe(&query("10.9.9.9", &name), 5000 + minute as u64, time).len();
        }
        assert_eq!(later, 1);
    }

    #[test]
    fn allow_listed_suffixes_are_not_scored() {
        let events = burst(&FIVE, None);
        // The same five lookups fire without the allow-list entries.
        assert_eq!(run(&mut DgaDomain::new(DgaDomainConfig::default()), &events).len(), 1);
        let mut detector = DgaDomain::new(DgaDomainConfig {
            extra_allow_suffixes: FIVE
                .iter()
                .map(|label| format!(".{}.COM.", label.to_ascii_uppercase()))
                .collect(),
            ..Default::default()
        });
        assert!(run(&mut detector, &events).is_empty());
        assert!(detector.state.hosts.is_empty(), "nothing to remember");
    }

    #[test]
    fn ignored_hosts_are_skipped_and_the_summary_reads_well() {
        let events = burst(&FIVE, Some("NXDOMAIN"));
        let config =
            DgaDomainConfig { ignore_hosts: vec![" 10.9.9.9 ".into()], ..Default::default() };
        assert!(run(&mut DgaDomain::new(config), &events).is_empty());
        let alerts = run(&mut DgaDomain::new(DgaDomainConfig::default()), &events);
        // It fires on the fifth query, before the fifth answer.
        assert_eq!(
            alerts[0].1.summary,
            "10.9.9.9 looked up 5 algorithm-like domains in 4m (4 NXDOMAIN), e.g. \
             nvtyuebsvqfjwk.com, kwjpyoqcfxfh.com, jdbvpxsphlybcf.com, dvqrmybgexmfk.com, \
             gpqicpfsbwxwhtp.com"
        );
        assert_eq!(alerts[0].1.first_seen, start());
        assert_eq!(alerts[0].1.last_seen, start() + SignedDuration::from_mins(4));
    }

    #[test]
    fn odd_names_are_ignored() {
        let mut detector = DgaDomain::new(DgaDomainConfig::default());
        let mut events = Vec::new();
        for (idx, label) in FIVE.iter().enumerate() {
            let time = start() + SignedDuration::from_secs(idx as i64);
            for name in [
                format!("{label}.local"),
                label.to_string(),
                format!("xn--{label}.com"),
                format!("{label}.1.2.3"),
                format!("{label} spaces.com"),
                format!("{}.com", &label[..7]),
            ] {
                events.push((time, query("10.9.9.9", &name)));
            }
            // Without any querying host.
            events.push((time, event(&[("dns.question.name", &format!("{label}.com"))])));
        }
        assert!(run(&mut detector, &events).is_empty());
        assert!(detector.state.hosts.is_empty(), "nothing to remember");
    }

    #[test]
    fn upper_case_and_trailing_dots_are_one_domain() {
        let mut detector = DgaDomain::new(DgaDomainConfig::default());
        let mut events = Vec::new();
        for (idx, name) in [
            "NVTYUEBSVQFJWK.com.",
            "nvtyuebsvqfjwk.COM",
            "www.nvtyuebsvqfjwk.com",
            "kwjpyoqcfxfh.com",
        ]
        .iter()
        .enumerate()
        {
            events.push((start() + SignedDuration::from_secs(idx as i64), query("10.9.9.9", name)));
        }
        assert!(run(&mut detector, &events).is_empty());
        assert_eq!(detector.state.hosts["10.9.9.9"].candidates.len(), 2);
    }

    #[test]
    fn state_survives_save_and_restore() {
        let mut detector = DgaDomain::new(DgaDomainConfig::default());
        let events = burst(&FIVE, None);
        assert!(run(&mut detector, &events[..4]).is_empty());
        let saved = detector.save();
        let text = serde_json::to_string(&saved).unwrap();

        let mut restored = DgaDomain::new(DgaDomainConfig::default());
        restored.restore(serde_json::from_str(&text).unwrap()).unwrap();
        let alerts = restored.observe(&events[4].1, 4, events[4].0);
        assert_eq!(alerts.len(), 1, "the four domains seen before the restart still count");
        assert_eq!(alerts[0].evidence, [0, 1, 2, 3, 4]);

        // The cool-down is saved too.
        let mut again = DgaDomain::new(DgaDomainConfig::default());
        again.restore(restored.save()).unwrap();
        let more = burst(
            &["tujhoirpgmaoqx", "xvbnmqwrtzpk", "cxbnvvgecqzr", "qzrtplmnkvbx", "mvnbcxzlkjhq"],
            None,
        );
        let shifted: Vec<_> = more
            .into_iter()
            .map(|(time, event)| (time + SignedDuration::from_hours(1), event))
            .collect();
        assert!(run(&mut again, &shifted).is_empty());
        // A detector without that memory would have fired.
        assert_eq!(run(&mut DgaDomain::new(DgaDomainConfig::default()), &shifted).len(), 1);
    }

    #[test]
    fn restore_rejects_what_does_not_decode() {
        let mut detector = DgaDomain::new(DgaDomainConfig::default());
        let error = detector.restore(serde_json::json!({"hosts": 3})).unwrap_err();
        assert!(
            matches!(error, crate::Error::State { ref detector, .. } if detector == "palisade.dga_domain")
        );
        assert!(detector.restore(serde_json::json!({"version": 99, "hosts": {}})).is_err());
        assert!(detector.restore(serde_json::json!({"version": 1, "hosts": {}})).is_ok());
    }

    #[test]
    fn memory_is_bounded() {
        let mut detector = DgaDomain::new(DgaDomainConfig {
            max_hosts: 20,
            max_domains_per_host: 8,
            min_domains: 1000,
            ..Default::default()
        });
        let mut rng = StdRng::seed_from_u64(3);
        for idx in 0..2000_u64 {
            let client = format!("10.1.{}.{}", idx % 200, idx % 7);
            let name = format!("{}.com", random_label(&mut rng, LETTERS, 14, 18));
            let time = start() + SignedDuration::from_secs(idx as i64);
            detector.observe(&query(&client, &name), idx, time);
            assert!(detector.state.hosts.len() <= 20);
        }
        for idx in 0..100_u64 {
            let name = format!("{}.com", random_label(&mut rng, LETTERS, 14, 18));
            detector.observe(
                &query("10.2.2.2", &name),
                idx,
                start() + SignedDuration::from_hours(1),
            );
        }
        assert!(detector.state.hosts["10.2.2.2"].candidates.len() <= 8);
    }

    #[test]
    fn settings_read_durations_and_refuse_unknown_keys() {
        let config: DgaDomainConfig = serde_json::from_value(
            serde_json::json!({"window": "30m", "cooldown": "7d", "min_domains": 8}),
        )
        .unwrap();
        assert_eq!(config.window, SignedDuration::from_mins(30));
        assert_eq!(config.cooldown, SignedDuration::from_hours(7 * 24));
        assert_eq!(config.min_domains, 8);
        assert_eq!(config.min_score, DgaDomainConfig::default().min_score);
        assert!(
            serde_json::from_value::<DgaDomainConfig>(serde_json::json!({"windw": "1h"})).is_err()
        );
        assert!(
            serde_json::from_value::<DgaDomainConfig>(serde_json::json!({"window": "-1h"}))
                .is_err()
        );
        assert!(
            serde_json::from_value::<DgaDomainConfig>(serde_json::json!({"window": "soon"}))
                .is_err()
        );
    }

    proptest::proptest! {
        #[test]
        fn odd_names_never_panic(name in "\\PC{0,80}", rcode in "\\PC{0,10}") {
            let mut detector = DgaDomain::new(DgaDomainConfig { min_domains: 1, ..Default::default() });
            let _ = label_score(&name.to_ascii_lowercase());
            detector.observe(&query("10.0.0.1", &name), 1, start());
            detector.observe(&wire_answer("10.0.0.53", "10.0.0.1", &name, &rcode), 2, start());
            detector.observe(&sysmon_query(&name, &name, &rcode), 3, start());
        }
    }
}
