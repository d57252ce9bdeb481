#!/usr/bin/env python3
# Writes the Zeek golden inputs (tsv_*.log, json_*.log) from one table of records, rendered the way
# Zeek's ASCII writer (src/threading/formatters/Ascii.cc: \xhh escapes, "-" unset, "(empty)",
# reserved values escaped) and JSON writer (flat dotted keys, unset fields left out) print them.
# Layouts are the real #fields/#types of Zeek 6/7 (and older blocks where noted). Addresses are
# documentation ranges; uids, hashes and fingerprints are made up.
# Usage: python3 generate.py .   then PALISADE_BLESS=1 cargo test -p palisade-parse --test zeek golden
import json, os, sys

OUT = sys.argv[1]
T0 = 1764583200  # 2025-12-01T10:00:00Z

def layout(text):
    return [tuple(entry.split(':', 1)) for entry in text.split()]

ID = "ts:time uid:string id.orig_h:addr id.orig_p:port id.resp_h:addr id.resp_p:port "
CONN6 = layout(ID + "proto:enum service:string duration:interval orig_bytes:count resp_bytes:count conn_state:string local_orig:bool local_resp:bool missed_bytes:count history:string orig_pkts:count orig_ip_bytes:count resp_pkts:count resp_ip_bytes:count tunnel_parents:set[string]")
CONN7 = CONN6 + layout("ip_proto:count community_id:string orig_l2_addr:string resp_l2_addr:string")
DNS = layout(ID + "proto:enum trans_id:count rtt:interval query:string qclass:count qclass_name:string qtype:count qtype_name:string rcode:count rcode_name:string AA:bool TC:bool RD:bool RA:bool Z:count answers:vector[string] TTLs:vector[interval] rejected:bool")
HTTP = layout(ID + "trans_depth:count method:string host:string uri:string referrer:string version:string user_agent:string origin:string request_body_len:count response_body_len:count status_code:count status_msg:string info_code:count info_msg:string tags:set[enum] username:string password:string proxied:set[string] orig_fuids:vector[string] orig_filenames:vector[string] orig_mime_types:vector[string] resp_fuids:vector[string] resp_filenames:vector[string] resp_mime_types:vector[string]")
SSL6 = layout(ID + "version:string cipher:string curve:string server_name:string resumed:bool last_alert:string next_protocol:string established:bool ssl_history:string cert_chain_fps:vector[string] client_cert_chain_fps:vector[string] sni_matches_cert:bool ja3:string ja3s:string")
SSL4 = layout(ID + "version:string cipher:string curve:string server_name:string resumed:bool last_alert:string next_protocol:string established:bool cert_chain_fuids:vector[string] client_cert_chain_fuids:vector[string] subject:string issuer:string client_subject:string client_issuer:string validation_status:string")
FILES6 = layout("ts:time fuid:string uid:string id.orig_h:addr id.orig_p:port id.resp_h:addr id.resp_p:port source:string depth:count analyzers:set[string] mime_type:string filename:string duration:interval local_orig:bool is_orig:bool seen_bytes:count total_bytes:count missing_bytes:count overflow_bytes:count timedout:bool parent_fuid:string md5:string sha1:string sha256:string extracted:string extracted_cutoff:bool extracted_size:count")
FILES5 = layout("ts:time fuid:string tx_hosts:set[addr] rx_hosts:set[addr] conn_uids:set[string] source:string depth:count analyzers:set[string] mime_type:string filename:string duration:interval local_orig:bool is_orig:bool seen_bytes:count total_bytes:count missing_bytes:count overflow_bytes:count timedout:bool parent_fuid:string md5:string sha1:string sha256:string extracted:string extracted_cutoff:bool extracted_size:count")
NOTICE = layout(ID + "fuid:string file_mime_type:string file_desc:string proto:enum note:enum msg:string sub:string src:addr dst:addr p:port n:count peer_descr:string actions:set[enum] email_dest:set[string] suppress_for:interval remote_location.country_code:string remote_location.region:string remote_location.city:string remote_location.latitude:double remote_location.longitude:double")
WEIRD = layout(ID + "name:string addl:string notice:bool peer:string source:string")
SSH = layout(ID + "version:count auth_success:bool auth_attempts:count direction:enum client:string server:string cipher_alg:string mac_alg:string compression_alg:string kex_alg:string host_key_alg:string host_key:string")

def esc_text(value, extra=()):
    out = []
    for ch in value:
        code = ord(ch)
        if ch == '\\' or ch == '\t' or ch in extra or code < 0x20 or code == 0x7f:
            out.append('\\x%02x' % code)
        elif code > 0x7f and ESCAPE_UTF8:
            out.extend('\\x%02x' % b for b in ch.encode('utf-8'))
        else:
            out.append(ch)
    return ''.join(out)

