//! Enrichment: what Palisade adds to a parsed event before detection and storage.
//!
//! For each endpoint of an event (`source`, `destination`, `client`, `server`) whose `*.ip`
//! is set:
//! - an address that is not routed on the internet (private, loopback, link-local, carrier
//!   NAT, multicast, documentation, reserved; IPv4 and IPv6) gets `*.geo.name` set to its
//!   class (`private`, `loopback`...) and no lookup: a GeoIP database has nothing true to say
//!   about it, and analysts filter on "not internal" constantly;
//! - any other address is looked up in a MaxMind-format City (or Country) database for
//!   `*.geo.*` (continent, country, region, city, postal code, time zone, location) and in an
//!   ASN database for `*.as.number` and `*.as.organization.name`, with ECS names.
//!
//! Both databases are optional: without one, that part of the enrichment is skipped, never
//! an error. Fields the parser already set are left alone, so a source that reports its own
//! geo data (CloudTrail, a firewall) keeps it.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use maxminddb::Reader;
use palisade_event::{Event, Str, Value};
use serde::Deserialize;

/// Where the databases are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GeoIpConfig {
    /// A GeoIP2/GeoLite2 City or Country database.
    pub city: Option<PathBuf>,
    /// A GeoIP2/GeoLite2 ASN database.
    pub asn: Option<PathBuf>,
}

/// A database that exists but cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Not a readable MaxMind DB file.
    #[error("{path}: not a readable MaxMind database: {reason}")]
    Open {
        /// The file.
        path: PathBuf,
        /// The reader's error.
        reason: String,
    },
    /// A MaxMind database of the wrong kind for its setting.
    #[error("{path}: a {found} database, but this setting needs {expected}")]
    WrongType {
        /// The file.
        path: PathBuf,
        /// Its `database_type`.
        found: String,
        /// What the setting needs.
        expected: &'static str,
    },
}

/// The ECS field names of one endpoint, spelled out once.
struct Endpoint {
    ip: &'static str,
    geo_name: &'static str,
    continent_code: &'static str,
    continent_name: &'static str,
    country_iso_code: &'static str,
    country_name: &'static str,
    region_iso_code: &'static str,
    region_name: &'static str,
    city_name: &'static str,
    postal_code: &'static str,
    timezone: &'static str,
    lat: &'static str,
    lon: &'static str,
    as_number: &'static str,
    as_organization: &'static str,
}

macro_rules! endpoint {
    ($prefix:literal) => {
        Endpoint {
            ip: concat!($prefix, ".ip"),
            geo_name: concat!($prefix, ".geo.name"),
            continent_code: concat!($prefix, ".geo.continent_code"),
            continent_name: concat!($prefix, ".geo.continent_name"),
            country_iso_code: concat!($prefix, ".geo.country_iso_code"),
            country_name: concat!($prefix, ".geo.country_name"),
            region_iso_code: concat!($prefix, ".geo.region_iso_code"),
            region_name: concat!($prefix, ".geo.region_name"),
            city_name: concat!($prefix, ".geo.city_name"),
            postal_code: concat!($prefix, ".geo.postal_code"),
            timezone: concat!($prefix, ".geo.timezone"),
            lat: concat!($prefix, ".geo.location.lat"),
            lon: concat!($prefix, ".geo.location.lon"),
            as_number: concat!($prefix, ".as.number"),
            as_organization: concat!($prefix, ".as.organization.name"),
        }
    };
}

const ENDPOINTS: [Endpoint; 4] =
    [endpoint!("source"), endpoint!("destination"), endpoint!("client"), endpoint!("server")];

/// The part of a GeoIP2 City/Country record we use (decoded without copying strings).
#[derive(Debug, Deserialize)]
struct CityRecord<'a> {
    #[serde(borrow)]
    continent: Option<Place<'a>>,
    #[serde(borrow)]
    country: Option<Place<'a>>,
    #[serde(borrow)]
    subdivisions: Option<Vec<Place<'a>>>,
    #[serde(borrow)]
    city: Option<Place<'a>>,
    #[serde(borrow)]
    postal: Option<Place<'a>>,
    #[serde(borrow)]
    location: Option<Location<'a>>,
}

