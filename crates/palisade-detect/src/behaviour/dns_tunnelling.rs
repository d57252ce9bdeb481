//! The `palisade.dns_tunnelling` detector: a host that sends data through DNS by encoding it
//! into the names it looks up under one domain, whose authoritative server is the attacker's
//! (ATT&CK T1071.004 for command and control, T1048.003 for exfiltration).
//!
//! A tunnel must make every name unique (the data changes, and caches would swallow
//! repeats), long (the data has to fit) and random-looking (it is encoded: base32, base64,
//! hex). So, per querying host and registered domain, the detector counts the distinct
//! sub-domain parts that are long and of high character entropy, within a window; TXT and
//! NULL queries, which carry the most data back, are counted apart with a lower threshold.
//! Busy browsing touches many domains with a few names each, and a CDN uses a few random
//! names many times: neither gives one domain many distinct long names.
//!
//! Documentation: `docs/detectors/dns_tunnelling.md`.

use std::collections::HashSet;
use std::net::IpAddr;

use jiff::{SignedDuration, Timestamp};
use palisade_event::Event;
use serde::{Deserialize, Serialize};

use super::util::{
    self, Elapsed, Map, drop_least_recent, querying_host, registered_domain, text, under_suffix,
};
use super::{Behaviour, BehaviourMeta};
use crate::{Alert, EventId, Result, Severity};

/// Who this detector is.
const META: BehaviourMeta = BehaviourMeta {
    id: "palisade.dns_tunnelling",
    title: "Data tunnelled through DNS queries",
    severity: Severity::High,
    attack: &["T1071.004", "T1048.003"],
};

/// Version of the saved state, so that a future layout can tell old state from new.
const STATE_VERSION: u32 = 1;

/// At most this many example names are kept per (host, domain), for the alert's summary.
const EXAMPLES: usize = 3;

/// Settings of `[detect.behaviour.dns_tunnelling]`.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DnsTunnellingConfig {
    /// How far back distinct encoded names are counted. Interactive tunnels send hundreds a
    /// minute; an hour also catches exfiltration paced at one query a minute.
    #[serde(deserialize_with = "util::duration::deserialize")]
    pub window: SignedDuration,
    /// Distinct encoded sub-domains of one registered domain, from one host, within `window`,
    /// that raise an alert.
    pub min_unique_subdomains: usize,
    /// The same count for names asked with one of `suspicious_qtypes` only: those answers
    /// carry the most data back, and ordinary clients rarely ask for them.
    pub min_unique_txt_subdomains: usize,
    /// A sub-domain counts as encoded when one of its labels has at least this many
    /// characters (DNS allows 63; tunnels fill them)...
    pub min_label_len: usize,
    /// ...or when its labels together (dots left out) have at least this many, for tools
    /// that spread data over several shorter labels.
    pub min_subdomain_len: usize,
    /// ...and its characters have at least this Shannon entropy, in bits per character:
    /// 30 to 60 characters of hex give 3.6 to 3.8, of base32 4.1 to 4.6, one repeated
    /// letter 0.
    pub min_entropy: f64,
    /// Query types counted against `min_unique_txt_subdomains`, compared without case. Add
    /// the numbers (`"16"`, `"10"`) if a source writes types as numbers.
    pub suspicious_qtypes: Vec<String>,
    /// After an alert for a (host, domain), no new alert for it until this much event time
    /// has passed.
    #[serde(deserialize_with = "util::duration::deserialize")]
    pub cooldown: SignedDuration,
    /// Domain suffixes never counted: security services that look hashes up in DNS by
    /// design (anti-virus reputation, mail block lists). Setting this replaces the defaults.
    pub allow_suffixes: Vec<String>,
    /// More suffixes never counted, added to `allow_suffixes`.
    pub extra_allow_suffixes: Vec<String>,
    /// Querying hosts never considered, by address or name (without case): DNS forwarders
    /// whose upstream queries a sensor sees carry every client's look-ups at once, and
    /// mail servers ask about every sender's domain.
    pub ignore_hosts: Vec<String>,
    /// Most (host, domain) pairs tracked at once; the least recently active are forgotten
    /// first.
    pub max_pairs: usize,
    /// Most distinct sub-domains remembered per pair (at least the thresholds); the oldest
    /// are forgotten first.
    pub max_subdomains_per_pair: usize,
}

