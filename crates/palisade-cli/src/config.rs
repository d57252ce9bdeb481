//! The configuration file (`--config FILE`, TOML). Every key is documented in
//! docs/configuration.md; an unknown key is an error, never silently ignored. Command-line
//! flags override the file; the file overrides the defaults.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use palisade_store::{FsyncPolicy, QueryLimits, RetentionLimits, RetentionPolicy, StoreConfig};
use serde::Deserialize;

use crate::Exit;

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Config {
    #[serde(default)]
    pub(crate) store: StoreSection,
    #[serde(default)]
    pub(crate) server: ServerSection,
    #[serde(default)]
    pub(crate) query: QuerySection,
    #[serde(default)]
    pub(crate) enrich: EnrichSection,
    /// `[[tail]]`: files `palisade serve` follows.
    #[serde(default)]
    pub(crate) tail: Vec<TailSection>,
    #[serde(default)]
    pub(crate) detect: DetectSection,
}

/// `[detect]`: live detection in `palisade serve`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DetectSection {
    /// Live detection on (default true).
    pub(crate) enabled: Option<bool>,
    /// Suppression window: the same rule on the same subject within it is one alert (`1h`).
    suppress: Option<String>,
    /// How late (event time behind the newest) a match may arrive and still count in a
    /// correlation window (`60s`).
    allowed_lateness: Option<String>,
    /// Open correlation groups kept at most (100000).
    max_groups: Option<usize>,
    /// Matches kept at most per correlation group (10000).
    max_matches_per_group: Option<usize>,
    /// `[detect.behaviour.<detector>]`: behaviour detector settings.
    #[serde(default)]
    behaviour: palisade_detect::behaviour::BehaviourConfig,
}

/// `[enrich]`: GeoIP databases (MaxMind DB format).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EnrichSection {
    geoip_city: Option<PathBuf>,
    geoip_asn: Option<PathBuf>,
}

/// One `[[tail]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TailSection {
    /// A path or a glob.
    path: String,
    /// A source type name (default `auto`).
    #[serde(rename = "type")]
    source_type: Option<String>,
    /// `beginning` (default) or `end`: where a file without a checkpoint starts.
    start_at: Option<String>,
}

/// `[store]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StoreSection {
    /// `always`, `never`, or an interval such as `200ms`.
    fsync: Option<String>,
    flush_events: Option<usize>,
    max_unflushed_events: Option<usize>,
    flush_mib: Option<usize>,
    max_unflushed_mib: Option<usize>,
    #[serde(default)]
    retention: RetentionSection,
}

/// `[store.retention]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RetentionSection {
    max_age: Option<String>,
    max_mib: Option<u64>,
    /// How often `palisade serve` applies it.
    check_every: Option<String>,
    #[serde(default)]
    sources: BTreeMap<String, SourceRetention>,
}

/// `[store.retention.sources."DATASET"]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SourceRetention {
    max_age: Option<String>,
    max_mib: Option<u64>,
}

/// `[server]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServerSection {
    pub(crate) http: Option<SocketAddr>,
    /// `ADDR` or `off`.
    pub(crate) syslog_udp: Option<String>,
    /// `ADDR` or `off`.
    pub(crate) syslog_tcp: Option<String>,
    /// `ADDR` or `off`; on by default (127.0.0.1:6514) once `tls_cert` is set.
    pub(crate) syslog_tls: Option<String>,
    /// PEM certificate chain of the syslog TLS listener.
    pub(crate) tls_cert: Option<PathBuf>,
    /// PEM private key of `tls_cert`.
    pub(crate) tls_key: Option<PathBuf>,
    /// PEM CA certificates; when set, TLS clients must present a certificate they signed.
    pub(crate) tls_client_ca: Option<PathBuf>,
    /// IANA zone of syslog timestamps that carry none (default: the system's).
    syslog_time_zone: Option<String>,
    syslog_max_message_kib: Option<usize>,
    max_body_mib: Option<usize>,
    max_inflight_ingests: Option<usize>,
    /// How often tailed files are checked.
    tail_poll: Option<String>,
    /// Longest tailed line, in KiB.
    tail_max_line_kib: Option<usize>,
}

/// `[query]`: the limits every query runs under.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct QuerySection {
    max_rows: Option<usize>,
    timeout: Option<String>,
    memory_mib: Option<usize>,
}

/// A source type by name, or a usage error listing the names.
pub(crate) fn source_type(
    name: &str,
    key: &str,
) -> anyhow::Result<palisade_parse::source::SourceType> {
    palisade_parse::source::SourceType::from_name(name).ok_or_else(|| {
        usage(format!(
            "{key} = {name:?} is not a source type; use one of: {}",
            palisade_parse::source::SourceType::names()
        ))
    })
}