#[derive(Debug, Deserialize)]
struct Place<'a> {
    #[serde(borrow)]
    code: Option<&'a str>,
    #[serde(borrow)]
    iso_code: Option<&'a str>,
    #[serde(borrow)]
    names: Option<BTreeMap<&'a str, &'a str>>,
}

impl Place<'_> {
    fn english(&self) -> Option<&str> {
        self.names.as_ref().and_then(|names| names.get("en").copied())
    }
}

#[derive(Debug, Deserialize)]
struct Location<'a> {
    latitude: Option<f64>,
    longitude: Option<f64>,
    #[serde(borrow)]
    time_zone: Option<&'a str>,
}

#[derive(Debug, Deserialize)]
struct AsnRecord<'a> {
    autonomous_system_number: Option<u32>,
    #[serde(borrow)]
    autonomous_system_organization: Option<&'a str>,
}

/// Adds GeoIP, ASN and address-class fields to events.
pub struct Enricher {
    city: Option<Reader<Vec<u8>>>,
    asn: Option<Reader<Vec<u8>>>,
}

impl std::fmt::Debug for Enricher {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Enricher")
            .field("city", &self.city.as_ref().map(|reader| &reader.metadata.database_type))
            .field("asn", &self.asn.as_ref().map(|reader| &reader.metadata.database_type))
            .finish()
    }
}

impl Default for Enricher {
    fn default() -> Self {
        Self::without_databases()
    }
}

impl Enricher {
    /// An enricher that only classifies addresses.
    #[must_use]
    pub fn without_databases() -> Self {
        Self { city: None, asn: None }
    }

    /// Opens the configured databases. A path that does not exist is skipped with a warning
    /// (no database, no enrichment); a file that is not a MaxMind database of the right kind
    /// is an error, since it is surely a mistake.
    ///
    /// # Errors
    /// [`Error::Open`] and [`Error::WrongType`].
    pub fn open(config: &GeoIpConfig) -> Result<Self, Error> {
        let city =
            open_database(config.city.as_deref(), "a City or Country", &["City", "Country"])?;
        let asn = open_database(config.asn.as_deref(), "an ASN", &["ASN"])?;
        Ok(Self { city, asn })
    }

    /// True when at least one database is loaded.
    #[must_use]
    pub fn has_databases(&self) -> bool {
        self.city.is_some() || self.asn.is_some()
    }

    /// Enriches every endpoint of `event` that has an IP address. Fields the event already
    /// has are kept; the new ones are merged into it at once.
    pub fn enrich(&self, event: &mut Event) {
        let mut added = Added { event, fields: Vec::new() };
        for endpoint in &ENDPOINTS {
            let Some(ip) = added.event.get(endpoint.ip).and_then(endpoint_ip) else { continue };
            if let Some(class) = address_class(ip) {
                added.set(endpoint.geo_name, Value::literal(class));
                continue;
            }
            if let Some(reader) = &self.city {
                Self::add_city(reader, ip, endpoint, &mut added);
            }
            if let Some(reader) = &self.asn
                && let Ok(result) = reader.lookup(ip)
                && let Ok(Some(record)) = result.decode::<AsnRecord<'_>>()
            {
                if let Some(number) = record.autonomous_system_number {
                    added.set(endpoint.as_number, Value::Int(i64::from(number)));
                }
                if let Some(name) = record.autonomous_system_organization {
                    added.set(endpoint.as_organization, Value::from(name));
                }
            }
        }
        let Added { event, fields } = added;
        event.extend(fields);
    }