ESCAPE_UTF8 = False

def tsv_scalar(value, ty, in_set=False):
    if ty in ('time', 'interval'):
        return '%.6f' % value
    if ty == 'double':
        text = repr(float(value))
        return text[:-2] if text.endswith('.0') else text
    if ty == 'bool':
        return 'T' if value else 'F'
    if ty in ('count', 'int', 'port'):
        return str(value)
    text = str(value)
    if text == '':
        return '(empty)'
    if text in ('-', '(empty)'):
        return '\\x%02x' % ord(text[0]) + esc_text(text[1:])
    return esc_text(text, extra=(',',) if in_set else ())

def tsv_value(value, ty):
    if value is None:
        return '-'
    if ty.startswith(('set[', 'vector[')):
        if not value:
            return '(empty)'
        inner = ty[ty.index('[') + 1:-1]
        return ','.join(tsv_scalar(item, inner, True) for item in value)
    return tsv_scalar(value, ty)

def json_scalar(value, ty):
    if ty in ('time', 'interval', 'double'):
        return float(value)
    return value

def json_record(fields, values, extra_front=None):
    obj = dict(extra_front or {})
    for (name, ty), value in zip(fields, values):
        if value is None:
            continue
        if ty.startswith(('set[', 'vector[')):
            inner = ty[ty.index('[') + 1:-1]
            obj[name] = [json_scalar(item, inner) for item in value]
        else:
            obj[name] = json_scalar(value, ty)
    return json.dumps(obj, ensure_ascii=False, separators=(',', ':'))

def header(path, fields, opened):
    return [
        '#separator \\x09', '#set_separator\t,', '#empty_field\t(empty)', '#unset_field\t-',
        '#path\t' + path, '#open\t' + opened,
        '#fields\t' + '\t'.join(name for name, _ in fields),
        '#types\t' + '\t'.join(ty for _, ty in fields),
    ]

def tsv_line(fields, values):
    assert len(fields) == len(values), (len(fields), len(values), values)
    return '\t'.join(tsv_value(value, ty) for (name, ty), value in zip(fields, values))

files = {}
def emit(name, lines):
    files[name] = lines

H = lambda n: 'a' * 0 + n  # noqa
def hexstr(seed, length):
    import hashlib
    return hashlib.sha256(seed.encode()).hexdigest()[:length] if length <= 64 else None

# ---------------------------------------------------------------- conn
c = {}
c[1] = [T0+1.123456, 'CHhAvVGS1DHFjwGM9', '192.0.2.10', 49812, '203.0.113.80', 80, 'tcp', 'http', 0.254115, 77, 295, 'SF', True, False, 0, 'ShADadFf', 6, 397, 4, 511, None]
c[2] = [T0+2.5, 'CtPZjS20MLrsMUOJi2', '2001:db8::10', 53412, '2001:db8::53', 53, 'udp', 'dns', 0.012001, 38, 110, 'SF', True, True, 0, 'Dd', 1, 86, 1, 158, None]
c[3] = [T0+3.000001, 'CP5puj4I8PtEU4qzYg', 'fe80::c801:eff:fe88:8', 135, 'ff02::1:ff88:8', 136, 'icmp', None, None, None, None, 'OTH', True, False, 0, None, 1, 72, 0, 0, None]
c[4] = [T0+4.75, 'C4J4Th3PJpwUYZZ6gc', '198.51.100.7', 40000, '192.0.2.22', 23, 'tcp', None, 2.99946, 0, 0, 'S0', False, True, 0, 'S', 3, 180, 0, 0, None]
c[5] = [T0+5.01, 'ClEkJM2Vm5giqnMf4h', '198.51.100.7', 40001, '192.0.2.22', 3389, 'tcp', None, 0.000215, 0, 0, 'REJ', False, True, 0, 'Sr', 1, 60, 1, 40, None]
c[6] = [T0+6.2, 'CUM0KZ3MLUfNB0cl11', '192.0.2.50', 514, '192.0.2.1', 514, 'udp', 'syslog', 1.999178, 2392, 0, 'S0', True, True, 0, 'D', 3, 2476, 0, 0, None]
c[7] = [T0+7.3, 'CmES5u32sYpV7JYN', '192.0.2.33', 51234, '203.0.113.15', 1194, 'udp', 'ssl,spicy_openvpn_udp', 44.271572, 5825, 8524, 'SF', True, False, 0, 'Dd', 57, 7421, 48, 9868, []]
c[8] = [T0+8.0, 'CXWv6p3arKYeMETxOg', '192.0.2.33', 51515, '192.0.2.99', 8080, 'tcp', 'http', 0.5, 100, 200, 'RSTO', None, None, 1460, 'ShADar', 5, 400, 4, 500, ['CjhGID4nQcgTWjvg4c', 'Cz7SRx3ns2rBKmWjP9']]
c[10] = [T0+10.0, 'CCvvfg3TEfuqmmG4bh', '192.0.2.56', 59764, '198.51.100.101', 37150, 'tcp', 'ftp-data', 150.496065, 0, 5416666670, 'SF', False, False, 4675708816, 'ShAdfFa', 13, 688, 12, 24454, []]
c[11] = [T0+3600.5, 'Cg5JHH2Cf1AfzqLcQe', '192.0.2.10', 50622, '198.51.100.200', 443, 'tcp', 'ssl', 1.482311, 1520, 6230, 'SF', True, False, 0, 'ShADadFfR', 14, 2252, 12, 6862, None, 6, '1:LQU9qZlK+B5F3KDmev6m5PMibrg=', '00:0c:29:ab:cd:ef', '00:50:56:01:02:03']
c[12] = [T0+3601.25, 'CaK9sJ3JTdBL5Zzpd2', '2001:db8:1::5', 51000, '2001:db8:2::443', 443, 'tcp', 'ssl', 0.8, 800, 3000, 'S1', True, False, 0, 'ShAD', 6, 1120, 5, 3400, None, 6, '1:7M7EWPxcRDsXJOHMh6uKIfiBXsM=', '02:42:ac:11:00:02', '02:42:ac:11:00:03']
c[13] = [T0+3602.0, 'CPoA6m2Tgi8pMn7nHd', '192.0.2.77', 0, '198.51.100.1', 0, 'unknown_transport', None, 10.0, None, None, 'OTH', True, False, 0, None, 20, 2400, 0, 0, None, 47, None, None, None]
tsv = ['# conn.log as Zeek 6 writes it, then a second header block (rotation) in the Zeek 7.1 layout with',
       '# ip_proto, community_id (policy/protocols/conn/community-id-logging) and MAC logging.']