impl Default for DnsTunnellingConfig {
    fn default() -> Self {
        Self {
            window: SignedDuration::from_hours(1),
            min_unique_subdomains: 30,
            min_unique_txt_subdomains: 15,
            min_label_len: 30,
            min_subdomain_len: 52,
            min_entropy: 3.2,
            suspicious_qtypes: vec!["TXT".to_owned(), "NULL".to_owned()],
            cooldown: SignedDuration::from_hours(6),
            allow_suffixes: DEFAULT_ALLOW_SUFFIXES
                .iter()
                .map(|suffix| (*suffix).to_owned())
                .collect(),
            extra_allow_suffixes: Vec::new(),
            ignore_hosts: Vec::new(),
            max_pairs: 10_000,
            max_subdomains_per_pair: 64,
        }
    }
}

/// Services that encode hashes, addresses or URLs into the names they look up: anti-virus
/// and reputation look-ups (Sophos, McAfee GTI, ESET, Team Cymru's malware hash registry,
/// Trend Micro), and the mail block and allow lists a mail server asks about every message.
const DEFAULT_ALLOW_SUFFIXES: &[&str] = &[
    "sophosxl.net",
    "avts.mcafee.com",
    "avqs.mcafee.com",
    "e5.sk",
    "hash.cymru.com",
    "trendmicro.com",
    "spamhaus.org",
    "spamhaus.net",
    "surbl.org",
    "uribl.com",
    "barracudacentral.org",
    "sorbs.net",
    "spamcop.net",
    "mailspike.net",
    "dnswl.org",
    "senderscore.com",
    "in-addr.arpa",
    "ip6.arpa",
];

/// A queried name split at its registered domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Split<'a> {
    /// What the host chose to ask (`a1b2.c3d4`), without the trailing dot.
    subdomain: &'a str,
    /// The registered domain (`example.co.uk`), whose name server gets the query.
    domain: &'a str,
}

/// Splits a lower-case name without a trailing dot at its [registered
/// domain](registered_domain); `None` for single-label names, private or numeric top-level
/// names and bare suffixes.
fn split_name(name: &str) -> Option<Split<'_>> {
    let domain = registered_domain(name)?.domain;
    let subdomain = name[..name.len() - domain.len()].trim_end_matches('.');
    Some(Split { subdomain, domain })
}

/// Longest queried name considered: DNS caps names at 253 characters, but loggers escape
/// the bytes of binary labels (`\188`), which can make a name up to four times longer.
const MAX_NAME_LEN: usize = 1024;

/// The queried name, lower-cased, without its trailing dot. Unlike a host name, it may hold
/// any visible character: tunnels that pack binary data (iodine's base128) put bytes in
/// labels that no host name has, and loggers write them escaped.
fn query_name(event: &Event) -> Option<String> {
    let raw = text(event, "dns.question.name").or_else(|| text(event, "QueryName"))?;
    let name = raw.trim().trim_end_matches('.').to_ascii_lowercase();
    let plausible = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && !name.chars().any(|character| character.is_whitespace() || character.is_control());
    plausible.then_some(name)
}

/// True for the short underscore labels of service look-ups: `_domainkey` (DKIM),
/// `_dmarc`, `_mta-sts`, `_acme-challenge`, `_ldap._tcp` (SRV). Tunnelled data in a label
/// that happens to start with an underscore is long, so it does not pass for one.
fn service_label(label: &str) -> bool {
    label.starts_with('_') && label.len() <= 20
}

/// Shannon entropy of the bytes of `text` other than dots, in bits per character.
fn entropy(text: &str) -> f64 {
    let mut counts = [0_usize; 256];
    let mut total = 0_usize;
    for byte in text.bytes().filter(|&byte| byte != b'.') {
        counts[usize::from(byte)] += 1;
        total += 1;
    }
    if total == 0 {
        return 0.0;
    }
    let total = total as f64;
    counts
        .iter()
        .filter(|&&count| count > 0)
        .map(|&count| {
            let share = count as f64 / total;
            -share * share.log2()
        })
        .sum()
}

/// FNV-1a: a hash that is the same in every build and on every machine, so that saved
/// state means the same after an upgrade (the standard library's hasher promises neither).
fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// One distinct encoded sub-domain.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Subdomain {
    /// Its [`stable_hash`]: the names themselves can be 200 bytes each.
    hash: u64,
    /// Event time it was last asked for.
    last_seen: Timestamp,
    /// True when it was asked with a suspicious query type.
    suspicious_type: bool,
    /// The first event that asked for it.
    evidence: EventId,
}