    fn add_city(reader: &Reader<Vec<u8>>, ip: IpAddr, endpoint: &Endpoint, added: &mut Added<'_>) {
        let Ok(result) = reader.lookup(ip) else { return };
        let Ok(Some(record)) = result.decode::<CityRecord<'_>>() else { return };
        let mut text = |field: &'static str, value: Option<&str>| {
            if let Some(value) = value.filter(|value| !value.is_empty()) {
                added.set(field, Value::from(value));
            }
        };
        if let Some(continent) = &record.continent {
            text(endpoint.continent_code, continent.code);
            text(endpoint.continent_name, continent.english());
        }
        let country_code = record.country.as_ref().and_then(|country| country.iso_code);
        if let Some(country) = &record.country {
            text(endpoint.country_iso_code, country.iso_code);
            text(endpoint.country_name, country.english());
        }
        if let Some(region) = record.subdivisions.as_ref().and_then(|regions| regions.first()) {
            // ECS writes the region with its country: `CA-QC`.
            let code = match (country_code, region.iso_code) {
                (Some(country), Some(region)) => Some(format!("{country}-{region}")),
                _ => None,
            };
            text(endpoint.region_iso_code, code.as_deref());
            text(endpoint.region_name, region.english());
        }
        if let Some(city) = &record.city {
            text(endpoint.city_name, city.english());
        }
        if let Some(postal) = &record.postal {
            text(endpoint.postal_code, postal.code);
        }
        if let Some(location) = &record.location {
            text(endpoint.timezone, location.time_zone);
            if let (Some(lat), Some(lon)) = (location.latitude, location.longitude) {
                added.set(endpoint.lat, Value::Float(lat));
                added.set(endpoint.lon, Value::Float(lon));
            }
        }
    }
}

/// The fields enrichment adds to one event, gathered so they are merged into it in one pass
/// ([`Event::extend`]) instead of one shifting insert each.
struct Added<'a> {
    event: &'a mut Event,
    fields: Vec<(Str, Value)>,
}

impl Added<'_> {
    /// Adds a field unless the event already has it: a source's own value wins. Each
    /// endpoint's field names are distinct, so no name is gathered twice.
    fn set(&mut self, field: &'static str, value: Value) {
        if self.event.get(field).is_none() {
            self.fields.push((field.into(), value));
        }
    }
}

fn open_database(
    path: Option<&Path>,
    expected: &'static str,
    kinds: &[&str],
) -> Result<Option<Reader<Vec<u8>>>, Error> {
    let Some(path) = path else { return Ok(None) };
    if !path.exists() {
        tracing::warn!(path = %path.display(), "GeoIP database not found; enrichment from it is off");
        return Ok(None);
    }
    let reader = Reader::open_readfile(path)
        .map_err(|error| Error::Open { path: path.to_path_buf(), reason: error.to_string() })?;
    let found = reader.metadata.database_type.clone();
    if !kinds.iter().any(|kind| found.contains(kind)) {
        return Err(Error::WrongType { path: path.to_path_buf(), found, expected });
    }
    Ok(Some(reader))
}

/// The address in an `*.ip` field: text (an IPv6 zone dropped), or the first of a list.
fn endpoint_ip(value: &Value) -> Option<IpAddr> {
    match value {
        Value::Str(text) => {
            let text = text.as_str();
            let text = text.split_once('%').map_or(text, |(ip, _zone)| ip);
            text.parse().ok()
        }
        Value::List(items) => items.first().and_then(endpoint_ip),
        _ => None,
    }
}

/// The class of an address that is not routed on the internet, or `None` for a public one.
/// An IPv4-mapped IPv6 address is classified as its IPv4 address.
#[must_use]
pub fn address_class(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(ip) => v4_class(ip),
        IpAddr::V6(ip) => match ip.to_ipv4_mapped() {
            Some(v4) => v4_class(v4),
            None => v6_class(ip),
        },
    }
}