tsv += header('conn', CONN6, '2025-12-01-10-00-00')
for key in (1, 2, 3, 4, 5, 6, 7, 8, 10):
    tsv.append(tsv_line(CONN6, c[key]))
tsv.append('# A line cut short (truncated write): the column count is wrong.')
tsv.append('\t'.join(tsv_line(CONN6, c[1]).split('\t')[:9]))
tsv.append('#close\t2025-12-01-11-00-00')
tsv += header('conn', CONN7, '2025-12-01-11-00-00')
for key in (11, 12, 13):
    tsv.append(tsv_line(CONN7, c[key]))
tsv.append('# One column too many.')
tsv.append(tsv_line(CONN7, c[11]) + '\textra')
tsv.append('#close\t2025-12-01-12-00-00')
emit('tsv_conn.log', tsv)

js = ['# conn.log from the JSON writer (LogAscii::use_json=T): the same records as tsv_conn.log where the uid is the same.']
for key in (1, 2, 3, 4, 7):
    js.append(json_record(CONN6, c[key]))
js.append(json_record(CONN7, c[11]))
js.append('# LogAscii::json_include_unset_fields=T writes unset fields as null.')
rec = json.loads(json_record(CONN6, c[5]))
full = {}
for (name, ty), value in zip(CONN6, c[5]):
    full[name] = rec.get(name)
full['service'] = None
js.append(json.dumps(full, separators=(',', ':')))
js.append('# A truncated line.')
js.append(json_record(CONN6, c[6])[:97])
emit('json_conn.log', js)