/// What is known about one (host, domain) pair.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PairState {
    host: String,
    domain: String,
    /// Distinct encoded sub-domains within the window, since the last alert.
    subdomains: Vec<Subdomain>,
    /// A few names, for people.
    examples: Vec<String>,
    first_seen: Timestamp,
    last_seen: Timestamp,
    last_alert: Option<Timestamp>,
}

/// Everything the detector keeps between events, as saved.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct State {
    version: u32,
    /// By `host` and `domain` joined with U+001F, which neither can hold.
    pairs: Map<PairState>,
}

/// The detector.
#[derive(Debug)]
pub struct DnsTunnelling {
    config: DnsTunnellingConfig,
    /// Allow-listed suffixes, normalised once.
    allowed: Vec<String>,
    /// `ignore_hosts`, lower-cased once.
    ignored_hosts: HashSet<String>,
    state: State,
}

impl DnsTunnelling {
    /// A detector with these settings and nothing learnt.
    #[must_use]
    pub fn new(config: DnsTunnellingConfig) -> Self {
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
            state: State { version: STATE_VERSION, pairs: Map::default() },
        }
    }

    /// True when the sub-domain part looks like encoded data.
    fn encoded(&self, subdomain: &str) -> bool {
        let longest_label = subdomain.split('.').map(str::len).max().unwrap_or(0);
        let total = subdomain.bytes().filter(|&byte| byte != b'.').count();
        (longest_label >= self.config.min_label_len.max(1)
            || total >= self.config.min_subdomain_len.max(1))
            && entropy(subdomain) >= self.config.min_entropy
    }

    /// True when the event's query type is one of the suspicious ones.
    fn suspicious_type(&self, event: &Event) -> bool {
        text(event, "dns.question.type").is_some_and(|qtype| {
            let qtype = qtype.trim();
            self.config
                .suspicious_qtypes
                .iter()
                .any(|wanted| wanted.trim().eq_ignore_ascii_case(qtype))
        })
    }

    /// Forgets pairs with nothing in the window and no cool-down running, then the least
    /// recently active while there are too many; evicts down to 90 % so that it does not run
    /// again at once.
    fn enforce_pair_cap(&mut self, now: Timestamp) {
        let max_pairs = self.config.max_pairs.max(1);
        if self.state.pairs.len() <= max_pairs {
            return;
        }
        let window = self.config.window;
        let cooldown = self.config.cooldown;
        self.state.pairs.retain(|_, pair| {
            now.duration_since(pair.last_seen) <= window
                || pair.last_alert.is_some_and(|at| now.duration_since(at) < cooldown)
        });
        drop_least_recent(&mut self.state.pairs, max_pairs - max_pairs / 10, |pair| pair.last_seen);
    }

    /// The alert about `pair`, whose sub-domains made it fire.
    fn raise(pair: &PairState, suspicious: usize) -> Alert {
        let first =
            pair.subdomains.iter().map(|sub| sub.last_seen).min().unwrap_or(pair.first_seen);
        let last = pair.last_seen;
        let group = format!("{} → {}", pair.host, pair.domain);
        let summary = format!(
            "{} asked for {} distinct encoded-looking names under {} in {} ({suspicious} as TXT/NULL), e.g. {}",
            pair.host,
            pair.subdomains.len(),
            pair.domain,
            Elapsed(last.duration_since(first)),
            pair.examples.first().map_or("", String::as_str),
        );
        let mut alert = META.alert(group, summary, first.min(last), last);
        if pair.host.parse::<IpAddr>().is_ok() {
            alert.entities.ips.insert(pair.host.clone());
        } else {
            alert.entities.hosts.insert(pair.host.clone());
        }
        alert.entities.domains.insert(pair.domain.clone());
        let mut ordered: Vec<&Subdomain> = pair.subdomains.iter().collect();
        // Store ids grow with arrival: the order in which the names were first asked.
        ordered.sort_by_key(|sub| sub.evidence);
        alert.add_evidence(ordered.iter().map(|sub| sub.evidence));
        alert
    }
}

impl Behaviour for DnsTunnelling {
    fn meta(&self) -> &BehaviourMeta {
        &META
    }

