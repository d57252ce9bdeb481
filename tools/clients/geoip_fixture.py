"""GeoIP test fixtures and the reference reader the enrichment tests compare against.

  geoip_fixture.py city-path            print the path of the GeoLite2-City database that the
                                        maxminddb-geolite2 package ships (2018 data, tests only)
  geoip_fixture.py make-asn OUT         write a GeoLite2-ASN-format database with mmdb-writer
  geoip_fixture.py lookup DB IP...      print, as JSON, what MaxMind's own Python reader
                                        finds for each address (null when nothing)
"""
import json
import sys


def city_path():
    import _maxminddb_geolite2  # shipped by maxminddb-geolite2

    print(_maxminddb_geolite2.__path__[0] + "/GeoLite2-City.mmdb")


def make_asn(out):
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    writer = MMDBWriter(ip_version=6, database_type="GeoLite2-ASN", ipv4_compatible=True)
    networks = {
        "8.8.8.0/24": (15169, "GOOGLE"),
        "81.2.69.0/24": (20712, "Andrews & Arnold Ltd"),
        "1.1.1.0/24": (13335, "CLOUDFLARENET"),
        "2001:4860::/32": (15169, "GOOGLE"),
        "89.160.20.0/24": (29518, "Bredband2 AB"),
    }
    for network, (number, name) in networks.items():
        writer.insert_network(
            IPSet([network]),
            {"autonomous_system_number": number, "autonomous_system_organization": name},
        )
    writer.to_db_file(out)


def lookup(db, ips):
    import maxminddb

    with maxminddb.open_database(db) as reader:
        print(json.dumps({ip: reader.get(ip) for ip in ips}))


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "city-path":
        city_path()
    elif command == "make-asn":
        make_asn(args[0])
    elif command == "lookup":
        lookup(args[0], args[1:])
    else:
        sys.exit(f"unknown command {command}")