# ---------------------------------------------------------------- dns
d = {}
d[1] = [T0+2.500123, 'CtPZjS20MLrsMUOJi2', '2001:db8::10', 53412, '2001:db8::53', 53, 'udp', 27806, 0.011811, 'www.example.com', 1, 'C_INTERNET', 28, 'AAAA', 0, 'NOERROR', False, False, True, True, 0, ['2001:db8:85a3::8a2e:370:7334'], [300.0], False]
d[2] = [T0+11.0, 'C7y3kf3wLnGC8eMFoj', '192.0.2.10', 37842, '192.0.2.53', 53, 'udp', 60281, 0.071811, 'example.org', 1, 'C_INTERNET', 1, 'A', 0, 'NOERROR', False, False, True, True, 0, ['198.51.100.80', '198.51.100.81'], [60.0, 60.0], False]
d[3] = [T0+12.0, 'CXetZefExG72gUZBg', '192.0.2.10', 37843, '192.0.2.53', 53, 'udp', 1234, 0.02, 'www.example.net', 1, 'C_INTERNET', 1, 'A', 0, 'NOERROR', False, False, True, True, 0, ['cdn.example.net', '203.0.113.7'], [3600.0, 20.0], False]
d[4] = [T0+13.0, 'Cw9GHy49hDbEZja5N4', '192.0.2.11', 55001, '192.0.2.53', 53, 'udp', 4242, 0.003, 'nonexistent.example.com', 1, 'C_INTERNET', 1, 'A', 3, 'NXDOMAIN', True, False, True, True, 0, None, None, False]
d[5] = [T0+14.0, 'CTJy3z1weA4svLHlMi', 'fe80::11bb:1eb2:4e66:8cb2', 5353, 'ff02::fb', 5353, 'udp', 0, None, '_ipps._tcp.local', 1, 'C_INTERNET', 12, 'PTR', None, None, False, False, False, False, 0, None, None, False]
d[6] = [T0+15.0, 'CoOFuY2lG5sn40Cx4h', '192.0.2.12', 40001, '192.0.2.53', 53, 'tcp', 999, 0.004, 'example.com', 1, 'C_INTERNET', 16, 'TXT', 0, 'NOERROR', True, False, True, True, 0, ['TXT 34 v=spf1 include:_spf.example.com ~all', 'TXT 5 a,b\tc'], [300.0, 300.0], False]
d[7] = [T0+16.0, 'CSHUEK1r1ZslFXj9Ea', '198.51.100.66', 33333, '192.0.2.53', 53, 'udp', 7, 0.001, 'version.bind', 3, 'C_CHAOS', 16, 'TXT', 5, 'REFUSED', False, False, False, False, 0, None, None, True]
d[8] = [T0+17.0, 'CY5BY43UhmmrHShwJg', '192.0.2.10', 37844, '192.0.2.53', 53, 'udp', 31337, 0.009, 'bücher.example', 1, 'C_INTERNET', 1, 'A', 0, 'NOERROR', False, False, True, True, 0, ['192.0.2.200'], [86400.0], False]
tsv = ['# dns.log, Zeek 6 layout (with rtt). d8 has a non-ASCII query, escaped byte by byte as older Zeek writes it.']
tsv += header('dns', DNS, '2025-12-01-10-00-00')
for key in (1, 2, 3, 4, 5, 6, 7):
    tsv.append(tsv_line(DNS, d[key]))
ESCAPE_UTF8 = True
tsv.append(tsv_line(DNS, d[8]))
ESCAPE_UTF8 = False
tsv.append('# Truncated in the middle of the answers.')
tsv.append(tsv_line(DNS, d[2])[:-24])
tsv.append('#close\t2025-12-01-11-00-00')
emit('tsv_dns.log', tsv)
js = ['# dns.log from the JSON writer.']
for key in (1, 2, 4, 6, 8):
    js.append(json_record(DNS, d[key]))
js.append('# TTLs as whole numbers (jq -c rewrites 60.0 as 60): read as intervals all the same.')
js.append(json_record(DNS, d[3]).replace('[3600.0,20.0]', '[3600,20]'))
emit('json_dns.log', js)

# ---------------------------------------------------------------- http
FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'
h = {}
h[1] = [T0+1.2, 'CHhAvVGS1DHFjwGM9', '192.0.2.10', 49812, '203.0.113.80', 80, 1, 'GET', 'www.example.com', '/index.html?lang=en', None, '1.1', FIREFOX, None, 0, 4312, 200, 'OK', None, None, [], None, None, None, None, None, None, ['FQzmmA4txLAELVk6ug'], None, ['text/html']]
h[2] = [T0+20.0, 'CZ1b2c3d4e5f6g7h8', '192.0.2.14', 50100, '198.51.100.20', 8080, 1, 'POST', 'intranet.example.org:8080', '/api/login', 'http://intranet.example.org:8080/', '1.1', 'curl/8.5.0', 'http://intranet.example.org:8080', 52, 19, 401, 'Unauthorized', None, None, [], 'alice', None, None, ['FeFhG23iKl4mnoPQr1'], None, ['application/json'], None, None, None]
h[3] = [T0+21.0, 'C1a2B3c4D5e6F7g8H9', '192.0.2.15', 50200, '192.0.2.3', 3128, 1, 'GET', 'example.net', 'http://example.net/download/setup.exe', None, '1.1', 'Wget/1.21.4', None, 0, 1048576, 200, 'OK', None, None, [], None, None, ['X-FORWARDED-FOR -> 192.0.2.15', 'VIA -> 1.1 proxy.example.org'], None, None, None, ['FwzZ5u1JzLX4QEFq1'], ['setup.exe'], ['application/x-dosexec']]
h[4] = [T0+22.0, 'C9TRkp4SJlFvfCZR75', '2001:db8::20', 41000, '2001:db8::80', 80, 1, 'GET', '[2001:db8::80]', '/cgi-bin/..\\..\\windows\\system32\\cmd.exe?/c+dir', None, '1.0', 'Mozilla/4.0\t(compatible; MSIE 6.0)', None, 0, 162, 404, 'Not Found', None, None, [], None, None, None, None, None, None, ['FbC3dE4fG5hI6jK7l'], None, ['text/html']]
h[5] = [T0+23.0, 'CnRkH3ZqPJ5sUf6Zd2', '192.0.2.16', 50300, '203.0.113.90', 80, 2, 'PUT', 'files.example.com', '/upload/r%C3%A9sum%C3%A9.pdf', None, '1.1', 'python-requests/2.31.0', None, 20480, 0, 201, 'Created', 100, 'Continue', [], 'bob', None, None, ['FmN8oP9qR0sT1uV2w'], ['résumé.pdf'], ['application/pdf'], None, None, None]
h[6] = [T0+24.0, 'CmES5u32sYpV7JYN', '192.0.2.33', 51234, '203.0.113.15', 80, 1, 'GET', None, '-', None, None, None, None, 0, 0, None, None, None, None, [], None, None, None, None, None, None, None, None, None]
tsv = ['# http.log, Zeek 6 layout. h4 escapes backslashes (\\x5c) and a tab (\\x09); h6 has the URI "-",',
       '# which the writer escapes (\\x2d) so it is not read as unset.']