fn usage(message: String) -> anyhow::Error {
    Exit::Usage(anyhow::anyhow!(message)).into()
}

fn duration(key: &str, text: &str) -> anyhow::Result<Duration> {
    humantime::parse_duration(text).map_err(|error| {
        usage(format!("{key} = {text:?}: {error} (write e.g. 200ms, 30s, 12h, 30d)"))
    })
}

impl Config {
    /// Reads the file, or the defaults without one.
    pub(crate) fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        let Some(path) = path else { return Ok(Self::default()) };
        let text = fs_err::read_to_string(path).map_err(|error| {
            Exit::Usage(anyhow::Error::new(error).context("reading the configuration file"))
        })?;
        let config: Self =
            toml::from_str(&text).map_err(|error| usage(format!("{}: {error}", path.display())))?;
        // Check every value now, so a mistake shows at start, not at first use.
        config.store_config()?;
        config.retention()?;
        config.query_limits()?;
        config.server_options()?;
        Ok(config)
    }

    pub(crate) fn store_config(&self) -> anyhow::Result<StoreConfig> {
        let mut config = StoreConfig::default();
        if let Some(fsync) = &self.store.fsync {
            config.fsync = match fsync.as_str() {
                "always" => FsyncPolicy::Always,
                "never" => FsyncPolicy::Never,
                other => FsyncPolicy::Interval(duration("store.fsync", other)?),
            };
        }
        if let Some(events) = self.store.flush_events {
            if events == 0 {
                return Err(usage("store.flush_events must be at least 1".into()));
            }
            config.flush_events = events;
        }
        if let Some(events) = self.store.max_unflushed_events {
            config.max_unflushed_events = events;
        }
        if config.max_unflushed_events < config.flush_events * 2 {
            return Err(usage(format!(
                "store.max_unflushed_events ({}) must be at least twice store.flush_events ({})",
                config.max_unflushed_events, config.flush_events
            )));
        }
        if let Some(mib) = self.store.flush_mib {
            config.flush_bytes = mib.max(1) << 20;
        }
        if let Some(mib) = self.store.max_unflushed_mib {
            config.max_unflushed_bytes = mib << 20;
        }
        if config.max_unflushed_bytes < config.flush_bytes * 2 {
            return Err(usage(format!(
                "store.max_unflushed_mib ({}) must be at least twice store.flush_mib ({})",
                config.max_unflushed_bytes >> 20,
                config.flush_bytes >> 20
            )));
        }
        Ok(config)
    }

    pub(crate) fn retention(&self) -> anyhow::Result<RetentionPolicy> {
        let section = &self.store.retention;
        let limits = |key: &str, age: Option<&String>, mib: Option<u64>| {
            Ok::<_, anyhow::Error>(RetentionLimits {
                max_age: age.map(|age| duration(key, age)).transpose()?,
                max_bytes: mib.map(|mib| mib << 20),
            })
        };
        let mut policy = RetentionPolicy {
            default: limits("store.retention.max_age", section.max_age.as_ref(), section.max_mib)?,
            sources: BTreeMap::new(),
        };
        for (name, source) in &section.sources {
            let key = format!("store.retention.sources.{name:?}.max_age");
            policy
                .sources
                .insert(name.clone(), limits(&key, source.max_age.as_ref(), source.max_mib)?);
        }
        Ok(policy)
    }

    pub(crate) fn retention_interval(&self) -> anyhow::Result<Duration> {
        self.store.retention.check_every.as_deref().map_or(Ok(Duration::from_secs(60)), |text| {
            duration("store.retention.check_every", text)
        })
    }

    pub(crate) fn query_limits(&self) -> anyhow::Result<QueryLimits> {
        let mut limits = QueryLimits::default();
        if let Some(rows) = self.query.max_rows {
            limits.max_rows = rows;
        }
        if let Some(timeout) = &self.query.timeout {
            limits.timeout = duration("query.timeout", timeout)?;
        }
        if let Some(mib) = self.query.memory_mib {
            limits.memory_bytes = mib << 20;
        }
        Ok(limits)
    }

    /// The enricher of `[enrich]`: databases that are configured but missing are skipped
    /// with a warning; a file that is not a database of the right kind is an error.
    pub(crate) fn enricher(&self) -> anyhow::Result<palisade_enrich::Enricher> {
        let config = palisade_enrich::GeoIpConfig {
            city: self.enrich.geoip_city.clone(),
            asn: self.enrich.geoip_asn.clone(),
        };
        palisade_enrich::Enricher::open(&config)
            .map_err(|error| Exit::Usage(anyhow::Error::new(error).context("[enrich]")).into())
    }

    /// `[server] syslog_time_zone`, or the system's zone: how times without a zone are read.
    pub(crate) fn time_zone(&self) -> anyhow::Result<jiff::tz::TimeZone> {
        match &self.server.syslog_time_zone {
            None => Ok(jiff::tz::TimeZone::system()),
            Some(zone) => jiff::tz::TimeZone::get(zone)
                .map_err(|error| usage(format!("server.syslog_time_zone = {zone:?}: {error}"))),
        }
    }

    /// Live detection settings, or none when `[detect] enabled = false`.
    pub(crate) fn detect_options(
        &self,
    ) -> anyhow::Result<Option<palisade_server::detect::DetectOptions>> {
        let section = &self.detect;
        if section.enabled == Some(false) {
            return Ok(None);
        }
        let mut options = palisade_server::detect::DetectOptions {
            behaviours: section.behaviour.clone(),
            ..palisade_server::detect::DetectOptions::default()
        };
        let span = |key: &str, text: &str| {
            palisade_detect::correlation::parse_timespan(text).map_err(|message| {
                anyhow::Error::new(Exit::Usage(anyhow::anyhow!("{key}: {message}")))
            })
        };
        if let Some(text) = &section.suppress {
            options.suppress = span("detect.suppress", text)?;
        }
        if let Some(text) = &section.allowed_lateness {
            options.engine.allowed_lateness = span("detect.allowed_lateness", text)?;
        }
        if let Some(max) = section.max_groups {
            options.engine.max_groups = max.max(1);
        }
        if let Some(max) = section.max_matches_per_group {
            options.engine.max_matches_per_group = max.max(1);
        }
        Ok(Some(options))
    }

    pub(crate) fn server_options(&self) -> anyhow::Result<palisade_server::ServerOptions> {
        let mut options = palisade_server::ServerOptions {
            enricher: std::sync::Arc::new(self.enricher()?),
            query_limits: self.query_limits()?,
            retention: self.retention()?,
            retention_interval: self.retention_interval()?,
            ..palisade_server::ServerOptions::default()
        };
        if let Some(mib) = self.server.max_body_mib {
            options.max_body_bytes = mib << 20;
        }
        if let Some(inflight) = self.server.max_inflight_ingests {
            options.max_inflight_ingests = inflight.max(1);
        }
        options.syslog.time_zone = self.time_zone()?;
        if let Some(kib) = self.server.syslog_max_message_kib {
            options.syslog.max_message_bytes = (kib << 10).max(1024);
        }
        options.tail.time_zone = options.syslog.time_zone.clone();
        if let Some(poll) = &self.server.tail_poll {
            options.tail.poll = duration("server.tail_poll", poll)?.max(Duration::from_millis(10));
        }
        if let Some(kib) = self.server.tail_max_line_kib {
            options.tail.max_line_bytes = (kib << 10).max(1024);
        }
        for entry in &self.tail {
            let source = source_type(entry.source_type.as_deref().unwrap_or("auto"), "tail.type")?;
            let start_at_end = match entry.start_at.as_deref() {
                None | Some("beginning") => false,
                Some("end") => true,
                Some(other) => {
                    return Err(usage(format!(
                        "tail.start_at = {other:?}: write \"beginning\" or \"end\""
                    )));
                }
            };
            options.tail.patterns.push(palisade_server::tail::TailPattern {
                pattern: entry.path.clone(),
                source,
                start_at_end,
            });
        }
        Ok(options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> anyhow::Result<Config> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("palisade.toml");
        std::fs::write(&path, text)?;
        Config::load(Some(&path))
    }

    #[test]
    fn every_section_parses_and_unknown_keys_are_refused() {
        let config = parse(
            r#"
            [store]
            fsync = "200ms"
            flush_events = 1000
            [store.retention]
            max_age = "30d"
            max_mib = 2048
            [store.retention.sources."nginx.access"]
            max_age = "7d"
            [server]
            http = "127.0.0.1:9000"
            [query]
            max_rows = 50
            timeout = "10s"
            "#,
        )
        .expect("valid");
        let store = config.store_config().expect("store");
        assert_eq!(store.fsync, FsyncPolicy::Interval(Duration::from_millis(200)));
        assert_eq!(store.flush_events, 1000);
        let retention = config.retention().expect("retention");
        assert_eq!(retention.default.max_age, Some(Duration::from_secs(30 * 86_400)));
        assert_eq!(retention.default.max_bytes, Some(2048 << 20));
        assert_eq!(
            retention.sources["nginx.access"].max_age,
            Some(Duration::from_secs(7 * 86_400))
        );
        assert_eq!(config.query_limits().expect("limits").max_rows, 50);
        assert!(parse("[store]\nfsync_policy = \"always\"\n").is_err());
        assert!(parse("[store]\nfsync = \"sometimes\"\n").is_err());
        assert!(parse("[nonsense]\n").is_err());
        assert!(parse("[store]\nflush_events = 0\n").is_err());
    }
}