fn v4_class(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(if ip.is_private() {
        "private"
    } else if ip.is_loopback() {
        "loopback"
    } else if ip.is_link_local() {
        "link-local"
    } else if a == 100 && (64..128).contains(&b) {
        "shared"
    } else if ip.is_unspecified() || a == 0 {
        "unspecified"
    } else if ip.is_broadcast() {
        "broadcast"
    } else if ip.is_multicast() {
        "multicast"
    } else if matches!((a, b, c), (192, 0, 2) | (198, 51, 100) | (203, 0, 113)) {
        "documentation"
    } else if a == 198 && (b == 18 || b == 19) {
        "benchmarking"
    } else if a >= 240 || (a == 192 && b == 0 && c == 0) {
        "reserved"
    } else {
        return None;
    })
}

fn v6_class(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    let second = ip.segments()[1];
    Some(if ip.is_loopback() {
        "loopback"
    } else if ip.is_unspecified() {
        "unspecified"
    } else if first & 0xfe00 == 0xfc00 {
        "private"
    } else if first & 0xffc0 == 0xfe80 {
        "link-local"
    } else if ip.is_multicast() {
        "multicast"
    } else if first == 0x2001 && second == 0x0db8 || first == 0x3fff && second & 0xf000 == 0 {
        "documentation"
    } else {
        return None;
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(text: &str) -> Option<&'static str> {
        address_class(text.parse().expect("ip"))
    }

    #[test]
    fn address_classes() {
        assert_eq!(class("10.1.2.3"), Some("private"));
        assert_eq!(class("172.31.255.255"), Some("private"));
        assert_eq!(class("172.32.0.1"), None);
        assert_eq!(class("192.168.0.1"), Some("private"));
        assert_eq!(class("127.0.0.1"), Some("loopback"));
        assert_eq!(class("169.254.1.1"), Some("link-local"));
        assert_eq!(class("100.64.0.1"), Some("shared"));
        assert_eq!(class("100.128.0.1"), None);
        assert_eq!(class("224.0.0.251"), Some("multicast"));
        assert_eq!(class("203.0.113.9"), Some("documentation"));
        assert_eq!(class("255.255.255.255"), Some("broadcast"));
        assert_eq!(class("8.8.8.8"), None);
        assert_eq!(class("::1"), Some("loopback"));
        assert_eq!(class("fd00::1"), Some("private"));
        assert_eq!(class("fe80::1"), Some("link-local"));
        assert_eq!(class("2001:db8::1"), Some("documentation"));
        assert_eq!(class("::ffff:192.168.1.1"), Some("private"));
        assert_eq!(class("2a00:1450:4001:80b::200e"), None);
    }

    #[test]
    fn internal_addresses_are_named_and_parser_fields_kept() {
        let enricher = Enricher::without_databases();
        let mut event = Event::from_fields(vec![
            ("source.ip".into(), Value::from("192.168.4.20")),
            ("destination.ip".into(), Value::from("fe80::1%eth0")),
            ("client.ip".into(), Value::from("not an ip")),
            ("server.ip".into(), Value::from("10.0.0.1")),
            ("server.geo.name".into(), Value::from("dc-1")),
        ]);
        enricher.enrich(&mut event);
        assert_eq!(event.get_str("source.geo.name").as_deref(), Some("private"));
        assert_eq!(event.get_str("destination.geo.name").as_deref(), Some("link-local"));
        assert_eq!(event.get("client.geo.name"), None);
        assert_eq!(event.get_str("server.geo.name").as_deref(), Some("dc-1"));
    }

    #[test]
    fn a_missing_database_is_no_enrichment_and_a_wrong_file_an_error() {
        let dir = std::env::temp_dir().join(format!("palisade-enrich-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let config = GeoIpConfig { city: Some(dir.join("absent.mmdb")), asn: None };
        assert!(!Enricher::open(&config).expect("missing is fine").has_databases());
        let junk = dir.join("junk.mmdb");
        std::fs::write(&junk, b"not a database").expect("write");
        let config = GeoIpConfig { city: Some(junk), asn: None };
        let error = Enricher::open(&config).expect_err("junk").to_string();
        assert!(error.contains("junk.mmdb"), "{error}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