tsv += header('http', HTTP, '2025-12-01-10-00-00')
for key in (1, 2, 3, 4, 5, 6):
    tsv.append(tsv_line(HTTP, h[key]))
tsv.append('# Truncated.')
tsv.append(tsv_line(HTTP, h[1])[:120])
tsv.append('#close\t2025-12-01-11-00-00')
emit('tsv_http.log', tsv)
js = ['# http.log from the JSON writer.']
for key in (1, 2, 4, 6):
    js.append(json_record(HTTP, h[key]))
emit('json_http.log', js)

# ---------------------------------------------------------------- ssl
FP1 = hexstr('leaf-www.example.com', 64); FP2 = hexstr('intermediate-ca', 64)
s = {}
s[1] = [T0+3600.6, 'Cg5JHH2Cf1AfzqLcQe', '192.0.2.10', 50622, '198.51.100.200', 443, 'TLSv13', 'TLS_AES_256_GCM_SHA384', 'x25519', 'www.example.com', False, None, 'h2', True, 'CsiI', [FP1, FP2], [], True, hexstr('ja3-1', 32), hexstr('ja3s-1', 32)]
s[2] = [T0+3610.0, 'CsxknGIi2mF8qLzGa1', '192.0.2.11', 50700, '203.0.113.21', 443, 'TLSv12', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'secp256r1', 'api.example.org', True, None, 'http/1.1', True, 'CsxknGIi', [], [], None, hexstr('ja3-2', 32), hexstr('ja3s-2', 32)]
s[3] = [T0+3620.0, 'C3xkHgPQVhhHvNrL2c', '2001:db8:1::5', 51002, '2001:db8:2::25', 465, None, None, None, 'mail.example.net', False, 'handshake_failure', None, False, 'CsL', [], [], None, hexstr('ja3-3', 32), None]
s[4] = [T0+3630.0, 'CUKqP84yN0lJhbR1l3', '192.0.2.12', 50800, '198.51.100.12', 443, 'SSLv3', 'TLS_RSA_WITH_RC4_128_SHA', None, None, False, None, None, True, 'ChCsxknGIi', [], [], None, None, None]
s[5] = [T0+3640.0, 'CdRbN67wNhV3pDnQc4', '192.0.2.13', 50900, '198.51.100.13', 4433, 'DTLSv12', 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'secp256r1', 'vpn.example.com', False, None, None, True, 'CsxknGIi', [], [], False, None, None]
s[6] = [T0+3650.0, 'Cx1Lk9QvL6WzW3bmv5', '198.51.100.66', 44000, '192.0.2.80', 443, 'unknown-64282', None, None, 'x', False, None, None, False, 'C', [], [], None, None, None]
s[7] = [T0+7200.0, 'CsWzUt2KJy8DXyXyE1', '192.0.2.40', 55000, '203.0.113.44', 443, 'TLSv12', 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', 'secp384r1', 'secure.example.com', False, None, None, True, ['FXbV0v3Ee8FJ3ZpVIe', 'F4Pp9t2sBwqRM1ZLb'], [], 'CN=secure.example.com,O=Example\\, Inc.,L=Springfield,ST=Illinois,C=US', 'CN=Example Issuing CA 1,OU=PKI,O=Example\\, Inc.,C=US', None, None, 'ok']
s[8] = [T0+7210.0, 'CfT2iA7xKzRk3pQ9b2', '2001:db8:3::42', 60000, '2001:db8:2::8883', 8883, 'TLSv12', 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'secp256r1', 'mqtt.example.com', False, None, None, True, ['FtY3uI8oP1aS2dF4g'], ['FqW5eR6tY7uI8oP9a'], 'CN=mqtt.example.com', 'CN=Example Device CA,O=Example Org', 'CN=device-42,OU=IoT,O=Example Org', 'CN=Example Device CA,O=Example Org', 'unable to get local issuer certificate']
tsv = ['# ssl.log: Zeek 6 layout with the ja3 package, then a Zeek 4 layout block with certificate subjects.']
tsv += header('ssl', SSL6, '2025-12-01-11-00-00')
for key in (1, 2, 3, 4, 5, 6):
    tsv.append(tsv_line(SSL6, s[key]))
tsv.append('#close\t2025-12-01-12-00-00')
tsv += header('ssl', SSL4, '2025-12-01-12-00-00')
for key in (7, 8):
    tsv.append(tsv_line(SSL4, s[key]))
tsv.append('# Truncated.')
tsv.append(tsv_line(SSL4, s[7])[:200])
emit('tsv_ssl.log', tsv)
js = ['# ssl.log from the JSON writer.']
for key in (1, 3):
    js.append(json_record(SSL6, s[key]))
js.append(json_record(SSL4, s[7]))
emit('json_ssl.log', js)

# ---------------------------------------------------------------- files
f = {}
f[1] = [T0+1.3, 'FQzmmA4txLAELVk6ug', 'CHhAvVGS1DHFjwGM9', '192.0.2.10', 49812, '203.0.113.80', 80, 'HTTP', 0, ['MD5', 'SHA1'], 'text/html', None, 0.000012, False, False, 4312, 4312, 0, 0, False, None, hexstr('md5-1', 32), hexstr('sha1-1', 40), None, None, None, None]
f[2] = [T0+21.5, 'FwzZ5u1JzLX4QEFq1', 'C1a2B3c4D5e6F7g8H9', '192.0.2.15', 50200, '192.0.2.3', 3128, 'HTTP', 0, ['EXTRACT', 'PE', 'MD5', 'SHA1', 'SHA256'], 'application/x-dosexec', 'setup.exe', 0.734, False, False, 1048576, 1048576, 0, 0, False, None, hexstr('md5-2', 32), hexstr('sha1-2', 40), hexstr('sha256-2', 64), 'HTTP-FwzZ5u1JzLX4QEFq1.exe', False, 1048576]
f[3] = [T0+3601.3, 'FXbV0v3Ee8FJ3ZpVIe', 'CaK9sJ3JTdBL5Zzpd2', '2001:db8:1::5', 51000, '2001:db8:2::443', 443, 'SSL', 0, ['X509', 'SHA1', 'MD5'], 'application/x-x509-user-cert', None, 0.0, False, False, 1402, None, 0, 0, False, None, hexstr('md5-3', 32), hexstr('sha1-3', 40), None, None, None, None]
f[4] = [T0+50.0, 'FmN8oP9qR0sT1uV2w', 'CBHpSz2Zi3rdKbAvwd', '192.0.2.16', 49700, '192.0.2.5', 445, 'SMB', 0, [], 'application/pdf', 'Rapport_résumé.pdf', 30.5, True, True, 120000, 500000, 380000, 0, True, None, None, None, None, None, None, None]
f[6] = [T0+7200.1, 'FAb5m22Dhe2Zi95anf', ['198.51.100.101'], ['192.0.2.56'], ['CCvvfg3TEfuqmmG4bh'], 'FTP_DATA', 0, ['DATA_EVENT'], 'text/plain', None, 0.0, None, False, 270, None, 0, 0, False, None, None, None, None, None, None, None]
tsv = ['# files.log: Zeek 6 layout (uid and id), then the Zeek 5 layout (tx_hosts, rx_hosts, conn_uids).']
tsv += header('files', FILES6, '2025-12-01-10-00-00')
for key in (1, 2, 3, 4):
    tsv.append(tsv_line(FILES6, f[key]))
tsv.append('# Truncated.')
tsv.append(tsv_line(FILES6, f[2])[:150])
tsv += header('files', FILES5, '2025-12-01-12-00-00')
tsv.append(tsv_line(FILES5, f[6]))
emit('tsv_files.log', tsv)
js = ['# files.log from the JSON writer.']
for key in (1, 2, 4):
    js.append(json_record(FILES6, f[key]))
js.append(json_record(FILES5, f[6]))
emit('json_files.log', js)

# ---------------------------------------------------------------- notice
n = {}
n[1] = [T0+3600.8, 'Cg5JHH2Cf1AfzqLcQe', '192.0.2.10', 50622, '198.51.100.200', 443, 'FXbV0v3Ee8FJ3ZpVIe', 'application/x-x509-user-cert', '198.51.100.200:443/tcp', 'tcp', 'SSL::Invalid_Server_Cert', 'SSL certificate validation failed with (unable to get local issuer certificate)', 'CN=www.example.com', '192.0.2.10', '198.51.100.200', 443, None, None, ['Notice::ACTION_LOG'], [], 86400.0, None, None, None, None, None]
n[2] = [T0+100.0, None, None, None, None, None, None, None, None, None, 'Scan::Port_Scan', '198.51.100.7 scanned at least 15 unique ports of host 192.0.2.22 in 0m3s', 'local', '198.51.100.7', '192.0.2.22', None, None, None, ['Notice::ACTION_LOG'], [], 3600.0, None, None, None, None, None]
n[3] = [T0+110.0, None, None, None, None, None, None, None, None, None, 'SSH::Password_Guessing', '2001:db8:bad::66 appears to be guessing SSH passwords (seen in 30 connections).', 'Sampled servers:  2001:db8::22, 2001:db8::22, 2001:db8::22', '2001:db8:bad::66', None, None, 30, 'worker-1', ['Notice::ACTION_LOG', 'Notice::ACTION_EMAIL'], ['soc@example.com'], 3600.0, 'DE', 'BE', 'Berlin', 52.5196, 13.4069]
n[4] = [T0+120.0, 'CzA1bB2cC3dD4eE5f', '198.51.100.66', 60123, '192.0.2.80', 80, None, None, None, 'tcp', 'HTTP::SQL_Injection_Attacker', 'An SQL injection attacker was discovered!', "id=1'\tOR\t1=1--\\", '198.51.100.66', None, None, None, None, ['Notice::ACTION_LOG'], [], 3600.0, None, None, None, None, None]
n[5] = [T0+130.0, 'CiCmp5Xm3Nr9qLd0y', '192.0.2.90', 8, '198.51.100.90', 0, None, None, None, 'icmp', 'ICMP::Ping_Flood', 'ping flood to 198.51.100.90', None, '192.0.2.90', '198.51.100.90', 0, None, None, ['Notice::ACTION_LOG'], [], 3600.0, None, None, None, None, None]
tsv = ['# notice.log, Zeek 6 layout. n4 has tabs and a backslash escaped in sub.']
tsv += header('notice', NOTICE, '2025-12-01-10-00-00')
for key in (1, 2, 3, 4, 5):
    tsv.append(tsv_line(NOTICE, n[key]))
tsv.append('# Truncated.')
tsv.append(tsv_line(NOTICE, n[1])[:90])
emit('tsv_notice.log', tsv)
js = ['# notice.log from the JSON writer.']
for key in (1, 2, 3, 4):
    js.append(json_record(NOTICE, n[key]))
emit('json_notice.log', js)

# ---------------------------------------------------------------- weird
w = {}
w[1] = [T0+30.0, 'CXWv6p3arKYeMETxOg', '192.0.2.33', 51515, '192.0.2.99', 8080, 'above_hole_data_without_any_acks', None, False, 'zeek', 'TCP']
w[2] = [T0+31.0, None, None, None, None, None, 'bad_IP_checksum', None, False, 'zeek', None]
w[3] = [T0+32.0, 'C7y3kf3wLnGC8eMFoj', '192.0.2.10', 37842, '192.0.2.53', 53, 'DNS_RR_unknown_type', '46', False, 'zeek', 'DNS']
w[4] = [T0+33.0, 'CTJy3z1weA4svLHlMi', 'fe80::11bb:1eb2:4e66:8cb2', 5353, 'ff02::fb', 5353, 'dns_unmatched_reply', None, False, 'worker-1', 'DNS']
w[5] = [T0+34.0, 'CnRkH3ZqPJ5sUf6Zd2', '192.0.2.16', 50300, '203.0.113.90', 80, 'unknown_HTTP_method', 'FOO\tBAR', True, 'zeek', 'HTTP']
tsv = ['# weird.log, Zeek 6 layout.']
tsv += header('weird', WEIRD, '2025-12-01-10-00-00')
for key in (1, 2, 3, 4, 5):
    tsv.append(tsv_line(WEIRD, w[key]))
tsv.append('# Truncated.')
tsv.append(tsv_line(WEIRD, w[1])[:60])
emit('tsv_weird.log', tsv)
js = ['# weird.log from the JSON writer; w2 has no connection (no uid), recognised by name/notice/peer.']
for key in (1, 2, 3, 5):
    js.append(json_record(WEIRD, w[key]))
emit('json_weird.log', js)

# ---------------------------------------------------------------- other logs
o1 = [T0+40.0, 'CBHpSz2Zi3rdKbAvwd', '198.51.100.66', 52000, '192.0.2.22', 22, 2, False, 6, 'INBOUND', 'SSH-2.0-libssh2_1.9.0', 'SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13', 'chacha20-poly1305@openssh.com', 'umac-64-etm@openssh.com', 'none', 'curve25519-sha256', 'ssh-ed25519', hexstr('hostkey', 32)]
o2 = [T0+41.0, 'CQm3nA4Z0kLd7eWxS1', '2001:db8:3::7', 53000, '2001:db8::22', 22, 2, True, 1, 'INBOUND', 'SSH-2.0-OpenSSH_9.6', 'SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13', 'aes128-gcm@openssh.com', 'umac-128-etm@openssh.com', 'none', 'sntrup761x25519-sha512@openssh.com', 'ssh-ed25519', hexstr('hostkey', 32)]
tsv = ['# Logs without an ECS mapping keep their fields under zeek.<path>: ssh.log (Zeek 6 layout).']
tsv += header('ssh', SSH, '2025-12-01-10-00-00')
tsv.append(tsv_line(SSH, o1))
tsv.append(tsv_line(SSH, o2))
emit('tsv_other.log', tsv)
tsv = []
tsv.append('# A hand-cut file with only #fields (no #separator block, #path or #types): the log is')
tsv.append('# inferred from the field names and the known conn.log types apply.')
cut = CONN6[:12]
tsv.append('#fields\t' + '\t'.join(name for name, _ in cut))
tsv.append(tsv_line(cut, c[1][:12]))
tsv.append('# A data line before any #fields after a new #separator: unparsed.')
tsv.append('#separator \\x09')
tsv.append(tsv_line(cut, c[1][:12]))
emit('tsv_handcut.log', tsv)

iso = ['# JSON with LogAscii::json_timestamps=JSON::TS_ISO8601, _path and _write_ts (json-streaming-logs /',
       '# Corelight style), and one line with JSON::TS_MILLIS (integer milliseconds).']
def iso_ts(value):
    import datetime
    return datetime.datetime.fromtimestamp(value, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')
def iso_record(fields, values, path, write_ts):
    obj = json.loads(json_record(fields, values))
    obj['ts'] = iso_ts(values[0])
    front = {'_path': path, '_write_ts': iso_ts(write_ts)}
    front.update(obj)
    return json.dumps(front, ensure_ascii=False, separators=(',', ':'))
iso.append(iso_record(CONN6, c[8], 'conn', T0+8.6))
iso.append(iso_record(DNS, d[7], 'dns', T0+16.001))
iso.append(iso_record(HTTP, h[3], 'http', T0+21.9))
iso.append(iso_record(NOTICE, n[5], 'notice', T0+130.0))
iso.append(iso_record(SSH, o2, 'ssh', T0+45.0))
obj = json.loads(json_record(WEIRD, w[4])); obj['ts'] = int(round(w[4][0] * 1000))
iso.append(json.dumps(obj, separators=(',', ':')))
emit('json_iso8601.log', iso)

neg = ['# JSON that is not Zeek: none of it may be claimed.',
 '{"timestamp":"2025-12-01T10:00:01.123456+0000","flow_id":1234567890,"in_iface":"eth0","event_type":"dns","src_ip":"192.0.2.10","src_port":37842,"dest_ip":"192.0.2.53","dest_port":53,"proto":"UDP","dns":{"type":"query","id":60281,"rrname":"example.org","rrtype":"A"}}',
 '{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","userName":"alice"},"eventTime":"2025-12-01T10:00:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","sourceIPAddress":"192.0.2.10"}',
 '{"level":"info","ts":1764583200.5,"caller":"server/main.go:42","msg":"listening","uid":"1000","addr":"0.0.0.0:8080"}',
 '{"ts":"2025-12-01T10:00:00Z","uid":"alice","action":"login"}',
 '{"@timestamp":"2025-12-01T10:00:00.000Z","ts":1764583200.0,"uid":"CHhAvVGS1DHFjwGM9","event":{"dataset":"zeek.connection"}}',
 '{"@timestamp":"2025-12-01T10:00:00.000Z","winlog":{"channel":"Security","event_id":4624},"ts":1764583200.0,"id.orig_h":"192.0.2.1"}',
 '{"ts":1764583200.0,"_path":"../../etc/passwd"}',
 '["not", "an", "object"]',
]
emit('json_not_zeek.log', neg)

for name, lines in files.items():
    with open(os.path.join(OUT, name), 'w', encoding='utf-8') as fh:
        fh.write('\n'.join(lines) + '\n')
print('\n'.join(sorted(files)))
