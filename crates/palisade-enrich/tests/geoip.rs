//! GeoIP and ASN enrichment against MaxMind's own Python reader: for the same database and
//! the same addresses, every field we set must equal what the reference reader returns.
//!
//! The City database is the 2018 GeoLite2-City that the PyPI package maxminddb-geolite2
//! ships; the ASN database is written for the test by mmdb-writer. Both come from the client
//! venv that `.ci/run` builds (`target/pyvenv-clients`); without it the test fails in CI and
//! is skipped loudly elsewhere.

use std::path::{Path, PathBuf};
use std::process::Command;

use palisade_enrich::{Enricher, GeoIpConfig, address_class};
use palisade_event::{Event, Value};
use serde_json::Value as Json;

fn python() -> Option<PathBuf> {
    let python =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/pyvenv-clients/bin/python");
    if python.exists() {
        return Some(python);
    }
    assert!(std::env::var_os("CI").is_none(), "the client venv is missing and CI=true");
    eprintln!(
        "\n!!! SKIPPED: no client venv; run: python3 -m venv target/pyvenv-clients && target/pyvenv-clients/bin/pip install -r tools/clients/requirements.txt !!!\n"
    );
    None
}

fn fixture(python: &Path, args: &[&str]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/clients/geoip_fixture.py");
    let output = Command::new(python).arg(script).args(args).output().expect("run python");
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("utf-8")
}

/// Deterministic addresses spread over the whole space (a linear congruential sequence),
/// plus well-known ones and IPv6.
fn addresses() -> Vec<String> {
    let mut state: u64 = 0x5eed;
    let mut ips: Vec<String> = (0..600)
        .map(|_| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            std::net::Ipv4Addr::from((state >> 32) as u32).to_string()
        })
        .collect();
    ips.extend(
        [
            "81.2.69.142",
            "8.8.8.8",
            "1.1.1.1",
            "89.160.20.128",
            "2001:4860:4860::8888",
            "2a02:ff0::1",
            "2a00:1450:4001:80b::200e",
        ]
        .map(String::from),
    );
    ips
}

fn english(place: &Json) -> Option<&str> {
    place["names"]["en"].as_str()
}

#[test]
fn city_and_asn_fields_equal_the_reference_reader() {
    let Some(python) = python() else { return };
    let dir = tempfile::tempdir().expect("tmp");
    let city = PathBuf::from(fixture(&python, &["city-path"]).trim());
    let asn = dir.path().join("asn.mmdb");
    fixture(&python, &["make-asn", asn.to_str().expect("utf-8")]);
    let enricher =
        Enricher::open(&GeoIpConfig { city: Some(city.clone()), asn: Some(asn.clone()) })
            .expect("open databases");
    assert!(enricher.has_databases());

    let ips = addresses();
    let mut args = vec!["lookup", city.to_str().expect("utf-8")];
    args.extend(ips.iter().map(String::as_str));
    let cities: Json = serde_json::from_str(&fixture(&python, &args)).expect("json");
    args[1] = asn.to_str().expect("utf-8");
    let asns: Json = serde_json::from_str(&fixture(&python, &args)).expect("json");

    let (mut located, mut with_as, mut internal) = (0, 0, 0);
    for ip in &ips {
        let mut event =
            Event::from_fields(vec![("destination.ip".into(), Value::from(ip.as_str()))]);
        enricher.enrich(&mut event);
        let get =
            |field: &str| event.get_str(&format!("destination.{field}")).map(|v| v.into_owned());
        if let Some(class) = address_class(ip.parse().expect("ip")) {
            internal += 1;
            assert_eq!(get("geo.name").as_deref(), Some(class), "{ip}");
            assert_eq!(get("geo.country_iso_code"), None, "{ip}");
            continue;
        }
        let record = &cities[ip];
        assert_eq!(
            get("geo.country_iso_code").as_deref(),
            record["country"]["iso_code"].as_str(),
            "{ip}"
        );
        assert_eq!(get("geo.country_name").as_deref(), english(&record["country"]), "{ip}");
        assert_eq!(
            get("geo.continent_code").as_deref(),
            record["continent"]["code"].as_str(),
            "{ip}"
        );
        assert_eq!(get("geo.continent_name").as_deref(), english(&record["continent"]), "{ip}");
        assert_eq!(get("geo.city_name").as_deref(), english(&record["city"]), "{ip}");
        assert_eq!(get("geo.postal_code").as_deref(), record["postal"]["code"].as_str(), "{ip}");
        assert_eq!(
            get("geo.timezone").as_deref(),
            record["location"]["time_zone"].as_str(),
            "{ip}"
        );
        let region = &record["subdivisions"][0];
        assert_eq!(get("geo.region_name").as_deref(), english(region), "{ip}");
        let region_code = region["iso_code"]
            .as_str()
            .zip(record["country"]["iso_code"].as_str())
            .map(|(region, country)| format!("{country}-{region}"));
        assert_eq!(get("geo.region_iso_code"), region_code, "{ip}");
        // Compared to a billionth of a degree: the two readers may round the stored double
        // differently in the last bit.
        for (field, key) in [("lat", "latitude"), ("lon", "longitude")] {
            let ours = match event.get(&format!("destination.geo.location.{field}")) {
                Some(Value::Float(value)) => Some(*value),
                None => None,
                Some(other) => panic!("{ip}: {field} is {other:?}"),
            };
            match (ours, record["location"][key].as_f64()) {
                (Some(ours), Some(expected)) => {
                    assert!((ours - expected).abs() < 1e-9, "{ip}: {ours} {expected}")
                }
                (ours, expected) => assert_eq!(ours, expected, "{ip}: {field}"),
            }
        }
        if !record.is_null() {
            located += 1;
        }
        let as_record = &asns[ip];
        assert_eq!(
            event.get("destination.as.number"),
            as_record["autonomous_system_number"].as_i64().map(Value::Int).as_ref(),
            "{ip}"
        );
        assert_eq!(
            get("as.organization.name").as_deref(),
            as_record["autonomous_system_organization"].as_str(),
            "{ip}"
        );
        with_as += usize::from(!as_record.is_null());
    }
    eprintln!(
        "{} addresses: {located} located, {with_as} with an AS, {internal} internal",
        ips.len()
    );
    assert!(located > 300, "only {located} addresses located: is the City database empty?");
    assert!(with_as >= 5, "only {with_as} addresses with an AS");
    let mut known = Event::from_fields(vec![("source.ip".into(), Value::from("81.2.69.142"))]);
    enricher.enrich(&mut known);
    assert_eq!(known.get_str("source.geo.country_iso_code").as_deref(), Some("GB"));
    assert_eq!(
        known.get_str("source.as.organization.name").as_deref(),
        Some("Andrews & Arnold Ltd")
    );
}