    fn wants(&self, event: &Event) -> bool {
        event.get("dns.question.name").is_some() || event.get("QueryName").is_some()
    }

    fn observe(&mut self, event: &Event, id: EventId, time: Timestamp) -> Vec<Alert> {
        let Some(name) = query_name(event) else { return Vec::new() };
        let Some(split) = split_name(&name) else { return Vec::new() };
        if split.subdomain.is_empty() {
            return Vec::new();
        }
        // Service labels (`_domainkey`, `_dmarc`, `_ldap._tcp`) are mail and directory
        // look-ups, whose selectors can be long and random without carrying anything.
        if split.subdomain.split('.').any(service_label) {
            return Vec::new();
        }
        if self.allowed.iter().any(|suffix| under_suffix(&name, suffix)) {
            return Vec::new();
        }
        if !self.encoded(split.subdomain) {
            return Vec::new();
        }
        let Some(host) = querying_host(event) else { return Vec::new() };
        if self.ignored_hosts.contains(&host.to_ascii_lowercase()) {
            return Vec::new();
        }
        let suspicious_type = self.suspicious_type(event);
        let hash = stable_hash(split.subdomain);
        let window = self.config.window;
        let min_unique = self.config.min_unique_subdomains.max(1);
        let min_unique_txt = self.config.min_unique_txt_subdomains.max(1);
        let max_subdomains =
            self.config.max_subdomains_per_pair.max(min_unique.max(min_unique_txt));

        let key = format!("{host}\u{1f}{}", split.domain);
        let pair = self.state.pairs.entry(key).or_insert_with(|| PairState {
            host,
            domain: split.domain.to_owned(),
            subdomains: Vec::new(),
            examples: Vec::new(),
            first_seen: time,
            last_seen: time,
            last_alert: None,
        });
        pair.last_seen = pair.last_seen.max(time);
        let latest = pair.last_seen;
        pair.subdomains.retain(|sub| latest.duration_since(sub.last_seen) <= window);
        match pair.subdomains.iter_mut().find(|sub| sub.hash == hash) {
            Some(sub) => {
                sub.last_seen = sub.last_seen.max(time);
                sub.suspicious_type |= suspicious_type;
            }
            None => {
                if pair.subdomains.len() >= max_subdomains
                    && let Some(oldest) = pair
                        .subdomains
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, sub)| sub.last_seen)
                        .map(|(idx, _)| idx)
                {
                    pair.subdomains.swap_remove(oldest);
                }
                pair.subdomains.push(Subdomain {
                    hash,
                    last_seen: time,
                    suspicious_type,
                    evidence: id,
                });
                if pair.examples.len() < EXAMPLES {
                    pair.examples.push(name.clone());
                }
            }
        }

        let mut alerts = Vec::new();
        let unique = pair.subdomains.len();
        let suspicious = pair.subdomains.iter().filter(|sub| sub.suspicious_type).count();
        let cooling =
            pair.last_alert.is_some_and(|at| time.duration_since(at) < self.config.cooldown);
        if !cooling && (unique >= min_unique || suspicious >= min_unique_txt) {
            alerts.push(Self::raise(pair, suspicious));
            pair.last_alert = Some(time);
            // What was reported is not counted again: a later alert needs new names.
            pair.subdomains.clear();
            pair.examples.clear();
        }
        self.enforce_pair_cap(time);
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
        if let Some(latest) = self.state.pairs.values().map(|pair| pair.last_seen).max() {
            self.enforce_pair_cap(latest);
        }
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

    fn event(fields: &[(&str, &str)]) -> Event {
        Event::from_fields(
            fields
                .iter()
                .map(|(name, value)| (palisade_event::Str::copy(name), Value::from(*value)))
                .collect(),
        )
    }

    /// A query as a resolver or a sensor logs it.
    fn query(client: &str, name: &str, qtype: &str) -> Event {
        event(&[
            ("client.ip", client),
            ("source.ip", client),
            ("dns.question.name", name),
            ("dns.question.type", qtype),
            ("dns.type", "query"),
        ])
    }

    /// An answer seen on the wire: it travels from port 53 back to the client.
    fn wire_answer(client: &str, name: &str, qtype: &str) -> Event {
        let mut answer = event(&[
            ("source.ip", "10.0.0.53"),
            ("destination.ip", client),
            ("dns.question.name", name),
            ("dns.question.type", qtype),
            ("dns.response_code", "NOERROR"),
            ("dns.type", "answer"),
        ]);
        answer.insert("source.port", Value::Int(53));
        answer
    }

    fn random_text(rng: &mut StdRng, alphabet: &[u8], length: usize) -> String {
        (0..length).map(|_| char::from(alphabet[rng.random_range(0..alphabet.len())])).collect()
    }

    const BASE32: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
    const HEX: &[u8] = b"0123456789abcdef";

    fn at(rng: &mut StdRng, from_secs: i64, to_secs: i64) -> Timestamp {
        start() + SignedDuration::from_secs(rng.random_range(from_secs..to_secs))
    }

    fn run(detector: &mut DnsTunnelling, events: &[(Timestamp, Event)]) -> Vec<Alert> {
        let mut alerts = Vec::new();
        for (idx, (time, event)) in events.iter().enumerate() {
            if detector.wants(event) {
                alerts.extend(detector.observe(event, idx as EventId, *time));
            }
        }
        alerts
    }

    #[test]
    fn labelled_scenario_fires_on_tunnels_only() {
        let mut rng = StdRng::seed_from_u64(0x7u64 << 40 | 0x0d45);
        let mut events: Vec<(Timestamp, Event, &str)> = Vec::new();
        let eight_hours = 8 * 3600;
        let benign_names = [
            "www.google.com",
            "outlook.office365.com",
            "github.com",
            "www.bbc.co.uk",
            "en.wikipedia.org",
            "api.slack.com",
            "ocsp.digicert.com",
        ];

        // Background: ordinary browsing.
        for host in 1..=20 {
            let client = format!("10.0.1.{host}");
            for _ in 0..150 {
                let name = benign_names[rng.random_range(0..benign_names.len())];
                let time = at(&mut rng, 0, eight_hours);
                events.push((time, query(&client, name, "A"), "benign"));
                events.push((time, wire_answer(&client, name, "A"), "benign"));
            }
        }
        // Look-alike: a mail server checking DKIM, DMARC and SPF for every sender.
        let mail = "10.0.5.1";
        for idx in 0..300 {
            let sender = format!("sender{}.example", idx % 40);
            let selector = random_text(&mut rng, BASE32, 40);
            let time = at(&mut rng, 0, eight_hours);
            for name in [
                format!("{selector}._domainkey.{sender}.com"),
                format!("_dmarc.{sender}.com"),
                format!("{sender}.com"),
            ] {
                events.push((time, query(mail, &name, "TXT"), "benign"));
            }
        }
        // Look-alike: anti-virus reputation look-ups with file hashes in the names.
        let av = "10.0.5.2";
        for _ in 0..200 {
            let digest = random_text(&mut rng, HEX, 64);
            let name = match rng.random_range(0..3) {
                0 => format!("{}.{}.3.sophosxl.net", &digest[..32], &digest[32..]),
                1 => format!("{digest}.avts.mcafee.com"),
                _ => format!("{}.{}.e5.sk", &digest[..40], &digest[40..]),
            };
            events.push((at(&mut rng, 0, eight_hours), query(av, &name, "A"), "benign"));
        }
        // Look-alike: a CDN with random-looking names, but only a few of them, asked often.
        let media = "10.0.5.3";
        let edges: Vec<String> = (0..8)
            .map(|_| format!("{}.edge.mediacdn-example.com", random_text(&mut rng, BASE32, 34)))
            .collect();
        for _ in 0..400 {
            let name = &edges[rng.random_range(0..edges.len())];
            events.push((at(&mut rng, 0, eight_hours), query(media, name, "A"), "benign"));
        }
        // Look-alike: busy browsing, many sites each with one long tracking name.
        let busy = "10.0.5.4";
        for site in 0..200 {
            let name = format!("{}.pixel.site{site}.com", random_text(&mut rng, HEX, 32));
            events.push((at(&mut rng, 3600, 7200), query(busy, &name, "A"), "benign"));
        }

        // Attack 1: an iodine-like tunnel, NULL queries with long base32 labels.
        let tunnel_host = "10.0.0.77";
        for counter in 0..80 {
            let name = format!(
                "p{}{}.t.tunnel-example.net",
                random_text(&mut rng, BASE32, 58),
                counter % 10
            );
            let time = at(&mut rng, 2 * 3600, 2 * 3600 + 900);
            events.push((time, query(tunnel_host, &name, "NULL"), tunnel_host));
            events.push((time, wire_answer(tunnel_host, &name, "NULL"), tunnel_host));
        }
        // Attack 2: a dnscat-like channel, hex split over labels, TXT, slower and fewer.
        let dnscat_host = "10.0.0.78";
        for _ in 0..20 {
            let data = random_text(&mut rng, HEX, 60);
            let name = format!("{}.{}.c2-example.org", &data[..30], &data[30..]);
            let time = at(&mut rng, 5 * 3600, 5 * 3600 + 1800);
            events.push((time, query(dnscat_host, &name, "TXT"), dnscat_host));
        }

        // Attack 3: a beacon on a Windows host, seen through Sysmon (which has no query
        // type), hex data in A queries.
        let workstation = "WKS-021.corp.example.com";
        for _ in 0..45 {
            let name = format!("api.{}.cdn-sync-example.com", random_text(&mut rng, HEX, 56));
            let mut sysmon = event(&[
                ("Computer", workstation),
                ("QueryName", &name),
                ("QueryStatus", "0"),
                ("Image", "C:\\Windows\\System32\\rundll32.exe"),
            ]);
            sysmon.insert("EventID", Value::Int(22));
            events.push((
                at(&mut rng, 6 * 3600, 6 * 3600 + 1800),
                sysmon,
                "wks-021.corp.example.com",
            ));
        }

        events.sort_by_key(|(time, _, _)| *time);
        let labels: Vec<&str> = events.iter().map(|(_, _, label)| *label).collect();
        let timed: Vec<(Timestamp, Event)> =
            events.into_iter().map(|(time, event, _)| (time, event)).collect();
        let mut detector = DnsTunnelling::new(DnsTunnellingConfig::default());
        let alerts = run(&mut detector, &timed);

        let groups: BTreeMap<&str, &Alert> =
            alerts.iter().map(|alert| (alert.group.as_str(), alert)).collect();
        assert_eq!(alerts.len(), 3, "one alert per tunnel: {alerts:#?}");
        let iodine = groups["10.0.0.77 → tunnel-example.net"];
        assert!(iodine.entities.ips.contains(tunnel_host));
        assert!(iodine.entities.domains.contains("tunnel-example.net"));
        assert_eq!(iodine.evidence.len(), 15, "one per distinct name, up to the NULL threshold");
        let dnscat = groups["10.0.0.78 → c2-example.org"];
        assert_eq!(dnscat.evidence.len(), 15, "the TXT threshold");
        let beacon = groups["wks-021.corp.example.com → cdn-sync-example.com"];
        assert!(beacon.entities.hosts.contains("wks-021.corp.example.com"));
        assert_eq!(beacon.evidence.len(), 30, "the threshold for other query types");
        for alert in [iodine, dnscat, beacon] {
            let host = alert.entities.ips.first().or(alert.entities.hosts.first()).unwrap();
            for id in &alert.evidence {
                assert_eq!(labels[*id as usize], host.as_str(), "evidence {id}");
            }
            assert_eq!(alert.rule_id, "palisade.dns_tunnelling");
            assert_eq!(alert.attack, ["T1071.004", "T1048.003"]);
            assert!(alert.first_seen <= alert.last_seen);
        }
    }

    /// `count` distinct long base32 names under `domain`, one a second.
    fn tunnel(
        client: &str,
        domain: &str,
        qtype: &str,
        count: usize,
        seed: u64,
    ) -> Vec<(Timestamp, Event)> {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..count)
            .map(|idx| {
                let name = format!("{}.{domain}", random_text(&mut rng, BASE32, 40));
                (start() + SignedDuration::from_secs(idx as i64), query(client, &name, qtype))
            })
            .collect()
    }

    #[test]
    fn names_are_split_at_the_registered_domain() {
        let split = |name| split_name(name).map(|found| (found.subdomain, found.domain));
        assert_eq!(split("a1b2.c3d4.example.co.uk"), Some(("a1b2.c3d4", "example.co.uk")));
        assert_eq!(split("x.example.com"), Some(("x", "example.com")));
        assert_eq!(split("example.com"), Some(("", "example.com")));
        assert_eq!(split("co.uk"), None);
        assert_eq!(split("abc.printer.local"), None);
        assert_eq!(split("1.2.3.4"), None);
        assert!(under_suffix("ab.e5.sk", "e5.sk"));
        assert!(!under_suffix("abe5.sk", "e5.sk"));
    }

    #[test]
    fn encoded_means_long_and_random() {
        let detector = DnsTunnelling::new(DnsTunnellingConfig::default());
        let mut rng = StdRng::seed_from_u64(1);
        assert!(detector.encoded(&random_text(&mut rng, BASE32, 30)));
        assert!(detector.encoded(&random_text(&mut rng, HEX, 40)));
        // Data spread over short labels.
        let spread: Vec<String> = (0..4).map(|_| random_text(&mut rng, HEX, 14)).collect();
        assert!(detector.encoded(&spread.join(".")));
        assert!(!detector.encoded(&random_text(&mut rng, BASE32, 20)), "too short");
        assert!(!detector.encoded(&"ab".repeat(30)), "too regular");
        assert!(!detector.encoded("www"));
        assert_eq!(entropy(""), 0.0);
    }

    #[test]
    fn threshold_counts_distinct_names_within_the_window() {
        let mut detector = DnsTunnelling::new(DnsTunnellingConfig::default());
        let names = tunnel("10.0.0.5", "exfil-example.com", "A", 29, 11);
        assert!(run(&mut detector, &names).is_empty());
        // Asking the same 29 names again adds nothing.
        assert!(run(&mut detector, &names).is_empty());
        // The 30th distinct one, two hours later: the others have left the window.
        let late = tunnel("10.0.0.5", "exfil-example.com", "A", 30, 12).pop().unwrap();
        assert!(detector.observe(&late.1, 500, late.0 + SignedDuration::from_hours(2)).is_empty());
        // Within the window, the 30th fires, once.
        let mut fresh = DnsTunnelling::new(DnsTunnellingConfig::default());
        let alerts = run(&mut fresh, &tunnel("10.0.0.5", "exfil-example.com", "A", 60, 13));
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].evidence, (0..30).collect::<Vec<EventId>>());
    }

    #[test]
    fn txt_and_null_queries_fire_sooner() {
        let names = tunnel("10.0.0.5", "exfil-example.com", "txt", 15, 21);
        assert_eq!(run(&mut DnsTunnelling::new(DnsTunnellingConfig::default()), &names).len(), 1);
        let names = tunnel("10.0.0.5", "exfil-example.com", "A", 15, 21);
        assert!(run(&mut DnsTunnelling::new(DnsTunnellingConfig::default()), &names).is_empty());
    }

    #[test]
    fn service_labels_and_allow_listed_suffixes_are_skipped() {
        let mut detector = DnsTunnelling::new(DnsTunnellingConfig {
            extra_allow_suffixes: vec![".Reputation-Example.COM.".into()],
            ..Default::default()
        });
        let mut rng = StdRng::seed_from_u64(5);
        let mut events = Vec::new();
        for idx in 0..100 {
            let data = random_text(&mut rng, BASE32, 40);
            let time = start() + SignedDuration::from_secs(idx);
            for name in [
                format!("{data}._domainkey.example.com"),
                format!("{data}.reputation-example.com"),
                format!("{data}.sophosxl.net"),
                format!("{data}.corp.internal"),
                format!("{data} with spaces.example.com"),
            ] {
                events.push((time, query("10.0.0.5", &name, "TXT")));
            }
        }
        assert!(run(&mut detector, &events).is_empty());
        assert!(detector.state.pairs.is_empty(), "nothing to remember");
        // A long label that merely starts with an underscore is still data.
        let underscored: Vec<_> = (0..20)
            .map(|idx| {
                let name = format!("_{}.exfil-example.com", random_text(&mut rng, BASE32, 40));
                (start() + SignedDuration::from_secs(idx), query("10.0.0.5", &name, "TXT"))
            })
            .collect();
        assert_eq!(run(&mut detector, &underscored).len(), 1);
    }

    #[test]
    fn ignored_hosts_are_skipped_and_the_summary_reads_well() {
        let names = tunnel("10.0.0.5", "exfil-example.com", "TXT", 15, 51);
        let config =
            DnsTunnellingConfig { ignore_hosts: vec!["10.0.0.5".into()], ..Default::default() };
        assert!(run(&mut DnsTunnelling::new(config), &names).is_empty());
        let alerts = run(&mut DnsTunnelling::new(DnsTunnellingConfig::default()), &names);
        let summary = &alerts[0].summary;
        let example = names[0].1.get_str("dns.question.name").unwrap().into_owned();
        assert_eq!(
            *summary,
            format!(
                "10.0.0.5 asked for 15 distinct encoded-looking names under exfil-example.com \
                 in 14s (15 as TXT/NULL), e.g. {example}"
            )
        );
    }

    #[test]
    fn cooldown_keeps_one_tunnel_one_alert() {
        let mut detector = DnsTunnelling::new(DnsTunnellingConfig::default());
        let names = tunnel("10.0.0.5", "exfil-example.com", "A", 300, 31);
        assert_eq!(run(&mut detector, &names).len(), 1);
        let later: Vec<_> = tunnel("10.0.0.5", "exfil-example.com", "A", 40, 32)
            .into_iter()
            .map(|(time, event)| (time + SignedDuration::from_hours(7), event))
            .collect();
        assert_eq!(run(&mut detector, &later).len(), 1, "past the 6 h cool-down");
    }

    #[test]
    fn state_survives_save_and_restore() {
        let names = tunnel("10.0.0.5", "exfil-example.com", "A", 30, 41);
        let mut detector = DnsTunnelling::new(DnsTunnellingConfig::default());
        assert!(run(&mut detector, &names[..29]).is_empty());
        let text = serde_json::to_string(&detector.save()).unwrap();
        let mut restored = DnsTunnelling::new(DnsTunnellingConfig::default());
        restored.restore(serde_json::from_str(&text).unwrap()).unwrap();
        // A name seen before the restart is still known...
        assert!(restored.observe(&names[0].1, 100, names[28].0).is_empty());
        // ...and the 30th distinct one completes the count.
        let alerts = restored.observe(&names[29].1, 29, names[29].0);
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].evidence, (0..30).collect::<Vec<EventId>>());

        let mut error = DnsTunnelling::new(DnsTunnellingConfig::default());
        assert!(matches!(
            error.restore(serde_json::json!([1, 2])),
            Err(crate::Error::State { ref detector, .. }) if detector == "palisade.dns_tunnelling"
        ));
        assert!(error.restore(serde_json::json!({"version": 7, "pairs": {}})).is_err());
    }

    #[test]
    fn memory_is_bounded() {
        let mut detector = DnsTunnelling::new(DnsTunnellingConfig {
            max_pairs: 50,
            max_subdomains_per_pair: 10,
            min_unique_subdomains: 1000,
            min_unique_txt_subdomains: 1000,
            ..Default::default()
        });
        let mut rng = StdRng::seed_from_u64(9);
        for idx in 0..3000_i64 {
            let name = format!("{}.site{}.com", random_text(&mut rng, BASE32, 40), idx % 500);
            let client = format!("10.0.{}.{}", idx % 3, idx % 11);
            detector.observe(
                &query(&client, &name, "A"),
                idx as EventId,
                start() + SignedDuration::from_secs(idx),
            );
            assert!(detector.state.pairs.len() <= 50);
            assert!(detector.state.pairs.values().all(|pair| pair.subdomains.len() <= 1000));
        }
        // The per-pair cap never goes below the thresholds.
        assert!(detector.state.pairs.values().all(|pair| pair.examples.len() <= EXAMPLES));
    }

    #[test]
    fn settings_read_durations_and_refuse_unknown_keys() {
        let config: DnsTunnellingConfig = serde_json::from_value(serde_json::json!({
            "window": "15m", "cooldown": "1d", "suspicious_qtypes": ["TXT", "16"]
        }))
        .unwrap();
        assert_eq!(config.window, SignedDuration::from_mins(15));
        assert_eq!(config.cooldown, SignedDuration::from_hours(24));
        assert_eq!(config.min_unique_subdomains, 30);
        assert!(
            serde_json::from_value::<DnsTunnellingConfig>(serde_json::json!({"treshold": 3}))
                .is_err()
        );
    }

    proptest::proptest! {
        #[test]
        fn odd_names_never_panic(name in "\\PC{0,300}", qtype in "\\PC{0,6}") {
            let mut detector = DnsTunnelling::new(DnsTunnellingConfig {
                min_unique_subdomains: 1,
                ..Default::default()
            });
            detector.observe(&query("10.0.0.1", &name, &qtype), 1, start());
            detector.observe(&wire_answer("10.0.0.1", &name, &qtype), 2, start());
        }
    }
}
